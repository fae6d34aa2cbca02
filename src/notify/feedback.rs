//! Feedback to a department on each file it sent: what was taken, what was
//! rejected and why, with the blank forms to correct it on.

use serde::Serialize;

use crate::config::Config;
use crate::mail::Outgoing;
use crate::message_templates;
use crate::model::addition::{EarlierFile, Effect, received_day};
use crate::model::period::Period;
use crate::model::report::{LedgerReport, SheetReport};
use crate::model::status::SubmissionStatus;
use crate::state::{FeedbackRow, State};

use super::{MailOutcome, NotifyError, forms, queue_to_contacts};

/// At most this many rejected cells are quoted per sheet; the rest are counted.
const MAX_REJECTS_QUOTED: usize = 200;

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
pub fn queue_feedback(config: &Config, state: &State) -> Result<MailOutcome, NotifyError> {
    let env = message_templates::load(&config.paths.digest_templates)?;
    let mut outcome = MailOutcome::default();
    let mut unreadable = Vec::new();
    // Each row's message and its "queued" mark commit together; rows are
    // committed a few hundred at a time.
    for rows in state.pending_feedback()?.chunks(FEEDBACK_ROWS_PER_COMMIT) {
        state.in_transaction(|| {
            for row in rows {
                match queue_one_feedback(config, state, &env, row, &mut outcome) {
                    Err(error @ NotifyError::Report { .. }) => {
                        if let NotifyError::Report { entry, source } = &error {
                            tracing::error!(%entry, cause = %source, "feedback held back: the report cannot be decoded");
                        }
                        unreadable.push(error);
                    }
                    other => other?,
                }
            }
            Ok::<_, NotifyError>(())
        })?;
    }
    match unreadable.into_iter().next() {
        Some(error) => Err(error),
        None => Ok(outcome),
    }
}

/// The sheets of a ledger entry's report; an undecodable one is an error
/// naming the entry, never an empty report.
fn decode_report(row: &FeedbackRow) -> Result<Vec<SheetReport>, NotifyError> {
    LedgerReport::from_stored(&row.report, row.report_version)
        .map(|report| report.sheets)
        .map_err(|source| NotifyError::Report {
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
) -> Result<(), NotifyError> {
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
        Outgoing {
            kind: "feedback",
            key: &key,
            to: "",
            subject: &subject,
            text: &text,
            html: &html,
            images: &[],
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

pub(super) fn render_feedback(
    config: &Config,
    env: &minijinja::Environment<'_>,
    row: &FeedbackRow,
    department: &str,
    forms: &[String],
) -> Result<(String, String, String), NotifyError> {
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
) -> Result<(String, String, String), NotifyError> {
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
    let accepted = row.status != SubmissionStatus::Quarantined;
    let added = accepted && matches!(row.effect, Effect::Added { .. });
    let verdict = match (row.status, rejected) {
        (SubmissionStatus::Quarantined, _) => "Không tiếp nhận".to_string(),
        (_, 0) if added => "Đã bổ sung".to_string(),
        (_, 0) => "Đã tiếp nhận".to_string(),
        (_, n) if added => format!("Đã bổ sung, {n} dòng bị từ chối"),
        (_, n) => format!("Đã tiếp nhận, {n} dòng bị từ chối"),
    };
    let (effect_vi, effect_en) = if accepted {
        effect_lines(config, &row.effect, sheets)
    } else {
        (Vec::new(), Vec::new())
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
        status => row.status.as_str(),
        period => &row.period,
        reason_vi => &row.reason_vi,
        reason_en => &row.reason,
        loaded => loaded,
        rejected => rejected,
        skipped => skipped,
        sheets => minijinja::value::Serde(&views),
        forms => forms.to_vec(),
        added => added,
        effect_vi => effect_vi,
        effect_en => effect_en,
    };
    let text = message_templates::render(env, "feedback.txt.j2", &context)?;
    let html = message_templates::render(env, "feedback.html.j2", &context)?;
    Ok((subject, text, html))
}

/// What the file did to the rows the department had sent before, one line
/// per earlier list, in Vietnamese and English: added to them, replaced
/// them, or (nothing said) the first.
fn effect_lines(
    config: &Config,
    effect: &Effect,
    sheets: &[SheetReport],
) -> (Vec<String>, Vec<String>) {
    let title = |form: &str| {
        config
            .template(form)
            .map_or_else(|| form.to_string(), |t| t.title.clone())
    };
    // A roster adds people; a training list adds attendances.
    let unit = |form: &str| {
        let attendances = config
            .template(form)
            .is_some_and(|t| t.field_index("course").is_some());
        if attendances {
            ("lượt học", "attendances")
        } else if config
            .template(form)
            .is_some_and(crate::model::identity::names_people)
        {
            ("người", "people")
        } else {
            ("dòng", "rows")
        }
    };
    let file = |e: &EarlierFile| {
        let day = received_day(&e.received_at);
        let name = crate::model::names::printable(
            e.source_file.rsplit('/').next().unwrap_or(&e.source_file),
        );
        (
            format!("tệp \"{name}\" nhận ngày {day}, {} dòng", e.rows),
            format!("\"{name}\" received on {day}, {} rows", e.rows),
        )
    };
    let (mut vi, mut en) = (Vec::new(), Vec::new());
    match effect {
        Effect::First => {}
        Effect::Replaced { earlier } => {
            for e in earlier {
                let (f_vi, f_en) = file(e);
                let form = title(&e.template);
                vi.push(format!("Tệp này THAY THẾ danh sách \"{form}\" đã gửi trước ({f_vi}): số liệu cũ không còn được dùng."));
                en.push(format!("This file REPLACES the list \"{form}\" sent before ({f_en}): the earlier rows are no longer used."));
            }
        }
        Effect::Added {
            addition,
            added_rows,
            to,
            replaced,
        } => {
            let label_vi = addition.label_vi();
            let label_en = addition.label_en();
            // One line per form added to, with the rows this file loaded of it.
            let mut forms_added: Vec<&str> = Vec::new();
            for e in to.iter().chain(replaced.iter()) {
                if !forms_added.contains(&e.template.as_str()) {
                    forms_added.push(&e.template);
                }
            }
            for form in forms_added {
                let loaded_of_form: usize = sheets
                    .iter()
                    .filter(|s| s.template.as_deref() == Some(form))
                    .map(|s| s.loaded)
                    .sum();
                let rows = if sheets.is_empty() {
                    *added_rows
                } else {
                    loaded_of_form as i64
                };
                let (unit_vi, unit_en) = unit(form);
                let earlier: Vec<&EarlierFile> = to.iter().filter(|e| e.template == form).collect();
                let title = title(form);
                if earlier.is_empty() {
                    vi.push(format!(
                        "Tệp {label_vi}: đã ghi nhận {rows} {unit_vi} của biểu \"{title}\"."
                    ));
                    en.push(format!(
                        "The {label_en}: {rows} {unit_en} of form \"{title}\" taken."
                    ));
                    continue;
                }
                let files: Vec<(String, String)> = earlier.iter().map(|e| file(e)).collect();
                let mut days: Vec<String> = Vec::new();
                for e in &earlier {
                    let day = received_day(&e.received_at);
                    if !days.contains(&day) {
                        days.push(day);
                    }
                }
                vi.push(format!(
                    "Đã bổ sung {rows} {unit_vi} vào danh sách \"{title}\" đã nhận ngày {} ({}); danh sách cũ vẫn được giữ nguyên (tệp {label_vi}).",
                    days.join(", "),
                    files.iter().map(|f| f.0.as_str()).collect::<Vec<_>>().join("; ")
                ));
                en.push(format!(
                    "Added {rows} {unit_en} to the list \"{title}\" received on {} ({}); the earlier list is kept (a {label_en}).",
                    days.join(", "),
                    files.iter().map(|f| f.1.as_str()).collect::<Vec<_>>().join("; ")
                ));
            }
            for e in replaced {
                let (f_vi, f_en) = file(e);
                vi.push(format!(
                    "Tệp này thay thế {label_vi} đã gửi trước ({f_vi})."
                ));
                en.push(format!(
                    "This file replaces the {label_en} sent before ({f_en})."
                ));
            }
        }
    }
    (vi, en)
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
