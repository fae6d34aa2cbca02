//! Delivering what waits in the outbox: by SMTP when `[smtp]` is
//! configured, else as `.eml` files in the outbox folder.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::config::{Config, SmtpConfig};
use crate::error_chain::chain;
use crate::state::State;

use super::smtp::{Failure, SendError, Session, smtp_credentials};
use super::{DeliveryOutcome, GivenUp, MailError};

/// Delivers every message waiting in the outbox, whatever its backoff: by SMTP
/// when configured, else as `.eml` files in the outbox folder. A message is
/// marked sent only after the server accepted it (or the file is durable).
///
/// The window: if the process dies after the server accepted a message and
/// before it is marked sent, the next run sends it again (with the same
/// Message-ID); SMTP itself cannot make that exactly-once.
pub async fn deliver_pending(config: &Config, state: &State) -> Result<DeliveryOutcome, MailError> {
    deliver_pending_until(config, state, &AtomicBool::new(false)).await
}

/// [`deliver_pending`], ending a send in progress as soon as `stop` is set (a
/// shutdown request): that message waits as it was.
pub async fn deliver_pending_until(
    config: &Config,
    state: &State,
    stop: &AtomicBool,
) -> Result<DeliveryOutcome, MailError> {
    deliver(config, state, state.pending()?, stop).await
}

/// [`deliver_pending_until`], leaving out the messages `already` tried (by
/// an earlier pass of the same run: see [`DeliveryOutcome::tried`]).
pub async fn deliver_pending_except(
    config: &Config,
    state: &State,
    stop: &AtomicBool,
    already: &[i64],
) -> Result<DeliveryOutcome, MailError> {
    let mut pending = state.pending()?;
    pending.retain(|item| !already.contains(&item.id));
    deliver(config, state, pending, stop).await
}

/// Delivers the waiting message(s) queued under `key` only: an alert goes at
/// once without trying again, in the same run, what that run already tried.
pub async fn deliver_key(
    config: &Config,
    state: &State,
    key: &str,
) -> Result<DeliveryOutcome, MailError> {
    let mut pending = state.pending()?;
    pending.retain(|item| item.key == key);
    deliver(config, state, pending, &AtomicBool::new(false)).await
}

/// How early a message may be taken before its next attempt is due, so a
/// retry woken at the due time does not miss it by a few milliseconds.
const DUE_SLACK: std::time::Duration = std::time::Duration::from_secs(1);

/// Delivers the waiting messages whose backoff has passed (for `serve`'s
/// retries between runs), stopping once `stop` is set.
pub async fn deliver_due(
    config: &Config,
    state: &State,
    stop: &AtomicBool,
) -> Result<DeliveryOutcome, MailError> {
    let by = timestamp(chrono::Utc::now(), DUE_SLACK);
    deliver(config, state, state.pending_due(&by)?, stop).await
}

/// When to try a message again after its `failures`-th failed attempt: the
/// configured backoff, with jitter.
fn next_attempt(config: &Config, failures: i64) -> String {
    let failures = u32::try_from(failures.max(1)).unwrap_or(u32::MAX);
    timestamp(
        chrono::Utc::now(),
        config.delivery.retry.jittered_delay_after(failures),
    )
}

/// `at + after` as RFC 3339 in UTC with milliseconds, as `state::now` writes times.
fn timestamp(at: chrono::DateTime<chrono::Utc>, after: std::time::Duration) -> String {
    chrono::Duration::from_std(after)
        .ok()
        .and_then(|after| at.checked_add_signed(after))
        .unwrap_or(at)
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// How often a send in progress looks at the shutdown flag.
const STOP_POLL: std::time::Duration = std::time::Duration::from_millis(100);

/// Runs `work` until it ends or `stop` is set, whichever comes first
/// (`None`: stopped; `work` is dropped, which closes its connection).
async fn until_stopped<F: std::future::Future>(stop: &AtomicBool, work: F) -> Option<F::Output> {
    let stopped = async {
        while !stop.load(Ordering::SeqCst) {
            tokio::time::sleep(STOP_POLL).await;
        }
    };
    tokio::select! {
        biased;
        output = work => Some(output),
        () = stopped => None,
    }
}

async fn deliver(
    config: &Config,
    state: &State,
    pending: Vec<crate::state::OutboxItem>,
    stop: &AtomicBool,
) -> Result<DeliveryOutcome, MailError> {
    let mut outcome = DeliveryOutcome::default();
    if pending.is_empty() {
        return Ok(outcome);
    }
    let Some(smtp) = &config.smtp else {
        return write_pending_eml(config, state, &pending);
    };
    // Checked at the start of every sending command; here too, for a variable
    // unset between then and now (the messages wait, nothing is tried).
    let mut setup_failure = None;
    let mut session = match smtp_credentials(config) {
        Ok(credentials) => Some(Session::new(smtp, credentials)),
        Err(e) => {
            setup_failure = Some(e.to_string());
            None
        }
    };
    let mut progress = crate::progress::start(crate::progress::Step::Delivery, pending.len());
    for item in pending {
        if stop.load(Ordering::SeqCst) {
            outcome.interrupted = true;
            break;
        }
        let attempt = if let Some(why) = &setup_failure {
            Err(Failure::Transient(why.clone()))
        } else if let Some(session) = session.as_mut() {
            match until_stopped(stop, session.send(&item.recipient, &item.message)).await {
                None => {
                    tracing::warn!(to = %item.recipient, "shutdown requested: the message being sent waits for the next run");
                    outcome.interrupted = true;
                    break;
                }
                Some(Ok(())) => Ok(()),
                Some(Err(SendError::Setup(why))) => {
                    setup_failure = Some(why.clone());
                    Err(Failure::Transient(why))
                }
                Some(Err(SendError::Message(failure))) => Err(failure),
            }
        } else {
            Err(Failure::Transient("no SMTP session".into()))
        };
        record_attempt(config, smtp, state, &item, attempt, &mut outcome)?;
        progress.advance(1, 0);
    }
    if let Some(session) = session
        && !outcome.interrupted
    {
        session.quit().await;
    }
    log_delivery(&outcome, "SMTP");
    Ok(outcome)
}
/// Records one attempt's outcome in the outbox and in `outcome`.
fn record_attempt(
    config: &Config,
    smtp: &SmtpConfig,
    state: &State,
    item: &crate::state::OutboxItem,
    attempt: Result<(), Failure>,
    outcome: &mut DeliveryOutcome,
) -> Result<(), MailError> {
    if attempt.is_err() {
        outcome.tried.push(item.id);
    }
    match attempt {
        Ok(()) => {
            state.mark_sent(item.id)?;
            outcome.delivered += 1;
            tracing::debug!(to = %item.recipient, subject = %item.subject, "delivered");
        }
        Err(Failure::Transient(why)) => {
            let next = next_attempt(config, item.attempts + 1);
            state.mark_failed(item.id, &why, &next)?;
            tracing::warn!(to = %item.recipient, error = %why, next_attempt = %next, "delivery failed; kept in the outbox");
            outcome.failed += 1;
            outcome.errors.push(format!("{}: {why}", item.recipient));
        }
        Err(Failure::Refused(why)) => {
            let next = next_attempt(config, item.attempts + 1);
            let why = format!("refused by the server: {why}");
            if state.mark_refused(item.id, &why, &next, smtp.max_attempts_refused)? {
                tracing::error!(to = %item.recipient, subject = %item.subject, error = %why, refusals = smtp.max_attempts_refused, "message given up: the server refused it every time; it is not retried (see `nhanluc status`)");
                outcome.given_up += 1;
                outcome.given_up_messages.push(GivenUp {
                    id: item.id,
                    kind: item.kind.clone(),
                    text: format!("{}: {}: {why}", item.recipient, item.subject),
                });
            } else {
                tracing::warn!(to = %item.recipient, error = %why, next_attempt = %next, "delivery refused; tried again until [smtp] max_attempts_refused");
                outcome.failed += 1;
                outcome.errors.push(format!("{}: {why}", item.recipient));
            }
        }
    }
    Ok(())
}

/// Delivery in one line at info; each message is a line at debug (`-v`),
/// each failure a warning.
fn log_delivery(outcome: &DeliveryOutcome, by: &str) {
    tracing::info!(
        delivered = outcome.delivered,
        failed = outcome.failed,
        given_up = outcome.given_up,
        interrupted = outcome.interrupted,
        by,
        "delivery finished"
    );
}

/// Without SMTP, messages become `.eml` files in the outbox folder, a batch
/// at a time: written, made durable together, then marked sent together.
fn write_pending_eml(
    config: &Config,
    state: &State,
    pending: &[crate::state::OutboxItem],
) -> Result<DeliveryOutcome, MailError> {
    let mut outcome = DeliveryOutcome::default();
    let mut progress = crate::progress::start(crate::progress::Step::Delivery, pending.len());
    for batch in pending.chunks(EML_PER_BATCH) {
        let mut staged = crate::warehouse::StagedFiles::default();
        let written = batch.iter().try_for_each(|item| {
            staged.stage_bytes(&eml_path(&config.paths.outbox, item), "w", &item.message)
        });
        match written.and_then(|()| staged.commit()) {
            Ok(()) => {
                state.in_transaction(|| {
                    batch.iter().try_for_each(|item| state.mark_sent(item.id))
                })?;
                for item in batch {
                    tracing::debug!(to = %item.recipient, subject = %item.subject, "delivered");
                }
                outcome.delivered += batch.len();
            }
            Err(e) => {
                for item in batch {
                    let why = chain(&e);
                    tracing::warn!(to = %item.recipient, error = %why, "delivery failed; kept in the outbox");
                    state.mark_failed(item.id, &why, &next_attempt(config, item.attempts + 1))?;
                    outcome.errors.push(format!("{}: {why}", item.recipient));
                    outcome.tried.push(item.id);
                }
                outcome.failed += batch.len();
            }
        }
        progress.advance(batch.len(), 0);
    }
    log_delivery(&outcome, ".eml files");
    Ok(outcome)
}

const EML_PER_BATCH: usize = 256;

/// Where outbox item `item` is written as an `.eml` file in the folder
/// `dir` when there is no SMTP server.
pub fn eml_path(dir: &Path, item: &crate::state::OutboxItem) -> std::path::PathBuf {
    dir.join(format!(
        "{:06}-{}-{}.eml",
        item.id,
        item.kind,
        crate::model::names::safe_file_name(&item.recipient.replace('@', "_at_"))
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stop_ends_the_wait_and_a_finished_send_wins() {
        let stop = AtomicBool::new(true);
        assert_eq!(
            until_stopped(&stop, std::future::pending::<()>()).await,
            None
        );
        assert_eq!(until_stopped(&stop, async { 7 }).await, Some(7));
    }
}
