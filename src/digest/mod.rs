//! The digest: key indicators per recipient with charts and an Excel
//! attachment, rendered from editable templates and queued in the outbox of
//! [`crate::mail`], which delivers it by SMTP or writes it as an `.eml` file.
//!
//! Fail closed: a recipient whose required indicators are missing, or whose
//! chart cannot be drawn, gets nothing, and the run says what is missing.

pub mod chart;
pub mod model;
pub mod xlsx;

use std::path::PathBuf;

use sha2::{Digest, Sha256};

use crate::catalogue;
use crate::config::Config;
use crate::mail::{self, DeliveryOutcome, MailError};
use crate::message_templates::{self, Sample, TemplateError};
use crate::model::indicator::Unit;
use crate::model::period::Period;
use crate::model::scope::Language;
use crate::model::status::SubmissionStatus;
use crate::state::{State, StateError};
use crate::warehouse::{self, WarehouseError};

/// Why the digest could not be built, rendered or queued.
#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error("no indicators have been computed yet: run `nhanluc indicators` first")]
    NoIndicators,
    #[error("no indicators for period {0}: run `nhanluc indicators --period {0}`")]
    MissingPeriod(String),
    /// A message template that cannot be read, parsed or rendered.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// A message that cannot be built or queued.
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error(transparent)]
    Chart(#[from] chart::ChartError),
    #[error("cannot write the Excel attachment")]
    Attachment(#[from] rust_xlsxwriter::XlsxError),
    /// An indicator label file that cannot be read or is refused.
    #[error(transparent)]
    Catalogue(#[from] crate::catalogue::CatalogueError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
}

/// What one digest run did: the messages queued, the recipients left
/// without one, and the delivery pass after.
#[derive(Debug, Default, Clone)]
pub struct DigestOutcome {
    pub period: String,
    /// Messages newly queued (a recipient whose digest has not changed gets none).
    pub queued: usize,
    /// Recipients not sent a digest because indicators are missing: (recipient, what is missing).
    pub incomplete: Vec<(String, String)>,
    pub delivery: DeliveryOutcome,
}

/// A digest rendered for one recipient, before MIME encoding.
pub struct RenderedDigest {
    pub model: model::DigestModel,
    pub html: String,
    pub text: String,
    pub images: Vec<(String, Vec<u8>)>,
    pub attachment: Vec<u8>,
}

/// Builds the digest for `period` (the latest with indicators by default),
/// queues one message per recipient, and delivers everything waiting — what
/// already waited even when the digest cannot be built (no indicators yet):
/// then the build's error is returned, after the delivery.
pub async fn run(
    config: &Config,
    state: &State,
    period: Option<&str>,
) -> Result<DigestOutcome, DigestError> {
    let built = build(config, state, period);
    let delivery = mail::deliver_pending(config, state).await?;
    let mut outcome = built?;
    outcome.delivery = delivery;
    Ok(outcome)
}

/// Builds the digest for `period` (the latest with indicators by default) and
/// queues one message per recipient; nothing is sent (`delivery` is empty).
pub fn build(
    config: &Config,
    state: &State,
    period: Option<&str>,
) -> Result<DigestOutcome, DigestError> {
    let periods = warehouse::indicator_periods(&config.paths.warehouse);
    let period = match period {
        Some(p) if periods.iter().any(|x| x == p) => p.to_string(),
        Some(p) => return Err(DigestError::MissingPeriod(p.to_string())),
        // The latest in time (an annual report before its own Q4), not in string order.
        None => crate::model::period::latest(periods.iter().map(String::as_str))
            .map(str::to_string)
            .ok_or(DigestError::NoIndicators)?,
    };
    let mut outcome = DigestOutcome {
        period: period.clone(),
        ..DigestOutcome::default()
    };
    for rendered in render_all(config, state, &period, &mut outcome.incomplete)? {
        let model = &rendered.model;
        let fingerprint = hex::encode(Sha256::digest(format!(
            "{}\n{}",
            rendered.text, rendered.html
        )));
        let key = format!("digest/{period}/{}", &fingerprint[..16]);
        let queued = mail::queue(
            config,
            state,
            mail::Outgoing {
                kind: "digest",
                key: &key,
                to: &model.recipient,
                subject: &model.subject,
                text: &rendered.text,
                html: &rendered.html,
                images: &rendered.images,
                attachments: &[(attachment_name(model), rendered.attachment.clone())],
            },
        )?;
        if queued {
            outcome.queued += 1;
        }
    }
    for (recipient, missing) in &outcome.incomplete {
        tracing::error!(%recipient, %missing, "digest not sent: indicators missing");
    }
    Ok(outcome)
}

fn attachment_name(model: &model::DigestModel) -> String {
    let scope = model.scope.replace(':', "-");
    format!("nhanluc-{}-{scope}.xlsx", model.period)
}

/// Renders every recipient's digest for a period; recipients whose required
/// indicators are missing are listed in `incomplete` instead.
pub(crate) fn render_all(
    config: &Config,
    state: &State,
    period: &str,
    incomplete: &mut Vec<(String, String)>,
) -> Result<Vec<RenderedDigest>, DigestError> {
    let current = warehouse::read_indicators(&config.paths.warehouse, period)?;
    let previous_period = period
        .parse::<Period>()
        .ok()
        .map(|p| p.previous().to_string());
    let previous = match &previous_period {
        Some(p) if warehouse::indicators_path(&config.paths.warehouse, p).is_file() => {
            warehouse::read_indicators(&config.paths.warehouse, p)?
        }
        _ => Vec::new(),
    };
    let labels = std::sync::Arc::new(catalogue::indicator_labels(&config.paths.indicators)?);
    let mut history = history(config, period, &labels)?;
    history.previous = previous;
    let mut submissions = model::Submissions::default();
    let wanted = period.parse::<Period>().ok();
    for s in state.submissions()? {
        if Some(s.period) == wanted && s.status == SubmissionStatus::Accepted {
            submissions.submitted.insert(s.department.clone());
            *submissions.rejected_rows.entry(s.department).or_default() += s.rows_rejected;
        }
    }
    let env = message_templates::load(&config.paths.digest_templates)?;
    let mut rendered = Vec::new();
    for recipient in &config.recipients {
        let model = match model::build(
            config,
            recipient,
            period,
            &current,
            &history,
            &submissions,
            &labels,
        ) {
            Ok(model) => model,
            Err(missing) => {
                incomplete.push((
                    recipient.email.clone(),
                    format!("{} for {}", missing.indicators.join(", "), missing.scope),
                ));
                continue;
            }
        };
        let mut images: Vec<(String, Vec<u8>)> = model
            .charts
            .iter()
            .enumerate()
            .map(|(i, c)| chart::render_bars(c).map(|png| (format!("chart{}@nhanluc", i + 1), png)))
            .collect::<Result<_, _>>()?;
        if let Some(trend) = &model.trend_chart {
            images.push((TREND_CID.to_string(), chart::render_trends(trend)?));
        }
        let context = digest_context(&model);
        let html = message_templates::render(&env, "digest.html.j2", &context)?;
        let text = message_templates::render(&env, "digest.txt.j2", &context)?;
        let attachment = xlsx::attachment(&model)?;
        rendered.push(RenderedDigest {
            model,
            html,
            text,
            images,
            attachment,
        });
    }
    Ok(rendered)
}

/// The content id of the trend chart's inline image.
const TREND_CID: &str = "trends@nhanluc";

/// The indicator rows of the periods before `period` the digest reads back
/// for its trends and IT recruitment table, each from its snapshot
/// `indicators/period=<P>/`: the last periods of the same kind, and the
/// years up to the period's. Only the rows of the key figures and of the
/// `recruitment.it.*` ids are kept.
fn history(
    config: &Config,
    period: &str,
    labels: &catalogue::IndicatorLabels,
) -> Result<model::History, DigestError> {
    let mut history = model::History::default();
    let Ok(current) = period.parse::<Period>() else {
        return Ok(history);
    };
    let key_ids = labels.key_figures();
    let kept = |id: &str| key_ids.contains(&id) || id.starts_with("recruitment.it.");
    let same_kind =
        |p: Period| std::mem::discriminant(&p.kind) == std::mem::discriminant(&current.kind);
    let mut earlier: Vec<Period> = warehouse::indicator_periods(&config.paths.warehouse)
        .iter()
        .filter_map(|p| p.parse::<Period>().ok())
        .filter(|p| *p != current)
        .collect();
    earlier.sort();
    let trend: Vec<Period> = earlier
        .iter()
        .copied()
        .filter(|p| same_kind(*p) && *p < current)
        .collect();
    let trend = &trend[trend.len().saturating_sub(model::TREND_PERIODS - 1)..];
    let years = earlier
        .iter()
        .copied()
        .filter(|p| p.kind == crate::model::period::Kind::Year && p.year <= current.year);
    for p in trend.iter().copied().chain(years) {
        if history.periods.contains_key(&p) {
            continue;
        }
        let rows = warehouse::read_indicators(&config.paths.warehouse, &p.to_string())?;
        history
            .periods
            .insert(p, rows.into_iter().filter(|r| kept(&r.indicator)).collect());
    }
    Ok(history)
}

/// What the digest templates see: the model `m`, the charts' ids and titles, the labels `t`.
fn digest_context(model: &model::DigestModel) -> minijinja::Value {
    minijinja::context! {
        m => minijinja::value::Serde(model),
        trend_chart => model.trend_chart.as_ref().map(|c| minijinja::context! {
            cid => TREND_CID,
            title => c.title.clone(),
        }),
        charts => model.charts.iter().enumerate().map(|(i, c)| minijinja::context! {
            cid => format!("chart{}@nhanluc", i + 1),
            title => c.title.clone(),
        }).collect::<Vec<_>>(),
        t => labels(model.lang == Language::Vi),
    }
}

fn labels(vi: bool) -> minijinja::Value {
    if vi {
        minijinja::context! {
            key_figures => "Chỉ tiêu chính", value => "Giá trị", change => "So với", province => "Toàn tỉnh",
            details => "Các chỉ tiêu khác", departments => "Theo đơn vị", department => "Đơn vị",
            headcount => "CBCCVC", participants => "Lượt đào tạo", online => "Trực tuyến",
            submitted => "Đã nộp", submissions => "Đơn vị đã nộp báo cáo", missing => "Chưa nộp",
            rejected => "Dòng dữ liệu bị từ chối (đơn vị đã được thông báo)", attachment => "Bảng đầy đủ trong tệp Excel đính kèm.",
            trends => "Xu hướng các kỳ gần nhất", indicator => "Chỉ tiêu",
            recruitment => "Tuyển dụng nhân lực CNTT theo năm", year => "Năm", target => "Chỉ tiêu",
            recruited => "Đã tuyển", fill_rate => "Tỷ lệ đạt", resigned => "Thôi việc",
            plan_range => "Tiến độ kế hoạch giai đoạn",
            footer => "Thư tự động từ hệ thống nhanluc. Số liệu tổng hợp, không chứa thông tin cá nhân.",
        }
    } else {
        minijinja::context! {
            key_figures => "Key figures", value => "Value", change => "Against", province => "Province",
            details => "Other indicators", departments => "By department", department => "Department",
            headcount => "Staff", participants => "Participants", online => "Online",
            submitted => "Submitted", submissions => "Departments that submitted", missing => "Not submitted",
            rejected => "Rejected data rows (the departments were told)", attachment => "The full tables are in the attached Excel file.",
            trends => "Trend over the last periods", indicator => "Indicator",
            recruitment => "IT recruitment by year", year => "Year", target => "Target",
            recruited => "Recruited", fill_rate => "Fill rate", resigned => "Resigned",
            plan_range => "Multi-year plan progress",
            footer => "Automatic message from nhanluc. Aggregates only, no personal data.",
        }
    }
}

/// The sample digests of `nhanluc check` (a [`message_templates::Sampler`]).
pub(crate) fn template_samples(
    config: &Config,
    env: &minijinja::Environment<'_>,
    parsed: &std::collections::BTreeMap<&str, PathBuf>,
) -> Vec<Sample> {
    samples::render_all(config, env, parsed)
}

/// Sample digests for [`template_samples`], made from the configuration.
mod samples {
    use std::collections::BTreeMap;
    use std::path::PathBuf;
    use std::sync::Arc;

    use super::model;
    use crate::config::{Config, Department, Recipient};
    use crate::message_templates::{self, Sample, SampleError};
    use crate::model::indicator::{IndicatorRow, Unit};
    use crate::model::scope::{Language, Scope};

    /// Renders the sample digests if their templates all parsed (`parsed`):
    /// the template names with the outcome.
    pub(super) fn render_all(
        config: &Config,
        env: &minijinja::Environment<'_>,
        parsed: &BTreeMap<&str, PathBuf>,
    ) -> Vec<Sample> {
        let mut out = Vec::new();
        const DIGEST: &[&str] = &["digest.html.j2", "digest.txt.j2"];
        if DIGEST.iter().all(|n| parsed.contains_key(n)) {
            let sample_department = message_templates::sample_department(config);
            for model in digests(config, &sample_department) {
                let context = super::digest_context(&model);
                for name in DIGEST {
                    out.push((
                        DIGEST,
                        message_templates::render(env, name, &context)
                            .map(drop)
                            .map_err(SampleError::Template),
                    ));
                }
            }
        }
        out
    }

    /// Digests of 2025 against 2024 with every labelled indicator, for the
    /// province and one department, in both languages, some departments late.
    fn digests(config: &Config, department: &Department) -> Vec<model::DigestModel> {
        // Enough departments for every list of the message, few enough to be quick.
        let codes: Vec<&str> = config
            .departments
            .iter()
            .take(40)
            .map(|d| d.code.as_str())
            .collect();
        let scopes: Vec<String> = std::iter::once("province".to_string())
            .chain(
                codes
                    .iter()
                    .map(|c| Scope::Department(c.to_string()).to_string()),
            )
            .collect();
        // The folder's labels; when they are refused (a problem of its own),
        // the built-in ones, so the messages are still tried.
        let labels = Arc::new(
            crate::catalogue::indicator_labels(&config.paths.indicators)
                .unwrap_or_else(|_| crate::catalogue::built_in_indicator_labels()),
        );
        let rows = |value: f64| -> Vec<IndicatorRow> {
            let mut rows = Vec::new();
            for (id, label) in labels.iter() {
                let unit = label.unit;
                for scope in &scopes {
                    rows.push(IndicatorRow {
                        scope: scope.clone(),
                        indicator: id.to_string(),
                        value: Some(value),
                        numerator: Some(value),
                        denominator: Some(100.0),
                        unit,
                    });
                }
            }
            rows
        };
        let (mut current, previous) = (rows(106.5), rows(98.0));
        for (id, value, unit) in [
            ("training.plan_range.participants", 17_628.0, Unit::Count),
            ("training.plan_range.attainment_pct", 45.2, Unit::Percent),
            ("training.plan_range.expected_pct", 60.0, Unit::Percent),
        ] {
            for scope in scopes.iter().take(2) {
                current.push(IndicatorRow {
                    scope: scope.clone(),
                    indicator: id.to_string(),
                    value: Some(value),
                    numerator: None,
                    denominator: None,
                    unit,
                });
            }
        }
        // Trends, IT recruitment and plan progress in the samples too, so
        // their parts of the templates are tried.
        let mut history = model::History {
            previous: previous.clone(),
            ..model::History::default()
        };
        history
            .periods
            .insert(crate::model::period::Period::year(2024), previous.clone());
        history
            .periods
            .insert(crate::model::period::Period::year(2023), rows(90.0));
        let submissions = model::Submissions {
            submitted: codes.iter().skip(1).map(|c| c.to_string()).collect(),
            rejected_rows: codes.iter().take(2).map(|c| (c.to_string(), 3)).collect(),
        };
        let mut recipients = Vec::new();
        for language in [Language::Vi, Language::En] {
            for scope in [Scope::Province, Scope::Department(department.code.clone())] {
                recipients.push(Recipient {
                    email: "lanh-dao@example.gov.vn".into(),
                    scope,
                    language,
                });
            }
        }
        recipients
            .iter()
            .filter_map(|r| {
                model::build(config, r, "2025", &current, &history, &submissions, &labels).ok()
            })
            .collect()
    }
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
pub fn format_value(value: Option<f64>, unit: Unit, vi: bool) -> String {
    let Some(v) = value else {
        return "—".to_string();
    };
    match unit {
        Unit::Percent => {
            let text = format!("{v:.2}%");
            if vi { text.replace('.', ",") } else { text }
        }
        Unit::Vnd => format!("{} đ", group_thousands(v.round() as i64, vi)),
        Unit::Lessons => {
            let text = format!("{v:.1}");
            if vi { text.replace('.', ",") } else { text }
        }
        Unit::Count => group_thousands(v.round() as i64, vi),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_formatted_for_each_language() {
        assert_eq!(group_thousands(24088, true), "24.088");
        assert_eq!(group_thousands(1_500_000, false), "1,500,000");
        assert_eq!(group_thousands(-999, true), "-999");
        assert_eq!(format_value(Some(17.5123), Unit::Percent, true), "17,51%");
        assert_eq!(format_value(Some(17.5123), Unit::Percent, false), "17.51%");
        assert_eq!(format_value(None, Unit::Count, true), "—");
    }
}
