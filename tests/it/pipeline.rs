//! The whole flow on the fixture province: `run nightly` end to end, read back
//! by DuckDB, run twice, and delivered to a real SMTP server.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Project, duckdb};
use nhanluc_fixtures as fixtures;

fn province() -> (Project, Vec<fixtures::WrittenFile>) {
    let project = Project::new();
    let written = fixtures::write_province(&project.inbox()).expect("fixtures");
    (project, written)
}

fn digests(project: &Project) -> Vec<PathBuf> {
    project
        .files_under(&project.outbox(), "eml")
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("-digest-"))
        .collect()
}

fn expected_rows(written: &[fixtures::WrittenFile], template: &str) -> usize {
    written
        .iter()
        .filter(|f| f.template == template)
        .map(|f| f.data_rows)
        .sum()
}

/// Subject and plain-text body of an .eml, decoded by Python's email package.
fn parse_eml(path: &Path) -> (String, String, String) {
    let out = Command::new("python3")
        .arg("-c")
        .arg(
            "import sys, email, email.policy\n\
             m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.default)\n\
             print(m['subject']); print('---'); print(m.get_body(('plain',)).get_content()); print('---'); print(m.get_body(('html',)).get_content())",
        )
        .arg(path)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut parts = text.splitn(3, "\n---\n");
    let subject = parts.next().unwrap_or_default().trim().to_string();
    let plain = parts.next().unwrap_or_default().to_string();
    let html = parts.next().unwrap_or_default().to_string();
    (subject, plain, html)
}

#[test]
fn nightly_runs_end_to_end_and_a_second_run_changes_nothing() {
    let (project, written) = province();
    let out = project.run_ok(&["run", "nightly"]);
    assert!(out.contains("failed 0"), "{out}");

    let warehouse = project.warehouse();
    let staff_total = duckdb(&format!(
        "SELECT count(*) FROM read_parquet('{}/staff/**/*.parquet', hive_partitioning = true)",
        warehouse.display()
    ));
    assert_eq!(staff_total, expected_rows(&written, "staff").to_string());
    let training_total = duckdb(&format!(
        "SELECT count(*) FROM read_parquet('{}/training/**/*.parquet', hive_partitioning = true)",
        warehouse.display()
    ));
    assert_eq!(
        training_total,
        expected_rows(&written, "training").to_string()
    );
    let bad_rows: usize = written.iter().map(|f| f.bad_rows).sum();
    let rejected_rows = duckdb(&format!(
        "SELECT count(DISTINCT (submission_id, source_sheet, source_row)) FROM read_parquet('{}/rejects/**/*.parquet', hive_partitioning = true)",
        warehouse.display()
    ));
    assert_eq!(rejected_rows, bad_rows.to_string());

    // Indicators agree with an independent count over the same files.
    let headcount = duckdb(&format!(
        "SELECT value FROM read_parquet('{}/indicators/**/*.parquet', hive_partitioning = true)
         WHERE period = 2025 AND scope = 'province' AND indicator = 'staff.headcount'",
        warehouse.display()
    ));
    let staff_2025 = duckdb(&format!(
        "SELECT count(*) FROM read_parquet('{}/staff/**/*.parquet', hive_partitioning = true) WHERE period = 2025",
        warehouse.display()
    ));
    assert_eq!(headcount, format!("{staff_2025}.0"));
    let by_department = duckdb(&format!(
        "SELECT i.scope, i.value, s.n FROM read_parquet('{w}/indicators/**/*.parquet', hive_partitioning = true) i
         JOIN (SELECT period, department, 100.0 * count(*) FILTER (WHERE mode IN ('online', 'blended')) / count(*) AS n
               FROM read_parquet('{w}/training/**/*.parquet', hive_partitioning = true) GROUP BY ALL) s
           ON i.period = s.period AND i.scope = 'department:' || s.department
         WHERE i.indicator = 'training.online_pct' AND abs(i.value - s.n) > 1e-9",
        w = warehouse.display()
    ));
    assert_eq!(by_department, "", "online share differs from DuckDB's");

    assert_eq!(support::assert_rows_accounted(&project), written.len());
    let emails = digests(&project);
    assert_eq!(emails.len(), 3, "one digest per recipient: {emails:?}");
    let feedback = project.files_under(&project.outbox(), "eml").len() - emails.len();
    assert_eq!(
        feedback,
        written.len(),
        "one feedback message per file (one contact each)"
    );
    let mut subjects: Vec<String> = Vec::new();
    for email in &emails {
        let (subject, plain, html) = parse_eml(email);
        assert!(
            !plain.contains('\u{FFFD}') && html.contains("<table"),
            "{plain}"
        );
        subjects.push(subject);
    }
    subjects.sort();
    assert_eq!(
        subjects,
        [
            "[Sở Nội vụ] Báo cáo đào tạo, bồi dưỡng — năm 2025",
            "[Sở Nội vụ] Báo cáo đào tạo, bồi dưỡng — năm 2025",
            "[Sở Nội vụ] Training and fostering report — year 2025",
        ]
    );
    let province_digest = emails
        .iter()
        .map(|e| parse_eml(e))
        .find(|(s, p, _)| s.contains("năm 2025") && p.contains("Toàn tỉnh"))
        .expect("the province digest");
    assert!(
        province_digest.1.contains("Xã Nà Tấu"),
        "XNT has not submitted for 2025: {}",
        province_digest.1
    );

    // Second run: the inbox is empty, nothing is added, nothing is sent again.
    let out = project.run_ok(&["run", "nightly"]);
    assert!(out.contains("messages queued 0, delivered 0"), "{out}");
    assert_eq!(digests(&project).len(), 3);
    assert_eq!(
        project.files_under(&project.outbox(), "eml").len(),
        3 + written.len()
    );
    let staff_again = duckdb(&format!(
        "SELECT count(*) FROM read_parquet('{}/staff/**/*.parquet', hive_partitioning = true)",
        warehouse.display()
    ));
    assert_eq!(staff_again, staff_total);

    // The same workbooks dropped again are recognised by their bytes.
    fixtures::write_province(&project.inbox()).expect("fixtures again");
    let out = project.run_ok(&["run", "nightly"]);
    assert!(out.contains("files accepted 0"), "{out}");
    assert!(out.contains("messages queued 0"), "{out}");
    let status = project.run_ok(&["status"]);
    assert!(
        status.contains("succeeded")
            && status.contains(&format!("Outbox: {} sent, 0 waiting", 3 + written.len())),
        "{status}"
    );
}

#[test]
fn a_broken_indicator_file_is_reported_and_the_others_are_written() {
    let (project, _) = province();
    let dir = project.root().join("config/indicators");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("broken.sql"),
        "SELECT period, scope FROM no_such_table",
    )
    .expect("write");
    std::fs::write(
        dir.join("analyst_certified.sql"),
        "SELECT period, scope, 'analyst.training.certified' AS indicator, CAST(SUM(CASE WHEN certified THEN 1 ELSE 0 END) AS DOUBLE) AS value, 'count' AS unit FROM training_scoped GROUP BY period, scope",
    )
    .expect("write");
    project.run_ok(&["ingest"]);
    let out = project.run(&["indicators"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("broken.sql") && stderr.contains("no_such_table"),
        "{stderr}"
    );
    let ids = duckdb(&format!(
        "SELECT DISTINCT indicator FROM read_parquet('{}/indicators/**/*.parquet', hive_partitioning = true) ORDER BY 1",
        project.warehouse().display()
    ));
    let ids: Vec<&str> = ids.lines().collect();
    for expected in [
        "staff.headcount",
        "training.participants",
        "analyst.training.certified",
    ] {
        assert!(ids.contains(&expected), "{expected} missing from {ids:?}");
    }
    let certified = duckdb(&format!(
        "SELECT i.value = (SELECT count(*) FROM read_parquet('{w}/training/**/*.parquet', hive_partitioning = true) WHERE certified AND period = 2025)
         FROM read_parquet('{w}/indicators/**/*.parquet', hive_partitioning = true) i
         WHERE i.indicator = 'analyst.training.certified' AND i.scope = 'province' AND i.period = 2025",
        w = project.warehouse().display()
    ));
    assert_eq!(certified, "True");
}
