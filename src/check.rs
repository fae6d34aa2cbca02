//! `nhanluc check`: everything a run will read, checked before a run needs
//! it, every problem listed (not only the first): the config file, the
//! department registry, the job files, the form templates, the indicator SQL
//! (planned and run on an empty warehouse), the digest templates (parsed and
//! rendered on samples), the folders (writable) and the state database, and
//! on request the SMTP server. Reads only: no folder is created, the state is
//! not migrated, the run lock is not taken.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::config::{self, ConfigError, Paths};
use crate::error_chain::chain;

/// What a problem is about, by the file it is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `nhanluc.toml`.
    Config,
    /// The department registry.
    Registry,
    /// A job file.
    Job,
    /// A form template of the templates folder.
    FormTemplate,
    /// An indicator SQL file.
    Indicator,
    /// A digest message template.
    DigestTemplate,
    /// A folder a run writes to.
    Path,
    /// The state database.
    State,
    /// The SMTP server.
    Smtp,
}

/// One thing wrong, in one file.
#[derive(Debug, Clone)]
pub struct Problem {
    pub kind: Kind,
    /// The file (or folder) it is in, as the analyst edits it.
    pub file: PathBuf,
    /// One line: the key, line or query and what is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", shown(&self.file), self.message)
    }
}

/// Everything checked, and what was wrong.
#[derive(Debug, Default)]
pub struct Report {
    pub config_file: PathBuf,
    pub problems: Vec<Problem>,
    pub departments: usize,
    pub jobs: usize,
    /// Form templates, built-in and overlay; `None` when the overlay does not read.
    pub templates: Option<usize>,
    /// Indicator files planned; `None` when the configuration does not load.
    pub indicators: Option<usize>,
    pub digest_templates: usize,
    /// Folders and files whose use was checked.
    pub paths: usize,
    /// The SMTP server checked (`host:port`), with `--smtp`.
    pub smtp: Option<String>,
}

impl Report {
    /// Whether nothing was wrong.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The last line of the output: what was checked, or how many problems.
    pub fn summary(&self) -> String {
        if !self.is_ok() {
            return format!(
                "check: {} problem(s) in {} and the files it names{}",
                self.problems.len(),
                shown(&self.config_file),
                if self.indicators.is_none() {
                    " (the indicator SQL and the sample messages are checked once the configuration loads)"
                } else {
                    ""
                }
            );
        }
        let counted = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        let mut text = format!(
            "check: {} is fine: {}, {}, {}, {}, {}, {}",
            shown(&self.config_file),
            counted(self.departments, "department"),
            counted(self.jobs, "job"),
            counted(self.templates.unwrap_or(0), "form template"),
            counted(self.indicators.unwrap_or(0), "indicator file"),
            counted(self.digest_templates, "digest template"),
            counted(self.paths, "path")
        );
        if let Some(server) = &self.smtp {
            text.push_str(&format!(", SMTP server {server} accepts the connection"));
        }
        text
    }
}

/// Checks the config file and everything it names; with `smtp`, also that the
/// SMTP server answers and accepts the login.
pub async fn check(config_file: &Path, smtp: bool) -> Report {
    let checked = config::check(config_file);
    let mut report = Report {
        config_file: config_file.to_path_buf(),
        departments: checked.departments,
        jobs: checked.jobs,
        templates: checked.templates,
        ..Report::default()
    };
    for e in &checked.problems {
        report
            .problems
            .push(config_problem(e, checked.paths.as_ref()));
    }
    let config = checked.config.as_ref();

    if let Some(config) = config {
        match crate::indicators::check_definitions(config).await {
            Ok((count, failures)) => {
                report.indicators = Some(count);
                for failure in failures {
                    let overlay = config.paths.indicators.join(&failure.file);
                    report.problems.push(Problem {
                        kind: Kind::Indicator,
                        file: if overlay.is_file() {
                            overlay
                        } else {
                            PathBuf::from(format!("built-in {}", failure.file))
                        },
                        message: one_line(&failure.message),
                    });
                }
            }
            Err(e) => report.problems.push(Problem {
                kind: Kind::Indicator,
                file: config.paths.indicators.clone(),
                message: one_line(&chain(&e)),
            }),
        }
        for e in crate::catalogue::check_indicator_labels(&config.paths.indicators) {
            report.problems.push(label_problem(&e));
        }
    }

    if let Some(paths) = &checked.paths {
        let (count, problems) = crate::message_templates::check(
            &paths.digest_templates,
            config,
            &[
                crate::digest::template_samples,
                crate::notify::template_samples,
            ],
        );
        report.digest_templates = count;
        report
            .problems
            .extend(problems.into_iter().map(|p| Problem {
                kind: Kind::DigestTemplate,
                file: p.file,
                message: one_line(&p.message),
            }));
        report.paths = check_paths(paths, &mut report.problems);
    }

    // Without --smtp too: a run would refuse to start (exit 2).
    if let Some(config) = config
        && let Err(e) = crate::mail::smtp_credentials(config)
    {
        report.problems.push(Problem {
            kind: Kind::Smtp,
            file: config.file.clone(),
            message: format!(
                "smtp.password_env: the variable {} is {} in this environment: run, serve and digest refuse to start",
                e.variable, e.how
            ),
        });
    }
    if smtp {
        match config.map(|c| (c, &c.smtp)) {
            // Without the password there is no login to try: said above.
            Some((config, Some(_))) if crate::mail::smtp_credentials(config).is_err() => {}
            Some((config, Some(server))) => {
                let name = format!("{}:{}", server.host, server.port);
                match crate::mail::probe(config).await {
                    Ok(()) => report.smtp = Some(name),
                    Err(message) => report.problems.push(Problem {
                        kind: Kind::Smtp,
                        file: config.file.clone(),
                        message: format!("smtp: {name}: {message}"),
                    }),
                }
            }
            Some((config, None)) => report.problems.push(Problem {
                kind: Kind::Smtp,
                file: config.file.clone(),
                message: "smtp: --smtp given but there is no [smtp] table (mail goes to paths.outbox as .eml files)".into(),
            }),
            // The SMTP settings are part of the configuration, already reported.
            None => {}
        }
    }
    report
}

/// A configuration error as a problem: its kind from the file it names, its
/// message on one line without the file (shown before it).
fn config_problem(e: &ConfigError, paths: Option<&Paths>) -> Problem {
    let file = e.file().to_path_buf();
    let kind = match (e, paths) {
        (ConfigError::Template(_), _) => Kind::FormTemplate,
        (_, Some(p)) if file == p.departments => Kind::Registry,
        (_, Some(p)) if file.starts_with(&p.jobs) => Kind::Job,
        (_, Some(p)) if file.starts_with(&p.templates) => Kind::FormTemplate,
        _ => Kind::Config,
    };
    // The file is shown before the message: an error that says only "the
    // config file <file>" gives way to its cause (the parser's message);
    // one that starts with "<file>: " loses that prefix.
    let own = e.to_string();
    let text = chain(e);
    let named = file.display().to_string();
    let message = if own.ends_with(&named) {
        text.strip_prefix(&own)
            .map(|rest| rest.trim_start_matches(": "))
            .filter(|rest| !rest.is_empty())
            .unwrap_or(&text)
    } else {
        text.strip_prefix(&format!("{named}: ")).unwrap_or(&text)
    };
    Problem {
        kind,
        file,
        message: one_line(message),
    }
}

/// A refused indicator label file as a problem: the message without the
/// file (shown before it); a built-in file is named `built-in <name>`.
fn label_problem(e: &crate::catalogue::CatalogueError) -> Problem {
    use crate::catalogue::CatalogueError;
    let message = match e {
        CatalogueError::Read { source, .. } => format!("cannot read: {source}"),
        CatalogueError::Parse { source, .. } => source.to_string(),
        CatalogueError::Invalid { message, .. } => message.clone(),
    };
    let file = e.file();
    Problem {
        kind: Kind::Indicator,
        // A built-in file is named by its bare name, the folder's by its path.
        file: if file.parent().is_some_and(|p| !p.as_os_str().is_empty()) {
            file.to_path_buf()
        } else {
            PathBuf::from(format!("built-in {}", file.display()))
        },
        message: one_line(&message),
    }
}

/// A message on one line. A TOML error's drawing of the line becomes
/// "line N: `the line`: what is wrong", which names the key.
fn one_line(message: &str) -> String {
    let lines: Vec<&str> = message.lines().collect();
    if let Some(first) = lines.first()
        && let Some(position) = first.strip_prefix("TOML parse error at line ")
    {
        let line = position.split(',').next().unwrap_or(position).trim();
        let quoted = lines
            .iter()
            .find_map(|l| l.strip_prefix(&format!("{line} | ")))
            .map(|l| format!("`{}`: ", l.trim()))
            .unwrap_or_default();
        // After the drawing (the line of carets) comes what is wrong.
        let what: Vec<&str> = lines
            .iter()
            .skip_while(|l| !l.trim_start().starts_with('|') || !l.contains('^'))
            .skip(1)
            .map(|l| l.trim())
            .filter(|l| !l.is_empty())
            .collect();
        return format!("line {line}: {quoted}{}", what.join("; "));
    }
    lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// A path as the analyst typed it when under the current folder.
fn shown(path: &Path) -> String {
    let relative = std::env::current_dir()
        .ok()
        .and_then(|dir| path.strip_prefix(dir).ok().map(Path::to_path_buf));
    relative
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

/// The folders a run writes to, the folders it reads, and the state
/// database; returns how many were checked.
fn check_paths(paths: &Paths, problems: &mut Vec<Problem>) -> usize {
    let state_folder = paths.state.parent().unwrap_or(Path::new("."));
    let written: [(&str, &Path); 6] = [
        ("paths.inbox", &paths.inbox),
        ("paths.archive", &paths.archive),
        ("paths.quarantine", &paths.quarantine),
        ("paths.warehouse", &paths.warehouse),
        ("paths.outbox", &paths.outbox),
        ("paths.state (its folder)", state_folder),
    ];
    for (key, folder) in written {
        if let Err(message) = writable_folder(folder) {
            problems.push(Problem {
                kind: Kind::Path,
                file: folder.to_path_buf(),
                message: format!("{key}: {message}"),
            });
        }
    }
    // Optional: a missing one means the built-ins.
    let read: [(&str, &Path); 3] = [
        ("paths.templates", &paths.templates),
        ("paths.indicators", &paths.indicators),
        ("paths.digest_templates", &paths.digest_templates),
    ];
    for (key, folder) in read {
        if folder.exists() && !folder.is_dir() {
            problems.push(Problem {
                kind: Kind::Path,
                file: folder.to_path_buf(),
                message: format!("{key}: is not a folder"),
            });
        }
    }
    if let Err(message) = state_opens(&paths.state) {
        problems.push(Problem {
            kind: Kind::State,
            file: paths.state.clone(),
            message: format!("paths.state: {message}"),
        });
    }
    written.len() + read.len() + 1
}

/// A folder a run writes into: it exists and takes a file, or the nearest
/// folder above it that exists does (a run creates the rest). Nothing is left behind.
fn writable_folder(folder: &Path) -> Result<(), String> {
    if folder.is_dir() {
        return probe(folder).map_err(|e| format!("cannot write in it: {e}"));
    }
    if folder.exists() {
        return Err("exists and is not a folder".into());
    }
    let mut above = folder.parent();
    while let Some(dir) = above {
        if dir.is_dir() {
            return probe(dir).map_err(|e| {
                format!(
                    "does not exist and cannot be created: cannot write in {}: {e}",
                    dir.display()
                )
            });
        }
        if dir.exists() {
            return Err(format!(
                "cannot be created: {} is a file, not a folder",
                dir.display()
            ));
        }
        above = dir.parent();
    }
    Err("no folder above it exists".into())
}

/// Creates and removes a file in `dir`.
fn probe(dir: &Path) -> std::io::Result<()> {
    let file = dir.join(format!(".nhanluc-check-{}", std::process::id()));
    std::fs::File::options()
        .write(true)
        .create_new(true)
        .open(&file)?;
    std::fs::remove_file(&file)
}

/// The state database, if it exists, opens read-write as an SQLite database.
/// It is neither created nor migrated (its folder is checked with the others).
fn state_opens(path: &Path) -> Result<(), String> {
    if !path.exists() {
        return Ok(());
    }
    if path.is_dir() {
        return Err("is a folder, not a database file".into());
    }
    let connection =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)
            .map_err(|e| format!("does not open: {e}"))?;
    connection
        .query_row("SELECT count(*) FROM sqlite_master", [], |row| {
            row.get::<_, i64>(0)
        })
        .map_err(|e| format!("is not a readable SQLite database: {e}"))?;
    if connection.is_readonly("main").unwrap_or(false) {
        return Err("opens read-only: a run could not record anything".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_toml_drawing_becomes_one_line_with_the_key() {
        let error = toml::from_str::<toml::Table>("a = 1\nb = = 2\n").expect_err("bad");
        let line = one_line(&error.to_string());
        assert!(!line.contains('\n'), "{line}");
        assert!(line.starts_with("line 2: `b = = 2`: "), "{line}");
    }

    #[test]
    fn a_folder_under_a_file_cannot_be_created_and_nothing_is_left() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("plain");
        std::fs::write(&file, "x").expect("file");
        let message = writable_folder(&file.join("sub/folder")).expect_err("refused");
        assert!(message.contains("is a file"), "{message}");
        writable_folder(&dir.path().join("new/folder")).expect("creatable");
        assert!(!dir.path().join("new").exists(), "nothing created");
        let left: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").collect();
        assert_eq!(left.len(), 1, "only the plain file is left");
    }
}
