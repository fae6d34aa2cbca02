//! Mail delivery, a sink: a message (subject, text and HTML bodies, inline
//! images, Excel attachments, one recipient) is queued in the outbox of the
//! state database, and what waits there is delivered by SMTP or written as
//! `.eml` files. It knows nothing of what the messages say: the digest, the
//! departments' feedback and reminders and the operator's alerts all come
//! through [`queue`].

mod mime;
mod outbox;
mod smtp;

use crate::config::Config;
use crate::state::{State, StateError};

pub use outbox::{
    deliver_due, deliver_key, deliver_pending, deliver_pending_except, deliver_pending_until,
    eml_path,
};
pub use smtp::{MissingPassword, probe, smtp_credentials};

/// Why a message could not be built, or the outbox not read or written.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("{address:?} is not a mail address (the {role} of a message)")]
    Address {
        /// "sender" or "recipient".
        role: &'static str,
        address: String,
        source: lettre::address::AddressError,
    },
    #[error("cannot build the message to {recipient}")]
    Message {
        recipient: String,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(transparent)]
    State(#[from] StateError),
}

/// One message for one recipient, queued in the outbox under `key`.
#[derive(Clone, Copy)]
pub struct Outgoing<'a> {
    /// `digest`, `feedback`, `reminder`, `alert`: shown in `status` and in
    /// the `.eml` file's name.
    pub kind: &'a str,
    /// What the message is about: the outbox takes a key and recipient once,
    /// and the Message-ID is derived from them.
    pub key: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
    /// (content id, PNG bytes) shown inline by `cid:` links in the HTML.
    pub images: &'a [(String, Vec<u8>)],
    /// (file name, bytes) of each Excel attachment.
    pub attachments: &'a [(String, Vec<u8>)],
}

/// Builds the message (from `[digest] from`) and queues it in the outbox.
/// Returns whether it was new (a key and recipient already queued are not
/// queued again).
pub fn queue(config: &Config, state: &State, m: Outgoing<'_>) -> Result<bool, MailError> {
    let message = mime::build_message(
        &config.digest.from,
        m.to,
        m.key,
        mime::Parts {
            subject: m.subject,
            text: m.text,
            html: m.html,
            images: m.images.to_vec(),
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
