//! The digest: key indicators per recipient, rendered from editable templates,
//! queued in the outbox and delivered by SMTP or written as `.eml` files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::{Config, Language, Recipient, Scope, SmtpConfig, SmtpSecurity};
use crate::ingest::period::Period;
use crate::state::{State, StateError};
use crate::warehouse::{self, IndicatorRow, WarehouseError};

const HTML_TEMPLATE: &str = include_str!("../config/digest/digest.html.j2");
const TEXT_TEMPLATE: &str = include_str!("../config/digest/digest.txt.j2");

#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error("no indicators have been computed yet: run `nhanluc indicators` first")]
    NoIndicators,
    #[error("no indicators for period {0}: run `nhanluc indicators --period {0}`")]
    MissingPeriod(String),
    #[error("digest template {file}: {message}")]
    Template { file: String, message: String },
    #[error("cannot build the message to {recipient}: {message}")]
    Message { recipient: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
}

/// How a built-in indicator is shown: its label in each language, in digest order.
const KEY_FIGURES: &[(&str, &str, &str)] = &[
    (
        "staff.headcount",
        "Tổng số cán bộ, công chức, viên chức",
        "Civil servants and public employees",
    ),
    (
        "staff.qualification.postgraduate_pct",
        "Trình độ sau đại học",
        "Postgraduate",
    ),
    (
        "staff.qualification.university_pct",
        "Trình độ đại học",
        "University",
    ),
    (
        "staff.qualification.college_vocational_pct",
        "Cao đẳng, trung cấp",
        "College and vocational",
    ),
    (
        "staff.qualification.other_pct",
        "Trình độ khác",
        "Other qualification",
    ),
    (
        "training.participants",
        "Lượt người được đào tạo, bồi dưỡng",
        "Training participants",
    ),
    (
        "training.plan_attainment_pct",
        "Tỷ lệ hoàn thành kế hoạch",
        "Plan attainment",
    ),
    (
        "training.online_pct",
        "Tỷ lệ học trực tuyến",
        "Online share",
    ),
];

#[derive(Debug, Clone, Serialize)]
struct Figure {
    label: String,
    value: String,
    change: String,
}

#[derive(Debug, Default, Clone)]
pub struct DigestOutcome {
    pub period: String,
    /// Messages newly queued (a recipient whose digest has not changed gets none).
    pub queued: usize,
    pub delivery: DeliveryOutcome,
}

#[derive(Debug, Default, Clone)]
pub struct DeliveryOutcome {
    pub delivered: usize,
    pub failed: usize,
    pub errors: Vec<String>,
}

/// Builds the digest for `period` (the latest with indicators by default),
/// queues one message per recipient, and delivers everything waiting.
pub async fn run(
    config: &Config,
    state: &State,
    period: Option<&str>,
) -> Result<DigestOutcome, DigestError> {
    let periods = warehouse::indicator_periods(&config.paths.warehouse);
    let period = match period {
        Some(p) if periods.iter().any(|x| x == p) => p.to_string(),
        Some(p) => return Err(DigestError::MissingPeriod(p.to_string())),
        None => periods.last().cloned().ok_or(DigestError::NoIndicators)?,
    };
    let current = warehouse::read_indicators(&config.paths.warehouse, &period)?;
    let previous_period = period
        .parse::<Period>()
        .ok()
        .map(|p| p.previous().to_string());
    let previous = match &previous_period {
        Some(p) if periods.contains(p) => warehouse::read_indicators(&config.paths.warehouse, p)?,
        _ => Vec::new(),
    };
    let submitted: BTreeSet<String> = state
        .submissions()?
        .into_iter()
        .filter(|s| s.period == period)
        .map(|s| s.department)
        .collect();
    let mut outcome = DigestOutcome {
        period: period.clone(),
        ..DigestOutcome::default()
    };
    let env = templates(&config.paths.digest_templates)?;
    for recipient in &config.recipients {
        let rendered = render(
            config, &env, recipient, &period, &current, &previous, &submitted,
        )?;
        let fingerprint = hex::encode(Sha256::digest(format!(
            "{}\n{}",
            rendered.text, rendered.html
        )));
        let key = format!("digest/{period}/{}", &fingerprint[..16]);
        let message = build_message(&config.digest.from, &recipient.email, &key, &rendered)?;
        if state.enqueue(
            "digest",
            &key,
            &recipient.email,
            &rendered.subject,
            &message,
        )? {
            outcome.queued += 1;
        }
    }
    outcome.delivery = deliver_pending(config, state).await?;
    Ok(outcome)
}

struct Rendered {
    subject: String,
    html: String,
    text: String,
}

fn templates(dir: &Path) -> Result<minijinja::Environment<'static>, DigestError> {
    let mut env = minijinja::Environment::new();
    for (name, built_in) in [
        ("digest.html.j2", HTML_TEMPLATE),
        ("digest.txt.j2", TEXT_TEMPLATE),
    ] {
        let path = dir.join(name);
        let source = if path.is_file() {
            std::fs::read_to_string(&path).map_err(|source| DigestError::Io {
                path: path.clone(),
                source,
            })?
        } else {
            built_in.to_string()
        };
        env.add_template_owned(name, source)
            .map_err(|e| DigestError::Template {
                file: path.display().to_string(),
                message: e.to_string(),
            })?;
    }
    Ok(env)
}

fn render(
    config: &Config,
    env: &minijinja::Environment<'_>,
    recipient: &Recipient,
    period: &str,
    current: &[IndicatorRow],
    previous: &[IndicatorRow],
    submitted: &BTreeSet<String>,
) -> Result<Rendered, DigestError> {
    let vi = recipient.language == Language::Vi;
    let parsed = period.parse::<Period>().ok();
    let period_label = match (parsed, vi) {
        (Some(p), true) => p.label_vi(),
        (Some(p), false) => p.label_en(),
        (None, _) => period.to_string(),
    };
    let scope = recipient.scope.to_string();
    let scope_label = match &recipient.scope {
        Scope::Province => if vi { "Toàn tỉnh" } else { "Province" }.to_string(),
        Scope::Department(code) => config
            .department(code)
            .map(|d| d.name.clone())
            .unwrap_or_else(|| code.clone()),
    };
    let lookup = |rows: &[IndicatorRow]| -> BTreeMap<String, IndicatorRow> {
        rows.iter()
            .filter(|r| r.scope == scope)
            .map(|r| (r.indicator.clone(), r.clone()))
            .collect()
    };
    let now = lookup(current);
    let before = lookup(previous);
    let mut figures = Vec::new();
    for (id, label_vi, label_en) in KEY_FIGURES {
        let Some(row) = now.get(*id) else { continue };
        figures.push(Figure {
            label: if vi { label_vi } else { label_en }.to_string(),
            value: format_value(row.value, &row.unit, vi),
            change: format_change(row, before.get(*id), vi),
        });
    }
    let registry: Vec<&crate::config::Department> = match &recipient.scope {
        Scope::Province => config.departments.iter().collect(),
        Scope::Department(code) => config
            .departments
            .iter()
            .filter(|d| &d.code == code)
            .collect(),
    };
    let missing: Vec<String> = registry
        .iter()
        .filter(|d| !submitted.contains(&d.code))
        .map(|d| d.name.clone())
        .collect();
    let title = if vi {
        "Báo cáo đào tạo, bồi dưỡng"
    } else {
        "Training and fostering report"
    };
    let subject = format!("[{}] {title} — {period_label}", config.digest.organisation);
    let t = if vi {
        minijinja::context! {
            indicator => "Chỉ tiêu", change => "So với kỳ trước", submissions => "Đơn vị đã nộp báo cáo",
            missing => "Chưa nộp", footer => "Thư tự động từ hệ thống nhanluc. Số liệu tổng hợp, không chứa thông tin cá nhân.",
        }
    } else {
        minijinja::context! {
            indicator => "Indicator", change => "Change", submissions => "Departments that submitted",
            missing => "Not submitted", footer => "Automatic message from nhanluc. Aggregates only, no personal data.",
        }
    };
    let context = minijinja::context! {
        lang => if vi { "vi" } else { "en" },
        subject => &subject,
        organisation => &config.digest.organisation,
        title => title,
        scope_label => scope_label,
        period_label => &period_label,
        period_short => period,
        figures => minijinja::value::Serde(&figures),
        submitted => registry.len() - missing.len(),
        registry => registry.len(),
        missing => missing,
        t => t,
    };
    let render_one = |name: &str| {
        env.get_template(name)
            .and_then(|t| t.render(&context))
            .map_err(|e| DigestError::Template {
                file: name.to_string(),
                message: e.to_string(),
            })
    };
    Ok(Rendered {
        html: render_one("digest.html.j2")?,
        text: render_one("digest.txt.j2")?,
        subject,
    })
}

/// Groups digits in threes with the language's separator: 24.088 (vi), 24,088 (en).
pub fn group_thousands(value: i64, vi: bool) -> String {
    let digits = value.unsigned_abs().to_string();
    let separator = if vi { '.' } else { ',' };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(c);
    }
    if value < 0 { format!("-{out}") } else { out }
}

/// A value as a reader expects it: "17,51%" in Vietnamese, "17.51%" in English.
pub fn format_value(value: Option<f64>, unit: &str, vi: bool) -> String {
    let Some(v) = value else {
        return "—".to_string();
    };
    match unit {
        "percent" => {
            let text = format!("{v:.2}%");
            if vi { text.replace('.', ",") } else { text }
        }
        "vnd" => format!("{} đ", group_thousands(v.round() as i64, vi)),
        "lessons" => {
            let text = format!("{v:.1}");
            if vi { text.replace('.', ",") } else { text }
        }
        _ => group_thousands(v.round() as i64, vi),
    }
}

fn format_change(now: &IndicatorRow, before: Option<&IndicatorRow>, vi: bool) -> String {
    let (Some(a), Some(b)) = (now.value, before.and_then(|r| r.value)) else {
        return String::new();
    };
    let diff = a - b;
    let arrow = if diff > 0.0 {
        "▲"
    } else if diff < 0.0 {
        "▼"
    } else {
        "="
    };
    let magnitude = if now.unit == "percent" {
        let text = format!("{:.2} {}", diff.abs(), if vi { "điểm %" } else { "pp" });
        if vi { text.replace('.', ",") } else { text }
    } else {
        format_value(Some(diff.abs()), &now.unit, vi)
    };
    format!("{arrow} {magnitude}")
}

/// Builds the MIME message. Its Message-ID is derived from the outbox key and
/// the recipient, so a message re-sent after a crash between the server's
/// acceptance and our bookkeeping carries the same id and mail clients show it once.
fn build_message(
    from: &str,
    to: &str,
    key: &str,
    rendered: &Rendered,
) -> Result<Vec<u8>, DigestError> {
    let error = |message: String| DigestError::Message {
        recipient: to.to_string(),
        message,
    };
    let from: Mailbox = from
        .parse()
        .map_err(|e| error(format!("from {from:?}: {e}")))?;
    let to_box: Mailbox = to.parse().map_err(|e| error(format!("{e}")))?;
    let id_hash = hex::encode(Sha256::digest(format!("{key}\n{to}")));
    let message = Message::builder()
        .message_id(Some(format!("<{}@nhanluc>", &id_hash[..32])))
        .from(from)
        .to(to_box)
        .subject(rendered.subject.clone())
        .multipart(MultiPart::alternative_plain_html(
            rendered.text.clone(),
            rendered.html.clone(),
        ))
        .map_err(|e| error(e.to_string()))?;
    Ok(message.formatted())
}

/// Delivers every message waiting in the outbox, whatever its backoff: by SMTP
/// when configured, else as `.eml` files in the outbox folder. A message is
/// marked sent only after the server accepted it (or the file is durable).
pub async fn deliver_pending(
    config: &Config,
    state: &State,
) -> Result<DeliveryOutcome, DigestError> {
    let mut outcome = DeliveryOutcome::default();
    let pending = state.pending()?;
    if pending.is_empty() {
        return Ok(outcome);
    }
    let transport = match &config.smtp {
        Some(smtp) => Some(
            smtp_transport(smtp).map_err(|message| DigestError::Message {
                recipient: smtp.host.clone(),
                message,
            })?,
        ),
        None => None,
    };
    for item in pending {
        let result = match (&transport, &config.smtp) {
            (Some(transport), Some(smtp)) => {
                send_smtp(transport, smtp, &item.recipient, &item.message).await
            }
            _ => write_eml(
                &config.paths.outbox,
                item.id,
                &item.kind,
                &item.recipient,
                &item.message,
            ),
        };
        match result {
            Ok(()) => {
                state.mark_sent(item.id)?;
                outcome.delivered += 1;
                tracing::info!(to = %item.recipient, subject = %item.subject, "delivered");
            }
            Err(message) => {
                let wait_minutes = 2_i64
                    .saturating_pow(item.attempts.clamp(0, 8) as u32)
                    .min(360);
                let next = (chrono::Utc::now() + chrono::Duration::minutes(wait_minutes))
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                state.mark_failed(item.id, &message, &next)?;
                tracing::warn!(to = %item.recipient, error = %message, "delivery failed; kept in the outbox");
                outcome.failed += 1;
                outcome
                    .errors
                    .push(format!("{}: {message}", item.recipient));
            }
        }
    }
    Ok(outcome)
}

fn smtp_transport(smtp: &SmtpConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let builder = match smtp.security {
        SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
        SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
            .map_err(|e| e.to_string())?,
        SmtpSecurity::Tls => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host).map_err(|e| e.to_string())?
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
    let from: Mailbox = smtp.from.parse().map_err(|e| format!("from: {e}"))?;
    let to: lettre::Address = recipient.parse().map_err(|e| format!("to: {e}"))?;
    let envelope =
        lettre::address::Envelope::new(Some(from.email), vec![to]).map_err(|e| e.to_string())?;
    transport
        .send_raw(&envelope, message)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn write_eml(
    dir: &Path,
    id: i64,
    kind: &str,
    recipient: &str,
    message: &[u8],
) -> Result<(), String> {
    let name = format!(
        "{id:06}-{kind}-{}.eml",
        crate::ingest::safe_file_name(&recipient.replace('@', "_at_"))
    );
    crate::ingest::write_atomic(&dir.join(name), message).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_formatted_for_each_language() {
        assert_eq!(group_thousands(24088, true), "24.088");
        assert_eq!(group_thousands(1_500_000, false), "1,500,000");
        assert_eq!(group_thousands(-999, true), "-999");
        assert_eq!(format_value(Some(17.5123), "percent", true), "17,51%");
        assert_eq!(format_value(Some(17.5123), "percent", false), "17.51%");
        assert_eq!(format_value(None, "count", true), "—");
    }
}
