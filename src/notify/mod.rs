//! Mail to departments: feedback on each file they sent, and reminders when
//! their report is late. Both go through the outbox of [`crate::mail`] like
//! the leaders' digest, apart from it. Feedback quotes only the department's
//! own rows and goes only to its contacts.

mod feedback;
mod reminders;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::config::Config;
use crate::mail::{self, MailError, Outgoing};
use crate::message_templates::{Sample, TemplateError};
use crate::model::period::Period;
use crate::model::report::LedgerReportError;
use crate::state::{State, StateError};

pub use feedback::queue_feedback;
pub use reminders::{REMINDER_FORMS, due_period, queue_reminders};

/// Why feedback or reminders could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// A message template that cannot be read, parsed or rendered.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// A message that cannot be built or queued.
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error(transparent)]
    State(#[from] StateError),
    /// A report in the ledger that cannot be decoded: never answered as an empty one.
    #[error(
        "the report of {entry} in the state database cannot be decoded, so its feedback is held back (the other files are answered)"
    )]
    Report {
        /// Which ledger entry: its submission, file and ledger row.
        entry: String,
        #[source]
        source: LedgerReportError,
    },
}

/// Queues `message` to each contact (its `to` is replaced); returns how many were new.
fn queue_to_contacts(
    config: &Config,
    state: &State,
    contacts: &[String],
    message: Outgoing<'_>,
) -> Result<usize, NotifyError> {
    let mut queued = 0;
    for to in contacts {
        queued += usize::from(mail::queue(config, state, Outgoing { to, ..message })?);
    }
    Ok(queued)
}

/// What queueing feedback or reminders did: the messages queued, and the
/// ledger entries with no one to write to.
#[derive(Debug, Default, Clone)]
pub struct MailOutcome {
    pub queued: usize,
    /// Ledger entries with no contact to write to.
    pub without_contact: Vec<String>,
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

/// The sample feedback and reminder of `nhanluc check` (a
/// [`crate::message_templates::Sampler`]).
pub(crate) fn template_samples(
    config: &Config,
    env: &minijinja::Environment<'_>,
    parsed: &BTreeMap<&str, PathBuf>,
) -> Vec<Sample> {
    samples::render_all(config, env, parsed)
}

/// Sample messages for [`template_samples`], made from the configuration.
mod samples {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use chrono::NaiveDate;

    use super::NotifyError;
    use crate::config::{Config, Department};
    use crate::message_templates::{self, Sample, SampleError};
    use crate::model::period::Period;
    use crate::model::report::{LedgerReport, SheetReport};
    use crate::model::rows::{Reject, SheetWarning};
    use crate::model::status::SubmissionStatus;
    use crate::state::FeedbackRow;

    /// Renders each sample whose templates all parsed (`parsed`): the
    /// template names with the outcome.
    pub(super) fn render_all(
        config: &Config,
        env: &minijinja::Environment<'_>,
        parsed: &BTreeMap<&str, PathBuf>,
    ) -> Vec<Sample> {
        let all_parsed = |names: &[&str]| names.iter().all(|n| parsed.contains_key(n));
        let mut out = Vec::new();
        const FEEDBACK: &[&str] = &["feedback.txt.j2", "feedback.html.j2"];
        const REMINDER: &[&str] = &["reminder.txt.j2", "reminder.html.j2"];
        let sample_department = message_templates::sample_department(config);
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
                out.push((FEEDBACK, rendered.map(drop).map_err(sample_error)));
            }
        }
        if all_parsed(REMINDER) {
            let (period, deadline) = (Period::year(2025), date(2026, 1, 15));
            let rendered = super::reminders::render_reminder(
                config,
                env,
                &sample_department,
                period,
                deadline,
                date(2026, 2, 2),
                &["mau_staff_SAMPLE_2025.xlsx".to_string()],
            );
            out.push((REMINDER, rendered.map(drop).map_err(sample_error)));
        }
        out
    }

    /// A template's failure is blamed on that template, anything else on the sample.
    fn sample_error(error: NotifyError) -> SampleError {
        match error {
            NotifyError::Template(e) => SampleError::Template(e),
            other => SampleError::Other(crate::error_chain::chain(&other)),
        }
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
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
        let stored = |sheets| LedgerReport { sheets }.to_stored();
        let row = |status, reason: &str, (report, report_version)| FeedbackRow {
            id: 0,
            submission_id: "sample".into(),
            department: department.code.clone(),
            period: "2025".into(),
            source_file: format!("{}/bao-cao-2025.xlsx", department.code),
            status,
            reason: reason.into(),
            reason_vi: reason.into(),
            report,
            report_version,
            received_at: "2026-01-15T02:00:00+00:00".into(),
            effect: crate::model::addition::Effect::First,
        };
        vec![
            row(SubmissionStatus::Accepted, "", stored(vec![sheet])),
            row(
                SubmissionStatus::Quarantined,
                "not a workbook",
                stored(Vec::new()),
            ),
        ]
    }
}
