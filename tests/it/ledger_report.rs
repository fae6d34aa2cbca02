//! A submission's report in the ledger that cannot be decoded is an error
//! naming the submission, never an empty report: the department must not be
//! told "Đã tiếp nhận" (accepted, nothing rejected) about a file whose
//! report is lost. The other departments are still answered.

use crate::support::{Project, read_eml};
use nhanluc_fixtures as fixtures;

const BROKEN_FILE: &str = "SYT/danh-sach-can-bo_2025.xlsx";

/// Feedback messages in the outbox to SYT about `file_name`.
fn feedback_to_syt_about(project: &Project, file_name: &str) -> usize {
    let scratch = tempfile::tempdir().expect("tmp");
    project
        .files_under(&project.outbox(), "eml")
        .iter()
        // Named "<id>-feedback-<recipient>.eml": only SYT's are decoded.
        .filter(|p| p.to_string_lossy().contains("-feedback-tccb.syt_at_"))
        .map(|p| read_eml(p, scratch.path()))
        .filter(|m| m.subject.contains(file_name))
        .count()
}

fn feedback_messages(project: &Project) -> usize {
    project
        .files_under(&project.outbox(), "eml")
        .iter()
        .filter(|p| p.to_string_lossy().contains("-feedback-"))
        .count()
}

#[test]
fn an_undecodable_report_fails_the_feedback_naming_the_submission() {
    let project = Project::new();
    let written = fixtures::write_province(&project.inbox()).expect("fixtures");
    project.run_ok(&["ingest"]);

    // Cut the report short in the real state database, as a bad disk or a
    // hand edit would leave it.
    let db = rusqlite::Connection::open(project.data().join("state.sqlite3")).expect("state");
    let (submission_id, report): (String, String) = db
        .query_row(
            "SELECT submission_id, report FROM submissions WHERE source_file = ?1",
            [BROKEN_FILE],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the submission");
    assert!(report.len() > 20 && report.contains("rejects"), "{report}");
    let changed = db
        .execute(
            "UPDATE submissions SET report = substr(report, 1, 20) WHERE source_file = ?1",
            [BROKEN_FILE],
        )
        .expect("corrupt the report");
    assert_eq!(changed, 1);
    drop(db);

    let out = project.run(&["run", "nightly"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&submission_id)
            && stderr.contains(BROKEN_FILE)
            && stderr.contains("cannot be decoded"),
        "{stderr}"
    );
    // Every other file is answered; the broken one is not, not even as "accepted".
    assert_eq!(feedback_messages(&project), written.len() - 1);
    assert_eq!(
        feedback_to_syt_about(&project, "danh-sach-can-bo_2025.xlsx"),
        0
    );
    assert_eq!(
        feedback_to_syt_about(&project, "danh-sach-can-bo_2024.xlsx"),
        1
    );

    // It stays held back (and the run failing) until the report is repaired.
    let out = project.run(&["run", "nightly"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(feedback_messages(&project), written.len() - 1);

    let db = rusqlite::Connection::open(project.data().join("state.sqlite3")).expect("state");
    db.execute(
        "UPDATE submissions SET report = ?1 WHERE source_file = ?2",
        [report.as_str(), BROKEN_FILE],
    )
    .expect("repair the report");
    drop(db);
    project.run_ok(&["run", "nightly"]);
    assert_eq!(
        feedback_to_syt_about(&project, "danh-sach-can-bo_2025.xlsx"),
        1
    );
    assert_eq!(feedback_messages(&project), written.len());
}

/// The ledger stores each report with its format version: every report this
/// build writes is the current format, and one marked as written by a later
/// build is held back by name ("written by a newer nhanluc"), not misread.
#[test]
fn a_report_of_a_newer_format_is_held_back_naming_the_submission() {
    let project = Project::new();
    let written = fixtures::write_province(&project.inbox()).expect("fixtures");
    project.run_ok(&["ingest"]);

    let db = rusqlite::Connection::open(project.data().join("state.sqlite3")).expect("state");
    let versions: Vec<u32> = db
        .prepare("SELECT DISTINCT report_version FROM submissions")
        .expect("query")
        .query_map([], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("versions");
    assert_eq!(
        versions,
        [nhanluc::model::report::LEDGER_REPORT_VERSION],
        "every stored report is in this build's format"
    );
    let submission_id: String = db
        .query_row(
            "SELECT submission_id FROM submissions WHERE source_file = ?1",
            [BROKEN_FILE],
            |r| r.get(0),
        )
        .expect("the submission");
    db.execute(
        "UPDATE submissions SET report_version = report_version + 1 WHERE source_file = ?1",
        [BROKEN_FILE],
    )
    .expect("mark the report newer");
    drop(db);

    let out = project.run(&["run", "nightly"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&submission_id) && stderr.contains("written by a newer nhanluc"),
        "{stderr}"
    );
    assert_eq!(feedback_messages(&project), written.len() - 1);
}
