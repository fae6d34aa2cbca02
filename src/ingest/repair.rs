//! Ledger repair: the warehouse made to agree with the ledger after a crash
//! ([`reconcile`]), and a missing or damaged part written again from its
//! archived workbook ([`rewrite_parts`]).

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;

use std::sync::Arc;

use crate::config::Config;
use crate::model::addition::Effect;
use crate::model::identity::HeldRows;
use crate::model::status::SubmissionStatus;
use crate::state::State;
use crate::warehouse::{self, StagedFiles};

use super::commit::read_held;
use super::prepare::{Known, Origin, Prepared, Ready, prepare_file};
use super::{AsIf, IngestError, guard};

/// Reads an archived submission again and writes those of its part files
/// whose paths are in `paths` (parts found missing or damaged). Returns what
/// was written, or why that is impossible (the archive lost the file, or the
/// workbook now reads differently than the ledger recorded).
///
/// An addition is read knowing the rows of the files it was added to, as
/// when it was taken, so that its repeats are rejected again (their part
/// files must still be there: a file it was added to and since replaced
/// is gone, and the addition then reads differently).
pub fn rewrite_parts(
    config: &Config,
    submission: &crate::model::submission::Submission,
    effect: &Effect,
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
    let mut held = HeldRows::default();
    if let Effect::Added { to, .. } = effect {
        let period = submission.period.to_string();
        for earlier in to {
            let part = warehouse::part_path(
                &config.paths.warehouse,
                &earlier.template,
                &period,
                &submission.department,
                &earlier.submission_id,
            );
            if part.is_file() && !paths.contains(&part) {
                read_held(
                    &config.paths.warehouse,
                    &mut held,
                    &period,
                    &submission.department,
                    earlier,
                )?;
            }
        }
    }
    let held = Arc::new(held);
    let origin = Origin {
        run_started: &run_started,
        as_if: Some(&as_if),
        held: (!held.is_empty()).then_some(&held),
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
    let same = again.submission.sha256 == submission.sha256
        && again.submission.period == submission.period
        && again.submission.department == submission.department
        && (
            again.submission.rows_loaded,
            again.submission.rows_rejected,
            again.submission.rows_skipped,
        ) == (
            submission.rows_loaded,
            submission.rows_rejected,
            submission.rows_skipped,
        );
    if !same {
        staged.discard();
        return Ok(Err(format!(
            "its archived workbook reads differently now ({} rows loaded, {} rejected, {} skipped, period {}; the ledger has {}, {}, {}, period {}): the configuration or templates changed since",
            again.submission.rows_loaded,
            again.submission.rows_rejected,
            again.submission.rows_skipped,
            again.submission.period,
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

/// Makes the warehouse agree with the ledger: removes part files of loads that
/// are not active (superseded, or written by a run that died before its
/// commit), temporary files, and rewrites the `submissions` table. Returns the
/// number of files removed.
pub fn reconcile(config: &Config, state: &State) -> Result<usize, IngestError> {
    // A ledger that is not the warehouse's (lost, recreated empty) would
    // call every part unknown: refuse instead of deleting them.
    guard::trust(config, state)?;
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
        .filter(|s| s.status == SubmissionStatus::Accepted)
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
    guard::refuse_older_ledger(
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
    crate::archive::backfill_manifests(config, &submissions)?;
    let mut staged = StagedFiles::default();
    let mut published = Vec::new();
    let published_before = state.published_statuses()?;
    for s in &submissions {
        let path = warehouse::part_path(
            root,
            warehouse::SUBMISSIONS,
            &s.period.to_string(),
            &s.department,
            &s.submission_id,
        );
        let up_to_date =
            published_before.get(&s.submission_id) == Some(&s.status) && path.is_file();
        if !up_to_date {
            let batch = warehouse::submission_batch(s)?;
            staged.stage_parquet(&path, "r", &batch)?;
            published.push((s.submission_id.as_str(), s.status));
        }
    }
    staged.commit()?;
    state.mark_published(&published)?;
    Ok(removed)
}
