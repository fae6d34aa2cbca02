//! `nhanluc inspect`: on every fixture, corpus file and office style it exits
//! 0 or 1 with one JSON document, never a panic, and changes nothing; for
//! the files ingest takes, its row classes are what ingest stored (rows in
//! the warehouse, rejects, the ledger's skip counts); for the files ingest
//! refuses, it gives the same reason. Then the text a person reads.

use crate::office_styles;
use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::support::{C, Project};
use serde_json::Value;

/// One file to inspect and ingest, under its own department so that no two
/// files of the project supersede each other.
struct Case {
    /// Where it comes from (for messages).
    origin: String,
    /// Relative to the inbox: "<CODE>/<name>".
    inbox_path: String,
    bytes: Vec<u8>,
    level: &'static str,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file of fixtures/inbox, fixtures/corpus and fixtures/forms, and
/// every office style.
fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for folder in ["fixtures/inbox", "fixtures/corpus", "fixtures/forms"] {
        let root = repo().join(folder);
        let mut files = Vec::new();
        support::walk(&root, &mut |p| files.push(p.to_path_buf()));
        files.sort();
        for file in files {
            let relative = file.strip_prefix(&root).expect("under root");
            let first = relative
                .components()
                .next()
                .and_then(|c| c.as_os_str().to_str())
                .unwrap_or("");
            let level = if folder == "fixtures/inbox" {
                office_styles::department_level(first)
            } else {
                "province"
            };
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("file")
                .to_string();
            if name.starts_with('.') {
                continue;
            }
            cases.push(Case {
                origin: format!("{folder}/{}", relative.display()),
                inbox_path: name,
                bytes: std::fs::read(&file).expect("fixture"),
                level,
            });
        }
    }
    for style in office_styles::all() {
        let name = style
            .file_name
            .rsplit('/')
            .next()
            .unwrap_or("style.xlsx")
            .to_string();
        cases.push(Case {
            origin: format!("office style {}", style.name),
            inbox_path: name,
            level: office_styles::department_level(style.department()),
            bytes: style.bytes,
        });
    }
    for (i, case) in cases.iter_mut().enumerate() {
        case.inbox_path = format!("I{i:03}/{}", case.inbox_path);
    }
    cases
}

/// A project whose registry has one department per case (beside the
/// repository's, which the config's recipients name).
fn project_for(cases: &[Case]) -> Project {
    let project = Project::new();
    let registry = project.root().join("config/departments.toml");
    let mut text = std::fs::read_to_string(&registry).expect("registry");
    for case in cases {
        let code = case.inbox_path.split('/').next().unwrap_or("");
        text.push_str(&format!(
            "\n[[department]]\ncode = \"{code}\"\nname = \"Đơn vị {code}\"\nlevel = \"{}\"\ncontacts = [\"{}@example.gov.vn\"]\n",
            case.level,
            code.to_lowercase()
        ));
    }
    std::fs::write(&registry, text).expect("write registry");
    for case in cases {
        let path = project.inbox().join(&case.inbox_path);
        std::fs::create_dir_all(path.parent().expect("folder")).expect("dir");
        std::fs::write(&path, &case.bytes).expect("write case");
    }
    project
}

fn python(script: &str, args: &[&str]) -> String {
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "python: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The rows of every rows table and of `rejects`: (submission, sheet) → rows.
type RowsBySheet = BTreeMap<(String, String), BTreeSet<u32>>;

fn warehouse_rows(project: &Project) -> (RowsBySheet, RowsBySheet) {
    let dump = python(
        r#"
import json, os, sys, duckdb
root = sys.argv[1]
out = []
for table in ["staff", "training", "plan", "recruitment", "rejects"]:
    folder = os.path.join(root, table)
    files = [f for d, _, fs in os.walk(folder) for f in fs if f.endswith('.parquet') and not f.startswith('.')]
    if not files:
        continue
    rel = duckdb.sql(f"SELECT DISTINCT submission_id, source_sheet, source_row FROM read_parquet('{folder}/**/*.parquet', hive_partitioning = true, union_by_name = true)")
    for s, sheet, row in rel.fetchall():
        out.append([table == "rejects", s, sheet, row])
print(json.dumps(out))
"#,
        &[&project.warehouse().to_string_lossy()],
    );
    let rows: Vec<(bool, String, String, u32)> = serde_json::from_str(&dump).expect("rows json");
    let (mut data, mut rejected) = (RowsBySheet::new(), RowsBySheet::new());
    for (is_reject, submission, sheet, row) in rows {
        let target = if is_reject { &mut rejected } else { &mut data };
        target.entry((submission, sheet)).or_default().insert(row);
    }
    (data, rejected)
}

fn ledger(project: &Project) -> BTreeMap<String, Value> {
    let dump = python(
        r#"
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.row_factory = sqlite3.Row
print(json.dumps([dict(r) for r in db.execute("SELECT source_file, submission_id, status, period, reason_vi, report FROM submissions")]))
"#,
        &[&project.data().join("state.sqlite3").to_string_lossy()],
    );
    let rows: Vec<Value> = serde_json::from_str(&dump).expect("ledger json");
    rows.into_iter()
        .map(|r| (r["source_file"].as_str().unwrap_or("").to_string(), r))
        .collect()
}

/// Runs `inspect --json` on every case, two at a time.
fn inspect_all(project: &Project, cases: &[Case]) -> Vec<(i32, Value)> {
    let half = cases.len().div_ceil(2).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = cases
            .chunks(half)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|case| {
                            let path = project.inbox().join(&case.inbox_path);
                            let out = project.run(&["inspect", "--json", &path.to_string_lossy()]);
                            let code = out.status.code().unwrap_or(-1);
                            let stdout = String::from_utf8_lossy(&out.stdout);
                            assert!(
                                code == 0 || code == 1,
                                "{}: inspect exited {code:?}\nstderr: {}",
                                case.origin,
                                String::from_utf8_lossy(&out.stderr)
                            );
                            let json: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
                                panic!(
                                    "{}: inspect --json is no JSON ({e}):\n{stdout}",
                                    case.origin
                                )
                            });
                            (code, json)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("inspect thread"))
            .collect()
    })
}

/// The rows of `spans` of one class: every row a run covers, and the
/// runs' first and last rows (which are rows of that class for certain: a
/// run may span blank rows between them).
fn rows_of(spans: &[Value], class: &str) -> (BTreeSet<u32>, BTreeSet<u32>, usize) {
    let (mut covered, mut ends, mut runs) = (BTreeSet::new(), BTreeSet::new(), 0);
    for span in spans.iter().filter(|s| s["class"] == class) {
        let first = span["first_row"].as_u64().unwrap_or(0) as u32;
        let last = span["last_row"].as_u64().unwrap_or(0) as u32;
        covered.extend(first..=last);
        ends.insert(first);
        ends.insert(last);
        runs += 1;
    }
    (covered, ends, runs)
}

/// Compares one sheet's row classes with what ingest stored; pushes what differs.
fn compare_sheet(
    origin: &str,
    sheet: &Value,
    report: &Value,
    stored: Option<&BTreeSet<u32>>,
    rejected: Option<&BTreeSet<u32>>,
    out: &mut Vec<String>,
) {
    let name = sheet["sheet"].as_str().unwrap_or("");
    let mut push = |what: String| out.push(format!("{origin} | sheet {name:?} | {what}"));
    if report["sheet"] != sheet["sheet"] {
        push(format!("the ledger's sheet is {}", report["sheet"]));
        return;
    }
    let spans = sheet["row_spans"].as_array().cloned().unwrap_or_default();
    let empty = BTreeSet::new();
    for (class, got, count_key) in [
        ("data", stored.unwrap_or(&empty), "loaded"),
        ("rejected", rejected.unwrap_or(&empty), "rejected_rows"),
    ] {
        let (covered, ends, _) = rows_of(&spans, class);
        let outside: Vec<&u32> = got.iter().filter(|r| !covered.contains(r)).collect();
        if !outside.is_empty() {
            push(format!(
                "{class}: ingest has rows {outside:?} inspect does not call {class}"
            ));
        }
        let missing: Vec<&u32> = ends.iter().filter(|r| !got.contains(r)).collect();
        if !missing.is_empty() {
            push(format!(
                "{class}: inspect calls rows {missing:?} {class}, ingest has not"
            ));
        }
        if sheet[count_key].as_u64() != Some(got.len() as u64) {
            push(format!(
                "{class}: inspect counts {} rows, ingest stored {}",
                sheet[count_key],
                got.len()
            ));
        }
    }
    if sheet["skips"] != report["skips"] {
        push(format!(
            "skips: inspect {} ledger {}",
            sheet["skips"], report["skips"]
        ));
    }
    // The skipped runs inspect shows are those the department is told.
    let skipped: Vec<Value> = spans
        .iter()
        .filter(|s| s["class"] == "skipped")
        .map(|s| {
            serde_json::json!({"kind": s["kind"], "first_row": s["first_row"], "last_row": s["last_row"]})
        })
        .collect();
    if Some(&skipped) != report["skipped_rows"].as_array() {
        push(format!(
            "skipped runs: inspect {skipped:?} ledger {}",
            report["skipped_rows"]
        ));
    }
    for key in [
        "hidden",
        "template",
        "header_row",
        "fields_not_found",
        "rejects",
    ] {
        if sheet[key] != report[key] {
            push(format!(
                "{key}: inspect {} ledger {}",
                sheet[key], report[key]
            ));
        }
    }
    if sheet["refused"] != report.get("refused").cloned().unwrap_or(Value::Null) {
        push(format!(
            "refused: inspect {} ledger {}",
            sheet["refused"], report["refused"]
        ));
    }
}

#[test]
fn inspect_reads_every_fixture_and_style_as_ingest_stores_it() {
    let cases = cases();
    assert!(cases.len() > 100, "{} cases", cases.len());
    let project = project_for(&cases);
    let inspected = inspect_all(&project, &cases);
    assert!(
        !project.data().exists(),
        "inspect wrote under {}",
        project.data().display()
    );
    for case in &cases {
        assert!(
            project.inbox().join(&case.inbox_path).is_file(),
            "inspect moved {}",
            case.origin
        );
    }
    project.run_ok(&["ingest"]);
    let ledger = ledger(&project);
    let (stored, rejected) = warehouse_rows(&project);

    let mut problems = Vec::new();
    let (mut accepted, mut refused) = (0, 0);
    for (case, (code, json)) in cases.iter().zip(&inspected) {
        let origin = &case.origin;
        let Some(entry) = ledger.get(&case.inbox_path) else {
            // Bytes seen before in this inbox (a duplicate) are not in the ledger twice.
            continue;
        };
        let verdict = json["verdict"].as_str().unwrap_or("");
        match entry["status"].as_str() {
            Some("accepted") => {
                accepted += 1;
                if verdict != "accepted" || json["period"]["period"] != entry["period"] {
                    problems.push(format!(
                        "{origin}: ingest took it for {}, inspect says {verdict} {}",
                        entry["period"], json["period"]["period"]
                    ));
                    continue;
                }
                let reports: Vec<Value> = entry["report"]
                    .as_str()
                    .and_then(|r| serde_json::from_str(r).ok())
                    .unwrap_or_default();
                let sheets = json["sheets"].as_array().cloned().unwrap_or_default();
                if reports.len() != sheets.len() {
                    problems.push(format!(
                        "{origin}: {} sheets in the ledger, {} in inspect",
                        reports.len(),
                        sheets.len()
                    ));
                    continue;
                }
                let submission = entry["submission_id"].as_str().unwrap_or("").to_string();
                for (sheet, report) in sheets.iter().zip(&reports) {
                    let key = (
                        submission.clone(),
                        sheet["sheet"].as_str().unwrap_or("").to_string(),
                    );
                    compare_sheet(
                        origin,
                        sheet,
                        report,
                        stored.get(&key),
                        rejected.get(&key),
                        &mut problems,
                    );
                }
            }
            Some("quarantined") => {
                refused += 1;
                let expected_code = if verdict == "unreadable" { 1 } else { 0 };
                if !matches!(verdict, "refused" | "unreadable")
                    || json["reason_vi"] != entry["reason_vi"]
                    || *code != expected_code
                {
                    problems.push(format!(
                        "{origin}: ingest refused it ({}), inspect says {verdict} ({}), exit {code}",
                        entry["reason_vi"], json["reason_vi"]
                    ));
                }
            }
            other => problems.push(format!("{origin}: ledger status {other:?}")),
        }
    }
    assert!(
        problems.is_empty(),
        "{} disagreements:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // Most files are taken; the corpus's damaged and protected ones are not.
    assert!(accepted >= 80, "{accepted} accepted");
    assert!(refused >= 5, "{refused} refused");
}

/// A roster with a row rejected for its qualification and a signature block.
fn roster(path: &Path) {
    let mut rows = support::staff_rows(
        "NĂM 2025",
        &[
            ("Nguyễn Văn An", "001085000111", "Đại học"),
            ("Trần Thị Bình", "001085000112", "Phi công vũ trụ"),
            ("Lê Văn Cường", "001085000113", "Thạc sĩ"),
        ],
    );
    rows.push(vec![]);
    rows.push(vec![C::Blank, C::Blank, C::T("NGƯỜI LẬP BIỂU")]);
    rows.push(vec![C::Blank, C::Blank, C::T("(Ký, ghi rõ họ tên)")]);
    rows.push(vec![C::Blank, C::Blank, C::T("Phạm Thị Dung")]);
    support::write_xlsx(path, "DS", &rows);
}

#[test]
fn the_text_names_the_signature_rows_and_the_reason_of_a_rejected_row() {
    let project = Project::new();
    let path = project.inbox().join("SNV/danh-sach_2025.xlsx");
    roster(&path);
    let text = project.run_ok(&["inspect", &path.to_string_lossy()]);
    assert!(text.contains("Department:  SNV"), "{text}");
    assert!(text.contains("ingest takes it, period 2025"), "{text}");
    assert!(text.contains("header:    rows 5"), "{text}");
    assert!(text.contains("→ qualification"), "{text}");
    // Row 6 and 8 are stored, row 7 rejected, rows 10–12 the signature block.
    assert!(text.contains("│ 7 "), "{text}");
    assert!(
        text.contains("10–12 ┆ skipped: khối chữ ký (signature block)"),
        "{text}"
    );
    assert!(text.contains("D7"), "the rejected cell: {text}");
    assert!(
        text.contains("Phi công vũ trụ"),
        "the rejected value: {text}"
    );
    let json: Value =
        serde_json::from_str(&project.run_ok(&["inspect", "--json", &path.to_string_lossy()]))
            .expect("json");
    let reject = &json["sheets"][0]["rejects"][0];
    for reason in ["reason_vi", "reason_en"] {
        let said = reject[reason].as_str().expect("reason");
        // Each word of the reason is in the text (the table wraps lines).
        let first_word = said.split_whitespace().next().expect("a word");
        assert!(text.contains(first_word), "{reason} {said:?} not in {text}");
    }
    for line in text
        .lines()
        .filter(|l| l.starts_with(['┌', '│', '╞', '└', '├']))
    {
        assert!(
            line.chars().count() <= 80,
            "a table line wider than 80 columns: {line}"
        );
    }
    // Nothing was written, nothing moved.
    assert!(path.is_file());
    assert!(!project.data().exists());
}

#[test]
fn a_roster_read_as_a_plan_has_no_header_and_an_unknown_template_is_bad_usage() {
    let project = Project::new();
    let path = project.inbox().join("SNV/danh-sach_2025.xlsx");
    roster(&path);
    let text = project.run_ok(&["inspect", "--template", "plan", &path.to_string_lossy()]);
    assert!(text.contains("Templates:   plan\n"), "{text}");
    assert!(text.contains("Sheet \"DS\": no template"), "{text}");
    assert!(text.contains("ingest refuses it"), "{text}");
    let json: Value = serde_json::from_str(&project.run_ok(&[
        "inspect",
        "--json",
        "--template",
        "plan",
        &path.to_string_lossy(),
    ]))
    .expect("json");
    assert_eq!(json["sheets"][0]["template"], Value::Null);
    assert_eq!(json["sheets"][0]["header_row"], Value::Null);
    assert_eq!(json["verdict"], "refused");

    let out = project.run(&["inspect", "--template", "payroll", &path.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("payroll") && stderr.contains("staff") && stderr.contains("training"),
        "{stderr}"
    );
    let out = project.run(&["inspect", "--department", "NOPE", &path.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_file_that_is_no_workbook_exits_1_with_the_vietnamese_reason() {
    let project = Project::new();
    let path = project.inbox().join("SNV/danh-sach_2025.xlsx");
    std::fs::create_dir_all(path.parent().expect("dir")).expect("dir");
    std::fs::write(&path, "Họ và tên,Mã định danh\nAn,1\n").expect("write");
    let out = project.run(&["inspect", &path.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("the file cannot be read"), "{stdout}");
    assert!(
        stdout.contains("Lý do:     Tệp là văn bản thuần (CSV)"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("văn bản thuần"), "{stderr}");

    let out = project.run(&["inspect", "--json", &path.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["verdict"], "unreadable");
    assert!(
        json["reason_vi"]
            .as_str()
            .is_some_and(|r| r.contains("CSV")),
        "{json}"
    );
    // A file that does not exist cannot be read either.
    let out = project.run(&["inspect", "/nonexistent/ds_2025.xlsx"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn hidden_sheets_and_a_sheet_of_another_period_are_shown_with_their_rows() {
    use rust_xlsxwriter::Workbook;
    let project = Project::new();
    let path = project.inbox().join("SNV/danh-sach_2025.xlsx");
    std::fs::create_dir_all(path.parent().expect("dir")).expect("dir");
    let people = [
        ("Nguyễn Văn An", "001085000111", "Đại học"),
        ("Lê Văn Cường", "001085000113", "Thạc sĩ"),
    ];
    let mut workbook = Workbook::new();
    for (name, title, hidden) in [
        ("Năm nay", "NĂM 2025", false),
        ("Năm trước", "NĂM 2024", false),
        ("Bản cũ", "NĂM 2023", true),
    ] {
        let sheet = workbook.add_worksheet();
        sheet.set_name(name).expect("name");
        for (r, row) in support::staff_rows(title, &people).iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                match cell {
                    C::T(t) => drop(sheet.write_string(r, c, *t)),
                    C::S(t) => drop(sheet.write_string(r, c, t)),
                    C::N(n) => drop(sheet.write_number(r, c, *n)),
                    C::Blank => {}
                }
            }
        }
        if hidden {
            sheet.set_hidden(true);
        }
    }
    workbook.save(&path).expect("save");
    let text = project.run_ok(&["inspect", &path.to_string_lossy()]);
    assert!(text.contains("ingest takes it, period 2025"), "{text}");
    assert!(
        text.contains("Sheet \"Bản cũ\": hidden, not read: 6 non-blank rows in rows 1–7"),
        "{text}"
    );
    let refused = text
        .split("\nSheet \"Năm trước\": template staff")
        .nth(1)
        .expect("the refused sheet");
    assert!(refused.contains("REFUSED:   Trang \"Năm trước\""), "{text}");
    assert!(
        refused.contains("6–7  ┆ skipped: trang tính ghi kỳ báo cáo khác"),
        "{text}"
    );
    let json: Value =
        serde_json::from_str(&project.run_ok(&["inspect", "--json", &path.to_string_lossy()]))
            .expect("json");
    assert_eq!(json["sheets"][1]["loaded"], 0);
    assert_eq!(json["sheets"][1]["skips"]["other_period"], 2);
    assert_eq!(json["sheets"][2]["hidden"], true);
    assert_eq!(json["sheets"][2]["skips"]["hidden_sheet"], 6);
    assert_eq!(json["period"]["refused_sheets"][0]["sheet"], "Năm trước");
}
