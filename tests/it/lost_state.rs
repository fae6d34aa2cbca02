//! A lost or damaged state never loses data: a missing or empty state beside
//! data is refused without deleting anything, `rebuild` gives back the same
//! ledger and warehouse from the archive, and a part file deleted or damaged
//! by hand is rebuilt from its archived workbook (or the run fails before any
//! digest is built).

use crate::support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::support::{Project, duckdb};
use nhanluc_fixtures as fixtures;

/// The fixture province after two nightly runs: the second brings a
/// resubmission of SNV's 2025 staff list (one person fewer) that supersedes
/// the first, and a file that is not a workbook (quarantined).
fn province_with_resubmission() -> Project {
    let project = Project::new();
    fixtures::write_province(&project.inbox()).expect("fixtures");
    project.run_ok(&["run", "nightly"]);
    let mut resubmission = fixtures::province_submissions()
        .into_iter()
        .find(|s| s.department.code == "SNV" && s.year == 2025 && s.template() == "staff")
        .expect("SNV staff 2025");
    if let fixtures::Content::Staff(rows) = &mut resubmission.content {
        rows.pop();
    }
    let dir = project.inbox().join("SNV");
    resubmission
        .workbook()
        .expect("workbook")
        .save(dir.join("danh-sach-can-bo_2025_sua.xlsx"))
        .expect("save");
    std::fs::write(dir.join("ghi-chu.txt"), "không phải bảng tính").expect("txt");
    let out = project.run_ok(&["run", "nightly"]);
    assert!(
        out.contains("files accepted 1") && out.contains("quarantined 1"),
        "{out}"
    );
    project
}

fn state_path(project: &Project) -> PathBuf {
    project.data().join("state.sqlite3")
}

fn remove_state(project: &Project) {
    for suffix in ["", "-wal", "-shm"] {
        let path = PathBuf::from(format!("{}{suffix}", state_path(project).display()));
        if path.exists() {
            std::fs::remove_file(path).expect("remove state");
        }
    }
}

/// Every file under `dir` (dot-files too), relative path → size.
fn listing(dir: &Path) -> BTreeMap<String, u64> {
    let mut files = BTreeMap::new();
    support::walk(dir, &mut |p| {
        let size = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        files.insert(
            p.strip_prefix(dir)
                .expect("under dir")
                .to_string_lossy()
                .into_owned(),
            size,
        );
    });
    files
}

/// Row count and hash of a table's rows, sorted, partition columns included.
fn table_hash(warehouse: &Path, table: &str) -> String {
    duckdb(&format!(
        "SELECT count(*) || ':' || coalesce(md5(string_agg(CAST(t AS VARCHAR), '|' ORDER BY CAST(t AS VARCHAR))), '')
         FROM read_parquet('{}/{table}/**/*.parquet', hive_partitioning = true, union_by_name = true) t",
        warehouse.display()
    ))
}

const TABLES: &[&str] = &[
    "staff",
    "training",
    "plan",
    "rejects",
    "submissions",
    "indicators",
];

fn tables(project: &Project) -> BTreeMap<&'static str, String> {
    TABLES
        .iter()
        .map(|t| (*t, table_hash(&project.warehouse(), t)))
        .collect()
}

/// The ledger as rows of text: submissions (without the row id and the
/// bookkeeping of feedback and publishing), loads, and counts per status. A
/// quarantine's receipt time is kept to the second (its sidecar's stamp).
fn ledger(project: &Project) -> String {
    let script = r#"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
out = []
for row in db.execute("""SELECT submission_id, sha256, department, period, source_file, stored_as, status,
        CASE WHEN status = 'quarantined' THEN substr(received_at, 1, 19) ELSE received_at END,
        rows_loaded, rows_rejected, rows_skipped, reason, reason_vi,
        CASE WHEN status = 'quarantined' THEN '' ELSE report END
        FROM submissions ORDER BY status, received_at, source_file"""):
    out.append("S " + repr(row))
for row in db.execute("SELECT submission_id, template, department, period, rows, active, superseded_by FROM loads ORDER BY 1, 2"):
    out.append("L " + repr(row))
for row in db.execute("SELECT status, count(*) FROM submissions GROUP BY status ORDER BY status"):
    out.append("C " + repr(row))
print("\n".join(out))
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(state_path(project))
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn digests(project: &Project) -> usize {
    project
        .files_under(&project.outbox(), "eml")
        .iter()
        .filter(|p| p.to_string_lossy().contains("-digest-"))
        .count()
}

/// The province's headcount as the indicators file says it.
fn headcount(project: &Project) -> String {
    duckdb(&format!(
        "SELECT value FROM read_parquet('{}/indicators/period=2025/*.parquet') WHERE scope = 'province' AND indicator = 'staff.headcount'",
        project.warehouse().display()
    ))
}

fn a_staff_part(project: &Project) -> PathBuf {
    project
        .files_under(&project.warehouse().join("staff/period=2025"), "parquet")
        .into_iter()
        .find(|p| p.to_string_lossy().contains("department=SYT"))
        .expect("a staff part of SYT for 2025")
}

#[test]
fn a_lost_state_is_refused_then_rebuild_gives_back_the_same_ledger_and_warehouse() {
    let project = province_with_resubmission();
    let ledger_before = ledger(&project);
    assert!(ledger_before.contains("'superseded'"), "{ledger_before}");
    let tables_before = tables(&project);
    let warehouse_before = listing(&project.warehouse());
    let archive_before = listing(&project.data().join("archive"));
    assert!(
        archive_before.keys().any(|k| k.ends_with(".SNV.json")),
        "manifests beside the archived workbooks: {archive_before:?}"
    );

    remove_state(&project);
    for args in [
        &["run", "nightly"][..],
        &["ingest"],
        &["indicators"],
        &["digest"],
        &["status"],
    ] {
        let out = project.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("state.sqlite3")
                && err.contains("nhanluc rebuild")
                && err.contains("data part file(s)")
                && err.contains("Nothing was changed or deleted"),
            "{args:?}: {err}"
        );
        assert!(!state_path(&project).exists(), "{args:?} created a state");
    }
    assert_eq!(listing(&project.warehouse()), warehouse_before);
    assert_eq!(listing(&project.data().join("archive")), archive_before);

    // An empty state put in its place (another ledger) is refused the same way.
    std::process::Command::new("python3")
        .arg("-c")
        .arg("import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute('CREATE TABLE t (x)')")
        .arg(state_path(&project))
        .status()
        .expect("python3");
    let out = project.run(&["run", "nightly"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is not the ledger the data was written with"),
        "{}",
        stderr(&out)
    );
    assert_eq!(listing(&project.warehouse()), warehouse_before);
    remove_state(&project);

    let out = project.run_ok(&["rebuild"]);
    assert!(out.contains("old warehouse kept as"), "{out}");
    assert_eq!(ledger(&project), ledger_before);
    assert_eq!(tables(&project), tables_before);
    // The old warehouse is kept aside, whole.
    let aside = std::fs::read_dir(project.data())
        .expect("data")
        .flatten()
        .find(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("warehouse.before-rebuild-")
        })
        .expect("old warehouse kept");
    assert_eq!(listing(&aside.path()), warehouse_before);

    // A rebuilt state is trusted; a second rebuild needs --force.
    let status = project.run_ok(&["status", "--json"]);
    assert!(status.contains("\"accepted\""), "{status}");
    let out = project.run(&["rebuild"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    let out = project.run_ok(&["run", "nightly"]);
    assert!(out.contains("files accepted 0"), "{out}");
    assert_eq!(tables(&project), tables_before);
}

#[test]
fn a_part_deleted_or_damaged_by_hand_is_rebuilt_before_the_indicators() {
    let project = Project::new();
    fixtures::write_province(&project.inbox()).expect("fixtures");
    project.run_ok(&["run", "nightly"]);
    let headcount_before = headcount(&project);
    assert!(!headcount_before.is_empty(), "no headcount indicator");
    let tables_before = tables(&project);
    let part = a_staff_part(&project);
    let bytes = std::fs::read(&part).expect("part");

    // Deleted.
    std::fs::remove_file(&part).expect("delete part");
    project.run_ok(&["run", "nightly"]);
    assert_eq!(std::fs::read(&part).expect("rebuilt part"), bytes);
    assert_eq!(headcount(&project), headcount_before);

    // Truncated.
    std::fs::write(&part, &bytes[..bytes.len() / 2]).expect("truncate");
    project.run_ok(&["indicators"]);
    assert_eq!(std::fs::read(&part).expect("rebuilt part"), bytes);

    // Same size, one byte changed: only the hash tells.
    let mut flipped = bytes.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x55;
    std::fs::write(&part, &flipped).expect("flip");
    project.run_ok(&["run", "nightly"]);
    assert_eq!(std::fs::read(&part).expect("rebuilt part"), bytes);
    assert_eq!(tables(&project), tables_before);
}

#[test]
fn a_part_that_cannot_be_rebuilt_fails_the_run_before_the_digest() {
    let project = Project::new();
    fixtures::write_province(&project.inbox()).expect("fixtures");
    project.run_ok(&["run", "nightly"]);
    let digests_before = digests(&project);
    assert!(digests_before > 0);
    let part = a_staff_part(&project);
    let submission = part
        .file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.strip_prefix("part-"))
        .expect("part name")
        .to_string();
    std::fs::remove_file(&part).expect("delete part");
    // Its archived workbook is gone too (its manifest says which it is:
    // submission ids derive from the department and the sha256).
    let archive = project.data().join("archive");
    let mut removed = 0;
    for workbook in project.files_under(&archive, "json") {
        let text = std::fs::read(&workbook).expect("manifest");
        let manifest: serde_json::Value = serde_json::from_slice(&text).expect("json");
        if manifest["submission_id"] == submission.as_str() {
            let stored_as = manifest["stored_as"].as_str().expect("stored_as");
            std::fs::remove_file(archive.join(stored_as)).expect("remove archived");
            removed += 1;
        }
    }
    assert_eq!(removed, 1, "the archived workbook of {submission}");
    let out = project.run(&["run", "nightly"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&part.display().to_string())
            && err.contains(&submission)
            && err.contains("missing"),
        "{err}"
    );
    let out = project.run(&["digest"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(digests(&project), digests_before);
}

#[test]
fn the_first_run_and_a_fresh_start_still_work() {
    let project = Project::new();
    // Nothing anywhere: the first run.
    let out = project.run_ok(&["run", "nightly"]);
    assert!(out.contains("files accepted 0"), "{out}");
    support::write_xlsx(
        &project.inbox().join("SNV/danh-sach_2025.xlsx"),
        "DS",
        &support::staff_rows("Năm 2025", &[("Nguyễn Văn A", "001", "Đại học")]),
    );
    // (A nightly run would fail its digest: one file is not a province.)
    let out = project.run_ok(&["ingest"]);
    assert!(out.contains("1 accepted"), "{out}");
    // Everything gone: a fresh start, not a lost state.
    std::fs::remove_dir_all(project.data()).expect("rm -rf data");
    let out = project.run_ok(&["run", "nightly"]);
    assert!(out.contains("files accepted 0"), "{out}");
    project.run_ok(&["status"]);
}

fn manifests(project: &Project) -> BTreeMap<String, serde_json::Value> {
    project
        .files_under(&project.data().join("archive"), "json")
        .into_iter()
        .map(|p| {
            let text = std::fs::read(&p).expect("manifest");
            let mut value: serde_json::Value = serde_json::from_slice(&text).expect("json");
            // The order key of a backfilled manifest is the ledger's, not the run's.
            value.as_object_mut().expect("object").remove("sequence");
            (
                p.file_name().expect("name").to_string_lossy().into_owned(),
                value,
            )
        })
        .collect()
}

#[test]
fn manifests_are_backfilled_and_a_workbook_without_one_is_listed_by_rebuild() {
    let project = Project::new();
    for department in ["SNV", "SYT"] {
        support::write_xlsx(
            &project
                .inbox()
                .join(format!("{department}/2025/danh-sach.xlsx")),
            "DS",
            &support::staff_rows(
                "Năm 2025",
                &[
                    ("Nguyễn Văn A", &format!("{department}01"), "Đại học"),
                    ("Trần Thị B", &format!("{department}02"), "Thạc sĩ"),
                ],
            ),
        );
    }
    let out = project.run_ok(&["ingest"]);
    assert!(out.contains("2 accepted"), "{out}");
    let written = manifests(&project);
    assert_eq!(written.len(), 2, "{written:?}");
    let snv = written
        .values()
        .find(|m| m["department"] == "SNV")
        .expect("SNV manifest");
    assert_eq!(snv["source_file"], "SNV/2025/danh-sach.xlsx");

    // An older install: no manifests. The next run writes them from the ledger.
    for path in project.files_under(&project.data().join("archive"), "json") {
        std::fs::remove_file(path).expect("remove manifest");
    }
    project.run_ok(&["ingest"]);
    assert_eq!(manifests(&project), written);

    // An older copy of the state put back (a backup from before a third
    // file came): the parts of that file are not deleted as leftovers.
    let backup = project.data().join("backup.sqlite3");
    sqlite_backup(&state_path(&project), &backup);
    support::write_xlsx(
        &project.inbox().join("SGDDT/2025/danh-sach.xlsx"),
        "DS",
        &support::staff_rows("Năm 2025", &[("Lê Văn C", "SGDDT01", "Đại học")]),
    );
    let out = project.run_ok(&["ingest"]);
    assert!(out.contains("1 accepted"), "{out}");
    let warehouse_with_three = listing(&project.warehouse());
    remove_state(&project);
    std::fs::rename(&backup, state_path(&project)).expect("restore backup");
    let out = project.run(&["run", "nightly"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("older than the data")
            && stderr(&out).contains("SGDDT/2025/danh-sach.xlsx"),
        "{}",
        stderr(&out)
    );
    assert_eq!(listing(&project.warehouse()), warehouse_with_three);
    let out = project.run_ok(&["rebuild", "--force"]);
    assert!(out.contains("ledger: 3 accepted"), "{out}");

    // A state with submissions is not rebuilt without --force; with it, the
    // old state is moved aside, not deleted.
    let out = project.run(&["rebuild"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    let out = project.run_ok(&["rebuild", "--force"]);
    assert!(out.contains("old state kept as"), "{out}");
    assert!(
        std::fs::read_dir(project.data())
            .expect("data")
            .flatten()
            .any(|e| e
                .file_name()
                .to_string_lossy()
                .starts_with("state.sqlite3.before-rebuild-")),
        "old state kept"
    );
    assert!(out.contains("ledger: 3 accepted"), "{out}");

    // A rebuild killed half-way leaves a partial ledger: nothing trusts it
    // until a rebuild finishes.
    let flag = project.data().join("state.sqlite3.rebuilding");
    std::fs::write(&flag, "started").expect("flag");
    let out = project.run(&["ingest"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("did not finish"), "{}", stderr(&out));
    project.run_ok(&["rebuild", "--force"]);
    assert!(!flag.exists());
    project.run_ok(&["ingest"]);

    // A workbook whose manifest is lost with the ledger is listed, not dropped.
    let syt = project
        .files_under(&project.data().join("archive"), "json")
        .into_iter()
        .find(|p| p.to_string_lossy().ends_with(".SYT.json"))
        .expect("SYT manifest");
    std::fs::remove_file(&syt).expect("remove manifest");
    remove_state(&project);
    let out = project.run(&["rebuild"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let workbook = syt
        .to_string_lossy()
        .trim_end_matches(".SYT.json")
        .to_string();
    assert!(
        stderr(&out).contains(&workbook) && stderr(&out).contains("has no manifest"),
        "{}",
        stderr(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("ledger: 2 accepted"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(std::path::Path::new(&workbook).is_file(), "still archived");
}

/// A consistent copy of a SQLite database (its WAL included).
fn sqlite_backup(from: &Path, to: &Path) {
    let status = std::process::Command::new("python3")
        .arg("-c")
        .arg("import sqlite3, sys; s = sqlite3.connect(sys.argv[1]); d = sqlite3.connect(sys.argv[2]); s.backup(d); d.close()")
        .arg(from)
        .arg(to)
        .status()
        .expect("python3");
    assert!(status.success());
}
