//! Ingest: workbooks in the inbox → warehouse rows, rejects and the ledger.
//!
//! Per file: read and hash it; skip it if the same bytes were taken before;
//! find the department (inbox folder) and the period; normalise every sheet
//! (pure, see [`sheet`]); write the part files; archive the original; commit
//! the ledger; only then remove the file from the inbox. A crash between any
//! two of these steps is repaired by the next run (see [`reconcile`]).

pub mod fetch;
pub mod period;
pub mod sheet;
pub mod template;
pub mod text;
pub mod value;
pub mod workbook;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::state::{NewSubmission, State, StateError};
use crate::warehouse::{self, WarehouseError};
use period::Period;
use sheet::{Reject, SheetContext, SheetOutcome, Skips};

/// File extensions calamine reads.
pub const SPREADSHEET_EXTENSIONS: &[&str] = &["xlsx", "xlsm", "xlsb", "xls", "ods"];

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> IngestError + '_ {
    move |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What happened to one file.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Accepted {
        submission_id: String,
        period: String,
        /// Earlier submissions whose rows this one replaced, as "template:submission".
        superseded: Vec<String>,
    },
    /// The same bytes were taken before: nothing to do.
    Duplicate { submission_id: String },
    Quarantined {
        reason_vi: String,
        reason_en: String,
    },
    /// Left in the inbox for the next run (still being copied).
    Waiting { reason: String },
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct SheetReport {
    pub sheet: String,
    pub template: Option<String>,
    pub header_row: Option<u32>,
    pub data_rows: usize,
    pub loaded: usize,
    pub rejected_rows: usize,
    pub skips: Skips,
    pub unknown_columns: Vec<String>,
    pub rejects: Vec<Reject>,
    pub warnings: Vec<sheet::SheetWarning>,
}

impl SheetReport {
    fn from_outcome(outcome: &SheetOutcome) -> Self {
        SheetReport {
            sheet: outcome.sheet.clone(),
            template: outcome.template.clone(),
            header_row: outcome.header_row,
            data_rows: outcome.data_rows,
            loaded: outcome.rows.len(),
            rejected_rows: outcome.rejected_rows,
            skips: outcome.skips,
            unknown_columns: outcome.unknown_columns.clone(),
            rejects: outcome.rejects.clone(),
            warnings: outcome.warnings.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// The path as received, relative to the inbox.
    pub source_file: String,
    pub department: Option<String>,
    #[serde(flatten)]
    pub outcome: Outcome,
    pub sheets: Vec<SheetReport>,
}

impl FileReport {
    pub fn rows(&self) -> (usize, usize, usize) {
        self.sheets.iter().fold((0, 0, 0), |(l, r, s), sheet| {
            (
                l + sheet.loaded,
                r + sheet.rejected_rows,
                s + sheet.skips.total(),
            )
        })
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestReport {
    pub files: Vec<FileReport>,
    /// Part files removed while reconciling the warehouse with the ledger.
    pub repaired: usize,
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
pub fn ingest(
    config: &Config,
    state: &mut State,
    files: &[PathBuf],
) -> Result<IngestReport, IngestError> {
    let mut report = IngestReport {
        repaired: reconcile(config, state)?,
        ..IngestReport::default()
    };
    let candidates = if files.is_empty() {
        list_inbox(&config.paths.inbox)?
    } else {
        files
            .iter()
            .map(|f| std::path::absolute(f).unwrap_or_else(|_| f.clone()))
            .collect()
    };
    let explicit = !files.is_empty();
    for path in candidates {
        let file_report = ingest_file(config, state, &path, explicit)?;
        log_outcome(&file_report);
        report.files.push(file_report);
    }
    report.repaired += reconcile(config, state)?;
    Ok(report)
}

fn log_outcome(report: &FileReport) {
    let (loaded, rejected, skipped) = report.rows();
    match &report.outcome {
        Outcome::Accepted {
            submission_id,
            period,
            superseded,
        } => tracing::info!(
            file = %report.source_file, submission = %submission_id, %period, loaded, rejected, skipped,
            superseded = superseded.len(), "accepted"
        ),
        Outcome::Duplicate { submission_id } => {
            tracing::info!(file = %report.source_file, submission = %submission_id, "already ingested (same bytes)")
        }
        Outcome::Quarantined { reason_en, .. } => {
            tracing::warn!(file = %report.source_file, reason = %reason_en, "quarantined")
        }
        Outcome::Waiting { reason } => {
            tracing::info!(file = %report.source_file, %reason, "left for the next run")
        }
    }
}

/// Every file under the inbox, oldest first, so a newer resubmission supersedes an older one.
fn list_inbox(inbox: &Path) -> Result<Vec<PathBuf>, IngestError> {
    fn walk(
        dir: &Path,
        depth: usize,
        out: &mut Vec<(SystemTime, PathBuf)>,
    ) -> Result<(), IngestError> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && depth == 0 => return Ok(()),
            Err(e) => return Err(io_error(dir)(e)),
        };
        for entry in entries {
            let entry = entry.map_err(io_error(dir))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let metadata = entry.metadata().map_err(io_error(&path))?;
            if metadata.is_dir() {
                if depth < 4 {
                    walk(&path, depth + 1, out)?;
                }
            } else if metadata.is_file() {
                out.push((metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH), path));
            }
        }
        Ok(())
    }
    let mut found = Vec::new();
    walk(inbox, 0, &mut found)?;
    found.sort();
    Ok(found.into_iter().map(|(_, p)| p).collect())
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

fn ingest_file(
    config: &Config,
    state: &mut State,
    path: &Path,
    explicit: bool,
) -> Result<FileReport, IngestError> {
    let inbox = &config.paths.inbox;
    let relative = path.strip_prefix(inbox).ok().map(Path::to_path_buf);
    let in_inbox = relative.is_some();
    let relative = relative.unwrap_or_else(|| {
        // A file named on the command line outside the inbox: its folder is its department.
        let mut r = PathBuf::new();
        if let Some(parent) = path.parent().and_then(Path::file_name) {
            r.push(parent);
        }
        r.push(path.file_name().unwrap_or_default());
        r
    });
    let source_file = relative.to_string_lossy().replace('\\', "/");
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut report = FileReport {
        source_file: source_file.clone(),
        department: None,
        outcome: Outcome::Waiting {
            reason: String::new(),
        },
        sheets: Vec::new(),
    };
    if is_transient_name(&file_name) {
        report.outcome = Outcome::Waiting {
            reason: "lock, hidden or temporary file".into(),
        };
        return Ok(report);
    }
    let metadata = std::fs::metadata(path).map_err(io_error(path))?;
    if !explicit {
        let age = metadata
            .modified()
            .ok()
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .unwrap_or(Duration::ZERO);
        if age < Duration::from_secs(config.ingest.settle_seconds) {
            report.outcome = Outcome::Waiting {
                reason: format!("modified {}s ago: may still be being copied", age.as_secs()),
            };
            return Ok(report);
        }
    }

    let department = relative
        .components()
        .next()
        .filter(|_| relative.components().count() > 1)
        .and_then(|c| c.as_os_str().to_str())
        .map(str::to_string);
    report.department = department.clone();

    let quarantine = |state: &mut State,
                      report: &mut FileReport,
                      sha: &str,
                      vi: String,
                      en: String|
     -> Result<(), IngestError> {
        let stored = quarantine_file(
            config,
            path,
            report.department.as_deref(),
            sha,
            &vi,
            &en,
            in_inbox,
        )?;
        let sheets = serde_json::to_string(&report.sheets).unwrap_or_default();
        state.record_quarantine(&crate::state::NewQuarantine {
            sha256: sha,
            department: report.department.as_deref(),
            source_file: &source_file,
            stored_as: &stored,
            reason_vi: &vi,
            reason_en: &en,
            report: &sheets,
        })?;
        report.outcome = Outcome::Quarantined {
            reason_vi: vi,
            reason_en: en,
        };
        Ok(())
    };

    if metadata.len() > config.ingest.max_file_bytes {
        let mib = config.ingest.max_file_bytes / (1024 * 1024);
        quarantine(
            state,
            &mut report,
            "",
            format!("Tệp lớn hơn giới hạn {mib} MiB"),
            format!("The file is larger than the {mib} MiB limit"),
        )?;
        return Ok(report);
    }
    let bytes = std::fs::read(path).map_err(io_error(path))?;
    let sha = hex::encode(Sha256::digest(&bytes));
    let submission_id = sha[..16].to_string();

    if let Some(existing) = state.submission_by_sha(&sha)? {
        // Taken before (or taken just before a crash): make sure the archive
        // holds it, then let the inbox copy go.
        let archived = config.paths.archive.join(&existing.stored_as);
        if !archived.is_file() {
            archive_bytes(&archived, &bytes)?;
        }
        if in_inbox {
            std::fs::remove_file(path).map_err(io_error(path))?;
        }
        report.outcome = Outcome::Duplicate {
            submission_id: existing.submission_id,
        };
        return Ok(report);
    }

    let Some(department_code) = department.clone() else {
        quarantine(
            state,
            &mut report,
            &sha,
            "Tệp không nằm trong thư mục của một đơn vị (inbox/<MÃ ĐƠN VỊ>/)".into(),
            "The file is not in a department folder (inbox/<DEPT-CODE>/)".into(),
        )?;
        return Ok(report);
    };
    let Some(department_entry) = config.department(&department_code) else {
        quarantine(
            state,
            &mut report,
            &sha,
            format!("Mã đơn vị \"{department_code}\" (tên thư mục) không có trong danh mục đơn vị"),
            format!(
                "Department code \"{department_code}\" (the folder name) is not in the department registry"
            ),
        )?;
        return Ok(report);
    };
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_lowercase)
        .unwrap_or_default();
    if !SPREADSHEET_EXTENSIONS.contains(&extension.as_str()) {
        quarantine(
            state,
            &mut report,
            &sha,
            format!(
                "Không phải tệp bảng tính; chấp nhận: {}",
                SPREADSHEET_EXTENSIONS.join(", ")
            ),
            format!(
                "Not a spreadsheet file; accepted: {}",
                SPREADSHEET_EXTENSIONS.join(", ")
            ),
        )?;
        return Ok(report);
    }

    let grids = match workbook::read_workbook(&bytes) {
        Ok(grids) => grids,
        Err(e) => {
            quarantine(state, &mut report, &sha, e.reason_vi(), e.to_string())?;
            return Ok(report);
        }
    };
    let ctx = SheetContext {
        department_level: department_entry.level.as_str(),
    };
    let outcomes: Vec<SheetOutcome> = grids
        .iter()
        .map(|grid| sheet::normalise_sheet(grid, &config.templates, ctx))
        .collect();
    report.sheets = outcomes.iter().map(SheetReport::from_outcome).collect();
    for outcome in &outcomes {
        debug_assert!(
            outcome.is_balanced(),
            "row accounting of sheet {}",
            outcome.sheet
        );
    }

    if outcomes.iter().all(|o| o.template.is_none()) {
        let known: Vec<&str> = config.templates.iter().map(|t| t.title.as_str()).collect();
        quarantine(
            state,
            &mut report,
            &sha,
            format!(
                "Không trang tính nào có dòng tiêu đề cột của biểu mẫu đã biết ({})",
                known.join("; ")
            ),
            "No sheet has the column headers of a known form (staff, training, plan, recruitment)"
                .into(),
        )?;
        return Ok(report);
    }

    let period = period::from_path(relative.strip_prefix(&department_code).unwrap_or(&relative))
        .or_else(|| {
            outcomes
                .iter()
                .filter(|o| o.template.is_some())
                .find_map(|o| period::from_title(&o.title_lines))
        });
    let Some(period) = period else {
        quarantine(
            state,
            &mut report,
            &sha,
            "Không xác định được kỳ báo cáo: ghi năm vào tên tệp (…_2025.xlsx) hoặc tiêu đề biểu (\"NĂM 2025\", \"QUÝ IV NĂM 2025\")".into(),
            "Cannot determine the reporting period: put the year in the file name (…_2025.xlsx) or the title (\"NĂM 2025\", \"QUÝ IV NĂM 2025\")".into(),
        )?;
        return Ok(report);
    };

    let stored_as = archive_name(&sha, &extension);
    let superseded = commit(
        config,
        state,
        CommitInput {
            submission_id: &submission_id,
            sha: &sha,
            department: &department_code,
            period,
            source_file: &source_file,
            stored_as: &stored_as,
            bytes: &bytes,
            outcomes: &outcomes,
            report: &report,
        },
    )?;
    if in_inbox {
        std::fs::remove_file(path).map_err(io_error(path))?;
    }
    report.outcome = Outcome::Accepted {
        submission_id,
        period: period.to_string(),
        superseded: superseded
            .iter()
            .map(|l| format!("{}:{}", l.template, l.submission_id))
            .collect(),
    };
    Ok(report)
}

struct CommitInput<'a> {
    submission_id: &'a str,
    sha: &'a str,
    department: &'a str,
    period: Period,
    source_file: &'a str,
    stored_as: &'a str,
    bytes: &'a [u8],
    outcomes: &'a [SheetOutcome],
    report: &'a FileReport,
}

/// Writes the part files, archives the original and commits the ledger, in the
/// order that lets [`reconcile`] repair a crash between any two steps.
fn commit(
    config: &Config,
    state: &mut State,
    input: CommitInput<'_>,
) -> Result<Vec<crate::state::Load>, IngestError> {
    let root = &config.paths.warehouse;
    let period = input.period.to_string();
    let mut by_template: BTreeMap<&str, Vec<(&str, &sheet::ParsedRow)>> = BTreeMap::new();
    for outcome in input.outcomes {
        if let Some(name) = &outcome.template {
            let rows = by_template.entry(name.as_str()).or_default();
            rows.extend(outcome.rows.iter().map(|r| (outcome.sheet.as_str(), r)));
        }
    }
    let mut loads = Vec::new();
    for (name, rows) in &by_template {
        let Some(template) = config.template(name) else {
            continue;
        };
        if !rows.is_empty() {
            let batch = warehouse::template_batch(template, rows, input.submission_id)?;
            let path =
                warehouse::part_path(root, name, &period, input.department, input.submission_id);
            warehouse::write_parquet_atomic(&path, &batch)?;
        }
        loads.push((name.to_string(), rows.len() as i64));
    }
    let rejects: Vec<Reject> = input
        .outcomes
        .iter()
        .flat_map(|o| o.rejects.iter().cloned())
        .collect();
    if !rejects.is_empty() {
        let batch = warehouse::rejects_batch(&rejects, input.submission_id, input.source_file)?;
        let path = warehouse::part_path(
            root,
            warehouse::REJECTS,
            &period,
            input.department,
            input.submission_id,
        );
        warehouse::write_parquet_atomic(&path, &batch)?;
    }
    archive_bytes(&config.paths.archive.join(input.stored_as), input.bytes)?;

    let (loaded, rejected, skipped) = input.report.rows();
    let report_json = serde_json::to_string(&input.report.sheets).unwrap_or_default();
    let superseded = state.record_submission(&NewSubmission {
        submission_id: input.submission_id.to_string(),
        sha256: input.sha.to_string(),
        department: input.department.to_string(),
        period: period.clone(),
        source_file: input.source_file.to_string(),
        stored_as: input.stored_as.to_string(),
        rows_loaded: loaded as i64,
        rows_rejected: rejected as i64,
        rows_skipped: skipped as i64,
        report: report_json,
        loads,
    })?;
    Ok(superseded)
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
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut file = std::fs::File::create(&tmp).map_err(io_error(&tmp))?;
    file.write_all(bytes).map_err(io_error(&tmp))?;
    file.sync_all().map_err(io_error(&tmp))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(io_error(path))?;
    warehouse::sync_dir(dir)?;
    Ok(())
}

/// A file name that is safe as one path component: no separators, no leading dot.
pub fn safe_file_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.() ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let trimmed = cleaned.trim_start_matches('.').trim();
    if trimmed.is_empty() {
        "file".to_string()
    } else {
        trimmed.chars().take(120).collect()
    }
}

/// Moves (or, for a file outside the inbox, copies) a refused file to
/// `quarantine/<DEPT>/` with a `.reason.txt` sidecar. Returns where it went,
/// relative to the quarantine folder.
fn quarantine_file(
    config: &Config,
    path: &Path,
    department: Option<&str>,
    sha: &str,
    reason_vi: &str,
    reason_en: &str,
    in_inbox: bool,
) -> Result<String, IngestError> {
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
    let relative = format!("{folder}/{stamp}-{short}-{name}");
    let target = config.paths.quarantine.join(&relative);
    let sidecar = format!(
        "Tệp / file: {}\nLý do: {reason_vi}\nReason: {reason_en}\nsha256: {sha}\n",
        path.display()
    );
    write_atomic(
        &target.with_file_name(format!(
            "{}.reason.txt",
            target.file_name().unwrap_or_default().to_string_lossy()
        )),
        sidecar.as_bytes(),
    )?;
    if in_inbox {
        move_file(path, &target)?;
    } else {
        let bytes = std::fs::read(path).map_err(io_error(path))?;
        write_atomic(&target, &bytes)?;
    }
    Ok(relative)
}

fn move_file(from: &Path, to: &Path) -> Result<(), IngestError> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    }
    if std::fs::rename(from, to).is_ok() {
        return Ok(());
    }
    // Another file system: copy durably, then remove the original.
    let bytes = std::fs::read(from).map_err(io_error(from))?;
    write_atomic(to, &bytes)?;
    std::fs::remove_file(from).map_err(io_error(from))
}

/// Makes the warehouse agree with the ledger: removes part files of loads that
/// are not active (superseded, or written by a run that died before its
/// commit), temporary files, and rewrites the `submissions` table. Returns the
/// number of files removed.
pub fn reconcile(config: &Config, state: &State) -> Result<usize, IngestError> {
    let root = &config.paths.warehouse;
    let mut removed = warehouse::remove_temporaries(root)?;
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
    for part in warehouse::list_parts(root) {
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
        }
    }
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
        // The status marker avoids rewriting unchanged records on every run.
        let up_to_date = path.is_file() && marker_matches(&path, &s.status);
        if !up_to_date {
            warehouse::write_parquet_atomic(&path, &warehouse::submission_batch(&record)?)?;
            write_status_marker(&path, &s.status)?;
        }
    }
    Ok(removed)
}

fn status_marker_path(part: &Path) -> PathBuf {
    let name = part
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    part.with_file_name(format!(".{name}.status"))
}

fn marker_matches(part: &Path, status: &str) -> bool {
    std::fs::read_to_string(status_marker_path(part)).is_ok_and(|s| s == status)
}

fn write_status_marker(part: &Path, status: &str) -> Result<(), IngestError> {
    let marker = status_marker_path(part);
    std::fs::write(&marker, status).map_err(io_error(&marker))
}
