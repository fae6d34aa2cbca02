//! The reporting period of a submission, end to end: which evidence files a
//! workbook under which period, and what is refused when the evidence
//! disagrees (issue 13, class 9; DESIGN "Inputs").

use crate::support;

use std::path::Path;

use crate::support::{C, Project, duckdb, staff_rows, write_sheets, write_xlsx};

/// (period, department, count) of the staff rows, one line each.
fn staff_periods(project: &Project) -> String {
    duckdb(&format!(
        "SELECT period, department, count(*) FROM read_parquet('{}/staff/**/*.parquet', hive_partitioning = true) GROUP BY ALL ORDER BY ALL",
        project.warehouse().display()
    ))
}

/// The folders the staff table is partitioned into, as "period=P/department=D".
fn staff_partitions(project: &Project) -> Vec<String> {
    let root = project.warehouse().join("staff");
    let mut found: Vec<String> = project
        .files_under(&root, "parquet")
        .iter()
        .filter_map(|p| p.parent()?.strip_prefix(&root).ok().map(Path::to_path_buf))
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .collect();
    found.sort();
    found.dedup();
    found
}

fn quarantine_reasons(project: &Project) -> Vec<String> {
    project
        .files_under(&project.data().join("quarantine"), "txt")
        .iter()
        .filter(|p| p.to_string_lossy().ends_with(".reason.txt"))
        .map(|p| std::fs::read_to_string(p).expect("sidecar"))
        .collect()
}

/// The ledger's sheet reports of every accepted submission, as JSON.
fn ledger_sheets(project: &Project) -> Vec<serde_json::Value> {
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg("import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); print('\\n'.join(r for (r,) in db.execute(\"SELECT report FROM submissions WHERE status = 'accepted'\")))")
        .arg(project.data().join("state.sqlite3"))
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .flat_map(|line| {
            let sheets: Vec<serde_json::Value> = serde_json::from_str(line).expect("report json");
            sheets
        })
        .collect()
}

/// People for a roster: ("Người N", id), `n` of them from `first`.
fn people(first: usize, n: usize) -> Vec<(String, String, String)> {
    (first..first + n)
        .map(|i| {
            (
                format!("Người {i}"),
                format!("0010850{i:05}"),
                "Đại học".to_string(),
            )
        })
        .collect()
}

fn roster(title: &'static str, people: &[(String, String, String)]) -> Vec<Vec<C>> {
    let borrowed: Vec<(&str, &str, &str)> = people
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
        .collect();
    staff_rows(title, &borrowed)
}

#[test]
fn a_quarter_in_the_file_name_files_the_quarter_not_the_year() {
    let project = Project::new();
    write_xlsx(
        &project.inbox().join("SNV/BC_dao_tao_quy4_2025.xlsx"),
        "DS",
        &roster("QUÝ IV NĂM 2025", &people(1, 2)),
    );
    let out = project.run_ok(&["ingest"]);
    assert!(out.contains("period 2025-Q4"), "{out}");
    assert_eq!(
        staff_partitions(&project),
        ["period=2025-Q4/department=SNV"]
    );
    assert_eq!(staff_periods(&project), "2025-Q4|SNV|2");
}

/// The rule for consistent evidence of which one is more specific: the
/// quarter the title names is taken, and both pieces are in the report.
#[test]
fn a_year_in_the_name_and_a_quarter_in_the_title_file_the_quarter() {
    let project = Project::new();
    write_xlsx(
        &project.inbox().join("SNV/ds_2025.xlsx"),
        "DS",
        &roster("QUÝ IV NĂM 2025", &people(1, 1)),
    );
    let out = project.run_ok(&["ingest"]);
    assert!(
        out.contains(
            "period 2025-Q4 (the file name \"ds_2025.xlsx\" says year 2025; the title of sheet \"DS\" (\"QUÝ IV NĂM 2025\") says Q4 2025)"
        ),
        "{out}"
    );
    assert_eq!(staff_periods(&project), "2025-Q4|SNV|1");
}

#[test]
fn a_date_in_the_file_name_is_not_the_period() {
    let project = Project::new();
    write_xlsx(
        &project.inbox().join("SNV/DS CBCC gui ngay 12-01-2026.xlsx"),
        "DS",
        &roster("NĂM 2025", &people(1, 3)),
    );
    project.run_ok(&["ingest"]);
    assert_eq!(staff_partitions(&project), ["period=2025/department=SNV"]);
    assert!(quarantine_reasons(&project).is_empty());
}

#[test]
fn name_and_title_disagreeing_quarantine_the_file_with_both_shown() {
    let project = Project::new();
    let file = project.inbox().join("SNV/ds_2026.xlsx");
    write_xlsx(&file, "DS", &roster("NĂM 2025", &people(1, 2)));
    let out = project.run_ok(&["ingest"]);
    assert!(out.contains("quarantined"), "{out}");
    assert!(!file.exists(), "a refused file leaves the inbox");
    let reasons = quarantine_reasons(&project);
    assert_eq!(reasons.len(), 1, "{reasons:#?}");
    let reason = &reasons[0];
    for expected in [
        // Vietnamese, then English: the name, the title, and both periods.
        "tên tệp \"ds_2026.xlsx\" ghi năm 2026",
        "tiêu đề trang \"DS\" (\"NĂM 2025\") ghi năm 2025",
        "the file name \"ds_2026.xlsx\" says year 2026",
        "the title of sheet \"DS\" (\"NĂM 2025\") says year 2025",
    ] {
        assert!(
            reason.contains(expected),
            "missing {expected:?} in\n{reason}"
        );
    }
    assert!(
        !project
            .warehouse()
            .join("staff")
            .join("period=2026")
            .exists()
            && !project
                .warehouse()
                .join("staff")
                .join("period=2025")
                .exists(),
        "nothing of a refused file is stored"
    );
}

/// A visible sheet titled with last year in this year's file: refused whole
/// (its rows counted as of another period, none stored), the other sheet
/// taken. One refused sheet is short (its header is found when the sheet
/// ends), one longer than the header search (found while rows stream in).
#[test]
fn a_sheet_of_another_period_is_refused_and_the_rest_stored() {
    let project = Project::new();
    write_sheets(
        &project.inbox().join("SNV/ds_2025.xlsx"),
        &[
            ("DS 2024 cu", roster("DANH SÁCH NĂM 2024", &people(100, 60))),
            ("DS 2025", roster("NĂM 2025", &people(1, 3))),
            ("Quy III", roster("QUÝ III NĂM 2024", &people(200, 2))),
        ],
    );
    let out = project.run_ok(&["ingest"]);
    assert!(out.contains("period 2025"), "{out}");
    assert!(
        out.contains("sheet \"DS 2024 cu\": refused (60 rows not taken)"),
        "{out}"
    );
    assert!(
        out.contains("sheet \"Quy III\": refused (2 rows not taken)"),
        "{out}"
    );
    assert_eq!(staff_periods(&project), "2025|SNV|3");
    let sheets = duckdb(&format!(
        "SELECT DISTINCT source_sheet FROM read_parquet('{}/staff/**/*.parquet')",
        project.warehouse().display()
    ));
    assert_eq!(sheets, "DS 2025");

    let reports = ledger_sheets(&project);
    assert_eq!(reports.len(), 3, "{reports:#?}");
    let by_name = |name: &str| {
        reports
            .iter()
            .find(|s| s["sheet"] == name)
            .unwrap_or_else(|| panic!("no sheet {name} in {reports:#?}"))
    };
    let old = by_name("DS 2024 cu");
    assert_eq!(old["loaded"], 0);
    assert_eq!(old["skips"]["other_period"], 60);
    let reason_vi = old["refused"]["reason_vi"].as_str().expect("reason_vi");
    assert!(reason_vi.contains("năm 2024"), "{reason_vi}");
    assert!(reason_vi.contains("ds_2025.xlsx"), "{reason_vi}");
    let reason_en = old["refused"]["reason_en"].as_str().expect("reason_en");
    assert!(
        reason_en.contains("year 2024") && reason_en.contains("year 2025"),
        "{reason_en}"
    );
    assert_eq!(by_name("Quy III")["skips"]["other_period"], 2);
    let taken = by_name("DS 2025");
    assert_eq!(taken["loaded"], 3);
    assert!(taken.get("refused").is_none(), "{taken}");
    support::assert_rows_accounted(&project);
    // The department's feedback says why the sheet was not taken.
    std::fs::write(
        project.root().join("jobs/feedback.toml"),
        "schedule = \"0 0 2 * * *\"\nsteps = [\"feedback\"]\n",
    )
    .expect("job");
    project.run_ok(&["run", "feedback"]);
    let mails = project.files_under(&project.outbox(), "eml");
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = support::read_eml(&mails[0], project.dir.path());
    assert!(
        mail.text
            .contains("TRANG KHÔNG ĐƯỢC TIẾP NHẬN: Trang \"DS 2024 cu\""),
        "{}",
        mail.text
    );
    assert!(
        mail.html.contains("Trang không được tiếp nhận"),
        "{}",
        mail.html
    );
}

/// A training list of `people`, each on the same digital course.
fn training_rows(title: &'static str, people: &[(String, String, String)]) -> Vec<Vec<C>> {
    let attendances: Vec<(&str, &str, &str)> = people
        .iter()
        .map(|(name, id, _)| (name.as_str(), id.as_str(), "Bồi dưỡng kỹ năng số"))
        .collect();
    support::training_rows(title, &attendances)
}

/// A refused sheet is no submission of its form: last year's roster copied
/// into this year's training file does not replace this year's roster.
#[test]
fn a_refused_sheet_supersedes_nothing() {
    let project = Project::new();
    write_xlsx(
        &project.inbox().join("SNV/ds_2025.xlsx"),
        "DS",
        &roster("NĂM 2025", &people(1, 2)),
    );
    project.run_ok(&["ingest"]);
    write_sheets(
        &project.inbox().join("SNV/dao-tao_2025.xlsx"),
        &[
            ("Đào tạo", training_rows("NĂM 2025", &people(1, 2))),
            ("DS cũ", roster("NĂM 2024", &people(50, 4))),
        ],
    );
    let out = project.run_ok(&["ingest"]);
    assert!(out.contains("refused (4 rows not taken)"), "{out}");
    assert!(!out.contains("supersedes"), "{out}");
    assert_eq!(staff_periods(&project), "2025|SNV|2");
    let loads = std::process::Command::new("python3")
        .arg("-c")
        .arg("import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); print(sorted(db.execute('SELECT template, rows, active FROM loads')))")
        .arg(project.data().join("state.sqlite3"))
        .output()
        .expect("python3");
    assert_eq!(
        String::from_utf8_lossy(&loads.stdout).trim(),
        "[('staff', 2, 1), ('training', 2, 1)]"
    );
    support::assert_rows_accounted(&project);
}

#[test]
fn a_half_year_report_is_filed_as_its_half() {
    let project = Project::new();
    write_xlsx(
        &project.inbox().join("SNV/bao-cao-nhan-su.xlsx"),
        "DS",
        &roster("6 THÁNG ĐẦU NĂM 2025", &people(1, 2)),
    );
    write_xlsx(
        &project.inbox().join("SYT/ds_H2_2025.xlsx"),
        "DS",
        &roster("BÁO CÁO 6 THÁNG CUỐI NĂM 2025", &people(10, 1)),
    );
    let out = project.run_ok(&["ingest"]);
    assert!(out.contains("period 2025-H1"), "{out}");
    assert_eq!(
        staff_partitions(&project),
        [
            "period=2025-H1/department=SNV",
            "period=2025-H2/department=SYT"
        ]
    );
    assert_eq!(staff_periods(&project), "2025-H1|SNV|2\n2025-H2|SYT|1");
    // The period strings are what the command line takes.
    project.run_ok(&["indicators", "--period", "2025-H1"]);
    assert!(
        project
            .warehouse()
            .join("indicators/period=2025-H1/part-0.parquet")
            .is_file()
    );
}
