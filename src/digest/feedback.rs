//! Mail to departments: feedback on each file they sent, and reminders when
//! their report is late. Both go through the outbox like the digest. Feedback
//! quotes only the department's own rows and goes only to its contacts.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::config::{Config, ReportingCycle};
use crate::model::period::Period;
use crate::model::report::SheetReport;
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
    /// The instructions sheet of a form from `nhanluc form`: matches no
    /// template by design, and the message says so instead of "not read".
    form_instructions: bool,
    loaded: usize,
    rejected_rows: usize,
    unknown_columns: Vec<String>,
    warnings: Vec<crate::model::rows::SheetWarning>,
    rejects: Vec<crate::model::rows::Reject>,
    more: usize,
    /// Why the sheet was refused whole (its title names another period), in Vietnamese.
    refused: Option<String>,
    /// Skipped rows by kind ("12–19": "khối chữ ký"), so a wrong skip is
    /// seen by the person who can fix it.
    skipped: Vec<SkippedView>,
    /// Headers of the template's fields that no column of the sheet gave.
    fields_not_found: Vec<String>,
}

#[derive(Serialize)]
struct SkippedView {
    rows: String,
    label: &'static str,
}

/// Runs of skipped rows, grouped by kind in the order first met: "12–19, 25".
fn skipped_views(skipped: &[crate::model::rows::SkippedRows]) -> Vec<SkippedView> {
    let mut kinds: Vec<(crate::model::rows::SkipKind, Vec<String>)> = Vec::new();
    for run in skipped {
        let shown = if run.first_row == run.last_row {
            run.first_row.to_string()
        } else {
            format!("{}–{}", run.first_row, run.last_row)
        };
        match kinds.iter_mut().find(|(k, _)| *k == run.kind) {
            Some((_, runs)) => runs.push(shown),
            None => kinds.push((run.kind, vec![shown])),
        }
    }
    kinds
        .into_iter()
        .map(|(kind, runs)| {
            // A long list is cut: the department needs the pattern, not every run.
            let more = runs.len().saturating_sub(MAX_SKIPPED_RUNS_SHOWN);
            let mut rows = runs
                .into_iter()
                .take(MAX_SKIPPED_RUNS_SHOWN)
                .collect::<Vec<_>>()
                .join(", ");
            if more > 0 {
                rows.push_str(&format!(" … (+{more})"));
            }
            SkippedView {
                rows,
                label: kind.label_vi(),
            }
        })
        .collect()
}

const MAX_SKIPPED_RUNS_SHOWN: usize = 12;

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
        crate::model::names::printable(&row.source_file)
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
    let sheets = decode_report(row)?;
    let forms = feedback_forms(config, department, row, &sheets);
    let names: Vec<String> = forms.iter().map(|(name, _)| name.clone()).collect();
    let (subject, text, html) =
        render_feedback_sheets(config, env, row, &sheets, &department.name, &names)?;
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
            attachments: &forms,
        },
    )?;
    state.mark_feedback_queued(row.id)?;
    Ok(())
}

/// The blank forms a feedback attaches: one per template of a sheet with
/// rejected rows, for the department and the file's period, so the rows can
/// be corrected on the form the reader expects. A form that cannot be built
/// is left out with a warning: the feedback itself matters more.
fn feedback_forms(
    config: &Config,
    department: &crate::config::Department,
    row: &FeedbackRow,
    sheets: &[SheetReport],
) -> Vec<(String, Vec<u8>)> {
    let mut names: Vec<&str> = Vec::new();
    for sheet in sheets {
        if let Some(name) = sheet.template.as_deref()
            && sheet.rejected_rows > 0
            && !names.contains(&name)
        {
            names.push(name);
        }
    }
    let period = row.period.parse::<Period>().ok();
    forms(config, department, period, &names)
}

/// The forms of `names` for a department and period, each as (file name, bytes).
fn forms(
    config: &Config,
    department: &crate::config::Department,
    period: Option<Period>,
    names: &[&str],
) -> Vec<(String, Vec<u8>)> {
    names
        .iter()
        .filter_map(
            |name| match crate::form::attachment(config, name, Some(department), period) {
                Ok(form) => Some(form),
                Err(e) => {
                    tracing::warn!(template = %name, department = %department.code, error = %crate::error_chain::Chain(&e), "blank form not attached");
                    None
                }
            },
        )
        .collect()
}

/// The templates a reminder attaches the forms of: what its text asks for
/// (the staff roster and the training results), where they exist.
pub const REMINDER_FORMS: &[&str] = &["staff", "training"];

pub(super) fn render_feedback(
    config: &Config,
    env: &minijinja::Environment<'_>,
    row: &FeedbackRow,
    department: &str,
    forms: &[String],
) -> Result<(String, String, String), DigestError> {
    let sheets = decode_report(row)?;
    render_feedback_sheets(config, env, row, &sheets, department, forms)
}

/// [`render_feedback`] of a report already decoded; `forms` names the
/// attached blank forms.
fn render_feedback_sheets(
    config: &Config,
    env: &minijinja::Environment<'_>,
    row: &FeedbackRow,
    sheets: &[SheetReport],
    department: &str,
    forms: &[String],
) -> Result<(String, String, String), DigestError> {
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
            form_instructions: s.template.is_none() && s.sheet == crate::form::INSTRUCTIONS_SHEET,
            loaded: s.loaded,
            rejected_rows: s.rejected_rows,
            unknown_columns: s.unknown_columns.clone(),
            warnings: s.warnings.clone(),
            rejects: s.rejects.iter().take(MAX_REJECTS_QUOTED).cloned().collect(),
            more: s.rejects.len().saturating_sub(MAX_REJECTS_QUOTED),
            refused: s.refused.as_ref().map(|r| r.reason_vi.clone()),
            // The form's own instructions are not rows the department wrote.
            skipped: if s.template.is_none() && s.sheet == crate::form::INSTRUCTIONS_SHEET {
                Vec::new()
            } else {
                skipped_views(&s.skipped_rows)
            },
            fields_not_found: s
                .template
                .as_deref()
                .and_then(|t| config.template(t))
                .map(|t| {
                    s.fields_not_found
                        .iter()
                        .filter_map(|f| t.fields.iter().find(|field| &field.name == f))
                        .filter_map(|field| field.headers.first().cloned())
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect();
    let loaded: usize = sheets.iter().map(|s| s.loaded).sum();
    let rejected: usize = sheets.iter().map(|s| s.rejected_rows).sum();
    // The rows of a form's instructions sheet are not rows of the report: its
    // own line says what it is, so they are not counted as skipped rows here
    // (the ledger keeps them, as `unmatched`).
    let skipped: usize = sheets
        .iter()
        .zip(&views)
        .filter(|(_, view)| !view.form_instructions)
        .map(|(s, _)| s.skips.total())
        .sum();
    // Shown in the subject and the text: a control character in a name
    // (a newline) is written as an escape, never raw.
    let file_name = crate::model::names::printable(
        row.source_file
            .rsplit('/')
            .next()
            .unwrap_or(&row.source_file),
    );
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
        forms => forms.to_vec(),
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
        let names: Vec<&str> = REMINDER_FORMS
            .iter()
            .copied()
            .filter(|name| config.template(name).is_some())
            .collect();
        let forms = forms(config, department, Some(period), &names);
        let form_names: Vec<String> = forms.iter().map(|(name, _)| name.clone()).collect();
        let (subject, text, html) = render_reminder(
            config,
            &env,
            department,
            period,
            deadline,
            today,
            &form_names,
        )?;
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
                attachments: &forms,
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
    forms: &[String],
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
        forms => forms.to_vec(),
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
