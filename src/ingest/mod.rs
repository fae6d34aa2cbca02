//! Ingest: workbooks in the inbox → warehouse rows, rejects and the ledger.
//!
//! Per file (`prepare`, one worker per core): read and hash it; skip it if
//! its department sent the same bytes before (another department's
//! identical file is its own submission); leave it for a later run if it
//! looks cut short (see `looks_truncated`); find the period; normalise every
//! sheet (pure, see [`sheet`]) and write the part files as the workbook is
//! read (`load`). Then, in inbox order (`commit`): archive the original;
//! commit the ledger; only then remove the file from the inbox. A crash
//! between any two of these steps is repaired by the next run (see
//! [`reconcile`], in `repair`), once `guard` has checked that the state
//! is the ledger of the data beside it. What touches the file system
//! (inbox entries, archive and quarantine names) is in `files`.
//!
//! This module is the stage's API ([`ingest`], [`ingest_archived`], the
//! report) and the loop that runs the workers and the committer.

pub mod fetch;
pub mod html;
pub mod inbox;
pub mod inspect;
pub mod reader;
pub mod sheet;
pub mod workbook;

mod commit;
mod files;
mod guard;
mod load;
mod prepare;
mod repair;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::config::Config;
use crate::model::names::printable;
use crate::model::report::{FileReport, Outcome};
use crate::state::{State, StateError};
use crate::warehouse::WarehouseError;

pub use crate::durable::write_atomic;
pub use commit::part_records;
pub use files::{FileLook, is_transient_name, read_regular};
pub use guard::{census, read_manifest, refuse_older_ledger, trust};
pub use load::{SheetRead, WorkbookRead, read_without_staging};
pub use prepare::{
    Located, extension_refusal, file_verdict, locate, size_refusal, today_in_vietnam,
};
pub use repair::{reconcile, rewrite_parts};

use commit::Committer;
use prepare::{Known, Origin, prepare_file};

/// File extensions calamine reads.
pub(crate) const SPREADSHEET_EXTENSIONS: &[&str] = &["xlsx", "xlsm", "xlsb", "xls", "ods"];

/// Why ingest stopped: the state database, the warehouse or a file it
/// could not read or write. A file that is refused is quarantined instead.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
    #[error(transparent)]
    Write(#[from] crate::durable::WriteError),
    // The path as a printable line: a file name may hold a newline.
    #[error("cannot {action} {}", printable(&path.display().to_string()))]
    Io {
        /// What was being done: "read", "write", "remove", …
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// An error reading `path` (a file, a folder listing, metadata).
fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> IngestError + '_ {
    io_failed("read", path)
}

fn io_failed<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> IngestError + 'a {
    move |source| IngestError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// What one ingest pass did: a report per file, and what it repaired, left
/// waiting or found stopping the reader.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestReport {
    pub files: Vec<FileReport>,
    /// Part files removed while reconciling the warehouse with the ledger.
    pub repaired: usize,
    /// Of the waiting files, those left because they look incomplete: worth
    /// another look only once `incomplete_after_minutes` have passed.
    pub incomplete: usize,
    /// Files quarantined because they stopped the reader (ran out of memory
    /// or time, or crashed it), as the ledger names them: the analyst is
    /// alerted, as a file built to harm may be behind it.
    pub stopped_reader: Vec<String>,
}

impl IngestReport {
    /// How many files ended with an outcome `pred` accepts.
    pub fn count(&self, pred: impl Fn(&Outcome) -> bool) -> usize {
        self.files.iter().filter(|f| pred(&f.outcome)).count()
    }

    /// How many files were accepted.
    pub fn accepted(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Accepted { .. }))
    }

    /// How many files were quarantined.
    pub fn quarantined(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Quarantined { .. }))
    }
}

/// Ingests the inbox, or just `files` when given.
///
/// Files are read, normalised and written to staged part files by one worker
/// per core; they are committed in inbox order (oldest first, so a newer
/// resubmission supersedes an older one) in batches that are made durable
/// and recorded in the ledger together. At most a few files per worker wait
/// between the two, so memory follows the largest file, not the inbox.
pub fn ingest(
    config: &Config,
    state: &mut State,
    files: &[PathBuf],
) -> Result<IngestReport, IngestError> {
    ingest_with(config, state, files, &[])
}

/// An archived workbook taken again as if it had arrived at `source_file`
/// (relative to the inbox: its first folder is the department) at
/// `received_at`: how `rebuild` re-ingests the archive through the same path
/// as [`ingest`], so that ids, supersession and receipt times come out the same.
#[derive(Debug, Clone)]
pub struct AsIf {
    pub archived: PathBuf,
    pub source_file: String,
    pub received_at: String,
}

/// [`ingest`] of archived workbooks, in the order given (see [`AsIf`]).
pub fn ingest_archived(
    config: &Config,
    state: &mut State,
    files: &[AsIf],
) -> Result<IngestReport, IngestError> {
    ingest_with(config, state, &[], files)
}

fn ingest_with(
    config: &Config,
    state: &mut State,
    files: &[PathBuf],
    as_if: &[AsIf],
) -> Result<IngestReport, IngestError> {
    let repaired = reconcile(config, state)?;
    let run_started = crate::state::now();
    let (candidates, unsettled) = if !as_if.is_empty() {
        let archived: Vec<PathBuf> = as_if.iter().map(|a| a.archived.clone()).collect();
        let unsettled = vec![None; archived.len()];
        (archived, unsettled)
    } else if files.is_empty() {
        inbox::fill_from_demo(config)?;
        let listed = inbox::list(&config.paths.inbox)?;
        let settle = Duration::from_secs(config.ingest.settle_seconds);
        let unsettled = inbox::unsettled(&listed, settle);
        (listed, unsettled)
    } else {
        // Files named on the command line are taken at once.
        let named: Vec<PathBuf> = files
            .iter()
            .map(|f| std::path::absolute(f).unwrap_or_else(|_| f.clone()))
            .collect();
        let unsettled = vec![None; named.len()];
        (named, unsettled)
    };
    let known = Known {
        hashes: state.known_hashes()?,
        sightings: state.sightings()?,
        now_unix: chrono::Utc::now().timestamp(),
    };
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let started = std::time::Instant::now();
    let mut progress = crate::progress::start(crate::progress::Step::Ingest, candidates.len());
    let mut committer = Committer::new(config, &known, state);
    let whole_inbox = files.is_empty();
    crate::ordered::map_in_order(
        candidates.len(),
        workers,
        workers * FILES_AHEAD_PER_WORKER,
        |index| {
            let unsettled = unsettled[index].as_deref();
            let origin = Origin {
                run_started: &run_started,
                as_if: as_if.get(index),
                held: None,
            };
            prepare_file(config, &known, &candidates[index], unsettled, index, origin)
        },
        |prepared| {
            let prepared = prepared?;
            // Counted when read and decided, in inbox order: the ledger
            // commits in batches, which would make the count jump.
            let (loaded, rejected, skipped) = prepared.report().rows();
            progress.advance(1, loaded + rejected + skipped);
            committer.take(prepared)
        },
    )?;
    committer.flush()?;
    if whole_inbox {
        // Sightings of files taken, refused or gone are forgotten; a file
        // named on the command line is one of many, so nothing is pruned then.
        committer.state.keep_sightings(&committer.incomplete)?;
    }
    drop(progress);
    let mut report = IngestReport {
        incomplete: committer.incomplete.len(),
        stopped_reader: committer.stopped_reader,
        files: committer.reports,
        repaired,
    };
    report.repaired += reconcile(config, state)?;
    log_summary(&report, started.elapsed());
    Ok(report)
}

/// How many files a worker may prepare ahead of the oldest uncommitted one.
const FILES_AHEAD_PER_WORKER: usize = 4;

/// The ingest in one line at info: what became of the files and their rows.
fn log_summary(report: &IngestReport, elapsed: Duration) {
    let rows = report.files.iter().fold((0, 0, 0), |(l, r, s), file| {
        let (loaded, rejected, skipped) = file.rows();
        (l + loaded, r + rejected, s + skipped)
    });
    let seconds = elapsed.as_secs_f64();
    let rows_per_second = if seconds > 0.0 {
        ((rows.0 + rows.1 + rows.2) as f64 / seconds).round() as u64
    } else {
        0
    };
    let waiting = report.count(|o| matches!(o, Outcome::Waiting { .. }));
    tracing::info!(
        files = report.files.len(),
        accepted = report.accepted(),
        duplicate = report.count(|o| matches!(o, Outcome::Duplicate { .. })),
        quarantined = report.quarantined(),
        waiting,
        rows_loaded = rows.0,
        rows_rejected = rows.1,
        rows_skipped = rows.2,
        seconds = (seconds * 10.0).round() / 10.0,
        rows_per_second,
        "ingest finished"
    );
    if let Some(first) = report
        .files
        .iter()
        .find(|f| matches!(f.outcome, Outcome::Waiting { .. }))
        && let Outcome::Waiting { reason } = &first.outcome
    {
        // Why files stay is worth one line even without `-v`.
        tracing::info!(
            waiting,
            first = %printable(&first.source_file),
            reason = %printable(reason),
            "files left in the inbox for the next run (each with -v)"
        );
    }
}
