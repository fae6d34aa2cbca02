//! One file made ready to commit: read and hashed, judged (a duplicate, cut
//! short, refused for its name, size or kind, or without a period), and for
//! a readable submission its sheets normalised and its part files, archive
//! copy and manifest staged. Touches neither the ledger nor the inbox.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::model::addition::{self, Addition, AdditionMark, MarkSource};
use crate::model::identity::HeldRows;
use crate::model::names::submission_id;
use crate::model::report::{FileReport, LedgerReport, Outcome, SheetReport};
use crate::model::status::SubmissionStatus;
use crate::model::submission::Submission;
use crate::model::{period, template};
use crate::state::{NewSubmission, Sighting};
use crate::warehouse::{self, StagedFiles};

use super::files::{
    FileLook, archive_name, entry_refusal, is_transient_name, look_of, mtime_ns, read_regular,
};
use super::load::{Loader, read_into};
use super::sheet::{SeenKeys, SheetContext, SheetOutcome};
use super::workbook::WorkbookError;
use super::{AsIf, IngestError, SPREADSHEET_EXTENSIONS, io_error, reader};
use period::{Evidence, Period, PeriodDecision, PeriodRefusal, SheetRefusal};
use template::Template;

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

/// What the ledger knew when the run started, for the workers.
#[derive(Default)]
pub(super) struct Known {
    /// (department, sha256) of every accepted or superseded submission.
    pub(super) hashes: HashSet<(String, String)>,
    /// Incomplete-looking inbox files, as first seen by an earlier run.
    pub(super) sightings: HashMap<String, Sighting>,
    /// When the run started (Unix seconds).
    pub(super) now_unix: i64,
}

/// A file as a worker left it: decided, or read and staged, but not yet in the ledger.
pub(super) enum Prepared {
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
    pub(super) fn report(&self) -> &FileReport {
        match self {
            Prepared::Waiting(report) | Prepared::Incomplete { report, .. } => report,
            Prepared::Duplicate(seen) => &seen.report,
            Prepared::Quarantine(refusal) => &refusal.seen.report,
            Prepared::Ready(ready) => &ready.seen.report,
        }
    }
}

/// Where the file came from.
pub(super) struct Seen {
    pub(super) report: FileReport,
    pub(super) path: PathBuf,
    pub(super) in_inbox: bool,
    pub(super) sha: String,
    /// Size and modification time when it was looked at (before reading):
    /// an inbox file that differs when it is to be moved is a newer version.
    pub(super) read_as: Option<FileLook>,
}

pub(super) struct Refusal {
    pub(super) seen: Seen,
    pub(super) reason_vi: String,
    pub(super) reason_en: String,
    /// The file stopped the reader (memory, time, a crash): the analyst is
    /// told, not only the department.
    pub(super) stopped_reader: bool,
}

pub(super) struct Ready {
    pub(super) seen: Seen,
    pub(super) period: Period,
    pub(super) submission: NewSubmission,
    pub(super) staged: StagedFiles,
    /// The bytes read, archived from here only if the inbox file changed since.
    pub(super) bytes: Vec<u8>,
    /// The inbox file's size and modification time when it was read.
    pub(super) read_as: (u64, Option<SystemTime>),
    /// What its name and titles declare it: an addition, or a whole list.
    pub(super) declared: Option<Addition>,
    /// How to read it again (with the rows already held known, see `commit`).
    pub(super) again: Again,
}

/// What reading a file again takes: where it lies and how it arrived.
pub(super) struct Again {
    pub(super) index: usize,
    pub(super) run_started: String,
    pub(super) as_if: Option<AsIf>,
}

/// How a file being prepared arrived: in this ingest run (started then), or
/// again from the archive ([`AsIf`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct Origin<'a> {
    pub(super) run_started: &'a str,
    pub(super) as_if: Option<&'a AsIf>,
    /// The rows the department's earlier files hold, when the file is read
    /// again as an addition: a row repeating one is rejected.
    pub(super) held: Option<&'a Arc<HeldRows>>,
}

/// Reads one file and decides what it is; for a readable submission,
/// normalises its sheets and stages its part files and archive copy.
/// `unsettled`: why the file is left for the next run (it may still be being
/// copied, see [`inbox::unsettled`]). Touches neither the ledger nor the inbox.
pub(super) fn prepare_file(
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
        posts: &config.posts,
    };
    let submission_id = submission_id(&department_code, &seen.sha);
    let tag = format!("w{index}");
    // Known before any row is read, so a sheet whose title names another
    // period is refused as soon as its header is found (see `Loader`).
    let path_evidence =
        period::path_evidence(relative.strip_prefix(&department_code).unwrap_or(&relative));
    let fresh = || {
        let mut loader = Loader::new(
            config,
            &config.templates,
            ctx,
            Some((&tag, &submission_id)),
            &path_evidence,
        );
        if let Some(held) = origin.held {
            loader.seen = SeenKeys::holding(Arc::clone(held));
        }
        loader
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
    // As the department named it: an archived copy read again by `rebuild`
    // lies under its hash.
    let sent_name = source_file.rsplit('/').next().unwrap_or(&file_name);
    let sheets = loader
        .outcomes
        .iter()
        .zip(&loader.hidden)
        .zip(&loader.refused)
        .map(|((outcome, hidden), refused)| (outcome, *hidden || refused.is_some()));
    let declared = match addition::declared(&addition_marks(sent_name, sheets)) {
        Ok(declared) => declared,
        Err(conflict) => {
            loader.staged.discard();
            return refuse(seen, conflict.reason_vi, conflict.reason_en);
        }
    };

    let stored_as = archive_name(&seen.sha, &extension);
    let (mut staged, loads) = loader.finish(&department_code, &period.to_string(), &source_file)?;
    if !in_inbox && origin.as_if.is_none() {
        // A file named on the command line stays where it is: archive a copy.
        staged.stage_bytes(&config.paths.archive.join(&stored_as), &tag, &bytes)?;
    }
    let (loaded, rejected, skipped) = seen.report.rows();
    let submission = NewSubmission {
        submission: Submission {
            submission_id,
            sha256: seen.sha.clone(),
            department: department_code,
            period,
            source_file,
            stored_as,
            status: SubmissionStatus::Accepted,
            received_at: origin
                .as_if
                .map_or_else(crate::state::now, |a| a.received_at.clone()),
            rows_loaded: loaded as i64,
            rows_rejected: rejected as i64,
            rows_skipped: skipped as i64,
            templates: loads
                .iter()
                .map(|(t, _)| t.as_str())
                .collect::<Vec<_>>()
                .join(","),
        },
        report: LedgerReport {
            sheets: seen.report.sheets.clone(),
        },
        loads,
        addition: declared,
        // Weighed against the rows held when it is committed.
        effect: addition::Effect::First,
    };
    // Its record in the warehouse's submissions table, written here by the
    // worker rather than one by one when the ledger is reconciled.
    let batch = warehouse::submission_batch(&submission.submission)?;
    let path = warehouse::part_path(
        &config.paths.warehouse,
        warehouse::SUBMISSIONS,
        &submission.submission.period.to_string(),
        &submission.submission.department,
        &submission.submission.submission_id,
    );
    staged.stage_parquet(&path, &tag, &batch)?;
    if origin.as_if.is_none() {
        // What the path told and when: the archive alone does not keep it,
        // and `rebuild` needs it. Made durable with the batch, before the
        // ledger commit.
        let manifest = crate::archive::Manifest {
            source_file: submission.submission.source_file.clone(),
            department: submission.submission.department.clone(),
            received_at: submission.submission.received_at.clone(),
            stored_as: submission.submission.stored_as.clone(),
            submission_id: submission.submission.submission_id.clone(),
            sha256: submission.submission.sha256.clone(),
            sequence: crate::archive::sequence(origin.run_started, index),
        };
        staged.stage_bytes(
            &crate::archive::manifest_path(config, &manifest.stored_as, &manifest.department),
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
        declared,
        again: Again {
            index,
            run_started: origin.run_started.to_string(),
            as_if: origin.as_if.cloned(),
        },
    })))
}

/// The additions a file declares: in its name (as the department named it,
/// an archived copy by its recorded name), and in the title lines of the
/// sheets it takes rows from: each sheet with whether it is left out
/// (hidden, or refused whole).
pub(super) fn addition_marks<'s>(
    file_name: &str,
    sheets: impl Iterator<Item = (&'s SheetOutcome, bool)>,
) -> Vec<AdditionMark> {
    let mut marks: Vec<AdditionMark> = addition::mark_in_file_name(file_name)
        .map(|addition| AdditionMark {
            addition,
            source: MarkSource::FileName,
            text: file_name.to_string(),
        })
        .into_iter()
        .collect();
    let taken = sheets.filter(|(outcome, left_out)| outcome.template.is_some() && !left_out);
    for (outcome, _) in taken {
        for line in &outcome.title_lines {
            if let Some(addition) = addition::mark_in_title(line) {
                marks.push(AdditionMark {
                    addition,
                    source: MarkSource::SheetTitle {
                        sheet: outcome.sheet.clone(),
                    },
                    text: line.clone(),
                });
            }
        }
    }
    marks
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
    let decision = period::decide(path_evidence, &titles)?;
    if decision.period.is_range() {
        range_only_for_plans(outcomes, templates, &decision)?;
    }
    Ok(decision)
}

/// The template whose rows may be filed under a range of years: a plan
/// ("Kế hoạch … giai đoạn 2021–2025"). A roster, training or recruitment
/// report is of a year, a half-year or a quarter.
const RANGE_TEMPLATE: &str = "plan";

/// Refuses a file whose period is a range when a sheet taken from it is not
/// a plan: its rows cannot be filed under a range, and the file is not
/// split silently.
fn range_only_for_plans(
    outcomes: &[SheetOutcome],
    templates: &[Template],
    decision: &PeriodDecision,
) -> Result<(), PeriodRefusal> {
    let refused_sheets: Vec<&str> = decision
        .refused_sheets
        .iter()
        .map(|r| r.sheet.as_str())
        .collect();
    let others: Vec<(&str, &str)> = outcomes
        .iter()
        .filter(|o| !refused_sheets.contains(&o.sheet.as_str()))
        .filter_map(|o| o.template.as_deref().map(|t| (o.sheet.as_str(), t)))
        .filter(|(_, t)| *t != RANGE_TEMPLATE)
        .collect();
    if others.is_empty() {
        return Ok(());
    }
    let title_of = |name: &str| {
        templates
            .iter()
            .find(|t| t.name == name)
            .map_or_else(|| name.to_string(), |t| t.title.clone())
    };
    let sheets_vi: Vec<String> = others
        .iter()
        .map(|(sheet, t)| format!("trang \"{sheet}\" ({})", title_of(t)))
        .collect();
    let sheets_en: Vec<String> = others
        .iter()
        .map(|(sheet, t)| format!("sheet \"{sheet}\" ({t})"))
        .collect();
    let period = decision.period;
    Err(PeriodRefusal {
        evidence: decision.evidence.clone(),
        reason_vi: format!(
            "Kỳ của tệp là {}, nhưng chỉ kế hoạch mới được lập theo giai đoạn nhiều năm: {} phải là số liệu của một năm, 6 tháng hoặc một quý. Ghi kỳ báo cáo đó vào tên tệp hoặc tiêu đề biểu (\"NĂM 2023\"), gửi kế hoạch giai đoạn trong một tệp riêng, rồi gửi lại",
            period.label_vi(),
            sheets_vi.join(", ")
        ),
        reason_en: format!(
            "The file's period is the range {}, but only a plan may cover a range of years: {} must report one year, half-year or quarter. Put that period in the file name or the title (\"NĂM 2023\"), send the plan for the range in a file of its own, and send the file again",
            period.label_en(),
            sheets_en.join(", ")
        ),
    })
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

#[cfg(test)]
mod tests {
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
}
