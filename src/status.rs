//! `nhanluc status`: what the pipeline has done and what waits, as aligned
//! tables an analyst reads and as one JSON document scripts parse.
//!
//! [`gather`] reads a [`Snapshot`] from the configuration and the state
//! database with aggregate queries (a handful of them, whatever the size of
//! the registry); [`render_text`] and [`render_json`] are pure functions of it.
//!
//! The JSON document is the [`Snapshot`] itself: its field names are the
//! contract for scripts (`schema_version` changes if one is renamed or
//! removed; fields may be added). Times in JSON are as stored (RFC 3339, UTC)
//! except a job's `next_run`, which is in the job's time zone; the text shows
//! every time in [`Snapshot::timezone`].

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use comfy_table::{Cell, CellAlignment, ColumnConstraint, Table, Width, presets};
use serde::Serialize;

use crate::config::Config;
use crate::jobs;
use crate::model::period::Period;
use crate::model::scope::Level;
use crate::state::{State, StateError};
use crate::warehouse;

/// The version of the JSON document's shape.
pub(crate) const SCHEMA_VERSION: u32 = 1;
/// Runs listed, newest first.
const RECENT_RUNS: usize = 10;
/// Quarantined files listed, newest first.
const QUARANTINED_LISTED: usize = 10;
/// The text lists at most this many departments (and outbox messages, and
/// departments that have not submitted); the JSON document has them all.
pub const TEXT_ROWS: usize = 40;
/// The text shows at most this many periods per department, the latest.
const TEXT_PERIODS: usize = 4;
/// A run's error is cut after this many characters in the text.
const ERROR_CHARS: usize = 240;

/// Everything `status` shows, read once.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub schema_version: u32,
    /// When it was read (RFC 3339, UTC).
    pub generated_at: String,
    /// The time zone the text shows times in (the jobs' time zone).
    pub timezone: String,
    /// The latest runs, newest first.
    pub runs: Vec<RunInfo>,
    /// Every job of the jobs folder, by name.
    pub jobs: Vec<JobInfo>,
    pub outbox: OutboxInfo,
    pub ledger: LedgerInfo,
    /// The forms (templates) submissions are read with, in configuration order.
    pub forms: Vec<FormInfo>,
    /// Every period with a submission, oldest first.
    pub periods: Vec<String>,
    /// The latest of `periods`.
    pub latest_period: Option<String>,
    /// Per administrative level: departments and how many submitted the latest period.
    pub levels: Vec<LevelInfo>,
    /// The registry in its order, then departments the ledger knows but the
    /// registry no longer lists.
    pub departments: Vec<DepartmentInfo>,
    /// Registered departments with no accepted file for the latest period.
    pub not_submitted_latest: Vec<MissingInfo>,
    /// The latest quarantined files, newest first (at most 10).
    pub quarantined: Vec<QuarantineInfo>,
    /// Periods whose indicators are in the warehouse, oldest first.
    pub indicator_periods: Vec<String>,
}

/// One recorded run of a job.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub id: i64,
    pub job: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub duration_seconds: Option<f64>,
    /// `running`, `succeeded`, `failed` or `interrupted`.
    pub status: String,
    /// The run's counters by name (`files_accepted`, `rows_rejected`, …).
    pub counts: BTreeMap<String, i64>,
    pub error: Option<String>,
}

/// A job of the jobs folder, its schedule and its next run.
#[derive(Debug, Clone, Serialize)]
pub struct JobInfo {
    pub name: String,
    pub schedule: String,
    pub timezone: String,
    pub steps: Vec<String>,
    /// The next scheduled run (RFC 3339 in the job's time zone), if the schedule has one.
    pub next_run: Option<String>,
    pub last_run: Option<LastRun>,
}

/// How a job's last run went.
#[derive(Debug, Clone, Serialize)]
pub struct LastRun {
    pub id: i64,
    pub started_at: String,
    pub status: String,
}

/// What waits in the outbox, and what was given up.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxInfo {
    pub sent: i64,
    pub waiting: i64,
    /// Every waiting message, oldest first.
    pub messages: Vec<MessageInfo>,
    /// Messages given up: the server refused them `[smtp]
    /// max_attempts_refused` times; never retried automatically.
    pub failed: i64,
    /// Every message given up, oldest first.
    pub failed_messages: Vec<FailedMessageInfo>,
}

/// A message the server refused for good: no longer retried.
#[derive(Debug, Clone, Serialize)]
pub struct FailedMessageInfo {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub attempts: i64,
    pub created_at: String,
    /// When it was given up.
    pub failed_at: Option<String>,
    /// The server's last refusal.
    pub last_error: Option<String>,
}

/// A message still waiting for delivery.
#[derive(Debug, Clone, Serialize)]
pub struct MessageInfo {
    pub id: i64,
    /// `digest`, `feedback`, `reminder`, …
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub attempts: i64,
    pub created_at: String,
    /// When the next delivery attempt is due; none before the first attempt.
    pub next_attempt_at: Option<String>,
    /// Whether an attempt is due now.
    pub due: bool,
    pub last_error: Option<String>,
}

/// How many files the ledger holds, by status.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerInfo {
    pub accepted: i64,
    pub superseded: i64,
    pub quarantined: i64,
}

/// The submissions of one form in a period.
#[derive(Debug, Clone, Serialize)]
pub struct FormInfo {
    pub name: String,
    pub title: String,
}

/// The departments of one level: how many sent, how many did not.
#[derive(Debug, Clone, Serialize)]
pub struct LevelInfo {
    /// `province`, `district` or `commune`.
    pub level: String,
    pub departments: usize,
    pub submitted_latest: usize,
    pub not_submitted_latest: usize,
    /// Departments with an accepted file of each form for the latest period.
    pub forms_latest: BTreeMap<String, usize>,
}

/// What one department sent in the period.
#[derive(Debug, Clone, Serialize)]
pub struct DepartmentInfo {
    pub code: String,
    /// Empty for a department the registry no longer lists.
    pub name: String,
    pub level: Option<String>,
    pub in_registry: bool,
    /// One entry per period and form the ledger holds files for.
    pub submissions: Vec<SubmissionInfo>,
}

/// What the ledger holds for one department, period and form.
#[derive(Debug, Clone, Serialize)]
pub struct SubmissionInfo {
    pub period: String,
    pub form: String,
    /// The latest accepted file's submission id and receipt time.
    pub latest_submission_id: Option<String>,
    pub latest_received_at: Option<String>,
    /// Rows held in the warehouse for this form (every active file).
    pub rows: i64,
    /// Files whose rows are held: more than one when later files were additions.
    pub files: i64,
    /// Files added to the first one ("bổ sung", "đợt N").
    pub additions: i64,
    /// Older files whose rows a newer file replaced.
    pub superseded: i64,
}

/// A department that sent nothing in the period.
#[derive(Debug, Clone, Serialize)]
pub struct MissingInfo {
    pub code: String,
    pub name: String,
    pub level: String,
    /// The latest period the department has an accepted file for.
    pub last_period: Option<String>,
}

/// A quarantined file.
#[derive(Debug, Clone, Serialize)]
pub struct QuarantineInfo {
    pub received_at: String,
    pub department: Option<String>,
    pub source_file: String,
    /// Where it went, relative to the quarantine folder.
    pub stored_as: Option<String>,
    pub reason_vi: String,
    pub reason_en: String,
}

/// Reads the snapshot: recent runs, jobs, the outbox, the ledger aggregated
/// per department, period and form, quarantined files and indicator periods.
pub fn gather(config: &Config, state: &State, now: DateTime<Utc>) -> Result<Snapshot, StateError> {
    let timezone = config
        .jobs
        .values()
        .next()
        .map(|j| j.timezone)
        .unwrap_or(chrono_tz::Asia::Ho_Chi_Minh);

    let runs = state
        .recent_runs(RECENT_RUNS)?
        .into_iter()
        .map(|run| RunInfo {
            duration_seconds: run
                .ended_at
                .as_deref()
                .and_then(|end| seconds_between(&run.started_at, end)),
            counts: parse_counts(run.counts.as_deref()),
            id: run.id,
            job: run.job,
            started_at: run.started_at,
            ended_at: run.ended_at,
            status: run.status,
            error: run.error,
        })
        .collect();

    let last_runs: HashMap<String, LastRun> = state
        .last_run_per_job()?
        .into_iter()
        .map(|run| {
            (
                run.job,
                LastRun {
                    id: run.id,
                    started_at: run.started_at,
                    status: run.status,
                },
            )
        })
        .collect();
    let jobs = config
        .jobs
        .iter()
        .map(|(name, job)| JobInfo {
            name: name.clone(),
            schedule: job.schedule.clone(),
            timezone: job.timezone.name().to_string(),
            steps: job.steps.iter().map(|s| s.as_str().to_string()).collect(),
            next_run: jobs::serve::next_run(job, now).map(|t| t.to_rfc3339()),
            last_run: last_runs.get(name).cloned(),
        })
        .collect();

    let (sent, waiting) = state.outbox_counts()?;
    let messages = state
        .waiting_messages()?
        .into_iter()
        .map(|m| MessageInfo {
            due: m
                .next_attempt_at
                .as_deref()
                .and_then(parse_time)
                .is_none_or(|at| at <= now),
            id: m.id,
            kind: m.kind,
            recipient: m.recipient,
            subject: m.subject,
            attempts: m.attempts,
            created_at: m.created_at,
            next_attempt_at: m.next_attempt_at,
            last_error: m.last_error,
        })
        .collect();

    let failed_messages: Vec<FailedMessageInfo> = state
        .failed_messages()?
        .into_iter()
        .map(|m| FailedMessageInfo {
            id: m.id,
            kind: m.kind,
            recipient: m.recipient,
            subject: m.subject,
            attempts: m.attempts,
            created_at: m.created_at,
            failed_at: m.failed_at,
            last_error: m.last_error,
        })
        .collect();

    let counts = state.ledger_counts()?;
    let cells = state.submission_cells()?;
    let quarantined = state
        .quarantined_files(QUARANTINED_LISTED)?
        .into_iter()
        .map(|q| QuarantineInfo {
            received_at: q.received_at,
            department: q.department,
            source_file: q.source_file,
            stored_as: q.stored_as,
            reason_vi: q.reason_vi,
            reason_en: q.reason_en,
        })
        .collect();

    let mut forms: Vec<FormInfo> = config
        .templates
        .iter()
        .map(|t| FormInfo {
            name: t.name.clone(),
            title: t.title.clone(),
        })
        .collect();
    let known_forms: HashSet<String> = forms.iter().map(|f| f.name.clone()).collect();
    let mut extra_forms: Vec<String> = cells
        .iter()
        .filter(|c| !known_forms.contains(&c.template))
        .map(|c| c.template.clone())
        .collect();
    extra_forms.sort();
    extra_forms.dedup();
    forms.extend(extra_forms.into_iter().map(|name| FormInfo {
        title: String::new(),
        name,
    }));

    // A handful of distinct periods: parse each once, then sort by rank.
    let distinct: HashSet<&str> = cells.iter().map(|c| c.period.as_str()).collect();
    let mut periods: Vec<String> = distinct.into_iter().map(str::to_string).collect();
    periods.sort_by(|a, b| period_order(a).cmp(&period_order(b)));
    let rank: HashMap<String, usize> = periods
        .iter()
        .enumerate()
        .map(|(i, p)| (p.clone(), i))
        .collect();
    // The latest in time (an annual report before its own Q4), not the last column.
    let latest_period =
        crate::model::period::latest(periods.iter().map(String::as_str)).map(str::to_string);

    let mut by_department: HashMap<String, Vec<SubmissionInfo>> = HashMap::new();
    for cell in cells {
        by_department
            .entry(cell.department)
            .or_default()
            .push(SubmissionInfo {
                period: cell.period,
                form: cell.template,
                latest_submission_id: cell.latest_submission_id,
                latest_received_at: cell.latest_received_at,
                rows: cell.rows,
                files: cell.active_files,
                additions: (cell.active_files - 1).max(0),
                superseded: cell.superseded_files,
            });
    }
    for submissions in by_department.values_mut() {
        submissions.sort_by(|a, b| {
            rank.get(&a.period)
                .cmp(&rank.get(&b.period))
                .then_with(|| a.form.cmp(&b.form))
        });
    }

    let mut departments = Vec::with_capacity(config.departments.len());
    let mut not_submitted_latest = Vec::new();
    let mut levels: BTreeMap<Level, LevelInfo> = BTreeMap::new();
    for department in &config.departments {
        let submissions = by_department.remove(&department.code).unwrap_or_default();
        let level = levels.entry(department.level).or_insert_with(|| LevelInfo {
            level: department.level.as_str().to_string(),
            departments: 0,
            submitted_latest: 0,
            not_submitted_latest: 0,
            forms_latest: BTreeMap::new(),
        });
        level.departments += 1;
        if let Some(latest) = &latest_period {
            let held: Vec<&SubmissionInfo> = submissions
                .iter()
                .filter(|s| &s.period == latest && s.files > 0)
                .collect();
            if held.is_empty() {
                level.not_submitted_latest += 1;
                not_submitted_latest.push(MissingInfo {
                    code: department.code.clone(),
                    name: department.name.clone(),
                    level: department.level.as_str().to_string(),
                    last_period: submissions
                        .iter()
                        .rev()
                        .find(|s| s.files > 0)
                        .map(|s| s.period.clone()),
                });
            } else {
                level.submitted_latest += 1;
                for s in held {
                    *level.forms_latest.entry(s.form.clone()).or_default() += 1;
                }
            }
        }
        departments.push(DepartmentInfo {
            code: department.code.clone(),
            name: department.name.clone(),
            level: Some(department.level.as_str().to_string()),
            in_registry: true,
            submissions,
        });
    }
    let mut unregistered: Vec<(String, Vec<SubmissionInfo>)> = by_department.into_iter().collect();
    unregistered.sort_by(|a, b| a.0.cmp(&b.0));
    departments.extend(
        unregistered
            .into_iter()
            .map(|(code, submissions)| DepartmentInfo {
                code,
                name: String::new(),
                level: None,
                in_registry: false,
                submissions,
            }),
    );

    Ok(Snapshot {
        schema_version: SCHEMA_VERSION,
        generated_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        timezone: timezone.name().to_string(),
        runs,
        jobs,
        outbox: OutboxInfo {
            sent,
            waiting,
            messages,
            failed: failed_messages.len() as i64,
            failed_messages,
        },
        ledger: LedgerInfo {
            accepted: counts.accepted,
            superseded: counts.superseded,
            quarantined: counts.quarantined,
        },
        forms,
        periods,
        latest_period,
        levels: levels.into_values().collect(),
        departments,
        not_submitted_latest,
        quarantined,
        indicator_periods: warehouse::indicator_periods(&config.paths.warehouse),
    })
}

/// The snapshot as one JSON document on one line (with a final newline):
/// at country scale it is megabytes, for scripts (`jq .` to read it).
pub fn render_json(snapshot: &Snapshot) -> String {
    // Serialising plain structs of strings and numbers cannot fail.
    let mut text = serde_json::to_string(snapshot).unwrap_or_default();
    text.push('\n');
    text
}

/// Periods in time order ("2025" before "2025-Q1"); text that is no period last.
fn period_order(text: &str) -> (Option<Period>, &str) {
    match text.parse::<Period>() {
        Ok(p) => (Some(p), text),
        // None sorts first in an Option: put unparseable text after every period.
        Err(_) => (Some(Period::year(i32::MAX)), text),
    }
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn seconds_between(start: &str, end: &str) -> Option<f64> {
    let (start, end) = (parse_time(start)?, parse_time(end)?);
    Some((end - start).num_milliseconds().max(0) as f64 / 1000.0)
}

/// A run's counters as stored (a JSON object of numbers); anything else is no counters.
fn parse_counts(text: Option<&str>) -> BTreeMap<String, i64> {
    let Some(Ok(serde_json::Value::Object(map))) =
        text.map(serde_json::from_str::<serde_json::Value>)
    else {
        return BTreeMap::new();
    };
    map.into_iter()
        .filter_map(|(k, v)| Some((k, v.as_i64()?)))
        .collect()
}

// ---- text --------------------------------------------------------------------

/// The run counters in the order they are read out, with their Vietnamese
/// words, grouped one line per step: files, rows, indicators, messages.
const COUNT_WORDS: &[&[(&str, &str)]] = &[
    &[
        ("files_fetched", "tệp tải về"),
        ("sources_failed", "nguồn tải lỗi"),
        ("files_accepted", "tệp nhận"),
        ("files_duplicate", "tệp trùng"),
        ("files_quarantined", "tệp cách ly"),
        ("files_waiting", "tệp chờ"),
    ],
    &[
        ("rows_loaded", "dòng nạp"),
        ("rows_rejected", "dòng từ chối"),
        ("rows_skipped", "dòng bỏ qua"),
    ],
    &[
        ("indicator_rows", "giá trị chỉ tiêu"),
        ("indicator_periods", "kỳ chỉ tiêu"),
        ("indicator_failures", "tệp chỉ tiêu lỗi"),
    ],
    &[
        ("messages_queued", "thư xếp hàng"),
        ("messages_delivered", "thư đã gửi"),
        ("messages_waiting", "thư chờ gửi lại"),
        ("messages_failed", "thư bị từ chối, bỏ"),
    ],
];

/// A run's non-zero counters in words, one line per step ("32 tệp nhận, 2
/// tệp cách ly" / "1.204 dòng nạp, 2 dòng từ chối"); counters this version
/// has no words for are listed by name at the end.
pub(crate) fn counts_in_words(counts: &BTreeMap<String, i64>) -> String {
    let mut lines = Vec::new();
    let mut worded = HashSet::new();
    for group in COUNT_WORDS {
        let parts: Vec<String> = group
            .iter()
            .filter_map(|(key, words)| {
                worded.insert(*key);
                let n = *counts.get(*key)?;
                (n != 0).then(|| format!("{} {words}", thousands(n)))
            })
            .collect();
        if !parts.is_empty() {
            lines.push(parts.join(", "));
        }
    }
    let others: Vec<String> = counts
        .iter()
        .filter(|(key, n)| !worded.contains(key.as_str()) && **n != 0)
        .map(|(key, n)| format!("{key} {}", thousands(*n)))
        .collect();
    if !others.is_empty() {
        lines.push(others.join(", "));
    }
    if lines.is_empty() {
        "—".to_string()
    } else {
        lines.join("\n")
    }
}

/// An integer with Vietnamese digit grouping: 1.234.567.
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

fn run_status_words(status: &str) -> String {
    match status {
        "succeeded" => "thành công (succeeded)".to_string(),
        "failed" => "thất bại (failed)".to_string(),
        "interrupted" => "bị ngắt (interrupted)".to_string(),
        "running" => "đang chạy (running)".to_string(),
        other => other.to_string(),
    }
}

fn level_words(level: &str) -> &str {
    match level {
        "province" => "tỉnh",
        "district" => "huyện",
        "commune" => "xã",
        other => other,
    }
}

fn duration_words(seconds: f64) -> String {
    let total = seconds.round() as i64;
    if seconds < 1.0 {
        "dưới 1 giây".to_string()
    } else if total < 60 {
        format!("{total} giây")
    } else if total < 3600 {
        format!("{} phút {} giây", total / 60, total % 60)
    } else {
        format!("{} giờ {} phút", total / 3600, (total % 3600) / 60)
    }
}

/// Shows stored times in one zone, minutes precision.
struct Clock(chrono_tz::Tz);

impl Clock {
    fn time(&self, text: &str) -> String {
        parse_time(text)
            .map(|t| {
                t.with_timezone(&self.0)
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            })
            .unwrap_or_else(|| text.to_string())
    }

    fn date(&self, text: &str) -> String {
        parse_time(text)
            .map(|t| t.with_timezone(&self.0).format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| text.to_string())
    }
}

/// A table with box-drawing borders, columns sized by display width; rows
/// get separators when a cell spans several lines.
fn new_table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED);
    table.set_header(header.to_vec());
    table
}

fn finish_table(mut table: Table, multi_line: bool) -> String {
    if multi_line {
        table.load_preset(presets::UTF8_FULL);
    }
    table.to_string()
}

/// Caps free-text columns so a long error or reason wraps inside its cell.
fn cap_columns(table: &mut Table, caps: &[(usize, u16)]) {
    for (index, width) in caps {
        if let Some(column) = table.column_mut(*index) {
            column.set_constraint(ColumnConstraint::UpperBoundary(Width::Fixed(*width)));
        }
    }
}

fn right(text: String) -> Cell {
    Cell::new(text).set_alignment(CellAlignment::Right)
}

fn more_line(out: &mut String, shown: usize, total: usize, what_vi: &str, what_en: &str) {
    if total > shown {
        let more = total - shown;
        out.push_str(&format!(
            "… và {} {what_vi} nữa (… and {} more {what_en}: see --json)\n",
            thousands(more as i64),
            thousands(more as i64)
        ));
    }
}

/// The snapshot as text: one titled section per topic, tables aligned by
/// display width (Vietnamese letters, with or without combining marks, line
/// up). Long lists stop after [`TEXT_ROWS`] rows with a line saying how many
/// more `--json` has.
pub fn render_text(snapshot: &Snapshot) -> String {
    let tz: chrono_tz::Tz = snapshot
        .timezone
        .parse()
        .unwrap_or(chrono_tz::Asia::Ho_Chi_Minh);
    let clock = Clock(tz);
    let now = parse_time(&snapshot.generated_at);
    let mut out = String::new();
    out.push_str(&format!(
        "nhanluc status — {} (giờ {} / times in {})\n\n",
        clock.time(&snapshot.generated_at),
        snapshot.timezone,
        snapshot.timezone
    ));
    render_runs(&mut out, snapshot, &clock);
    render_jobs(&mut out, snapshot, &clock);
    render_outbox(&mut out, snapshot, &clock, now);
    render_submissions(&mut out, snapshot, &clock);
    render_missing(&mut out, snapshot);
    render_quarantine(&mut out, snapshot, &clock);
    out.push_str(&format!(
        "Kỳ đã tính chỉ tiêu (indicator periods): {}\n",
        if snapshot.indicator_periods.is_empty() {
            "chưa có (none)".to_string()
        } else {
            snapshot.indicator_periods.join(", ")
        }
    ));
    out
}

fn render_runs(out: &mut String, snapshot: &Snapshot, clock: &Clock) {
    out.push_str("Lần chạy gần đây (recent runs)\n");
    if snapshot.runs.is_empty() {
        out.push_str("chưa có lần chạy nào (no runs yet)\n\n");
        return;
    }
    let mut table = new_table(&[
        "#",
        "Việc (job)",
        "Bắt đầu (start)",
        "Thời gian (duration)",
        "Kết quả (status)",
        "Số liệu (counts)",
        "Lỗi (error)",
    ]);
    let mut multi_line = false;
    for run in &snapshot.runs {
        let counts = counts_in_words(&run.counts);
        multi_line |= counts.contains('\n');
        table.add_row(vec![
            right(run.id.to_string()),
            Cell::new(&run.job),
            Cell::new(clock.time(&run.started_at)),
            Cell::new(
                run.duration_seconds
                    .map(duration_words)
                    .unwrap_or_else(|| "—".to_string()),
            ),
            Cell::new(run_status_words(&run.status)),
            Cell::new(counts),
            Cell::new(shortened(run.error.as_deref().unwrap_or(""), ERROR_CHARS)),
        ]);
    }
    cap_columns(&mut table, &[(5, 60), (6, 50)]);
    multi_line |= snapshot
        .runs
        .iter()
        .any(|r| r.error.as_deref().is_some_and(|e| e.chars().count() > 50));
    out.push_str(&finish_table(table, multi_line));
    out.push_str("\n\n");
}

fn render_jobs(out: &mut String, snapshot: &Snapshot, clock: &Clock) {
    out.push_str("Việc theo lịch (jobs)\n");
    if snapshot.jobs.is_empty() {
        out.push_str("không có việc nào trong thư mục jobs (no jobs)\n\n");
        return;
    }
    let mut table = new_table(&[
        "Việc (job)",
        "Lịch (schedule)",
        "Các bước (steps)",
        "Lần tới (next run)",
        "Lần gần nhất (last run)",
    ]);
    for job in &snapshot.jobs {
        table.add_row(vec![
            job.name.clone(),
            job.schedule.clone(),
            job.steps.join(", "),
            job.next_run
                .as_deref()
                .map(|t| clock.time(t))
                .unwrap_or_else(|| "không bao giờ (never)".to_string()),
            job.last_run
                .as_ref()
                .map(|r| {
                    format!(
                        "#{} {} {}",
                        r.id,
                        clock.time(&r.started_at),
                        run_status_words(&r.status)
                    )
                })
                .unwrap_or_else(|| "chưa chạy (never run)".to_string()),
        ]);
    }
    out.push_str(&finish_table(table, false));
    out.push_str("\n\n");
}

fn render_outbox(out: &mut String, snapshot: &Snapshot, clock: &Clock, now: Option<DateTime<Utc>>) {
    let outbox = &snapshot.outbox;
    out.push_str(&format!(
        "Hộp thư đi: {} đã gửi, {} đang chờ (Outbox: {} sent, {} waiting)\n",
        thousands(outbox.sent),
        thousands(outbox.waiting),
        outbox.sent,
        outbox.waiting
    ));
    render_failed(out, outbox, clock);
    if outbox.messages.is_empty() {
        out.push('\n');
        return;
    }
    let rows = outbox
        .messages
        .iter()
        .take(TEXT_ROWS)
        .map(|message| {
            let next = match message.next_attempt_at.as_deref() {
                None => "lần chạy tới (next run)".to_string(),
                Some(at) => {
                    let due = now.is_some_and(|now| parse_time(at).is_some_and(|t| t <= now));
                    if due {
                        format!("{}, đã đến hạn (due)", clock.time(at))
                    } else {
                        clock.time(at)
                    }
                }
            };
            MessageRow {
                kind: &message.kind,
                recipient: &message.recipient,
                subject: &message.subject,
                attempts: message.attempts,
                when: next,
                error: message.last_error.as_deref().unwrap_or(""),
            }
        })
        .collect();
    render_messages(
        out,
        "Thử lại lúc (next attempt)",
        rows,
        outbox.messages.len(),
    );
    out.push('\n');
}

/// One outbox message as a row of a status table.
struct MessageRow<'a> {
    kind: &'a str,
    recipient: &'a str,
    subject: &'a str,
    attempts: i64,
    /// The fifth column: when it is tried next, or when it was given up.
    when: String,
    error: &'a str,
}

/// A table of outbox messages (the first [`TEXT_ROWS`] of `total`), the
/// fifth column headed `when_header`, and the "… and N more" line.
fn render_messages(out: &mut String, when_header: &str, rows: Vec<MessageRow<'_>>, total: usize) {
    let mut table = new_table(&[
        "Loại (kind)",
        "Người nhận (recipient)",
        "Tiêu đề (subject)",
        "Số lần thử (attempts)",
        when_header,
        "Lỗi gần nhất (last error)",
    ]);
    let mut multi_line = false;
    let shown = rows.len();
    for row in rows {
        multi_line |= row.error.chars().count() > 50 || row.subject.chars().count() > 50;
        table.add_row(vec![
            Cell::new(row.kind),
            Cell::new(row.recipient),
            Cell::new(row.subject),
            right(row.attempts.to_string()),
            Cell::new(row.when),
            Cell::new(row.error),
        ]);
    }
    cap_columns(&mut table, &[(2, 50), (5, 50)]);
    out.push_str(&finish_table(table, multi_line));
    out.push('\n');
    more_line(out, shown, total, "thư", "messages");
}

/// Messages given up, before the waiting ones: they need someone (a wrong
/// address in the registry, a full mailbox), the waiting ones only time.
fn render_failed(out: &mut String, outbox: &OutboxInfo, clock: &Clock) {
    if outbox.failed_messages.is_empty() {
        return;
    }
    out.push_str(&format!(
        "Thư bị máy chủ từ chối, không gửi lại: {} (Failed, refused by the server, not retried: {})\n",
        thousands(outbox.failed),
        outbox.failed
    ));
    let rows = outbox
        .failed_messages
        .iter()
        .take(TEXT_ROWS)
        .map(|message| MessageRow {
            kind: &message.kind,
            recipient: &message.recipient,
            subject: &message.subject,
            attempts: message.attempts,
            when: message
                .failed_at
                .as_deref()
                .map(|at| clock.time(at))
                .unwrap_or_default(),
            error: message.last_error.as_deref().unwrap_or(""),
        })
        .collect();
    render_messages(
        out,
        "Bỏ lúc (failed at)",
        rows,
        outbox.failed_messages.len(),
    );
}

/// "2025-03-14 · 120 dòng", with ", +1 tệp bổ sung" and ", 2 bản bị thay
/// thế" when there are additions or superseded files: one line, so the
/// table needs no row separators.
fn cell_words(s: &SubmissionInfo, clock: &Clock) -> String {
    let mut text = if s.files > 0 {
        format!(
            "{} · {} dòng",
            s.latest_received_at
                .as_deref()
                .map(|t| clock.date(t))
                .unwrap_or_default(),
            thousands(s.rows)
        )
    } else {
        "—".to_string()
    };
    if s.additions > 0 {
        text.push_str(&format!(", +{} tệp bổ sung", s.additions));
    }
    if s.superseded > 0 {
        text.push_str(&format!(", {} bản bị thay thế", s.superseded));
    }
    text
}

/// "1 department", "2 departments".
fn plural(n: usize, singular: &str) -> String {
    if n == 1 {
        format!("{n} {singular}")
    } else {
        format!("{n} {singular}s")
    }
}

/// A long error (a delivery failure lists every recipient) cut for the table.
fn shortened(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        text.to_string()
    } else {
        let cut: String = text.chars().take(limit).collect();
        format!("{cut}… (see --json)")
    }
}

fn render_submissions(out: &mut String, snapshot: &Snapshot, clock: &Clock) {
    let ledger = &snapshot.ledger;
    out.push_str(&format!(
        "Báo cáo theo đơn vị, kỳ và biểu mẫu (submissions per department, period and form)\n\
         Sổ tiếp nhận: {} tệp nhận, {} tệp bị thay thế, {} tệp cách ly (ledger: {} accepted, {} superseded, {} quarantined)\n",
        thousands(ledger.accepted),
        thousands(ledger.superseded),
        thousands(ledger.quarantined),
        ledger.accepted,
        ledger.superseded,
        ledger.quarantined
    ));
    if !snapshot.forms.is_empty() {
        let forms: Vec<String> = snapshot
            .forms
            .iter()
            .map(|f| {
                if f.title.is_empty() {
                    f.name.clone()
                } else {
                    format!("{} = {}", f.name, f.title)
                }
            })
            .collect();
        out.push_str(&format!("Biểu mẫu (forms): {}\n", forms.join("; ")));
    }
    let Some(latest) = &snapshot.latest_period else {
        out.push_str("chưa nhận báo cáo nào (no submissions yet)\n\n");
        return;
    };
    let submitted: usize = snapshot.levels.iter().map(|l| l.submitted_latest).sum();
    let registered: usize = snapshot.levels.iter().map(|l| l.departments).sum();
    out.push_str(&format!(
        "\nKỳ mới nhất {latest}: {} / {} đơn vị đã nộp (latest period {latest}: {submitted} of {} submitted)\n",
        thousands(submitted as i64),
        thousands(registered as i64),
        plural(registered, "department")
    ));
    let mut header: Vec<String> = [
        "Cấp (level)",
        "Đơn vị (departments)",
        "Đã nộp (submitted)",
        "Chưa nộp (not submitted)",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(snapshot.forms.iter().map(|f| f.name.clone()));
    let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut table = new_table(&header_refs);
    for level in &snapshot.levels {
        let mut row = vec![
            Cell::new(level_words(&level.level)),
            right(thousands(level.departments as i64)),
            right(thousands(level.submitted_latest as i64)),
            right(thousands(level.not_submitted_latest as i64)),
        ];
        row.extend(snapshot.forms.iter().map(|f| {
            right(thousands(
                level.forms_latest.get(&f.name).copied().unwrap_or(0) as i64,
            ))
        }));
        table.add_row(row);
    }
    out.push_str(&finish_table(table, false));
    out.push_str("\n\n");

    // The detail: a row per department and period, a column per form.
    let shown_periods: Vec<&String> = snapshot
        .periods
        .iter()
        .skip(snapshot.periods.len().saturating_sub(TEXT_PERIODS))
        .collect();
    out.push_str(
        "Mỗi ô: ngày nhận tệp mới nhất · số dòng đang giữ (each cell: latest accepted file's date · rows held; additions and superseded files below)\n",
    );
    if shown_periods.len() < snapshot.periods.len() {
        out.push_str(&format!(
            "{} kỳ gần nhất; các kỳ trước: xem --json (latest {} periods; older ones: see --json)\n",
            shown_periods.len(),
            shown_periods.len()
        ));
    }
    let mut header: Vec<String> = ["Mã (code)", "Đơn vị (department)", "Kỳ (period)"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    header.extend(snapshot.forms.iter().map(|f| f.name.clone()));
    let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut table = new_table(&header_refs);
    for department in snapshot.departments.iter().take(TEXT_ROWS) {
        let name = if department.in_registry {
            department.name.clone()
        } else {
            "(không có trong danh sách đơn vị / not in the registry)".to_string()
        };
        // Code and name on every row, so `grep` finds each of a department's rows.
        for period in &shown_periods {
            let mut row = vec![
                Cell::new(&department.code),
                Cell::new(&name),
                Cell::new(period),
            ];
            for form in &snapshot.forms {
                let text = department
                    .submissions
                    .iter()
                    .find(|s| &&s.period == period && s.form == form.name)
                    .map(|s| cell_words(s, clock))
                    .unwrap_or_else(|| "—".to_string());
                row.push(Cell::new(text));
            }
            table.add_row(row);
        }
    }
    cap_columns(&mut table, &[(1, 40)]);
    let long_name = snapshot
        .departments
        .iter()
        .take(TEXT_ROWS)
        .any(|d| d.name.chars().count() > 40);
    out.push_str(&finish_table(table, long_name));
    out.push('\n');
    more_line(
        out,
        TEXT_ROWS.min(snapshot.departments.len()),
        snapshot.departments.len(),
        "đơn vị",
        "departments",
    );
    out.push('\n');
}

fn render_missing(out: &mut String, snapshot: &Snapshot) {
    let Some(latest) = &snapshot.latest_period else {
        return;
    };
    let missing = &snapshot.not_submitted_latest;
    if missing.is_empty() {
        out.push_str(&format!(
            "Mọi đơn vị đã nộp kỳ {latest} (every department submitted for {latest})\n\n"
        ));
        return;
    }
    out.push_str(&format!(
        "Chưa nộp kỳ {latest}: {} đơn vị (not submitted for {latest}: {})\n",
        thousands(missing.len() as i64),
        plural(missing.len(), "department")
    ));
    let mut table = new_table(&[
        "Mã (code)",
        "Đơn vị (department)",
        "Cấp (level)",
        "Kỳ đã nộp gần nhất (last period submitted)",
    ]);
    for m in missing.iter().take(TEXT_ROWS) {
        table.add_row(vec![
            m.code.clone(),
            m.name.clone(),
            level_words(&m.level).to_string(),
            m.last_period
                .clone()
                .unwrap_or_else(|| "chưa nộp kỳ nào (none)".to_string()),
        ]);
    }
    cap_columns(&mut table, &[(1, 40)]);
    out.push_str(&finish_table(table, false));
    out.push('\n');
    more_line(
        out,
        TEXT_ROWS.min(missing.len()),
        missing.len(),
        "đơn vị",
        "departments",
    );
    out.push('\n');
}

fn render_quarantine(out: &mut String, snapshot: &Snapshot, clock: &Clock) {
    if snapshot.quarantined.is_empty() {
        out.push_str("Không có tệp bị cách ly (no quarantined files)\n\n");
        return;
    }
    out.push_str(&format!(
        "Tệp bị cách ly, mới nhất trước: {} / {} (Quarantined files, latest first: {} of {})\n",
        snapshot.quarantined.len(),
        thousands(snapshot.ledger.quarantined),
        snapshot.quarantined.len(),
        snapshot.ledger.quarantined
    ));
    let mut table = new_table(&[
        "Lúc nhận (received)",
        "Đơn vị (department)",
        "Tệp (file)",
        "Lý do (reason)",
    ]);
    let mut multi_line = false;
    for q in &snapshot.quarantined {
        let reason = if q.reason_vi.is_empty() {
            &q.reason_en
        } else {
            &q.reason_vi
        };
        multi_line |= reason.chars().count() > 60 || q.source_file.chars().count() > 40;
        table.add_row(vec![
            clock.time(&q.received_at),
            q.department.clone().unwrap_or_else(|| "—".to_string()),
            crate::model::names::printable(&q.source_file),
            reason.clone(),
        ]);
    }
    cap_columns(&mut table, &[(2, 40), (3, 60)]);
    out.push_str(&finish_table(table, multi_line));
    out.push_str("\n\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn counts_read_as_words_without_zeros() {
        let words = counts_in_words(&counts(&[
            ("files_accepted", 32),
            ("files_duplicate", 0),
            ("rows_loaded", 12345),
            ("rows_rejected", 2),
            ("messages_delivered", 3),
            ("new_counter", 4),
        ]));
        assert_eq!(
            words,
            "32 tệp nhận\n12.345 dòng nạp, 2 dòng từ chối\n3 thư đã gửi\nnew_counter 4"
        );
        assert_eq!(counts_in_words(&counts(&[("files_accepted", 0)])), "—");
    }

    #[test]
    fn thousands_group_by_dots() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1.000");
        assert_eq!(thousands(-1234567), "-1.234.567");
    }

    #[test]
    fn periods_sort_in_time_order() {
        let mut periods = vec!["2025-Q1", "2024", "bogus", "2025", "2025-H1", "2024-Q4"];
        periods.sort_by(|a, b| period_order(a).cmp(&period_order(b)));
        assert_eq!(
            periods,
            ["2024", "2024-Q4", "2025", "2025-H1", "2025-Q1", "bogus"]
        );
    }

    #[test]
    fn durations_read_as_words() {
        assert_eq!(duration_words(0.4), "dưới 1 giây");
        assert_eq!(duration_words(42.0), "42 giây");
        assert_eq!(duration_words(125.0), "2 phút 5 giây");
        assert_eq!(duration_words(3725.0), "1 giờ 2 phút");
    }
}
