//! Prepared files committed in inbox order: duplicates and quarantines at
//! once, accepted files in batches made durable together (part files,
//! archive copies, manifests), recorded in the ledger, and only then removed
//! from the inbox.

use std::collections::HashSet;
use std::path::Path;
use std::time::SystemTime;

use crate::config::Config;
use crate::model::names::printable;
use crate::model::report::{FileReport, LedgerReport, Outcome};
use crate::state::PartRecord;
use crate::state::{NewSubmission, State};
use crate::warehouse::StagedFile;
use crate::warehouse::{self, StagedFiles};

use super::files::read_regular;
use super::files::{
    archive_bytes, change_point, crash_point, move_file, quarantine_file, quarantine_name,
    sidecar_of, unchanged_since, write_sidecar,
};
use super::prepare::{Prepared, Ready, Refusal, Seen};
use super::{IngestError, io_error, io_failed};

/// A batch is made durable and committed once it holds this many files (the
/// first batches are smaller, so the first files land at once)…
const BATCH_FILES: usize = 256;
const FIRST_BATCH_FILES: usize = 8;
/// …or this many staged bytes.
const BATCH_BYTES: u64 = 64 * 1024 * 1024;

/// Takes prepared files in inbox order and records them: quarantines and
/// duplicates at once, accepted files in durable batches.
pub(super) struct Committer<'a> {
    pub(super) config: &'a Config,
    pub(super) state: &'a mut State,
    pub(super) reports: Vec<FileReport>,
    pub(super) batch: Vec<Ready>,
    pub(super) staged: StagedFiles,
    /// (department, content hash) accepted by this run, for the same bytes
    /// sent twice by one department in one inbox.
    pub(super) taken: HashSet<(String, String)>,
    /// Inbox files left because they look incomplete: their sightings are kept.
    pub(super) incomplete: HashSet<String>,
    /// Files quarantined because they stopped the reader.
    pub(super) stopped_reader: Vec<String>,
    pub(super) batch_limit: usize,
    /// Bytes of the batch's files kept until they are archived.
    pub(super) held_bytes: u64,
    /// The data part files of the batch, recorded with its submissions.
    pub(super) parts: Vec<crate::state::PartRecord>,
}

impl<'a> Committer<'a> {
    pub(super) fn new(config: &'a Config, state: &'a mut State) -> Self {
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

    pub(super) fn take(&mut self, prepared: Prepared) -> Result<(), IngestError> {
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
                let key = (
                    ready.submission.submission.department.clone(),
                    ready.seen.sha.clone(),
                );
                if !self.taken.insert(key) {
                    std::mem::take(&mut ready.staged).discard();
                    self.flush()?;
                    return self.duplicate(ready.seen);
                }
                self.parts.extend(part_records(
                    &self.config.paths.warehouse,
                    &ready.submission.submission.submission_id,
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
    pub(super) fn flush(&mut self) -> Result<(), IngestError> {
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
                self.archive_from_inbox(
                    &seen.path,
                    &submission.submission.stored_as,
                    &bytes,
                    read_as,
                )?;
            }
            let mut report = seen.report;
            report.outcome = Outcome::Accepted {
                submission_id: submission.submission.submission_id,
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
                let sheets = LedgerReport {
                    sheets: seen.report.sheets.clone(),
                };
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
