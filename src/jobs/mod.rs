//! Jobs: run the steps of a job file in order, one run at a time, recorded in
//! the state database.

pub mod alerts;
pub mod serve;

use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::config::{Config, Step};
use crate::digest::{self, DigestError};
use crate::indicators::{self, IndicatorError};
use crate::ingest::{self, IngestError};
use crate::mail::{self, DeliveryOutcome, MailError};
use crate::model::report::Outcome;
use crate::model::status::RunStatus;
use crate::notify::NotifyError;
use crate::state::{State, StateError};

/// Why a job's run failed: the step and its cause.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("no job {name:?} in {dir} (jobs there: {known})")]
    UnknownJob {
        name: String,
        dir: PathBuf,
        known: String,
    },
    #[error("another nhanluc run holds the lock {0} (one run at a time); try again when it ends")]
    Busy(PathBuf),
    #[error("cannot take the run lock {path}")]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("another `nhanluc serve` runs on this state (lock {0}); stop it first")]
    ServiceRunning(PathBuf),
    #[error("cannot start the job scheduler")]
    Scheduler(#[source] tokio_cron_scheduler::JobSchedulerError),
    #[error("cannot schedule job {job} ({file}) on {schedule:?}")]
    Schedule {
        job: String,
        file: PathBuf,
        schedule: String,
        source: tokio_cron_scheduler::JobSchedulerError,
    },
    #[error("cannot create the inbox {path} to watch it")]
    Inbox {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cannot watch the inbox {path} (set [serve] watch_inbox = false to rely on the schedule)"
    )]
    Watch {
        path: PathBuf,
        source: notify::Error,
    },
    #[error("stopped by a shutdown request before step {before}")]
    Stopped { before: &'static str },
    #[error("ingest")]
    Ingest(#[from] IngestError),
    #[error("indicators")]
    Indicators(#[from] IndicatorError),
    /// Indicator files that failed, each with its own cause (as text: there are several).
    #[error("{count} indicator file(s) failed: {files}")]
    IndicatorFiles { count: usize, files: String },
    #[error("digest")]
    Digest(#[from] DigestError),
    // Said "digest" as when the departments' mail and the delivery were part
    // of the digest: a run's error reads as it did.
    #[error("digest")]
    Notify(#[from] NotifyError),
    #[error("digest")]
    Mail(#[from] MailError),
    /// Recipients whose indicators are missing (fail closed): a failure
    /// of the data, not of the mail, so it fails the step.
    #[error("digest not sent to every recipient: {0}")]
    IncompleteDigest(String),
    /// Mail that could not go this time and waits, retried with the backoff.
    /// Never a step error (the job goes on, the run succeeds): a warning
    /// the run prints, in [`RunResult::mail`].
    #[error("{failed} message(s) could not be delivered and wait in the outbox: {errors}")]
    Delivery { failed: usize, errors: String },
    /// Mail the server refused `[smtp] max_attempts_refused` times, marked
    /// failed and no longer retried: a warning with an alert, in
    /// [`RunResult::mail`], never a step error.
    #[error(
        "{count} message(s) refused by the mail server every time are given up and not retried (see `nhanluc status`): {messages}"
    )]
    Undeliverable { count: usize, messages: String },
    #[error(
        "stopped by a shutdown request while sending mail: the message being sent and those after it wait for the next run"
    )]
    StoppedInDelivery,
    #[error(transparent)]
    State(#[from] StateError),
    /// Warehouse parts missing or damaged and not rebuilt.
    #[error(transparent)]
    Parts(#[from] crate::rebuild::PartsError),
}

/// Holds the run lock for as long as it lives: an OS lock on a file beside the
/// state database, released by the OS even if the process is killed.
pub struct RunLock {
    _file: File,
}

impl RunLock {
    /// Takes the run lock beside the state database (one run at a time), or
    /// fails with `Busy` when another process holds it.
    pub fn acquire(config: &Config) -> Result<RunLock, JobError> {
        let path = config.paths.state.with_extension("lock");
        match try_lock_file(&path)? {
            Some(file) => Ok(RunLock { _file: file }),
            None => Err(JobError::Busy(path)),
        }
    }
}

/// Takes an exclusive OS lock on `path` (created if missing), released by the
/// OS when the file is closed or the process dies. `None`: someone holds it.
pub(crate) fn try_lock_file(path: &std::path::Path) -> Result<Option<File>, JobError> {
    let error = |source| JobError::Lock {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(error)?;
    }
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(error)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(source)) => Err(error(source)),
    }
}

/// Counts of a run, recorded in the state database and printed.
#[derive(Debug, Default, Clone, Serialize)]
pub struct RunCounts {
    pub files_fetched: usize,
    pub sources_failed: usize,
    pub files_accepted: usize,
    pub files_duplicate: usize,
    pub files_quarantined: usize,
    pub files_waiting: usize,
    /// Of `files_waiting`, those that look incomplete (cut short).
    pub files_incomplete: usize,
    pub rows_loaded: usize,
    pub rows_rejected: usize,
    pub rows_skipped: usize,
    pub indicator_periods: usize,
    pub indicator_rows: usize,
    pub indicator_failures: usize,
    pub messages_queued: usize,
    pub messages_delivered: usize,
    /// Delivery attempts that failed this run: those messages wait and are
    /// retried with the backoff.
    pub messages_waiting: usize,
    /// Messages given up this run (refused `[smtp] max_attempts_refused`
    /// times): marked failed, never retried automatically.
    pub messages_failed: usize,
}

impl RunCounts {
    /// Counts what an ingest step did.
    pub(crate) fn add_ingest(&mut self, report: &ingest::IngestReport) {
        self.files_incomplete += report.incomplete;
        for file in &report.files {
            match file.outcome {
                Outcome::Accepted { .. } => self.files_accepted += 1,
                Outcome::Duplicate { .. } => self.files_duplicate += 1,
                Outcome::Quarantined { .. } => self.files_quarantined += 1,
                Outcome::Waiting { .. } => self.files_waiting += 1,
            }
            let (loaded, rejected, skipped) = file.rows();
            self.rows_loaded += loaded;
            self.rows_rejected += rejected;
            self.rows_skipped += skipped;
        }
    }

    /// Counts what an indicators step computed.
    pub(crate) fn add_indicators(&mut self, outcome: &indicators::IndicatorOutcome) {
        self.indicator_periods += outcome.periods.len();
        self.indicator_rows += outcome.periods.values().map(Vec::len).sum::<usize>();
        self.indicator_failures += outcome.failures.len();
    }

    /// Counts what a delivery did.
    pub(crate) fn add_delivery(&mut self, delivery: &DeliveryOutcome) {
        self.messages_delivered += delivery.delivered;
        self.messages_waiting += delivery.failed;
        self.messages_failed += delivery.given_up;
    }
}

/// The result of a job run: its counts, and the first error that failed it.
pub struct RunResult {
    pub run_id: i64,
    pub status: RunStatus,
    pub counts: RunCounts,
    pub error: Option<JobError>,
    /// What the mail step could not do, which does not fail the run:
    /// [`JobError::Delivery`] (waits, retried) and [`JobError::Undeliverable`]
    /// (given up), to print as warnings.
    pub mail: Vec<JobError>,
}

/// Runs a job now: takes the lock, records the run, runs each step in order,
/// stops at the first failing step.
pub async fn run_job(config: &Config, name: &str) -> Result<RunResult, JobError> {
    run_job_until(config, name, &AtomicBool::new(false)).await
}

/// Like [`run_job`], but stops between steps once `stop` is set (a shutdown
/// request): the current step always finishes.
pub(crate) async fn run_job_until(
    config: &Config,
    name: &str,
    stop: &AtomicBool,
) -> Result<RunResult, JobError> {
    let job = config.jobs.get(name).ok_or_else(|| JobError::UnknownJob {
        name: name.to_string(),
        dir: config.paths.jobs.clone(),
        known: config.jobs.keys().cloned().collect::<Vec<_>>().join(", "),
    })?;
    run_steps(config, name, &job.steps, stop).await
}

/// Runs `steps` as a recorded run named `name`, then tells the operator if it failed.
pub(crate) async fn run_steps(
    config: &Config,
    name: &str,
    steps: &[Step],
    stop: &AtomicBool,
) -> Result<RunResult, JobError> {
    let _lock = RunLock::acquire(config)?;
    let mut state = crate::rebuild::open_checked(config)?;
    state.mark_interrupted_runs()?;
    let run_id = state.start_run(name)?;
    tracing::info!(job = name, run = run_id, steps = ?steps.iter().map(|s| s.as_str()).collect::<Vec<_>>(), "run started");
    alerts::ping(config, alerts::Ping::Start).await;
    let mut counts = RunCounts::default();
    let mut delivery = DeliveryOutcome::default();
    // Parts are checked once per run before the first step that reads them,
    // again only after an ingest wrote new ones.
    let mut parts_checked = false;
    let mut error = None;
    let mut status = RunStatus::Succeeded;
    for (index, step) in steps.iter().enumerate() {
        if index > 0 && stop.load(Ordering::SeqCst) {
            tracing::warn!(
                job = name,
                next = step.as_str(),
                "stopping between steps: shutdown requested"
            );
            status = RunStatus::Interrupted;
            error = Some(JobError::Stopped {
                before: step.as_str(),
            });
            break;
        }
        tracing::info!(job = name, step = step.as_str(), "step started");
        let result = run_step(
            config,
            &mut state,
            *step,
            &mut counts,
            &mut delivery,
            &mut parts_checked,
            stop,
        )
        .await;
        if let Err(e) = result {
            tracing::error!(job = name, step = step.as_str(), error = %crate::error_chain::Chain(&e), "step failed");
            status = RunStatus::Failed;
            error = Some(e);
            break;
        }
        if delivery.interrupted {
            tracing::warn!(
                job = name,
                step = step.as_str(),
                "stopped while sending mail: shutdown requested"
            );
            status = RunStatus::Interrupted;
            error = Some(JobError::StoppedInDelivery);
            break;
        }
    }
    counts.add_delivery(&delivery);
    let mail = mail_warnings(&delivery);
    for warning in &mail {
        tracing::warn!(job = name, warning = %warning, "mail not delivered; the run goes on");
    }
    let counts_json = serde_json::to_string(&counts).unwrap_or_default();
    let message = error.as_ref().map(|e| crate::error_chain::chain(e));
    // Given-up mail is told to the operator, whether the run failed or not.
    let mail_note = delivery.given_up_note();
    state.finish_run(run_id, status, &counts_json, message.as_deref())?;
    tracing::info!(
        job = name,
        run = run_id,
        status = status.as_str(),
        "run finished"
    );
    match status {
        RunStatus::Succeeded => {
            alerts::ping(config, alerts::Ping::Success).await;
            if let Some((ids, note)) = &mail_note {
                let origin = format!("job {name} (run {run_id})");
                alerts::mail_given_up(config, &state, &origin, ids, note).await;
            }
        }
        RunStatus::Failed => {
            alerts::ping(config, alerts::Ping::Fail).await;
            let mut text = message.clone().unwrap_or_default();
            if let Some((_, note)) = &mail_note {
                text = format!("{text}; also {note}");
            }
            alerts::run_failed(config, &state, name, run_id, &text).await;
        }
        RunStatus::Interrupted => {}
    }
    Ok(RunResult {
        run_id,
        status,
        counts,
        error,
        mail,
    })
}

/// The run's mail that did not go, as warnings: what waits (retried), what
/// was given up.
fn mail_warnings(delivery: &DeliveryOutcome) -> Vec<JobError> {
    let mut warnings = Vec::new();
    if delivery.failed > 0 {
        warnings.push(JobError::Delivery {
            failed: delivery.failed,
            errors: by_cause(&delivery.errors),
        });
    }
    if delivery.given_up > 0 {
        warnings.push(JobError::Undeliverable {
            count: delivery.given_up,
            messages: delivery.given_up_text(),
        });
    }
    warnings
}

/// Sends what waits in the outbox, but for what this run already tried (a
/// message is tried once per run). A message that does not go is the mail's
/// own matter: it waits (or is given up) and is reported in the run's
/// `delivery`, never a step error; only the state database failing is.
async fn deliver(
    config: &Config,
    state: &State,
    delivery: &mut DeliveryOutcome,
    stop: &AtomicBool,
) -> Result<(), JobError> {
    let tried = delivery.tried.clone();
    delivery.add(mail::deliver_pending_except(config, state, stop, &tried).await?);
    Ok(())
}

/// Delivery errors ("<recipient>: <why>") grouped by cause, so a server that is
/// down is said once, not once per recipient: "<why> (to a, b)".
fn by_cause(errors: &[String]) -> String {
    // (cause, [(recipient, how many messages)])
    let mut causes: Vec<(&str, Vec<(&str, usize)>)> = Vec::new();
    for error in errors {
        let (to, why) = error.split_once(": ").unwrap_or(("", error));
        let recipients = match causes.iter_mut().find(|(known, _)| *known == why) {
            Some((_, recipients)) => recipients,
            None => {
                causes.push((why, Vec::new()));
                match causes.last_mut() {
                    Some((_, recipients)) => recipients,
                    None => continue,
                }
            }
        };
        match recipients.iter_mut().find(|(known, _)| *known == to) {
            Some((_, count)) => *count += 1,
            None => recipients.push((to, 1)),
        }
    }
    causes
        .iter()
        .map(|(why, to)| {
            let to: Vec<String> = to
                .iter()
                .map(|(to, count)| match count {
                    1 => to.to_string(),
                    n => format!("{to} ×{n}"),
                })
                .collect();
            format!("{why} (to {})", to.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

async fn run_step(
    config: &Config,
    state: &mut State,
    step: Step,
    counts: &mut RunCounts,
    delivery: &mut DeliveryOutcome,
    parts_checked: &mut bool,
    stop: &AtomicBool,
) -> Result<(), JobError> {
    match step {
        Step::Ingest => {
            *parts_checked = false;
            let report = ingest::ingest(config, state, &[])?;
            counts.add_ingest(&report);
            // Another engine may read the warehouse after an ingest-only run.
            indicators::publish_contract(config)?;
            if !report.stopped_reader.is_empty() {
                alerts::reader_stopped(config, state, "ingest", &report.stopped_reader).await;
            }
        }
        Step::Indicators => {
            // Never computed over a missing or damaged part.
            if !*parts_checked {
                crate::rebuild::ensure_parts(config, state)?;
                *parts_checked = true;
            }
            let outcome = indicators::compute(config, None).await?;
            counts.add_indicators(&outcome);
            if !outcome.failures.is_empty() {
                return Err(JobError::IndicatorFiles {
                    count: outcome.failures.len(),
                    files: outcome
                        .failures
                        .iter()
                        .map(|f| format!("{}: {}", f.file, f.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                });
            }
        }
        Step::Digest => {
            // No digest from incomplete data; what already waits still goes.
            if !*parts_checked {
                if let Err(e) = crate::rebuild::ensure_parts(config, state) {
                    deliver(config, state, delivery, stop).await?;
                    return Err(e.into());
                }
                *parts_checked = true;
            }
            // Built and queued first, whatever the mail server does; what
            // waits is sent even when nothing could be built.
            let result = digest::build(config, state, None);
            deliver(config, state, delivery, stop).await?;
            if matches!(result, Err(DigestError::NoIndicators)) && nothing_accepted_yet(state)? {
                // Day one: an empty inbox is not a broken run. Indicators
                // missing while data exists still fail (fail closed).
                tracing::warn!(
                    "nothing to report yet: no workbook has been accepted, so there is no digest to send"
                );
                return Ok(());
            }
            let outcome = result?;
            counts.messages_queued += outcome.queued;
            if !outcome.incomplete.is_empty() {
                return Err(JobError::IncompleteDigest(
                    outcome
                        .incomplete
                        .iter()
                        .map(|(to, missing)| format!("{to}: missing {missing}"))
                        .collect::<Vec<_>>()
                        .join("; "),
                ));
            }
        }
        Step::Fetch => {
            let outcome = ingest::fetch::fetch_sources(config, state).await;
            counts.files_fetched += outcome.fetched;
            counts.sources_failed += outcome.failed.len();
        }
        Step::Feedback => {
            // What was queued is sent even if one entry could not be answered.
            // A bare `notify` is the inbox watcher's crate here.
            let queued = crate::notify::queue_feedback(config, state);
            if let Ok(outcome) = &queued {
                counts.messages_queued += outcome.queued;
            }
            deliver(config, state, delivery, stop).await?;
            queued?;
        }
        Step::Reminders => {
            let today = chrono::Utc::now()
                .with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
                .date_naive();
            let outcome = crate::notify::queue_reminders(config, state, today)?;
            counts.messages_queued += outcome.queued;
            deliver(config, state, delivery, stop).await?;
        }
    }
    Ok(())
}

/// True before any workbook has been accepted: there is nothing to report.
fn nothing_accepted_yet(state: &State) -> Result<bool, JobError> {
    Ok(!state.submissions()?.iter().any(|s| s.status.was_accepted()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_errors_are_grouped_by_cause() {
        let errors = [
            "a@x.vn: Connection error: Connection refused (os error 111)".to_string(),
            "b@x.vn: Connection error: Connection refused (os error 111)".to_string(),
            "c@x.vn: permanent error (550): no such user".to_string(),
        ];
        assert_eq!(
            by_cause(&errors),
            "Connection error: Connection refused (os error 111) (to a@x.vn, b@x.vn); permanent error (550): no such user (to c@x.vn)"
        );
    }

    #[test]
    fn a_recipient_with_several_waiting_messages_is_named_once_with_their_count() {
        let errors = [
            "a@x.vn: down".to_string(),
            "a@x.vn: down".to_string(),
            "b@x.vn: down".to_string(),
            "a@x.vn: down".to_string(),
        ];
        assert_eq!(by_cause(&errors), "down (to a@x.vn ×3, b@x.vn)");
    }
}
