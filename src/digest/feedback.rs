//! Mail to departments: feedback on each file they sent, and reminders when
//! their report is late. Both go through the outbox like the digest. Feedback
//! quotes only the department's own rows and goes only to its contacts.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::config::{Config, ReportingCycle};
use crate::ingest::SheetReport;
use crate::ingest::period::Period;
use crate::state::{FeedbackRow, State};

use super::DigestError;
use super::mail::{Simple, queue_simple};

/// Queues `message` to each contact (its `to` is replaced); returns how many were new.
fn queue_to_contacts(
    config: &Config,
    state: &State,
    contacts: &[String],
    message: Simple<'_>,
) -> Result<usize, DigestError> {
    let mut queued = 0;
    for to in contacts {
        queued += usize::from(queue_simple(config, state, Simple { to, ..message })?);
    }
    Ok(queued)
}

/// At most this many rejected cells are quoted per sheet; the rest are counted.
const MAX_REJECTS_QUOTED: usize = 200;

#[derive(Debug, Default, Clone)]
pub struct MailOutcome {
    pub queued: usize,
    /// Ledger entries with no contact to write to.
    pub without_contact: Vec<String>,
}

#[derive(Serialize)]
struct SheetView {
    sheet: String,
    template: Option<String>,
    loaded: usize,
    rejected_rows: usize,
    unknown_columns: Vec<String>,
    warnings: Vec<crate::ingest::sheet::SheetWarning>,
    rejects: Vec<crate::ingest::sheet::Reject>,
    more: usize,
    /// Why the sheet was refused whole (its title names another period), in Vietnamese.
    refused: Option<String>,
}

/// Queues feedback for every ledger entry not yet answered.
///
/// An entry whose report cannot be decoded is not answered (an empty report
/// would tell the department everything was taken): it stays pending, the
/// others are answered, and the first such entry is returned as the error.
pub fn queue_feedback(config: &Config, state: &State) -> Result<MailOutcome, DigestError> {
    let env = super::templates(&config.paths.digest_templates)?;
    let mut outcome = MailOutcome::default();
    let mut unreadable = Vec::new();
    // Each row's message and its "queued" mark commit together; rows are
    // committed a few hundred at a time.
    for rows in state.pending_feedback()?.chunks(FEEDBACK_ROWS_PER_COMMIT) {
        state.in_transaction(|| {
            for row in rows {
                match queue_one_feedback(config, state, &env, row, &mut outcome) {
                    Err(error @ DigestError::Report { .. }) => {
                        if let DigestError::Report { entry, source } = &error {
                            tracing::error!(%entry, cause = %source, "feedback held back: the report cannot be decoded");
                        }
                        unreadable.push(error);
                    }
                    other => other?,
                }
            }
            Ok::<_, DigestError>(())
        })?;
    }
    match unreadable.into_iter().next() {
        Some(error) => Err(error),
        None => Ok(outcome),
    }
}

/// The sheets of a ledger entry's report; an undecodable one is an error
/// naming the entry, never an empty report.
fn decode_report(row: &FeedbackRow) -> Result<Vec<SheetReport>, DigestError> {
    serde_json::from_str(&row.report).map_err(|source| DigestError::Report {
        entry: describe_entry(row),
        source,
    })
}

/// "submission 3f2a… (SYT/danh-sach_2025.xlsx, ledger row 12)".
fn describe_entry(row: &FeedbackRow) -> String {
    let file = if row.source_file.is_empty() {
        "no file name".to_string()
    } else {
        row.source_file.clone()
    };
    if row.submission_id.is_empty() {
        format!("the {} file {file} (ledger row {})", row.status, row.id)
    } else {
        format!(
            "submission {} ({file}, ledger row {})",
            row.submission_id, row.id
        )
    }
}

const FEEDBACK_ROWS_PER_COMMIT: usize = 256;

fn queue_one_feedback(
    config: &Config,
    state: &State,
    env: &minijinja::Environment<'_>,
    row: &FeedbackRow,
    outcome: &mut MailOutcome,
) -> Result<(), DigestError> {
    let Some(department) = config.department(&row.department) else {
        // Unknown folder: nobody to answer; the analyst sees it in `status`.
        outcome.without_contact.push(row.source_file.clone());
        state.mark_feedback_queued(row.id)?;
        return Ok(());
    };
    if department.contacts.is_empty() {
        outcome.without_contact.push(row.source_file.clone());
        state.mark_feedback_queued(row.id)?;
        return Ok(());
    }
    let (subject, text, html) = render_feedback(config, env, row, &department.name)?;
    let key = format!("feedback/{}", row.id);
    outcome.queued += queue_to_contacts(
        config,
        state,
        &department.contacts,
        Simple {
            kind: "feedback",
            key: &key,
            to: "",
            subject: &subject,
            text: &text,
            html: &html,
        },
    )?;
    state.mark_feedback_queued(row.id)?;
    Ok(())
}

pub(super) fn render_feedback(
    config: &Config,
    env: &minijinja::Environment<'_>,
    row: &FeedbackRow,
    department: &str,
) -> Result<(String, String, String), DigestError> {
    let sheets = decode_report(row)?;
    let title_of = |name: &str| {
        config
            .template(name)
            .map(|t| t.title.clone())
            .unwrap_or_else(|| name.to_string())
    };
    let views: Vec<SheetView> = sheets
        .iter()
        .map(|s| SheetView {
            sheet: s.sheet.clone(),
            template: s.template.as_deref().map(title_of),
            loaded: s.loaded,
            rejected_rows: s.rejected_rows,
            unknown_columns: s.unknown_columns.clone(),
            warnings: s.warnings.clone(),
            rejects: s.rejects.iter().take(MAX_REJECTS_QUOTED).cloned().collect(),
            more: s.rejects.len().saturating_sub(MAX_REJECTS_QUOTED),
            refused: s.refused.as_ref().map(|r| r.reason_vi.clone()),
        })
        .collect();
    let loaded: usize = sheets.iter().map(|s| s.loaded).sum();
    let rejected: usize = sheets.iter().map(|s| s.rejected_rows).sum();
    let skipped: usize = sheets.iter().map(|s| s.skips.total()).sum();
    let file_name = row
        .source_file
        .rsplit('/')
        .next()
        .unwrap_or(&row.source_file);
    let verdict = match (row.status.as_str(), rejected) {
        ("quarantined", _) => "Không tiếp nhận".to_string(),
        (_, 0) => "Đã tiếp nhận".to_string(),
        (_, n) => format!("Đã tiếp nhận, {n} dòng bị từ chối"),
    };
    let subject = format!(
        "[{}] Kết quả tiếp nhận tệp {file_name}: {verdict}",
        config.digest.organisation
    );
    let context = minijinja::context! {
        subject => &subject,
        organisation => &config.digest.organisation,
        department => department,
        source_file => file_name,
        received_at => local_time(&row.received_at),
        status => &row.status,
        period => &row.period,
        reason_vi => &row.reason_vi,
        reason_en => &row.reason,
        loaded => loaded,
        rejected => rejected,
        skipped => skipped,
        sheets => minijinja::value::Serde(&views),
    };
    let text = super::render_template(env, "feedback.txt.j2", &context)?;
    let html = super::render_template(env, "feedback.html.j2", &context)?;
    Ok((subject, text, html))
}

fn local_time(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| {
            t.with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
                .format("%H:%M ngày %d/%m/%Y")
                .to_string()
        })
        .unwrap_or_else(|_| rfc3339.to_string())
}

/// The last reporting period that has ended on `today`, and its deadline.
pub fn due_period(
    today: NaiveDate,
    cycle: ReportingCycle,
    days_after_end: u32,
) -> (Period, NaiveDate) {
    // The last full span of `months` months (12, 6 or 3) that ended before today.
    let months: u32 = match cycle {
        ReportingCycle::Year => 12,
        ReportingCycle::Half => 6,
        ReportingCycle::Quarter => 3,
    };
    let running = today.month0() / months; // 0 = the first span of the year is running
    let (year, number) = if running == 0 {
        (today.year() - 1, 12 / months)
    } else {
        (today.year(), running)
    };
    // Spans are 1..=4 at most: the casts cannot truncate.
    let number = number as u8;
    let period = match cycle {
        ReportingCycle::Year => Some(Period::year(year)),
        ReportingCycle::Half => Period::half(year, number),
        ReportingCycle::Quarter => Period::quarter(year, number),
    }
    .unwrap_or_else(|| Period::year(year));
    let end = NaiveDate::from_ymd_opt(year, u32::from(number) * months, 1)
        .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
        .and_then(|d| d.pred_opt());
    let end = end.unwrap_or(today);
    let deadline = end + chrono::Days::new(u64::from(days_after_end));
    (period, deadline)
}

/// Queues a reminder, once per department and period, to every department
/// with no accepted submission for the last period once its deadline passed.
pub fn queue_reminders(
    config: &Config,
    state: &State,
    today: NaiveDate,
) -> Result<MailOutcome, DigestError> {
    let (period, deadline) = due_period(
        today,
        config.reminders.cycle,
        config.reminders.days_after_period_end,
    );
    let mut outcome = MailOutcome::default();
    if today <= deadline {
        return Ok(outcome);
    }
    let period_text = period.to_string();
    let submitted: std::collections::BTreeSet<String> = state
        .submissions()?
        .into_iter()
        .filter(|s| s.period == period_text)
        .map(|s| s.department)
        .collect();
    let env = super::templates(&config.paths.digest_templates)?;
    for department in &config.departments {
        if submitted.contains(&department.code) {
            continue;
        }
        if department.contacts.is_empty() {
            outcome.without_contact.push(department.code.clone());
            continue;
        }
        let (subject, text, html) =
            render_reminder(config, &env, department, period, deadline, today)?;
        let key = format!("reminder/{period_text}/{}", department.code);
        outcome.queued += queue_to_contacts(
            config,
            state,
            &department.contacts,
            Simple {
                kind: "reminder",
                key: &key,
                to: "",
                subject: &subject,
                text: &text,
                html: &html,
            },
        )?;
    }
    Ok(outcome)
}

/// One department's reminder: subject, text and HTML.
pub(super) fn render_reminder(
    config: &Config,
    env: &minijinja::Environment<'_>,
    department: &crate::config::Department,
    period: Period,
    deadline: NaiveDate,
    today: NaiveDate,
) -> Result<(String, String, String), DigestError> {
    let subject = format!(
        "[{}] Nhắc nộp báo cáo đào tạo, bồi dưỡng {}",
        config.digest.organisation,
        period.label_vi()
    );
    let context = minijinja::context! {
        subject => &subject,
        organisation => &config.digest.organisation,
        department => &department.name,
        period => period.to_string(),
        period_label => period.label_vi(),
        deadline => deadline.format("%d/%m/%Y").to_string(),
        today => today.format("%d/%m/%Y").to_string(),
        folder => format!("inbox/{}/", department.code),
    };
    let text = super::render_template(env, "reminder.txt.j2", &context)?;
    let html = super::render_template(env, "reminder.html.j2", &context)?;
    Ok((subject, text, html))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn the_period_due_and_its_deadline() {
        let (p, deadline) = due_period(date(2026, 1, 20), ReportingCycle::Year, 15);
        assert_eq!(
            (p.to_string(), deadline),
            ("2025".to_string(), date(2026, 1, 15))
        );
        let (p, deadline) = due_period(date(2026, 2, 3), ReportingCycle::Quarter, 10);
        assert_eq!(
            (p.to_string(), deadline),
            ("2025-Q4".to_string(), date(2026, 1, 10))
        );
        let (p, deadline) = due_period(date(2026, 11, 23), ReportingCycle::Quarter, 15);
        assert_eq!(
            (p.to_string(), deadline),
            ("2026-Q3".to_string(), date(2026, 10, 15))
        );
        let (p, deadline) = due_period(date(2026, 3, 1), ReportingCycle::Half, 20);
        assert_eq!(
            (p.to_string(), deadline),
            ("2025-H2".to_string(), date(2026, 1, 20))
        );
        let (p, deadline) = due_period(date(2026, 7, 20), ReportingCycle::Half, 15);
        assert_eq!(
            (p.to_string(), deadline),
            ("2026-H1".to_string(), date(2026, 7, 15))
        );
    }
}
