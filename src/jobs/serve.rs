//! `nhanluc serve`: every job on its schedule (tokio-cron-scheduler, in the
//! job's time zone), ingest as soon as files land (notify), one run at a time,
//! catch-up of runs missed while the service was down, retries of the outbox
//! between runs as each message's backoff passes, and a clean stop on
//! SIGTERM or SIGINT that lets the current step finish — except a mail
//! delivery, which is ended at once (the message being sent waits for the
//! next run, not counted as an attempt: it was us, not the server).

use std::collections::VecDeque;
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio_cron_scheduler::{Job, JobScheduler};

use crate::config::{CatchUp, Config, JobSpec, Step};
use crate::state::State;

use super::{JobError, RunLock, run_job_until, run_steps};

/// The name under which ingest-on-arrival runs are recorded.
pub(crate) const ARRIVAL_JOB: &str = "arrival";
/// How often the scheduler records how far it has watched the schedules.
const MARK_EVERY: Duration = Duration::from_secs(20);
/// The longest the service goes without looking at the outbox: a message
/// another process left waiting (a `nhanluc digest` from cron while SMTP was
/// down) is noticed this late at most.
const OUTBOX_POLL: Duration = Duration::from_secs(60);
/// The shortest wait before an outbox retry, so a clock step or an unreadable
/// due time never makes the service spin.
const OUTBOX_MIN_WAIT: Duration = Duration::from_secs(1);
/// How long to leave the outbox alone when another process holds the run
/// lock: that run sends what waits anyway.
const OUTBOX_BUSY_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Request {
    Job(String),
    Arrival,
    /// Send the outbox's messages whose backoff has passed.
    Outbox,
}

/// Holds the service lock: one `serve` per state database.
struct ServiceLock {
    _file: File,
}

impl ServiceLock {
    fn acquire(config: &Config) -> Result<ServiceLock, JobError> {
        let path = service_lock_path(config);
        match super::try_lock_file(&path)? {
            Some(file) => Ok(ServiceLock { _file: file }),
            None => Err(JobError::ServiceRunning(path)),
        }
    }
}

fn parse_cron(expr: &str) -> Option<croner::Cron> {
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Required)
        .dom_and_dow(true)
        .build()
        .parse(expr)
        .ok()
}

/// The next time a job is due, in its time zone.
pub fn next_run(job: &JobSpec, after: DateTime<Utc>) -> Option<DateTime<chrono_tz::Tz>> {
    parse_cron(&job.schedule)?
        .find_next_occurrence(&after.with_timezone(&job.timezone), false)
        .ok()
}

/// Whether an occurrence of the job's schedule fell in (`seen_until`, `now`]:
/// a run the service missed while it was down.
pub(crate) fn missed_since(job: &JobSpec, seen_until: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    next_run(job, seen_until).is_some_and(|next| next.with_timezone(&Utc) <= now)
}

/// Runs the service until SIGTERM or SIGINT.
pub async fn serve(config: Arc<Config>) -> Result<(), JobError> {
    let _service = ServiceLock::acquire(&config)?;
    let state = crate::rebuild::open_checked(&config)?;
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, mut rx) = mpsc::unbounded_channel::<Request>();

    // Catch-up first, from what the last service saw, then mark now.
    let now = Utc::now();
    for (name, job) in &config.jobs {
        let seen = state
            .seen_until(name)?
            .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
            .map(|t| t.with_timezone(&Utc));
        if let Some(seen) = seen
            && missed_since(job, seen, now)
        {
            match job.catch_up {
                CatchUp::Once => {
                    tracing::warn!(job = %name, since = %seen, "a scheduled run was missed while the service was down: running it once now");
                    let _ = tx.send(Request::Job(name.clone()));
                }
                CatchUp::Skip => {
                    tracing::warn!(job = %name, since = %seen, "a scheduled run was missed while the service was down: skipped (catch_up = \"skip\")")
                }
            }
        }
        match next_run(job, now) {
            Some(next) => {
                tracing::info!(job = %name, schedule = %job.schedule, next = %next.format("%Y-%m-%d %H:%M:%S %:z"), "scheduled")
            }
            None => {
                tracing::warn!(job = %name, schedule = %job.schedule, "the schedule has no future occurrence")
            }
        }
    }
    mark_seen(&state, &config, now);

    let mut scheduler = JobScheduler::new().await.map_err(JobError::Scheduler)?;
    for (name, job) in &config.jobs {
        let schedule_error = |source| JobError::Schedule {
            job: name.clone(),
            file: job.file.clone(),
            schedule: job.schedule.clone(),
            source,
        };
        let tx = tx.clone();
        let name = name.clone();
        let scheduled = Job::new_async_tz(
            job.schedule.as_str(),
            job.timezone,
            move |_id, _scheduler| {
                let tx = tx.clone();
                let name = name.clone();
                Box::pin(async move {
                    let _ = tx.send(Request::Job(name));
                })
            },
        )
        .map_err(schedule_error)?;
        scheduler.add(scheduled).await.map_err(schedule_error)?;
    }
    scheduler.start().await.map_err(JobError::Scheduler)?;

    // The demo's inbox is filled before the first look at it, so its
    // workbooks are taken at start-up, not at the first scheduled run.
    if let Err(e) = crate::ingest::inbox::fill_from_demo(&config) {
        tracing::warn!(error = %crate::error_chain::Chain(&e), "cannot fill the demo inbox");
    }
    let _watcher = if config.serve.watch_inbox {
        Some(watch_inbox(&config.paths.inbox, tx.clone())?)
    } else {
        None
    };
    if inbox_has_files(&config.paths.inbox) {
        let _ = tx.send(Request::Arrival);
    }

    // Periodic marks, so a crash loses at most MARK_EVERY of schedule
    // knowledge; and a look at the inbox, for shared folders (SMB, NFS) whose
    // changes the watcher does not hear.
    let marker = {
        let config = Arc::clone(&config);
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(MARK_EVERY);
            interval.tick().await;
            loop {
                interval.tick().await;
                if let Ok(state) = crate::rebuild::open_checked(&config) {
                    mark_seen(&state, &config, Utc::now());
                }
                if config.serve.watch_inbox && inbox_has_files(&config.paths.inbox) {
                    let _ = tx.send(Request::Arrival);
                }
            }
        })
    };

    let signals = {
        let stop = Arc::clone(&stop);
        let tx = tx.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::warn!(
                "shutdown requested: the current step finishes (a mail delivery ends now), no new run starts"
            );
            stop.store(true, Ordering::SeqCst);
            // Wakes the worker if it is idle.
            let _ = tx.send(Request::Arrival);
        })
    };
    tracing::info!(
        jobs = config.jobs.len(),
        watch = config.serve.watch_inbox,
        "nhanluc serve started"
    );

    let settle = Duration::from_secs(config.ingest.settle_seconds + 1);
    let mut queue: VecDeque<Request> = VecDeque::new();
    // When idle, the worker wakes for the outbox as its first message falls due.
    let mut outbox_not_before = tokio::time::Instant::now();
    // Whether the operator was told that runs are refused for a lost state.
    let mut told_state_refused = false;
    loop {
        if queue.is_empty() {
            let wait = outbox_wait(&state, outbox_not_before);
            match tokio::time::timeout(wait, rx.recv()).await {
                Ok(Some(request)) => queue.push_back(request),
                Ok(None) => break,
                Err(_elapsed) => queue.push_back(Request::Outbox),
            }
        }
        if stop.load(Ordering::SeqCst) {
            break;
        }
        // Drain what else arrived, dropping duplicates of waiting requests.
        while let Ok(request) = rx.try_recv() {
            if !queue.contains(&request) {
                queue.push_back(request);
            }
        }
        let Some(request) = queue.pop_front() else {
            continue;
        };
        let result = match &request {
            Request::Outbox => {
                let pause = retry_outbox(&config, &state, &stop).await;
                outbox_not_before = tokio::time::Instant::now() + pause;
                continue;
            }
            Request::Job(name) => run_job_until(&config, name, &stop).await,
            Request::Arrival => {
                // Debounce: wait until files stop arriving for a moment.
                loop {
                    match tokio::time::timeout(settle, rx.recv()).await {
                        Ok(Some(Request::Arrival)) => continue,
                        Ok(Some(other)) => {
                            if !queue.contains(&other) {
                                queue.push_back(other);
                            }
                        }
                        Ok(None) | Err(_) => break,
                    }
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                }
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                run_steps(&config, ARRIVAL_JOB, &[Step::Ingest, Step::Feedback], &stop).await
            }
        };
        match result {
            Ok(run) => {
                told_state_refused = false;
                // Files still being copied: look again once they settle; a
                // file that looks cut short only once it may be quarantined
                // as incomplete (a look every few seconds would only record
                // a run each time).
                let again = if run.counts.files_waiting > run.counts.files_incomplete {
                    Some(settle)
                } else if run.counts.files_incomplete > 0 {
                    Some(config.ingest.incomplete_after + settle)
                } else {
                    None
                };
                if let Some(after) = again {
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(after).await;
                        let _ = tx.send(Request::Arrival);
                    });
                }
            }
            Err(JobError::Busy(path)) => {
                tracing::warn!(lock = %path.display(), request = ?request, "another nhanluc run holds the lock: this run is skipped");
            }
            Err(JobError::State(crate::state::StateError::Lost(lost))) => {
                let error = lost.to_string();
                tracing::error!(request = ?request, %error, "run could not start");
                // Once until a run starts again, not at every arrival or tick.
                if !told_state_refused {
                    told_state_refused = true;
                    super::alerts::state_refused(&config, "serve", &error).await;
                }
            }
            Err(e) => {
                tracing::error!(request = ?request, error = %crate::error_chain::Chain(&e), "run could not start")
            }
        }
        if stop.load(Ordering::SeqCst) {
            break;
        }
    }

    let _ = scheduler.shutdown().await;
    marker.abort();
    signals.abort();
    mark_seen(&state, &config, Utc::now());
    tracing::info!("nhanluc serve stopped");
    Ok(())
}

/// How long the idle worker may wait before retrying the outbox: until its
/// first message is due, at most [`OUTBOX_POLL`], at least [`OUTBOX_MIN_WAIT`]
/// and not before `not_before`.
fn outbox_wait(state: &State, not_before: tokio::time::Instant) -> Duration {
    let until_due = match state.next_outbox_attempt() {
        Ok(Some(due)) => (due - Utc::now()).to_std().unwrap_or(Duration::ZERO),
        Ok(None) => OUTBOX_POLL,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read when the outbox is due");
            OUTBOX_POLL
        }
    };
    let floor =
        OUTBOX_MIN_WAIT.max(not_before.saturating_duration_since(tokio::time::Instant::now()));
    until_due.min(OUTBOX_POLL).max(floor)
}

/// Sends the outbox's messages whose backoff has passed, under the run lock
/// taken without waiting. Returns how long to leave the outbox alone.
async fn retry_outbox(config: &Config, state: &State, stop: &AtomicBool) -> Duration {
    let due_now = match state.next_outbox_attempt() {
        Ok(next) => next.is_some_and(|due| due <= Utc::now() + chrono::Duration::seconds(1)),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read when the outbox is due");
            return OUTBOX_POLL;
        }
    };
    if !due_now {
        return OUTBOX_MIN_WAIT;
    }
    let _lock = match RunLock::acquire(config) {
        Ok(lock) => lock,
        Err(JobError::Busy(_)) => {
            tracing::debug!(
                "a run holds the lock: the outbox is retried a little later, if that run leaves anything"
            );
            return OUTBOX_BUSY_WAIT;
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot retry the outbox");
            return OUTBOX_POLL;
        }
    };
    match crate::mail::deliver_due(config, state, stop).await {
        Ok(outcome) if outcome.given_up > 0 => {
            tracing::error!(
                delivered = outcome.delivered,
                given_up = outcome.given_up,
                messages = %outcome.given_up_text(),
                "outbox retried: messages refused by the server every time are given up (see `nhanluc status`)"
            );
            if let Some((ids, note)) = outcome.given_up_note() {
                super::alerts::mail_given_up(
                    config,
                    state,
                    "the outbox retry of `nhanluc serve`",
                    &ids,
                    &note,
                )
                .await;
            }
        }
        Ok(outcome) if outcome.failed > 0 => {
            let next = state
                .next_outbox_attempt()
                .ok()
                .flatten()
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            tracing::warn!(
                delivered = outcome.delivered,
                failed = outcome.failed,
                next = next.as_deref().unwrap_or("-"),
                "outbox retried: some messages still wait"
            );
        }
        Ok(outcome) if outcome.delivered > 0 => {
            tracing::info!(
                delivered = outcome.delivered,
                "outbox retried: waiting messages sent"
            );
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %e, "outbox retry failed");
            return OUTBOX_POLL;
        }
    }
    OUTBOX_MIN_WAIT
}

fn mark_seen(state: &State, config: &Config, at: DateTime<Utc>) {
    let text = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for name in config.jobs.keys() {
        if let Err(e) = state.set_seen_until(name, &text) {
            tracing::warn!(job = %name, error = %crate::error_chain::Chain(&e), "cannot record the schedule mark");
        }
    }
}

fn inbox_has_files(inbox: &std::path::Path) -> bool {
    fn any_file(dir: &std::path::Path, depth: usize) -> bool {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return false;
        };
        entries.flatten().any(|e| {
            let path = e.path();
            if path.is_dir() {
                depth < 4 && any_file(&path, depth + 1)
            } else {
                !crate::ingest::is_transient_name(&e.file_name().to_string_lossy())
            }
        })
    }
    any_file(inbox, 0)
}

fn watch_inbox(
    inbox: &std::path::Path,
    tx: mpsc::UnboundedSender<Request>,
) -> Result<notify::RecommendedWatcher, JobError> {
    std::fs::create_dir_all(inbox).map_err(|source| JobError::Inbox {
        path: inbox.to_path_buf(),
        source,
    })?;
    let watch_error = |source| JobError::Watch {
        path: inbox.to_path_buf(),
        source,
    };
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && (event.kind.is_create() || event.kind.is_modify())
            // Files leaving the inbox (archived) are no news. A new folder is:
            // a file copied into it at once may beat the watch on it.
            && event.paths.iter().any(|p| p.exists())
        {
            let _ = tx.send(Request::Arrival);
        }
    })
    .map_err(watch_error)?;
    watcher
        .watch(inbox, RecursiveMode::Recursive)
        .map_err(watch_error)?;
    tracing::info!(inbox = %inbox.display(), "watching the inbox");
    Ok(watcher)
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Paths a test or operator may want: the service lock file.
pub(crate) fn service_lock_path(config: &Config) -> PathBuf {
    config.paths.state.with_extension("serve.lock")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn job(schedule: &str) -> JobSpec {
        JobSpec {
            name: "nightly".into(),
            file: PathBuf::from("nightly.toml"),
            schedule: schedule.into(),
            timezone: chrono_tz::Asia::Ho_Chi_Minh,
            steps: vec![Step::Ingest],
            catch_up: CatchUp::Once,
        }
    }

    #[test]
    fn next_run_is_in_the_jobs_time_zone() {
        // 02:00 in Hanoi is 19:00 UTC the day before.
        let now = Utc
            .with_ymd_and_hms(2026, 11, 23, 12, 0, 0)
            .single()
            .expect("time");
        let next = next_run(&job("0 0 2 * * *"), now).expect("next");
        assert_eq!(
            next.with_timezone(&Utc),
            Utc.with_ymd_and_hms(2026, 11, 23, 19, 0, 0)
                .single()
                .expect("time")
        );
    }

    #[test]
    fn a_run_missed_while_down_is_detected() {
        let nightly = job("0 0 2 * * *");
        let seen = Utc
            .with_ymd_and_hms(2026, 11, 23, 18, 0, 0)
            .single()
            .expect("time");
        let before = Utc
            .with_ymd_and_hms(2026, 11, 23, 18, 59, 0)
            .single()
            .expect("time");
        let after = Utc
            .with_ymd_and_hms(2026, 11, 23, 19, 5, 0)
            .single()
            .expect("time");
        assert!(!missed_since(&nightly, seen, before));
        assert!(missed_since(&nightly, seen, after));
    }
}
