//! The digest: key indicators per recipient with charts and an Excel
//! attachment, rendered from editable templates, queued in the outbox and
//! delivered by SMTP or written as `.eml` files.
//!
//! Fail closed: a recipient whose required indicators are missing, or whose
//! chart cannot be drawn, gets nothing, and the run says what is missing.

pub mod chart;
pub mod feedback;
pub mod mail;
pub mod model;
pub mod xlsx;

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::catalogue;
use crate::config::Config;
use crate::model::period::Period;
use crate::state::{State, StateError};
use crate::warehouse::{self, WarehouseError};

pub use mail::{DeliveryOutcome, deliver_pending, deliver_pending_except, deliver_pending_until};

#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error("no indicators have been computed yet: run `nhanluc indicators` first")]
    NoIndicators,
    #[error("no indicators for period {0}: run `nhanluc indicators --period {0}`")]
    MissingPeriod(String),
    #[error("digest template {file}")]
    Template {
        file: String,
        source: minijinja::Error,
    },
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
    Chart(#[from] chart::ChartError),
    #[error("cannot write the Excel attachment")]
    Attachment(#[from] rust_xlsxwriter::XlsxError),
    /// A message template or an indicator label file that cannot be read or is refused.
    #[error(transparent)]
    Catalogue(#[from] crate::catalogue::CatalogueError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
    /// A report in the ledger that cannot be decoded: never answered as an empty one.
    #[error(
        "the report of {entry} in the state database cannot be decoded, so its feedback is held back (the other files are answered)"
    )]
    Report {
        /// Which ledger entry: its submission, file and ledger row.
        entry: String,
        #[source]
        source: serde_json::Error,
    },
}

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
    let delivery = deliver_pending(config, state).await?;
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
        let message = mail::build_message(
            &config.digest.from,
            &model.recipient,
            &key,
            mail::Parts {
                subject: &model.subject,
                text: &rendered.text,
                html: &rendered.html,
                images: rendered.images.clone(),
                attachments: vec![(attachment_name(model), rendered.attachment.clone())],
            },
        )?;
        if state.enqueue("digest", &key, &model.recipient, &model.subject, &message)? {
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
pub fn render_all(
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
    let mut submissions = model::Submissions::default();
    for s in state.submissions()? {
        if s.period == period && s.status == "accepted" {
            submissions.submitted.insert(s.department.clone());
            *submissions.rejected_rows.entry(s.department).or_default() += s.rows_rejected;
        }
    }
    let env = templates(&config.paths.digest_templates)?;
    let labels = std::sync::Arc::new(catalogue::indicator_labels(&config.paths.indicators)?);
    let mut rendered = Vec::new();
    for recipient in &config.recipients {
        let model = match model::build(
            config,
            recipient,
            period,
            &current,
            &previous,
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
        let images: Vec<(String, Vec<u8>)> = model
            .charts
            .iter()
            .enumerate()
            .map(|(i, c)| chart::render_bars(c).map(|png| (format!("chart{}@nhanluc", i + 1), png)))
            .collect::<Result<_, _>>()?;
        let context = digest_context(&model);
        let html = render_template(&env, "digest.html.j2", &context)?;
        let text = render_template(&env, "digest.txt.j2", &context)?;
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

/// What the digest templates see: the model `m`, the charts' ids and titles, the labels `t`.
fn digest_context(model: &model::DigestModel) -> minijinja::Value {
    minijinja::context! {
        m => minijinja::value::Serde(model),
        charts => model.charts.iter().enumerate().map(|(i, c)| minijinja::context! {
            cid => format!("chart{}@nhanluc", i + 1),
            title => c.title.clone(),
        }).collect::<Vec<_>>(),
        t => labels(model.lang == "vi"),
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
            footer => "Thư tự động từ hệ thống nhanluc. Số liệu tổng hợp, không chứa thông tin cá nhân.",
        }
    } else {
        minijinja::context! {
            key_figures => "Key figures", value => "Value", change => "Against", province => "Province",
            details => "Other indicators", departments => "By department", department => "Department",
            headcount => "Staff", participants => "Participants", online => "Online",
            submitted => "Submitted", submissions => "Departments that submitted", missing => "Not submitted",
            rejected => "Rejected data rows (the departments were told)", attachment => "The full tables are in the attached Excel file.",
            footer => "Automatic message from nhanluc. Aggregates only, no personal data.",
        }
    }
}

fn render_template(
    env: &minijinja::Environment<'_>,
    name: &str,
    context: &minijinja::Value,
) -> Result<String, DigestError> {
    env.get_template(name)
        .and_then(|t| t.render(context))
        .map_err(|source| DigestError::Template {
            file: name.to_string(),
            source,
        })
}

/// The built-in message templates, each replaced by the file of the same
/// name in the digest templates folder `dir` (see [`catalogue::MESSAGES`]).
fn templates(dir: &Path) -> Result<minijinja::Environment<'static>, DigestError> {
    let mut env = minijinja::Environment::new();
    for (name, file) in catalogue::MESSAGES.replaced(dir) {
        env.add_template_owned(name.to_string(), file?.text)
            .map_err(|source| DigestError::Template {
                file: dir.join(name).display().to_string(),
                source,
            })?;
    }
    Ok(env)
}

/// A digest template that does not parse, or fails on a sample message.
#[derive(Debug, Clone)]
pub struct TemplateProblem {
    /// The file in the digest templates folder, or `built-in <name>`.
    pub file: PathBuf,
    /// minijinja's message, with the template's name and line.
    pub message: String,
}

/// Checks the digest templates (the folder's, else the built-ins): each must
/// parse, and with a configuration render a sample digest (province and
/// department, both languages), feedback and reminder. Here, unlike at night,
/// printing a variable the template does not get is an error: a misspelt
/// name would otherwise print as nothing. Returns how many templates were checked.
pub fn check_templates(dir: &Path, config: Option<&Config>) -> (usize, Vec<TemplateProblem>) {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::SemiStrict);
    let mut problems = Vec::new();
    let mut shown = std::collections::BTreeMap::new();
    let files = catalogue::MESSAGES.replaced(dir);
    let count = files.len();
    for (name, file) in files {
        let (file, source) = match file {
            Ok(file) => (
                file.path
                    .unwrap_or_else(|| PathBuf::from(format!("built-in {name}"))),
                file.text,
            ),
            Err(e) => {
                problems.push(TemplateProblem {
                    file: e.file().to_path_buf(),
                    message: match e {
                        catalogue::CatalogueError::Read { source, .. } => {
                            format!("cannot read: {source}")
                        }
                        other => other.to_string(),
                    },
                });
                continue;
            }
        };
        match env.add_template_owned(name.to_string(), source) {
            Ok(()) => {
                shown.insert(name, file);
            }
            Err(e) => problems.push(TemplateProblem {
                file,
                message: e.to_string(),
            }),
        }
    }
    if let Some(config) = config {
        let mut failed = std::collections::BTreeSet::new();
        for (names, result) in samples::render_all(config, &env, &shown) {
            let Err(e) = result else { continue };
            let (name, message) = match e {
                DigestError::Template { file, source } => {
                    // The first line: the alternate form adds the template's source.
                    let message = source.to_string();
                    let first = message.lines().next().unwrap_or_default().to_string();
                    (file, first)
                }
                other => (names[0].to_string(), crate::error_chain::chain(&other)),
            };
            if let Some(file) = shown.get(name.as_str())
                && failed.insert(name.clone())
            {
                problems.push(TemplateProblem {
                    file: file.clone(),
                    message,
                });
            }
        }
    }
    (count, problems)
}

/// Sample messages for [`check_templates`], made from the configuration.
mod samples {
    use std::collections::BTreeMap;
    use std::path::PathBuf;
    use std::sync::Arc;

    use chrono::NaiveDate;

    use super::{DigestError, model};
    use crate::config::{Config, Department, Recipient};
    use crate::model::indicator::IndicatorRow;
    use crate::model::period::Period;
    use crate::model::report::SheetReport;
    use crate::model::rows::{Reject, SheetWarning};
    use crate::model::scope::{Language, Level, Scope};
    use crate::state::FeedbackRow;

    type Rendered = Result<(), DigestError>;

    /// Renders each sample whose templates all parsed (`parsed`): the
    /// template names with the outcome.
    pub(super) fn render_all(
        config: &Config,
        env: &minijinja::Environment<'_>,
        parsed: &BTreeMap<&str, PathBuf>,
    ) -> Vec<(&'static [&'static str], Rendered)> {
        let all_parsed = |names: &[&str]| names.iter().all(|n| parsed.contains_key(n));
        let mut out = Vec::new();
        const DIGEST: &[&str] = &["digest.html.j2", "digest.txt.j2"];
        const FEEDBACK: &[&str] = &["feedback.txt.j2", "feedback.html.j2"];
        const REMINDER: &[&str] = &["reminder.txt.j2", "reminder.html.j2"];
        let sample_department = config.departments.first().cloned().unwrap_or(Department {
            code: "SAMPLE".into(),
            name: "Đơn vị mẫu".into(),
            level: Level::Province,
            contacts: vec!["van-thu@example.gov.vn".into()],
        });
        if all_parsed(DIGEST) {
            for model in digests(config, &sample_department) {
                let context = super::digest_context(&model);
                for name in DIGEST {
                    out.push((
                        DIGEST,
                        super::render_template(env, name, &context).map(drop),
                    ));
                }
            }
        }
        if all_parsed(FEEDBACK) {
            // With and without attached forms: both branches of the template render.
            let forms = ["mau_staff_SAMPLE_2025.xlsx".to_string()];
            for (row, forms) in feedback_rows(&sample_department)
                .into_iter()
                .flat_map(|row| [(row.clone(), &forms[..]), (row, &[][..])])
            {
                let rendered = super::feedback::render_feedback(
                    config,
                    env,
                    &row,
                    &sample_department.name,
                    forms,
                );
                out.push((FEEDBACK, rendered.map(drop)));
            }
        }
        if all_parsed(REMINDER) {
            let (period, deadline) = (Period::year(2025), date(2026, 1, 15));
            let rendered = super::feedback::render_reminder(
                config,
                env,
                &sample_department,
                period,
                deadline,
                date(2026, 2, 2),
                &["mau_staff_SAMPLE_2025.xlsx".to_string()],
            );
            out.push((REMINDER, rendered.map(drop)));
        }
        out
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
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
            .chain(codes.iter().map(|c| format!("department:{c}")))
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
                let unit = label.unit.as_str();
                for scope in &scopes {
                    rows.push(IndicatorRow {
                        scope: scope.clone(),
                        indicator: id.to_string(),
                        value: Some(value),
                        numerator: Some(value),
                        denominator: Some(100.0),
                        unit: unit.to_string(),
                    });
                }
            }
            rows
        };
        let (current, previous) = (rows(106.5), rows(98.0));
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
                model::build(
                    config,
                    r,
                    "2025",
                    &current,
                    &previous,
                    &submissions,
                    &labels,
                )
                .ok()
            })
            .collect()
    }

    /// A file accepted with a rejected cell, a warning and an unknown column, and one quarantined.
    fn feedback_rows(department: &Department) -> Vec<FeedbackRow> {
        let sheet = SheetReport {
            sheet: "Biểu 01".into(),
            hidden: false,
            template: Some("staff".into()),
            header_row: Some(5),
            data_rows: 3,
            loaded: 2,
            rejected_rows: 1,
            skips: Default::default(),
            unknown_columns: vec!["Ghi chú".into()],
            fields_not_found: Vec::new(),
            skipped_rows: Vec::new(),
            rejects: vec![Reject {
                sheet: "Biểu 01".into(),
                source_row: 8,
                column: "Ngày sinh".into(),
                cell: "D8".into(),
                value: "31/02/1980".into(),
                reason_vi: "ngày không có thật".into(),
                reason_en: "no such date".into(),
            }],
            warnings: vec![SheetWarning {
                source_row: 9,
                cell: "F9".into(),
                message_vi: "tổng không khớp".into(),
                message_en: "the total does not match".into(),
            }],
            refused: None,
        };
        let report = serde_json::to_string(&vec![sheet]).unwrap_or_default();
        let row = |status: &str, reason: &str, report: String| FeedbackRow {
            id: 0,
            submission_id: "sample".into(),
            department: department.code.clone(),
            period: "2025".into(),
            source_file: format!("{}/bao-cao-2025.xlsx", department.code),
            status: status.into(),
            reason: reason.into(),
            reason_vi: reason.into(),
            report,
            received_at: "2026-01-15T02:00:00+00:00".into(),
        };
        vec![
            row("accepted", "", report),
            row("quarantined", "not a workbook", "[]".into()),
        ]
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
