//! Error messages say each cause once: what failed, where (file, key), and
//! why, without the same cause repeated by every layer it passed through.
//! Each test breaks one thing, runs the real binary and reads what it prints.

use crate::support;

use std::path::Path;
use std::process::Output;

use crate::support::{Project, staff_rows, write_xlsx};

/// The error the binary printed: from its first `nhanluc: ` line to the end
/// of stderr (a TOML error spans several lines). Log lines come before it.
fn printed_error(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let start = stderr
        .lines()
        .position(|l| l.starts_with("nhanluc: "))
        .unwrap_or_else(|| panic!("no `nhanluc: ` line in stderr:\n{stderr}"));
    stderr.lines().skip(start).collect::<Vec<_>>().join("\n")
}

/// Runs `args`, expects the exit code, returns the printed error.
fn fails(project: &Project, args: &[&str], code: i32) -> String {
    let out = project.run(args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "nhanluc {args:?}\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    printed_error(&out)
}

/// No cause twice: split at ": ", no part (beyond a short word such as
/// "ingest") occurs twice, and none occurs inside the text more than once
/// (a path or message repeated inside a longer part).
fn assert_each_cause_once(message: &str) {
    let parts: Vec<&str> = message
        .split(": ")
        .map(str::trim)
        .filter(|p| p.chars().count() > 12)
        .collect();
    assert!(!parts.is_empty(), "nothing to check in {message:?}");
    for (i, part) in parts.iter().enumerate() {
        assert!(
            !parts[i + 1..].contains(part),
            "{part:?} is said twice in:\n{message}"
        );
        assert_eq!(
            message.matches(part).count(),
            1,
            "{part:?} appears more than once in:\n{message}"
        );
    }
}

fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("dir");
    }
    std::fs::write(path, text).expect("write");
}

/// Rewrites one `[paths]` entry of the project's config file.
fn set_path(project: &Project, key: &str, value: &str) {
    let file = project.config_file();
    let text = std::fs::read_to_string(&file).expect("config");
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{key} = ")))
        .unwrap_or_else(|| panic!("no {key} in the config"))
        .to_string();
    std::fs::write(&file, text.replace(&line, &format!("{key} = \"{value}\""))).expect("write");
}

fn drop_staff_workbook(project: &Project) {
    write_xlsx(
        &project.inbox().join("SNV/ds_2025.xlsx"),
        "DS",
        &staff_rows("NĂM 2025", &[("Nguyễn Văn An", "001085000001", "Thạc sĩ")]),
    );
}

// ---- configuration (exit 2) -------------------------------------------------

#[test]
fn a_missing_config_file_names_it_and_the_way_to_pass_one() {
    let project = Project::new();
    std::fs::remove_file(project.config_file()).expect("rm");
    let err = fails(&project, &["status"], 2);
    assert_each_cause_once(&err);
    assert!(
        err.contains(&project.config_file().display().to_string()),
        "{err}"
    );
    assert!(
        err.contains("--config") && err.contains("NHANLUC_CONFIG"),
        "{err}"
    );
    assert!(
        !err.contains("os error"),
        "the OS's \"not found\" repeats \"there is no config file\": {err}"
    );
}

#[test]
fn a_config_file_that_is_not_toml_names_the_file_and_line() {
    let project = Project::new();
    write(&project.config_file(), "[paths\ninbox = \"x\"\n");
    let err = fails(&project, &["status"], 2);
    assert_each_cause_once(&err);
    assert!(err.contains("nhanluc.toml"), "{err}");
    assert!(err.contains("line 1"), "{err}");
}

#[test]
fn an_unknown_key_names_the_file_the_key_and_the_allowed_ones() {
    let project = Project::with_config_extra("[digest]\norganization = \"typo\"\n");
    let err = fails(&project, &["status"], 2);
    assert_each_cause_once(&err);
    assert!(err.contains("nhanluc.toml"), "{err}");
    assert!(err.contains("organization"), "{err}");
    assert!(err.contains("organisation"), "{err}");
}

#[test]
fn a_value_of_the_wrong_type_names_the_key() {
    let project = Project::with_config_extra("[serve]\nwatch_inbox = \"yes\"\n");
    let err = fails(&project, &["status"], 2);
    assert_each_cause_once(&err);
    assert!(
        err.contains("nhanluc.toml") && err.contains("watch_inbox"),
        "{err}"
    );
}

#[test]
fn a_refused_value_names_the_key_and_what_is_expected() {
    let project = Project::with_config_extra("[alerts]\nemail = \"operator\"\n");
    let err = fails(&project, &["status"], 2);
    assert_each_cause_once(&err);
    assert!(err.contains("nhanluc.toml"), "{err}");
    assert!(
        err.contains("alerts.email") && err.contains("\"operator\""),
        "{err}"
    );
}

#[test]
fn an_unknown_department_level_names_the_registry_and_the_value() {
    let project = Project::new();
    write(
        &project.root().join("config/departments.toml"),
        "[[department]]\ncode = \"SNV\"\nname = \"Sở Nội vụ\"\nlevel = \"national\"\n",
    );
    let err = fails(&project, &["status"], 2);
    assert_each_cause_once(&err);
    assert!(err.contains("departments.toml"), "{err}");
    assert!(
        err.contains("national") && err.contains("province"),
        "{err}"
    );
}

#[test]
fn a_missing_department_registry_is_named_once() {
    let project = Project::new();
    std::fs::remove_file(project.root().join("config/departments.toml")).expect("rm");
    let err = fails(&project, &["status"], 2);
    assert_each_cause_once(&err);
    assert!(err.contains("department registry"), "{err}");
    assert!(err.contains("departments.toml"), "{err}");
}

#[test]
fn an_unreadable_jobs_folder_is_named_once() {
    let project = Project::new();
    let jobs = project.root().join("jobs");
    std::fs::remove_dir_all(&jobs).expect("rm");
    // A regular file where the folder should be: unreadable as a folder, even for root.
    write(&jobs, "not a folder");
    let err = fails(&project, &["status"], 2);
    assert_each_cause_once(&err);
    assert!(err.contains("jobs folder"), "{err}");
    assert!(err.contains(&jobs.display().to_string()), "{err}");
}

#[test]
fn a_broken_job_file_names_the_file_and_key() {
    let project = Project::new();
    write(
        &project.root().join("jobs/weekly.toml"),
        "schedule = \"0 0 3 * * 1\"\nstep = [\"ingest\"]\n",
    );
    let err = fails(&project, &["status"], 2);
    assert_each_cause_once(&err);
    assert!(err.contains("weekly.toml") && err.contains("step"), "{err}");
}

#[test]
fn a_broken_template_names_the_file_and_line() {
    let project = Project::new();
    write(
        &project.root().join("config/templates/broken.toml"),
        "name = \"broken\"\n[[fields]\n",
    );
    let err = fails(&project, &["status"], 2);
    assert_each_cause_once(&err);
    assert!(
        err.contains("broken.toml") && err.contains("line 2"),
        "{err}"
    );
}

// ---- state database (exit 1) ------------------------------------------------

#[test]
fn a_state_path_that_is_a_folder_is_named_once() {
    let project = Project::new();
    let state = project.data().join("state.sqlite3");
    std::fs::create_dir_all(&state).expect("dir");
    let err = fails(&project, &["status"], 1);
    assert_each_cause_once(&err);
    assert!(err.contains("state database"), "{err}");
    assert!(err.contains(&state.display().to_string()), "{err}");
    assert!(err.contains("[paths] state"), "the next step: {err}");
}

#[test]
fn a_state_path_under_a_regular_file_is_named_once() {
    let project = Project::new();
    write(&project.data().join("blocker"), "a file, not a folder");
    set_path(&project, "state", "../data/blocker/state.sqlite3");
    let err = fails(&project, &["status"], 1);
    assert_each_cause_once(&err);
    assert!(err.contains("data/blocker/state.sqlite3"), "{err}");
    assert!(err.contains("[paths] state"), "the next step: {err}");
    // Commands that take the run lock beside it say so, once, too.
    let err = fails(&project, &["ingest"], 1);
    assert_each_cause_once(&err);
    assert!(err.contains("data/blocker/state.lock"), "{err}");
}

#[test]
fn a_state_file_that_is_not_a_database_is_named_once() {
    let project = Project::new();
    let state = project.data().join("state.sqlite3");
    write(&state, &"this is not SQLite. ".repeat(100));
    let err = fails(&project, &["status"], 1);
    assert_each_cause_once(&err);
    assert!(err.contains(&state.display().to_string()), "{err}");
    assert!(err.contains("not a database"), "{err}");
}

#[test]
fn a_state_schema_newer_than_the_binary_says_to_upgrade() {
    let project = Project::new();
    project.run_ok(&["status"]);
    let state = project.data().join("state.sqlite3");
    rusqlite::Connection::open(&state)
        .and_then(|db| db.pragma_update(None, "user_version", 999))
        .expect("set user_version");
    let err = fails(&project, &["status"], 1);
    assert_each_cause_once(&err);
    assert!(err.contains(&state.display().to_string()), "{err}");
    assert!(
        err.contains("999") && err.contains("upgrade nhanluc"),
        "{err}"
    );
}

// ---- warehouse and runs (exit 1) --------------------------------------------

#[test]
fn an_unwritable_warehouse_is_named_once() {
    let project = Project::new();
    // A regular file where the warehouse folder should be: no part can be written.
    write(&project.warehouse(), "not a folder");
    drop_staff_workbook(&project);
    let err = fails(&project, &["ingest"], 1);
    assert_each_cause_once(&err);
    assert!(err.contains("data/warehouse"), "{err}");
    assert!(err.contains("cannot "), "says what failed: {err}");
}

#[test]
fn indicators_over_an_unwritable_warehouse_are_named_once() {
    let project = Project::new();
    drop_staff_workbook(&project);
    project.run_ok(&["ingest"]);
    // The snapshots folder beside the tables cannot be created.
    let snapshots = project.warehouse().join("_snapshots");
    assert!(
        !snapshots.exists(),
        "no snapshot before the first indicators"
    );
    write(&snapshots, "not a folder");
    let err = fails(&project, &["indicators"], 1);
    assert_each_cause_once(&err);
    assert!(err.contains("data/warehouse/_snapshots"), "{err}");
}

#[test]
fn a_failed_run_records_prints_and_mails_the_same_single_chain() {
    let project = Project::with_config_extra("[alerts]\nemail = \"ops@example.gov.vn\"\n");
    write(&project.warehouse(), "not a folder");
    drop_staff_workbook(&project);
    let err = fails(&project, &["run", "nightly"], 1);
    assert_each_cause_once(&err);
    assert!(
        err.contains("job nightly failed") && err.contains("ingest"),
        "{err}"
    );
    let recorded: String = rusqlite::Connection::open(project.data().join("state.sqlite3"))
        .and_then(|db| {
            db.query_row("SELECT error FROM runs ORDER BY id DESC LIMIT 1", [], |r| {
                r.get(0)
            })
        })
        .expect("the run's error");
    assert_each_cause_once(&recorded);
    assert!(
        err.ends_with(&recorded),
        "runs.error keeps the whole chain the terminal shows:\n{recorded}\n{err}"
    );
    assert!(recorded.contains("data/warehouse"), "{recorded}");
    // The operator's alert (written to the outbox: no SMTP here) says the same.
    let mails = project.files_under(&project.outbox(), "eml");
    assert_eq!(mails.len(), 1, "{mails:?}");
    let scratch = tempfile::tempdir().expect("tmp");
    let alert = support::read_eml(&mails[0], scratch.path());
    let summary = alert.text.lines().next().expect("a summary line");
    assert!(summary.ends_with(&recorded), "{summary}\n{recorded}");
    assert_each_cause_once(summary);
}

#[test]
fn a_broken_digest_template_names_the_template_once() {
    let project = Project::new();
    drop_staff_workbook(&project);
    project.run_ok(&["ingest"]);
    project.run_ok(&["indicators"]);
    write(
        &project.root().join("config/digest/digest.html.j2"),
        "<p>{{ period </p>\n",
    );
    let err = fails(&project, &["digest"], 1);
    assert_each_cause_once(&err);
    assert!(err.contains("digest.html.j2"), "{err}");
}

#[test]
fn a_damaged_workbook_s_reason_says_its_cause_once() {
    let project = Project::new();
    write(
        &project.inbox().join("SNV/hong_2025.xlsx"),
        "this is not a zip file",
    );
    project.run_ok(&["ingest"]);
    let sidecars: Vec<String> = project
        .files_under(&project.data().join("quarantine"), "txt")
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("sidecar"))
        .collect();
    assert_eq!(sidecars.len(), 1, "{sidecars:?}");
    let reason = sidecars[0]
        .lines()
        .find_map(|l| l.strip_prefix("Reason: "))
        .expect("an English reason line");
    assert!(reason.starts_with("cannot open the workbook: "), "{reason}");
    assert_each_cause_once(reason);
}

#[test]
fn an_unreachable_smtp_server_is_said_once_in_the_outbox_and_on_stderr() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let project = Project::with_config_extra(&format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {closed}\nsecurity = \"none\"\ntimeout_seconds = 5\nfrom = \"Sở Nội vụ <bao-cao@snv.example.gov.vn>\"\n"
    ));
    // Three departments submit (different rosters: the same bytes would be
    // one submission): each is answered, none can be.
    for (department, name) in [("SNV", "An"), ("SYT", "Bình"), ("SGDDT", "Cường")] {
        write_xlsx(
            &project.inbox().join(format!("{department}/ds_2025.xlsx")),
            "DS",
            &staff_rows("NĂM 2025", &[(name, "001085000001", "Thạc sĩ")]),
        );
    }
    // Ingest and feedback only: the digest of three rosters would be
    // incomplete (no training data), a failure of its own.
    std::fs::write(
        project.root().join("jobs/answer.toml"),
        "schedule = \"0 0 3 * * *\"\nsteps = [\"ingest\", \"feedback\"]\n",
    )
    .expect("job");
    let out = project.run(&["run", "answer"]);
    // Mail that waits is retried: a warning, not a failed run.
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = printed_error(&out);
    assert!(
        err.contains("3 message(s)") && err.contains("wait in the outbox"),
        "{err}"
    );
    // One cause for every recipient: said once, with who waits.
    assert_each_cause_once(&err);
    assert!(err.contains("tccb.syt@example.gov.vn"), "{err}");
    let db = rusqlite::Connection::open(project.data().join("state.sqlite3")).expect("state");
    let errors: Vec<String> = db
        .prepare("SELECT last_error FROM outbox WHERE sent_at IS NULL")
        .and_then(|mut q| {
            q.query_map([], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()
        })
        .expect("outbox errors");
    assert!(!errors.is_empty(), "messages wait in the outbox");
    for error in &errors {
        assert_each_cause_once(error);
        assert!(error.to_lowercase().contains("refused"), "{error}");
    }
}
