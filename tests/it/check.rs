//! `nhanluc check`: every broken file is listed with its file and key, the
//! exit code is 2 then and 0 when all is well, and nothing is changed.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::Project;

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `check` (with `args`), asserts the exit code, returns stdout.
fn check(project: &Project, args: &[&str], code: i32) -> String {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    let out = project.run(&all);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{stderr}",
        stdout(&out)
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    stdout(&out)
}

/// The line of the output naming `file` and saying `what`, or a failure showing all of it.
fn line_with<'a>(output: &'a str, file: &str, what: &str) -> &'a str {
    output
        .lines()
        .find(|l| l.contains(file) && l.contains(what))
        .unwrap_or_else(|| panic!("no line with {file:?} and {what:?} in:\n{output}"))
}

/// Every file and folder under `root`, for "nothing was created or removed".
fn tree(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path.clone());
            }
            out.push(path);
        }
    }
    out.sort();
    out
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
    std::fs::write(path, text).expect("write");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn smtp_config(port: u16, login: &str) -> String {
    format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\ntimeout_seconds = 5\nfrom = \"Sở Nội vụ <bao-cao@snv.example.gov.vn>\"\n{login}"
    )
}

#[test]
fn the_bundled_config_passes() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_nhanluc"))
        .arg("--config")
        .arg(repo.join("config/nhanluc.toml"))
        .arg("check")
        .env_remove("NHANLUC_CONFIG")
        .output()
        .expect("run nhanluc");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let departments = std::fs::read_to_string(repo.join("config/departments.toml"))
        .expect("registry")
        .matches("[[department]]")
        .count();
    let summary = text.lines().last().expect("a summary line");
    assert!(
        summary.contains(&format!("{departments} departments")),
        "{summary}"
    );
    let files = |dir: &str, extension: &str| {
        std::fs::read_dir(repo.join(dir))
            .expect("folder")
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == extension))
            .count()
    };
    let indicators = files("config/indicators", "sql");
    assert!(
        summary.contains(&format!("{indicators} indicator files")),
        "{summary}"
    );
    let digest_templates = files("config/digest", "j2");
    assert!(
        summary.contains(&format!("{digest_templates} digest templates")),
        "{summary}"
    );
}

#[test]
fn a_good_project_passes_and_nothing_is_created_or_changed() {
    let project = Project::new();
    let before = tree(project.root());
    let out = check(&project, &[], 0);
    assert_eq!(out.lines().count(), 1, "only the summary: {out}");
    assert!(out.contains(" 1 job,"), "the nightly job: {out}");
    assert_eq!(
        tree(project.root()),
        before,
        "check created or removed something"
    );

    // With a state database (created by `status`): it opens, and stays as it was.
    project.run_ok(&["status"]);
    let state = project.data().join("state.sqlite3");
    let bytes = std::fs::read(&state).expect("state");
    let before = tree(project.root());
    check(&project, &[], 0);
    assert_eq!(tree(project.root()), before);
    assert_eq!(std::fs::read(&state).expect("state"), bytes);
}

#[test]
fn one_broken_file_of_each_kind_is_listed_with_its_file_and_key() {
    let project =
        Project::with_config_extra("[digest]\norganisation = \"Sở Nội vụ\"\ncolour = \"blue\"\n");
    let root = project.root();
    let registry = root.join("config/departments.toml");
    let text = std::fs::read_to_string(&registry).expect("registry");
    // Two bad entries: both are listed, not only the first.
    let text = text.replacen("level = \"province\"", "level = \"county\"", 1);
    let text = text.replacen("level = \"district\"", "level = \"national\"", 1);
    std::fs::write(&registry, text).expect("registry");
    write(
        &root.join("jobs/weekly.toml"),
        "schedule = \"0 2 * * 1\"\nsteps = [\"digest\"]\n",
    );
    write(
        &root.join("config/templates/leave.toml"),
        "name = \"leave\"\n[[fields]]\nname = \"days\"\nheaders = [\"Số ngày\"]\ntype = \"number\"\nrequired = true\n",
    );
    write(
        &root.join("config/digest/digest.txt.j2"),
        "{{ m.title }}\n{% for f in m.key_figures %}\n{{ f.label }}\n",
    );
    // The data folder is a file: nothing can be created under it.
    write(&root.join("data"), "not a folder");

    let out = check(&project, &[], 2);
    assert!(
        line_with(&out, "nhanluc.toml", "colour").contains("organisation"),
        "the allowed keys are listed: {out}"
    );
    line_with(&out, "departments.toml", "county");
    line_with(&out, "departments.toml", "national");
    assert!(line_with(&out, "departments.toml", "county").contains("level"));
    line_with(&out, "weekly.toml", "schedule");
    assert!(line_with(&out, "leave.toml", "number").contains("type"));
    assert!(line_with(&out, "digest.txt.j2", "syntax error").contains(":3"));
    assert!(line_with(&out, "paths.outbox", "is a file").contains("data"));
    line_with(&out, "paths.state", "not a folder");
    let summary = out.lines().last().expect("summary");
    assert!(summary.contains("problem"), "{summary}");
    // One line per problem: every line but the summary names a file and says what.
    let problems = out.lines().count() - 1;
    assert!(summary.contains(&format!("{problems} problem(s)")), "{out}");
    assert!(!out.contains("TOML parse error"), "one line each: {out}");
}

#[test]
fn indicator_sql_is_planned_and_digest_templates_rendered() {
    let project = Project::new();
    let root = project.root();
    write(
        &root.join("config/indicators/broken_syntax.sql"),
        "SELECT period,\n  count(* AS value\nFROM staff\n",
    );
    write(
        &root.join("config/indicators/unknown_column.sql"),
        "SELECT period, 'province' AS scope, 'staff.x' AS indicator,\n  count(shoe_size) AS value, 'count' AS unit\nFROM staff GROUP BY period\n",
    );
    write(
        &root.join("config/indicators/no_unit.sql"),
        "SELECT period, scope, 'staff.y' AS indicator, count(*) AS value\nFROM staff_scoped GROUP BY period, scope\n",
    );
    // A scoped view and the registry plan as in a real run.
    write(
        &root.join("config/indicators/fine.sql"),
        "SELECT s.period, s.scope, 'staff.z' AS indicator, count(*) AS value, 'count' AS unit\nFROM staff_scoped s JOIN departments d ON d.code = s.department\nGROUP BY s.period, s.scope\n",
    );
    write(
        &root.join("config/digest/reminder.txt.j2"),
        "Kính gửi {{ department }},\nhạn nộp: {{ dealine }}\n",
    );
    write(
        &root.join("config/digest/feedback.html.j2"),
        "<p>{{ department | shout }}</p>\n",
    );

    let out = check(&project, &[], 2);
    assert!(line_with(&out, "broken_syntax.sql", "SQL error").contains("Line: 2"));
    assert!(line_with(&out, "unknown_column.sql", "shoe_size").len() < 2000);
    line_with(&out, "no_unit.sql", "unit");
    assert!(!out.contains("fine.sql"), "{out}");
    assert!(line_with(&out, "reminder.txt.j2", "dealine").contains(":2"));
    line_with(&out, "feedback.html.j2", "shout");
    assert_eq!(
        out.lines().count(),
        6,
        "five problems and the summary:\n{out}"
    );
    assert!(out.contains("5 problem(s)"), "{out}");
}

#[test]
fn smtp_is_checked_only_when_asked_and_a_closed_port_is_named() {
    let port = free_port();
    let project = Project::with_config_extra(&smtp_config(port, ""));
    check(&project, &[], 0);
    let out = check(&project, &["--smtp"], 2);
    line_with(&out, "nhanluc.toml", &format!("127.0.0.1:{port}"));
}

#[test]
fn a_login_without_its_password_variable_is_a_problem() {
    let project = Project::with_config_extra(&smtp_config(
        free_port(),
        "username = \"bao-cao\"\npassword_env = \"NHANLUC_CHECK_TEST_UNSET\"\n",
    ));
    let out = check(&project, &["--smtp"], 2);
    line_with(&out, "nhanluc.toml", "NHANLUC_CHECK_TEST_UNSET");
}

/// aiosmtpd on 127.0.0.1 requiring the login bao-cao / s3cret (or no login).
struct SmtpServer(Child);

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const SERVER: &str = r#"
import sys, time
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

class Handler:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"

def login(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"bao-cao" and auth_data.password == b"s3cret"
    return AuthResult(success=ok, handled=False)

required = sys.argv[2] == "login"
controller = Controller(Handler(), hostname="127.0.0.1", port=int(sys.argv[1]),
    authenticator=login if required else None, auth_required=required, auth_require_tls=False)
controller.start()
while True:
    time.sleep(60)
"#;

fn start_smtp(port: u16, login: bool) -> SmtpServer {
    let child = Command::new("python3")
        .args(["-c", SERVER, &port.to_string()])
        .arg(if login { "login" } else { "open" })
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("aiosmtpd (installed by scripts/test.sh)");
    let server = SmtpServer(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "SMTP server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

#[test]
fn a_live_smtp_server_passes() {
    let port = free_port();
    let _server = start_smtp(port, false);
    let project = Project::with_config_extra(&smtp_config(port, ""));
    let out = check(&project, &["--smtp"], 0);
    assert!(
        out.contains(&format!("SMTP server 127.0.0.1:{port}")),
        "{out}"
    );
}

#[test]
fn the_login_is_tried() {
    let port = free_port();
    let _server = start_smtp(port, true);
    let login = "username = \"bao-cao\"\npassword_env = \"NHANLUC_CHECK_TEST_PASSWORD\"\n";
    let project = Project::with_config_extra(&smtp_config(port, login));
    let run = |password: &str| {
        Command::new(env!("CARGO_BIN_EXE_nhanluc"))
            .arg("--config")
            .arg(project.config_file())
            .args(["check", "--smtp"])
            .env_remove("NHANLUC_CONFIG")
            .env("NHANLUC_CHECK_TEST_PASSWORD", password)
            .output()
            .expect("run nhanluc")
    };
    let good = run("s3cret");
    assert_eq!(good.status.code(), Some(0), "{}", stdout(&good));
    let bad = run("wrong");
    assert_eq!(bad.status.code(), Some(2), "{}", stdout(&bad));
    assert!(
        line_with(&stdout(&bad), "nhanluc.toml", &format!("127.0.0.1:{port}")).contains("535"),
        "the server's refusal is quoted"
    );
}
