//! Arrival through the real binary: files still being written are left to
//! finish, files that change after they were read are not moved, the same
//! bytes from two departments are two submissions, links, pipes and too-deep
//! files are refused with a reason, names are bounded and safe for logs, a
//! crash inside a quarantine is repaired, and every numeric config key is
//! range-checked.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

use crate::support::{Project, staff_rows, write_xlsx};

/// Runs the binary with `env`, killing it (and failing) if it takes longer
/// than a generous deadline: a hang is a failure.
fn run_with(project: &Project, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_nhanluc"));
    command
        .arg("--config")
        .arg(project.config_file())
        .args(args)
        .env_remove("NHANLUC_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("spawn nhanluc");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "nhanluc {args:?} did not finish within the deadline\nstderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn run(project: &Project, args: &[&str]) -> Output {
    run_with(project, args, &[])
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(project: &Project, args: &[&str]) -> String {
    let out = run(project, args);
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The stdout table's line for a file whose name contains `name`.
fn line_of<'a>(stdout: &'a str, name: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.contains(name))
        .unwrap_or_else(|| panic!("no line for {name} in\n{stdout}"))
}

fn set_config(project: &Project, from: &str, to: &str) {
    let file = project.config_file();
    let config = std::fs::read_to_string(&file).expect("config");
    assert!(config.contains(from), "{config}");
    std::fs::write(&file, config.replacen(from, to, 1)).expect("config");
}

fn set_old_mtime(path: &Path) {
    let file = std::fs::File::options()
        .write(true)
        .open(path)
        .expect("open");
    file.set_modified(SystemTime::now() - Duration::from_secs(3600))
        .expect("mtime");
}

fn db(project: &Project) -> rusqlite::Connection {
    rusqlite::Connection::open(project.data().join("state.sqlite3")).expect("state")
}

/// (department, status, submission_id, source_file) of every ledger entry.
fn ledger(project: &Project) -> Vec<(String, String, String, String)> {
    let db = db(project);
    let mut stmt = db
        .prepare(
            "SELECT COALESCE(department, ''), status, COALESCE(submission_id, ''), source_file FROM submissions ORDER BY id",
        )
        .expect("query");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("rows")
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    support::walk(dir, &mut |p| out.push(p.to_path_buf()));
    out.sort();
    out
}

/// A valid one-sheet staff workbook's bytes.
fn workbook_bytes(dir: &Path, people: &[(&str, &str, &str)]) -> Vec<u8> {
    let path = dir.join("scratch.xlsx");
    write_xlsx(&path, "DS", &staff_rows("NĂM 2025", people));
    let bytes = std::fs::read(&path).expect("read");
    std::fs::remove_file(&path).expect("remove");
    bytes
}

#[test]
fn a_truncated_workbook_waits_and_is_quarantined_only_once_it_stayed_the_same() {
    let project = Project::new();
    let scratch = tempfile::tempdir().expect("tmp");
    let whole = workbook_bytes(scratch.path(), &[("Nguyễn Văn An", "001", "Đại học")]);
    let other = workbook_bytes(scratch.path(), &[("Trần Thị Bình", "002", "Thạc sĩ")]);
    // Two copies cut half-way, with an old modification time (cp -p, rsync):
    // the settle look alone would take them.
    let paused = project.inbox().join("SNV/paused_2025.xlsx");
    let stalled = project.inbox().join("SYT/stalled_2025.xlsx");
    // A complete file of garbage beside them is refused at once.
    let garbage = project.inbox().join("SYT/garbage_2025.xlsx");
    std::fs::create_dir_all(paused.parent().unwrap()).unwrap();
    std::fs::create_dir_all(stalled.parent().unwrap()).unwrap();
    std::fs::write(&paused, &whole[..whole.len() / 2]).unwrap();
    std::fs::write(&stalled, &other[..other.len() / 2]).unwrap();
    // (It starts as a zip does and ends with a whole end record.)
    let mut junk = b"PK\x03\x04 this is no zip, but it ends as one: ".to_vec();
    junk.extend_from_slice(b"PK\x05\x06");
    junk.extend_from_slice(&[0; 18]);
    std::fs::write(&garbage, &junk).unwrap();
    for file in [&paused, &stalled, &garbage] {
        set_old_mtime(file);
    }

    let out = ok(&project, &["ingest"]);
    for name in ["paused_2025", "stalled_2025"] {
        let line = line_of(&out, name);
        assert!(
            line.contains("waiting") && line.contains("looks incomplete"),
            "{line}"
        );
    }
    assert!(
        line_of(&out, "garbage_2025").contains("quarantined"),
        "{out}"
    );
    assert!(paused.exists() && stalled.exists());
    assert_eq!(ledger(&project).len(), 1, "only the garbage is recorded");

    // The writer finishes one; the other stays as it was. With the default
    // delay (15 minutes) a second run soon after still waits for it.
    std::fs::write(&paused, &whole).unwrap();
    set_old_mtime(&paused);
    let out = ok(&project, &["ingest"]);
    assert!(line_of(&out, "paused_2025").contains("accepted"), "{out}");
    assert!(line_of(&out, "stalled_2025").contains("waiting"), "{out}");
    assert!(stalled.exists());

    // Once the delay has passed (here set to none) and a later run sees it
    // unchanged, it is quarantined as incomplete, with a reason to act on.
    set_config(
        &project,
        "settle_seconds = 0",
        "settle_seconds = 0\nincomplete_after_minutes = 0",
    );
    let out = ok(&project, &["ingest"]);
    let line = line_of(&out, "stalled_2025");
    assert!(
        line.contains("quarantined") && line.contains("incomplete"),
        "{line}"
    );
    assert!(!stalled.exists());
    let entries = ledger(&project);
    assert_eq!(
        entries
            .iter()
            .map(|(d, s, _, f)| format!("{d} {s} {f}"))
            .collect::<Vec<_>>(),
        [
            "SYT quarantined SYT/garbage_2025.xlsx",
            "SNV accepted SNV/paused_2025.xlsx",
            "SYT quarantined SYT/stalled_2025.xlsx",
        ]
    );
    let sightings: i64 = db(&project)
        .query_row("SELECT count(*) FROM arrival_sightings", [], |r| r.get(0))
        .unwrap();
    assert_eq!(sightings, 0, "nothing waits any more");
}

#[test]
fn a_truncated_file_that_changes_between_runs_keeps_waiting() {
    let project = Project::new();
    set_config(
        &project,
        "settle_seconds = 0",
        "settle_seconds = 0\nincomplete_after_minutes = 0",
    );
    let scratch = tempfile::tempdir().expect("tmp");
    let whole = workbook_bytes(scratch.path(), &[("Nguyễn Văn An", "001", "Đại học")]);
    let file = project.inbox().join("SNV/slow_2025.xlsx");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    for cut in [3, 2] {
        // Grows between the runs: each run sees it anew.
        std::fs::write(&file, &whole[..whole.len() * (cut - 1) / cut]).unwrap();
        set_old_mtime(&file);
        let out = ok(&project, &["ingest"]);
        assert!(line_of(&out, "slow_2025").contains("waiting"), "{out}");
    }
    std::fs::write(&file, &whole).unwrap();
    let out = ok(&project, &["ingest"]);
    assert!(line_of(&out, "slow_2025").contains("accepted"), "{out}");
}

#[test]
fn a_file_changed_after_it_was_read_is_neither_quarantined_nor_archived() {
    let project = Project::new();
    let garbage = project.inbox().join("SNV/broken_2025.xlsx");
    std::fs::create_dir_all(garbage.parent().unwrap()).unwrap();
    std::fs::write(&garbage, b"<html>an error page saved as a workbook</html>").unwrap();
    let out = run_with(
        &project,
        &["ingest"],
        &[("NHANLUC_TEST_CHANGE_AT", "before-quarantine-move")],
    );
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        line_of(&stdout, "broken_2025").contains("changed after it was read"),
        "{stdout}"
    );
    assert!(garbage.exists(), "the newer version stays in the inbox");
    assert!(
        ledger(&project).is_empty(),
        "the old bytes are not recorded"
    );
    assert!(all_files(&project.data().join("quarantine")).is_empty());
    // The next run reads the newer version and refuses that.
    let out = ok(&project, &["ingest"]);
    assert!(
        line_of(&out, "broken_2025").contains("quarantined"),
        "{out}"
    );
    assert_eq!(ledger(&project).len(), 1);

    // An accepted file that changes before its move: the bytes read are
    // archived, the newer version stays and is taken by the next run.
    let file = project.inbox().join("SNV/ds_2025.xlsx");
    write_xlsx(
        &file,
        "DS",
        &staff_rows("NĂM 2025", &[("Nguyễn Văn An", "001", "Đại học")]),
    );
    let out = run_with(
        &project,
        &["ingest"],
        &[("NHANLUC_TEST_CHANGE_AT", "before-archive")],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(file.exists(), "the changed file is not moved");
    let archived = project.files_under(&project.data().join("archive"), "xlsx");
    assert_eq!(archived.len(), 1);
    let newer = std::fs::read(&file).unwrap();
    assert_ne!(std::fs::read(&archived[0]).unwrap(), newer);
    let out = ok(&project, &["ingest"]);
    assert!(line_of(&out, "ds_2025").contains("accepted"), "{out}");
    assert!(!file.exists());
}

#[test]
fn the_same_bytes_from_two_departments_are_two_submissions() {
    let project = Project::new();
    let scratch = tempfile::tempdir().expect("tmp");
    let bytes = workbook_bytes(
        scratch.path(),
        &[
            ("Nguyễn Văn An", "001", "Đại học"),
            ("Trần Thị Bình", "002", "Thạc sĩ"),
        ],
    );
    for department in ["SNV", "SYT"] {
        let file = project.inbox().join(format!("{department}/ds_2025.xlsx"));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, &bytes).unwrap();
    }
    ok(&project, &["run", feedback_job(&project)]);
    let entries = ledger(&project);
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert!(
        entries.iter().all(|(_, s, _, _)| s == "accepted"),
        "{entries:?}"
    );
    let departments: Vec<&str> = entries.iter().map(|(d, ..)| d.as_str()).collect();
    assert_eq!(departments, ["SNV", "SYT"]);
    assert_ne!(entries[0].2, entries[1].2, "two submission ids");
    // One archived copy of the bytes.
    assert_eq!(
        project
            .files_under(&project.data().join("archive"), "xlsx")
            .len(),
        1
    );
    let rows = support::duckdb(&format!(
        "SELECT department, count(*) FROM read_parquet('{}/staff/**/*.parquet', hive_partitioning = true) GROUP BY department ORDER BY department",
        project.warehouse().display()
    ));
    assert_eq!(rows, "SNV|2\nSYT|2");
    // Each department is told about its own file.
    let mut told = Vec::new();
    for eml in project.files_under(&project.outbox(), "eml") {
        let mail = std::fs::read_to_string(&eml).unwrap_or_default();
        for contact in ["van-thu.snv@example.gov.vn", "tccb.syt@example.gov.vn"] {
            if mail.contains(contact) {
                told.push(contact);
            }
        }
    }
    told.sort();
    assert_eq!(
        told,
        ["tccb.syt@example.gov.vn", "van-thu.snv@example.gov.vn"]
    );
    // The same bytes again from one of them is a no-op.
    let again = project.inbox().join("SYT/ds_2025.xlsx");
    std::fs::write(&again, &bytes).unwrap();
    let out = ok(&project, &["ingest"]);
    assert!(line_of(&out, "ds_2025").contains("duplicate"), "{out}");
    assert_eq!(ledger(&project).len(), 2);
}

#[test]
fn links_pipes_and_too_deep_files_are_refused_with_the_reason() {
    let project = Project::new();
    let outside = tempfile::tempdir().expect("tmp");
    let target = outside.path().join("real_2025.xlsx");
    write_xlsx(
        &target,
        "DS",
        &staff_rows("NĂM 2025", &[("Nguyễn Văn An", "001", "Đại học")]),
    );
    let snv = project.inbox().join("SNV");
    std::fs::create_dir_all(&snv).unwrap();
    std::os::unix::fs::symlink(&target, snv.join("link_2025.xlsx")).unwrap();
    std::os::unix::fs::symlink(outside.path(), snv.join("folder-link")).unwrap();
    let fifo = snv.join("pipe_2025.xlsx");
    mkfifo(&fifo);
    let deep = snv.join("a/b/c/d/deep_2025.xlsx");
    write_xlsx(
        &deep,
        "DS",
        &staff_rows("NĂM 2025", &[("Lê Văn Cường", "003", "Đại học")]),
    );
    // Four folders below the inbox is still fine.
    let deepest_ok = snv.join("a/b/c/ok_2025.xlsx");
    write_xlsx(
        &deepest_ok,
        "DS",
        &staff_rows("NĂM 2025", &[("Phạm Thị Dung", "004", "Đại học")]),
    );

    let out = ok(&project, &["ingest"]);
    for (name, reason) in [
        ("link_2025", "a link, not a file"),
        ("folder-link", "a link, not a file"),
        ("pipe_2025", "a FIFO"),
        (
            "deep_2025",
            "Too deep: at most 3 folders below the department folder",
        ),
    ] {
        let line = line_of(&out, name);
        assert!(
            line.contains("quarantined") && line.contains(reason),
            "{name}: {line}"
        );
    }
    assert!(line_of(&out, "ok_2025").contains("accepted"), "{out}");
    assert!(target.exists(), "a link's target is never touched");
    assert!(outside.path().join("real_2025.xlsx").is_file());
    let sidecars: Vec<String> = all_files(&project.data().join("quarantine"))
        .iter()
        .filter(|p| p.to_string_lossy().ends_with(".reason.txt"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert_eq!(sidecars.len(), 4, "{sidecars:?}");
    assert!(
        sidecars
            .iter()
            .any(|s| s.contains("put the file itself in the folder"))
    );
    let quarantined = ledger(&project)
        .iter()
        .filter(|(d, s, ..)| d == "SNV" && s == "quarantined")
        .count();
    assert_eq!(quarantined, 4);
    assert!(std::fs::read_dir(&snv).map(|d| d.count()).unwrap_or(0) <= 1);

    // A pipe named on the command line is refused at once, not read.
    let named = outside.path().join("SNV/pipe_2025.xlsx");
    std::fs::create_dir_all(named.parent().unwrap()).unwrap();
    mkfifo(&named);
    let started = Instant::now();
    let out = run(&project, &["ingest", named.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(started.elapsed() < Duration::from_secs(60));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(line_of(&stdout, "pipe_2025").contains("a FIFO"), "{stdout}");

    // `inspect` of a pipe says it is not a file, at once (it would block
    // opening it for reading with nobody writing).
    let started = Instant::now();
    let out = run(&project, &["inspect", named.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(started.elapsed() < Duration::from_secs(60));
    assert!(text(&out).contains("not a regular file"), "{}", text(&out));
}

/// A job of the steps that concern arrival: ingest, then the departments'
/// feedback (the digest would want indicators a one-file test has not).
fn feedback_job(project: &Project) -> &'static str {
    std::fs::write(
        project.root().join("jobs/arrival.toml"),
        "schedule = \"0 0 2 * * *\"\nsteps = [\"ingest\", \"feedback\"]\n",
    )
    .expect("job");
    "arrival"
}

fn mkfifo(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let name = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates the node.
    let rc = unsafe { libc::mkfifo(name.as_ptr(), 0o644) };
    assert_eq!(rc, 0, "mkfifo {}", path.display());
}

#[test]
fn a_long_vietnamese_name_is_quarantined_within_255_bytes_per_name() {
    let project = Project::new();
    let name = format!("{}_2025.txt", "ệ".repeat(78));
    assert_eq!(name.len(), 243);
    let file = project.inbox().join("SNV").join(&name);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, b"not a spreadsheet").unwrap();
    let out = ok(&project, &["ingest"]);
    assert!(out.contains("quarantined"), "{out}");
    assert!(!file.exists());
    let stored = all_files(&project.data().join("quarantine"));
    assert_eq!(stored.len(), 2, "{stored:?}");
    for path in &stored {
        for component in path.iter() {
            assert!(
                component.len() <= 255,
                "{} bytes: {}",
                component.len(),
                path.display()
            );
        }
    }
    // The extension survives the cut, and the next run is fine too.
    assert!(stored.iter().any(|p| p.to_string_lossy().ends_with(".txt")));
    ok(&project, &["ingest"]);
}

#[test]
fn a_newline_in_a_file_name_is_escaped_in_logs_and_sidecars() {
    let project = Project::new();
    let file = project.inbox().join("SNV/bad\nforged line_2025.txt");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, b"not a spreadsheet").unwrap();
    let out = run(&project, &["ingest"]);
    assert!(out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stderr.contains("bad\\nforged line"), "{stderr}");
    for output in [&stderr, &stdout] {
        assert!(
            !output.lines().any(|l| l.starts_with("forged line")),
            "{output}"
        );
    }
    let sidecar = all_files(&project.data().join("quarantine"))
        .into_iter()
        .find(|p| p.to_string_lossy().ends_with(".reason.txt"))
        .expect("sidecar");
    let sidecar = std::fs::read_to_string(sidecar).unwrap();
    assert!(sidecar.contains("bad\\nforged line"), "{sidecar}");
    assert_eq!(sidecar.lines().count(), 4, "{sidecar}");
}

#[test]
fn a_crash_between_the_quarantine_record_and_the_move_is_finished_next_run() {
    let project = Project::new();
    let file = project.inbox().join("SNV/broken_2025.xlsx");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, b"not a workbook at all").unwrap();
    let out = run_with(
        &project,
        &["ingest"],
        &[("NHANLUC_TEST_CRASH_AT", "quarantine-recorded")],
    );
    assert!(!out.status.success(), "the hook aborts: {}", text(&out));
    // Recorded (the department will be told), not yet moved.
    assert_eq!(ledger(&project).len(), 1);
    assert!(file.exists());
    let stored_as: String = db(&project)
        .query_row("SELECT stored_as FROM submissions", [], |r| r.get(0))
        .unwrap();
    let target = project.data().join("quarantine").join(&stored_as);
    assert!(!target.exists());
    assert!(
        PathBuf::from(format!("{}.reason.txt", target.display())).is_file(),
        "the sidecar is written before the ledger entry"
    );

    let out = ok(&project, &["ingest"]);
    assert!(
        line_of(&out, "broken_2025").contains("quarantined"),
        "{out}"
    );
    assert!(!file.exists());
    assert!(project.data().join("quarantine").join(&stored_as).is_file());
    assert_eq!(ledger(&project).len(), 1, "recorded once");
    let owed: i64 = db(&project)
        .query_row(
            "SELECT count(*) FROM submissions WHERE feedback_queued = 0",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(owed, 1, "the department's feedback is still owed");
    // Sent by the feedback step, once.
    ok(&project, &["run", feedback_job(&project)]);
    let mails = project
        .files_under(&project.outbox(), "eml")
        .into_iter()
        .filter(|p| {
            std::fs::read_to_string(p)
                .unwrap_or_default()
                .contains("van-thu.snv@example.gov.vn")
        })
        .count();
    assert_eq!(mails, 1);
}

#[test]
fn every_numeric_config_key_is_range_checked() {
    let huge = "9223372036854775807";
    let cases: &[(&str, &str, &[&str])] = &[
        ("ingest", "settle_seconds", &["3601", huge]),
        ("ingest", "max_file_mib", &["0", "17592186044416", huge]),
        ("ingest", "incomplete_after_minutes", &["10081", huge]),
        ("reminders", "days_after_period_end", &["367", "4000000000"]),
        ("smtp", "port", &["0", "65536"]),
        ("smtp", "timeout_seconds", &["0", "3601", huge]),
        ("alerts", "timeout_seconds", &["0", huge]),
        ("delivery", "retry_first_seconds", &["0", huge]),
        ("delivery", "retry_max_seconds", &["0", huge]),
    ];
    let project = Project::new();
    let original = std::fs::read_to_string(project.config_file()).unwrap();
    let with = |section: &str, line: &str| -> String {
        let smtp = "host = \"127.0.0.1\"\nfrom = \"Sở Nội vụ <bao-cao@example.gov.vn>\"\n";
        let extra = if section == "smtp" { smtp } else { "" };
        if section == "ingest" && line.starts_with("settle_seconds") {
            original.replacen("settle_seconds = 0", line, 1)
        } else if section == "ingest" {
            original.replacen("[ingest]\n", &format!("[ingest]\n{line}\n"), 1)
        } else {
            format!("{original}\n[{section}]\n{extra}{line}\n")
        }
    };
    let mut failures = Vec::new();
    for (section, key, values) in cases {
        // A sane value loads.
        std::fs::write(
            project.config_file(),
            with(section, &format!("{key} = 300")),
        )
        .unwrap();
        let out = run(&project, &["status"]);
        if !out.status.success() {
            failures.push(format!("{section}.{key} = 300 refused: {}", text(&out)));
        }
        for value in *values {
            std::fs::write(
                project.config_file(),
                with(section, &format!("{key} = {value}")),
            )
            .unwrap();
            let out = run(&project, &["status"]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            if out.status.code() != Some(2)
                || !stderr.contains(key)
                || !stderr.contains("nhanluc.toml")
                || stderr.contains("panicked")
            {
                failures.push(format!("{section}.{key} = {value}: {}", text(&out)));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
