//! Ingest through the real binary: acceptance, row accounting, duplicates,
//! supersession, quarantine and repair after a crash.

use crate::support;

use crate::support::{C, Project, duckdb, staff_rows, write_xlsx};

fn count(project: &Project, table: &str) -> String {
    duckdb(&format!(
        "SELECT count(*) FROM read_parquet('{}/{table}/**/*.parquet', hive_partitioning = true)",
        project.warehouse().display()
    ))
}

#[test]
fn a_roster_with_a_title_block_is_accepted_and_leaves_the_inbox() {
    let project = Project::new();
    let file = project.inbox().join("SNV/danh-sach.xlsx");
    write_xlsx(
        &file,
        "DS",
        &staff_rows(
            "NĂM 2025",
            &[
                ("Nguyễn Văn An", "001085000001", "Thạc sĩ"),
                ("Trần Thị Bình", "001085000002", "Đại học"),
                ("Lê Văn Cường", "001085000003", ""),
            ],
        ),
    );
    let out = project.run_ok(&["ingest"]);
    assert!(out.contains("accepted"), "{out}");
    assert!(!file.exists(), "an accepted file leaves the inbox");
    assert_eq!(
        project
            .files_under(&project.data().join("archive"), "xlsx")
            .len(),
        1
    );
    assert_eq!(count(&project, "staff"), "3");
    let rows = duckdb(&format!(
        "SELECT period, department, full_name, qualification, level, source_row FROM read_parquet('{}/staff/**/*.parquet', hive_partitioning = true) ORDER BY source_row",
        project.warehouse().display()
    ));
    assert_eq!(
        rows,
        "2025|SNV|Nguyễn Văn An|master|province|6\n2025|SNV|Trần Thị Bình|university|province|7\n2025|SNV|Lê Văn Cường|none|province|8"
    );
    support::assert_rows_accounted(&project);
}

#[test]
fn the_same_bytes_twice_are_ingested_once() {
    let project = Project::new();
    let file = project.inbox().join("SYT/ds_2025.xlsx");
    write_xlsx(
        &file,
        "DS",
        &staff_rows("NĂM 2025", &[("A B", "1", "Đại học")]),
    );
    let bytes = std::fs::read(&file).expect("read");
    project.run_ok(&["ingest"]);
    std::fs::write(&file, &bytes).expect("drop again");
    let out = project.run_ok(&["ingest"]);
    assert!(out.contains("duplicate"), "{out}");
    assert!(!file.exists());
    assert_eq!(count(&project, "staff"), "1");
    support::assert_rows_accounted(&project);
}

#[test]
fn a_newer_submission_supersedes_the_older_rows() {
    let project = Project::new();
    let first = project.inbox().join("SYT/ds_2025.xlsx");
    write_xlsx(
        &first,
        "DS",
        &staff_rows(
            "NĂM 2025",
            &[
                ("A", "1", "Đại học"),
                ("B", "2", "Đại học"),
                ("C", "3", "Đại học"),
            ],
        ),
    );
    project.run_ok(&["ingest"]);
    let second = project.inbox().join("SYT/ds-sua-lai_2025.xlsx");
    write_xlsx(
        &second,
        "DS",
        &staff_rows("NĂM 2025", &[("A", "1", "Thạc sĩ"), ("B", "2", "Đại học")]),
    );
    let out = project.run_ok(&["ingest"]);
    assert!(out.contains("supersedes staff:"), "{out}");
    assert_eq!(count(&project, "staff"), "2");
    assert_eq!(
        project
            .files_under(&project.data().join("archive"), "xlsx")
            .len(),
        2,
        "the older file stays archived"
    );
    let statuses = duckdb(&format!(
        "SELECT status, count(*) FROM read_parquet('{}/submissions/**/*.parquet', hive_partitioning = true) GROUP BY status ORDER BY status",
        project.warehouse().display()
    ));
    assert_eq!(statuses, "accepted|1\nsuperseded|1");
    support::assert_rows_accounted(&project);
}

#[test]
fn refused_files_are_quarantined_with_a_reason() {
    let project = Project::new();
    let inbox = project.inbox();
    write_xlsx(
        &inbox.join("KHONGCO/ds_2025.xlsx"),
        "DS",
        &staff_rows("NĂM 2025", &[("A", "1", "")]),
    );
    write_xlsx(
        &inbox.join("SNV/ds-khong-ky.xlsx"),
        "DS",
        &staff_rows("DANH SÁCH", &[("A", "1", "")]),
    );
    std::fs::write(inbox.join("SNV/hong_2025.xlsx"), b"this is not a zip file").expect("write");
    std::fs::write(inbox.join("SNV/ghi-chu_2025.txt"), b"notes").expect("write");
    write_xlsx(
        &inbox.join("SNV/bang-khac_2025.xlsx"),
        "X",
        &[vec![C::T("Tên"), C::T("Tuổi")], vec![C::T("An"), C::N(3.0)]],
    );
    std::fs::write(inbox.join("SNV/~$ds_2025.xlsx"), b"lock").expect("write");

    let out = project.run_ok(&["ingest"]);
    let reasons: Vec<String> = project
        .files_under(&project.data().join("quarantine"), "txt")
        .iter()
        .filter(|p| p.to_string_lossy().ends_with(".reason.txt"))
        .map(|p| std::fs::read_to_string(p).expect("sidecar"))
        .collect();
    assert_eq!(reasons.len(), 5, "{out}\n{reasons:#?}");
    let all = reasons.join("\n");
    for expected in [
        "not in the department registry",
        "Cannot determine the reporting period",
        "cannot open the workbook",
        "Not a spreadsheet file",
        "No sheet has the column headers of a known form",
        "Không xác định được kỳ báo cáo",
    ] {
        assert!(all.contains(expected), "missing {expected:?} in\n{all}");
    }
    assert!(
        inbox.join("SNV/~$ds_2025.xlsx").exists(),
        "lock files stay for the next run"
    );
    let left: Vec<_> = project.files_under(&inbox, "xlsx");
    assert_eq!(
        left,
        [inbox.join("SNV/~$ds_2025.xlsx")],
        "only the lock file remains"
    );
    let status = project.run_ok(&["status"]);
    assert!(status.contains("Quarantined"), "{status}");
    support::assert_rows_accounted(&project);
}

#[test]
fn bad_cells_reject_the_row_with_file_sheet_cell_and_reasons() {
    let project = Project::new();
    let mut rows = staff_rows(
        "NĂM 2024",
        &[
            ("Nguyễn Văn An", "1", "Đại học"),
            ("Trần Thị Bình", "2", "Kỹ thuật viên"),
        ],
    );
    rows.push(vec![C::N(3.0), C::Blank, C::T("3"), C::T("Đại học")]);
    write_xlsx(&project.inbox().join("HTG/ds.xlsx"), "Danh sách", &rows);
    let out = project.run_ok(&["ingest"]);
    assert!(out.contains("D7"), "the report names the cell: {out}");
    assert_eq!(count(&project, "staff"), "1");
    let rejects = duckdb(&format!(
        "SELECT period, department, source_file, source_sheet, source_row, \"column\", cell, value, reason_en FROM read_parquet('{}/rejects/**/*.parquet', hive_partitioning = true) ORDER BY source_row",
        project.warehouse().display()
    ));
    let lines: Vec<&str> = rejects.lines().collect();
    assert_eq!(lines.len(), 2, "{rejects}");
    assert!(
        lines[0]
            .starts_with("2024|HTG|HTG/ds.xlsx|Danh sách|7|Trình độ chuyên môn|D7|Kỹ thuật viên|"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with(
            "2024|HTG|HTG/ds.xlsx|Danh sách|8|Họ và tên|B8||Required value is missing"
        ),
        "{}",
        lines[1]
    );
    support::assert_rows_accounted(&project);
}

#[test]
fn stray_part_files_from_an_interrupted_run_are_removed() {
    let project = Project::new();
    write_xlsx(
        &project.inbox().join("SNV/ds_2025.xlsx"),
        "DS",
        &staff_rows("", &[("A", "1", "")]),
    );
    project.run_ok(&["ingest"]);
    let parts = project.files_under(&project.warehouse().join("staff"), "parquet");
    assert_eq!(parts.len(), 1);
    // A crash after writing a part but before the ledger commit leaves a part
    // no submission owns, and maybe a temporary file.
    let stray = parts[0].with_file_name("part-00000000deadbeef.parquet");
    std::fs::copy(&parts[0], &stray).expect("copy");
    let tmp = parts[0].with_file_name(".part-1234.parquet.tmp");
    std::fs::write(&tmp, b"half").expect("tmp");
    assert_eq!(count(&project, "staff"), "2");
    let out = project.run_ok(&["ingest"]);
    assert!(out.contains("2 stray warehouse file(s) repaired"), "{out}");
    assert!(!stray.exists() && !tmp.exists());
    assert_eq!(count(&project, "staff"), "1");
    support::assert_rows_accounted(&project);
}
