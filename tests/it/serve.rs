//! `nhanluc serve` as a real child process: schedules, the service lock,
//! ingest on arrival, catch-up, SIGTERM, kill -9, and the operator's alerts
//! against a local HTTP server.

use crate::support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{C, Project, SmtpServer, count_files, free_port, start_smtp_on, write_xlsx};

struct Service {
    child: Child,
    log: std::path::PathBuf,
}

impl Service {
    fn start(project: &Project) -> Service {
        let log = project
            .root()
            .join(format!("serve-{}.log", std::process::id() ^ rand_suffix()));
        let child = Command::new(env!("CARGO_BIN_EXE_nhanluc"))
            .arg("--config")
            .arg(project.config_file())
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("spawn serve");
        let service = Service { child, log };
        service.wait_for_log("nhanluc serve started", Duration::from_secs(30));
        service
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_for_log(&self, needle: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        while !self.log().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "no {needle:?} in the service log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Waits for the process to end, at most `limit`.
    fn wait(&mut self, limit: Duration) -> Option<i32> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code();
            }
            assert!(
                Instant::now() < deadline,
                "serve did not stop:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}

fn write_job(project: &Project, name: &str, text: &str) {
    std::fs::write(project.root().join(format!("jobs/{name}.toml")), text).expect("job");
}

fn wait_until(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn sql(project: &Project, query: &str) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg("import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); rows = db.execute(sys.argv[2]).fetchall(); db.commit(); print('\\n'.join('|'.join(str(v) for v in r) for r in rows))")
        .arg(project.data().join("state.sqlite3"))
        .arg(query)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn roster(path: &Path, rows: usize) {
    let mut cells = vec![
        // No year: the file names carry it (ds_2000.xlsx …), and a title
        // naming another year would refuse the file.
        vec![C::T("DANH SÁCH CÁN BỘ")],
        vec![C::T("STT"), C::T("Họ và tên"), C::T("Mã định danh")],
    ];
    for i in 0..rows {
        cells.push(vec![
            C::N((i + 1) as f64),
            C::S(format!("Người {i}")),
            C::S(format!("{i:08}")),
        ]);
    }
    write_xlsx(path, "DS", &cells);
}

#[test]
fn jobs_run_on_their_schedule_and_sigterm_stops_the_service() {
    let project = Project::new();
    write_job(
        &project,
        "tick",
        "schedule = \"*/2 * * * * *\"\nsteps = [\"ingest\"]\n",
    );
    let mut service = Service::start(&project);
    assert!(
        service.log().contains("job=tick"),
        "next run logged:\n{}",
        service.log()
    );
    wait_until(Duration::from_secs(20), "two scheduled runs", || {
        sql(
            &project,
            "SELECT count(*) FROM runs WHERE job = 'tick' AND status = 'succeeded'",
        )
        .parse::<u32>()
        .unwrap_or(0)
            >= 2
    });
    service.signal("-TERM");
    assert_eq!(service.wait(Duration::from_secs(20)), Some(0));
    assert!(service.log().contains("nhanluc serve stopped"));
}

#[test]
fn a_second_service_on_the_same_state_refuses() {
    let project = Project::new();
    let _first = Service::start(&project);
    let second = project.run(&["serve"]);
    assert_eq!(second.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("another `nhanluc serve` runs on this state"),
        "{stderr}"
    );
}

#[test]
fn a_workbook_dropped_into_the_inbox_is_ingested_within_seconds() {
    let project = Project::new();
    let _service = Service::start(&project);
    let scratch = tempfile::tempdir().expect("tmp");
    let staged = scratch.path().join("ds_2025.xlsx");
    roster(&staged, 20);
    std::fs::create_dir_all(project.inbox().join("SYT")).expect("dir");
    let target = project.inbox().join("SYT/ds_2025.xlsx");
    let dropped = Instant::now();
    std::fs::copy(&staged, &target).expect("drop");
    wait_until(Duration::from_secs(15), "the file to be ingested", || {
        !target.exists()
    });
    eprintln!("ingested {:?} after the drop", dropped.elapsed());
    assert_eq!(count_files(&project.data().join("archive"), "xlsx"), 1);
    wait_until(
        Duration::from_secs(10),
        "the arrival run to be recorded",
        || {
            sql(
                &project,
                "SELECT status FROM runs WHERE job = 'arrival' ORDER BY id DESC LIMIT 1",
            ) == "succeeded"
        },
    );
    let status = project.run_ok(&["status"]);
    assert!(
        status.contains("arrival") && status.contains("SYT"),
        "{status}"
    );
}

#[test]
fn a_run_missed_while_the_service_was_down_runs_once_at_start_up() {
    let project = Project::new();
    write_job(
        &project,
        "daily",
        "schedule = \"0 0 2 * * *\"\nsteps = [\"ingest\"]\ncatch_up = \"once\"\n",
    );
    write_job(
        &project,
        "skipped",
        "schedule = \"0 0 2 * * *\"\nsteps = [\"ingest\"]\ncatch_up = \"skip\"\n",
    );
    // A first start records how far the schedules were watched.
    let mut service = Service::start(&project);
    service.signal("-TERM");
    assert_eq!(service.wait(Duration::from_secs(20)), Some(0));
    assert_eq!(sql(&project, "SELECT count(*) FROM runs"), "0");
    // As if the service had been down for two days.
    let two_days_ago = (chrono::Utc::now() - chrono::Duration::days(2)).to_rfc3339();
    sql(
        &project,
        &format!("UPDATE schedule_marks SET seen_until = '{two_days_ago}'"),
    );
    let _service = Service::start(&project);
    wait_until(Duration::from_secs(20), "the catch-up run", || {
        sql(
            &project,
            "SELECT count(*) FROM runs WHERE job = 'daily' AND status = 'succeeded'",
        ) == "1"
    });
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        sql(&project, "SELECT count(*) FROM runs WHERE job = 'daily'"),
        "1",
        "once, not once per missed day"
    );
    assert_eq!(
        sql(&project, "SELECT count(*) FROM runs WHERE job = 'skipped'"),
        "0"
    );
}

/// Rows per file of the big inbox: enough that ingesting it takes a few seconds.
const ROWS_PER_FILE: usize = 800;

fn big_inbox(project: &Project, files: usize) {
    let scratch = tempfile::tempdir().expect("tmp");
    let one = scratch.path().join("one.xlsx");
    roster(&one, ROWS_PER_FILE);
    let departments = ["SNV", "SYT", "SGDDT", "STTTT", "TPDBP", "HTG", "XTM", "XNT"];
    for i in 0..files {
        // Different bytes per file: the same bytes twice are one submission.
        let mut bytes = std::fs::read(&one).expect("read");
        bytes.extend_from_slice(format!("{i:08}").as_bytes());
        let department = departments[i % departments.len()];
        let year = 2000 + i / departments.len();
        let path = project.inbox().join(format!("{department}/ds_{year}.xlsx"));
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        std::fs::write(path, bytes).expect("write");
    }
}

#[test]
fn sigterm_during_an_ingest_lets_the_step_finish() {
    let project = Project::new();
    big_inbox(&project, 64);
    let mut service = Service::start(&project);
    let archive = project.data().join("archive");
    wait_until(Duration::from_secs(60), "ingest to start", || {
        count_files(&archive, "xlsx") >= 4
    });
    service.signal("-TERM");
    assert_eq!(service.wait(Duration::from_secs(120)), Some(0));
    assert_eq!(
        count_files(&project.inbox(), "xlsx"),
        0,
        "the ingest step finished"
    );
    assert_eq!(count_files(&archive, "xlsx"), 64);
    assert_eq!(
        count_files(&project.warehouse(), "tmp"),
        0,
        "no partial file"
    );
    assert_eq!(
        sql(
            &project,
            "SELECT status, error FROM runs WHERE job = 'arrival'"
        ),
        "interrupted|stopped by a shutdown request before step feedback"
    );
    support::assert_rows_accounted(&project);
}

#[test]
fn kill_9_of_the_service_during_a_job_then_a_restart_completes_the_work_once() {
    let project = Project::new();
    big_inbox(&project, 64);
    let mut service = Service::start(&project);
    let archive = project.data().join("archive");
    wait_until(Duration::from_secs(60), "ingest to start", || {
        count_files(&archive, "xlsx") >= 4
    });
    service.signal("-KILL");
    service.wait(Duration::from_secs(20));
    let left = count_files(&project.inbox(), "xlsx");
    assert!(left > 0, "killed mid-way");
    let _again = Service::start(&project);
    wait_until(Duration::from_secs(120), "the rest of the inbox", || {
        count_files(&project.inbox(), "xlsx") == 0
    });
    wait_until(Duration::from_secs(30), "the run to finish", || {
        sql(
            &project,
            "SELECT count(*) FROM runs WHERE status = 'running'",
        ) == "0"
    });
    assert_eq!(count_files(&archive, "xlsx"), 64);
    assert_eq!(
        sql(
            &project,
            "SELECT count(*) FROM submissions WHERE status = 'accepted'"
        ),
        "64",
        "each file counted once"
    );
    assert_eq!(
        sql(&project, "SELECT count(*) FROM loads WHERE active = 1"),
        "64"
    );
    assert_eq!(
        sql(&project, "SELECT sum(rows_loaded) FROM submissions"),
        (64 * ROWS_PER_FILE).to_string()
    );
    assert_eq!(
        sql(
            &project,
            "SELECT count(*) FROM runs WHERE status = 'interrupted'"
        ),
        "1",
        "the killed run is marked"
    );
    support::assert_rows_accounted(&project);
}

/// A one-thread HTTP server on 127.0.0.1 that records each request's line and body.
fn http_recorder() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming().take(20) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let mut length = 0;
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
                if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            record.lock().expect("lock").push(format!(
                "{} {}",
                line.trim(),
                String::from_utf8_lossy(&body)
            ));
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (port, seen)
}

#[test]
fn a_failed_run_posts_to_the_webhook_mails_the_operator_and_pings() {
    let (port, seen) = http_recorder();
    let project = Project::with_config_extra(&format!(
        "[alerts]\nemail = \"ops@example.gov.vn\"\nwebhook = \"http://127.0.0.1:{port}/hook\"\nping_start = \"http://127.0.0.1:{port}/start\"\nping_success = \"http://127.0.0.1:{port}/ok\"\nping_fail = \"http://127.0.0.1:{port}/fail\"\n"
    ));
    // A digest with no indicators computed, while data exists, fails.
    write_xlsx(
        &project.inbox().join("SNV/ds_2025.xlsx"),
        "DS",
        &support::staff_rows("NĂM 2025", &[("Lò Văn Pọm", "1", "Thạc sĩ")]),
    );
    project.run_ok(&["ingest"]);
    write_job(
        &project,
        "broken",
        "schedule = \"0 0 3 * * *\"\nsteps = [\"digest\"]\n",
    );
    let out = project.run(&["run", "broken"]);
    assert_eq!(out.status.code(), Some(1));
    let requests = seen.lock().expect("lock").clone();
    assert!(
        requests.iter().any(|r| r.starts_with("GET /start ")),
        "{requests:?}"
    );
    assert!(
        requests.iter().any(|r| r.starts_with("GET /fail ")),
        "{requests:?}"
    );
    assert!(
        !requests.iter().any(|r| r.starts_with("GET /ok ")),
        "{requests:?}"
    );
    let hook = requests
        .iter()
        .find(|r| r.starts_with("POST /hook "))
        .expect("webhook called");
    assert!(
        hook.contains("\"job\":\"broken\"") && hook.contains("no indicators"),
        "{hook}"
    );
    let mails = project.files_under(&project.outbox(), "eml");
    assert_eq!(mails.len(), 1);
    let scratch = tempfile::tempdir().expect("tmp");
    let mail = support::read_eml(&mails[0], scratch.path());
    assert_eq!(mail.to, "ops@example.gov.vn");
    assert!(
        mail.subject.contains("broken") && mail.text.contains("no indicators"),
        "{mail:?}"
    );
}

#[test]
fn a_dead_webhook_never_fails_the_job() {
    let closed = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let project = Project::with_config_extra(&format!(
        "[alerts]\nwebhook = \"http://127.0.0.1:{closed}/hook\"\nping_start = \"http://127.0.0.1:{closed}/start\"\nping_success = \"http://127.0.0.1:{closed}/ok\"\ntimeout_seconds = 2\n"
    ));
    write_job(
        &project,
        "fine",
        "schedule = \"0 0 3 * * *\"\nsteps = [\"ingest\"]\n",
    );
    let started = Instant::now();
    let out = project.run(&["run", "fine"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "bounded retries"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("alert endpoint unreachable"));
}

// ---- the outbox retried between runs ------------------------------------------

/// The `To:` of each message the server received, sorted.
fn received_to(smtp: &SmtpServer) -> Vec<String> {
    let mut to: Vec<String> = std::fs::read_dir(smtp.maildir.join("new"))
        .map(|entries| entries.flatten().map(|e| e.path()).collect::<Vec<_>>())
        .unwrap_or_default()
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            text.lines()
                .find_map(|l| l.strip_prefix("To: "))
                .unwrap_or("?")
                .trim()
                .to_string()
        })
        .collect();
    to.sort();
    to
}

/// The three recipients of `support::Project`'s config, sorted.
const RECIPIENTS: [&str; 3] = [
    "advisor@example.org",
    "chu-tich@ubnd.example.gov.vn",
    "giam-doc@syt.example.gov.vn",
];

/// A project mailing through 127.0.0.1:`port`, retrying after 1 s then 2 s,
/// ingesting on schedule only, with the fixtures ingested and their
/// indicators computed, and no job but those the test writes.
fn project_mailing_to(port: u16) -> Project {
    let project = Project::with_config_extra(&format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\ntimeout_seconds = 5\nfrom = \"Sở Nội vụ <bao-cao@snv.example.gov.vn>\"\n\n[delivery]\nretry_first_seconds = 1\nretry_max_seconds = 2\n\n[serve]\nwatch_inbox = false\n"
    ));
    std::fs::remove_file(project.root().join("jobs/nightly.toml")).expect("no nightly job");
    nhanluc_fixtures::write_province(&project.inbox()).expect("fixtures");
    project.run_ok(&["ingest"]);
    project.run_ok(&["indicators"]);
    project
}

#[test]
fn a_digest_that_failed_at_the_scheduled_run_arrives_once_smtp_is_back() {
    let port = free_port(); // nothing listens there yet
    let project = project_mailing_to(port);
    write_job(
        &project,
        "morning",
        "schedule = \"0 0 2 * * *\"\nsteps = [\"digest\"]\ncatch_up = \"once\"\n",
    );
    // The 02:00 run falls due at start-up, as one missed while the service was down.
    let two_days_ago = (chrono::Utc::now() - chrono::Duration::days(2)).to_rfc3339();
    sql(
        &project,
        &format!(
            "INSERT INTO schedule_marks (job, seen_until) VALUES ('morning', '{two_days_ago}')"
        ),
    );
    let mut service = Service::start(&project);
    // Mail that waits does not fail the run: it succeeds, the digests wait.
    wait_until(Duration::from_secs(180), "the scheduled run to end", || {
        sql(&project, "SELECT status FROM runs WHERE job = 'morning'") == "succeeded"
    });
    assert_eq!(
        sql(
            &project,
            "SELECT count(*) FROM outbox WHERE status = 'pending' AND attempts >= 1"
        ),
        "3",
        "the three digests wait, tried once"
    );

    let scratch = tempfile::tempdir().expect("tmp");
    let smtp = start_smtp_on(scratch.path(), port);
    wait_until(Duration::from_secs(120), "the digests to arrive", || {
        received_to(&smtp).len() >= 3
    });
    wait_until(
        Duration::from_secs(30),
        "the outbox rows to be marked sent",
        || {
            sql(
                &project,
                "SELECT count(*) FROM outbox WHERE status = 'pending'",
            ) == "0"
        },
    );
    // Several retry passes at the test's 1–2 s backoff: nothing goes twice.
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(received_to(&smtp), RECIPIENTS, "each recipient once");
    assert_eq!(
        sql(
            &project,
            "SELECT count(*) FROM outbox WHERE status = 'sent' AND sent_at IS NOT NULL"
        ),
        "3"
    );
    assert_eq!(
        sql(&project, "SELECT count(*) FROM runs"),
        "1",
        "no other job run sent them"
    );
    assert!(
        service.log().contains("outbox retried"),
        "{}",
        service.log()
    );
    service.signal("-TERM");
    assert_eq!(service.wait(Duration::from_secs(30)), Some(0));
}

#[test]
fn serve_leaves_a_message_not_yet_due_and_a_digest_run_sends_it_at_once() {
    let port = free_port();
    let project = project_mailing_to(port);
    let out = project.run(&["digest"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "SMTP is down: the digests wait, a warning"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("wait in the outbox"));
    // One message's backoff has an hour to go; the others are due within seconds.
    let in_an_hour = (chrono::Utc::now() + chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    sql(
        &project,
        &format!(
            "UPDATE outbox SET next_attempt_at = '{in_an_hour}' WHERE recipient = 'advisor@example.org'"
        ),
    );
    let scratch = tempfile::tempdir().expect("tmp");
    let smtp = start_smtp_on(scratch.path(), port);
    let mut service = Service::start(&project);
    wait_until(
        Duration::from_secs(120),
        "the due messages to arrive",
        || {
            sql(
                &project,
                "SELECT count(*) FROM outbox WHERE status = 'pending'",
            ) == "1"
        },
    );
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(received_to(&smtp), RECIPIENTS[1..]);
    assert_eq!(
        sql(
            &project,
            "SELECT recipient, attempts, next_attempt_at FROM outbox WHERE status = 'pending'"
        ),
        format!("advisor@example.org|1|{in_an_hour}"),
        "not tried again before it is due"
    );
    service.signal("-TERM");
    assert_eq!(service.wait(Duration::from_secs(30)), Some(0));
    assert!(service.log().contains("nhanluc serve stopped"));

    // A digest run sends what waits whatever its backoff, and the rest not again.
    project.run_ok(&["digest"]);
    assert_eq!(received_to(&smtp), RECIPIENTS);
    assert_eq!(
        sql(
            &project,
            "SELECT count(*) FROM outbox WHERE status = 'pending'"
        ),
        "0"
    );
}

/// The state deleted while the service runs: each run it would start is
/// refused (nothing deleted), and the operator is told once through the
/// webhook and the failure ping — not by mail, whose outbox is in the state
/// that is refused — however many files arrive meanwhile.
#[test]
fn a_state_lost_under_serve_is_refused_and_told_once() {
    let (port, seen) = http_recorder();
    let project = Project::with_config_extra(&format!(
        "[alerts]\nwebhook = \"http://127.0.0.1:{port}/hook\"\nping_fail = \"http://127.0.0.1:{port}/fail\"\n"
    ));
    let service = Service::start(&project);
    std::fs::create_dir_all(project.inbox().join("SYT")).expect("dir");
    roster(&project.inbox().join("SYT/ds_2025.xlsx"), 5);
    wait_until(
        Duration::from_secs(20),
        "the first file to be taken",
        || count_files(&project.data().join("archive"), "xlsx") == 1,
    );
    wait_until(Duration::from_secs(10), "the arrival run to end", || {
        sql(
            &project,
            "SELECT status FROM runs WHERE job = 'arrival' ORDER BY id DESC LIMIT 1",
        ) == "succeeded"
    });
    for name in ["state.sqlite3", "state.sqlite3-wal", "state.sqlite3-shm"] {
        let _ = std::fs::remove_file(project.data().join(name));
    }
    let parts_before = count_files(&project.warehouse(), "parquet");
    for (i, name) in ["SNV/a_2025.xlsx", "SNV/b_2025.xlsx"].iter().enumerate() {
        std::fs::create_dir_all(project.inbox().join("SNV")).expect("dir");
        roster(&project.inbox().join(name), 3 + i);
        service.wait_for_log("refusing to run", Duration::from_secs(20));
        std::thread::sleep(Duration::from_secs(3));
    }
    let hooks = || {
        seen.lock()
            .expect("lock")
            .iter()
            .filter(|r| r.starts_with("POST /hook "))
            .cloned()
            .collect::<Vec<_>>()
    };
    wait_until(Duration::from_secs(10), "the webhook", || {
        !hooks().is_empty()
    });
    let told = hooks();
    assert_eq!(told.len(), 1, "{told:?}\n{}", service.log());
    assert!(
        told[0].contains("state_refused") && told[0].contains("rebuild"),
        "{}",
        told[0]
    );
    assert!(
        seen.lock()
            .expect("lock")
            .iter()
            .any(|r| r.starts_with("GET /fail ")),
        "the failure ping"
    );
    assert_eq!(count_files(&project.warehouse(), "parquet"), parts_before);
    assert!(project.inbox().join("SNV/a_2025.xlsx").exists());
    assert!(!project.data().join("state.sqlite3").exists());
}
