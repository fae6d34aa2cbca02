//! The MIME message: text and HTML alternatives, inline images, Excel attachments.

use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use sha2::{Digest, Sha256};

use super::MailError;

const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A message's parts before MIME encoding.
pub(super) struct Parts<'a> {
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
pub(super) fn build_message(
    from: &str,
    to: &str,
    key: &str,
    parts: Parts<'_>,
) -> Result<Vec<u8>, MailError> {
    let error = |source: Box<dyn std::error::Error + Send + Sync>| MailError::Message {
        recipient: to.to_string(),
        source,
    };
    let address = |role, address: &str| {
        let address = address.to_string();
        move |source| MailError::Address {
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
