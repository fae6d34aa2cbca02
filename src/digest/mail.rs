//! Building MIME messages and delivering what waits in the outbox.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::DEFAULT_MECHANISMS;
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
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

/// What one delivery pass did.
#[derive(Debug, Default, Clone)]
pub struct DeliveryOutcome {
    pub delivered: usize,
    /// Attempts that failed this time; those messages still wait, their next
    /// attempt scheduled with the backoff.
    pub failed: usize,
    /// "<recipient>: <why>" for each of `failed`.
    pub errors: Vec<String>,
    /// Messages refused for good ([smtp] max_attempts_refused times) and
    /// marked failed by this pass: never retried automatically.
    pub given_up: usize,
    /// Each of `given_up`.
    pub given_up_messages: Vec<GivenUp>,
    /// Stopped by a shutdown request: the message being sent, and those after
    /// it, wait as they were (an interrupted send is not an attempt).
    pub interrupted: bool,
    /// The outbox ids of the messages tried and not delivered (`failed` and
    /// `given_up`): a later pass of the same run leaves them alone, so a
    /// message is tried once per run, and a refusal counts once per run.
    pub tried: Vec<i64>,
}

impl DeliveryOutcome {
    /// Another pass's counts added to these.
    pub fn add(&mut self, other: DeliveryOutcome) {
        self.delivered += other.delivered;
        self.failed += other.failed;
        self.errors.extend(other.errors);
        self.given_up += other.given_up;
        self.given_up_messages.extend(other.given_up_messages);
        self.interrupted |= other.interrupted;
        self.tried.extend(other.tried);
    }
}

/// A message given up by a delivery pass.
#[derive(Debug, Clone)]
pub struct GivenUp {
    pub id: i64,
    /// `digest`, `feedback`, `alert`, …
    pub kind: String,
    /// "<recipient>: <subject>: <why>".
    pub text: String,
}

impl DeliveryOutcome {
    /// The messages given up, for the operator's alert: their ids and one
    /// line naming each. Alerts given up are left out, so an alert that
    /// cannot be delivered does not raise another alert.
    pub fn given_up_note(&self) -> Option<(Vec<i64>, String)> {
        let told: Vec<&GivenUp> = self
            .given_up_messages
            .iter()
            .filter(|m| m.kind != "alert")
            .collect();
        if told.is_empty() {
            return None;
        }
        Some((
            told.iter().map(|m| m.id).collect(),
            format!(
                "{} message(s) refused by the mail server every time, given up and not retried: {}",
                told.len(),
                told.iter()
                    .map(|m| m.text.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ))
    }

    /// "<recipient>: <subject>: <why>" of every message given up, joined.
    pub fn given_up_text(&self) -> String {
        self.given_up_messages
            .iter()
            .map(|m| m.text.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// `password_env` names a variable that is unset or empty while `[smtp]`
/// logs in: every command that sends mail refuses to start (exit 2).
#[derive(Debug, thiserror::Error)]
#[error(
    "{file}: smtp.password_env names the environment variable {variable}, which is {how} in this environment (the SMTP login as {username} needs the password from it)"
)]
pub struct MissingPassword {
    pub file: std::path::PathBuf,
    pub variable: String,
    pub username: String,
    /// "not set" or "empty".
    pub how: &'static str,
}

/// The SMTP login, if `[smtp]` has one, with its password read from the
/// environment variable `password_env` names.
pub fn smtp_credentials(
    config: &Config,
) -> Result<Option<lettre::transport::smtp::authentication::Credentials>, MissingPassword> {
    let Some(smtp) = &config.smtp else {
        return Ok(None);
    };
    let (Some(username), Some(variable)) = (&smtp.username, &smtp.password_env) else {
        return Ok(None);
    };
    let missing = |how| MissingPassword {
        file: config.file.clone(),
        variable: variable.clone(),
        username: username.clone(),
        how,
    };
    match std::env::var_os(variable) {
        None => Err(missing("not set")),
        Some(value) if value.is_empty() => Err(missing("empty")),
        Some(value) => match value.into_string() {
            Ok(password) => Ok(Some(
                lettre::transport::smtp::authentication::Credentials::new(
                    username.clone(),
                    password,
                ),
            )),
            Err(_) => Err(missing("not valid UTF-8")),
        },
    }
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
    deliver_pending_until(config, state, &AtomicBool::new(false)).await
}

/// [`deliver_pending`], ending a send in progress as soon as `stop` is set (a
/// shutdown request): that message waits as it was.
pub async fn deliver_pending_until(
    config: &Config,
    state: &State,
    stop: &AtomicBool,
) -> Result<DeliveryOutcome, DigestError> {
    deliver(config, state, state.pending()?, stop).await
}

/// [`deliver_pending_until`], leaving out the messages `already` tried (by
/// an earlier pass of the same run: see [`DeliveryOutcome::tried`]).
pub async fn deliver_pending_except(
    config: &Config,
    state: &State,
    stop: &AtomicBool,
    already: &[i64],
) -> Result<DeliveryOutcome, DigestError> {
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
) -> Result<DeliveryOutcome, DigestError> {
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
) -> Result<DeliveryOutcome, DigestError> {
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

/// Why an attempt at one message did not deliver it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Failure {
    /// Refused for good: an SMTP 5xx to MAIL, RCPT or DATA, or a message this
    /// server can never take. Retried `max_attempts_refused` times, then given up.
    Refused(String),
    /// Anything else (the server down, slow or saying 4xx, a broken
    /// connection, the login refused): retried with the backoff, for ever.
    Transient(String),
}

/// An attempt's outcome as `deliver` sees it.
enum SendError {
    /// Connecting (TCP, TLS, greeting, login) failed, or the server stopped
    /// answering: no message of this pass can go, so the rest are not tried
    /// (one cause, said once; one deadline, not one per message).
    Setup(String),
    Message(Failure),
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
) -> Result<DeliveryOutcome, DigestError> {
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
) -> Result<(), DigestError> {
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

/// The deadline of each step of a delivery, from `[smtp] timeout_seconds`
/// (at least a second).
fn step_deadline(smtp: &SmtpConfig) -> std::time::Duration {
    std::time::Duration::from_secs(smtp.timeout_seconds.max(1))
}

/// The deadline of one message, from MAIL to the server's answer after DATA:
/// the step deadline, and as much again for every MiB after the first, so a
/// large digest on a slow link is not cut off.
fn message_deadline(smtp: &SmtpConfig, bytes: usize) -> std::time::Duration {
    let extra_mib = u32::try_from(bytes / (1 << 20)).unwrap_or(u32::MAX);
    step_deadline(smtp).saturating_mul(extra_mib.saturating_add(1))
}

type Credentials = lettre::transport::smtp::authentication::Credentials;

/// One SMTP connection for a delivery pass, opened at the first message and
/// again after a message that broke it. Every step is bounded by a deadline:
/// a server that accepts TCP and then never answers costs one deadline.
struct Session<'a> {
    smtp: &'a SmtpConfig,
    credentials: Option<Credentials>,
    connection: Option<AsyncSmtpConnection>,
}

impl<'a> Session<'a> {
    fn new(smtp: &'a SmtpConfig, credentials: Option<Credentials>) -> Session<'a> {
        Session {
            smtp,
            credentials,
            connection: None,
        }
    }

    async fn send(&mut self, recipient: &str, message: &[u8]) -> Result<(), SendError> {
        let (from, to) = envelope(self.smtp, recipient)
            .map_err(|why| SendError::Message(Failure::Refused(why)))?;
        let mut connection = match self.connection.take() {
            Some(connection) if !connection.has_broken() => connection,
            _ => connect(self.smtp, self.credentials.as_ref())
                .await
                .map_err(SendError::Setup)?,
        };
        let server = format!("{}:{}", self.smtp.host, self.smtp.port);
        let deadline = message_deadline(self.smtp, message.len());
        let sent =
            tokio::time::timeout(deadline, transaction(&mut connection, &from, &to, message)).await;
        match sent {
            // Dropped mid-exchange: that connection cannot be used again. A
            // server that stops answering would cost a deadline per message,
            // so the rest of this pass waits too (as when it cannot be reached).
            Err(_elapsed) => Err(SendError::Setup(format!(
                "the SMTP server at {server} stopped answering while taking a message (no reply within {} s, [smtp] timeout_seconds); the rest of this delivery waits",
                deadline.as_secs()
            ))),
            Ok(Ok(())) => {
                self.connection = Some(connection);
                Ok(())
            }
            Ok(Err(refusal)) => {
                // A reply (4xx, 5xx) leaves the connection usable once reset;
                // anything else (the network, a garbled reply) does not.
                let replied = match &refusal {
                    Refusal::Smtp(_, e) => e.is_permanent() || e.is_transient(),
                    Refusal::Unsupported(_) => true,
                };
                if replied {
                    let reset =
                        tokio::time::timeout(step_deadline(self.smtp), connection.command(Rset))
                            .await;
                    if matches!(reset, Ok(Ok(_))) {
                        self.connection = Some(connection);
                    }
                }
                Err(classify(refusal, &server, &from))
            }
        }
    }

    /// Says goodbye within the deadline (a server that does not answer QUIT
    /// is simply left).
    async fn quit(mut self) {
        if let Some(mut connection) = self.connection.take() {
            let _ = tokio::time::timeout(step_deadline(self.smtp), connection.quit()).await;
        }
    }
}

/// Which command of a message's transaction failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Sender,
    Recipient,
    /// DATA and the message itself.
    Data,
}

/// Why a message's transaction failed.
enum Refusal {
    /// A command's reply was negative, or the exchange broke.
    Smtp(Phase, lettre::transport::smtp::Error),
    /// This server can never take this message.
    Unsupported(&'static str),
}

/// MAIL, RCPT, DATA and the message, each reply checked (lettre's own
/// `send` does the same but does not say which command failed: a refused
/// sender is the configuration's fault, a refused recipient the message's).
async fn transaction(
    connection: &mut AsyncSmtpConnection,
    from: &lettre::Address,
    to: &lettre::Address,
    message: &[u8],
) -> Result<(), Refusal> {
    let mut options = Vec::new();
    if !from.to_string().is_ascii() || !to.to_string().is_ascii() {
        if !connection
            .server_info()
            .supports_feature(Extension::SmtpUtfEight)
        {
            return Err(Refusal::Unsupported(
                "a non-ASCII address needs SMTPUTF8, which the server does not offer",
            ));
        }
        options.push(MailParameter::SmtpUtfEight);
    }
    if !message.is_ascii() {
        if !connection
            .server_info()
            .supports_feature(Extension::EightBitMime)
        {
            return Err(Refusal::Unsupported(
                "an 8-bit message needs 8BITMIME, which the server does not offer",
            ));
        }
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    let failed = |phase| move |e| Refusal::Smtp(phase, e);
    connection
        .command(Mail::new(Some(from.clone()), options))
        .await
        .map_err(failed(Phase::Sender))?;
    connection
        .command(Rcpt::new(to.clone(), Vec::new()))
        .await
        .map_err(failed(Phase::Recipient))?;
    connection
        .command(Data)
        .await
        .map_err(failed(Phase::Data))?;
    connection
        .message(message)
        .await
        .map_err(failed(Phase::Data))?;
    Ok(())
}

/// A 5xx to RCPT or DATA is a refusal of this message, for good; a message
/// this server can never take too. A negative reply to MAIL FROM is about
/// the sender (the configuration), not the message: the rest of the pass
/// waits, retried for ever, never given up. Anything else may pass later.
fn classify(refusal: Refusal, server: &str, from: &lettre::Address) -> SendError {
    match refusal {
        Refusal::Unsupported(why) => {
            SendError::Message(Failure::Refused(format!("{why} ({server})")))
        }
        Refusal::Smtp(Phase::Sender, e) if e.is_permanent() || e.is_transient() => {
            SendError::Setup(format!(
                "the SMTP server at {server} refused the sender {from} ([smtp] from): {}",
                chain(&e)
            ))
        }
        Refusal::Smtp(Phase::Recipient | Phase::Data, e) if e.is_permanent() => {
            SendError::Message(Failure::Refused(chain(&e)))
        }
        Refusal::Smtp(_, e) => SendError::Message(Failure::Transient(chain(&e))),
    }
}

fn envelope(
    smtp: &SmtpConfig,
    recipient: &str,
) -> Result<(lettre::Address, lettre::Address), String> {
    let from: Mailbox = smtp
        .from
        .parse()
        .map_err(|e| format!("from: {}", Chain(&e)))?;
    let to: lettre::Address = recipient
        .parse()
        .map_err(|e| format!("to: {}", Chain(&e)))?;
    Ok((from.email, to))
}

/// Connects as `[smtp]` says (TCP, implicit TLS or STARTTLS, greeting, EHLO,
/// login), all within one step deadline.
async fn connect(
    smtp: &SmtpConfig,
    credentials: Option<&Credentials>,
) -> Result<AsyncSmtpConnection, String> {
    let deadline = step_deadline(smtp);
    let server = format!("{}:{}", smtp.host, smtp.port);
    // Whether TCP connected: a deadline passed after it means the server
    // took the connection and then said nothing.
    let connected = AtomicBool::new(false);
    let setup = async {
        let hello = ClientId::default();
        let mut connection = match smtp.security {
            SmtpSecurity::Tls => {
                let tls = TlsParameters::new(smtp.host.clone()).map_err(|e| chain(&e))?;
                AsyncSmtpConnection::connect_tokio1(
                    (smtp.host.as_str(), smtp.port),
                    Some(deadline),
                    &hello,
                    Some(tls),
                    None,
                )
                .await
                .map_err(|e| {
                    format!(
                        "cannot connect to the SMTP server at {server}: {}",
                        chain(&e)
                    )
                })?
            }
            SmtpSecurity::None | SmtpSecurity::Starttls => {
                let tcp = tokio::net::TcpStream::connect((smtp.host.as_str(), smtp.port))
                    .await
                    .map_err(|e| {
                        format!(
                            "cannot connect to the SMTP server at {server}: {}",
                            Chain(&e)
                        )
                    })?;
                connected.store(true, Ordering::SeqCst);
                let mut connection =
                    AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello)
                        .await
                        .map_err(|e| format!("the SMTP server at {server}: {}", chain(&e)))?;
                if smtp.security == SmtpSecurity::Starttls {
                    let tls = TlsParameters::new(smtp.host.clone()).map_err(|e| chain(&e))?;
                    connection.starttls(tls, &hello).await.map_err(|e| {
                        format!("STARTTLS with the SMTP server at {server}: {}", chain(&e))
                    })?;
                }
                connection
            }
        };
        if let Some(credentials) = credentials {
            connection
                .auth(DEFAULT_MECHANISMS, credentials)
                .await
                .map_err(|e| {
                    format!(
                        "the SMTP server at {server} refused the login: {}",
                        chain(&e)
                    )
                })?;
        }
        Ok(connection)
    };
    match tokio::time::timeout(deadline, setup).await {
        Ok(connection) => connection,
        Err(_elapsed) if connected.load(Ordering::SeqCst) => Err(format!(
            "the SMTP server at {server} accepted the connection but did not answer within {} s ([smtp] timeout_seconds)",
            deadline.as_secs()
        )),
        Err(_elapsed) => Err(format!(
            "the SMTP server at {server} did not {} within {} s ([smtp] timeout_seconds)",
            if smtp.security == SmtpSecurity::Tls {
                "take the connection and answer"
            } else {
                "take the connection"
            },
            deadline.as_secs()
        )),
    }
}

/// Connects and logs in as a delivery would, then says NOOP and QUIT, each
/// within the deadlines a delivery has (for `nhanluc check --smtp`).
pub async fn probe(config: &Config) -> Result<(), String> {
    let Some(smtp) = &config.smtp else {
        return Err("there is no [smtp] table".into());
    };
    let credentials = smtp_credentials(config).map_err(|e| e.to_string())?;
    let mut connection = connect(smtp, credentials.as_ref()).await?;
    let answered = tokio::time::timeout(step_deadline(smtp), connection.test_connected()).await;
    let _ = tokio::time::timeout(step_deadline(smtp), connection.quit()).await;
    match answered {
        Ok(true) => Ok(()),
        Ok(false) => Err("connected, but the server did not answer NOOP".into()),
        Err(_) => Err(format!(
            "connected, but the server did not answer NOOP within {} s ([smtp] timeout_seconds)",
            step_deadline(smtp).as_secs()
        )),
    }
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

fn eml_path(dir: &Path, item: &crate::state::OutboxItem) -> std::path::PathBuf {
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

    fn smtp(timeout_seconds: u64) -> SmtpConfig {
        SmtpConfig {
            host: "127.0.0.1".into(),
            port: 25,
            security: SmtpSecurity::None,
            username: None,
            password_env: None,
            from: "a@x.vn".into(),
            timeout_seconds,
            max_attempts_refused: 3,
        }
    }

    #[test]
    fn each_step_has_a_deadline_and_a_large_message_more_time() {
        let s = std::time::Duration::from_secs;
        assert_eq!(step_deadline(&smtp(0)), s(1), "never zero");
        assert_eq!(message_deadline(&smtp(30), 1000), s(30));
        assert_eq!(message_deadline(&smtp(30), 5 << 20), s(180));
        assert!(
            message_deadline(&smtp(u64::MAX), usize::MAX) >= s(u64::MAX / 2),
            "no overflow"
        );
    }

    #[tokio::test]
    async fn a_server_that_never_greets_costs_one_deadline_with_a_clear_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let mut config = smtp(1);
        config.port = listener.local_addr().expect("addr").port();
        let started = std::time::Instant::now();
        let error = connect(&config, None).await.err().expect("no greeting");
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        assert_eq!(
            error,
            format!(
                "the SMTP server at 127.0.0.1:{} accepted the connection but did not answer within 1 s ([smtp] timeout_seconds)",
                config.port
            )
        );
        drop(listener);
    }

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
