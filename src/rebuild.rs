//! The state database is never the only copy of truth about data.
//!
//! - A ledger id (random, made when the state database is created) is
//!   written beside the data, in `<warehouse>/.nhanluc-ledger` and
//!   `<archive>/.nhanluc-ledger`. A state that is missing, empty, or another
//!   ledger's beside an archive or warehouse holding data is refused
//!   ([`open_checked`], [`trust`]): nothing is "repaired" by deleting parts.
//! - Every accepted workbook has a manifest beside its archived copy,
//!   `archive/<aa>/<sha>.<ext>.<DEPT>.json`: where it arrived (the department
//!   folder, the file name and sub-folders carry period evidence) and when.
//!   It is staged with the batch, durable before the ledger commit.
//! - [`rebuild`] re-ingests every manifest in the order the ledger recorded
//!   them, through the same path as `ingest` ([`ingest::ingest_archived`]),
//!   so ids, supersession and receipt times come out the same.
//! - The ledger records every data part's size and sha256; [`ensure_parts`]
//!   checks them before indicators and digests, rewrites a missing or damaged
//!   part from its archived workbook, or fails closed naming it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::indicators::{self, IndicatorError, IndicatorOutcome};
use crate::ingest::{self, IngestError, IngestReport};
use crate::state::{LedgerCounts, NewQuarantine, PartRecord, State, StateError, SubmissionRow};
use crate::warehouse::{self, StagedFile};

/// The marker file holding the id of the ledger that wrote the data beside it.
pub const MARKER: &str = ".nhanluc-ledger";

// ---- the lost-state guard ------------------------------------------------------

/// Why the state cannot be trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LostKind {
    /// No state database file at all.
    Missing,
    /// A state database with no submissions, and no marker says it is the
    /// data's ledger.
    Empty,
    /// A state database whose ledger id is not the one the data was written with.
    Foreign { state_id: String, data_id: String },
    /// A `rebuild` started and did not finish: the ledger is partial.
    RebuildUnfinished,
    /// The ledger does not know submissions the archive shows were taken
    /// (manifest and workbook archived, gone from the inbox) and the
    /// warehouse holds parts of: an older copy of the state.
    Older { unknown: Vec<Manifest> },
}

/// What a refused state leaves beside it, for the message.
#[derive(Debug, Clone)]
pub struct LostState {
    pub kind: LostKind,
    pub state: PathBuf,
    pub archive: PathBuf,
    pub warehouse: PathBuf,
    pub census: Census,
}

/// What the archive and the warehouse hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Census {
    /// Archived workbooks (not manifests, not markers).
    pub workbooks: usize,
    pub manifests: usize,
    /// Data part files (`<table>/period=…/department=…/part-*.parquet`).
    pub parts: usize,
}

impl Census {
    pub fn holds_data(&self) -> bool {
        self.workbooks > 0 || self.manifests > 0 || self.parts > 0
    }
}

impl fmt::Display for LostState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match &self.kind {
            LostKind::Missing => "is missing".to_string(),
            LostKind::Empty => "holds no submissions".to_string(),
            LostKind::Foreign { state_id, data_id } => format!(
                "is not the ledger the data was written with (its id {state_id}, the data's {data_id})"
            ),
            LostKind::Older { unknown } => {
                let examples: Vec<String> = unknown
                    .iter()
                    .take(5)
                    .map(|m| {
                        format!(
                            "{} ({}, received {})",
                            m.submission_id, m.source_file, m.received_at
                        )
                    })
                    .collect();
                return write!(
                    f,
                    "refusing to run: the state database {} does not know {} submission(s) that the archive {} holds with their manifests and the warehouse {} holds parts of: {}{}. It is older than the data (restored from an older backup?). Nothing was changed or deleted. Run `nhanluc rebuild --force` to reconstruct the ledger and the warehouse from the archive (this state is moved aside, not deleted)",
                    self.state.display(),
                    unknown.len(),
                    self.archive.display(),
                    self.warehouse.display(),
                    examples.join(", "),
                    if unknown.len() > examples.len() {
                        ", …"
                    } else {
                        ""
                    }
                );
            }
            LostKind::RebuildUnfinished => {
                return write!(
                    f,
                    "refusing to run: a `nhanluc rebuild` of the state database {} started and did not finish ({} is there), so its ledger is partial. Nothing was changed or deleted. Run `nhanluc rebuild --force` again (the partial state and warehouse are moved aside, not deleted)",
                    self.state.display(),
                    rebuild_flag(&self.state).display()
                );
            }
        };
        let c = &self.census;
        write!(
            f,
            "refusing to run: the state database {} {why}, but the archive {} holds {} workbook(s) ({} with a manifest) and the warehouse {} holds {} data part file(s). Nothing was changed or deleted. Restore the state file from a backup, or run `nhanluc rebuild`{} to reconstruct the ledger and the warehouse from the archive",
            self.state.display(),
            self.archive.display(),
            c.workbooks,
            c.manifests,
            self.warehouse.display(),
            c.parts,
            if matches!(self.kind, LostKind::Foreign { .. }) {
                " (with --force if this state holds submissions: it is moved aside, not deleted)"
            } else {
                ""
            }
        )
    }
}

/// Opens the state database, refusing a lost one (see the module doc). A
/// missing state file is created only when nothing is beside it (the first
/// run, or `rm -rf data`).
pub fn open_checked(config: &Config) -> Result<State, StateError> {
    let path = &config.paths.state;
    if rebuild_flag(path).exists() {
        return Err(lost(config, LostKind::RebuildUnfinished, Census::default()));
    }
    if !path.exists() {
        let census = census(config);
        let marked = read_marker(&config.paths.warehouse).is_some()
            || read_marker(&config.paths.archive).is_some();
        if census.holds_data() || marked {
            return Err(lost(config, LostKind::Missing, census));
        }
    }
    let state = State::open(path)?;
    trust(config, &state)?;
    Ok(state)
}

/// Whether `state` is the ledger of the data beside it; writes the markers
/// where they are missing once it is. Cheap when the markers are there.
pub fn trust(config: &Config, state: &State) -> Result<(), StateError> {
    let id = state.ledger_id()?;
    let markers = [
        read_marker(&config.paths.warehouse),
        read_marker(&config.paths.archive),
    ];
    if let Some(data_id) = markers.iter().flatten().find(|m| **m != id) {
        return Err(lost(
            config,
            LostKind::Foreign {
                state_id: id,
                data_id: data_id.clone(),
            },
            census(config),
        ));
    }
    if markers.iter().all(Option::is_none) && state.data_submission_count()? == 0 {
        let census = census(config);
        if census.holds_data() {
            return Err(lost(config, LostKind::Empty, census));
        }
    }
    for (dir, marker) in [&config.paths.warehouse, &config.paths.archive]
        .into_iter()
        .zip(&markers)
    {
        if marker.is_none()
            && let Err(e) = write_marker(dir, &id)
        {
            // The guard still holds through the ledger's counts; say it.
            tracing::warn!(error = %crate::error_chain::Chain(&e), "cannot write the ledger marker");
        }
    }
    Ok(())
}

fn lost(config: &Config, kind: LostKind, census: Census) -> StateError {
    StateError::Lost(Box::new(LostState {
        kind,
        state: config.paths.state.clone(),
        archive: config.paths.archive.clone(),
        warehouse: config.paths.warehouse.clone(),
        census,
    }))
}

/// Refuses when any of these (submission id, department) pairs, parts the
/// ledger does not know, was committed by a ledger: its manifest and its
/// workbook are in the archive and its file is no longer in the inbox. A run
/// that died before its commit left its inbox file where it was (or its
/// workbook unarchived), so its parts are still removed as leftovers.
pub fn refuse_older_ledger<'a>(
    config: &Config,
    unknown: impl Iterator<Item = (&'a str, &'a str)>,
) -> Result<(), StateError> {
    let unknown: HashSet<(&str, &str)> = unknown.collect();
    if unknown.is_empty() {
        return Ok(());
    }
    // Submission ids are derived from (department, sha256), so the manifest
    // of an id is found by reading the manifests, not by its name: a rare
    // path (parts the ledger does not know), worth one pass over them.
    let (_, manifests) = archive_files(&config.paths.archive);
    let mut committed = Vec::new();
    for path in manifests {
        let Ok(manifest) = read_manifest(config, &path) else {
            continue;
        };
        if !unknown.contains(&(
            manifest.submission_id.as_str(),
            manifest.department.as_str(),
        )) {
            continue;
        }
        let in_inbox = !manifest.source_file.is_empty()
            && config.paths.inbox.join(&manifest.source_file).exists();
        if !in_inbox {
            committed.push(manifest);
        }
    }
    if committed.is_empty() {
        return Ok(());
    }
    committed.sort_by(|a, b| a.sequence.cmp(&b.sequence));
    Err(lost(
        config,
        LostKind::Older { unknown: committed },
        census(config),
    ))
}

/// The file that says a rebuild of the state at `state` is under way.
fn rebuild_flag(state: &Path) -> PathBuf {
    let name = state
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    state.with_file_name(format!("{name}.rebuilding"))
}

fn read_marker(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(MARKER)).ok()?;
    let id = text.lines().next()?.trim();
    (!id.is_empty()).then(|| id.to_string())
}

fn write_marker(dir: &Path, id: &str) -> Result<(), IngestError> {
    ingest::write_atomic(
        &dir.join(MARKER),
        format!("{id}\nThe id of the nhanluc state database (ledger) that wrote the data here: a state that is not this one is refused.\n").as_bytes(),
    )
}

/// Counts what the archive and the warehouse hold.
pub fn census(config: &Config) -> Census {
    let (workbooks, manifests) = archive_files(&config.paths.archive);
    Census {
        workbooks: workbooks.len(),
        manifests: manifests.len(),
        parts: warehouse::list_parts(&config.paths.warehouse).len(),
    }
}

/// The archive's workbooks and manifests (paths), in `archive/<aa>/`.
fn archive_files(archive: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut workbooks = Vec::new();
    let mut manifests = Vec::new();
    let entries = |dir: &Path| {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .collect::<Vec<_>>()
    };
    for folder in entries(archive) {
        if !folder.path().is_dir() {
            continue;
        }
        for file in entries(&folder.path()) {
            let path = file.path();
            if !path.is_file() {
                continue;
            }
            if path.extension().is_some_and(|e| e == "json") {
                manifests.push(path);
            } else {
                workbooks.push(path);
            }
        }
    }
    workbooks.sort();
    manifests.sort();
    (workbooks, manifests)
}

// ---- manifests -----------------------------------------------------------------

/// What the path told at arrival and when, for one (department, workbook).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Relative to the inbox, forward slashes; its first folder is the department.
    pub source_file: String,
    pub department: String,
    pub received_at: String,
    /// Relative to the archive.
    pub stored_as: String,
    pub submission_id: String,
    pub sha256: String,
    /// Sorts as the ledger recorded the submissions: the ingest run's start
    /// and the file's place in that run's inbox order (see [`sequence`]).
    pub sequence: String,
}

impl Manifest {
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }
}

/// Where the manifest of `stored_as` for `department` lies.
pub fn manifest_path(config: &Config, stored_as: &str, department: &str) -> PathBuf {
    config.paths.archive.join(format!(
        "{stored_as}.{}.json",
        crate::model::names::safe_file_name(department)
    ))
}

/// The sort key of the `index`-th file of an ingest run started at
/// `run_started` (RFC 3339, fixed width, so it sorts as text).
pub fn sequence(run_started: &str, index: usize) -> String {
    format!("{run_started}#{index:010}")
}

/// Manifests for ledger entries that have none (workbooks archived by an
/// older nhanluc), written while the ledger is still there to tell.
/// `submissions` newest first, as [`State::submissions`] gives them.
pub fn backfill_manifests(
    config: &Config,
    submissions: &[SubmissionRow],
) -> Result<(), IngestError> {
    let total = submissions.len();
    for (newest_first, s) in submissions.iter().enumerate() {
        if s.stored_as.is_empty() || s.department.is_empty() {
            continue;
        }
        let path = manifest_path(config, &s.stored_as, &s.department);
        if path.exists() || !config.paths.archive.join(&s.stored_as).is_file() {
            continue;
        }
        let manifest = Manifest {
            source_file: s.source_file.clone(),
            department: s.department.clone(),
            received_at: s.received_at.clone(),
            stored_as: s.stored_as.clone(),
            submission_id: s.submission_id.clone(),
            sha256: s.sha256.clone(),
            // Before every manifest written at arrival, in ledger order.
            sequence: sequence("0000-00-00T00:00:00.000Z", total - 1 - newest_first),
        };
        ingest::write_atomic(&path, &manifest.to_json())?;
        tracing::debug!(file = %path.display(), "manifest written for a workbook archived before manifests");
    }
    Ok(())
}

/// The data part files among `files` staged for `submission_id`, as the
/// ledger records them (the `submissions` table is the ledger's own view,
/// rewritten from it, and manifests are not parts).
pub fn part_records(root: &Path, submission_id: &str, files: &[StagedFile]) -> Vec<PartRecord> {
    files
        .iter()
        .filter_map(|f| {
            let relative = f.path.strip_prefix(root).ok()?;
            let table = relative.components().next()?.as_os_str().to_str()?;
            (table != warehouse::SUBMISSIONS).then(|| PartRecord {
                path: relative.to_string_lossy().replace('\\', "/"),
                submission_id: submission_id.to_string(),
                table: table.to_string(),
                bytes: f.bytes,
                sha256: f.sha256.clone(),
            })
        })
        .collect()
}

// ---- parts known to the ledger ---------------------------------------------------

#[derive(Debug, thiserror::Error)]
pub enum PartsError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(
        "{} warehouse part file(s) missing or damaged and not rebuilt, so no indicators or digest are built from incomplete data: {}",
        .0.len(),
        .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    Lost(Vec<DamagedPart>),
}

/// A part file that is not what the ledger recorded.
#[derive(Debug, Clone)]
pub struct DamagedPart {
    pub path: PathBuf,
    pub submission_id: String,
    pub source_file: String,
    /// What is wrong with it.
    pub what: String,
    /// Why it could not be rebuilt (empty when it was).
    pub why: String,
}

impl fmt::Display for DamagedPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (submission {}, {}) is {}",
            self.path.display(),
            self.submission_id,
            self.source_file,
            self.what
        )?;
        if !self.why.is_empty() {
            write!(f, ", not rebuilt: {}", self.why)?;
        }
        Ok(())
    }
}

/// What [`ensure_parts`] found.
#[derive(Debug, Clone, Default)]
pub struct PartsCheck {
    pub checked: usize,
    /// Parts of an older install recorded now, as found.
    pub recorded: usize,
    pub rebuilt: Vec<DamagedPart>,
}

/// Checks every part the ledger holds active against its recorded size and
/// sha256 (or, for a part recorded before this check existed, that it is
/// there: it is recorded as found). A missing or damaged part is rewritten
/// from its archived workbook; if that is impossible, fails naming it.
pub fn ensure_parts(config: &Config, state: &mut State) -> Result<PartsCheck, PartsError> {
    let started = std::time::Instant::now();
    let root = &config.paths.warehouse;
    let recorded = state.recorded_parts()?;
    let submissions: HashMap<String, SubmissionRow> = state
        .submissions()?
        .into_iter()
        .map(|s| (s.submission_id.clone(), s))
        .collect();
    let mut expected: Vec<(String, String)> = state
        .active_loads()?
        .into_iter()
        .map(|l| {
            let path = warehouse::part_path(
                Path::new(""),
                &l.template,
                &l.period,
                &l.department,
                &l.submission_id,
            );
            (path.to_string_lossy().replace('\\', "/"), l.submission_id)
        })
        .collect();
    for s in submissions.values().filter(|s| s.status == "accepted") {
        let path = warehouse::part_path(
            Path::new(""),
            warehouse::REJECTS,
            &s.period,
            &s.department,
            &s.submission_id,
        );
        let path = path.to_string_lossy().replace('\\', "/");
        if s.rows_rejected > 0 || recorded.contains_key(&path) {
            expected.push((path, s.submission_id.clone()));
        }
    }
    expected.sort();
    let mut check = PartsCheck::default();
    let mut backfill = Vec::new();
    let mut damaged: BTreeMap<String, Vec<DamagedPart>> = BTreeMap::new();
    for (relative, submission_id) in expected {
        check.checked += 1;
        let path = root.join(&relative);
        let found = warehouse::file_digest(&path);
        let what = match (recorded.get(&relative), found) {
            (_, Err(e)) if e.kind() == std::io::ErrorKind::NotFound => "missing".to_string(),
            (_, Err(e)) => format!("unreadable ({e})"),
            (Some(r), Ok((bytes, _))) if bytes != r.bytes => {
                format!("{bytes} bytes where the ledger recorded {}", r.bytes)
            }
            (Some(r), Ok((_, sha))) if sha != r.sha256 => {
                "changed (its sha256 is not the one the ledger recorded)".to_string()
            }
            (Some(_), Ok(_)) => continue,
            (None, Ok((bytes, sha256))) => {
                let table = relative.split('/').next().unwrap_or_default().to_string();
                backfill.push(PartRecord {
                    path: relative,
                    submission_id,
                    table,
                    bytes,
                    sha256,
                });
                continue;
            }
        };
        let source_file = submissions
            .get(&submission_id)
            .map(|s| s.source_file.clone())
            .unwrap_or_default();
        damaged
            .entry(submission_id.clone())
            .or_default()
            .push(DamagedPart {
                path,
                submission_id,
                source_file,
                what,
                why: String::new(),
            });
    }
    check.recorded = backfill.len();
    state.record_parts(&backfill)?;
    // The `submissions` table is the ledger's own view: a record missing or
    // cut short is written again from the ledger, no workbook needed.
    let mut stale_records = 0;
    for s in submissions.values() {
        let path = warehouse::part_path(
            root,
            warehouse::SUBMISSIONS,
            &s.period,
            &s.department,
            &s.submission_id,
        );
        if !looks_like_parquet(&path) {
            warehouse::remove_file(&path).map_err(IngestError::from)?;
            stale_records += 1;
        }
    }
    if stale_records > 0 {
        tracing::warn!(
            records = stale_records,
            "submission records of the warehouse missing or damaged: written again from the ledger"
        );
        ingest::reconcile(config, state)?;
    }
    let mut lost = Vec::new();
    for (submission_id, parts) in damaged {
        let paths: HashSet<PathBuf> = parts.iter().map(|p| p.path.clone()).collect();
        let outcome = match submissions.get(&submission_id) {
            Some(s) => ingest::rewrite_parts(config, s, &paths)?,
            None => Err("the ledger has no such submission".to_string()),
        };
        match outcome {
            Ok(files) => {
                let written: HashSet<&PathBuf> = files.iter().map(|f| &f.path).collect();
                state.record_parts(&part_records(root, &submission_id, &files))?;
                for part in parts {
                    if written.contains(&part.path) {
                        tracing::warn!(file = %part.path.display(), submission = %part.submission_id, source = %part.source_file, was = %part.what, "part file rebuilt from its archived workbook");
                        check.rebuilt.push(part);
                    } else {
                        lost.push(DamagedPart {
                            why: "reading its workbook again wrote no such part".into(),
                            ..part
                        });
                    }
                }
            }
            Err(why) => lost.extend(parts.into_iter().map(|p| DamagedPart {
                why: why.clone(),
                ..p
            })),
        }
    }
    if !lost.is_empty() {
        for part in &lost {
            tracing::error!(file = %part.path.display(), submission = %part.submission_id, source = %part.source_file, what = %part.what, why = %part.why, "part file missing or damaged and not rebuilt");
        }
        return Err(PartsError::Lost(lost));
    }
    if check.recorded > 0 {
        tracing::info!(
            parts = check.recorded,
            "part files recorded in the ledger as found (written before parts were recorded)"
        );
    }
    tracing::debug!(
        parts = check.checked,
        rebuilt = check.rebuilt.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "part files checked against the ledger (size and sha256)"
    );
    Ok(check)
}

/// Whether a file starts and ends with Parquet's magic bytes.
fn looks_like_parquet(path: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let mut head = [0u8; 4];
    let mut tail = [0u8; 4];
    file.read_exact(&mut head).is_ok()
        && file.seek(SeekFrom::End(-4)).is_ok()
        && file.read_exact(&mut tail).is_ok()
        && &head == b"PAR1"
        && &tail == b"PAR1"
}

// ---- rebuild -----------------------------------------------------------------------

#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error("indicators")]
    Indicators(#[from] IndicatorError),
    #[error(transparent)]
    Lock(Box<crate::jobs::JobError>),
    #[error(
        "the state database {path} holds {} submission(s) ({} accepted, {} superseded, {} quarantined): `rebuild` replaces a lost state; to rebuild anyway, run `nhanluc rebuild --force` (the state is moved aside, not deleted)",
        .counts.accepted + .counts.superseded + .counts.quarantined,
        .counts.accepted, .counts.superseded, .counts.quarantined
    )]
    NotEmpty { path: PathBuf, counts: LedgerCounts },
    #[error("cannot {action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(Debug, Clone, Copy, Default)]
pub struct RebuildOptions {
    /// Rebuild even though the state holds submissions (moved aside first).
    pub force: bool,
}

/// What [`rebuild`] did.
#[derive(Debug, Default)]
pub struct RebuildReport {
    /// Where the old state files went (database, WAL, shared memory).
    pub moved_state: Vec<PathBuf>,
    /// Where the old warehouse went (kept: remove it once the rebuilt one is checked).
    pub moved_warehouse: Option<PathBuf>,
    pub manifests: usize,
    pub ingest: IngestReport,
    /// Quarantined files re-recorded from their sidecars.
    pub quarantined: usize,
    /// Archived workbooks without a manifest (archived by an older nhanluc
    /// whose ledger is gone): not re-ingested, listed.
    pub without_manifest: Vec<PathBuf>,
    /// Manifests that could not be used, and why.
    pub bad_manifests: Vec<(PathBuf, String)>,
    pub counts: LedgerCounts,
    pub indicators: Option<IndicatorOutcome>,
}

/// Reconstructs the ledger and the warehouse from the archive (see the module doc).
pub async fn rebuild(
    config: &Config,
    options: RebuildOptions,
) -> Result<RebuildReport, RebuildError> {
    let _lock =
        crate::jobs::RunLock::acquire(config).map_err(|e| RebuildError::Lock(Box::new(e)))?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let mut report = RebuildReport::default();
    let state_path = &config.paths.state;
    if state_path.exists() {
        let counts = existing_counts(state_path);
        if counts.accepted + counts.superseded + counts.quarantined > 0 && !options.force {
            return Err(RebuildError::NotEmpty {
                path: state_path.clone(),
                counts,
            });
        }
    }
    // Until the ledger is whole, no other command trusts it (a rebuild
    // killed half-way is done again with --force).
    let flag = rebuild_flag(state_path);
    ingest::write_atomic(
        &flag,
        format!("nhanluc rebuild started at {}\n", crate::state::now()).as_bytes(),
    )?;
    // Never deleted: moved aside with the WAL beside it, so it still opens.
    let name = state_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let aside = state_path.with_file_name(format!("{name}.before-rebuild-{stamp}"));
    for suffix in ["", "-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", state_path.display()));
        if from.exists() {
            let to = PathBuf::from(format!("{}{suffix}", aside.display()));
            move_aside(&from, &to)?;
            report.moved_state.push(to);
        }
    }
    let root = &config.paths.warehouse;
    if std::fs::read_dir(root).is_ok_and(|mut entries| entries.next().is_some()) {
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let to = root.with_file_name(format!("{name}.before-rebuild-{stamp}"));
        move_aside(root, &to)?;
        tracing::info!(to = %to.display(), "the warehouse was moved aside (kept: remove it once the rebuilt one is checked)");
        report.moved_warehouse = Some(to);
    }

    let (workbooks, manifest_files) = archive_files(&config.paths.archive);
    let mut manifests = Vec::new();
    let mut described: HashSet<PathBuf> = HashSet::new();
    let mut progress = crate::progress::start(crate::progress::Step::Ingest, manifest_files.len());
    for file in manifest_files {
        progress.advance(1, 0);
        match read_manifest(config, &file) {
            Ok(manifest) => {
                described.insert(config.paths.archive.join(&manifest.stored_as));
                manifests.push(manifest);
            }
            Err(why) => {
                tracing::warn!(file = %file.display(), %why, "manifest not used");
                report.bad_manifests.push((file, why));
            }
        }
    }
    drop(progress);
    for workbook in workbooks {
        if !described.contains(&workbook) {
            tracing::warn!(file = %workbook.display(), "archived workbook without a manifest: not re-ingested (where and when it arrived is not known)");
            report.without_manifest.push(workbook);
        }
    }
    manifests.sort_by(|a, b| {
        (&a.sequence, &a.received_at, &a.stored_as).cmp(&(
            &b.sequence,
            &b.received_at,
            &b.stored_as,
        ))
    });
    report.manifests = manifests.len();
    // Read before the re-ingest, which may quarantine (and so add sidecars).
    let quarantines = quarantine_sidecars(config);

    let mut state = State::open(state_path)?;
    let id = state.ledger_id()?;
    for dir in [root, &config.paths.archive] {
        write_marker(dir, &id)?;
    }
    tracing::info!(
        manifests = manifests.len(),
        "re-ingesting the archive in received order"
    );
    let items: Vec<ingest::AsIf> = manifests
        .iter()
        .map(|m| ingest::AsIf {
            archived: config.paths.archive.join(&m.stored_as),
            source_file: m.source_file.clone(),
            received_at: m.received_at.clone(),
        })
        .collect();
    report.ingest = if items.is_empty() {
        IngestReport::default()
    } else {
        ingest::ingest_archived(config, &mut state, &items)?
    };
    for q in &quarantines {
        state.record_quarantine_at(
            &NewQuarantine {
                sha256: &q.sha256,
                department: q.department.as_deref(),
                source_file: &q.source_file,
                stored_as: &q.stored_as,
                reason_vi: &q.reason_vi,
                reason_en: &q.reason_en,
                report: "[]",
            },
            &q.received_at,
        )?;
    }
    report.quarantined = quarantines.len();
    // The departments were answered when the files arrived.
    state.mark_all_feedback_queued()?;
    report.counts = state.ledger_counts()?;
    ensure_parts(config, &mut state).map_err(|e| match e {
        PartsError::State(e) => RebuildError::State(e),
        PartsError::Ingest(e) => RebuildError::Ingest(e),
        lost @ PartsError::Lost(_) => RebuildError::Io {
            action: "verify the rebuilt parts in",
            path: root.clone(),
            source: std::io::Error::other(lost.to_string()),
        },
    })?;
    drop(state);
    std::fs::remove_file(&flag).map_err(|source| RebuildError::Io {
        action: "remove",
        path: flag.clone(),
        source,
    })?;
    report.indicators = Some(indicators::compute(config, None).await?);
    Ok(report)
}

fn move_aside(from: &Path, to: &Path) -> Result<(), RebuildError> {
    std::fs::rename(from, to).map_err(|source| RebuildError::Io {
        action: "move aside",
        path: from.to_path_buf(),
        source,
    })
}

/// The ledger counts of a state file, read without changing it (no
/// migration); zero for a file with no ledger.
fn existing_counts(path: &Path) -> LedgerCounts {
    let Ok(conn) =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return LedgerCounts::default();
    };
    conn.query_row(
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
    .unwrap_or_default()
}

/// A manifest whose workbook is there with the bytes it names.
fn read_manifest(config: &Config, path: &Path) -> Result<Manifest, String> {
    let text = std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
    let manifest: Manifest =
        serde_json::from_slice(&text).map_err(|e| format!("not a manifest: {e}"))?;
    if manifest.stored_as.contains("..") || Path::new(&manifest.stored_as).is_absolute() {
        return Err(format!(
            "its workbook path {:?} leaves the archive",
            manifest.stored_as
        ));
    }
    let workbook = config.paths.archive.join(&manifest.stored_as);
    match warehouse::file_digest(&workbook) {
        Ok((_, sha)) if sha == manifest.sha256 => Ok(manifest),
        Ok(_) => Err(format!(
            "its workbook {} does not have the sha256 it names",
            workbook.display()
        )),
        Err(e) => Err(format!(
            "its workbook {} cannot be read: {e}",
            workbook.display()
        )),
    }
}

/// A quarantined file as its `.reason.txt` sidecar tells it.
#[derive(Debug, Clone)]
struct Sidecar {
    received_at: String,
    department: Option<String>,
    source_file: String,
    stored_as: String,
    reason_vi: String,
    reason_en: String,
    sha256: String,
}

/// Every `quarantine/<DEPT>/<stamp>-<sha8>-<name>.reason.txt`, oldest first.
fn quarantine_sidecars(config: &Config) -> Vec<Sidecar> {
    let root = &config.paths.quarantine;
    let mut found = Vec::new();
    for folder in std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
    {
        let folder_name = folder.file_name().to_string_lossy().into_owned();
        for file in std::fs::read_dir(folder.path())
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
        {
            let name = file.file_name().to_string_lossy().into_owned();
            let Some(stored_name) = name.strip_suffix(".reason.txt") else {
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(file.path()) else {
                tracing::warn!(file = %file.path().display(), "quarantine sidecar unreadable: not re-recorded");
                continue;
            };
            let field = |prefix: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(prefix))
                    .map(|v| v.trim().to_string())
                    .unwrap_or_default()
            };
            let file_line = field("Tệp / file:");
            let source_file = Path::new(&file_line)
                .strip_prefix(&config.paths.inbox)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_else(|_| {
                    let base = Path::new(&file_line)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_else(|| stored_name.to_string());
                    format!("{folder_name}/{base}")
                });
            let received_at = stamp_time(stored_name).unwrap_or_else(|| {
                file.metadata()
                    .and_then(|m| m.modified())
                    .map(|t| {
                        chrono::DateTime::<chrono::Utc>::from(t)
                            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                    })
                    .unwrap_or_else(|_| crate::state::now())
            });
            found.push(Sidecar {
                received_at,
                department: (folder_name != "_unknown").then(|| folder_name.clone()),
                source_file,
                stored_as: format!("{folder_name}/{stored_name}"),
                reason_vi: field("Lý do:"),
                reason_en: field("Reason:"),
                sha256: field("sha256:"),
            });
        }
    }
    found.sort_by(|a, b| (&a.received_at, &a.stored_as).cmp(&(&b.received_at, &b.stored_as)));
    found
}

/// The time in a quarantine name's `20250131T235959Z-` prefix, as RFC 3339.
fn stamp_time(name: &str) -> Option<String> {
    let stamp = name.get(..16)?;
    let time = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ").ok()?;
    Some(
        time.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_sort_in_ledger_order() {
        let legacy = sequence("0000-00-00T00:00:00.000Z", 12);
        let first = sequence("2026-01-02T03:04:05.678Z", 9);
        let second = sequence("2026-01-02T03:04:05.678Z", 10);
        let later = sequence("2026-01-02T03:04:06.000Z", 0);
        let mut all = vec![later.clone(), second.clone(), legacy.clone(), first.clone()];
        all.sort();
        assert_eq!(all, vec![legacy, first, second, later]);
    }

    #[test]
    fn quarantine_stamps_read_as_times() {
        assert_eq!(
            stamp_time("20250131T235959Z-abcd1234-x.xlsx").as_deref(),
            Some("2025-01-31T23:59:59.000Z")
        );
        assert_eq!(stamp_time("x.xlsx"), None);
    }
}
