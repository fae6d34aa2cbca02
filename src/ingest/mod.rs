//! Ingest: workbooks in the inbox → warehouse rows, rejects and the ledger.
//!
//! Per file: read and hash it; skip it if its department sent the same
//! bytes before (another department's identical file is its own
//! submission); leave it for a later run if it looks cut short (see
//! `looks_truncated`); find the period; normalise every sheet
//! (pure, see [`sheet`]); write the part files; archive the original; commit
//! the ledger; only then remove the file from the inbox. A crash between any
//! two of these steps is repaired by the next run (see [`reconcile`]).

pub mod fetch;
pub mod html;
pub mod inbox;
pub mod inspect;
pub mod reader;
pub mod sheet;
pub mod workbook;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::model::names::{NAME_MAX, fit_name, printable, safe_file_name, submission_id};
use crate::model::report::{FileReport, Outcome, SheetReport};
use crate::model::rows::{ParsedRow, Reject, SkipKind, Skips};
use crate::model::rows::{RowClass, RowSpan};
use crate::model::{period, template, value};
use crate::state::{NewSubmission, Sighting, State, StateError};
use crate::warehouse::{self, StagedFiles, WarehouseError};
use period::{Evidence, Period, PeriodDecision, PeriodRefusal, SheetRefusal};
use sheet::{Merge, SeenKeys, SheetContext, SheetNormaliser, SheetOutcome};
use template::Template;
use value::Cell;
use workbook::WorkbookError;

/// File extensions calamine reads.
pub const SPREADSHEET_EXTENSIONS: &[&str] = &["xlsx", "xlsm", "xlsb", "xls", "ods"];

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
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

/// The ledger's account of one sheet as the normaliser read it.
fn sheet_report(
    outcome: &SheetOutcome,
    refused: Option<SheetRefusal>,
    hidden: bool,
) -> SheetReport {
    SheetReport {
        sheet: outcome.sheet.clone(),
        hidden,
        template: outcome.template.clone(),
        header_row: outcome.header_row,
        data_rows: outcome.data_rows,
        loaded: outcome.loaded,
        rejected_rows: outcome.rejected_rows,
        skips: outcome.skips,
        unknown_columns: outcome.unknown_columns.clone(),
        fields_not_found: outcome.fields_not_found.clone(),
        skipped_rows: outcome.skipped_rows(),
        rejects: outcome.rejects.clone(),
        warnings: outcome.warnings.clone(),
        refused,
    }
}

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
    pub fn count(&self, pred: impl Fn(&Outcome) -> bool) -> usize {
        self.files.iter().filter(|f| pred(&f.outcome)).count()
    }

    pub fn accepted(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Accepted { .. }))
    }

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
    let mut committer = Committer::new(config, state);
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
/// A batch is made durable and committed once it holds this many files (the
/// first batches are smaller, so the first files land at once)…
const BATCH_FILES: usize = 256;
const FIRST_BATCH_FILES: usize = 8;
/// …or this many staged bytes.
const BATCH_BYTES: u64 = 64 * 1024 * 1024;

/// What the ledger knew when the run started, for the workers.
#[derive(Default)]
struct Known {
    /// (department, sha256) of every accepted or superseded submission.
    hashes: HashSet<(String, String)>,
    /// Incomplete-looking inbox files, as first seen by an earlier run.
    sightings: HashMap<String, Sighting>,
    /// When the run started (Unix seconds).
    now_unix: i64,
}

/// A file as a worker left it: decided, or read and staged, but not yet in the ledger.
enum Prepared {
    /// Nothing to record: left in the inbox.
    Waiting(FileReport),
    /// Left in the inbox because it looks incomplete; `record` is the
    /// sighting to store (none: the earlier one still holds).
    Incomplete {
        report: FileReport,
        record: Option<Sighting>,
    },
    Duplicate(Box<Seen>),
    Quarantine(Box<Refusal>),
    Ready(Box<Ready>),
}

impl Prepared {
    fn report(&self) -> &FileReport {
        match self {
            Prepared::Waiting(report) | Prepared::Incomplete { report, .. } => report,
            Prepared::Duplicate(seen) => &seen.report,
            Prepared::Quarantine(refusal) => &refusal.seen.report,
            Prepared::Ready(ready) => &ready.seen.report,
        }
    }
}

/// Where the file came from.
struct Seen {
    report: FileReport,
    path: PathBuf,
    in_inbox: bool,
    sha: String,
    /// Size and modification time when it was looked at (before reading):
    /// an inbox file that differs when it is to be moved is a newer version.
    read_as: Option<FileLook>,
}

struct Refusal {
    seen: Seen,
    reason_vi: String,
    reason_en: String,
    /// The file stopped the reader (memory, time, a crash): the analyst is
    /// told, not only the department.
    stopped_reader: bool,
}

struct Ready {
    seen: Seen,
    period: Period,
    submission: NewSubmission,
    staged: StagedFiles,
    /// The bytes read, archived from here only if the inbox file changed since.
    bytes: Vec<u8>,
    /// The inbox file's size and modification time when it was read.
    read_as: (u64, Option<SystemTime>),
}

/// How a file being prepared arrived: in this ingest run (started then), or
/// again from the archive ([`AsIf`]).
#[derive(Debug, Clone, Copy)]
struct Origin<'a> {
    run_started: &'a str,
    as_if: Option<&'a AsIf>,
}

/// Reads one file and decides what it is; for a readable submission,
/// normalises its sheets and stages its part files and archive copy.
/// `unsettled`: why the file is left for the next run (it may still be being
/// copied, see [`inbox::unsettled`]). Touches neither the ledger nor the inbox.
fn prepare_file(
    config: &Config,
    known: &Known,
    path: &Path,
    unsettled: Option<&str>,
    index: usize,
    origin: Origin<'_>,
) -> Result<Prepared, IngestError> {
    let Located {
        relative,
        source_file,
        in_inbox,
        department,
    } = match origin.as_if {
        Some(as_if) => locate_as_if(&as_if.source_file),
        None => locate(&config.paths.inbox, path),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let waiting = |reason: String| {
        Prepared::Waiting(FileReport {
            source_file: source_file.clone(),
            department: None,
            outcome: Outcome::Waiting { reason },
            sheets: Vec::new(),
            period_evidence: Vec::new(),
        })
    };
    if is_transient_name(&file_name) {
        return Ok(waiting("lock, hidden or temporary file".into()));
    }
    if let Some(reason) = unsettled {
        return Ok(waiting(reason.to_string()));
    }
    // Not followed: a link is reported as a link, never read through.
    let metadata = std::fs::symlink_metadata(path).map_err(io_error(path))?;
    let mut seen = Seen {
        report: FileReport {
            source_file: source_file.clone(),
            department: department.clone(),
            outcome: Outcome::Waiting {
                reason: String::new(),
            },
            sheets: Vec::new(),
            period_evidence: Vec::new(),
        },
        path: path.to_path_buf(),
        in_inbox,
        sha: String::new(),
        read_as: Some(look_of(&metadata)),
    };
    let refuse = |seen: Seen, reason_vi: String, reason_en: String| {
        Ok(Prepared::Quarantine(Box::new(Refusal {
            seen,
            reason_vi,
            reason_en,
            stopped_reader: false,
        })))
    };
    let stopped_reader = |seen: Seen, reason_vi: String, reason_en: String| {
        Ok(Prepared::Quarantine(Box::new(Refusal {
            seen,
            reason_vi,
            reason_en,
            stopped_reader: true,
        })))
    };

    if metadata.is_dir() {
        // Only a folder named on the command line: a usage error, as before.
        return Err(io_error(path)(std::io::ErrorKind::IsADirectory.into()));
    }
    let folders = relative.components().count().saturating_sub(1);
    if let Some((reason_vi, reason_en)) = entry_refusal(&metadata, in_inbox.then_some(folders)) {
        return refuse(seen, reason_vi, reason_en);
    }
    if let Some((reason_vi, reason_en)) = size_refusal(config, metadata.len()) {
        return refuse(seen, reason_vi, reason_en);
    }
    let (bytes, opened) = match read_regular(path) {
        Ok(read) => read,
        // Replaced by a link or a pipe since it was looked at: looked at again next run.
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            return Ok(waiting(format!("changed while it was opened: {e}")));
        }
        Err(e) => return Err(io_error(path)(e)),
    };
    if bytes.len() as u64 != opened.0 {
        return Ok(waiting(
            "its size changed while it was read: still being copied?".into(),
        ));
    }
    seen.read_as = Some(opened);
    seen.sha = hex::encode(Sha256::digest(&bytes));
    let key = (department.clone().unwrap_or_default(), seen.sha.clone());
    if known.hashes.contains(&key) {
        return Ok(Prepared::Duplicate(Box::new(seen)));
    }

    let Some(department_code) = department else {
        return refuse(
            seen,
            "Tệp không nằm trong thư mục của một đơn vị (inbox/<MÃ ĐƠN VỊ>/)".into(),
            "The file is not in a department folder (inbox/<DEPT-CODE>/)".into(),
        );
    };
    let Some(department_entry) = config.department(&department_code) else {
        return refuse(
            seen,
            format!("Mã đơn vị \"{department_code}\" (tên thư mục) không có trong danh mục đơn vị"),
            format!(
                "Department code \"{department_code}\" (the folder name) is not in the department registry"
            ),
        );
    };
    let extension = extension_of(path);
    if let Some((reason_vi, reason_en)) = extension_refusal(path) {
        return refuse(seen, reason_vi, reason_en);
    }

    if let Some(what) = looks_truncated(&bytes, &extension) {
        let now = Sighting {
            len: opened.0,
            mtime_ns: opened.1.map(mtime_ns),
            sha256: seen.sha.clone(),
            first_seen_unix: known.now_unix,
        };
        let after = config.ingest.incomplete_after;
        let earlier = known
            .sightings
            .get(&source_file)
            .filter(|s| (s.len, s.mtime_ns, &s.sha256) == (now.len, now.mtime_ns, &now.sha256));
        let still_for = earlier.map(|s| known.now_unix.saturating_sub(s.first_seen_unix));
        if let Some(seconds) = still_for
            && seconds >= 0
            && seconds as u64 >= after.as_secs()
        {
            let minutes = seconds / 60;
            return refuse(
                seen,
                format!(
                    "Tệp có vẻ chưa được sao chép hết ({}) và không thay đổi sau {minutes} phút: hãy gửi lại tệp đầy đủ",
                    what.vi
                ),
                format!(
                    "The file looks incomplete ({}) and stayed unchanged for {minutes} minutes: send the whole file again",
                    what.en
                ),
            );
        }
        let minutes = after.as_secs().div_ceil(60);
        seen.report.outcome = Outcome::Waiting {
            reason: format!(
                "looks incomplete ({}): still being copied? Quarantined as incomplete if it is unchanged at a run {minutes} minutes or more after it was first seen so",
                what.en
            ),
        };
        return Ok(Prepared::Incomplete {
            report: seen.report,
            record: earlier.is_none().then_some(now),
        });
    }
    let ctx = SheetContext {
        department_level: department_entry.level.as_str(),
        today: today_in_vietnam(),
    };
    let submission_id = submission_id(&department_code, &seen.sha);
    let tag = format!("w{index}");
    // Known before any row is read, so a sheet whose title names another
    // period is refused as soon as its header is found (see `Loader`).
    let path_evidence =
        period::path_evidence(relative.strip_prefix(&department_code).unwrap_or(&relative));
    let fresh = || {
        Loader::new(
            config,
            &config.templates,
            ctx,
            Some((&tag, &submission_id)),
            &path_evidence,
        )
    };
    // The backstop for a reader that takes this process down with it.
    let mark = match reader::ReadingMark::begin(&config.paths.state, &seen.sha, &source_file) {
        Ok(mark) => mark,
        Err(strikes) => {
            let (reason_vi, reason_en) = reader::twice_reason(strikes);
            tracing::warn!(file = %source_file, "{reason_en}");
            return stopped_reader(seen, reason_vi, reason_en);
        }
    };
    let read = read_into(&bytes, fresh);
    mark.done();
    let loader = match read {
        Ok(loader) => loader,
        Err(e @ WorkbookError::ReaderStopped(_)) => {
            return stopped_reader(seen, e.reason_vi(), crate::error_chain::chain(&e));
        }
        Err(e) => return refuse(seen, e.reason_vi(), crate::error_chain::chain(&e)),
    };
    seen.report.sheets = loader
        .outcomes
        .iter()
        .zip(&loader.refused)
        .zip(&loader.hidden)
        .map(|((outcome, refused), hidden)| sheet_report(outcome, refused.clone(), *hidden))
        .collect();
    for outcome in &loader.outcomes {
        debug_assert!(
            outcome.is_balanced(),
            "row accounting of sheet {}",
            outcome.sheet
        );
    }
    let decision = match file_verdict(
        &loader.outcomes,
        &loader.hidden,
        &config.templates,
        &path_evidence,
    ) {
        Ok(decision) => decision,
        Err(refusal) => {
            loader.staged.discard();
            seen.report.period_evidence = refusal.evidence;
            return refuse(seen, refusal.reason_vi, refusal.reason_en);
        }
    };
    // The loader refused sheets by the same rule as they were read.
    debug_assert_eq!(
        decision.refused_sheets,
        loader.refused.iter().flatten().cloned().collect::<Vec<_>>(),
    );
    let period = decision.period;
    seen.report.period_evidence = decision.evidence;

    let stored_as = archive_name(&seen.sha, &extension);
    let (mut staged, loads) = loader.finish(&department_code, &period.to_string(), &source_file)?;
    if !in_inbox && origin.as_if.is_none() {
        // A file named on the command line stays where it is: archive a copy.
        staged.stage_bytes(&config.paths.archive.join(&stored_as), &tag, &bytes)?;
    }
    let (loaded, rejected, skipped) = seen.report.rows();
    let submission = NewSubmission {
        submission_id,
        sha256: seen.sha.clone(),
        department: department_code,
        period: period.to_string(),
        source_file,
        stored_as,
        received_at: origin
            .as_if
            .map_or_else(crate::state::now, |a| a.received_at.clone()),
        rows_loaded: loaded as i64,
        rows_rejected: rejected as i64,
        rows_skipped: skipped as i64,
        report: serde_json::to_string(&seen.report.sheets).unwrap_or_default(),
        loads,
    };
    // Its record in the warehouse's submissions table, written here by the
    // worker rather than one by one when the ledger is reconciled.
    let record = warehouse::SubmissionRecord {
        submission_id: submission.submission_id.clone(),
        sha256: submission.sha256.clone(),
        source_file: submission.source_file.clone(),
        received_at: submission.received_at.clone(),
        status: "accepted".into(),
        templates: submission
            .loads
            .iter()
            .map(|(t, _)| t.as_str())
            .collect::<Vec<_>>()
            .join(","),
        rows_loaded: submission.rows_loaded,
        rows_rejected: submission.rows_rejected,
        rows_skipped: submission.rows_skipped,
    };
    let batch = warehouse::submission_batch(&record)?;
    let path = warehouse::part_path(
        &config.paths.warehouse,
        warehouse::SUBMISSIONS,
        &submission.period,
        &submission.department,
        &submission.submission_id,
    );
    staged.stage_parquet(&path, &tag, &batch)?;
    if origin.as_if.is_none() {
        // What the path told and when: the archive alone does not keep it,
        // and `rebuild` needs it. Made durable with the batch, before the
        // ledger commit.
        let manifest = crate::rebuild::Manifest {
            source_file: submission.source_file.clone(),
            department: submission.department.clone(),
            received_at: submission.received_at.clone(),
            stored_as: submission.stored_as.clone(),
            submission_id: submission.submission_id.clone(),
            sha256: submission.sha256.clone(),
            sequence: crate::rebuild::sequence(origin.run_started, index),
        };
        staged.stage_bytes(
            &crate::rebuild::manifest_path(config, &manifest.stored_as, &manifest.department),
            &tag,
            &manifest.to_json(),
        )?;
    }
    Ok(Prepared::Ready(Box::new(Ready {
        seen,
        period,
        submission,
        staged,
        bytes,
        read_as: opened,
    })))
}

/// Where a file lies: its path relative to the inbox (or, outside it, its
/// folder and name) and the department that folder names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// Relative to the inbox; outside it, `<parent folder>/<file name>`.
    pub relative: PathBuf,
    /// `relative` with forward slashes: how the ledger names the file.
    pub source_file: String,
    pub in_inbox: bool,
    /// The first folder of `relative`, when the file is inside one.
    pub department: Option<String>,
}

/// The first folder of a path relative to the inbox, when the file lies in one.
fn department_folder(relative: &Path) -> Option<String> {
    relative
        .components()
        .next()
        .filter(|_| relative.components().count() > 1)
        .and_then(|c| c.as_os_str().to_str())
        .map(str::to_string)
}

/// Where a file re-ingested from the archive lay when it arrived.
fn locate_as_if(source_file: &str) -> Located {
    let relative = PathBuf::from(source_file);
    let department = department_folder(&relative);
    Located {
        relative,
        source_file: source_file.to_string(),
        in_inbox: false,
        department,
    }
}

/// Reads an archived submission again and writes those of its part files
/// whose paths are in `paths` (parts found missing or damaged). Returns what
/// was written, or why that is impossible (the archive lost the file, or the
/// workbook now reads differently than the ledger recorded).
pub fn rewrite_parts(
    config: &Config,
    submission: &crate::state::SubmissionRow,
    paths: &HashSet<PathBuf>,
) -> Result<Result<Vec<warehouse::StagedFile>, String>, IngestError> {
    let archived = config.paths.archive.join(&submission.stored_as);
    if submission.stored_as.is_empty() || !archived.is_file() {
        return Ok(Err(format!(
            "its archived workbook {} is missing",
            archived.display()
        )));
    }
    let as_if = AsIf {
        archived: archived.clone(),
        source_file: submission.source_file.clone(),
        received_at: submission.received_at.clone(),
    };
    let run_started = crate::state::now();
    let origin = Origin {
        run_started: &run_started,
        as_if: Some(&as_if),
    };
    let prepared = prepare_file(config, &Known::default(), &archived, None, 0, origin)?;
    let ready = match prepared {
        Prepared::Ready(ready) => ready,
        Prepared::Quarantine(refusal) => {
            return Ok(Err(format!(
                "its archived workbook is refused when read again: {}",
                refusal.reason_en
            )));
        }
        Prepared::Duplicate(_) | Prepared::Waiting(_) | Prepared::Incomplete { .. } => {
            return Ok(Err("its archived workbook could not be read again".into()));
        }
    };
    let Ready {
        submission: again,
        mut staged,
        ..
    } = *ready;
    let same = again.sha256 == submission.sha256
        && again.period == submission.period
        && again.department == submission.department
        && (again.rows_loaded, again.rows_rejected, again.rows_skipped)
            == (
                submission.rows_loaded,
                submission.rows_rejected,
                submission.rows_skipped,
            );
    if !same {
        staged.discard();
        return Ok(Err(format!(
            "its archived workbook reads differently now ({} rows loaded, {} rejected, {} skipped, period {}; the ledger has {}, {}, {}, period {}): the configuration or templates changed since",
            again.rows_loaded,
            again.rows_rejected,
            again.rows_skipped,
            again.period,
            submission.rows_loaded,
            submission.rows_rejected,
            submission.rows_skipped,
            submission.period
        )));
    }
    staged.retain_paths(paths);
    let files = staged.files();
    staged.commit()?;
    Ok(Ok(files))
}

/// Where `path` lies relative to `inbox`. A file named on the command line
/// outside the inbox: its folder is its department.
pub fn locate(inbox: &Path, path: &Path) -> Located {
    let relative = path.strip_prefix(inbox).ok().map(Path::to_path_buf);
    let in_inbox = relative.is_some();
    let relative = relative.unwrap_or_else(|| {
        let mut r = PathBuf::new();
        if let Some(parent) = path.parent().and_then(Path::file_name) {
            r.push(parent);
        }
        r.push(path.file_name().unwrap_or_default());
        r
    });
    let source_file = relative.to_string_lossy().replace('\\', "/");
    let department = department_folder(&relative);
    Located {
        relative,
        source_file,
        in_inbox,
        department,
    }
}

/// The day in Vietnam, where the forms are filled: plausible dates are
/// judged from it.
pub fn today_in_vietnam() -> chrono::NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
        .date_naive()
}

/// Why a file of `len` bytes is refused before it is read (Vietnamese, English).
pub fn size_refusal(config: &Config, len: u64) -> Option<(String, String)> {
    if len <= config.ingest.max_file_bytes {
        return None;
    }
    let mib = config.ingest.max_file_bytes / (1024 * 1024);
    Some((
        format!("Tệp lớn hơn giới hạn {mib} MiB"),
        format!("The file is larger than the {mib} MiB limit"),
    ))
}

fn extension_of(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_lowercase)
        .unwrap_or_default()
}

/// Why a file is refused for its name's extension (Vietnamese, English).
pub fn extension_refusal(path: &Path) -> Option<(String, String)> {
    if SPREADSHEET_EXTENSIONS.contains(&extension_of(path).as_str()) {
        return None;
    }
    Some((
        format!(
            "Không phải tệp bảng tính; chấp nhận: {}",
            SPREADSHEET_EXTENSIONS.join(", ")
        ),
        format!(
            "Not a spreadsheet file; accepted: {}",
            SPREADSHEET_EXTENSIONS.join(", ")
        ),
    ))
}

/// Reads a workbook into a fresh loader: streamed, or, when its rows are out
/// of order or merged regions stored after the rows change the header, read
/// again whole with the merges known first.
fn read_into<'a>(
    bytes: &[u8],
    fresh: impl Fn() -> Loader<'a>,
) -> Result<Loader<'a>, WorkbookError> {
    let mut loader = fresh();
    // In a reader process with its own limits when the binary set one up.
    let limits = reader::Limits::of(&loader.config.ingest);
    let streamed = reader::read(reader::Mode::Stream, bytes, &mut loader, limits);
    if matches!(streamed, Err(WorkbookError::Unordered(_))) || loader.header_moved {
        loader.staged.discard();
        loader = fresh();
        if let Err(e) = reader::read(reader::Mode::Whole, bytes, &mut loader, limits) {
            loader.staged.discard();
            return Err(e);
        }
    } else if let Err(e) = streamed {
        loader.staged.discard();
        return Err(e);
    }
    Ok(loader)
}

/// One sheet as ingest read it.
#[derive(Debug, Clone)]
pub struct SheetRead {
    pub outcome: SheetOutcome,
    /// The workbook hides it: its rows are counted, none is read.
    pub hidden: bool,
    /// Refused whole: its title names another period than the file's.
    pub refused: Option<SheetRefusal>,
}

/// A workbook read as ingest reads it, with nothing staged or written.
#[derive(Debug, Clone)]
pub struct WorkbookRead {
    pub sheets: Vec<SheetRead>,
    /// The file's period, or why ingest refuses the file.
    pub verdict: Result<PeriodDecision, PeriodRefusal>,
}

/// Reads `bytes` exactly as [`ingest`] does — the same streaming reader and
/// whole-sheet fallback, the same period checks per sheet, the same verdict —
/// against `templates`, keeping no row and writing nothing. For `inspect`.
pub fn read_without_staging(
    config: &Config,
    templates: &[Template],
    ctx: SheetContext<'_>,
    bytes: &[u8],
    path_evidence: &[Evidence],
) -> Result<WorkbookRead, WorkbookError> {
    let loader = read_into(bytes, || {
        Loader::new(config, templates, ctx, None, path_evidence)
    })?;
    let verdict = file_verdict(&loader.outcomes, &loader.hidden, templates, path_evidence);
    let sheets = loader
        .outcomes
        .into_iter()
        .zip(loader.hidden)
        .zip(loader.refused)
        .map(|((outcome, hidden), refused)| SheetRead {
            outcome,
            hidden,
            refused,
        })
        .collect();
    Ok(WorkbookRead { sheets, verdict })
}

/// What ingest decides about a workbook read: refused when no visible sheet
/// matched a template, else the period from the path and the titles of the
/// sheets whose rows would be taken (see [`period::decide`]).
pub fn file_verdict(
    outcomes: &[SheetOutcome],
    hidden: &[bool],
    templates: &[Template],
    path_evidence: &[Evidence],
) -> Result<PeriodDecision, PeriodRefusal> {
    if outcomes.iter().all(|o| o.template.is_none()) {
        let known: Vec<&str> = templates.iter().map(|t| t.title.as_str()).collect();
        // Hidden sheets are not read: say so, in case the form is in one.
        let hidden: Vec<&str> = outcomes
            .iter()
            .zip(hidden)
            .filter(|(o, hidden)| **hidden && o.data_rows > 0)
            .map(|(o, _)| o.sheet.as_str())
            .collect();
        let (hidden_vi, hidden_en) = if hidden.is_empty() {
            (String::new(), String::new())
        } else {
            (
                format!(
                    "; trang tính ẩn không được đọc: {} (nếu biểu mẫu ở đó, hãy bỏ ẩn rồi gửi lại)",
                    hidden.join(", ")
                ),
                format!(
                    "; hidden sheets are not read: {} (if the form is there, unhide it and send again)",
                    hidden.join(", ")
                ),
            )
        };
        return Err(PeriodRefusal {
            evidence: Vec::new(),
            reason_vi: format!(
                "Không trang tính nào có dòng tiêu đề cột của biểu mẫu đã biết ({}){hidden_vi}",
                known.join("; ")
            ),
            reason_en: format!(
                "No sheet has the column headers of a known form (staff, training, plan, recruitment){hidden_en}"
            ),
        });
    }
    // Only sheets whose rows would be taken speak for the period.
    let titles: Vec<period::SheetTitle> = outcomes
        .iter()
        .filter(|o| o.template.is_some())
        .map(|o| period::SheetTitle {
            sheet: o.sheet.clone(),
            evidence: period::title_evidence(&o.sheet, &o.title_lines),
        })
        .collect();
    period::decide(path_evidence, &titles)
}

/// Normalises each sheet as the workbook is read and writes its rows to
/// staged Parquet files in batches, so no sheet is ever held whole.
struct Loader<'a> {
    config: &'a Config,
    /// The templates sheets are read against (all of the config's, or the
    /// one `inspect --template` names).
    templates: &'a [Template],
    ctx: SheetContext<'a>,
    /// Whether converted rows are written: false for `inspect`, which only
    /// needs each sheet's outcome.
    stage: bool,
    tag: &'a str,
    submission_id: &'a str,
    staged: StagedFiles,
    sheet: Option<SheetNormaliser<'a>>,
    outcomes: Vec<SheetOutcome>,
    /// Per sheet of `outcomes`: hidden by the workbook.
    hidden: Vec<bool>,
    /// Non-blank rows of the hidden sheet being read (not normalised), and
    /// the first and last of them (0-based).
    hidden_rows: Option<(usize, Option<(u32, u32)>)>,
    parts: BTreeMap<&'a str, PartRows<'a>>,
    /// Merged regions learnt after a sheet's rows would have found another
    /// header: the workbook must be read again with them known first.
    header_moved: bool,
    error: Option<IngestError>,
    /// The folders' and file name's period evidence, known before reading.
    path_evidence: &'a [Evidence],
    /// Per sheet (as `outcomes`): refused because its title names another
    /// period than the file's.
    refused: Vec<Option<SheetRefusal>>,
    /// Whether the current sheet's title has been checked against the period.
    period_checked: bool,
    /// The current sheet's name.
    sheet_name: String,
    /// The people (unique values) of the sheets read so far.
    seen: SeenKeys,
}

/// Rows of one template on their way to its part file.
struct PartRows<'a> {
    template: &'a Template,
    /// (index of the sheet in `Loader::outcomes`, row).
    pending: Vec<(usize, ParsedRow)>,
    writer: Option<warehouse::PartWriter>,
    rows: usize,
}

/// Rows converted before they are written as one Arrow batch.
const WRITE_BATCH_ROWS: usize = 8 * 1024;

impl<'a> Loader<'a> {
    /// `staging`: the tag of the staged files and the submission id, when
    /// rows are written; `None` reads without keeping any row.
    fn new(
        config: &'a Config,
        templates: &'a [Template],
        ctx: SheetContext<'a>,
        staging: Option<(&'a str, &'a str)>,
        path_evidence: &'a [Evidence],
    ) -> Self {
        let (tag, submission_id) = staging.unwrap_or_default();
        Loader {
            config,
            templates,
            ctx,
            stage: staging.is_some(),
            tag,
            submission_id,
            staged: StagedFiles::default(),
            sheet: None,
            outcomes: Vec::new(),
            hidden: Vec::new(),
            hidden_rows: None,
            parts: BTreeMap::new(),
            header_moved: false,
            error: None,
            path_evidence,
            refused: Vec::new(),
            period_checked: false,
            sheet_name: String::new(),
            seen: SeenKeys::default(),
        }
    }

    /// Checks the current sheet's title against the file's period once its
    /// header is found. A refused sheet's rows queued so far are dropped:
    /// none of them has been written yet, because the header is decided
    /// within one `push` (or in `finish`) and rows are written only after it
    /// returns; later rows of the sheet are not queued at all.
    fn check_period(&mut self, index: usize, sheet: &str, title_lines: &[String]) {
        self.period_checked = true;
        let title = period::SheetTitle {
            sheet: sheet.to_string(),
            evidence: period::title_evidence(sheet, title_lines),
        };
        let Some(refusal) = period::sheet_refusal(self.path_evidence, &title) else {
            return;
        };
        for part in self.parts.values_mut() {
            let queued = part.pending.len();
            part.pending.retain(|(s, _)| *s != index);
            part.rows -= queued - part.pending.len();
        }
        // A form only the refused sheet held is no load of this file: a load
        // of 0 rows would supersede the department's earlier submission of it.
        self.parts
            .retain(|_, part| part.rows > 0 || part.writer.is_some());
        if let Some(slot) = self.refused.get_mut(index) {
            *slot = Some(refusal);
        }
    }

    fn write_pending(&mut self, template: &str) {
        let Some(part) = self.parts.get_mut(template) else {
            return;
        };
        if part.pending.is_empty() || self.error.is_some() {
            return;
        }
        let result = (|| -> Result<(), IngestError> {
            let rows: Vec<(&str, &ParsedRow)> = part
                .pending
                .iter()
                .map(|(sheet, row)| {
                    let name = self.outcomes.get(*sheet).map_or("", |o| o.sheet.as_str());
                    (name, row)
                })
                .collect();
            let batch = warehouse::template_batch(part.template, &rows, self.submission_id)?;
            let writer = match &mut part.writer {
                Some(writer) => writer,
                None => {
                    // The period, and so the final path, is known only at the end.
                    let provisional = self
                        .config
                        .paths
                        .warehouse
                        .join(format!("{}-{}", part.template.name, self.submission_id));
                    part.writer.insert(self.staged.parquet_writer(
                        &provisional,
                        self.tag,
                        batch.schema(),
                    )?)
                }
            };
            writer.write(&batch)?;
            Ok(())
        })();
        part.pending.clear();
        if let Err(e) = result {
            self.error = Some(e);
        }
    }

    /// Finishes the part files under their final names. Returns the loads for the ledger.
    fn finish(
        mut self,
        department: &str,
        period: &str,
        source_file: &str,
    ) -> Result<(StagedFiles, Vec<(String, i64)>), IngestError> {
        let names: Vec<&'a str> = self.parts.keys().copied().collect();
        for name in &names {
            self.write_pending(name);
        }
        if let Some(e) = self.error {
            self.staged.discard();
            return Err(e);
        }
        let root = &self.config.paths.warehouse;
        let mut loads = Vec::new();
        for (name, part) in std::mem::take(&mut self.parts) {
            if let Some(writer) = part.writer {
                let path = warehouse::part_path(root, name, period, department, self.submission_id);
                writer.finish_as(&mut self.staged, &path)?;
            }
            loads.push((name.to_string(), part.rows as i64));
        }
        let rejects: Vec<Reject> = self
            .outcomes
            .iter()
            .flat_map(|o| o.rejects.iter().cloned())
            .collect();
        if !rejects.is_empty() {
            let batch = warehouse::rejects_batch(&rejects, self.submission_id, source_file)?;
            let path = warehouse::part_path(
                root,
                warehouse::REJECTS,
                period,
                department,
                self.submission_id,
            );
            self.staged.stage_parquet(&path, self.tag, &batch)?;
        }
        Ok((self.staged, loads))
    }
}

impl<'a> workbook::RowSink for Loader<'a> {
    fn begin_sheet(
        &mut self,
        name: &str,
        origin_col: u32,
        merges: Option<Vec<Merge>>,
        hidden: bool,
    ) {
        self.hidden.push(hidden);
        self.refused.push(None);
        if hidden {
            // Last year's copy, a lookup list: never this file's data.
            // Its rows are only counted, so the department sees them.
            self.sheet = None;
            self.hidden_rows = Some((0, None));
            self.outcomes.push(SheetOutcome {
                sheet: name.to_string(),
                ..SheetOutcome::default()
            });
            return;
        }
        self.hidden_rows = None;
        let mut sheet = SheetNormaliser::new(name, self.templates, self.ctx, origin_col);
        sheet.carry_keys(std::mem::take(&mut self.seen));
        if let Some(merges) = merges {
            sheet.merges = merges;
        }
        self.sheet = Some(sheet);
        self.outcomes.push(SheetOutcome::default());
        self.period_checked = false;
        self.sheet_name = name.to_string();
    }

    fn row(&mut self, row: u32, cells: Vec<Cell>) {
        if let Some((rows, span)) = &mut self.hidden_rows {
            // The workbook reader hands on non-blank rows only.
            *rows += 1;
            let first = span.map_or(row, |(first, _)| first);
            *span = Some((first, row));
            return;
        }
        let Some(sheet) = &mut self.sheet else {
            return;
        };
        let index = self.outcomes.len() - 1;
        let mut full = None;
        let parts = &mut self.parts;
        let keep = self.stage && !self.refused.get(index).is_some_and(Option::is_some);
        sheet.push(row, cells, &mut |template, parsed| {
            if keep && add_row(parts, index, template, parsed) {
                full = Some(template.name.as_str());
            }
        });
        if !self.period_checked
            && sheet.template().is_some()
            && let Some(lines) = sheet.title_lines()
        {
            let lines = lines.to_vec();
            let name = std::mem::take(&mut self.sheet_name);
            self.check_period(index, &name, &lines);
            self.sheet_name = name;
            if self.refused.get(index).is_some_and(Option::is_some) {
                full = None;
            }
        }
        if let Some(name) = full {
            self.write_pending(name);
        }
    }

    fn end_sheet(&mut self, late_merges: Option<Vec<Merge>>) {
        if let Some((rows, span)) = self.hidden_rows.take() {
            if let Some(outcome) = self.outcomes.last_mut() {
                outcome.data_rows = rows;
                outcome.skips.hidden_sheet = rows;
                // Listed like any skipped rows, so the department and
                // `inspect` see which rows were not read.
                outcome.row_spans = span
                    .map(|(first, last)| RowSpan {
                        first_row: first + 1,
                        last_row: last + 1,
                        class: RowClass::Skipped {
                            kind: SkipKind::HiddenSheet,
                        },
                    })
                    .into_iter()
                    .collect();
            }
            return;
        }
        let Some(sheet) = self.sheet.take() else {
            return;
        };
        if let Some(merges) = late_merges
            && !sheet.header_holds(&merges)
        {
            self.header_moved = true;
        }
        let index = self.outcomes.len() - 1;
        let parts = &mut self.parts;
        let keep = self.stage && !self.refused.get(index).is_some_and(Option::is_some);
        let (mut outcome, mut seen) = sheet.finish_with_keys(&mut |template, parsed| {
            if keep {
                add_row(parts, index, template, parsed);
            }
        });
        if !self.period_checked && outcome.template.is_some() {
            self.check_period(index, &outcome.sheet, &outcome.title_lines);
        }
        if self.refused.get(index).is_some_and(Option::is_some) {
            // Refused whole: every row of it is counted as of another period,
            // and nothing of it (rows, rejects, warnings) reaches the warehouse.
            outcome.skips = Skips {
                other_period: outcome.data_rows,
                ..Skips::default()
            };
            outcome.loaded = 0;
            outcome.rejected_rows = 0;
            outcome.rejects.clear();
            outcome.warnings.clear();
            // Its rows are listed as they are counted: of another period.
            outcome.row_spans = other_period_spans(&outcome.row_spans);
            // Its people are not this file's: a later sheet may list them.
            seen.forget_sheet(&outcome.sheet);
        }
        self.seen = seen;
        self.outcomes[index] = outcome;
    }
}

/// The runs of a refused sheet, every row now counted as of another period.
fn other_period_spans(spans: &[RowSpan]) -> Vec<RowSpan> {
    let class = RowClass::Skipped {
        kind: SkipKind::OtherPeriod,
    };
    match (spans.first(), spans.last()) {
        (Some(first), Some(last)) => vec![RowSpan {
            first_row: first.first_row,
            last_row: last.last_row,
            class,
        }],
        _ => Vec::new(),
    }
}

/// Queues a converted row for its template's part file; true when the queue is full.
fn add_row<'a>(
    parts: &mut BTreeMap<&'a str, PartRows<'a>>,
    sheet: usize,
    template: &'a Template,
    row: ParsedRow,
) -> bool {
    let part = parts
        .entry(template.name.as_str())
        .or_insert_with(|| PartRows {
            template,
            pending: Vec::new(),
            writer: None,
            rows: 0,
        });
    part.pending.push((sheet, row));
    part.rows += 1;
    part.pending.len() >= WRITE_BATCH_ROWS
}

/// Takes prepared files in inbox order and records them: quarantines and
/// duplicates at once, accepted files in durable batches.
struct Committer<'a> {
    config: &'a Config,
    state: &'a mut State,
    reports: Vec<FileReport>,
    batch: Vec<Ready>,
    staged: StagedFiles,
    /// (department, content hash) accepted by this run, for the same bytes
    /// sent twice by one department in one inbox.
    taken: HashSet<(String, String)>,
    /// Inbox files left because they look incomplete: their sightings are kept.
    incomplete: HashSet<String>,
    /// Files quarantined because they stopped the reader.
    stopped_reader: Vec<String>,
    batch_limit: usize,
    /// Bytes of the batch's files kept until they are archived.
    held_bytes: u64,
    /// The data part files of the batch, recorded with its submissions.
    parts: Vec<crate::state::PartRecord>,
}

impl<'a> Committer<'a> {
    fn new(config: &'a Config, state: &'a mut State) -> Self {
        Committer {
            config,
            state,
            reports: Vec::new(),
            batch: Vec::new(),
            staged: StagedFiles::default(),
            taken: HashSet::new(),
            incomplete: HashSet::new(),
            stopped_reader: Vec::new(),
            batch_limit: FIRST_BATCH_FILES,
            held_bytes: 0,
            parts: Vec::new(),
        }
    }

    fn take(&mut self, prepared: Prepared) -> Result<(), IngestError> {
        match prepared {
            Prepared::Waiting(report) => self.finish(report),
            Prepared::Incomplete { report, record } => {
                if let Some(sighting) = record {
                    self.state.record_sighting(&report.source_file, &sighting)?;
                }
                self.incomplete.insert(report.source_file.clone());
                self.finish(report);
            }
            Prepared::Duplicate(seen) => {
                self.flush()?;
                self.duplicate(*seen)?;
            }
            Prepared::Quarantine(refusal) => {
                self.flush()?;
                self.quarantine(*refusal)?;
            }
            Prepared::Ready(mut ready) => {
                let key = (ready.submission.department.clone(), ready.seen.sha.clone());
                if !self.taken.insert(key) {
                    std::mem::take(&mut ready.staged).discard();
                    self.flush()?;
                    return self.duplicate(ready.seen);
                }
                self.parts.extend(crate::rebuild::part_records(
                    &self.config.paths.warehouse,
                    &ready.submission.submission_id,
                    &ready.staged.files(),
                ));
                self.staged.extend(std::mem::take(&mut ready.staged));
                self.batch.push(*ready);
                if self.batch.len() >= self.batch_limit || self.staged.staged_bytes() >= BATCH_BYTES
                {
                    self.flush()?;
                }
            }
        }
        Ok(())
    }

    fn finish(&mut self, report: FileReport) {
        log_outcome(&report);
        self.reports.push(report);
    }

    /// Makes the batch's files durable and in place, then records it in the
    /// ledger, then lets the inbox copies go: a crash before the ledger
    /// commit leaves part files [`reconcile`] removes and the inbox intact.
    fn flush(&mut self) -> Result<(), IngestError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        std::mem::take(&mut self.staged).commit()?;
        self.batch_limit = (self.batch_limit * 2).min(BATCH_FILES);
        let batch = std::mem::take(&mut self.batch);
        self.held_bytes = 0;
        let submissions: Vec<NewSubmission> = batch.iter().map(|r| r.submission.clone()).collect();
        let parts = std::mem::take(&mut self.parts);
        let superseded = self
            .state
            .record_submissions_with_parts(&submissions, &parts)?;
        for (ready, superseded) in batch.into_iter().zip(superseded) {
            let Ready {
                seen,
                period,
                submission,
                bytes,
                read_as,
                ..
            } = ready;
            if seen.in_inbox {
                change_point("before-archive", &seen.path);
                self.archive_from_inbox(&seen.path, &submission.stored_as, &bytes, read_as)?;
            }
            let mut report = seen.report;
            report.outcome = Outcome::Accepted {
                submission_id: submission.submission_id,
                period: period.to_string(),
                superseded: superseded
                    .iter()
                    .map(|l| format!("{}:{}", l.template, l.submission_id))
                    .collect(),
            };
            self.finish(report);
        }
        Ok(())
    }

    /// Moves an accepted inbox file into the archive (a rename: no copy to
    /// write and flush). A file changed since it was read is a newer version
    /// for the next run: it stays, and the bytes read are archived instead.
    /// A crash before this leaves the file in the inbox, where the next run
    /// finds it already taken and archives it then.
    fn archive_from_inbox(
        &self,
        path: &Path,
        stored_as: &str,
        bytes: &[u8],
        read_as: (u64, Option<SystemTime>),
    ) -> Result<(), IngestError> {
        let target = self.config.paths.archive.join(stored_as);
        let unchanged =
            std::fs::metadata(path).is_ok_and(|m| (m.len(), m.modified().ok()) == read_as);
        if unchanged && !target.exists() {
            move_file(path, &target)
        } else if unchanged {
            std::fs::remove_file(path).map_err(io_failed("remove", path))
        } else {
            archive_bytes(&target, bytes)
        }
    }

    /// Same bytes as a submission taken before (or just before a crash): make
    /// sure the archive holds them, then let the inbox copy go.
    fn duplicate(&mut self, seen: Seen) -> Result<(), IngestError> {
        let department = seen.report.department.as_deref().unwrap_or_default();
        let Some(existing) = self.state.submission_by_sha(department, &seen.sha)? else {
            let mut report = seen.report;
            report.outcome = Outcome::Waiting {
                reason: "the ledger changed while the file was read".into(),
            };
            self.finish(report);
            return Ok(());
        };
        let archived = self.config.paths.archive.join(&existing.stored_as);
        if !archived.is_file() {
            let (bytes, _) = read_regular(&seen.path).map_err(io_error(&seen.path))?;
            archive_bytes(&archived, &bytes)?;
        }
        if seen.in_inbox {
            std::fs::remove_file(&seen.path).map_err(io_failed("remove", &seen.path))?;
        }
        let mut report = seen.report;
        report.outcome = Outcome::Duplicate {
            submission_id: existing.submission_id,
        };
        self.finish(report);
        Ok(())
    }

    /// Writes a refused file's sidecar, records it in the ledger, then moves
    /// it to the quarantine folder: recorded before the move, so a crash
    /// between the two leaves a ledger entry (the department's feedback
    /// still goes out) and the file in the inbox, whose move the next run
    /// finishes under the recorded name instead of recording it twice (an
    /// entry with its sidecar but not its file; an analyst who clears the
    /// quarantine removes both, and the same file sent again is then new).
    /// A crash before the ledger commit leaves only a sidecar, and the next
    /// run quarantines the file afresh. A file changed since it was looked at
    /// is a newer version: it is neither moved nor recorded, and the next
    /// run reads it again.
    fn quarantine(&mut self, refusal: Refusal) -> Result<(), IngestError> {
        let Refusal {
            seen,
            reason_vi,
            reason_en,
            stopped_reader,
        } = refusal;
        change_point("before-quarantine-move", &seen.path);
        if seen.in_inbox && !unchanged_since(&seen.path, seen.read_as) {
            let mut report = seen.report;
            report.outcome = Outcome::Waiting {
                reason: "changed after it was read: the newer version is read by the next run"
                    .into(),
            };
            self.finish(report);
            return Ok(());
        }
        let department = seen.report.department.as_deref();
        let quarantine = &self.config.paths.quarantine;
        let unfinished = self
            .state
            .quarantine_entries(department, &seen.report.source_file, &seen.sha)?
            .into_iter()
            .find(|stored| {
                let target = quarantine.join(stored);
                !stored.is_empty()
                    && std::fs::symlink_metadata(&target).is_err()
                    && sidecar_of(&target).is_file()
            });
        let stored = match unfinished {
            Some(stored) => stored,
            None => {
                let stored = quarantine_name(self.config, &seen.path, department, &seen.sha);
                write_sidecar(
                    &quarantine.join(&stored),
                    &seen.path,
                    &seen.sha,
                    &reason_vi,
                    &reason_en,
                )?;
                let sheets = serde_json::to_string(&seen.report.sheets).unwrap_or_default();
                self.state.record_quarantine(&crate::state::NewQuarantine {
                    sha256: &seen.sha,
                    department,
                    source_file: &seen.report.source_file,
                    stored_as: &stored,
                    reason_vi: &reason_vi,
                    reason_en: &reason_en,
                    report: &sheets,
                })?;
                crash_point("quarantine-recorded");
                stored
            }
        };
        quarantine_file(self.config, &seen.path, &stored, seen.in_inbox)?;
        if stopped_reader {
            self.stopped_reader.push(seen.report.source_file.clone());
        }
        let mut report = seen.report;
        report.outcome = Outcome::Quarantined {
            reason_vi,
            reason_en,
        };
        self.finish(report);
        Ok(())
    }
}

/// One line per file at debug (`-v`): at country scale an inbox is 20,000
/// files, and the log at info gets [`log_summary`] instead. A refused file is
/// a warning, one per file: someone has to act on each.
fn log_outcome(report: &FileReport) {
    let (loaded, rejected, skipped) = report.rows();
    match &report.outcome {
        Outcome::Accepted {
            submission_id,
            period,
            superseded,
        } => tracing::debug!(
            file = %printable(&report.source_file), submission = %submission_id, %period, loaded, rejected, skipped,
            superseded = superseded.len(), "accepted"
        ),
        Outcome::Duplicate { submission_id } => {
            tracing::debug!(file = %printable(&report.source_file), submission = %submission_id, "already ingested (same bytes)")
        }
        Outcome::Quarantined { reason_en, .. } => {
            tracing::warn!(file = %printable(&report.source_file), reason = %printable(reason_en), "quarantined")
        }
        Outcome::Waiting { reason } => {
            tracing::debug!(file = %printable(&report.source_file), reason = %printable(reason), "left for the next run")
        }
    }
}

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

/// Office lock files, editor backups and partial downloads: never someone's submission.
pub fn is_transient_name(name: &str) -> bool {
    let lower = name.to_lowercase();
    name.starts_with("~$")
        || name.starts_with('.')
        || name.ends_with('~')
        || [".tmp", ".part", ".crdownload", ".partial", ".download"]
            .iter()
            .any(|s| lower.ends_with(s))
}

fn archive_name(sha: &str, extension: &str) -> String {
    format!("{}/{sha}.{extension}", &sha[..2])
}

fn archive_bytes(path: &Path, bytes: &[u8]) -> Result<(), IngestError> {
    write_atomic(path, bytes)
}

/// Writes bytes to a temporary file beside `path`, fsyncs and renames it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), IngestError> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io_failed("create the folder", dir))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut file = std::fs::File::create(&tmp).map_err(io_failed("create", &tmp))?;
    file.write_all(bytes).map_err(io_failed("write", &tmp))?;
    file.sync_all().map_err(io_failed("flush", &tmp))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(io_failed("move into place", path))?;
    warehouse::sync_dir(dir)?;
    Ok(())
}

/// A file's size and modification time, as compared between two looks.
pub type FileLook = (u64, Option<SystemTime>);

fn look_of(metadata: &std::fs::Metadata) -> FileLook {
    (metadata.len(), metadata.modified().ok())
}

/// Whether the inbox entry at `path` is as it was looked at (`None`: it
/// was never looked at, nothing to compare).
fn unchanged_since(path: &Path, read_as: Option<FileLook>) -> bool {
    match read_as {
        None => true,
        Some(read_as) => std::fs::symlink_metadata(path).is_ok_and(|m| look_of(&m) == read_as),
    }
}

fn mtime_ns(time: SystemTime) -> i64 {
    match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_nanos()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_nanos()).map_or(i64::MIN, |n| -n),
    }
}

/// Opens `path` for reading only if it is a regular file: never through a
/// link, and never blocking on a pipe or a device (`O_NONBLOCK` opens a
/// FIFO at once; the `fstat` after the open then refuses it). Returns the
/// bytes and the size and modification time the open file had before
/// reading. Anything not a regular file is `InvalidInput`.
pub fn read_regular(path: &Path) -> std::io::Result<(Vec<u8>, FileLook)> {
    use std::io::Read;
    let mut options = std::fs::File::options();
    options.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW);
    }
    let file = options.open(path).map_err(|e| {
        // ELOOP: O_NOFOLLOW met a link.
        #[cfg(target_os = "linux")]
        if e.raw_os_error() == Some(libc::ELOOP) {
            return std::io::Error::new(std::io::ErrorKind::InvalidInput, "a link, not a file");
        }
        e
    })?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let look = look_of(&metadata);
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0).min(1 << 30));
    // One byte more than it had: a file still growing is seen to have
    // changed, and is not read on without end.
    file.take(metadata.len().saturating_add(1))
        .read_to_end(&mut bytes)?;
    Ok((bytes, look))
}

/// Why an inbox entry is refused for what it is rather than what it holds
/// (Vietnamese, English): a link, a pipe, a socket or a device, or a file
/// more than [`inbox::MAX_DEPTH`] folders below the inbox (`folders`:
/// how many it is below, for an inbox entry).
fn entry_refusal(metadata: &std::fs::Metadata, folders: Option<usize>) -> Option<(String, String)> {
    use std::os::unix::fs::FileTypeExt;
    let kind = metadata.file_type();
    let (what_vi, what_en) = if kind.is_symlink() {
        ("một liên kết (link)", "a link")
    } else if kind.is_fifo() {
        ("một đường ống (FIFO)", "a FIFO (named pipe)")
    } else if kind.is_socket() {
        ("một socket", "a socket")
    } else if kind.is_block_device() || kind.is_char_device() {
        ("một thiết bị", "a device")
    } else {
        let below = inbox::MAX_DEPTH - 1;
        return folders.filter(|&f| f > inbox::MAX_DEPTH).map(|_| {
            (
                format!("Tệp nằm quá sâu: tối đa {below} thư mục bên dưới thư mục của đơn vị; hãy đặt tệp gần hơn"),
                format!("Too deep: at most {below} folders below the department folder; put the file higher up"),
            )
        });
    };
    Some((
        format!("Đây là {what_vi}, không phải một tệp: hãy đặt chính tệp bảng tính vào thư mục"),
        format!("This is {what_en}, not a file: put the file itself in the folder"),
    ))
}

/// What a truncated file lacks, in both languages.
struct Truncation {
    vi: &'static str,
    en: &'static str,
}

/// Whether `bytes` look like the beginning of a workbook whose end has not
/// arrived yet: a zip (xlsx, xlsm, xlsb, ods) without its end-of-central-
/// directory record in the last 64 KiB + 22 bytes, or a compound file (xls)
/// shorter than the sectors its header and allocation table use. A file
/// that is garbage from its first bytes is not truncated, and neither is an
/// empty one (a copy under way has a fresh modification time, which the
/// settle look catches): the reader refuses those at once.
fn looks_truncated(bytes: &[u8], extension: &str) -> Option<Truncation> {
    match extension {
        "xlsx" | "xlsm" | "xlsb" | "ods" if bytes.starts_with(b"PK\x03\x04") => {
            // The record is 22 bytes and a comment of up to 64 KiB: whole.
            let from = bytes.len().saturating_sub(64 * 1024 + 22);
            let has_end = (from..bytes.len().saturating_sub(21)).rev().any(|at| {
                bytes[at..at + 4] == *b"PK\x05\x06"
                    && at + 22 + usize::from(u16::from_le_bytes([bytes[at + 20], bytes[at + 21]]))
                        <= bytes.len()
            });
            (!has_end).then_some(Truncation {
                vi: "tệp zip thiếu phần cuối",
                en: "a zip without its end record",
            })
        }
        "xls" if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) => {
            cfb_truncated(bytes).then_some(Truncation {
                vi: "tệp xls ngắn hơn số sector khai báo",
                en: "an xls shorter than the sectors its header declares",
            })
        }
        _ => None,
    }
}

/// A compound file is truncated when its header is cut, or a sector its
/// header or allocation table (the part the header locates) says is in use
/// starts beyond the end of the file. Only the first 109 allocation-table
/// sectors (those the header lists, a file of up to ~7 MB with 512-byte
/// sectors) are checked; a larger file is checked that far.
fn cfb_truncated(bytes: &[u8]) -> bool {
    const HEADER: usize = 512;
    const FREE: u32 = 0xFFFF_FFFF;
    const LAST_REGULAR: u32 = 0xFFFF_FFF9;
    let u32_at = |at: usize| -> Option<u32> {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    if bytes.len() < HEADER {
        return true;
    }
    let shift = u16::from_le_bytes([bytes[30], bytes[31]]);
    if !(9..=12).contains(&shift) {
        return false; // not a compound file header the reader knows: its refusal
    }
    let sector = 1usize << shift;
    // Sector n starts after the header, which takes one sector. A sector
    // only begun counts as there: some writers leave the last one short.
    let end_of = |n: u32| (n as usize + 1) * sector + 1;
    let mut fat_sectors = Vec::new();
    for i in 0..109 {
        match u32_at(0x4C + 4 * i) {
            Some(n) if n <= LAST_REGULAR => fat_sectors.push(n),
            _ => {}
        }
    }
    // The directory's first sector must be there too.
    if let Some(dir) = u32_at(0x30)
        && dir <= LAST_REGULAR
        && end_of(dir) > bytes.len()
    {
        return true;
    }
    let per_sector = sector / 4;
    for (k, &fat) in fat_sectors.iter().enumerate() {
        let start = (fat as usize + 1) * sector;
        if end_of(fat) > bytes.len() {
            return true;
        }
        for j in 0..per_sector {
            // A short last sector: the entries it lacks are of sectors beyond the end.
            let Some(entry) = u32_at(start + 4 * j) else {
                break;
            };
            if entry != FREE && end_of((k * per_sector + j) as u32) > bytes.len() {
                return true;
            }
        }
    }
    false
}

/// Test-only faults, in debug builds only: with `NHANLUC_TEST_CRASH_AT=<point>`
/// the process aborts at that point, as a kill -9 there would stop it; with
/// `NHANLUC_TEST_CHANGE_AT=<point>` the file at `path` is appended to there,
/// as a writer still at work would.
fn crash_point(point: &str) {
    #[cfg(debug_assertions)]
    if std::env::var("NHANLUC_TEST_CRASH_AT").is_ok_and(|p| p == point) {
        std::process::abort();
    }
    let _ = point;
}

fn change_point(point: &str, path: &Path) {
    #[cfg(debug_assertions)]
    if std::env::var("NHANLUC_TEST_CHANGE_AT").is_ok_and(|p| p == point) {
        use std::io::Write;
        if let Ok(mut file) = std::fs::File::options().append(true).open(path) {
            let _ = file.write_all(b"\n");
        }
    }
    let _ = (point, path);
}

/// The sidecar beside each quarantined file.
const SIDECAR_SUFFIX: &str = ".reason.txt";

/// Where a refused file goes, relative to the quarantine folder:
/// `<DEPT>/<stamp>-<sha prefix>-<name>`, the last component short enough
/// (in bytes) that its sidecar's name fits a file system's 255 too.
fn quarantine_name(config: &Config, path: &Path, department: Option<&str>, sha: &str) -> String {
    let folder = department
        .filter(|d| config.department(d).is_some())
        .map(safe_file_name)
        .unwrap_or_else(|| "_unknown".to_string());
    let name = safe_file_name(
        &path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    );
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let short = sha.get(..8).unwrap_or("nohash");
    let prefix = format!("{stamp}-{short}-");
    let room = NAME_MAX - SIDECAR_SUFFIX.len() - prefix.len();
    format!("{folder}/{prefix}{}", fit_name(&name, room))
}

/// The `.reason.txt` beside a quarantined file.
fn sidecar_of(target: &Path) -> PathBuf {
    target.with_file_name(format!(
        "{}{SIDECAR_SUFFIX}",
        target.file_name().unwrap_or_default().to_string_lossy()
    ))
}

/// Writes the sidecar saying why the file at `path` goes to `target`, one
/// line per field whatever the name or the reason holds.
fn write_sidecar(
    target: &Path,
    path: &Path,
    sha: &str,
    reason_vi: &str,
    reason_en: &str,
) -> Result<(), IngestError> {
    let sidecar = format!(
        "Tệp / file: {}\nLý do: {}\nReason: {}\nsha256: {sha}\n",
        printable(&path.display().to_string()),
        printable(reason_vi),
        printable(reason_en),
    );
    write_atomic(&sidecar_of(target), sidecar.as_bytes())
}

/// Moves (or, for a file outside the inbox, copies) a refused file to
/// `relative` under the quarantine folder, where its sidecar already is.
/// An entry that is no regular file (a link, a pipe) outside the inbox is
/// not copied: the sidecar says what it was.
fn quarantine_file(
    config: &Config,
    path: &Path,
    relative: &str,
    in_inbox: bool,
) -> Result<(), IngestError> {
    let target = config.paths.quarantine.join(relative);
    if in_inbox {
        move_file(path, &target)?;
    } else {
        match read_regular(path) {
            Ok((bytes, _)) => write_atomic(&target, &bytes)?,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {}
            Err(e) => return Err(io_error(path)(e)),
        }
    }
    Ok(())
}

fn move_file(from: &Path, to: &Path) -> Result<(), IngestError> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(io_failed("create the folder", dir))?;
    }
    if std::fs::rename(from, to).is_ok() {
        return Ok(());
    }
    // Another file system: copy durably, then remove the original.
    let (bytes, _) = read_regular(from).map_err(io_error(from))?;
    write_atomic(to, &bytes)?;
    std::fs::remove_file(from).map_err(io_failed("remove", from))
}

/// Makes the warehouse agree with the ledger: removes part files of loads that
/// are not active (superseded, or written by a run that died before its
/// commit), temporary files, and rewrites the `submissions` table. Returns the
/// number of files removed.
pub fn reconcile(config: &Config, state: &State) -> Result<usize, IngestError> {
    // A ledger that is not the warehouse's (lost, recreated empty) would
    // call every part unknown: refuse instead of deleting them.
    crate::rebuild::trust(config, state)?;
    let root = &config.paths.warehouse;
    let mut removed = warehouse::remove_temporaries(root)?;
    let mut forgotten = Vec::new();
    let active: HashSet<(String, String, String, String)> = state
        .active_loads()?
        .into_iter()
        .map(|l| (l.template, l.period, l.department, l.submission_id))
        .collect();
    let submissions = state.submissions()?;
    let accepted: HashSet<&str> = submissions
        .iter()
        .filter(|s| s.status == "accepted")
        .map(|s| s.submission_id.as_str())
        .collect();
    let known: BTreeSet<&str> = submissions
        .iter()
        .map(|s| s.submission_id.as_str())
        .collect();
    let parts = warehouse::list_parts(root);
    // A part of a submission the ledger never heard of is a crash leftover,
    // unless the archive shows it was committed: then the ledger is older
    // than the data (a restored backup) and deleting would lose it.
    crate::rebuild::refuse_older_ledger(
        config,
        parts
            .iter()
            .filter(|p| !known.contains(p.submission_id.as_str()))
            .map(|p| (p.submission_id.as_str(), p.department.as_str())),
    )?;
    for part in parts {
        let keep = match part.table.as_str() {
            warehouse::REJECTS => accepted.contains(part.submission_id.as_str()),
            warehouse::SUBMISSIONS => known.contains(part.submission_id.as_str()),
            _ => active.contains(&(
                part.table.clone(),
                part.period.clone(),
                part.department.clone(),
                part.submission_id.clone(),
            )),
        };
        if !keep {
            tracing::info!(file = %part.path.display(), "removing a part file the ledger does not hold active");
            warehouse::remove_file(&part.path)?;
            removed += 1;
            if let Ok(relative) = part.path.strip_prefix(root) {
                forgotten.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    state.forget_parts(&forgotten)?;
    crate::rebuild::backfill_manifests(config, &submissions)?;
    let mut staged = StagedFiles::default();
    let mut published = Vec::new();
    for s in &submissions {
        let record = warehouse::SubmissionRecord {
            submission_id: s.submission_id.clone(),
            sha256: s.sha256.clone(),
            source_file: s.source_file.clone(),
            received_at: s.received_at.clone(),
            status: s.status.clone(),
            templates: s.templates.clone(),
            rows_loaded: s.rows_loaded,
            rows_rejected: s.rows_rejected,
            rows_skipped: s.rows_skipped,
        };
        let path = warehouse::part_path(
            root,
            warehouse::SUBMISSIONS,
            &s.period,
            &s.department,
            &s.submission_id,
        );
        let up_to_date = s.published_status.as_deref() == Some(s.status.as_str()) && path.is_file();
        if !up_to_date {
            let batch = warehouse::submission_batch(&record)?;
            staged.stage_parquet(&path, "r", &batch)?;
            published.push((s.submission_id.as_str(), s.status.as_str()));
        }
    }
    staged.commit()?;
    state.mark_published(&published)?;
    Ok(removed)
}

#[cfg(test)]
mod arrival_tests {
    use super::*;

    fn fixture(path: &str) -> Vec<u8> {
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).expect("fixture")
    }

    #[test]
    fn a_workbook_cut_anywhere_looks_truncated_and_a_whole_one_does_not() {
        for (path, extension) in [
            ("fixtures/forms/danh-sach-can-bo.xls", "xls"),
            ("fixtures/corpus/calamine/date_1904.xls", "xls"),
        ] {
            let bytes = fixture(path);
            assert!(looks_truncated(&bytes, extension).is_none(), "{path} whole");
            for cut in [100, 511, 512, 1024, bytes.len() / 2, bytes.len() - 512] {
                assert!(
                    looks_truncated(&bytes[..cut], extension).is_some(),
                    "{path} cut at {cut} of {}",
                    bytes.len()
                );
            }
        }
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("w.xlsx");
        let mut workbook = rust_xlsxwriter::Workbook::new();
        workbook
            .add_worksheet()
            .write_string(0, 0, "Họ và tên")
            .expect("cell");
        workbook.save(&path).expect("save");
        let bytes = std::fs::read(&path).expect("read");
        assert!(looks_truncated(&bytes, "xlsx").is_none());
        for cut in [10, bytes.len() / 2, bytes.len() - 30, bytes.len() - 10] {
            assert!(
                looks_truncated(&bytes[..cut], "xlsx").is_some(),
                "cut at {cut}"
            );
        }
        // Garbage from the first byte is not "still being copied".
        assert!(looks_truncated(b"<html>not a workbook</html>", "xlsx").is_none());
        assert!(looks_truncated(b"garbage", "xls").is_none());
        assert!(looks_truncated(b"", "xlsx").is_none());
    }

    #[test]
    fn names_are_cut_to_bytes_at_a_char_boundary_keeping_the_extension() {
        let name = format!("{}_2025.xlsx", "ệ".repeat(78));
        for max in [10, 50, 100, 218, 255] {
            let fitted = fit_name(&name, max);
            assert!(fitted.len() <= max, "{max}: {}", fitted.len());
            assert!(fitted.ends_with(".xlsx"), "{fitted}");
        }
        assert_eq!(fit_name("ngắn.xlsx", 100), "ngắn.xlsx");
        assert!(safe_file_name(&"ệ".repeat(200)).len() <= crate::model::names::SAFE_NAME_BYTES);
        // No extension worth keeping: cut whole.
        assert_eq!(fit_name("ệệệệ", 7), "ệệ");
    }

    #[test]
    fn control_characters_are_escaped_for_logs() {
        assert_eq!(printable("a\nb\tc\u{1b}[31m"), "a\\nb\\tc\\u{1b}[31m");
        assert_eq!(printable("Danh sách ệ.xlsx"), "Danh sách ệ.xlsx");
    }

    #[test]
    fn submission_ids_differ_by_department_and_are_stable() {
        let sha = "ab".repeat(32);
        let snv = submission_id("SNV", &sha);
        assert_eq!(snv, submission_id("SNV", &sha));
        assert_ne!(snv, submission_id("SYT", &sha));
        assert_eq!(snv.len(), 16);
        assert!(snv.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
