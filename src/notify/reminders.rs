//! Reminders to the departments whose report is late.

use chrono::{Datelike, NaiveDate};

use crate::config::{Config, ReportingCycle};
use crate::mail::Outgoing;
use crate::message_templates;
use crate::model::period::Period;
use crate::state::State;

use super::{MailOutcome, NotifyError, forms, queue_to_contacts};

/// The templates a reminder attaches the forms of: what its text asks for
/// (the staff roster and the training results), where they exist.
pub const REMINDER_FORMS: &[&str] = &["staff", "training"];

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
) -> Result<MailOutcome, NotifyError> {
    let (period, deadline) = due_period(
        today,
        config.reminders.cycle,
        config.reminders.days_after_period_end,
    );
    let mut outcome = MailOutcome::default();
    if today <= deadline {
        return Ok(outcome);
    }
    let submitted: std::collections::BTreeSet<String> = state
        .submissions()?
        .into_iter()
        .filter(|s| s.period == period)
        .map(|s| s.department)
        .collect();
    let env = message_templates::load(&config.paths.digest_templates)?;
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
        let key = format!("reminder/{period}/{}", department.code);
        outcome.queued += queue_to_contacts(
            config,
            state,
            &department.contacts,
            Outgoing {
                kind: "reminder",
                key: &key,
                to: "",
                subject: &subject,
                text: &text,
                html: &html,
                images: &[],
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
) -> Result<(String, String, String), NotifyError> {
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
    let text = message_templates::render(env, "reminder.txt.j2", &context)?;
    let html = message_templates::render(env, "reminder.html.j2", &context)?;
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
