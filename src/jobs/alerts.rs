//! Telling the operator: a failed run is mailed (through the outbox) and
//! POSTed to a webhook; dead-man's-switch pings mark each run's start and end,
//! so silence is noticed too. Every HTTP call has a timeout and a few retries,
//! and a dead endpoint never fails the job: it is only logged.

use std::time::Duration;

use sha2::Digest;

use crate::config::Config;
use crate::error_chain::Chain;
use crate::mail::{self, Outgoing};
use crate::retry::Backoff;
use crate::state::State;

/// Attempts at each HTTP call, spaced by [`Backoff::ALERT_HTTP`]: the run
/// waits for them, so they are few and short.
const ATTEMPTS: u32 = 3;

/// Which moment of a run a dead-man's-switch ping marks: its start, its
/// success or its failure.
#[derive(Debug, Clone, Copy)]
pub enum Ping {
    Start,
    Success,
    Fail,
}

fn client(config: &Config) -> Option<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(config.alerts.timeout_seconds))
        .user_agent(concat!("nhanluc/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| tracing::warn!(error = %Chain(&e), "cannot build the HTTP client for alerts"))
        .ok()
}

/// Pings the configured URL for this moment of a run, if any.
pub async fn ping(config: &Config, which: Ping) {
    let url = match which {
        Ping::Start => &config.alerts.ping_start,
        Ping::Success => &config.alerts.ping_success,
        Ping::Fail => &config.alerts.ping_fail,
    };
    let Some(url) = url else { return };
    let Some(client) = client(config) else { return };
    send_with_retries(|| client.get(url), url).await;
}

/// Tells the operator a run failed: an email to `[alerts] email` and a JSON
/// POST to `[alerts] webhook`. `error` names the given-up mail too, if any.
pub(crate) async fn run_failed(
    config: &Config,
    state: &State,
    job: &str,
    run_id: i64,
    error: &str,
) {
    let host = hostname();
    tell(
        config,
        state,
        Alert {
            key: format!("alert/run/{run_id}"),
            subject: format!("[nhanluc] Job {job} failed on {host}"),
            summary: format!("nhanluc on {host}: job {job} (run {run_id}) failed: {error}"),
            status: "failed",
            job,
            run_id: Some(run_id),
            error,
            host: &host,
        },
    )
    .await;
}

/// Tells the operator that messages the mail server refused every time were
/// given up (they are not retried) by `origin` (a run that otherwise
/// succeeded, `serve`'s outbox retry, `nhanluc digest`): the same email and
/// webhook as a failed run, with `"status": "mail_failed"`. Once per set of
/// messages (the outbox key is made of their ids).
pub async fn mail_given_up(config: &Config, state: &State, origin: &str, ids: &[i64], note: &str) {
    let host = hostname();
    let ids_text: Vec<String> = ids.iter().map(i64::to_string).collect();
    tell(
        config,
        state,
        Alert {
            key: format!("alert/mail/{}", ids_text.join(",")),
            subject: format!("[nhanluc] Mail given up on {host}"),
            summary: format!("nhanluc on {host}: {origin}: {note}"),
            status: "mail_failed",
            job: origin,
            run_id: None,
            error: note,
            host: &host,
        },
    )
    .await;
}

/// Tells the operator that files stopped the reader (it ran out of memory or
/// time on them, or crashed) and were quarantined: their departments are
/// told by their feedback, but a file built to harm the service, or a limit
/// set too low for real workbooks, is the analyst's to look at. With
/// `"status": "reader_stopped"`; once per set of files.
pub(crate) async fn reader_stopped(config: &Config, state: &State, job: &str, files: &[String]) {
    let host = hostname();
    let listed = files
        .iter()
        .map(|f| crate::model::names::printable(f))
        .collect::<Vec<_>>()
        .join(", ");
    let note = format!(
        "{} file(s) stopped the reader and were quarantined (limits: [ingest] reader_memory_mib = {}, read_seconds = {}): {listed}",
        files.len(),
        config.ingest.reader_memory_bytes / (1024 * 1024),
        config.ingest.read_seconds,
    );
    tell(
        config,
        state,
        Alert {
            key: format!(
                "alert/reader/{}",
                &hex::encode(sha2::Sha256::digest(files.join("\n").as_bytes()))[..16]
            ),
            subject: format!("[nhanluc] Files stopped the reader on {host}"),
            summary: format!("nhanluc on {host}: {job}: {note}"),
            status: "reader_stopped",
            job,
            run_id: None,
            error: &note,
            host: &host,
        },
    )
    .await;
}

/// Tells the operator that runs are refused because the state database
/// cannot be trusted (missing, empty, another ledger's: see
/// [`crate::rebuild`]), from `serve`, which goes on running and refusing
/// until someone restores it or runs `nhanluc rebuild`. Only the webhook
/// (`"status": "state_refused"`) and the failure ping: an email would be
/// queued in the very state that is refused.
pub async fn state_refused(config: &Config, origin: &str, error: &str) {
    let host = hostname();
    if let Some(url) = &config.alerts.webhook
        && let Some(client) = client(config)
    {
        let body = serde_json::json!({
            "text": format!("nhanluc on {host}: {origin}: {error}"),
            "job": origin,
            "run": serde_json::Value::Null,
            "status": "state_refused",
            "error": error,
            "host": host,
        });
        send_with_retries(|| client.post(url).json(&body), url).await;
    }
    ping(config, Ping::Fail).await;
}

struct Alert<'a> {
    key: String,
    subject: String,
    summary: String,
    /// The webhook's `status`.
    status: &'a str,
    job: &'a str,
    run_id: Option<i64>,
    error: &'a str,
    host: &'a str,
}

async fn tell(config: &Config, state: &State, alert: Alert<'_>) {
    let summary = &alert.summary;
    if let Some(email) = &config.alerts.email {
        let text = format!(
            "{summary}\n\nSee `nhanluc status` and the service log for details.\nConfig: {}\n",
            config.file.display()
        );
        let html = format!("<p>{}</p>", html_escape(summary));
        let queued = mail::queue(
            config,
            state,
            Outgoing {
                kind: "alert",
                key: &alert.key,
                to: email,
                subject: &alert.subject,
                text: &text,
                html: &html,
                images: &[],
                attachments: &[],
            },
        );
        match queued {
            // Bounded by the delivery's deadlines; if it does not go, it waits.
            // Only the alert: the rest was tried by the run already.
            Ok(_) => match mail::deliver_key(config, state, &alert.key).await {
                Ok(outcome) if outcome.failed + outcome.given_up > 0 => {
                    tracing::warn!("the alert waits in the outbox")
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %Chain(&e), "the failure alert waits in the outbox")
                }
            },
            Err(e) => tracing::warn!(error = %Chain(&e), "cannot queue the failure alert"),
        }
    }
    if let Some(url) = &config.alerts.webhook {
        let Some(client) = client(config) else { return };
        let body = serde_json::json!({
            "text": summary,
            "job": alert.job,
            "run": alert.run_id,
            "status": alert.status,
            "error": alert.error,
            "host": alert.host,
        });
        send_with_retries(|| client.post(url).json(&body), url).await;
    }
}

async fn send_with_retries(request: impl Fn() -> reqwest::RequestBuilder, url: &str) {
    for attempt in 1..=ATTEMPTS {
        match request().send().await {
            Ok(response) if response.status().is_success() => return,
            Ok(response) => {
                tracing::warn!(%url, status = %response.status(), attempt, "alert endpoint refused")
            }
            Err(e) => {
                tracing::warn!(%url, error = %Chain(&e), attempt, "alert endpoint unreachable")
            }
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(Backoff::ALERT_HTTP.jittered_delay_after(attempt)).await;
        }
    }
    tracing::error!(%url, "alert not delivered after {ATTEMPTS} attempts; the job's own result stands");
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this server".to_string())
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
