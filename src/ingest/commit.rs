//! Prepared files committed in inbox order: duplicates and quarantines at
//! once, accepted files in batches made durable together (part files,
//! archive copies, manifests), recorded in the ledger, and only then removed
//! from the inbox.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use crate::config::Config;
use crate::model::addition::{Addition, EarlierFile, Effect, received_day};
use crate::model::identity::{HeldRow, HeldRows, names_people};
use crate::model::names::printable;
use crate::model::report::{FileReport, LedgerReport, Outcome};
use crate::state::PartRecord;
use crate::state::{HeldLoad, NewSubmission, State};
use crate::warehouse::StagedFile;
use crate::warehouse::{self, StagedFiles, WarehouseError};

use super::files::read_regular;
use super::files::{
    archive_bytes, change_point, crash_point, move_file, quarantine_file, quarantine_name,
    sidecar_of, unchanged_since, write_sidecar,
};
use super::prepare::{Known, Origin, Prepared, Ready, Refusal, Seen, prepare_file};
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
    /// What the ledger knew when the run started, for reading a file again.
    pub(super) known: &'a Known,
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
    pub(super) fn new(config: &'a Config, known: &'a Known, state: &'a mut State) -> Self {
        Committer {
            config,
            known,
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
                if self.taken.contains(&key) {
                    std::mem::take(&mut ready.staged).discard();
                    self.flush()?;
                    return self.duplicate(ready.seen);
                }
                let mut ready = match self.weigh(ready)? {
                    Prepared::Ready(ready) => ready,
                    other => return self.take(other),
                };
                self.taken.insert(key);
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

    /// Weighs a file against the rows its department's earlier files hold
    /// for the same period and forms (DESIGN, Warehouse): an addition adds
    /// to them, its rows already held rejected naming the earlier file (it
    /// is read again knowing them), and refused when most of them are; a
    /// whole list replaces them, unless it is much smaller and shares none
    /// of their people, which is refused as ambiguous. Sets the effect the
    /// feedback tells.
    fn weigh(&mut self, mut ready: Box<Ready>) -> Result<Prepared, IngestError> {
        let department = ready.submission.submission.department.clone();
        let period = ready.period.to_string();
        let forms: Vec<String> = ready
            .submission
            .loads
            .iter()
            .map(|(t, _)| t.clone())
            .collect();
        // An earlier file of the same forms may wait in the batch: it is
        // committed first, so the ledger holds what this one is weighed by.
        let pending = self.batch.iter().any(|b| {
            b.submission.submission.department == department
                && b.period == ready.period
                && b.submission.loads.iter().any(|(t, _)| forms.contains(t))
        });
        if pending {
            self.flush()?;
        }
        let mut held: Vec<(String, Vec<HeldLoad>)> = Vec::new();
        for form in &forms {
            let loads = self.state.held_loads(&department, &period, form)?;
            if !loads.is_empty() {
                held.push((form.clone(), loads));
            }
        }
        if held.is_empty() {
            ready.submission.effect = Effect::First;
            return Ok(Prepared::Ready(ready));
        }
        match ready.declared {
            Some(addition) => self.weigh_addition(ready, addition, &held, &period),
            None => self.weigh_whole_list(ready, &held, &period),
        }
    }

    fn weigh_addition(
        &mut self,
        mut ready: Box<Ready>,
        addition: Addition,
        held: &[(String, Vec<HeldLoad>)],
        period: &str,
    ) -> Result<Prepared, IngestError> {
        let department = ready.submission.submission.department.clone();
        let (mut to, mut replaced) = (Vec::new(), Vec::new());
        let mut rows = HeldRows::default();
        for (form, loads) in held {
            for load in loads {
                let earlier = earlier_file(form, load);
                if matches!(addition, Addition::Batch(_)) && load.addition == Some(addition) {
                    replaced.push(earlier);
                    continue;
                }
                if self.names_people(form)
                    && let Err(e) = read_held(
                        &self.config.paths.warehouse,
                        &mut rows,
                        period,
                        &department,
                        &earlier,
                    )
                {
                    return Ok(held_unreadable(ready, &e));
                }
                to.push(earlier);
            }
        }
        let mut keys_of = Vec::new();
        for (form, _) in held.iter().filter(|(form, _)| self.names_people(form)) {
            keys_of.push((form, self.new_keys(&ready, form)?));
        }
        for (form, keys) in &keys_of {
            let repeated = keys
                .rows
                .iter()
                .filter(|k| rows.get(form, k).is_some())
                .count();
            if keys.rows.is_empty() || repeated * 2 <= keys.rows.len() {
                continue;
            }
            let files = file_list(to.iter().filter(|e| &e.template == *form));
            let title = self.form_title(form);
            let (label_vi, label_en) = (addition.label_vi(), addition.label_en());
            let total = keys.rows.len();
            return Ok(self.refusal(
                ready,
                format!(
                    "Tệp ghi là {label_vi} nhưng {repeated} trong {total} dòng biểu \"{title}\" đã có trong {}: không rõ đây là phần bổ sung hay cả danh sách gửi lại. Nếu là danh sách đầy đủ để thay thế, hãy bỏ chữ \"bổ sung\"/\"đợt\" ở tiêu đề và tên tệp rồi gửi lại; nếu là bổ sung, chỉ ghi những dòng chưa gửi",
                    files.0
                ),
                format!(
                    "The file says it is a {label_en} but {repeated} of its {total} rows of form \"{title}\" are already in {}: it cannot be told whether it adds to the list or sends it again. If it is the whole list to replace it, remove \"bổ sung\"/\"đợt\" from its title and file name and send it again; if it adds, list only the rows not sent before",
                    files.1
                ),
            ));
        }
        let repeats = keys_of
            .iter()
            .any(|(form, keys)| keys.rows.iter().any(|k| rows.get(form, k).is_some()));
        if repeats {
            // Read again knowing the rows held, so that each repeat is a
            // reject of the row that holds it, counted like any other.
            std::mem::take(&mut ready.staged).discard();
            let again = self.read_again(&ready, Arc::new(rows))?;
            match again {
                Prepared::Ready(mut again) => {
                    again.submission.effect =
                        added(addition, &again.submission.loads, to, replaced);
                    return Ok(Prepared::Ready(again));
                }
                other => return Ok(other),
            }
        }
        ready.submission.effect = added(addition, &ready.submission.loads, to, replaced);
        Ok(Prepared::Ready(ready))
    }

    fn weigh_whole_list(
        &mut self,
        mut ready: Box<Ready>,
        held: &[(String, Vec<HeldLoad>)],
        period: &str,
    ) -> Result<Prepared, IngestError> {
        let department = ready.submission.submission.department.clone();
        for (form, loads) in held {
            if !self.names_people(form) {
                continue;
            }
            let new_rows = ready
                .submission
                .loads
                .iter()
                .find(|(t, _)| t == form)
                .map_or(0, |(_, rows)| *rows);
            let held_rows: i64 = loads.iter().map(|l| l.rows).sum();
            // A file with no row kept replaces nothing worth asking about.
            if new_rows == 0 || new_rows * 2 >= held_rows {
                continue;
            }
            let keys = self.new_keys(&ready, form)?;
            let mut people = HashSet::new();
            for load in loads {
                match self.held_people(form, period, &department, load) {
                    Ok(found) => people.extend(found),
                    Err(e) => return Ok(held_unreadable(ready, &e)),
                }
            }
            if keys.people.iter().any(|p| people.contains(p)) {
                continue;
            }
            let files = file_list(
                loads
                    .iter()
                    .map(|l| earlier_file(form, l))
                    .collect::<Vec<_>>()
                    .iter(),
            );
            let title = self.form_title(form);
            return Ok(self.refusal(
                ready,
                format!(
                    "Tệp có {new_rows} dòng biểu \"{title}\", chưa bằng một nửa {held_rows} dòng đã nhận trong {}, và không có người nào trùng: không rõ tệp này thay thế hay bổ sung danh sách đã gửi. Nếu là bổ sung, hãy ghi \"bổ sung\" (hoặc \"đợt 2\", \"đợt 3\"…) ở tiêu đề hoặc tên tệp rồi gửi lại; nếu là danh sách mới thay thế, hãy gửi lại danh sách đầy đủ",
                    files.0
                ),
                format!(
                    "The file has {new_rows} rows of form \"{title}\", fewer than half the {held_rows} rows received in {}, and shares none of their people: it cannot be told whether it replaces or adds to the list sent. If it adds, write \"bổ sung\" (or \"đợt 2\", \"đợt 3\"…) in its title or file name and send it again; if it is a new list to replace it, send the whole list again",
                    files.1
                ),
            ));
        }
        let earlier = held
            .iter()
            .flat_map(|(form, loads)| loads.iter().map(|l| earlier_file(form, l)))
            .collect();
        ready.submission.effect = Effect::Replaced { earlier };
        Ok(Prepared::Ready(ready))
    }

    /// The people of one held load.
    fn held_people(
        &self,
        form: &str,
        period: &str,
        department: &str,
        load: &HeldLoad,
    ) -> Result<Vec<String>, WarehouseError> {
        let root = &self.config.paths.warehouse;
        let earlier = earlier_file(form, load);
        Ok(held_identities(root, period, department, &earlier)?
            .into_iter()
            .filter_map(|s| s.identity.person_key())
            .collect())
    }

    /// Whether a form's rows are about people, and so matched across files.
    fn names_people(&self, form: &str) -> bool {
        self.config.template(form).is_some_and(names_people)
    }

    /// Who the rows of `form` in a prepared file are about, read from its
    /// staged part (only for a file weighed against held rows: reading
    /// every row's keys as it is converted would cost every file).
    fn new_keys(&self, ready: &Ready, form: &str) -> Result<FormKeys, WarehouseError> {
        let sent = &ready.submission.submission;
        let path = warehouse::part_path(
            &self.config.paths.warehouse,
            form,
            &ready.period.to_string(),
            &sent.department,
            &sent.submission_id,
        );
        let mut keys = FormKeys::default();
        if let Some(staged) = ready.staged.staged_path(&path) {
            for stored in warehouse::read_identities(staged)? {
                keys.rows.extend(stored.identity.row_key());
                keys.people.extend(stored.identity.person_key());
            }
        }
        Ok(keys)
    }

    /// Reads a file again as it was prepared, knowing the rows held.
    fn read_again(&self, ready: &Ready, held: Arc<HeldRows>) -> Result<Prepared, IngestError> {
        let origin = Origin {
            run_started: &ready.again.run_started,
            as_if: ready.again.as_if.as_ref(),
            held: Some(&held),
        };
        prepare_file(
            self.config,
            self.known,
            &ready.seen.path,
            None,
            ready.again.index,
            origin,
        )
    }

    fn form_title(&self, form: &str) -> String {
        self.config
            .template(form)
            .map_or_else(|| form.to_string(), |t| t.title.clone())
    }

    /// A prepared file refused after all: its staged files go.
    fn refusal(&self, mut ready: Box<Ready>, reason_vi: String, reason_en: String) -> Prepared {
        std::mem::take(&mut ready.staged).discard();
        Prepared::Quarantine(Box::new(Refusal {
            seen: ready.seen,
            reason_vi,
            reason_en,
            stopped_reader: false,
        }))
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
        crash_point("parts-in-place");
        self.batch_limit = (self.batch_limit * 2).min(BATCH_FILES);
        let batch = std::mem::take(&mut self.batch);
        self.held_bytes = 0;
        let submissions: Vec<NewSubmission> = batch.iter().map(|r| r.submission.clone()).collect();
        let parts = std::mem::take(&mut self.parts);
        let superseded = self
            .state
            .record_submissions_with_parts(&submissions, &parts)?;
        crash_point("submissions-recorded");
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
                effect: submission.effect,
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
            ..
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

/// Who the rows of one form a file loads are about: what it is weighed by
/// against the department's earlier files.
#[derive(Debug, Default)]
struct FormKeys {
    /// [`RowIdentity::row_key`](crate::model::identity::RowIdentity::row_key) of each row that has one.
    rows: HashSet<String>,
    /// [`RowIdentity::person_key`](crate::model::identity::RowIdentity::person_key) of each row that has one.
    people: HashSet<String>,
}

/// The identities of an earlier file's rows of its form, from its part file.
fn held_identities(
    root: &Path,
    period: &str,
    department: &str,
    earlier: &EarlierFile,
) -> Result<Vec<warehouse::StoredIdentity>, WarehouseError> {
    if earlier.rows == 0 {
        return Ok(Vec::new());
    }
    let path = warehouse::part_path(
        root,
        &earlier.template,
        period,
        department,
        &earlier.submission_id,
    );
    warehouse::read_identities(&path)
}

/// A file left in the inbox because the rows it is weighed against cannot
/// be read (a part file lost or damaged since it was written): neither the
/// department's fault nor safe to take blind. A job's indicators step
/// (`ensure_parts`) writes the part again, and the next run takes the file.
fn held_unreadable(mut ready: Box<Ready>, error: &WarehouseError) -> Prepared {
    std::mem::take(&mut ready.staged).discard();
    let why = crate::error_chain::chain(error);
    tracing::warn!(file = %printable(&ready.seen.report.source_file), error = %printable(&why), "the department's held rows cannot be read: file left for the next run (`nhanluc indicators` writes a lost part again)");
    let mut report = ready.seen.report;
    report.outcome = Outcome::Waiting {
        reason: format!(
            "the rows it is weighed against cannot be read ({why}): left for the next run; `nhanluc indicators` writes a lost part again"
        ),
    };
    Prepared::Waiting(report)
}

/// Adds an earlier file's rows of its form to `rows`, by key, with where
/// they were.
pub(super) fn read_held(
    root: &Path,
    rows: &mut HeldRows,
    period: &str,
    department: &str,
    earlier: &EarlierFile,
) -> Result<(), WarehouseError> {
    for stored in held_identities(root, period, department, earlier)? {
        if let Some(key) = stored.identity.row_key() {
            rows.insert(
                &earlier.template,
                key,
                HeldRow {
                    source_file: earlier.source_file.clone(),
                    received_at: earlier.received_at.clone(),
                    sheet: stored.sheet,
                    source_row: stored.source_row,
                },
            );
        }
    }
    Ok(())
}

fn earlier_file(form: &str, load: &HeldLoad) -> EarlierFile {
    EarlierFile {
        submission_id: load.submission_id.clone(),
        source_file: load.source_file.clone(),
        received_at: load.received_at.clone(),
        template: form.to_string(),
        rows: load.rows,
    }
}

fn added(
    addition: Addition,
    loads: &[(String, i64)],
    to: Vec<EarlierFile>,
    replaced: Vec<EarlierFile>,
) -> Effect {
    Effect::Added {
        addition,
        added_rows: loads.iter().map(|(_, rows)| rows).sum(),
        to,
        replaced,
    }
}

/// Earlier files named in a reason: ("tệp \"a.xlsx\" nhận ngày …", "\"a.xlsx\" received on …").
fn file_list<'e>(files: impl Iterator<Item = &'e EarlierFile>) -> (String, String) {
    let (mut vi, mut en) = (Vec::new(), Vec::new());
    let mut seen = HashSet::new();
    for file in files {
        if seen.insert(&file.submission_id) {
            let day = received_day(&file.received_at);
            vi.push(format!("tệp \"{}\" nhận ngày {day}", file.source_file));
            en.push(format!("\"{}\" received on {day}", file.source_file));
        }
    }
    (vi.join(", "), en.join(", "))
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
