//! The state database (SQLite): the submission ledger, job runs and the outbox.
//!
//! The warehouse is a function of the ledger: a part file is kept only while
//! the ledger has its load active, so any crash between writing files and
//! committing here is repaired by reconciling the two (see `jobs::repair`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

use crate::error_chain::path_unless_named;
use crate::model::addition::{Addition, Effect};
use crate::model::period::Period;
use crate::model::report::LedgerReport;
use crate::model::status::{RunStatus, SubmissionStatus};
use crate::model::submission::Submission;

/// Why the state database could not be opened, migrated, read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// A query or update failed.
    #[error("state database{}", path_unless_named(.path, .source))]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    /// Opening, configuring or migrating the file failed.
    #[error(
        "cannot open the state database{} (check [paths] state in the config)",
        path_unless_named(.path, .source)
    )]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "cannot create the folder of the state database {path} (check [paths] state in the config)"
    )]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "state database {path} has schema version {found}, newer than this nhanluc knows ({known}): upgrade nhanluc"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    /// The state is missing, empty or another ledger's beside
    /// an archive or warehouse that holds data: refused, nothing changed.
    #[error("{0}")]
    Lost(Box<crate::archive::LostState>),
}

/// Schema migrations, applied in order; the index + 1 is the `user_version` after each.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE submissions (
    id              INTEGER PRIMARY KEY,
    submission_id   TEXT,
    sha256          TEXT NOT NULL,
    department      TEXT,
    period          TEXT,
    source_file     TEXT NOT NULL,
    stored_as       TEXT,
    status          TEXT NOT NULL CHECK (status IN ('accepted', 'superseded', 'quarantined')),
    reason          TEXT,
    received_at     TEXT NOT NULL,
    rows_loaded     INTEGER NOT NULL DEFAULT 0,
    rows_rejected   INTEGER NOT NULL DEFAULT 0,
    rows_skipped    INTEGER NOT NULL DEFAULT 0,
    report          TEXT
);
CREATE UNIQUE INDEX submissions_by_sha ON submissions (sha256) WHERE status != 'quarantined';
CREATE INDEX submissions_by_department ON submissions (department, period);

CREATE TABLE loads (
    submission_id   TEXT NOT NULL,
    template        TEXT NOT NULL,
    department      TEXT NOT NULL,
    period          TEXT NOT NULL,
    rows            INTEGER NOT NULL,
    active          INTEGER NOT NULL,
    superseded_by   TEXT,
    PRIMARY KEY (submission_id, template)
);
CREATE INDEX loads_by_partition ON loads (department, period, template);

CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    job         TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    ended_at    TEXT,
    status      TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
    counts      TEXT,
    error       TEXT
);
CREATE INDEX runs_by_job ON runs (job, started_at);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,
    key             TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    message         BLOB NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT,
    UNIQUE (key, recipient)
);
"#,
    r#"
-- Whether the department has been sent its feedback for this file.
ALTER TABLE submissions ADD COLUMN feedback_queued INTEGER NOT NULL DEFAULT 0;
-- The quarantine reason in Vietnamese, for the department (reason holds the English).
ALTER TABLE submissions ADD COLUMN reason_vi TEXT;
"#,
    r#"
-- How far the scheduler has looked at each job's schedule: an occurrence after
-- this and before the service's next start was missed.
CREATE TABLE schedule_marks (
    job         TEXT PRIMARY KEY,
    seen_until  TEXT NOT NULL
);
"#,
    r#"
-- What the fetch step last got from each published URL.
CREATE TABLE http_sources (
    url             TEXT PRIMARY KEY,
    etag            TEXT,
    last_modified   TEXT,
    sha256          TEXT,
    fetched_at      TEXT NOT NULL
);
"#,
    r#"
-- A submission's loads are looked up when it is superseded; without this a
-- country-sized ledger is scanned once per file.
CREATE INDEX loads_by_submission ON loads (submission_id);
-- The status the submission's row in the warehouse's submissions table was
-- last written with: a record is rewritten only when its status changed.
ALTER TABLE submissions ADD COLUMN published_status TEXT;
"#,
    r#"
-- What waits in the outbox and when it is due, without reading the sent
-- messages' bodies: `serve` asks every few seconds.
CREATE INDEX outbox_waiting ON outbox (next_attempt_at) WHERE status = 'pending';
"#,
    r#"
-- `status` counts sent and waiting messages: from this index alone, instead
-- of reading past every sent message's body.
CREATE INDEX outbox_by_status ON outbox (status);
"#,
    r#"
-- The same bytes from another department are that department's own
-- submission, so a content hash is unique per department, not overall.
DROP INDEX submissions_by_sha;
CREATE UNIQUE INDEX submissions_by_sha ON submissions (department, sha256) WHERE status != 'quarantined';
-- A refused file's earlier entries are looked up when it is quarantined
-- (a crash may have left its move undone): without this, one scan each.
CREATE INDEX quarantined_by_source ON submissions (source_file) WHERE status = 'quarantined';
-- Inbox files that look incomplete (a zip without its end record, a compound
-- file shorter than its sectors): when each was first seen as it is now. One
-- that stays byte-identical across two runs far enough apart is quarantined.
CREATE TABLE arrival_sightings (
    source_file     TEXT PRIMARY KEY,
    len             INTEGER NOT NULL,
    mtime_ns        INTEGER,
    sha256          TEXT NOT NULL,
    first_seen_unix INTEGER NOT NULL
);
"#,
    r#"
-- Every data part file the ledger holds, with its size and
-- content hash: a part deleted or damaged by hand is found and rebuilt from
-- its archived workbook. `path` is relative to the warehouse root.
CREATE TABLE parts (
    path            TEXT PRIMARY KEY,
    submission_id   TEXT NOT NULL,
    tbl             TEXT NOT NULL,
    bytes           INTEGER NOT NULL,
    sha256          TEXT NOT NULL
);
CREATE INDEX parts_by_submission ON parts (submission_id);
-- Which ledger this is: the warehouse and the archive carry the same id in a
-- marker file, so a state recreated empty beside them is told apart from the
-- one that wrote them.
CREATE TABLE ledger_identity (id TEXT NOT NULL);
INSERT INTO ledger_identity (id) VALUES (lower(hex(randomblob(16))));
"#,
    r#"
-- A message the server refuses for good (an SMTP 5xx) is
-- given up after [smtp] max_attempts_refused refusals: status 'failed', never
-- retried automatically, shown by `status`. SQLite cannot alter a CHECK, so
-- the table is rebuilt (its rows and ids kept; its indexes made again).
CREATE TABLE outbox_rebuilt (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,
    key             TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    message         BLOB NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT,
    -- How many attempts the server refused for good (transient failures are not counted).
    refusals        INTEGER NOT NULL DEFAULT 0,
    failed_at       TEXT,
    UNIQUE (key, recipient)
);
INSERT INTO outbox_rebuilt (id, kind, key, recipient, subject, message, status, attempts, next_attempt_at, last_error, created_at, sent_at)
    SELECT id, kind, key, recipient, subject, message, status, attempts, next_attempt_at, last_error, created_at, sent_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_rebuilt RENAME TO outbox;
CREATE INDEX outbox_waiting ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_by_status ON outbox (status);
"#,
    // 11: the format of each stored report (model::report::LEDGER_REPORT_VERSION),
    // so a later build's report is refused by name, not misread. Every report
    // written before this column is format 1.
    "ALTER TABLE submissions ADD COLUMN report_version INTEGER NOT NULL DEFAULT 1;",
    // Additions (DESIGN, Warehouse): a load's declared addition ("supplement",
    // "batch:N"; NULL: a whole list), and what each accepted file did to the
    // rows held (JSON of `model::addition::Effect`).
    r#"
ALTER TABLE loads ADD COLUMN addition TEXT;
ALTER TABLE submissions ADD COLUMN effect TEXT;
"#,
];

/// The state database (SQLite): the submission ledger, the loads, the run
/// history, the outbox and the schedule marks.
pub struct State {
    conn: Connection,
    path: PathBuf,
}

/// A new accepted submission, recorded together with its loads.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    /// The submission as the ledger will hold it (recorded as accepted).
    pub submission: Submission,
    pub report: LedgerReport,
    /// (template, rows) for each template the workbook filled.
    pub loads: Vec<(String, i64)>,
    /// Declared an addition: its loads add to the active ones instead of
    /// replacing them (a batch replaces only the same batch).
    pub addition: Option<Addition>,
    /// What it does to the rows held, for the feedback.
    pub effect: Effect,
}

/// A load whose rows are in the warehouse, with the file it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldLoad {
    pub submission_id: String,
    pub source_file: String,
    pub received_at: String,
    pub rows: i64,
    pub addition: Option<Addition>,
}

/// A part of the warehouse the ledger counts: one submission's rows of one
/// template for one period and department.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Load {
    pub submission_id: String,
    pub template: String,
    pub department: String,
    pub period: String,
}

/// A refused file, recorded with why.
#[derive(Debug, Clone)]
pub struct NewQuarantine<'a> {
    pub sha256: &'a str,
    pub department: Option<&'a str>,
    pub source_file: &'a str,
    /// Where it went, relative to the quarantine folder.
    pub stored_as: &'a str,
    pub reason_vi: &'a str,
    pub reason_en: &'a str,
    /// The per-sheet report when the file was read, for the feedback.
    pub report: &'a LedgerReport,
}

/// A ledger entry whose department is owed feedback.
#[derive(Debug, Clone)]
pub struct FeedbackRow {
    pub id: i64,
    pub submission_id: String,
    pub department: String,
    pub period: String,
    pub source_file: String,
    pub status: SubmissionStatus,
    pub reason: String,
    pub reason_vi: String,
    /// The per-sheet report as stored: JSON of format `report_version`
    /// (decoded by the feedback, which names the entry when it cannot).
    pub report: String,
    /// The format of `report` ([`LedgerReport::from_stored`]).
    pub report_version: u32,
    pub received_at: String,
    /// What the file did to the rows held (accepted files).
    pub effect: Effect,
}

/// A quarantined file as the ledger holds it.
#[derive(Debug, Clone)]
pub struct QuarantineRow {
    pub received_at: String,
    pub department: Option<String>,
    pub source_file: String,
    pub reason: String,
}

/// What the ledger holds for one department, period and form (template):
/// the loads whose rows are in the warehouse and those later replaced.
#[derive(Debug, Clone)]
pub struct SubmissionCell {
    pub department: String,
    pub period: String,
    pub template: String,
    /// Files whose rows for this form are held (more than one: additions).
    pub active_files: i64,
    /// Files whose rows for this form were replaced by a newer file.
    pub superseded_files: i64,
    /// Rows held, summed over the active files.
    pub rows: i64,
    /// The most recently recorded active file (none if every file was replaced).
    pub latest_submission_id: Option<String>,
    pub latest_received_at: Option<String>,
}

/// How many ledger entries have each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LedgerCounts {
    pub accepted: i64,
    pub superseded: i64,
    pub quarantined: i64,
}

/// A quarantined file with its reason in both languages.
#[derive(Debug, Clone)]
pub struct QuarantinedFile {
    pub received_at: String,
    pub department: Option<String>,
    pub source_file: String,
    pub stored_as: Option<String>,
    pub reason_en: String,
    pub reason_vi: String,
}

/// A message waiting in the outbox, without its body.
#[derive(Debug, Clone)]
pub struct WaitingMessage {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub attempts: i64,
    pub created_at: String,
    pub next_attempt_at: Option<String>,
    pub last_error: Option<String>,
}

/// The validators and content hash of a URL's last download.
#[derive(Debug, Clone, Default)]
pub struct LastFetch {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub sha256: Option<String>,
}

/// One run of a job in the history.
#[derive(Debug, Clone)]
pub struct RunRow {
    pub id: i64,
    pub job: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub status: String,
    pub counts: Option<String>,
    pub error: Option<String>,
}

/// A message in the outbox: what it is, to whom, its bytes and how its
/// delivery went so far.
#[derive(Debug, Clone)]
pub struct OutboxItem {
    pub id: i64,
    pub kind: String,
    pub key: String,
    pub recipient: String,
    pub subject: String,
    pub message: Vec<u8>,
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    pub last_error: Option<String>,
}

/// The current time as stored in the database: RFC 3339, UTC, milliseconds.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl State {
    /// Opens (creating it if missing) the database at `path` and brings its
    /// schema up to date.
    pub fn open(path: &Path) -> Result<State, StateError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| StateError::Folder {
                path: path.to_path_buf(),
                source,
            })?;
        }
        let conn = Connection::open(path).map_err(|source| StateError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let mut state = State {
            conn,
            path: path.to_path_buf(),
        };
        state.configure_and_migrate()?;
        Ok(state)
    }

    fn err(&self) -> impl FnOnce(rusqlite::Error) -> StateError + '_ {
        move |source| StateError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Where the database is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn configure_and_migrate(&mut self) -> Result<(), StateError> {
        let path = self.path.clone();
        let wrap = |source| StateError::Open {
            path: path.clone(),
            source,
        };
        self.conn
            .busy_timeout(std::time::Duration::from_secs(30))
            .map_err(wrap)?;
        self.conn
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
            )
            .map_err(wrap)?;
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(wrap)?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(StateError::TooNew {
                path: self.path.clone(),
                found: version,
                known,
            });
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self.conn.transaction().map_err(wrap)?;
            tx.execute_batch(sql).map_err(wrap)?;
            tx.pragma_update(None, "user_version", index as i64 + 1)
                .map_err(wrap)?;
            tx.commit().map_err(wrap)?;
        }
        Ok(())
    }

    // ---- ledger ---------------------------------------------------------------

    /// The department's accepted (or superseded) submission with these
    /// bytes, if any: the same bytes from another department are not it.
    pub(crate) fn submission_by_sha(
        &self,
        department: &str,
        sha256: &str,
    ) -> Result<Option<Submission>, StateError> {
        self.conn
            .query_row(
                &format!("{SUBMISSION_SELECT} WHERE s.department = ?1 AND s.sha256 = ?2 AND s.status != 'quarantined' GROUP BY s.id"),
                [department, sha256],
                submission_from_row,
            )
            .optional()
            .map_err(self.err())
    }

    /// Records accepted submissions, in order, in one transaction: each makes
    /// its loads the active ones for their department, period and template.
    /// Returns, per submission, the loads it superseded.
    pub fn record_submissions(
        &mut self,
        submissions: &[NewSubmission],
    ) -> Result<Vec<Vec<Load>>, StateError> {
        let path = self.path.clone();
        let wrap = |source| StateError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(wrap)?;
        let superseded = submissions
            .iter()
            .map(|s| record_submission_in(&tx, s).map_err(wrap))
            .collect::<Result<Vec<_>, _>>()?;
        tx.commit().map_err(wrap)?;
        Ok(superseded)
    }

    /// Runs `work` in one transaction: many small writes, one commit (one
    /// flush of the journal instead of one per write). Rolled back if
    /// `work` fails.
    pub fn in_transaction<T, E: From<StateError>>(
        &self,
        work: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        let tx = self.conn.unchecked_transaction().map_err(self.err())?;
        let value = work()?;
        tx.commit().map_err(self.err())?;
        Ok(value)
    }

    /// The status each submission's warehouse record was last written with,
    /// by submission id (none for one never written).
    pub fn published_statuses(
        &self,
    ) -> Result<std::collections::HashMap<String, SubmissionStatus>, StateError> {
        let mut stmt = self
            .conn
            .prepare("SELECT submission_id, published_status FROM submissions WHERE submission_id IS NOT NULL AND published_status IS NOT NULL")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(self.err())?
            .collect::<Result<_, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    /// Records that these submissions' warehouse records now carry these statuses.
    pub(crate) fn mark_published(
        &self,
        published: &[(&str, SubmissionStatus)],
    ) -> Result<(), StateError> {
        let tx = self.conn.unchecked_transaction().map_err(self.err())?;
        {
            let mut update = tx
                .prepare("UPDATE submissions SET published_status = ?2 WHERE submission_id = ?1")
                .map_err(self.err())?;
            for (submission_id, status) in published {
                update
                    .execute(params![submission_id, status.as_str()])
                    .map_err(self.err())?;
            }
        }
        tx.commit().map_err(self.err())
    }

    /// (department, content hash) of every accepted or superseded submission.
    pub(crate) fn known_hashes(&self) -> Result<HashSet<(String, String)>, StateError> {
        let mut stmt = self
            .conn
            .prepare("SELECT COALESCE(department, ''), sha256 FROM submissions WHERE status != 'quarantined'")
            .map_err(self.err())?;
        let hashes = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(self.err())?
            .collect::<Result<HashSet<_>, _>>()
            .map_err(self.err())?;
        Ok(hashes)
    }

    /// Accepted, superseded and quarantined files whose department has not
    /// been sent feedback yet, oldest first.
    pub(crate) fn pending_feedback(&self) -> Result<Vec<FeedbackRow>, StateError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, COALESCE(submission_id, ''), COALESCE(department, ''), COALESCE(period, ''), source_file, status, COALESCE(reason, ''), COALESCE(report, '[]'), received_at, COALESCE(reason_vi, ''), report_version, effect
                 FROM submissions WHERE feedback_queued = 0 ORDER BY id",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                Ok(FeedbackRow {
                    id: r.get(0)?,
                    submission_id: r.get(1)?,
                    department: r.get(2)?,
                    period: r.get(3)?,
                    source_file: r.get(4)?,
                    status: r.get(5)?,
                    reason: r.get(6)?,
                    report: r.get(7)?,
                    received_at: r.get(8)?,
                    reason_vi: r.get(9)?,
                    report_version: r.get(10)?,
                    effect: Effect::from_stored(r.get::<_, Option<String>>(11)?.as_deref()),
                })
            })
            .map_err(self.err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    /// Records that the feedback of submission `id` is in the outbox.
    pub(crate) fn mark_feedback_queued(&self, id: i64) -> Result<(), StateError> {
        self.conn
            .execute(
                "UPDATE submissions SET feedback_queued = 1 WHERE id = ?1",
                [id],
            )
            .map(|_| ())
            .map_err(self.err())
    }

    /// Records a quarantined file and why, in the ledger.
    pub fn record_quarantine(&self, q: &NewQuarantine<'_>) -> Result<(), StateError> {
        let (report, version) = q.report.to_stored();
        self.conn
            .execute(
                "INSERT INTO submissions (sha256, department, source_file, stored_as, status, reason, reason_vi, received_at, report, report_version)
                 VALUES (?1, ?2, ?3, ?4, 'quarantined', ?5, ?6, ?7, ?8, ?9)",
                params![q.sha256, q.department, q.source_file, q.stored_as, q.reason_en, q.reason_vi, now(), report, version],
            )
            .map(|_| ())
            .map_err(self.err())
    }

    /// Every load whose rows belong in the warehouse.
    pub(crate) fn active_loads(&self) -> Result<Vec<Load>, StateError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT submission_id, template, department, period FROM loads WHERE active = 1",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Load {
                    submission_id: r.get(0)?,
                    template: r.get(1)?,
                    department: r.get(2)?,
                    period: r.get(3)?,
                })
            })
            .map_err(self.err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    /// Accepted and superseded submissions, newest first.
    pub fn submissions(&self) -> Result<Vec<Submission>, StateError> {
        self.data_submissions("DESC")
    }

    /// Accepted and superseded submissions, by ledger id in `direction`.
    fn data_submissions(&self, direction: &str) -> Result<Vec<Submission>, StateError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "{SUBMISSION_SELECT} WHERE s.status != 'quarantined' GROUP BY s.id ORDER BY s.id {direction}"
            ))
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], submission_from_row)
            .map_err(self.err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    /// Quarantined files, newest first.
    pub fn quarantined(&self, limit: usize) -> Result<Vec<QuarantineRow>, StateError> {
        let mut stmt = self
            .conn
            .prepare("SELECT received_at, department, source_file, COALESCE(reason, '') FROM submissions WHERE status = 'quarantined' ORDER BY id DESC LIMIT ?1")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([limit as i64], |r| {
                Ok(QuarantineRow {
                    received_at: r.get(0)?,
                    department: r.get(1)?,
                    source_file: r.get(2)?,
                    reason: r.get(3)?,
                })
            })
            .map_err(self.err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    // ---- status (aggregates for `nhanluc status`) --------------------------------

    /// One entry per department, period and form the ledger has loads for,
    /// sorted by department, period and form. Two sequential scans (the
    /// loads, then the submissions' receipt times) aggregated here: at
    /// country scale SQLite's GROUP BY (a temporary B-tree) plus a lookup
    /// per cell cost several times more (benches/status.rs).
    pub fn submission_cells(&self) -> Result<Vec<SubmissionCell>, StateError> {
        use std::collections::HashMap;
        let mut received: HashMap<String, String> = HashMap::new();
        {
            let mut stmt = self
                .conn
                .prepare("SELECT submission_id, received_at FROM submissions WHERE submission_id IS NOT NULL")
                .map_err(self.err())?;
            let mut rows = stmt.query([]).map_err(self.err())?;
            while let Some(r) = rows.next().map_err(self.err())? {
                received.insert(r.get(0).map_err(self.err())?, r.get(1).map_err(self.err())?);
            }
        }
        let mut cells: HashMap<(String, String, String), SubmissionCell> = HashMap::new();
        // In the order recorded: the last active load seen is the latest.
        let mut stmt = self
            .conn
            .prepare("SELECT department, period, template, active, rows, submission_id FROM loads ORDER BY rowid")
            .map_err(self.err())?;
        let mut rows = stmt.query([]).map_err(self.err())?;
        while let Some(r) = rows.next().map_err(self.err())? {
            let department: String = r.get(0).map_err(self.err())?;
            let period: String = r.get(1).map_err(self.err())?;
            let template: String = r.get(2).map_err(self.err())?;
            let active: bool = r.get(3).map_err(self.err())?;
            let count: i64 = r.get(4).map_err(self.err())?;
            let submission_id: String = r.get(5).map_err(self.err())?;
            let cell = cells
                .entry((department.clone(), period.clone(), template.clone()))
                .or_insert_with(|| SubmissionCell {
                    department,
                    period,
                    template,
                    active_files: 0,
                    superseded_files: 0,
                    rows: 0,
                    latest_submission_id: None,
                    latest_received_at: None,
                });
            if active {
                cell.active_files += 1;
                cell.rows += count;
                cell.latest_received_at = received.get(&submission_id).cloned();
                cell.latest_submission_id = Some(submission_id);
            } else {
                cell.superseded_files += 1;
            }
        }
        let mut cells: Vec<SubmissionCell> = cells.into_values().collect();
        cells.sort_by(|a, b| {
            (&a.department, &a.period, &a.template).cmp(&(&b.department, &b.period, &b.template))
        });
        Ok(cells)
    }

    /// How many files the ledger holds as accepted, superseded and quarantined.
    pub fn ledger_counts(&self) -> Result<LedgerCounts, StateError> {
        self.conn
            .query_row(
                "SELECT COALESCE(SUM(status = 'accepted'), 0), COALESCE(SUM(status = 'superseded'), 0), COALESCE(SUM(status = 'quarantined'), 0) FROM submissions",
                [],
                |r| {
                    Ok(LedgerCounts {
                        accepted: r.get(0)?,
                        superseded: r.get(1)?,
                        quarantined: r.get(2)?,
                    })
                },
            )
            .map_err(self.err())
    }

    /// The latest quarantined files, newest first, with both reasons.
    pub fn quarantined_files(&self, limit: usize) -> Result<Vec<QuarantinedFile>, StateError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT received_at, department, source_file, stored_as, COALESCE(reason, ''), COALESCE(reason_vi, '')
                 FROM submissions WHERE status = 'quarantined' ORDER BY id DESC LIMIT ?1",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([limit as i64], |r| {
                Ok(QuarantinedFile {
                    received_at: r.get(0)?,
                    department: r.get(1)?,
                    source_file: r.get(2)?,
                    stored_as: r.get(3)?,
                    reason_en: r.get(4)?,
                    reason_vi: r.get(5)?,
                })
            })
            .map_err(self.err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    /// Messages not yet delivered, oldest first, without their bodies (which
    /// carry attachments and charts: not read to print a table).
    pub fn waiting_messages(&self) -> Result<Vec<WaitingMessage>, StateError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, kind, recipient, subject, attempts, created_at, next_attempt_at, last_error
                 FROM outbox WHERE status = 'pending' ORDER BY id",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                Ok(WaitingMessage {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    recipient: r.get(2)?,
                    subject: r.get(3)?,
                    attempts: r.get(4)?,
                    created_at: r.get(5)?,
                    next_attempt_at: r.get(6)?,
                    last_error: r.get(7)?,
                })
            })
            .map_err(self.err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    /// The last run of each job that has run, by job name.
    pub fn last_run_per_job(&self) -> Result<Vec<RunRow>, StateError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, job, started_at, ended_at, status, counts, error FROM runs
                 WHERE id IN (SELECT MAX(id) FROM runs GROUP BY job) ORDER BY job",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                Ok(RunRow {
                    id: r.get(0)?,
                    job: r.get(1)?,
                    started_at: r.get(2)?,
                    ended_at: r.get(3)?,
                    status: r.get(4)?,
                    counts: r.get(5)?,
                    error: r.get(6)?,
                })
            })
            .map_err(self.err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    // ---- runs -----------------------------------------------------------------

    /// Records the start of a run of `job`; returns its id.
    pub fn start_run(&self, job: &str) -> Result<i64, StateError> {
        self.conn
            .execute(
                "INSERT INTO runs (job, started_at, status) VALUES (?1, ?2, 'running')",
                params![job, now()],
            )
            .map_err(self.err())?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Records how run `id` ended, with its counts or its error.
    pub fn finish_run(
        &self,
        id: i64,
        status: RunStatus,
        counts: &str,
        error: Option<&str>,
    ) -> Result<(), StateError> {
        self.conn
            .execute(
                "UPDATE runs SET ended_at = ?2, status = ?3, counts = ?4, error = ?5 WHERE id = ?1",
                params![id, now(), status.as_str(), counts, error],
            )
            .map(|_| ())
            .map_err(self.err())
    }

    /// Marks runs left 'running' by a process that died as interrupted. Called
    /// while holding the run lock, so no live run is touched.
    pub(crate) fn mark_interrupted_runs(&self) -> Result<usize, StateError> {
        self.conn
            .execute(
                "UPDATE runs SET status = 'interrupted', ended_at = ?1, error = 'the process ended before the run finished' WHERE status = 'running'",
                [now()],
            )
            .map_err(self.err())
    }

    /// Until when the scheduler has watched this job's schedule (RFC 3339).
    pub fn seen_until(&self, job: &str) -> Result<Option<String>, StateError> {
        self.conn
            .query_row(
                "SELECT seen_until FROM schedule_marks WHERE job = ?1",
                [job],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err())
    }

    /// Records that the schedule of `job` was looked at up to `at`, so
    /// catch-up after a restart starts from there.
    pub(crate) fn set_seen_until(&self, job: &str, at: &str) -> Result<(), StateError> {
        self.conn
            .execute(
                "INSERT INTO schedule_marks (job, seen_until) VALUES (?1, ?2)
                 ON CONFLICT (job) DO UPDATE SET seen_until = excluded.seen_until",
                params![job, at],
            )
            .map(|_| ())
            .map_err(self.err())
    }

    /// What the last fetch of a URL got, for a conditional request.
    pub(crate) fn last_fetch(&self, url: &str) -> Result<LastFetch, StateError> {
        self.conn
            .query_row(
                "SELECT etag, last_modified, sha256 FROM http_sources WHERE url = ?1",
                [url],
                |r| {
                    Ok(LastFetch {
                        etag: r.get(0)?,
                        last_modified: r.get(1)?,
                        sha256: r.get(2)?,
                    })
                },
            )
            .optional()
            .map(Option::unwrap_or_default)
            .map_err(self.err())
    }

    /// Records a URL's last download: its validators and content hash.
    pub(crate) fn record_fetch(
        &self,
        url: &str,
        etag: Option<&str>,
        last_modified: Option<&str>,
        sha256: &str,
    ) -> Result<(), StateError> {
        self.conn
            .execute(
                "INSERT INTO http_sources (url, etag, last_modified, sha256, fetched_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified,
                     sha256 = excluded.sha256, fetched_at = excluded.fetched_at",
                params![url, etag, last_modified, sha256, now()],
            )
            .map(|_| ())
            .map_err(self.err())
    }

    /// The last `limit` runs, newest first.
    pub fn recent_runs(&self, limit: usize) -> Result<Vec<RunRow>, StateError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, job, started_at, ended_at, status, counts, error FROM runs ORDER BY id DESC LIMIT ?1")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([limit as i64], |r| {
                Ok(RunRow {
                    id: r.get(0)?,
                    job: r.get(1)?,
                    started_at: r.get(2)?,
                    ended_at: r.get(3)?,
                    status: r.get(4)?,
                    counts: r.get(5)?,
                    error: r.get(6)?,
                })
            })
            .map_err(self.err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    // ---- outbox -----------------------------------------------------------------

    /// Queues a message unless one with the same key already went (or waits)
    /// for this recipient. Returns whether it was queued.
    pub fn enqueue(
        &self,
        kind: &str,
        key: &str,
        recipient: &str,
        subject: &str,
        message: &[u8],
    ) -> Result<bool, StateError> {
        let inserted = self
            .conn
            .execute(
                "INSERT INTO outbox (kind, key, recipient, subject, message, status, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6)
                 ON CONFLICT (key, recipient) DO NOTHING",
                params![kind, key, recipient, subject, message, now()],
            )
            .map_err(self.err())?;
        Ok(inserted == 1)
    }

    /// Messages not yet delivered, oldest first.
    pub fn pending(&self) -> Result<Vec<OutboxItem>, StateError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, kind, key, recipient, subject, message, attempts, next_attempt_at, last_error FROM outbox WHERE status = 'pending' ORDER BY id")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], outbox_item_from_row)
            .map_err(self.err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    /// Records that outbox message `id` was delivered.
    pub fn mark_sent(&self, id: i64) -> Result<(), StateError> {
        self.conn
            .execute(
                "UPDATE outbox SET status = 'sent', sent_at = ?2, attempts = attempts + 1, last_error = NULL WHERE id = ?1",
                params![id, now()],
            )
            .map(|_| ())
            .map_err(self.err())
    }

    /// Records a failed attempt at outbox message `id` and when to try again.
    pub fn mark_failed(
        &self,
        id: i64,
        error: &str,
        next_attempt_at: &str,
    ) -> Result<(), StateError> {
        self.conn
            .execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3 WHERE id = ?1",
                params![id, error, next_attempt_at],
            )
            .map(|_| ())
            .map_err(self.err())
    }

    /// Messages not yet delivered whose next attempt is due by `by` (RFC 3339),
    /// oldest first; a message never tried is always due.
    pub fn pending_due(&self, by: &str) -> Result<Vec<OutboxItem>, StateError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, kind, key, recipient, subject, message, attempts, next_attempt_at, last_error
                 FROM outbox INDEXED BY outbox_waiting
                 WHERE status = 'pending'
                   AND (julianday(next_attempt_at) IS NULL OR julianday(next_attempt_at) <= julianday(?1))
                 ORDER BY id",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([by], outbox_item_from_row)
            .map_err(self.err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    /// When the first waiting message is due: `None` when nothing waits; a
    /// time in the past when a message is due now (one never tried, or one
    /// whose next attempt cannot be read, is due at once).
    pub fn next_outbox_attempt(&self) -> Result<Option<chrono::DateTime<chrono::Utc>>, StateError> {
        let earliest: Option<f64> = self
            .conn
            .query_row(
                "SELECT MIN(COALESCE(julianday(next_attempt_at), 0)) FROM outbox WHERE status = 'pending'",
                [],
                |r| r.get(0),
            )
            .map_err(self.err())?;
        Ok(earliest.map(|julian_day| {
            // Julian day 2440587.5 is the Unix epoch.
            let millis = ((julian_day - 2_440_587.5) * 86_400_000.0).round() as i64;
            chrono::DateTime::from_timestamp_millis(millis)
                .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC)
        }))
    }

    /// (sent, pending) counts.
    pub fn outbox_counts(&self) -> Result<(i64, i64), StateError> {
        self.conn
            .query_row(
                "SELECT COALESCE(SUM(status = 'sent'), 0), COALESCE(SUM(status = 'pending'), 0) FROM outbox",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(self.err())
    }
}

/// An outbox row selected as `id, kind, key, recipient, subject, message,
/// attempts, next_attempt_at, last_error`.
fn outbox_item_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxItem> {
    Ok(OutboxItem {
        id: r.get(0)?,
        kind: r.get(1)?,
        key: r.get(2)?,
        recipient: r.get(3)?,
        subject: r.get(4)?,
        message: r.get(5)?,
        attempts: r.get(6)?,
        next_attempt_at: r.get(7)?,
        last_error: r.get(8)?,
    })
}

const SUBMISSION_SELECT: &str = "SELECT s.submission_id, s.sha256, s.department, s.period, s.source_file, COALESCE(s.stored_as, ''), s.status, s.received_at, s.rows_loaded, s.rows_rejected, s.rows_skipped, COALESCE(GROUP_CONCAT(l.template, ','), '')
     FROM submissions s LEFT JOIN loads l ON l.submission_id = s.submission_id";

fn submission_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Submission> {
    Ok(Submission {
        submission_id: r.get::<_, Option<String>>(0)?.unwrap_or_default(),
        sha256: r.get(1)?,
        department: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
        period: r.get(3)?,
        source_file: r.get(4)?,
        stored_as: r.get(5)?,
        status: r.get(6)?,
        received_at: r.get(7)?,
        rows_loaded: r.get(8)?,
        rows_rejected: r.get(9)?,
        rows_skipped: r.get(10)?,
        templates: r.get(11)?,
    })
}

fn record_submission_in(
    tx: &rusqlite::Transaction<'_>,
    s: &NewSubmission,
) -> rusqlite::Result<Vec<Load>> {
    let (report, version) = s.report.to_stored();
    let n = &s.submission;
    let period = n.period.to_string();
    tx.execute(
        "INSERT INTO submissions (submission_id, sha256, department, period, source_file, stored_as, status, received_at, rows_loaded, rows_rejected, rows_skipped, report, report_version, published_status, effect)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'accepted', ?7, ?8, ?9, ?10, ?11, ?12, 'accepted', ?13)",
        params![n.submission_id, n.sha256, n.department, period, n.source_file, n.stored_as, n.received_at, n.rows_loaded, n.rows_rejected, n.rows_skipped, report, version, s.effect.to_stored()],
    )?;
    // A whole list replaces every active load; a supplement replaces none;
    // batch N replaces batch N only.
    let stored_addition = s.addition.map(Addition::as_stored);
    let mut superseded = Vec::new();
    for (template, rows) in &s.loads {
        let mut older = tx.prepare_cached(
            "SELECT submission_id, addition FROM loads WHERE department = ?1 AND period = ?2 AND template = ?3 AND active = 1",
        )?;
        let active = older
            .query_map(params![s.submission.department, period, template], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut deactivate = tx.prepare_cached(
            "UPDATE loads SET active = 0, superseded_by = ?3 WHERE submission_id = ?1 AND template = ?2 AND active = 1",
        )?;
        for (submission_id, addition) in active {
            let replaced = match s.addition {
                None => true,
                Some(Addition::Supplement) => false,
                Some(Addition::Batch(_)) => addition == stored_addition,
            };
            if !replaced {
                continue;
            }
            deactivate.execute(params![submission_id, template, s.submission.submission_id])?;
            superseded.push(Load {
                submission_id,
                template: template.clone(),
                department: s.submission.department.clone(),
                period: period.clone(),
            });
        }
        tx.prepare_cached(
            "INSERT INTO loads (submission_id, template, department, period, rows, active, addition) VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6)",
        )?
        .execute(params![s.submission.submission_id, template, s.submission.department, period, rows, stored_addition])?;
    }
    // A submission none of whose loads is active any more is superseded as a whole.
    let mut whole = tx.prepare_cached(
        "UPDATE submissions SET status = 'superseded'
         WHERE status = 'accepted' AND submission_id = ?1
           AND NOT EXISTS (SELECT 1 FROM loads WHERE submission_id = ?1 AND active = 1)",
    )?;
    let mut done = HashSet::new();
    for load in &superseded {
        if done.insert(load.submission_id.as_str()) {
            whole.execute([&load.submission_id])?;
        }
    }
    Ok(superseded)
}

impl State {
    /// What an accepted file did to the rows held when it was taken.
    pub fn effect_of(&self, submission_id: &str) -> Result<Effect, StateError> {
        let stored: Option<Option<String>> = self
            .conn
            .query_row(
                "SELECT effect FROM submissions WHERE submission_id = ?1",
                [submission_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err())?;
        Ok(Effect::from_stored(stored.flatten().as_deref()))
    }

    /// The loads of a department's form for a period whose rows are held,
    /// oldest first, with the files they came from.
    pub fn held_loads(
        &self,
        department: &str,
        period: &str,
        template: &str,
    ) -> Result<Vec<HeldLoad>, StateError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT l.submission_id, s.source_file, s.received_at, l.rows, l.addition
                 FROM loads l JOIN submissions s ON s.submission_id = l.submission_id
                 WHERE l.department = ?1 AND l.period = ?2 AND l.template = ?3 AND l.active = 1
                 ORDER BY s.id",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map(params![department, period, template], |r| {
                Ok(HeldLoad {
                    submission_id: r.get(0)?,
                    source_file: r.get(1)?,
                    received_at: r.get(2)?,
                    rows: r.get(3)?,
                    addition: r
                        .get::<_, Option<String>>(4)?
                        .as_deref()
                        .and_then(Addition::from_stored),
                })
            })
            .map_err(self.err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }
}

// ---- incomplete files seen across runs, unfinished quarantines ----

/// An inbox file that looked incomplete, as it was when first seen so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    pub len: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: Option<i64>,
    pub sha256: String,
    /// When it was first seen as it is (Unix seconds).
    pub first_seen_unix: i64,
}

impl State {
    /// Every incomplete-looking inbox file's first sighting, by source file.
    pub fn sightings(&self) -> Result<std::collections::HashMap<String, Sighting>, StateError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT source_file, len, mtime_ns, sha256, first_seen_unix FROM arrival_sightings",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    Sighting {
                        len: r.get::<_, i64>(1)?.max(0) as u64,
                        mtime_ns: r.get(2)?,
                        sha256: r.get(3)?,
                        first_seen_unix: r.get(4)?,
                    },
                ))
            })
            .map_err(self.err())?
            .collect::<Result<_, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    /// Records (or replaces) the sighting of an incomplete-looking file.
    pub(crate) fn record_sighting(
        &self,
        source_file: &str,
        s: &Sighting,
    ) -> Result<(), StateError> {
        self.conn
            .execute(
                "INSERT INTO arrival_sightings (source_file, len, mtime_ns, sha256, first_seen_unix)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (source_file) DO UPDATE SET len = excluded.len, mtime_ns = excluded.mtime_ns,
                     sha256 = excluded.sha256, first_seen_unix = excluded.first_seen_unix",
                params![source_file, s.len as i64, s.mtime_ns, s.sha256, s.first_seen_unix],
            )
            .map(|_| ())
            .map_err(self.err())
    }

    /// Forgets the sightings of files not in `keep` (taken, refused or gone).
    pub(crate) fn keep_sightings(&self, keep: &HashSet<String>) -> Result<(), StateError> {
        let known: Vec<String> = self.sightings()?.into_keys().collect();
        self.in_transaction(|| {
            for source_file in known.iter().filter(|s| !keep.contains(*s)) {
                self.conn
                    .execute(
                        "DELETE FROM arrival_sightings WHERE source_file = ?1",
                        [source_file],
                    )
                    .map_err(self.err())?;
            }
            Ok::<(), StateError>(())
        })
    }

    /// The quarantine entries recorded for this file (department, name,
    /// bytes), newest first, with where each was to be stored: one whose
    /// file never reached the quarantine folder is a quarantine a crash
    /// interrupted after its ledger row was committed.
    pub(crate) fn quarantine_entries(
        &self,
        department: Option<&str>,
        source_file: &str,
        sha256: &str,
    ) -> Result<Vec<String>, StateError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT COALESCE(stored_as, '') FROM submissions
                 WHERE status = 'quarantined' AND department IS ?1 AND source_file = ?2 AND sha256 = ?3
                 ORDER BY id DESC",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map(params![department, source_file, sha256], |r| {
                r.get::<_, String>(0)
            })
            .map_err(self.err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }
}

// ---- parts known to the ledger, the ledger's identity, rebuild ----

/// A part file as recorded with its submission: relative path, size, sha256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRecord {
    /// Relative to the warehouse root, with forward slashes.
    pub path: String,
    pub submission_id: String,
    pub table: String,
    pub bytes: u64,
    pub sha256: String,
}

impl State {
    /// The random id this state database was created with (see the
    /// `ledger_identity` migration).
    pub(crate) fn ledger_id(&self) -> Result<String, StateError> {
        self.conn
            .query_row("SELECT id FROM ledger_identity LIMIT 1", [], |r| r.get(0))
            .map_err(self.err())
    }

    /// Accepted and superseded submissions: the ledger's account of data.
    pub(crate) fn data_submission_count(&self) -> Result<i64, StateError> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM submissions WHERE status != 'quarantined'",
                [],
                |r| r.get(0),
            )
            .map_err(self.err())
    }

    /// [`State::record_submissions`], and the part files each wrote, in the
    /// same transaction: a part is known to the ledger exactly when its
    /// submission is.
    pub(crate) fn record_submissions_with_parts(
        &mut self,
        submissions: &[NewSubmission],
        parts: &[PartRecord],
    ) -> Result<Vec<Vec<Load>>, StateError> {
        let path = self.path.clone();
        let wrap = |source| StateError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(wrap)?;
        let superseded = submissions
            .iter()
            .map(|s| record_submission_in(&tx, s).map_err(wrap))
            .collect::<Result<Vec<_>, _>>()?;
        upsert_parts_in(&tx, parts).map_err(wrap)?;
        tx.commit().map_err(wrap)?;
        Ok(superseded)
    }

    /// Records (or re-records, after a part was rebuilt) part files.
    pub(crate) fn record_parts(&mut self, parts: &[PartRecord]) -> Result<(), StateError> {
        let path = self.path.clone();
        let wrap = |source| StateError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(wrap)?;
        upsert_parts_in(&tx, parts).map_err(wrap)?;
        tx.commit().map_err(wrap)
    }

    /// Every recorded part, by relative path.
    pub(crate) fn recorded_parts(
        &self,
    ) -> Result<std::collections::HashMap<String, PartRecord>, StateError> {
        let mut stmt = self
            .conn
            .prepare("SELECT path, submission_id, tbl, bytes, sha256 FROM parts")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                Ok(PartRecord {
                    path: r.get(0)?,
                    submission_id: r.get(1)?,
                    table: r.get(2)?,
                    bytes: r.get::<_, i64>(3)?.max(0) as u64,
                    sha256: r.get(4)?,
                })
            })
            .map_err(self.err())?
            .map(|r| r.map(|p| (p.path.clone(), p)))
            .collect::<Result<_, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    /// Forgets parts removed from the warehouse (superseded loads).
    pub(crate) fn forget_parts(&self, paths: &[String]) -> Result<(), StateError> {
        if paths.is_empty() {
            return Ok(());
        }
        let tx = self.conn.unchecked_transaction().map_err(self.err())?;
        {
            let mut delete = tx
                .prepare("DELETE FROM parts WHERE path = ?1")
                .map_err(self.err())?;
            for path in paths {
                delete.execute([path]).map_err(self.err())?;
            }
        }
        tx.commit().map_err(self.err())
    }

    /// A quarantined file re-recorded by `rebuild` from its sidecar, with the
    /// time it was received then. Its department was told at the time.
    pub(crate) fn record_quarantine_at(
        &self,
        q: &NewQuarantine<'_>,
        received_at: &str,
    ) -> Result<(), StateError> {
        let (report, version) = q.report.to_stored();
        self.conn
            .execute(
                "INSERT INTO submissions (sha256, department, source_file, stored_as, status, reason, reason_vi, received_at, report, report_version, feedback_queued)
                 VALUES (?1, ?2, ?3, ?4, 'quarantined', ?5, ?6, ?7, ?8, ?9, 1)",
                params![q.sha256, q.department, q.source_file, q.stored_as, q.reason_en, q.reason_vi, received_at, report, version],
            )
            .map(|_| ())
            .map_err(self.err())
    }

    /// Marks every ledger entry as answered: after `rebuild`, departments
    /// are not sent their feedback a second time.
    pub(crate) fn mark_all_feedback_queued(&self) -> Result<usize, StateError> {
        self.conn
            .execute(
                "UPDATE submissions SET feedback_queued = 1 WHERE feedback_queued = 0",
                [],
            )
            .map_err(self.err())
    }
}

fn upsert_parts_in(tx: &rusqlite::Transaction<'_>, parts: &[PartRecord]) -> rusqlite::Result<()> {
    let mut upsert = tx.prepare_cached(
        "INSERT INTO parts (path, submission_id, tbl, bytes, sha256) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (path) DO UPDATE SET submission_id = excluded.submission_id, tbl = excluded.tbl,
             bytes = excluded.bytes, sha256 = excluded.sha256",
    )?;
    for p in parts {
        upsert.execute(params![
            p.path,
            p.submission_id,
            p.table,
            p.bytes as i64,
            p.sha256
        ])?;
    }
    Ok(())
}

// ---- messages refused for good ---------------------------------

/// A message given up after the server refused it [smtp] max_attempts_refused
/// times: never retried automatically.
#[derive(Debug, Clone)]
pub struct FailedMessage {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub attempts: i64,
    pub created_at: String,
    pub failed_at: Option<String>,
    pub last_error: Option<String>,
}

impl State {
    /// Records a refusal (an SMTP 5xx) of a waiting message; at the
    /// `give_up_after`-th refusal the message is marked failed instead of
    /// being scheduled again. Returns whether it was given up.
    pub(crate) fn mark_refused(
        &self,
        id: i64,
        error: &str,
        next_attempt_at: &str,
        give_up_after: u32,
    ) -> Result<bool, StateError> {
        let status: Option<String> = self
            .conn
            .query_row(
                "UPDATE outbox SET attempts = attempts + 1, refusals = refusals + 1, last_error = ?2,
                     status = CASE WHEN refusals + 1 >= ?4 THEN 'failed' ELSE status END,
                     failed_at = CASE WHEN refusals + 1 >= ?4 THEN ?5 ELSE failed_at END,
                     next_attempt_at = CASE WHEN refusals + 1 >= ?4 THEN NULL ELSE ?3 END
                 WHERE id = ?1 AND status = 'pending'
                 RETURNING status",
                params![id, error, next_attempt_at, give_up_after, now()],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err())?;
        Ok(status.as_deref() == Some("failed"))
    }

    /// Messages given up, oldest first, without their bodies.
    pub fn failed_messages(&self) -> Result<Vec<FailedMessage>, StateError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, kind, recipient, subject, attempts, created_at, failed_at, last_error
                 FROM outbox INDEXED BY outbox_by_status WHERE status = 'failed' ORDER BY id",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                Ok(FailedMessage {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    recipient: r.get(2)?,
                    subject: r.get(3)?,
                    attempts: r.get(4)?,
                    created_at: r.get(5)?,
                    failed_at: r.get(6)?,
                    last_error: r.get(7)?,
                })
            })
            .map_err(self.err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }
}

/// Periods are stored as written (`2025-H1`); one that does not parse is
/// an error of the row, not a guess.
impl rusqlite::types::FromSql for Period {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        value
            .as_str()?
            .parse()
            .map_err(|e| rusqlite::types::FromSqlError::Other(Box::new(e)))
    }
}

/// Statuses are stored as their names; a name this build does not know is
/// an error of the row, not a guess.
impl rusqlite::types::FromSql for SubmissionStatus {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        value
            .as_str()?
            .parse()
            .map_err(|e| rusqlite::types::FromSqlError::Other(Box::new(e)))
    }
}

#[cfg(test)]
mod outbox_failed_tests {
    use super::*;

    /// The outbox rebuilt by the issue-14 migration keeps every row, id and
    /// status, and then takes 'failed'.
    #[test]
    fn the_outbox_rebuild_keeps_its_rows_and_takes_failed() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("state.sqlite3");
        let rebuild = MIGRATIONS
            .iter()
            .position(|sql| sql.contains("outbox_rebuilt"))
            .expect("the migration");
        {
            let conn = Connection::open(&path).expect("open");
            for sql in &MIGRATIONS[..rebuild] {
                conn.execute_batch(sql).expect("older migration");
            }
            conn.pragma_update(None, "user_version", rebuild as i64)
                .expect("version");
            conn.execute_batch(
                "INSERT INTO outbox (id, kind, key, recipient, subject, message, status, attempts, next_attempt_at, last_error, created_at, sent_at)
                 VALUES (7, 'digest', 'k1', 'a@x.vn', 's1', x'01', 'pending', 2, '2026-01-01T00:00:00.000Z', '421 busy', '2026-01-01T00:00:00.000Z', NULL),
                        (9, 'feedback', 'k2', 'b@x.vn', 's2', x'02', 'sent', 1, NULL, NULL, '2026-01-01T00:00:00.000Z', '2026-01-01T00:01:00.000Z');",
            )
            .expect("rows");
        }
        let state = State::open(&path).expect("migrated");
        assert_eq!(state.outbox_counts().expect("counts"), (1, 1));
        let waiting = state.pending().expect("pending");
        assert_eq!(waiting.len(), 1);
        assert_eq!(
            (
                waiting[0].id,
                waiting[0].attempts,
                waiting[0].last_error.as_deref()
            ),
            (7, 2, Some("421 busy"))
        );
        assert!(
            !state
                .mark_refused(7, "550 no", "2026-01-02T00:00:00.000Z", 2)
                .expect("refused")
        );
        assert!(
            state
                .mark_refused(7, "550 no", "2026-01-02T00:00:00.000Z", 2)
                .expect("refused")
        );
        let failed = state.failed_messages().expect("failed");
        assert_eq!(failed.len(), 1);
        assert_eq!((failed[0].id, failed[0].attempts), (7, 4));
        assert!(failed[0].failed_at.is_some());
        assert_eq!(
            state.outbox_counts().expect("counts"),
            (1, 0),
            "no longer waiting"
        );
        assert_eq!(state.next_outbox_attempt().expect("next"), None);
        // A failed message is not refused again (nor re-queued under its key).
        assert!(!state.mark_refused(7, "550 no", "x", 2).expect("no row"));
        assert!(
            !state
                .enqueue("digest", "k1", "a@x.vn", "s1", b"m")
                .expect("enqueue")
        );
    }
}
