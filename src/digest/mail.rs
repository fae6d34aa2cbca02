//! Building MIME messages and delivering what waits in the outbox.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::{Digest, Sha256};

use crate::config::{Config, SmtpConfig, SmtpSecurity};
use crate::error_chain::{Chain, chain};
use crate::state::State;

use super::DigestError;

const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A message's parts before MIME encoding.
pub struct Parts<'a> {
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
    /// (content id, PNG bytes) shown inline by `cid:` links in the HTML.
    pub images: Vec<(String, Vec<u8>)>,
    /// (file name, bytes) of each Excel attachment.
    pub attachments: Vec<(String, Vec<u8>)>,
}

/// Builds the MIME message. Its Message-ID is derived from the outbox key and
/// the recipient, so a message re-sent after a crash between the server's
/// acceptance and our bookkeeping carries the same id and mail clients show it once.
pub fn build_message(
    from: &str,
    to: &str,
    key: &str,
    parts: Parts<'_>,
) -> Result<Vec<u8>, DigestError> {
    let error = |source: Box<dyn std::error::Error + Send + Sync>| DigestError::Message {
        recipient: to.to_string(),
        source,
    };
    let address = |role, address: &str| {
        let address = address.to_string();
        move |source| DigestError::Address {
            role,
            address,
            source,
        }
    };
    let from: Mailbox = from.parse().map_err(address("sender", from))?;
    let to_box: Mailbox = to.parse().map_err(address("recipient", to))?;
    let id_hash = hex::encode(Sha256::digest(format!("{key}\n{to}")));
    let alternative =
        MultiPart::alternative_plain_html(parts.text.to_string(), parts.html.to_string());
    let body = if parts.images.is_empty() {
        alternative
    } else {
        let png = ContentType::parse("image/png").map_err(|e| error(e.into()))?;
        parts.images.into_iter().fold(
            MultiPart::related().multipart(alternative),
            |related, (cid, bytes)| {
                related.singlepart(Attachment::new_inline(cid).body(bytes, png.clone()))
            },
        )
    };
    let body = if parts.attachments.is_empty() {
        body
    } else {
        let xlsx = ContentType::parse(XLSX_TYPE).map_err(|e| error(e.into()))?;
        parts.attachments.into_iter().fold(
            MultiPart::mixed().multipart(body),
            |mixed, (name, bytes)| {
                let file: SinglePart = Attachment::new(name).body(bytes, xlsx.clone());
                mixed.singlepart(file)
            },
        )
    };
    let message = Message::builder()
        .message_id(Some(format!("<{}@nhanluc>", &id_hash[..32])))
        .from(from)
        .to(to_box)
        .subject(parts.subject.to_string())
        .multipart(body)
        .map_err(|e| error(e.into()))?;
    Ok(message.formatted())
}

/// A message without images for one recipient, with Excel attachments (the
/// blank forms), queued in the outbox under `key`. Returns whether it was new.
#[derive(Clone, Copy)]
pub struct Simple<'a> {
    pub kind: &'a str,
    pub key: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
    /// (file name, bytes) of each Excel attachment.
    pub attachments: &'a [(String, Vec<u8>)],
}

pub fn queue_simple(config: &Config, state: &State, m: Simple<'_>) -> Result<bool, DigestError> {
    let message = build_message(
        &config.digest.from,
        m.to,
        m.key,
        Parts {
            subject: m.subject,
            text: m.text,
            html: m.html,
            images: Vec::new(),
            attachments: m.attachments.to_vec(),
        },
    )?;
    Ok(state.enqueue(m.kind, m.key, m.to, m.subject, &message)?)
}

#[derive(Debug, Default, Clone)]
pub struct DeliveryOutcome {
    pub delivered: usize,
    pub failed: usize,
    pub errors: Vec<String>,
}

/// Delivers every message waiting in the outbox, whatever its backoff: by SMTP
/// when configured, else as `.eml` files in the outbox folder. A message is
/// marked sent only after the server accepted it (or the file is durable).
///
/// The window: if the process dies after the server accepted a message and
/// before it is marked sent, the next run sends it again (with the same
/// Message-ID); SMTP itself cannot make that exactly-once.
pub async fn deliver_pending(
    config: &Config,
    state: &State,
) -> Result<DeliveryOutcome, DigestError> {
    deliver(config, state, state.pending()?, None).await
}

/// How early a message may be taken before its next attempt is due, so a
/// retry woken at the due time does not miss it by a few milliseconds.
const DUE_SLACK: std::time::Duration = std::time::Duration::from_secs(1);

/// Delivers the waiting messages whose backoff has passed (for `serve`'s
/// retries between runs), stopping between messages once `stop` is set.
pub async fn deliver_due(
    config: &Config,
    state: &State,
    stop: &AtomicBool,
) -> Result<DeliveryOutcome, DigestError> {
    let by = timestamp(chrono::Utc::now(), DUE_SLACK);
    deliver(config, state, state.pending_due(&by)?, Some(stop)).await
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

async fn deliver(
    config: &Config,
    state: &State,
    pending: Vec<crate::state::OutboxItem>,
    stop: Option<&AtomicBool>,
) -> Result<DeliveryOutcome, DigestError> {
    let mut outcome = DeliveryOutcome::default();
    if pending.is_empty() {
        return Ok(outcome);
    }
    let Some(smtp) = &config.smtp else {
        return write_pending_eml(config, state, &pending);
    };
    let transport = smtp_transport(smtp);
    let mut progress = crate::progress::start(crate::progress::Step::Delivery, pending.len());
    for item in pending {
        if stop.is_some_and(|stop| stop.load(Ordering::SeqCst)) {
            break;
        }
        let result = match &transport {
            Ok(transport) => send_smtp(transport, smtp, &item.recipient, &item.message).await,
            Err(e) => Err(e.clone()),
        };
        match result {
            Ok(()) => {
                state.mark_sent(item.id)?;
                outcome.delivered += 1;
                tracing::debug!(to = %item.recipient, subject = %item.subject, "delivered");
            }
            Err(message) => {
                let next = next_attempt(config, item.attempts + 1);
                state.mark_failed(item.id, &message, &next)?;
                tracing::warn!(to = %item.recipient, error = %message, next_attempt = %next, "delivery failed; kept in the outbox");
                outcome.failed += 1;
                outcome
                    .errors
                    .push(format!("{}: {message}", item.recipient));
            }
        }
        progress.advance(1, 0);
    }
    log_delivery(&outcome, "SMTP");
    Ok(outcome)
}

/// Delivery in one line at info; each message is a line at debug (`-v`),
/// each failure a warning.
fn log_delivery(outcome: &DeliveryOutcome, by: &str) {
    tracing::info!(
        delivered = outcome.delivered,
        failed = outcome.failed,
        by,
        "delivery finished"
    );
}

fn smtp_transport(smtp: &SmtpConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let builder = match smtp.security {
        SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
        SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
            .map_err(|e| chain(&e))?,
        SmtpSecurity::Tls => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host).map_err(|e| chain(&e))?
        }
    };
    let mut builder = builder
        .port(smtp.port)
        .timeout(Some(std::time::Duration::from_secs(smtp.timeout_seconds)));
    if let (Some(username), Some(variable)) = (&smtp.username, &smtp.password_env) {
        let password = std::env::var(variable)
            .map_err(|_| format!("the SMTP password variable {variable} is not set"))?;
        builder = builder.credentials(lettre::transport::smtp::authentication::Credentials::new(
            username.clone(),
            password,
        ));
    }
    Ok(builder.build())
}

async fn send_smtp(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    smtp: &SmtpConfig,
    recipient: &str,
    message: &[u8],
) -> Result<(), String> {
    let from: Mailbox = smtp
        .from
        .parse()
        .map_err(|e| format!("from: {}", Chain(&e)))?;
    let to: lettre::Address = recipient
        .parse()
        .map_err(|e| format!("to: {}", Chain(&e)))?;
    let envelope =
        lettre::address::Envelope::new(Some(from.email), vec![to]).map_err(|e| chain(&e))?;
    transport
        .send_raw(&envelope, message)
        .await
        .map(|_| ())
        .map_err(|e| chain(&e))
}

/// Without SMTP, messages become `.eml` files in the outbox folder, a batch
/// at a time: written, made durable together, then marked sent together.
fn write_pending_eml(
    config: &Config,
    state: &State,
    pending: &[crate::state::OutboxItem],
) -> Result<DeliveryOutcome, DigestError> {
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

fn eml_path(dir: &Path, item: &crate::state::OutboxItem) -> std::path::PathBuf {
    dir.join(format!(
        "{:06}-{}-{}.eml",
        item.id,
        item.kind,
        crate::ingest::safe_file_name(&item.recipient.replace('@', "_at_"))
    ))
}
