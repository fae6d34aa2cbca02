//! Mail faults stay in the mail step: a server that never greets, a
//! recipient refused for good, a server that is down, a shutdown during a
//! stuck send, a password variable that is not set. Against a small SMTP
//! server written here on 127.0.0.1 (it can stall and refuse on demand).

use crate::support;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{Project, free_port};

// ---- a test SMTP server ---------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Accepts TCP and never says a word.
    Stall,
    /// Speaks SMTP, refusing the recipients in `refuse` with 550.
    Answer,
    /// Speaks SMTP, but never answers the end of a message's data.
    StallAtData,
}

#[derive(Default)]
struct Seen {
    /// Connections accepted.
    connections: AtomicUsize,
    /// The recipient of each message taken (after DATA).
    delivered: Mutex<Vec<String>>,
    /// (recipient, raw message) of each message taken.
    messages: Mutex<Vec<(String, String)>>,
    /// Each RCPT refused.
    refused: Mutex<Vec<String>>,
}

struct TestSmtp {
    port: u16,
    seen: Arc<Seen>,
}

impl TestSmtp {
    fn start(mode: Mode, refuse: &[&str]) -> TestSmtp {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        TestSmtp::on(listener, mode, refuse)
    }

    /// On a given port (to bring up a server where one was down).
    fn start_on(port: u16, mode: Mode) -> TestSmtp {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the port again");
        TestSmtp::on(listener, mode, &[])
    }

    fn on(listener: TcpListener, mode: Mode, refuse: &[&str]) -> TestSmtp {
        let port = listener.local_addr().expect("addr").port();
        let seen = Arc::new(Seen::default());
        let refuse: Vec<String> = refuse.iter().map(|r| r.to_string()).collect();
        {
            let seen = Arc::clone(&seen);
            std::thread::spawn(move || {
                for stream in listener.incoming().flatten() {
                    seen.connections.fetch_add(1, Ordering::SeqCst);
                    let seen = Arc::clone(&seen);
                    let refuse = refuse.clone();
                    std::thread::spawn(move || match mode {
                        // Holds the connection open, silent, until the client leaves.
                        Mode::Stall => {
                            let mut buffer = [0u8; 1024];
                            let mut stream = stream;
                            while std::io::Read::read(&mut stream, &mut buffer).unwrap_or(0) > 0 {}
                        }
                        Mode::Answer | Mode::StallAtData => {
                            let _ = converse(stream, &seen, &refuse, mode);
                        }
                    });
                }
            });
        }
        TestSmtp { port, seen }
    }

    fn delivered(&self) -> Vec<String> {
        let mut to = self.seen.delivered.lock().expect("lock").clone();
        to.sort();
        to
    }

    fn refused(&self) -> Vec<String> {
        self.seen.refused.lock().expect("lock").clone()
    }
}

fn converse(stream: TcpStream, seen: &Seen, refuse: &[String], mode: Mode) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    out.write_all(b"220 test.local ESMTP\r\n")?;
    let mut recipient = String::new();
    let mut line = String::new();
    let mut data = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_ascii_uppercase();
        if command.starts_with("EHLO") {
            out.write_all(b"250-test.local\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 OK\r\n")?;
        } else if command.starts_with("MAIL") && refuse.contains(&address_in(&line)) {
            seen.refused.lock().expect("lock").push(address_in(&line));
            out.write_all(b"553 5.7.1 sender not allowed\r\n")?;
        } else if command.starts_with("HELO")
            || command.starts_with("MAIL")
            || command.starts_with("RSET")
            || command.starts_with("NOOP")
        {
            out.write_all(b"250 OK\r\n")?;
        } else if command.starts_with("RCPT") {
            let address = address_in(&line);
            if refuse.contains(&address) {
                seen.refused.lock().expect("lock").push(address);
                out.write_all(b"550 5.1.1 no such mailbox here\r\n")?;
            } else {
                recipient = address;
                out.write_all(b"250 OK\r\n")?;
            }
        } else if command.starts_with("DATA") {
            out.write_all(b"354 go ahead\r\n")?;
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
                data.push_str(&line);
            }
            if mode == Mode::StallAtData {
                // Silent until the client leaves.
                while reader.read_line(&mut line)? > 0 {}
                return Ok(());
            }
            seen.messages
                .lock()
                .expect("lock")
                .push((recipient.clone(), std::mem::take(&mut data)));
            seen.delivered
                .lock()
                .expect("lock")
                .push(std::mem::take(&mut recipient));
            out.write_all(b"250 queued\r\n")?;
        } else if command.starts_with("QUIT") {
            out.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            out.write_all(b"502 not implemented\r\n")?;
        }
    }
}

/// The address between `<` and `>` in a MAIL or RCPT command.
fn address_in(line: &str) -> String {
    line.trim_end()
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(address, _)| address.to_string())
        .unwrap_or_default()
}

// ---- helpers -----------------------------------------------------------------

const SENDER: &str = "Sở Nội vụ <bao-cao@snv.example.gov.vn>";

fn smtp_config(port: u16, timeout_seconds: u64, extra: &str) -> String {
    format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\ntimeout_seconds = {timeout_seconds}\nfrom = \"{SENDER}\"\n{extra}"
    )
}

/// Runs the binary, killing it (and failing) past `limit`: a hang is a failure.
fn run_within(project: &Project, args: &[&str], limit: Duration) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_nhanluc"))
        .arg("--config")
        .arg(project.config_file())
        .args(args)
        .env_remove("NHANLUC_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn nhanluc");
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "nhanluc {args:?} still running after {limit:?}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let elapsed = started.elapsed();
    (child.wait_with_output().expect("output"), elapsed)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn sql(project: &Project, query: &str) -> String {
    let db = rusqlite::Connection::open(project.data().join("state.sqlite3")).expect("state");
    let mut statement = db.prepare(query).expect("query");
    let columns = statement.column_count();
    let rows = statement
        .query_map([], |row| {
            (0..columns)
                .map(|i| {
                    row.get::<_, rusqlite::types::Value>(i).map(|v| match v {
                        rusqlite::types::Value::Null => String::new(),
                        rusqlite::types::Value::Integer(n) => n.to_string(),
                        rusqlite::types::Value::Real(x) => x.to_string(),
                        rusqlite::types::Value::Text(t) => t,
                        rusqlite::types::Value::Blob(_) => "<blob>".into(),
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(|v| v.join("|"))
        })
        .expect("rows")
        .collect::<Result<Vec<_>, _>>()
        .expect("rows");
    rows.join("\n")
}

/// The indicator files of the periods (not `_schemas/indicators.parquet`,
/// which every ingest writes).
fn indicator_files(project: &Project) -> usize {
    let indicators = project.warehouse().join("indicators");
    project
        .files_under(&project.warehouse(), "parquet")
        .iter()
        .filter(|p| p.starts_with(&indicators))
        .count()
}

fn pending_digests(project: &Project) -> usize {
    sql(
        project,
        "SELECT count(*) FROM outbox WHERE kind = 'digest' AND status = 'pending'",
    )
    .parse()
    .expect("a count")
}

/// The three recipients of `support::Project`'s config.
const DIGEST_RECIPIENTS: usize = 3;

// ---- (a) a server that accepts and never greets ---------------------------------

#[test]
fn a_stalled_greeting_ends_the_run_within_the_deadline_and_releases_the_lock() {
    let smtp = TestSmtp::start(Mode::Stall, &[]);
    let project = Project::with_config_extra(&smtp_config(smtp.port, 2, ""));
    let written = nhanluc_fixtures::write_province(&project.inbox()).expect("fixtures");

    let (out, took) = run_within(&project, &["run", "nightly"], Duration::from_secs(120));
    assert_eq!(
        out.status.code(),
        Some(0),
        "mail that waits does not fail the run\n{}",
        stderr(&out)
    );
    assert!(took < Duration::from_secs(60), "took {took:?}");
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "the SMTP server at 127.0.0.1:{} accepted the connection but did not answer within 2 s",
            smtp.port
        )) && err.contains("wait in the outbox"),
        "{err}"
    );
    // One deadline per delivery pass, not one per message.
    assert!(smtp.seen.connections.load(Ordering::SeqCst) <= 2);
    // Everything but the mail happened.
    assert!(indicator_files(&project) > 0, "indicators computed");
    assert_eq!(
        pending_digests(&project),
        DIGEST_RECIPIENTS,
        "digests built and queued"
    );
    assert_eq!(
        sql(
            &project,
            "SELECT count(*) FROM outbox WHERE status = 'pending' AND attempts = 1 AND next_attempt_at IS NOT NULL"
        ),
        (written.len() + DIGEST_RECIPIENTS).to_string(),
        "every message waits with its next attempt scheduled"
    );
    assert_eq!(sql(&project, "SELECT status FROM runs"), "succeeded");
    let counts = sql(&project, "SELECT counts FROM runs");
    let counts: serde_json::Value = serde_json::from_str(&counts).expect("counts");
    assert_eq!(
        counts["messages_waiting"],
        (written.len() + DIGEST_RECIPIENTS) as u64
    );
    assert_eq!(counts["messages_failed"], 0);

    // The lock was released: the next run starts, and ends in time too.
    let (again, took) = run_within(&project, &["run", "nightly"], Duration::from_secs(120));
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(!stderr(&again).contains("holds the lock"));
    assert!(took < Duration::from_secs(60), "took {took:?}");
}

#[test]
fn a_server_that_stops_answering_at_data_costs_one_deadline_per_pass() {
    let smtp = TestSmtp::start(Mode::StallAtData, &[]);
    let project = Project::with_config_extra(&smtp_config(smtp.port, 2, ""));
    let written = nhanluc_fixtures::write_province(&project.inbox()).expect("fixtures");
    let (out, took) = run_within(&project, &["run", "nightly"], Duration::from_secs(120));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(took < Duration::from_secs(60), "took {took:?}");
    assert!(
        stderr(&out).contains("stopped answering while taking a message"),
        "{}",
        stderr(&out)
    );
    assert!(smtp.seen.connections.load(Ordering::SeqCst) <= 2);
    assert_eq!(pending_digests(&project), DIGEST_RECIPIENTS);
    assert_eq!(
        sql(
            &project,
            "SELECT count(*) FROM outbox WHERE status = 'pending'"
        ),
        (written.len() + DIGEST_RECIPIENTS).to_string()
    );
}

// ---- (b) one recipient refused for good -----------------------------------------

#[test]
fn a_refused_recipient_is_given_up_after_its_retries_and_shown_by_status() {
    const REFUSED: &str = "giam-doc@syt.example.gov.vn";
    let smtp = TestSmtp::start(Mode::Answer, &[REFUSED]);
    let project = Project::with_config_extra(&format!(
        "{}\n[alerts]\nemail = \"ops@example.gov.vn\"\n",
        smtp_config(smtp.port, 5, "")
    ));
    let written = nhanluc_fixtures::write_province(&project.inbox()).expect("fixtures");

    let out = project.run(&["run", "nightly"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(indicator_files(&project) > 0, "indicators computed");
    // Every feedback and the two other digests went; the refused one waits.
    assert_eq!(
        smtp.delivered().len(),
        written.len() + DIGEST_RECIPIENTS - 1
    );
    assert!(!smtp.delivered().contains(&REFUSED.to_string()));
    assert_eq!(smtp.refused(), [REFUSED]);
    assert_eq!(
        sql(
            &project,
            "SELECT recipient, status, attempts FROM outbox WHERE status != 'sent'"
        ),
        format!("{REFUSED}|pending|1")
    );
    assert!(stderr(&out).contains("550"), "{}", stderr(&out));

    // The default [smtp] max_attempts_refused is 3: two more tries, then given up.
    for _ in 0..2 {
        let out = project.run(&["digest"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    assert_eq!(smtp.refused().len(), 3);
    // The operator is told, once, naming the message.
    let alerts: Vec<String> = smtp
        .seen
        .messages
        .lock()
        .expect("lock")
        .iter()
        .filter(|(to, _)| to == "ops@example.gov.vn")
        .map(|(_, message)| message.clone())
        .collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(alerts[0].contains("Mail given up"), "{}", alerts[0]);
    assert!(alerts[0].contains(REFUSED), "{}", alerts[0]);
    assert_eq!(
        sql(
            &project,
            "SELECT recipient, status, attempts, next_attempt_at IS NULL, failed_at IS NOT NULL FROM outbox WHERE status != 'sent'"
        ),
        format!("{REFUSED}|failed|3|1|1")
    );
    // Never tried again: not by digest, not by a run.
    project.run_ok(&["digest"]);
    let out = project.run(&["run", "nightly"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(smtp.refused().len(), 3, "a failed message is not retried");
    assert_eq!(
        smtp.delivered()
            .iter()
            .filter(|to| *to == "ops@example.gov.vn")
            .count(),
        1,
        "no second alert"
    );

    let status = project.run_ok(&["status"]);
    assert!(
        status.contains("Failed, refused by the server, not retried: 1")
            && status.contains(REFUSED)
            && status.contains("550"),
        "{status}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&project.run_ok(&["status", "--json"])).expect("json");
    let failed = &json["outbox"]["failed_messages"];
    assert_eq!(json["outbox"]["failed"], 1);
    assert_eq!(failed[0]["recipient"], REFUSED);
    assert_eq!(failed[0]["kind"], "digest");
    assert!(failed[0]["subject"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(
        failed[0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("550") && e.contains("no such mailbox")),
        "{failed}"
    );
    assert_eq!(json["outbox"]["waiting"], 0);
}

#[test]
fn a_refused_sender_is_the_configuration_s_fault_and_never_gives_a_message_up() {
    let smtp = TestSmtp::start(Mode::Answer, &["bao-cao@snv.example.gov.vn"]);
    let project =
        Project::with_config_extra(&smtp_config(smtp.port, 5, "max_attempts_refused = 1\n"));
    std::fs::write(
        project.root().join("jobs/arrive.toml"),
        "schedule = \"0 0 3 * * *\"\nsteps = [\"ingest\", \"feedback\"]\n",
    )
    .expect("job");
    for (department, name) in [("SNV", "An"), ("SYT", "Bình")] {
        support::write_xlsx(
            &project.inbox().join(format!("{department}/ds_2025.xlsx")),
            "DS",
            &support::staff_rows("NĂM 2025", &[(name, "001085000001", "Thạc sĩ")]),
        );
    }
    for _ in 0..2 {
        let out = project.run(&["run", "arrive"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("refused the sender bao-cao@snv.example.gov.vn ([smtp] from)"),
            "{}",
            stderr(&out)
        );
    }
    assert_eq!(
        smtp.refused().len(),
        2,
        "said once per pass, not per message"
    );
    assert_eq!(
        sql(
            &project,
            "SELECT status, count(*) FROM outbox GROUP BY status"
        ),
        "pending|2",
        "not given up: the recipients did nothing wrong"
    );
}

#[test]
fn the_refusal_limit_is_range_checked() {
    let project = Project::with_config_extra(&smtp_config(25, 5, "max_attempts_refused = 0\n"));
    let out = project.run(&["status"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("smtp.max_attempts_refused") && stderr(&out).contains("nhanluc.toml"),
        "{}",
        stderr(&out)
    );
}

// ---- (c) the server down at the run ---------------------------------------------

#[test]
fn with_the_server_down_mail_waits_nothing_else_fails_and_the_next_run_sends_it_once() {
    let port = free_port();
    let project = Project::with_config_extra(&smtp_config(port, 5, ""));
    let written = nhanluc_fixtures::write_province(&project.inbox()).expect("fixtures");
    let total = written.len() + DIGEST_RECIPIENTS;

    let (out, _) = run_within(&project, &["run", "nightly"], Duration::from_secs(120));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("{total} message(s) could not be delivered")),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out).contains(&format!("waiting {total}, failed 0")),
        "{}",
        stdout(&out)
    );
    assert!(indicator_files(&project) > 0);
    assert_eq!(pending_digests(&project), DIGEST_RECIPIENTS);
    let status = project.run_ok(&["status"]);
    assert!(
        status.contains(&format!("Outbox: 0 sent, {total} waiting")),
        "{status}"
    );

    let smtp = TestSmtp::start_on(port, Mode::Answer);
    project.run_ok(&["run", "nightly"]);
    assert_eq!(smtp.delivered().len(), total);
    project.run_ok(&["run", "nightly"]);
    assert_eq!(smtp.delivered().len(), total, "each message once");
    let status = project.run_ok(&["status"]);
    assert!(
        status.contains(&format!("Outbox: {total} sent, 0 waiting")),
        "{status}"
    );
}

// ---- (d) `digest` with no indicators sends what waits ---------------------------

#[test]
fn digest_without_indicators_still_sends_what_waits_then_fails_closed() {
    let port = free_port();
    let project = Project::with_config_extra(&smtp_config(port, 5, ""));
    std::fs::write(
        project.root().join("jobs/arrive.toml"),
        "schedule = \"0 0 3 * * *\"\nsteps = [\"ingest\", \"feedback\"]\n",
    )
    .expect("job");
    let written = nhanluc_fixtures::write_province(&project.inbox()).expect("fixtures");
    let out = project.run(&["run", "arrive"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(indicator_files(&project), 0, "no indicators yet");

    let smtp = TestSmtp::start_on(port, Mode::Answer);
    let out = project.run(&["digest"]);
    assert_eq!(out.status.code(), Some(1), "no indicators: fails closed");
    assert!(stderr(&out).contains("no indicators"), "{}", stderr(&out));
    assert_eq!(
        smtp.delivered().len(),
        written.len(),
        "the feedback that waited went first"
    );
    assert_eq!(
        sql(
            &project,
            "SELECT count(*) FROM outbox WHERE status = 'pending'"
        ),
        "0"
    );
}

// ---- (e) SIGTERM during a stuck send --------------------------------------------

struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn sigterm_ends_serve_while_a_send_is_stalled() {
    let smtp = TestSmtp::start(Mode::Stall, &[]);
    // A deadline far away: only the shutdown can end this send.
    let project = Project::with_config_extra(&smtp_config(smtp.port, 600, ""));
    support::write_xlsx(
        &project.inbox().join("SNV/ds_2025.xlsx"),
        "DS",
        &support::staff_rows("NĂM 2025", &[("Lò Văn Pọm", "001085000001", "Thạc sĩ")]),
    );
    let log = project.root().join("serve.log");
    let mut service = Service(
        Command::new(env!("CARGO_BIN_EXE_nhanluc"))
            .arg("--config")
            .arg(project.config_file())
            .arg("serve")
            .env_remove("NHANLUC_CONFIG")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("spawn serve"),
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    while smtp.seen.connections.load(Ordering::SeqCst) == 0 {
        assert!(
            Instant::now() < deadline,
            "serve never tried the server:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    let status = Command::new("kill")
        .args(["-TERM", &service.0.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let signalled = Instant::now();
    let code = loop {
        if let Some(status) = service.0.try_wait().expect("wait") {
            break status.code();
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(15),
            "serve did not stop on SIGTERM:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(code, Some(0));
    // The interrupted message waits as it was: not an attempt.
    assert_eq!(
        sql(&project, "SELECT kind, status, attempts FROM outbox"),
        "feedback|pending|0"
    );
    assert_eq!(sql(&project, "SELECT status FROM runs"), "interrupted");
    // The run lock is free.
    let out = project.run(&["ingest"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

// ---- (f) the password variable unset --------------------------------------------

#[test]
fn an_unset_or_empty_password_variable_stops_sending_commands_at_start() {
    const VARIABLE: &str = "NHANLUC_MAIL_FAULTS_TEST_PASSWORD";
    let project = Project::with_config_extra(&smtp_config(
        free_port(),
        5,
        &format!("username = \"bao-cao\"\npassword_env = \"{VARIABLE}\"\n"),
    ));
    let run = |args: &[&str], value: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_nhanluc"));
        command
            .arg("--config")
            .arg(project.config_file())
            .args(args)
            .env_remove("NHANLUC_CONFIG")
            .env_remove(VARIABLE);
        if let Some(value) = value {
            command.env(VARIABLE, value);
        }
        command.output().expect("run nhanluc")
    };
    for args in [&["run", "nightly"][..], &["digest"], &["serve"]] {
        for value in [None, Some("")] {
            let out = run(args, value);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{args:?} {value:?}: {}",
                stderr(&out)
            );
            let err = stderr(&out);
            assert!(
                err.contains("smtp.password_env")
                    && err.contains(VARIABLE)
                    && err.contains("nhanluc.toml"),
                "{err}"
            );
        }
    }
    assert!(
        !project.data().join("state.sqlite3").exists(),
        "nothing ran, not even the state database was opened"
    );
    // Commands that send nothing still work.
    assert_eq!(run(&["status"], None).status.code(), Some(0));
    let check = run(&["check"], None);
    assert_eq!(check.status.code(), Some(2));
    assert!(
        stdout(&check).contains("smtp.password_env") && stdout(&check).contains(VARIABLE),
        "{}",
        stdout(&check)
    );
}
