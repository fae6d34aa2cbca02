//! `kill -9` in the middle of ingesting a large inbox, then a rerun, ends with
//! the same warehouse as one clean run.

use crate::support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{C, Project, count_files, duckdb, write_xlsx};

const DEPARTMENTS: &[&str] = &["SNV", "SYT", "SGDDT", "STTTT", "TPDBP", "HTG", "XTM", "XNT"];

/// 8 departments × 12 years of rosters, 150 rows each, one bad row per file.
fn fill_inbox(inbox: &Path) {
    for (d, department) in DEPARTMENTS.iter().enumerate() {
        for year in 2013..2025 {
            let mut rows = vec![
                vec![C::T("DANH SÁCH CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC")],
                vec![
                    C::T("STT"),
                    C::T("Họ và tên"),
                    C::T("Mã định danh"),
                    C::T("Ngày sinh"),
                    C::T("Trình độ chuyên môn"),
                ],
            ];
            for i in 0..150 {
                let birth = if i == 7 {
                    "31/02/1985".to_string()
                } else {
                    format!("{:02}/{:02}/19{}", 1 + i % 28, 1 + i % 12, 60 + i % 40)
                };
                rows.push(vec![
                    C::N((i + 1) as f64),
                    C::S(format!("Người {d}-{year}-{i}")),
                    C::S(format!("{d:02}{year}{i:05}")),
                    C::S(birth),
                    C::T(if i % 3 == 0 {
                        "Thạc sĩ"
                    } else {
                        "Đại học"
                    }),
                ]);
            }
            write_xlsx(
                &inbox.join(format!("{department}/ds_{year}.xlsx")),
                "DS",
                &rows,
            );
        }
    }
}

fn fingerprint(project: &Project, table: &str, order: &str) -> String {
    duckdb(&format!(
        "SELECT count(*) || ':' || md5(string_agg(CAST(t AS VARCHAR), '|' ORDER BY {order}))
         FROM read_parquet('{}/{table}/**/*.parquet', hive_partitioning = true) t",
        project.warehouse().display()
    ))
}

fn copy_tree(from: &Path, to: &Path) {
    support::walk(from, &mut |p| {
        let target = to.join(p.strip_prefix(from).expect("under from"));
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::copy(p, &target).expect("copy");
    });
}

#[test]
fn kill_9_during_ingest_then_rerun_equals_one_clean_run() {
    // The same bytes in both inboxes (a workbook's bytes carry its creation time).
    let source = tempfile::tempdir().expect("tmp");
    fill_inbox(source.path());
    let clean = Project::new();
    copy_tree(source.path(), &clean.inbox());
    clean.run_ok(&["ingest"]);

    let crashed = Project::new();
    copy_tree(source.path(), &crashed.inbox());
    let total = count_files(&crashed.inbox(), "xlsx");
    let mut child = Command::new(env!("CARGO_BIN_EXE_nhanluc"))
        .arg("--config")
        .arg(crashed.config_file())
        .arg("ingest")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    // Kill once part of the inbox is done, while files are still being taken.
    let archive = crashed.data().join("archive");
    let deadline = Instant::now() + Duration::from_secs(120);
    while count_files(&archive, "xlsx") < total / 4 {
        assert!(Instant::now() < deadline, "ingest made no progress");
        assert!(
            child.try_wait().expect("wait").is_none(),
            "ingest ended before it could be killed: make the inbox larger"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    let left = count_files(&crashed.inbox(), "xlsx");
    assert!(
        left > 0 && left < total,
        "killed mid-way: {left} of {total} files still waiting"
    );

    crashed.run_ok(&["ingest"]);
    assert_eq!(count_files(&crashed.inbox(), "xlsx"), 0);
    assert_eq!(count_files(&archive, "xlsx"), total);
    let tables = [
        ("staff", "submission_id, source_sheet, source_row"),
        ("rejects", "submission_id, source_sheet, source_row, cell"),
    ];
    for (table, order) in tables {
        assert_eq!(
            fingerprint(&crashed, table, order),
            fingerprint(&clean, table, order),
            "table {table}"
        );
    }
    assert_eq!(support::assert_rows_accounted(&crashed), total);
    let staff = fingerprint(&clean, tables[0].0, tables[0].1);
    assert!(staff.starts_with(&format!("{}:", total * 149)), "{staff}");
}
