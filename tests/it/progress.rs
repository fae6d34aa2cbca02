//! Progress and log volume: a bar when stderr is a terminal, a few summary
//! lines when it is a pipe, per-item lines only with `-v`, warnings always,
//! nothing but warnings with `--quiet`, and JSON lines on request.

use std::process::{Command, Output, Stdio};

use crate::support::{C, Project, count_files, write_xlsx};

const FILES: usize = 200;
/// Of the [`FILES`], these are not spreadsheets and get quarantined.
const BROKEN: usize = 2;
const ROWS_PER_FILE: usize = 100;
/// The files are spread over this many periods.
const YEARS: usize = 4;

/// A job of the steps that draw bars (the generated rosters have no training
/// data, so the digest step would refuse to send).
fn add_job(project: &Project) {
    std::fs::write(
        project.root().join("jobs/bars.toml"),
        "schedule = \"0 0 2 * * *\"\nsteps = [\"ingest\", \"feedback\", \"indicators\"]\n",
    )
    .expect("job file");
}

/// `files` inbox files: rosters spread over departments and years (so the
/// indicators step has periods to snapshot), the last `broken` not workbooks.
fn inbox(project: &Project, files: usize, broken: usize) {
    let scratch = tempfile::tempdir().expect("tmp");
    let one = scratch.path().join("one.xlsx");
    let mut cells = vec![
        // No year in the title: the file names carry the period, and a
        // title naming another year would refuse the file.
        vec![C::T("DANH SÁCH CÁN BỘ")],
        vec![C::T("STT"), C::T("Họ và tên"), C::T("Mã định danh")],
    ];
    for i in 0..ROWS_PER_FILE {
        cells.push(vec![
            C::N((i + 1) as f64),
            C::S(format!("Người {i}")),
            C::S(format!("{i:08}")),
        ]);
    }
    write_xlsx(&one, "DS", &cells);
    // Many departments and few years: few periods keep the indicators step short.
    let departments = files.div_ceil(YEARS);
    let registry_file = project.root().join("config/departments.toml");
    let mut registry = std::fs::read_to_string(&registry_file).expect("registry");
    for d in 0..departments {
        registry += &format!(
            "\n[[department]]\ncode = \"D{d:03}\"\nname = \"Đơn vị số {d}\"\nlevel = \"province\"\ncontacts = [\"d{d:03}@example.gov.vn\"]\n"
        );
    }
    std::fs::write(&registry_file, registry).expect("registry");
    for i in 0..files {
        let (department, year) = (i % departments, 2022 + i / departments);
        let dir = project.inbox().join(format!("D{department:03}"));
        std::fs::create_dir_all(&dir).expect("dir");
        if i >= files - broken {
            std::fs::write(dir.join(format!("ghi_chu_{i}.txt")), "not a workbook").expect("write");
        } else {
            // Different bytes per file: the same bytes twice are one submission.
            let mut bytes = std::fs::read(&one).expect("read");
            bytes.extend_from_slice(format!("{i:08}").as_bytes());
            std::fs::write(dir.join(format!("ds_{year}.xlsx")), bytes).expect("write");
        }
    }
}

/// Runs the binary with stderr on a pseudo-terminal (stdout discarded) and
/// returns the exit code and every byte the terminal received.
fn run_on_terminal(project: &Project, args: &[&str]) -> (Option<i32>, String) {
    // The terminal gets a size, as a real one has: bars fit their width.
    let script = r#"
import fcntl, os, pty, struct, subprocess, sys, termios
master, slave = pty.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
env = dict(os.environ, TERM="xterm-256color")
env.pop("NHANLUC_LOG", None)
child = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=slave, env=env)
os.close(slave)
seen = bytearray()
while True:
    try:
        chunk = os.read(master, 65536)
    except OSError:  # EIO: the child closed its end
        break
    if not chunk:
        break
    seen += chunk
code = child.wait()
sys.stdout.buffer.write(seen)
sys.exit(code)
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_nhanluc"))
        .arg("--config")
        .arg(project.config_file())
        .args(args)
        .env_remove("NHANLUC_CONFIG")
        .env_remove("NHANLUC_LOG_FORMAT")
        .stderr(Stdio::inherit())
        .output()
        .expect("python3 with its pty module");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Runs the binary with stderr on a pipe.
fn run_on_pipe(project: &Project, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nhanluc"))
        .arg("--config")
        .arg(project.config_file())
        .args(args)
        .env_remove("NHANLUC_CONFIG")
        .env_remove("NHANLUC_LOG")
        .env_remove("NHANLUC_LOG_FORMAT")
        .stdin(Stdio::null())
        .output()
        .expect("run nhanluc")
}

/// Warning lines that mention `what`.
fn warnings_about(log: &str, what: &str) -> usize {
    log.lines()
        .filter(|l| l.contains("WARN") && l.contains(what))
        .count()
}

fn lines_with<'a>(text: &'a str, needle: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.contains(needle)).collect()
}

/// The counters `N/TOTAL unit` a bar showed, e.g. ("files", 200) → every N seen.
fn counters(screen: &str, total: usize, unit: &str) -> Vec<usize> {
    let pattern = regex::Regex::new(&format!(r"(\d+)/{total} {unit}")).expect("regex");
    pattern
        .captures_iter(screen)
        .filter_map(|c| c[1].parse().ok())
        .collect()
}

#[test]
fn a_terminal_sees_progress_bars_during_a_200_file_run() {
    let project = Project::new();
    inbox(&project, FILES, BROKEN);
    add_job(&project);
    let (code, screen) = run_on_terminal(&project, &["run", "bars"]);
    assert_eq!(code, Some(0), "{screen}");
    assert_eq!(
        count_files(&project.inbox(), "xlsx"),
        0,
        "the ingest ran:\n{screen}"
    );

    let files = counters(&screen, FILES, "files");
    assert!(
        !files.is_empty(),
        "no ingest bar (\"N/{FILES} files\") on the terminal:\n{screen}"
    );
    assert!(
        files.iter().any(|&n| 0 < n && n < FILES),
        "the bar showed no count between the first and last file: {files:?}"
    );
    assert!(
        screen.contains("=>") && screen.contains("rows/s") && screen.contains("ETA"),
        "the ingest bar has its bar, rate and ETA:\n{screen}"
    );
    let queries = regex::Regex::new(r"\d+/\d+ queries").expect("regex");
    assert!(
        queries.is_match(&screen),
        "no bar for the indicator queries:\n{screen}"
    );
    let messages = regex::Regex::new(r"\d+/\d+ messages").expect("regex");
    assert!(
        messages.is_match(&screen),
        "no bar for the delivery of the departments' feedback:\n{screen}"
    );
    // Log lines are still shown, above the bars: the summary and each refusal.
    assert_eq!(
        warnings_about(&screen, "quarantined"),
        BROKEN,
        "each quarantined file is a warning:\n{screen}"
    );
    assert!(screen.contains("ingest finished"), "{screen}");
    assert!(
        !screen.contains("DEBUG"),
        "per-file lines at the default level:\n{screen}"
    );
}

#[test]
fn a_pipe_gets_a_few_summary_lines_and_no_bar_for_200_files() {
    let project = Project::new();
    inbox(&project, FILES, BROKEN);
    add_job(&project);
    let out = run_on_pipe(&project, &["run", "bars"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        count_files(&project.inbox(), "xlsx"),
        0,
        "the ingest ran:\n{stderr}"
    );
    assert!(
        !stderr.contains('\r') && !stderr.contains('\u{1b}'),
        "carriage returns or escape sequences on a pipe:\n{stderr}"
    );
    assert!(!stderr.contains("ETA"), "a bar on a pipe:\n{stderr}");
    let info = lines_with(&stderr, " INFO ");
    assert!(
        info.len() <= 36,
        "{} info lines for {FILES} files:\n{stderr}",
        info.len()
    );
    for summary in [
        "ingest finished",
        "snapshots refreshed",
        "indicators written",
        "delivery finished",
    ] {
        assert!(
            !lines_with(&stderr, summary).is_empty(),
            "no {summary:?} line:\n{stderr}"
        );
    }
    let ingest = lines_with(&stderr, "ingest finished");
    assert!(
        ingest[0].contains(&format!("files={FILES}"))
            && ingest[0].contains(&format!("accepted={}", FILES - BROKEN))
            && ingest[0].contains(&format!("quarantined={BROKEN}")),
        "{}",
        ingest[0]
    );
    assert_eq!(
        warnings_about(&stderr, "quarantined"),
        BROKEN,
        "one warning per quarantined file:\n{stderr}"
    );
}

#[test]
fn per_item_lines_come_with_verbose_and_quiet_keeps_only_warnings() {
    let project = Project::new();
    inbox(&project, 6, 1);
    let out = run_on_pipe(&project, &["-v", "ingest"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        lines_with(&stderr, "accepted file=").len(),
        5,
        "one debug line per accepted file with -v:\n{stderr}"
    );

    let quiet = Project::new();
    inbox(&quiet, 6, 1);
    let (code, screen) = run_on_terminal(&quiet, &["--quiet", "ingest"]);
    assert_eq!(code, Some(0), "{screen}");
    assert!(
        counters(&screen, 6, "files").is_empty() && !screen.contains("INFO"),
        "--quiet on a terminal shows a bar or info lines:\n{screen}"
    );
    assert_eq!(
        warnings_about(&screen, "quarantined"),
        1,
        "--quiet still shows the warning:\n{screen}"
    );
}

#[test]
fn json_log_lines_carry_the_fields_at_the_top_level() {
    let project = Project::new();
    inbox(&project, 4, 1);
    let out = run_on_pipe(&project, &["--log-format", "json", "ingest"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let events: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let summary = events
        .iter()
        .find(|e| e["message"] == "ingest finished")
        .unwrap_or_else(|| panic!("no summary event:\n{stderr}"));
    assert_eq!(summary["level"], "INFO");
    assert_eq!(summary["files"], 4);
    assert_eq!(summary["accepted"], 3);
    assert_eq!(summary["quarantined"], 1);
    let warning = events
        .iter()
        .find(|e| e["message"] == "quarantined")
        .unwrap_or_else(|| panic!("no warning event:\n{stderr}"));
    assert_eq!(warning["level"], "WARN");
    assert!(
        warning["file"]
            .as_str()
            .is_some_and(|f| f.ends_with(".txt")),
        "{warning}"
    );

    let bad = run_on_pipe(&project, &["--log-format", "xml", "status"]);
    assert_eq!(bad.status.code(), Some(2), "an unknown format is bad usage");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("text or json"));
}
