//! Test harness: a throw-away project folder with its own config, inbox and
//! data, driven through the real `nhanluc` binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use nhanluc::model::report::SheetReport;
use nhanluc_fixtures::{Department, Form};
use rust_xlsxwriter::Workbook;
use tempfile::TempDir;

pub struct Project {
    pub dir: TempDir,
}

/// A cell to write into a test workbook.
pub enum C {
    T(&'static str),
    S(String),
    N(f64),
    Blank,
}

impl Project {
    /// A project with the repository's department registry and nightly job,
    /// an empty inbox, mail to the outbox, and no settle delay.
    pub fn new() -> Project {
        Project::with_config_extra("")
    }

    pub fn with_config_extra(extra: &str) -> Project {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        std::fs::create_dir_all(root.join("config")).expect("config dir");
        std::fs::create_dir_all(root.join("jobs")).expect("jobs dir");
        std::fs::create_dir_all(root.join("inbox")).expect("inbox");
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        std::fs::copy(
            repo.join("config/departments.toml"),
            root.join("config/departments.toml"),
        )
        .expect("departments");
        std::fs::copy(
            repo.join("jobs/nightly.toml"),
            root.join("jobs/nightly.toml"),
        )
        .expect("job");
        let config = format!(
            r#"[paths]
inbox = "../inbox"
archive = "../data/archive"
quarantine = "../data/quarantine"
warehouse = "../data/warehouse"
outbox = "../data/outbox"
state = "../data/state.sqlite3"
departments = "departments.toml"
jobs = "../jobs"

[ingest]
settle_seconds = 0

[[recipient]]
email = "chu-tich@ubnd.example.gov.vn"
scope = "province"

[[recipient]]
email = "giam-doc@syt.example.gov.vn"
scope = "department:SYT"

[[recipient]]
email = "advisor@example.org"
scope = "province"
language = "en"
{extra}
"#
        );
        std::fs::write(root.join("config/nhanluc.toml"), config).expect("config");
        Project { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn config_file(&self) -> PathBuf {
        self.root().join("config/nhanluc.toml")
    }

    pub fn inbox(&self) -> PathBuf {
        self.root().join("inbox")
    }

    pub fn data(&self) -> PathBuf {
        self.root().join("data")
    }

    pub fn warehouse(&self) -> PathBuf {
        self.data().join("warehouse")
    }

    pub fn outbox(&self) -> PathBuf {
        self.data().join("outbox")
    }

    /// Runs the binary with this project's config.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_nhanluc"))
            .arg("--config")
            .arg(self.config_file())
            .args(args)
            .env_remove("NHANLUC_CONFIG")
            .output()
            .expect("run nhanluc")
    }

    /// Runs and asserts the exit code, returning stdout.
    pub fn run_ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "nhanluc {args:?} failed ({:?})\nstdout:\n{}\nstderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn files_under(&self, dir: &Path, extension: &str) -> Vec<PathBuf> {
        let mut out = Vec::new();
        walk(dir, &mut |p| {
            if p.extension().and_then(|e| e.to_str()) == Some(extension)
                && !p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with('.'))
            {
                out.push(p.to_path_buf());
            }
        });
        out.sort();
        out
    }
}

pub fn walk(dir: &Path, f: &mut dyn FnMut(&Path)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, f);
        } else {
            f(&path);
        }
    }
}

/// How many files under `dir` (recursively) end in `.extension`.
pub fn count_files(dir: &Path, extension: &str) -> usize {
    let mut n = 0;
    walk(dir, &mut |p| {
        if p.extension().is_some_and(|e| e == extension) {
            n += 1;
        }
    });
    n
}

/// Writes `config/departments.toml` of a test project with these departments
/// (contacts `<code>@example.gov.vn`), replacing the repository's registry.
pub fn write_registry(project: &Project, departments: &[Department]) {
    let mut text = String::new();
    for d in departments {
        text.push_str(&format!(
            "[[department]]\ncode = \"{}\"\nname = \"{}\"\nlevel = \"{}\"\ncontacts = [\"{}@example.gov.vn\"]\n\n",
            d.code,
            d.name,
            d.level,
            d.code.to_lowercase()
        ));
    }
    std::fs::write(project.root().join("config/departments.toml"), text).expect("registry");
}

/// Writes a fixture form as a workbook at `path`, creating its folder.
pub fn save(form: &Form, path: &Path) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
    nhanluc_fixtures::form_workbook(form)
        .expect("workbook")
        .save(path)
        .expect("save");
}

/// Writes a one-sheet workbook with the given rows (row 1 first).
pub fn write_xlsx(path: &Path, sheet: &str, rows: &[Vec<C>]) {
    write_workbook(path, [(sheet, rows)]);
}

/// A workbook of several visible sheets, each (name, rows).
pub fn write_sheets(path: &Path, sheets: &[(&str, Vec<Vec<C>>)]) {
    write_workbook(
        path,
        sheets.iter().map(|(name, rows)| (*name, rows.as_slice())),
    );
}

fn write_workbook<'a>(path: &Path, sheets: impl IntoIterator<Item = (&'a str, &'a [Vec<C>])>) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("dir");
    }
    let mut workbook = Workbook::new();
    for (name, rows) in sheets {
        let worksheet = workbook.add_worksheet();
        worksheet.set_name(name).expect("sheet name");
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                match cell {
                    C::T(text) => worksheet.write_string(r, c, *text).map(|_| ()),
                    C::S(text) => worksheet.write_string(r, c, text).map(|_| ()),
                    C::N(n) => worksheet.write_number(r, c, *n).map(|_| ()),
                    C::Blank => Ok(()),
                }
                .expect("write");
            }
        }
    }
    workbook.save(path).expect("save workbook");
}

/// A small training list: title block, header, one row per (name, ID, course),
/// every course in `digital`.
pub fn training_rows(title: &'static str, people: &[(&str, &str, &str)]) -> Vec<Vec<C>> {
    let mut rows = vec![
        vec![C::T("DANH SÁCH KẾT QUẢ ĐÀO TẠO, BỒI DƯỠNG")],
        vec![C::T(title)],
        vec![],
        vec![
            C::T("STT"),
            C::T("Họ và tên"),
            C::T("Mã định danh"),
            C::T("Tên khóa học"),
            C::T("Nội dung bồi dưỡng"),
        ],
    ];
    for (i, (name, id, course)) in people.iter().enumerate() {
        rows.push(vec![
            C::N((i + 1) as f64),
            C::S(name.to_string()),
            C::S(id.to_string()),
            C::S(course.to_string()),
            C::T("Chuyển đổi số"),
        ]);
    }
    rows
}

/// A small staff roster: title block, header, `people` rows.
pub fn staff_rows(title: &'static str, people: &[(&str, &str, &str)]) -> Vec<Vec<C>> {
    let mut rows = vec![
        vec![C::T("UBND TỈNH ĐIỆN BIÊN")],
        vec![C::T("DANH SÁCH CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC")],
        vec![C::T(title)],
        vec![],
        vec![
            C::T("STT"),
            C::T("Họ và tên"),
            C::T("Mã định danh"),
            C::T("Trình độ chuyên môn"),
        ],
    ];
    for (i, (name, id, qualification)) in people.iter().enumerate() {
        rows.push(vec![
            C::N((i + 1) as f64),
            C::S(name.to_string()),
            C::S(id.to_string()),
            C::S(qualification.to_string()),
        ]);
    }
    rows
}

/// Runs a Python `script` (`python3 -c`, the packages `scripts/test.sh`
/// installs) with `args`, asserts it succeeded, and returns what it printed,
/// trimmed.
pub fn python<A: AsRef<std::ffi::OsStr>>(script: &str, args: &[A]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 (with the packages scripts/test.sh installs)");
    assert!(
        out.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Runs SQL in DuckDB (the Python package) and returns what it prints.
pub fn duckdb(sql: &str) -> String {
    python(
        "import sys, duckdb; rows = duckdb.sql(sys.argv[1]).fetchall(); print('\\n'.join('|'.join(str(v) for v in r) for r in rows))",
        &[sql],
    )
}

/// Asserts the row-accounting identity for every sheet of every accepted
/// submission in the ledger: data rows = loaded + rejected + skipped. Returns
/// the number of sheets checked.
pub fn assert_rows_accounted(project: &Project) -> usize {
    let db = rusqlite::Connection::open_with_flags(
        project.data().join("state.sqlite3"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open the ledger");
    let mut query = db
        .prepare(
            "SELECT source_file, rows_loaded, rows_rejected, rows_skipped, report
             FROM submissions WHERE status != 'quarantined'",
        )
        .expect("prepare");
    let submissions = query
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                [row.get::<_, i64>(1)?, row.get(2)?, row.get(3)?],
                row.get::<_, Option<String>>(4)?,
            ))
        })
        .expect("query")
        .collect::<Result<Vec<_>, _>>()
        .expect("ledger rows");
    let mut problems = Vec::new();
    let mut checked = 0;
    for (file, ledger, report) in submissions {
        let report = report.unwrap_or_else(|| panic!("{file}: no report"));
        // The library's own type, as the feedback and `status` decode it.
        let sheets: Vec<SheetReport> = serde_json::from_str(&report)
            .unwrap_or_else(|e| panic!("{file}: report JSON {e}: {report}"));
        let mut totals = [0i64; 3];
        for s in &sheets {
            let skips = s.skips.total();
            if s.data_rows != s.loaded + s.rejected_rows + skips {
                problems.push(format!("UNBALANCED {file} sheet {}: {s:?}", s.sheet));
            }
            if s.rejected_rows > s.rejects.len() || (s.rejected_rows == 0) != s.rejects.is_empty() {
                problems.push(format!("REJECTS WITHOUT REASONS {file} sheet {}", s.sheet));
            }
            for (total, n) in totals.iter_mut().zip([s.loaded, s.rejected_rows, skips]) {
                *total += n as i64;
            }
            checked += 1;
        }
        if totals != ledger {
            problems.push(format!("LEDGER TOTALS {file}: {totals:?} != {ledger:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    checked
}

/// A received or written message, decoded by Python's email package.
#[derive(Debug, serde::Deserialize)]
pub struct Eml {
    pub subject: String,
    pub to: String,
    pub message_id: String,
    pub text: String,
    pub html: String,
    /// Content-IDs (without <>) of inline PNG parts that decode as PNG.
    pub inline_png: Vec<String>,
    /// Attachments saved beside the message: (file name, saved path).
    pub attachments: Vec<(String, String)>,
}

/// Decodes an .eml (RFC 5322) file; attachments are saved into `save_dir`.
pub fn read_eml(path: &Path, save_dir: &Path) -> Eml {
    let script = r#"
import email, email.policy, json, os, sys
m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.default)
out = {"subject": str(m["subject"]), "to": str(m["to"]), "message_id": str(m["message-id"]),
       "text": m.get_body(("plain",)).get_content(), "html": "", "inline_png": [], "attachments": []}
html = m.get_body(("html",))
if html is not None:
    out["html"] = html.get_content()
for part in m.walk():
    cid = part.get("Content-ID")
    if cid and part.get_content_type() == "image/png":
        data = part.get_content()
        if data.startswith(b"\x89PNG\r\n\x1a\n"):
            out["inline_png"].append(cid.strip("<>"))
    elif part.get_filename():
        target = os.path.join(sys.argv[2], part.get_filename())
        open(target, "wb").write(part.get_content())
        out["attachments"].append([part.get_filename(), target])
print(json.dumps(out))
"#;
    std::fs::create_dir_all(save_dir).expect("save dir");
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(path)
        .arg(save_dir)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("eml json")
}

/// Python's aiosmtpd on 127.0.0.1:`port`, storing what it receives in a
/// maildir; killed when dropped.
pub struct SmtpServer {
    child: std::process::Child,
    pub port: u16,
    pub maildir: PathBuf,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Starts aiosmtpd (installed by scripts/test.sh) on `port`, its maildir
/// under `dir`, and waits until it listens.
pub fn start_smtp_on(dir: &Path, port: u16) -> SmtpServer {
    let maildir = dir.join("maildir");
    let child = Command::new("python3")
        .args([
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
            "-c",
            "aiosmtpd.handlers.Mailbox",
        ])
        .arg(&maildir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("aiosmtpd (installed by scripts/test.sh)");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the SMTP server did not start listening"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    SmtpServer {
        child,
        port,
        maildir,
    }
}

/// The messages the server has received, one file each, sorted.
pub fn received(smtp: &SmtpServer) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(smtp.maildir.join("new"))
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}
