//! What is kept beside the data so that the state database is never its only
//! copy of truth: the ledger's id in a marker beside the archive and the
//! warehouse, and beside each archived workbook its manifest (where and when
//! it arrived). Why a state is refused ([`LostState`]) is said here too, as
//! the state's own error carries it; the checks that refuse it walk the
//! warehouse and live with ingest (`ingest::trust`), which writes the data.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::durable::{WriteError, write_atomic};
use crate::model::submission::Submission;
use crate::state::StateError;

/// The marker file holding the id of the ledger that wrote the data beside it.
pub(crate) const MARKER: &str = ".nhanluc-ledger";

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
    pub(crate) fn holds_data(&self) -> bool {
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

/// The refusal of the state at `config`'s paths, for `kind`.
pub fn lost(config: &Config, kind: LostKind, census: Census) -> StateError {
    StateError::Lost(Box::new(LostState {
        kind,
        state: config.paths.state.clone(),
        archive: config.paths.archive.clone(),
        warehouse: config.paths.warehouse.clone(),
        census,
    }))
}

/// The file that says a rebuild of the state at `state` is under way.
pub(crate) fn rebuild_flag(state: &Path) -> PathBuf {
    let name = state
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    state.with_file_name(format!("{name}.rebuilding"))
}

/// The ledger id in the marker in `dir`, if there is one.
pub(crate) fn read_marker(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(MARKER)).ok()?;
    let id = text.lines().next()?.trim();
    (!id.is_empty()).then(|| id.to_string())
}

/// Writes the marker saying ledger `id` wrote the data in `dir`.
pub(crate) fn write_marker(dir: &Path, id: &str) -> Result<(), WriteError> {
    write_atomic(
        &dir.join(MARKER),
        format!("{id}\nThe id of the nhanluc state database (ledger) that wrote the data here: a state that is not this one is refused.\n").as_bytes(),
    )
}

/// The archive's workbooks and manifests (paths), in `archive/<aa>/`.
pub fn archive_files(archive: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
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
    pub(crate) fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }
}

/// Where the manifest of `stored_as` for `department` lies.
pub(crate) fn manifest_path(config: &Config, stored_as: &str, department: &str) -> PathBuf {
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
/// `submissions` newest first, as [`crate::state::State::submissions`] gives them.
pub(crate) fn backfill_manifests(
    config: &Config,
    submissions: &[Submission],
) -> Result<(), WriteError> {
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
        write_atomic(&path, &manifest.to_json())?;
        tracing::debug!(file = %path.display(), "manifest written for a workbook archived before manifests");
    }
    Ok(())
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
}
