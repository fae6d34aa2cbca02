//! The SMTP transport: a session over lettre's connection, each step
//! bounded by a deadline from `[smtp] timeout_seconds`, and the login's
//! password read from the environment.

use std::sync::atomic::{AtomicBool, Ordering};

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::DEFAULT_MECHANISMS;
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};

use crate::config::{Config, SmtpConfig, SmtpSecurity};
use crate::error_chain::{Chain, chain};

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

/// Why an attempt at one message did not deliver it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Failure {
    /// Refused for good: an SMTP 5xx to MAIL, RCPT or DATA, or a message this
    /// server can never take. Retried `max_attempts_refused` times, then given up.
    Refused(String),
    /// Anything else (the server down, slow or saying 4xx, a broken
    /// connection, the login refused): retried with the backoff, for ever.
    Transient(String),
}

/// An attempt's outcome as `deliver` sees it.
pub(super) enum SendError {
    /// Connecting (TCP, TLS, greeting, login) failed, or the server stopped
    /// answering: no message of this pass can go, so the rest are not tried
    /// (one cause, said once; one deadline, not one per message).
    Setup(String),
    Message(Failure),
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

pub(super) type Credentials = lettre::transport::smtp::authentication::Credentials;

/// One SMTP connection for a delivery pass, opened at the first message and
/// again after a message that broke it. Every step is bounded by a deadline:
/// a server that accepts TCP and then never answers costs one deadline.
pub(super) struct Session<'a> {
    smtp: &'a SmtpConfig,
    credentials: Option<Credentials>,
    connection: Option<AsyncSmtpConnection>,
}

impl<'a> Session<'a> {
    pub(super) fn new(smtp: &'a SmtpConfig, credentials: Option<Credentials>) -> Session<'a> {
        Session {
            smtp,
            credentials,
            connection: None,
        }
    }

    pub(super) async fn send(&mut self, recipient: &str, message: &[u8]) -> Result<(), SendError> {
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
    pub(super) async fn quit(mut self) {
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
}
