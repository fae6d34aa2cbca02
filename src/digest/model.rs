//! What a digest says, computed from the indicators: pure, no I/O.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;

use crate::catalogue::IndicatorLabels;
use crate::config::{Config, Recipient};
use crate::model::indicator::{IndicatorRow, Unit};
use crate::model::period::Period;
use crate::model::scope::{Language, Scope};

use super::chart::{BarChart, TrendChart, TrendSeries};

/// Indicator rows grouped by scope.
fn by_scope(rows: &[IndicatorRow]) -> std::collections::HashMap<&str, Vec<&IndicatorRow>> {
    let mut grouped: std::collections::HashMap<&str, Vec<&IndicatorRow>> =
        std::collections::HashMap::new();
    for row in rows {
        grouped.entry(row.scope.as_str()).or_default().push(row);
    }
    grouped
}

/// Without these for the recipient's scope, the digest is not sent as if complete.
pub(crate) const REQUIRED: &[&str] = &["staff.headcount", "training.participants"];

/// Departments listed by name in the mail body (table and "not submitted");
/// a province has about 150, a larger registry is listed in full in the
/// attachment only.
pub const DEPARTMENTS_LISTED: usize = 200;
/// Bars of the per-department chart: the departments with the most
/// participants (a chart is read on a phone).
pub(crate) const CHART_BARS: usize = 20;

/// One indicator as the digest shows it: its value, the change against the
/// previous period and the note against plan.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    pub id: String,
    pub label: String,
    pub value: String,
    /// "▲ 16" against the previous period, empty without one.
    pub change: String,
    /// 1 up, -1 down, 0 same or unknown: lets the template colour the change.
    pub direction: i8,
    /// For a department recipient: the province's value beside theirs.
    pub province: String,
    /// Plain words against plan: "vượt kế hoạch 6,5%".
    pub note: String,
}

/// One department's line in the digest's table and attachment.
#[derive(Debug, Clone, Serialize)]
pub struct DepartmentRow {
    pub code: String,
    pub name: String,
    pub headcount: String,
    pub participants: String,
    pub online: String,
    pub submitted: bool,
    pub rejected_rows: i64,
}

/// Everything the templates and the attachment need for one recipient.
#[derive(Debug, Clone, Serialize)]
pub struct DigestModel {
    #[serde(skip)]
    pub recipient: String,
    pub lang: Language,
    pub subject: String,
    pub organisation: String,
    pub title: String,
    pub period: String,
    pub period_label: String,
    pub previous_label: String,
    pub scope: String,
    pub scope_label: String,
    pub is_department: bool,
    pub key_figures: Vec<Figure>,
    pub other_figures: Vec<Figure>,
    /// The registry's first [`DEPARTMENTS_LISTED`] departments; the
    /// attachment lists every one.
    pub departments: Vec<DepartmentRow>,
    /// "… and N more departments" when `departments` is cut short, else empty.
    pub departments_more: String,
    /// Every department of the registry, for the attachment.
    #[serde(skip)]
    pub all_departments: Vec<DepartmentRow>,
    /// Departments that have not submitted, the first [`DEPARTMENTS_LISTED`].
    pub missing: Vec<String>,
    /// "… and N more" when `missing` is cut short, else empty.
    pub missing_more: String,
    pub submitted: usize,
    pub registry: usize,
    pub rejected_rows: i64,
    #[serde(skip)]
    pub charts: Vec<BarChart>,
    /// Indicator rows of the period this recipient may see, for the attachment.
    #[serde(skip)]
    pub table: Vec<IndicatorRow>,
    #[serde(skip)]
    pub previous_table: Vec<IndicatorRow>,
    /// What each indicator id is called (the label files of the catalogue),
    /// for the attachment; an id without a label is shown as itself.
    #[serde(skip)]
    pub labels: Arc<IndicatorLabels>,
    /// The key figures over the last periods of the same kind.
    pub trends: Trends,
    /// The trend chart, when there are two periods or more to draw.
    #[serde(skip)]
    pub trend_chart: Option<TrendChart>,
    /// IT recruitment by year, oldest first (empty without recruitment rows).
    pub recruitment: Vec<RecruitmentYear>,
    /// Multi-year plan progress per scope (empty without such rows).
    pub plan_ranges: Vec<PlanProgress>,
}

/// Indicator rows of periods before the digest's, by period: what the trends
/// and the IT recruitment table are read from (the warehouse's
/// `indicators/period=<P>/` snapshots). A period here with no rows at all is
/// taken as one without indicators.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// The period just before the digest's (for "change against the
    /// previous period"), every indicator of it.
    pub previous: Vec<IndicatorRow>,
    /// Earlier periods, only the ids the trends and tables read.
    pub periods: BTreeMap<Period, Vec<IndicatorRow>>,
}

/// How many periods a trend covers, the digest's own included.
pub const TREND_PERIODS: usize = 5;
/// How many years the IT recruitment table lists at most.
pub const RECRUITMENT_YEARS: usize = 5;
/// A multi-year plan is behind schedule when its attainment is more than this
/// many percentage points below the share of the range elapsed.
pub const PLAN_RANGE_TOLERANCE_POINTS: f64 = 5.0;

/// The key figures over the last [`TREND_PERIODS`] periods of the digest's
/// kind, for the recipient's scope.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Trends {
    /// The periods, oldest first, as their strings ("2021", "2025-Q4").
    pub periods: Vec<String>,
    /// One line per key figure that has a value in any of the periods.
    pub rows: Vec<TrendRow>,
    /// Said in words instead of a chart when there is only one period.
    pub note: String,
}

/// One key figure over the trend's periods.
#[derive(Debug, Clone, Serialize)]
pub struct TrendRow {
    pub id: String,
    pub label: String,
    /// The values as a reader sees them, one per period ("—" for none).
    pub values: Vec<String>,
    /// The values themselves, for the chart and the attachment.
    #[serde(skip)]
    pub raw: Vec<Option<f64>>,
    #[serde(skip)]
    pub unit: Unit,
}

/// One year of the IT recruitment table (ids `recruitment.it.*`).
#[derive(Debug, Clone, Serialize)]
pub struct RecruitmentYear {
    pub year: String,
    pub target: String,
    pub recruited: String,
    pub fill_rate: String,
    pub resigned: String,
    /// Target, recruited, fill rate (percent) and resigned, for the attachment.
    #[serde(skip)]
    pub raw: [Option<f64>; 4],
}

/// Progress against a multi-year plan for one scope (ids `training.plan_range.*`).
#[derive(Debug, Clone, Serialize)]
pub struct PlanProgress {
    pub scope: String,
    pub scope_label: String,
    /// "Kế hoạch giai đoạn: đạt 45,2% (kỳ vọng 60,0%) — chậm so với tiến độ".
    pub line: String,
    /// `Some(true)` on track, `Some(false)` behind, `None` when a share is unknown.
    pub on_track: Option<bool>,
    /// Participants, attainment (percent), expected (percent), for the attachment.
    #[serde(skip)]
    pub raw: [Option<f64>; 3],
}

/// Per-department facts from the ledger, for the period.
#[derive(Debug, Clone, Default)]
pub struct Submissions {
    pub submitted: BTreeSet<String>,
    pub rejected_rows: BTreeMap<String, i64>,
}

/// The required indicators a scope has no value for: its recipient gets no
/// digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub scope: String,
    pub indicators: Vec<String>,
}

/// Builds one recipient's digest, or says which required indicators are
/// missing. `labels` name the indicators (an id without one is shown as itself).
pub fn build(
    config: &Config,
    recipient: &Recipient,
    period: &str,
    current: &[IndicatorRow],
    history: &History,
    submissions: &Submissions,
    labels: &Arc<IndicatorLabels>,
) -> Result<DigestModel, Missing> {
    let previous = history.previous.as_slice();
    let vi = recipient.language == Language::Vi;
    let parsed = period.parse::<Period>().ok();
    let label_of = |p: Option<Period>| match (p, vi) {
        (Some(p), true) => p.label_vi(),
        (Some(p), false) => p.label_en(),
        (None, _) => period.to_string(),
    };
    let period_label = label_of(parsed);
    let previous_label = label_of(parsed.map(Period::previous));
    let scope = recipient.scope.to_string();
    let at = |rows: &[IndicatorRow], scope: &str| -> BTreeMap<String, IndicatorRow> {
        rows.iter()
            .filter(|r| r.scope == scope)
            .map(|r| (r.indicator.clone(), r.clone()))
            .collect()
    };
    let now = at(current, &scope);
    let before = at(previous, &scope);
    let province = at(current, "province");
    let missing: Vec<String> = REQUIRED
        .iter()
        .filter(|id| now.get(**id).and_then(|r| r.value).is_none())
        .map(|id| id.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(Missing {
            scope,
            indicators: missing,
        });
    }
    let is_department = matches!(recipient.scope, Scope::Department(_));
    let figure = |row: &IndicatorRow| Figure {
        id: row.indicator.clone(),
        label: labels.label(&row.indicator, vi),
        value: super::format_value(row.value, row.unit, vi),
        change: change(row, before.get(&row.indicator), vi),
        direction: direction(row, before.get(&row.indicator)),
        province: if is_department {
            province
                .get(&row.indicator)
                .map(|p| super::format_value(p.value, p.unit, vi))
                .unwrap_or_default()
        } else {
            String::new()
        },
        note: plan_note(row, vi),
    };
    let key_ids = labels.key_figures();
    let key_figures: Vec<Figure> = key_ids
        .iter()
        .filter_map(|id| now.get(*id))
        .map(figure)
        .collect();
    let other_figures: Vec<Figure> = now
        .values()
        .filter(|r| !key_ids.contains(&r.indicator.as_str()))
        .map(figure)
        .collect();

    let registry: Vec<&crate::config::Department> = match &recipient.scope {
        Scope::Province => config.departments.iter().collect(),
        Scope::Department(code) => config
            .departments
            .iter()
            .filter(|d| &d.code == code)
            .collect(),
    };
    // A country has 20,000 departments and 20 indicators each: find a
    // department's rows by its scope, not by scanning them all.
    let current_by_scope = by_scope(current);
    let missing_departments: Vec<String> = registry
        .iter()
        .filter(|d| !submissions.submitted.contains(&d.code))
        .map(|d| d.name.clone())
        .collect();
    let rejected_rows = registry
        .iter()
        .filter_map(|d| submissions.rejected_rows.get(&d.code))
        .sum();
    let departments: Vec<DepartmentRow> = registry
        .iter()
        .map(|d| {
            let rows = current_by_scope
                .get(Scope::Department(d.code.clone()).to_string().as_str())
                .map(|rows| {
                    rows.iter()
                        .map(|r| (r.indicator.clone(), (*r).clone()))
                        .collect::<BTreeMap<_, _>>()
                })
                .unwrap_or_default();
            let shown = |id: &str| {
                rows.get(id)
                    .map(|r| super::format_value(r.value, r.unit, vi))
                    .unwrap_or_else(|| "—".into())
            };
            DepartmentRow {
                code: d.code.clone(),
                name: d.name.clone(),
                headcount: shown("staff.headcount"),
                participants: shown("training.participants"),
                online: shown("training.online_pct"),
                submitted: submissions.submitted.contains(&d.code),
                rejected_rows: submissions.rejected_rows.get(&d.code).copied().unwrap_or(0),
            }
        })
        .collect();

    let charts = charts(config, recipient, &current_by_scope, &now, labels, vi);
    let title = if vi {
        "Báo cáo đào tạo, bồi dưỡng"
    } else {
        "Training and fostering report"
    };
    let scope_label = match &recipient.scope {
        Scope::Province => if vi { "Toàn tỉnh" } else { "Province" }.to_string(),
        Scope::Department(code) => config
            .department(code)
            .map(|d| d.name.clone())
            .unwrap_or_else(|| code.clone()),
    };
    let visible = |rows: &[IndicatorRow]| -> Vec<IndicatorRow> {
        rows.iter()
            .filter(|r| match &recipient.scope {
                Scope::Province => true,
                Scope::Department(_) => r.scope == scope || r.scope == "province",
            })
            .cloned()
            .collect()
    };
    let table = visible(current);
    let previous_table = visible(previous);
    let rows_of = |p: Period| -> Option<&[IndicatorRow]> {
        if Some(p) == parsed {
            Some(current)
        } else {
            history
                .periods
                .get(&p)
                .map(Vec::as_slice)
                .filter(|rows| !rows.is_empty())
        }
    };
    let trends = parsed
        .map(|p| trends(p, &history.periods, &rows_of, &scope, labels, vi))
        .unwrap_or_default();
    let trend_chart = trend_chart(&trends, vi);
    let recruitment = parsed
        .map(|p| recruitment(p, &history.periods, &rows_of, &scope, vi))
        .unwrap_or_default();
    let plan_ranges = plan_ranges(config, recipient, &current_by_scope, vi);
    Ok(DigestModel {
        recipient: recipient.email.clone(),
        lang: recipient.language,
        subject: format!("[{}] {title} — {period_label}", config.digest.organisation),
        organisation: config.digest.organisation.clone(),
        title: title.to_string(),
        period: period.to_string(),
        period_label,
        previous_label,
        scope,
        scope_label,
        is_department,
        key_figures,
        other_figures,
        submitted: registry.len() - missing_departments.len(),
        registry: registry.len(),
        missing_more: more_note(missing_departments.len(), false, vi),
        missing: missing_departments
            .into_iter()
            .take(DEPARTMENTS_LISTED)
            .collect(),
        departments_more: more_note(departments.len(), true, vi),
        departments: departments
            .iter()
            .take(DEPARTMENTS_LISTED)
            .cloned()
            .collect(),
        all_departments: departments,
        rejected_rows,
        charts,
        table,
        previous_table,
        labels: Arc::clone(labels),
        trends,
        trend_chart,
        recruitment,
        plan_ranges,
    })
}

/// Whether two periods are of the same kind (years, halves, quarters).
fn same_kind(a: Period, b: Period) -> bool {
    use crate::model::period::Kind;
    matches!(
        (a.kind, b.kind),
        (Kind::Year, Kind::Year)
            | (Kind::Half(_), Kind::Half(_))
            | (Kind::Quarter(_), Kind::Quarter(_))
    )
}

/// The value of `id` at `scope` among `rows`.
fn value_at(rows: &[IndicatorRow], scope: &str, id: &str) -> Option<f64> {
    rows.iter()
        .find(|r| r.scope == scope && r.indicator == id)
        .and_then(|r| r.value)
}

/// The key figures at `scope` over `period` and the periods of its kind
/// before it that have indicators, the last [`TREND_PERIODS`] in all.
fn trends<'a>(
    period: Period,
    history: &BTreeMap<Period, Vec<IndicatorRow>>,
    rows_of: &dyn Fn(Period) -> Option<&'a [IndicatorRow]>,
    scope: &str,
    labels: &IndicatorLabels,
    vi: bool,
) -> Trends {
    let mut periods: Vec<Period> = history
        .keys()
        .copied()
        .filter(|p| same_kind(*p, period) && *p < period && rows_of(*p).is_some())
        .collect();
    periods.push(period);
    let periods: Vec<Period> = periods.split_off(periods.len().saturating_sub(TREND_PERIODS));
    let mut rows = Vec::new();
    for id in labels.key_figures() {
        let found: Vec<Option<&IndicatorRow>> = periods
            .iter()
            .map(|p| {
                rows_of(*p)
                    .and_then(|rows| rows.iter().find(|r| r.scope == scope && r.indicator == id))
            })
            .collect();
        let raw: Vec<Option<f64>> = found.iter().map(|r| r.and_then(|r| r.value)).collect();
        if raw.iter().all(Option::is_none) {
            continue;
        }
        let unit = found
            .iter()
            .flatten()
            .map(|r| r.unit)
            .next_back()
            .or_else(|| labels.get(id).map(|l| l.unit))
            .unwrap_or(Unit::Count);
        rows.push(TrendRow {
            id: id.to_string(),
            label: labels.label(id, vi),
            values: raw
                .iter()
                .map(|v| super::format_value(*v, unit, vi))
                .collect(),
            raw,
            unit,
        });
    }
    let note = if periods.len() < 2 {
        let label = if vi {
            period.label_vi()
        } else {
            period.label_en()
        };
        if vi {
            format!("Mới có số liệu của một kỳ ({label}): chưa thể hiện xu hướng.")
        } else {
            format!("Figures exist for one period only ({label}): no trend yet.")
        }
    } else {
        String::new()
    };
    Trends {
        periods: periods.iter().map(Period::to_string).collect(),
        rows,
        note,
    }
}

/// The chart of the trends: one small panel per key figure, drawn only when
/// there are two periods or more.
fn trend_chart(trends: &Trends, vi: bool) -> Option<TrendChart> {
    if trends.periods.len() < 2 || trends.rows.is_empty() {
        return None;
    }
    Some(TrendChart {
        title: if vi {
            format!("Xu hướng {} kỳ gần nhất", trends.periods.len())
        } else {
            format!("Trend over the last {} periods", trends.periods.len())
        },
        periods: trends.periods.clone(),
        series: trends
            .rows
            .iter()
            .map(|r| TrendSeries {
                label: r.label.clone(),
                unit: r.unit,
                values: r.raw.clone(),
            })
            .collect(),
        vi,
    })
}

/// The IT recruitment ids, in the table's column order.
const RECRUITMENT_IDS: [&str; 4] = [
    "recruitment.it.target",
    "recruitment.it.recruited",
    "recruitment.it.fill_rate_pct",
    "recruitment.it.resigned",
];

/// IT recruitment at `scope` by year: the years up to the digest's (its own
/// year for a quarter or half-year digest) whose indicators have a
/// `recruitment.it.*` row for the scope, the last [`RECRUITMENT_YEARS`].
fn recruitment<'a>(
    period: Period,
    history: &BTreeMap<Period, Vec<IndicatorRow>>,
    rows_of: &dyn Fn(Period) -> Option<&'a [IndicatorRow]>,
    scope: &str,
    vi: bool,
) -> Vec<RecruitmentYear> {
    let mut years: BTreeSet<Period> = history
        .keys()
        .copied()
        .filter(|p| p.kind == crate::model::period::Kind::Year && p.year <= period.year)
        .collect();
    if period.kind == crate::model::period::Kind::Year {
        years.insert(period);
    }
    let mut table: Vec<RecruitmentYear> = years
        .into_iter()
        .filter_map(|year| {
            let rows = rows_of(year)?;
            let any = rows
                .iter()
                .any(|r| r.scope == scope && RECRUITMENT_IDS.contains(&r.indicator.as_str()));
            if !any {
                return None;
            }
            let raw = RECRUITMENT_IDS.map(|id| value_at(rows, scope, id));
            Some(RecruitmentYear {
                year: year.to_string(),
                target: super::format_value(raw[0], Unit::Count, vi),
                recruited: super::format_value(raw[1], Unit::Count, vi),
                fill_rate: super::format_value(raw[2], Unit::Percent, vi),
                resigned: super::format_value(raw[3], Unit::Count, vi),
                raw,
            })
        })
        .collect();
    let cut = table.len().saturating_sub(RECRUITMENT_YEARS);
    table.split_off(cut)
}

/// The multi-year plan ids: participants so far, attainment, expected share.
const PLAN_RANGE_IDS: [&str; 3] = [
    "training.plan_range.participants",
    "training.plan_range.attainment_pct",
    "training.plan_range.expected_pct",
];

/// A share with one decimal: "45,2%" (vi), "45.2%" (en).
fn one_decimal_percent(value: f64, vi: bool) -> String {
    let text = format!("{value:.1}%");
    if vi { text.replace('.', ",") } else { text }
}

/// Whether a plan is on track: behind when the attainment is more than
/// [`PLAN_RANGE_TOLERANCE_POINTS`] below the expected share.
pub fn plan_on_track(attainment: f64, expected: f64) -> bool {
    attainment >= expected - PLAN_RANGE_TOLERANCE_POINTS
}

/// The line said about a multi-year plan, or `None` without an attainment.
///
/// `so_far` is the attainment's numerator and denominator (participants so
/// far, the range's target): a leader quotes the count, not only the share.
pub fn plan_range_line(
    attainment: Option<f64>,
    expected: Option<f64>,
    so_far: Option<(f64, f64)>,
    vi: bool,
) -> Option<(String, Option<bool>)> {
    let attainment = attainment?;
    let share = one_decimal_percent(attainment, vi);
    let reached = match (so_far, vi) {
        (None, true) => format!("đạt {share}"),
        (None, false) => format!("{share} reached"),
        (Some((participants, target)), _) => {
            let count = |v: f64| super::group_thousands(v.round() as i64, vi);
            let (participants, target) = (count(participants), count(target));
            if vi {
                format!("{participants}/{target} lượt người, đạt {share}")
            } else {
                format!("{participants}/{target} attendances, {share} reached")
            }
        }
    };
    let prefix = if vi {
        "Kế hoạch giai đoạn"
    } else {
        "Multi-year plan"
    };
    let Some(expected) = expected else {
        return Some((format!("{prefix}: {reached}"), None));
    };
    let on_track = plan_on_track(attainment, expected);
    let expected = one_decimal_percent(expected, vi);
    let verdict = match (vi, on_track) {
        (true, true) => format!("(kỳ vọng {expected}) — đúng tiến độ"),
        (true, false) => format!("(kỳ vọng {expected}) — chậm so với tiến độ"),
        (false, true) => format!("({expected} expected) — on track"),
        (false, false) => format!("({expected} expected) — behind schedule"),
    };
    Some((format!("{prefix}: {reached} {verdict}"), Some(on_track)))
}

/// A line per scope with multi-year plan rows: the recipient's own scope
/// first, then the departments of the registry (for a province recipient)
/// or the province (for a department head).
fn plan_ranges(
    config: &Config,
    recipient: &Recipient,
    current_by_scope: &std::collections::HashMap<&str, Vec<&IndicatorRow>>,
    vi: bool,
) -> Vec<PlanProgress> {
    let province_label = if vi { "Toàn tỉnh" } else { "Province" }.to_string();
    let mut scopes: Vec<(String, String)> = Vec::new();
    match &recipient.scope {
        Scope::Province => {
            scopes.push(("province".into(), province_label));
            for d in config.departments.iter() {
                scopes.push((
                    Scope::Department(d.code.clone()).to_string(),
                    d.name.clone(),
                ));
            }
        }
        Scope::Department(code) => {
            let name = config
                .department(code)
                .map(|d| d.name.clone())
                .unwrap_or_else(|| code.clone());
            scopes.push((recipient.scope.to_string(), name));
            scopes.push(("province".into(), province_label));
        }
    }
    scopes
        .into_iter()
        .filter_map(|(scope, scope_label)| {
            let rows = current_by_scope.get(scope.as_str())?;
            let find = |id: &str| rows.iter().find(|r| r.indicator == id);
            let raw = PLAN_RANGE_IDS.map(|id| find(id).and_then(|r| r.value));
            let so_far = find(PLAN_RANGE_IDS[1]).and_then(|r| r.numerator.zip(r.denominator));
            let (line, on_track) = plan_range_line(raw[1], raw[2], so_far, vi)?;
            Some(PlanProgress {
                scope,
                scope_label,
                line,
                on_track,
                raw,
            })
        })
        .take(DEPARTMENTS_LISTED)
        .collect()
}

fn charts(
    config: &Config,
    recipient: &Recipient,
    current_by_scope: &std::collections::HashMap<&str, Vec<&IndicatorRow>>,
    now: &BTreeMap<String, IndicatorRow>,
    labels: &IndicatorLabels,
    vi: bool,
) -> Vec<BarChart> {
    let mut charts = Vec::new();
    match &recipient.scope {
        Scope::Province => {
            let mut bars: Vec<(String, f64)> = config
                .departments
                .iter()
                .map(|d| {
                    let scope = Scope::Department(d.code.clone()).to_string();
                    let value = current_by_scope
                        .get(scope.as_str())
                        .and_then(|rows| {
                            rows.iter().find(|r| r.indicator == "training.participants")
                        })
                        .and_then(|r| r.value)
                        .unwrap_or(0.0);
                    (d.name.clone(), value)
                })
                .collect();
            bars.sort_by(|a, b| b.1.total_cmp(&a.1));
            let mut title = if vi {
                "Lượt người được đào tạo, bồi dưỡng theo đơn vị"
            } else {
                "Training participants by department"
            }
            .to_string();
            if bars.len() > CHART_BARS {
                bars.truncate(CHART_BARS);
                title.push_str(&if vi {
                    format!(" ({CHART_BARS} đơn vị cao nhất)")
                } else {
                    format!(" (top {CHART_BARS})")
                });
            }
            charts.push(BarChart {
                title,
                bars,
                percent: false,
                vi,
            });
        }
        Scope::Department(_) => {
            let mut bars: Vec<(String, f64)> = now
                .values()
                .filter(|r| r.indicator.starts_with("training.category."))
                .filter_map(|r| {
                    r.value
                        .map(|v| (category_label(labels, &r.indicator, vi), v))
                })
                .collect();
            bars.sort_by(|a, b| b.1.total_cmp(&a.1));
            if !bars.is_empty() {
                charts.push(BarChart {
                    title: if vi {
                        "Lượt bồi dưỡng theo nội dung"
                    } else {
                        "Participants by training content"
                    }
                    .into(),
                    bars,
                    percent: false,
                    vi,
                });
            }
        }
    }
    let qualification: Vec<(String, f64)> = [
        "staff.qualification.postgraduate_pct",
        "staff.qualification.university_pct",
        "staff.qualification.college_vocational_pct",
        "staff.qualification.other_pct",
    ]
    .iter()
    .filter_map(|id| {
        now.get(*id)
            .and_then(|r| r.value)
            .map(|v| (labels.label(id, vi), v))
    })
    .collect();
    if !qualification.is_empty() {
        charts.push(BarChart {
            title: if vi {
                "Cơ cấu trình độ chuyên môn (%)"
            } else {
                "Qualification structure (%)"
            }
            .into(),
            bars: qualification,
            percent: true,
            vi,
        });
    }
    charts
}

/// The note after a list cut at [`DEPARTMENTS_LISTED`] of `total` names.
fn more_note(total: usize, departments: bool, vi: bool) -> String {
    let more = total.saturating_sub(DEPARTMENTS_LISTED);
    if more == 0 {
        return String::new();
    }
    let count = super::format_value(Some(more as f64), Unit::Count, vi);
    match (vi, departments) {
        (true, true) => format!("… và {count} đơn vị khác: xem tệp Excel đính kèm"),
        (true, false) => format!("… và {count} đơn vị khác"),
        (false, true) => format!("… and {count} more departments: see the attached Excel file"),
        (false, false) => format!("… and {count} more"),
    }
}

/// A category's name without the "Bồi dưỡng" every one of them starts with.
fn category_label(labels: &IndicatorLabels, id: &str, vi: bool) -> String {
    let full = labels.label(id, vi);
    let short = if vi {
        full.strip_prefix("Bồi dưỡng ").map(|s| {
            let mut chars = s.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        })
    } else {
        full.strip_suffix(" training").map(str::to_string)
    };
    short.unwrap_or(full)
}

fn direction(now: &IndicatorRow, before: Option<&IndicatorRow>) -> i8 {
    match (now.value, before.and_then(|r| r.value)) {
        (Some(a), Some(b)) if a > b => 1,
        (Some(a), Some(b)) if a < b => -1,
        _ => 0,
    }
}

fn change(now: &IndicatorRow, before: Option<&IndicatorRow>, vi: bool) -> String {
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
    let magnitude = if now.unit == Unit::Percent {
        let text = format!("{:.2} {}", diff.abs(), if vi { "điểm %" } else { "pp" });
        if vi { text.replace('.', ",") } else { text }
    } else {
        super::format_value(Some(diff.abs()), now.unit, vi)
    };
    format!("{arrow} {magnitude}")
}

/// "vượt kế hoạch 6,5%", "đạt 93,2% kế hoạch" for the plan attainment figure.
fn plan_note(row: &IndicatorRow, vi: bool) -> String {
    if row.indicator != "training.plan_attainment_pct" {
        return String::new();
    }
    let Some(value) = row.value else {
        return String::new();
    };
    let decimal = |x: f64| {
        let text = format!("{x:.1}");
        if vi { text.replace('.', ",") } else { text }
    };
    match (value >= 100.0, vi) {
        (true, true) => format!("vượt kế hoạch {}%", decimal(value - 100.0)),
        (true, false) => format!("{}% above plan", decimal(value - 100.0)),
        (false, true) => format!("đạt {}% kế hoạch", decimal(value)),
        (false, false) => format!("{}% of plan", decimal(value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(indicator: &str, value: f64, unit: &str) -> IndicatorRow {
        IndicatorRow {
            scope: "province".into(),
            indicator: indicator.into(),
            value: Some(value),
            numerator: None,
            denominator: None,
            unit: Unit::parse(unit).expect("a unit"),
        }
    }

    /// A registry of `n` departments (DV0001…) with a province recipient.
    fn country(n: usize, dir: &std::path::Path) -> Config {
        let mut departments = String::new();
        for i in 1..=n {
            departments.push_str(&format!(
                "[[department]]\ncode = \"DV{i:04}\"\nname = \"Đơn vị {i}\"\nlevel = \"commune\"\n\n"
            ));
        }
        std::fs::write(dir.join("departments.toml"), departments).unwrap();
        std::fs::write(
            dir.join("nhanluc.toml"),
            "[paths]\ninbox = \"inbox\"\narchive = \"a\"\nquarantine = \"q\"\nwarehouse = \"w\"\n\
             outbox = \"o\"\nstate = \"s.sqlite3\"\ndepartments = \"departments.toml\"\njobs = \"jobs\"\n\
             [[recipient]]\nemail = \"lanh-dao@example.gov.vn\"\nscope = \"province\"\nlanguage = \"vi\"\n",
        )
        .unwrap();
        std::fs::create_dir_all(dir.join("jobs")).unwrap();
        Config::load(&dir.join("nhanluc.toml")).unwrap()
    }

    /// The 2025 digest of the config's (province) recipient, without a previous period.
    fn province_model(
        config: &Config,
        current: &[IndicatorRow],
        submissions: &Submissions,
    ) -> DigestModel {
        build(
            config,
            &config.recipients[0],
            "2025",
            current,
            &History::default(),
            submissions,
            &Arc::new(crate::catalogue::built_in_indicator_labels()),
        )
        .unwrap()
    }

    #[test]
    fn a_large_registry_is_cut_short_in_the_body_and_the_chart_but_whole_in_the_attachment() {
        let dir = tempfile::tempdir().unwrap();
        let n = DEPARTMENTS_LISTED + 50;
        let config = country(n, dir.path());
        let mut current = vec![
            row("staff.headcount", 1000.0, "count"),
            row("training.participants", 500.0, "count"),
        ];
        for i in 1..=n {
            current.push(IndicatorRow {
                scope: format!("department:DV{i:04}"),
                ..row("training.participants", i as f64, "count")
            });
        }
        let submissions = Submissions {
            // Only the first ten sent anything.
            submitted: (1..=10).map(|i| format!("DV{i:04}")).collect(),
            rejected_rows: [("DV0249".to_string(), 3)].into(),
        };
        let model = province_model(&config, &current, &submissions);

        assert_eq!(model.departments.len(), DEPARTMENTS_LISTED);
        assert_eq!(model.departments[0].code, "DV0001");
        assert_eq!(
            model.departments_more,
            "… và 50 đơn vị khác: xem tệp Excel đính kèm"
        );
        assert_eq!(model.all_departments.len(), n);
        assert_eq!(model.missing.len(), DEPARTMENTS_LISTED);
        assert_eq!(model.missing_more, "… và 40 đơn vị khác");
        assert_eq!((model.submitted, model.registry), (10, n));
        // Counted over the whole registry, not the listed part.
        assert_eq!(model.rejected_rows, 3);

        let chart = &model.charts[0];
        assert_eq!(chart.bars.len(), CHART_BARS);
        assert_eq!(chart.bars[0], (format!("Đơn vị {n}"), n as f64));
        assert!(
            chart.title.ends_with("(20 đơn vị cao nhất)"),
            "{}",
            chart.title
        );
    }

    #[test]
    fn a_province_sized_registry_is_listed_whole() {
        let dir = tempfile::tempdir().unwrap();
        let config = country(150, dir.path());
        let current = vec![
            row("staff.headcount", 1000.0, "count"),
            row("training.participants", 500.0, "count"),
        ];
        let model = province_model(&config, &current, &Submissions::default());
        assert_eq!(model.departments.len(), 150);
        assert_eq!(model.missing.len(), 150);
        assert_eq!(
            (model.departments_more.as_str(), model.missing_more.as_str()),
            ("", "")
        );
        assert_eq!(model.charts[0].bars.len(), CHART_BARS);
    }

    /// The digest of `period` for the config's first recipient, with `history`.
    fn model_with(
        config: &Config,
        period: &str,
        current: &[IndicatorRow],
        history: &History,
    ) -> DigestModel {
        build(
            config,
            &config.recipients[0],
            period,
            current,
            history,
            &Submissions::default(),
            &Arc::new(crate::catalogue::built_in_indicator_labels()),
        )
        .unwrap()
    }

    fn at(scope: &str, indicator: &str, value: f64, unit: &str) -> IndicatorRow {
        IndicatorRow {
            scope: scope.into(),
            ..row(indicator, value, unit)
        }
    }

    /// The two required figures of the province, plus `extra`.
    fn required(headcount: f64, extra: Vec<IndicatorRow>) -> Vec<IndicatorRow> {
        let mut rows = vec![
            row("staff.headcount", headcount, "count"),
            row("training.participants", 500.0, "count"),
        ];
        rows.extend(extra);
        rows
    }

    #[test]
    fn trends_take_the_last_five_periods_of_the_same_kind() {
        let dir = tempfile::tempdir().unwrap();
        let config = country(3, dir.path());
        let mut history = History::default();
        // Six earlier years (the oldest falls out), a quarter (another kind)
        // and a year after the digest's (not earlier).
        for (year, headcount) in [
            (2019, 900.0),
            (2020, 910.0),
            (2021, 1000.0),
            (2022, 1100.0),
            (2023, 1200.0),
            (2024, 1250.0),
        ] {
            let mut rows = required(headcount, vec![]);
            if year == 2022 {
                // 2022 has no online share: a gap, not a shift.
            } else {
                rows.push(row("training.online_pct", year as f64 - 1980.0, "percent"));
            }
            // Another scope's figure is not the recipient's.
            rows.push(at("department:DV0001", "staff.headcount", 7.0, "count"));
            history.periods.insert(Period::year(year), rows);
        }
        history
            .periods
            .insert("2024-Q4".parse().unwrap(), required(5.0, vec![]));
        history
            .periods
            .insert(Period::year(2026), required(9.0, vec![]));
        let current = required(1300.0, vec![row("training.online_pct", 54.107, "percent")]);
        let model = model_with(&config, "2025", &current, &history);

        let trends = &model.trends;
        assert_eq!(trends.periods, ["2021", "2022", "2023", "2024", "2025"]);
        assert_eq!(trends.note, "");
        let headcount = &trends.rows[0];
        assert_eq!(headcount.id, "staff.headcount");
        assert_eq!(
            headcount.values,
            ["1.000", "1.100", "1.200", "1.250", "1.300"]
        );
        let online = trends
            .rows
            .iter()
            .find(|r| r.id == "training.online_pct")
            .unwrap();
        // 2021 − 1980 = 41, 2023 → 43, 2024 → 44; 2022 has none.
        assert_eq!(online.values, ["41,00%", "—", "43,00%", "44,00%", "54,11%"]);
        assert_eq!(online.raw[1], None);
        // Key figures with no value anywhere are left out (no plan here).
        assert!(
            !trends
                .rows
                .iter()
                .any(|r| r.id == "training.plan_attainment_pct")
        );
        let chart = model.trend_chart.as_ref().expect("a chart of five periods");
        assert_eq!(chart.periods.len(), 5);
        assert_eq!(chart.series.len(), trends.rows.len());
        assert_eq!(chart.title, "Xu hướng 5 kỳ gần nhất");
    }

    #[test]
    fn a_quarter_trend_follows_quarters_across_years() {
        let dir = tempfile::tempdir().unwrap();
        let config = country(1, dir.path());
        let mut history = History::default();
        for (period, headcount) in [("2024-Q3", 10.0), ("2024-Q4", 11.0), ("2024", 99.0)] {
            history
                .periods
                .insert(period.parse().unwrap(), required(headcount, vec![]));
        }
        let model = model_with(&config, "2025-Q1", &required(12.0, vec![]), &history);
        assert_eq!(model.trends.periods, ["2024-Q3", "2024-Q4", "2025-Q1"]);
        assert_eq!(model.trends.rows[0].values, ["10", "11", "12"]);
    }

    #[test]
    fn one_period_is_said_in_words_and_draws_no_chart() {
        let dir = tempfile::tempdir().unwrap();
        let config = country(1, dir.path());
        let model = model_with(
            &config,
            "2025",
            &required(10.0, vec![]),
            &History::default(),
        );
        assert_eq!(model.trends.periods, ["2025"]);
        assert_eq!(
            model.trends.note,
            "Mới có số liệu của một kỳ (năm 2025): chưa thể hiện xu hướng."
        );
        assert!(model.trend_chart.is_none());
        assert!(model.recruitment.is_empty());
        assert!(model.plan_ranges.is_empty());
    }

    /// Quang Ninh's IT recruitment: 2020 4 of 19, 2022 8 of 12, 2024 3 of 6.
    fn quang_ninh(year: i32) -> Vec<IndicatorRow> {
        let (target, recruited, resigned) = match year {
            2020 => (19.0, 4.0, 1.0),
            2022 => (12.0, 8.0, 0.0),
            _ => (6.0, 3.0, 2.0),
        };
        vec![
            row("recruitment.it.target", target, "count"),
            row("recruitment.it.recruited", recruited, "count"),
            row(
                "recruitment.it.fill_rate_pct",
                100.0 * recruited / target,
                "percent",
            ),
            row("recruitment.it.resigned", resigned, "count"),
        ]
    }

    #[test]
    fn it_recruitment_by_year_lists_the_years_with_recruitment_rows() {
        let dir = tempfile::tempdir().unwrap();
        let config = country(1, dir.path());
        let mut history = History::default();
        history
            .periods
            .insert(Period::year(2020), required(1.0, quang_ninh(2020)));
        // 2021 and 2023 have indicators but no recruitment.
        history
            .periods
            .insert(Period::year(2021), required(1.0, vec![]));
        history
            .periods
            .insert(Period::year(2022), required(1.0, quang_ninh(2022)));
        history
            .periods
            .insert(Period::year(2023), required(1.0, vec![]));
        let model = model_with(&config, "2024", &required(1.0, quang_ninh(2024)), &history);
        let table: Vec<[&str; 5]> = model
            .recruitment
            .iter()
            .map(|y| {
                [
                    y.year.as_str(),
                    y.target.as_str(),
                    y.recruited.as_str(),
                    y.fill_rate.as_str(),
                    y.resigned.as_str(),
                ]
            })
            .collect();
        // 4/19 = 21.0526…, 8/12 = 66.666…, 3/6 = 50.
        assert_eq!(
            table,
            [
                ["2020", "19", "4", "21,05%", "1"],
                ["2022", "12", "8", "66,67%", "0"],
                ["2024", "6", "3", "50,00%", "2"],
            ]
        );
        // A quarter digest of 2025 lists the years up to 2025 from the history.
        history
            .periods
            .insert(Period::year(2024), required(1.0, quang_ninh(2024)));
        let quarter = model_with(&config, "2025-Q1", &required(1.0, vec![]), &history);
        assert_eq!(quarter.recruitment.len(), 3);
    }

    #[test]
    fn at_most_five_recruitment_years_the_last_ones() {
        let dir = tempfile::tempdir().unwrap();
        let config = country(1, dir.path());
        let mut history = History::default();
        for year in 2017..=2023 {
            history
                .periods
                .insert(Period::year(year), required(1.0, quang_ninh(2024)));
        }
        let model = model_with(&config, "2024", &required(1.0, quang_ninh(2024)), &history);
        let years: Vec<&str> = model.recruitment.iter().map(|y| y.year.as_str()).collect();
        assert_eq!(years, ["2020", "2021", "2022", "2023", "2024"]);
    }

    #[test]
    fn multi_year_plan_progress_in_words_per_scope() {
        let dir = tempfile::tempdir().unwrap();
        let config = country(4, dir.path());
        let plan = |scope: &str, participants: f64, attainment: f64, expected: f64| {
            vec![
                at(
                    scope,
                    "training.plan_range.participants",
                    participants,
                    "count",
                ),
                at(
                    scope,
                    "training.plan_range.attainment_pct",
                    attainment,
                    "percent",
                ),
                at(
                    scope,
                    "training.plan_range.expected_pct",
                    expected,
                    "percent",
                ),
            ]
        };
        let mut extra = plan("province", 17_628.0, 45.2, 60.0);
        // Exactly 5 points below: still on track; 5.1 below: behind.
        extra.extend(plan("department:DV0002", 110.0, 55.0, 60.0));
        extra.extend(plan("department:DV0003", 98.0, 54.9, 60.0));
        // A department with an attainment but no expected share: no verdict.
        extra.push(at(
            "department:DV0004",
            "training.plan_range.attainment_pct",
            12.0,
            "percent",
        ));
        let model = model_with(&config, "2023", &required(1.0, extra), &History::default());
        let lines: Vec<(&str, &str, Option<bool>)> = model
            .plan_ranges
            .iter()
            .map(|p| (p.scope_label.as_str(), p.line.as_str(), p.on_track))
            .collect();
        assert_eq!(
            lines,
            [
                (
                    "Toàn tỉnh",
                    "Kế hoạch giai đoạn: đạt 45,2% (kỳ vọng 60,0%) — chậm so với tiến độ",
                    Some(false)
                ),
                (
                    "Đơn vị 2",
                    "Kế hoạch giai đoạn: đạt 55,0% (kỳ vọng 60,0%) — đúng tiến độ",
                    Some(true)
                ),
                (
                    "Đơn vị 3",
                    "Kế hoạch giai đoạn: đạt 54,9% (kỳ vọng 60,0%) — chậm so với tiến độ",
                    Some(false)
                ),
                ("Đơn vị 4", "Kế hoạch giai đoạn: đạt 12,0%", None),
            ]
        );
        assert_eq!(
            model.plan_ranges[0].raw,
            [Some(17_628.0), Some(45.2), Some(60.0)]
        );
        assert_eq!(
            plan_range_line(Some(61.0), Some(60.0), None, false),
            Some((
                "Multi-year plan: 61.0% reached (60.0% expected) — on track".to_string(),
                Some(true)
            ))
        );
        assert_eq!(plan_range_line(None, Some(60.0), None, true), None);
        assert_eq!(
            plan_range_line(Some(5.04), Some(60.0), Some((1_967.0, 39_000.0)), true),
            Some((
                "Kế hoạch giai đoạn: 1.967/39.000 lượt người, đạt 5,0% (kỳ vọng 60,0%) — chậm so với tiến độ"
                    .to_string(),
                Some(false)
            ))
        );
    }

    #[test]
    fn plan_notes_in_plain_words() {
        assert_eq!(
            plan_note(&row("training.plan_attainment_pct", 106.5, "percent"), true),
            "vượt kế hoạch 6,5%"
        );
        assert_eq!(
            plan_note(
                &row("training.plan_attainment_pct", 106.5, "percent"),
                false
            ),
            "6.5% above plan"
        );
        assert_eq!(
            plan_note(&row("training.plan_attainment_pct", 93.24, "percent"), true),
            "đạt 93,2% kế hoạch"
        );
        assert_eq!(
            plan_note(&row("training.participants", 5.0, "count"), true),
            ""
        );
    }

    #[test]
    fn changes_against_the_previous_period() {
        let now = row("staff.headcount", 295.0, "count");
        let before = row("staff.headcount", 311.0, "count");
        assert_eq!(change(&now, Some(&before), true), "▼ 16");
        assert_eq!(direction(&now, Some(&before)), -1);
        let now = row("training.online_pct", 54.11, "percent");
        let before = row("training.online_pct", 48.16, "percent");
        assert_eq!(change(&now, Some(&before), true), "▲ 5,95 điểm %");
        assert_eq!(change(&now, None, true), "");
    }
}
