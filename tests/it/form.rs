//! `nhanluc form`: the blank official workbook of a template, filled in by a
//! second, independent program (openpyxl) as a department would, sent back
//! through the inbox and read exactly; and the forms attached to the mail
//! that asks departments for a file.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{Project, duckdb, read_eml};
use calamine::{Reader, Xlsx, open_workbook};
use nhanluc::config::Config;
use nhanluc::form;
use nhanluc::model::template::{BlankValue, FieldType, Template};

/// Runs the binary with the project's config in `dir` (the default output
/// file lands in the current folder).
fn run_in(project: &Project, dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nhanluc"))
        .arg("--config")
        .arg(project.config_file())
        .args(args)
        .current_dir(dir)
        .env_remove("NHANLUC_CONFIG")
        .output()
        .expect("run nhanluc")
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs a Python script (the same `python3` the other tests use: scripts/test.sh
/// puts its venv first on PATH) with arguments; returns stdout.
fn python(script: &str, args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 (with openpyxl, installed by scripts/test.sh)");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Opens the form with openpyxl, writes `rows` (JSON: a list of rows, each a
/// list of null | {"s": text} | {"d": "YYYY-MM-DD"} | {"n": int}) under the
/// header row it finds by the expected header texts, and saves it as `out`.
const FILL: &str = r#"
import datetime, json, sys
import openpyxl
source, target, headers, rows = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
wb = openpyxl.load_workbook(source)
ws = wb[sys.argv[5]]
header_row = None
for r in range(1, 60):
    if [ws.cell(r, c + 1).value for c in range(len(headers))] == headers:
        header_row = r
        break
if header_row is None:
    sys.exit("header row not found: " + repr(headers))
for i, row in enumerate(rows):
    for c, value in enumerate(row):
        if value is None:
            continue
        cell = ws.cell(header_row + 1 + i, c + 1)
        if "s" in value:
            cell.value = value["s"]
        elif "d" in value:
            cell.value = datetime.date.fromisoformat(value["d"])
            cell.number_format = "dd/mm/yyyy"
        else:
            cell.value = value["n"]
wb.save(target)
print(header_row)
"#;

/// Every data validation of the data sheet, with list sources resolved to
/// their cells, as JSON.
const VALIDATIONS: &str = r#"
import json, re, sys
import openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb[sys.argv[2]]
out = []
for dv in ws.data_validations.dataValidation:
    values = None
    f = dv.formula1 or ""
    m = re.fullmatch(r"'?(.+?)'?!\$([A-Z]+)\$(\d+):\$([A-Z]+)\$(\d+)", f)
    if dv.type == "list" and m:
        sheet = wb[m.group(1)]
        values = [sheet[f"{m.group(2)}{r}"].value for r in range(int(m.group(3)), int(m.group(5)) + 1)]
    elif dv.type == "list":
        values = f.strip('"').split(",")
    out.append({"type": dv.type, "sqref": str(dv.sqref), "formula1": f, "values": values,
                "sheets": wb.sheetnames})
print(json.dumps(out))
"#;

#[derive(serde::Deserialize, Debug)]
struct Validation {
    #[serde(rename = "type")]
    kind: String,
    sqref: String,
    formula1: String,
    values: Option<Vec<String>>,
}

/// A cell to fill, and what the warehouse must then hold (as DuckDB prints it).
struct Filled {
    cell: serde_json::Value,
    stored: String,
}

/// Rows covering every value of every enumeration, dates, whole numbers,
/// yes and no, and a last row with every optional field blank.
fn generate(template: &Template, department_level: &str) -> Vec<Vec<Filled>> {
    let labels: Vec<Vec<String>> = (0..template.fields.len())
        .map(|i| {
            if template.fields[i].kind == FieldType::Enum {
                form::value_labels(template, i).expect("labels")
            } else {
                Vec::new()
            }
        })
        .collect();
    let count = labels.iter().map(Vec::len).max().unwrap_or(0).max(6);
    let day = |n: i64| {
        chrono::NaiveDate::from_ymd_opt(2025, 1, 6).expect("date") + chrono::Days::new(n as u64)
    };
    let mut rows = Vec::new();
    for i in 0..=count {
        let blank_row = i == count;
        let mut row: Vec<Filled> = Vec::new();
        for (index, field) in template.fields.iter().enumerate() {
            // A derived field (leadership from the position, the last ones)
            // has no column to fill.
            if field.derived.is_some() {
                continue;
            }
            let blank = blank_row && !field.required;
            let filled = match field.kind {
                _ if blank => Filled {
                    cell: serde_json::Value::Null,
                    stored: match (&field.blank, field.kind) {
                        (_, FieldType::Bool) => "False".into(),
                        (BlankValue::Value(v), _) => v.clone(),
                        (BlankValue::DepartmentLevel, _) => department_level.into(),
                        (BlankValue::Null, _) => "None".into(),
                    },
                },
                FieldType::Text => {
                    let text = match field.name.as_str() {
                        // Leading zeros, as a citizen ID has them.
                        "person_id" => format!("{:012}", 1_000 + i),
                        "full_name" => format!("Lò Thị Hồng Nhung {}", i + 1),
                        _ => format!("Phòng Tổ chức cán bộ {}", i + 1),
                    };
                    Filled {
                        cell: serde_json::json!({ "s": text }),
                        stored: text,
                    }
                }
                FieldType::Enum => {
                    let k = i % labels[index].len();
                    Filled {
                        cell: serde_json::json!({ "s": labels[index][k] }),
                        stored: field.values[k].clone(),
                    }
                }
                FieldType::Date => {
                    let date = if field.name.contains("birth") {
                        chrono::NaiveDate::from_ymd_opt(1965, 3, 1).expect("date")
                            + chrono::Days::new(401 * i as u64)
                    } else {
                        day(9 * i as i64 + if field.not_before.is_some() { 5 } else { 0 })
                    };
                    Filled {
                        cell: serde_json::json!({ "d": date.to_string() }),
                        stored: date.to_string(),
                    }
                }
                FieldType::Integer => {
                    let n = field.min.unwrap_or(0) + 1_234_567 * i as i64;
                    Filled {
                        cell: serde_json::json!({ "n": n }),
                        stored: n.to_string(),
                    }
                }
                FieldType::Bool => {
                    let yes = i % 2 == 0;
                    Filled {
                        cell: serde_json::json!({ "s": if yes { form::YES } else { form::NO } }),
                        stored: if yes { "True" } else { "False" }.into(),
                    }
                }
            };
            row.push(filled);
        }
        rows.push(row);
    }
    rows
}

/// An analyst's overlay: training's mode gains a value and its spelling.
fn add_overlay(project: &Project) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(repo.join("config/templates/training.toml"))
        .expect("training template");
    // After the line of the last built-in mode value, whatever its synonyms.
    let text: String = text
        .lines()
        .map(|line| {
            if line.starts_with("values.blended = ") {
                format!("{line}\nvalues.self_study = [\"Tự học có hướng dẫn\", \"Self-study\"]\n")
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    assert!(text.contains("self_study"), "the overlay edit applies");
    let dir = project.root().join("config/templates");
    std::fs::create_dir_all(&dir).expect("templates folder");
    std::fs::write(dir.join("training.toml"), text).expect("overlay");
}

fn convert_with_office(file: &Path, out_dir: &Path) {
    let office = ["soffice", "libreoffice"].into_iter().find(|name| {
        Command::new(name)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    let Some(office) = office else {
        println!(
            "LibreOffice check skipped: no soffice or libreoffice on PATH; openpyxl opened and saved the form instead"
        );
        return;
    };
    let out = Command::new(office)
        .args(["--headless", "--convert-to", "csv", "--outdir"])
        .arg(out_dir)
        .arg(file)
        .output()
        .expect("run LibreOffice");
    assert!(
        out.status.success(),
        "{office} could not convert {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = out_dir.join(file.with_extension("csv").file_name().expect("name"));
    assert!(csv.is_file(), "{office} wrote no {}", csv.display());
}

#[test]
fn a_form_filled_by_another_program_is_stored_exactly() {
    let project = Project::new();
    add_overlay(&project);
    let config = Config::load(&project.config_file()).expect("config");
    let level = config
        .department("SNV")
        .expect("SNV in the registry")
        .level
        .as_str()
        .to_string();
    let scratch = tempfile::tempdir().expect("scratch");
    let mut expected_rows = Vec::new();
    for template in &config.templates {
        // The default name, in the current folder.
        let stdout = ok(
            &run_in(
                &project,
                scratch.path(),
                &[
                    "form",
                    &template.name,
                    "--department",
                    "SNV",
                    "--period",
                    "2025",
                ],
            ),
            "nhanluc form",
        );
        let name = format!("mau_{}_SNV_2025.xlsx", template.name);
        let blank = scratch.path().join(&name);
        assert!(blank.is_file(), "{stdout}");
        assert!(stdout.contains(&name), "{stdout}");
        convert_with_office(&blank, scratch.path());

        // (c) Drop-downs for every enumeration, with the template's spellings.
        let validations: Vec<Validation> = serde_json::from_str(&python(
            VALIDATIONS,
            &[blank.to_str().expect("utf-8"), form::DATA_SHEET],
        ))
        .expect("validations json");
        // A derived field (leadership from the position) has no column.
        let columns = template
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.derived.is_none());
        for (column, (index, field)) in columns.enumerate() {
            let letter = (b'A' + column as u8) as char;
            let on_column: Vec<&Validation> = validations
                .iter()
                .filter(|v| {
                    v.sqref.starts_with(letter) && !v.sqref[1..].starts_with(char::is_alphabetic)
                })
                .collect();
            let want = match field.kind {
                FieldType::Text => None,
                FieldType::Enum => Some("list"),
                FieldType::Bool => Some("list"),
                FieldType::Date => Some("date"),
                FieldType::Integer => Some("whole"),
            };
            assert_eq!(
                on_column
                    .iter()
                    .map(|v| v.kind.as_str())
                    .collect::<Vec<_>>(),
                want.into_iter().collect::<Vec<_>>(),
                "{}.{}: {validations:?}",
                template.name,
                field.name
            );
            let Some(validation) = on_column.first() else {
                continue;
            };
            // Prepared rows: the validation reaches well below the header.
            let last_row: u32 = validation
                .sqref
                .rsplit(|c: char| c.is_alphabetic())
                .next()
                .and_then(|n| n.parse().ok())
                .expect("range end");
            assert!(last_row >= 500, "{}", validation.sqref);
            match field.kind {
                FieldType::Enum => assert_eq!(
                    validation.values.as_deref(),
                    Some(&form::value_labels(template, index).expect("labels")[..]),
                    "{}.{}",
                    template.name,
                    field.name
                ),
                FieldType::Bool => assert_eq!(
                    validation.values.as_deref(),
                    Some(&[form::YES.to_string(), form::NO.to_string()][..])
                ),
                FieldType::Integer => {
                    if let Some(min) = field.min {
                        assert_eq!(validation.formula1, min.to_string());
                    }
                }
                _ => {}
            }
        }
        if template.name == "training" {
            let mode = template.field_index("mode").expect("mode");
            assert!(
                form::value_labels(template, mode)
                    .expect("labels")
                    .contains(&"Tự học có hướng dẫn".to_string()),
                "the overlay's new value is in the form"
            );
        }

        // (a) Filled by openpyxl and sent back.
        let rows = generate(template, &level);
        let cells: Vec<Vec<serde_json::Value>> = rows
            .iter()
            .map(|r| r.iter().map(|f| f.cell.clone()).collect())
            .collect();
        let headers: Vec<String> = template
            .fields
            .iter()
            .filter(|f| f.derived.is_none())
            .map(form::header_text)
            .collect();
        let target = project.inbox().join("SNV").join(&name);
        std::fs::create_dir_all(target.parent().expect("folder")).expect("inbox folder");
        python(
            FILL,
            &[
                blank.to_str().expect("utf-8"),
                target.to_str().expect("utf-8"),
                &serde_json::to_string(&headers).expect("json"),
                &serde_json::to_string(&cells).expect("json"),
                form::DATA_SHEET,
            ],
        );
        expected_rows.push((template.clone(), rows));
    }

    let stdout = project.run_ok(&["ingest"]);
    let count = expected_rows.len();
    assert!(
        stdout.contains(&format!("{count} file(s): {count} accepted")),
        "{stdout}"
    );
    for (template, rows) in &expected_rows {
        let line = stdout
            .lines()
            .find(|l| l.contains(&format!("mau_{}_SNV_2025.xlsx", template.name)))
            .expect("the file's line");
        let numbers: Vec<&str> = line.split_whitespace().collect();
        // file, dept, outcome, loaded, rejected, skipped, note…
        assert_eq!(numbers[2], "accepted", "{line}");
        assert_eq!(
            numbers[3],
            rows.len().to_string(),
            "every row loaded: {line}"
        );
        assert_eq!(numbers[4], "0", "nothing rejected: {line}\n{stdout}");
        assert!(line.contains("period 2025"), "{line}");
    }
    // The instructions sheet is the only sheet not read, and nothing in it is
    // a reject or a warning.
    assert!(!stdout.contains("warning:"), "{stdout}");
    assert_eq!(
        stdout
            .matches(&format!(
                "sheet {:?}: matches no template",
                form::INSTRUCTIONS_SHEET
            ))
            .count(),
        count,
        "{stdout}"
    );
    assert!(!stdout.contains("columns ignored"), "{stdout}");
    support::assert_rows_accounted(&project);

    for (template, rows) in &expected_rows {
        let columns: Vec<String> = template
            .fields
            .iter()
            .filter(|f| f.derived.is_none())
            .map(|f| format!("\"{}\"", f.name))
            .collect();
        let stored = duckdb(&format!(
            "SELECT {} FROM read_parquet('{}/{}/period=2025/department=SNV/*.parquet') ORDER BY source_row",
            columns.join(", "),
            project.warehouse().display(),
            template.name
        ));
        let expected: Vec<String> = rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|f| f.stored.clone())
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect();
        assert_eq!(
            stored.lines().collect::<Vec<_>>(),
            expected,
            "{}: the warehouse holds what was filled in",
            template.name
        );
        // Every value of every enumeration arrived.
        for (index, field) in template.fields.iter().enumerate() {
            if field.kind != FieldType::Enum || field.derived.is_some() {
                continue;
            }
            for value in &field.values {
                assert!(
                    rows.iter().any(|r| &r[index].stored == value),
                    "{}.{}: {value} not filled",
                    template.name,
                    field.name
                );
            }
        }
    }
}

fn feedback_project() -> Project {
    let project = Project::new();
    std::fs::write(
        project.root().join("jobs/answer.toml"),
        "schedule = \"0 0 8 * * *\"\nsteps = [\"ingest\", \"feedback\"]\ncatch_up = \"skip\"\n",
    )
    .expect("job");
    project
}

fn outbox(project: &Project, save: &Path) -> Vec<(PathBuf, support::Eml)> {
    project
        .files_under(&project.outbox(), "eml")
        .into_iter()
        .map(|p| {
            let eml = read_eml(&p, save);
            (p, eml)
        })
        .collect()
}

/// The attachment's MIME part carries the xlsx type (read from the raw message).
fn attachment_types(eml: &Path) -> Vec<String> {
    let raw = std::fs::read_to_string(eml).expect("eml");
    raw.lines()
        .filter(|l| {
            l.to_ascii_lowercase()
                .starts_with("content-type: application/")
        })
        .map(|l| l["content-type: ".len()..].trim().to_string())
        .collect()
}

#[test]
fn feedback_on_a_file_with_rejects_attaches_the_form() {
    let project = feedback_project();
    let scratch = tempfile::tempdir().expect("scratch");
    let blank = scratch.path().join("blank.xlsx");
    ok(
        &run_in(
            &project,
            scratch.path(),
            &["form", "staff", "-o", blank.to_str().expect("utf-8")],
        ),
        "nhanluc form -o",
    );
    let config = Config::load(&project.config_file()).expect("config");
    let staff = config.template("staff").expect("staff");
    // The form's columns: every field but the derived ones (leadership),
    // which come last.
    let headers: Vec<String> = staff
        .fields
        .iter()
        .filter(|f| f.derived.is_none())
        .map(form::header_text)
        .collect();
    let birth = staff.field_index("birth_date").expect("birth_date");
    // One good row, one with an impossible birth date.
    let mut good = vec![serde_json::Value::Null; headers.len()];
    good[0] = serde_json::json!({"s": "001085000001"});
    good[1] = serde_json::json!({"s": "Quàng Văn Minh"});
    let mut bad = good.clone();
    bad[0] = serde_json::json!({"s": "001085000002"});
    bad[1] = serde_json::json!({"s": "Lường Thị Thu"});
    bad[birth] = serde_json::json!({"s": "31/02/1985"});
    let target = project.inbox().join("SYT/danh-sach_2025.xlsx");
    std::fs::create_dir_all(target.parent().expect("folder")).expect("inbox");
    python(
        FILL,
        &[
            blank.to_str().expect("utf-8"),
            target.to_str().expect("utf-8"),
            &serde_json::to_string(&headers).expect("json"),
            &serde_json::to_string(&[good, bad]).expect("json"),
            form::DATA_SHEET,
        ],
    );
    // And a clean file from another department: no form for it.
    let clean = project.inbox().join("SGDDT/danh-sach_2025.xlsx");
    std::fs::create_dir_all(clean.parent().expect("folder")).expect("inbox");
    let mut row = vec![serde_json::Value::Null; headers.len()];
    row[0] = serde_json::json!({"s": "001085000003"});
    row[1] = serde_json::json!({"s": "Cà Văn Sơn"});
    python(
        FILL,
        &[
            blank.to_str().expect("utf-8"),
            clean.to_str().expect("utf-8"),
            &serde_json::to_string(&headers).expect("json"),
            &serde_json::to_string(&[row]).expect("json"),
            form::DATA_SHEET,
        ],
    );
    project.run_ok(&["run", "answer"]);

    let save = scratch.path().join("mail");
    let messages = outbox(&project, &save);
    let (path, syt) = messages
        .iter()
        .find(|(_, m)| m.to.contains("tccb.syt"))
        .expect("feedback to SYT");
    assert!(syt.subject.contains("1 dòng bị từ chối"), "{}", syt.subject);
    let names: Vec<&str> = syt.attachments.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["mau_staff_SYT_2025.xlsx"], "{}", syt.text);
    assert_eq!(
        attachment_types(path),
        ["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]
    );
    assert!(
        syt.text.contains("mau_staff_SYT_2025.xlsx"),
        "the text names it: {}",
        syt.text
    );
    assert!(syt.html.contains("mau_staff_SYT_2025.xlsx"));
    // The form's instructions sheet is told apart, not listed as a sheet that failed.
    assert!(
        syt.text
            .contains("\"Hướng dẫn\": trang hướng dẫn của biểu mẫu, không đọc như số liệu")
            && !syt.text.contains("không khớp biểu mẫu nào")
            && !syt.text.contains("được bỏ qua"),
        "{}",
        syt.text
    );
    let size = std::fs::metadata(path).expect("eml").len();
    assert!(size < 100_000, "feedback of {size} bytes");
    // The attached form is SYT's, for 2025.
    let mut book: Xlsx<_> = open_workbook(&syt.attachments[0].1).expect("the attached form opens");
    assert_eq!(
        book.sheet_names(),
        [form::DATA_SHEET, form::INSTRUCTIONS_SHEET]
    );
    let data = book.worksheet_range(form::DATA_SHEET).expect("data sheet");
    let texts: Vec<String> = data.used_cells().map(|(_, _, v)| v.to_string()).collect();
    assert!(texts.iter().any(|t| t == "SỞ Y TẾ"), "{texts:?}");
    assert!(texts.iter().any(|t| t == "NĂM 2025"), "{texts:?}");

    let (_, sgddt) = messages
        .iter()
        .find(|(_, m)| m.to.contains("tccb.sgddt"))
        .expect("feedback to SGDDT");
    assert!(sgddt.attachments.is_empty(), "no rejects, no form");
    assert!(!sgddt.text.contains("mau_staff"), "{}", sgddt.text);
}

#[test]
fn reminders_attach_the_forms_they_ask_for() {
    let project =
        Project::with_config_extra("[reminders]\nperiod = \"year\"\ndays_after_period_end = 0\n");
    std::fs::write(
        project.root().join("jobs/reminders.toml"),
        "schedule = \"0 0 8 * * Mon\"\nsteps = [\"reminders\"]\ncatch_up = \"skip\"\n",
    )
    .expect("job");
    project.run_ok(&["run", "reminders"]);
    let scratch = tempfile::tempdir().expect("scratch");
    let messages = outbox(&project, scratch.path());
    let (path, snv) = messages
        .iter()
        .find(|(_, m)| m.to.contains("van-thu.snv"))
        .expect("a reminder to SNV");
    assert!(snv.subject.contains("Nhắc nộp"), "{}", snv.subject);
    // The period reminded of is the last full year before today.
    let year = chrono::Datelike::year(&chrono::Local::now().date_naive()) - 1;
    let names: Vec<&str> = snv.attachments.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            format!("mau_staff_SNV_{year}.xlsx"),
            format!("mau_training_SNV_{year}.xlsx")
        ]
    );
    assert_eq!(attachment_types(path).len(), 2);
    for (_, saved) in &snv.attachments {
        let mut book: Xlsx<_> = open_workbook(saved).expect("the attached form opens");
        let data = book.worksheet_range(form::DATA_SHEET).expect("data sheet");
        assert!(
            data.used_cells()
                .any(|(_, _, v)| v.to_string() == format!("NĂM {year}")),
            "{saved}"
        );
    }
    let size = std::fs::metadata(path).expect("eml").len();
    assert!(size < 100_000, "reminder of {size} bytes");
}

#[test]
fn unknown_template_or_department_is_bad_usage() {
    let project = Project::new();
    let scratch = tempfile::tempdir().expect("scratch");
    let out = run_in(&project, scratch.path(), &["form", "luong"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("\"luong\"") && stderr.contains("plan, recruitment, staff, training"),
        "{stderr}"
    );
    let out = run_in(
        &project,
        scratch.path(),
        &["form", "staff", "--department", "SXX"],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("\"SXX\"") && stderr.contains("SNV, SYT"),
        "{stderr}"
    );
    let out = run_in(
        &project,
        scratch.path(),
        &["form", "staff", "--period", "2025-Q5"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        std::fs::read_dir(scratch.path())
            .expect("dir")
            .next()
            .is_none(),
        "nothing written on bad usage"
    );
}
