//! The reporting period of a submission, and the one place that decides it
//! from the evidence a file carries.
//!
//! A period is a year `2025`, a half-year `2025-H1` / `2025-H2`, a quarter
//! `2025-Q4` or, for plans only, a range of years `2021-2025` ("giai đoạn
//! 2021–2025", 2 to 11 years); these strings are the warehouse's partition
//! values and what `--period` takes. A range is no reporting period of its
//! own: it is never "the latest period", and the indicators compare the
//! ordinary periods inside it with its plan.
//!
//! Evidence comes from the folders under the department's folder, the file
//! name, and the title block above each sheet's header; [`decide`] weighs
//! it all. Nothing is guessed: a date is not a period, a quarter or a half
//! only counts where one is named, and contradicting evidence refuses the
//! file (or the one sheet that contradicts it) with every piece shown.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::text::fold;

/// Years outside this range are no reporting period ("so-1904", a serial number).
const YEARS: std::ops::RangeInclusive<i32> = 1990..=2100;

/// How many years a plan's range may span, both ends included.
pub const RANGE_YEARS: std::ops::RangeInclusive<i32> = 2..=11;

/// What part of its year a period covers.
///
/// The variant order is the order of the period strings ("2025" <
/// "2025-2030" < "2025-H1" < "2025-Q1"), so sorting periods and sorting
/// their strings agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Year,
    /// A plan's range of years from the period's `year` to `end`, both
    /// included: 2 to 11 years (made only by [`Period::range`]).
    Range {
        end: i32,
    },
    /// 1 or 2 (made only by [`Period::half`]).
    Half(u8),
    /// 1 to 4 (made only by [`Period::quarter`]).
    Quarter(u8),
}

/// A reporting period: a year, a half-year or a quarter of one year, or a
/// plan's range of years (`year` is then its first year).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    pub year: i32,
    pub kind: Kind,
}

const ROMAN: [&str; 4] = ["I", "II", "III", "IV"];

impl Period {
    /// The whole year `year`.
    pub fn year(year: i32) -> Self {
        Period {
            year,
            kind: Kind::Year,
        }
    }

    /// The first (1) or second (2) half of `year`.
    pub fn half(year: i32, half: u8) -> Option<Self> {
        (1..=2).contains(&half).then_some(Period {
            year,
            kind: Kind::Half(half),
        })
    }

    /// Quarter 1 to 4 of `year`.
    pub fn quarter(year: i32, quarter: u8) -> Option<Self> {
        (1..=4).contains(&quarter).then_some(Period {
            year,
            kind: Kind::Quarter(quarter),
        })
    }

    /// The range of years from `start` to `end`, both included: `None`
    /// unless `start < end` and it spans at most [`RANGE_YEARS`] years.
    pub fn range(start: i32, end: i32) -> Option<Self> {
        let valid = start < end
            && YEARS.contains(&start)
            && YEARS.contains(&end)
            && RANGE_YEARS.contains(&(end - start + 1));
        valid.then_some(Period {
            year: start,
            kind: Kind::Range { end },
        })
    }

    /// Whether this is a plan's range of years (`2021-2025`), not a
    /// reporting period of one year or part of one.
    pub fn is_range(self) -> bool {
        matches!(self.kind, Kind::Range { .. })
    }

    /// The period before this one of the same kind: 2024 for 2025, 2025-Q3
    /// for 2025-Q4, 2024-H2 for 2025-H1, 2016-2020 for 2021-2025.
    pub fn previous(self) -> Period {
        let Period { year, kind } = self;
        match kind {
            Kind::Year => Period::year(year - 1),
            Kind::Range { end } => Period {
                year: year - (end - year + 1),
                kind: Kind::Range { end: year - 1 },
            },
            Kind::Half(1) => Period {
                year: year - 1,
                kind: Kind::Half(2),
            },
            Kind::Half(h) => Period {
                year,
                kind: Kind::Half(h - 1),
            },
            Kind::Quarter(1) => Period {
                year: year - 1,
                kind: Kind::Quarter(4),
            },
            Kind::Quarter(q) => Period {
                year,
                kind: Kind::Quarter(q - 1),
            },
        }
    }

    /// The month the period ends in (12 for a year) and how many months it
    /// spans: what "the latest period" is ordered by.
    fn end_and_span(self) -> (i32, u8, u8) {
        match self.kind {
            Kind::Year => (self.year, 12, 12),
            Kind::Range { end } => (end, 12, 12),
            Kind::Half(h) => (self.year, h * 6, 6),
            Kind::Quarter(q) => (self.year, q * 3, 3),
        }
    }

    /// Whether `other` lies within this period as evidence sees it: a year
    /// holds its halves and quarters; every period holds itself. A range
    /// holds nothing but itself, and no year holds a range: a plan for
    /// 2021–2025 and a report of 2023 are different reports.
    pub fn contains(self, other: Period) -> bool {
        self == other || (self.kind == Kind::Year && self.year == other.year && !other.is_range())
    }

    /// Whether the two can describe the same report: equal, or one within
    /// the other. Q4 and H2 of a year are not (neither says the other).
    fn consistent(self, other: Period) -> bool {
        self.contains(other) || other.contains(self)
    }

    /// "năm 2025", "6 tháng đầu năm 2025", "quý IV năm 2025" or "giai đoạn
    /// 2021–2025", for subjects and headings.
    pub fn label_vi(self) -> String {
        match self.kind {
            Kind::Year => format!("năm {}", self.year),
            Kind::Range { end } => format!("giai đoạn {}–{end}", self.year),
            Kind::Half(1) => format!("6 tháng đầu năm {}", self.year),
            Kind::Half(_) => format!("6 tháng cuối năm {}", self.year),
            Kind::Quarter(q) => format!(
                "quý {} năm {}",
                ROMAN[usize::from(q.clamp(1, 4)) - 1],
                self.year
            ),
        }
    }

    /// "year 2025", "H1 2025", "Q4 2025" or "2021–2025".
    pub fn label_en(self) -> String {
        match self.kind {
            Kind::Year => format!("year {}", self.year),
            Kind::Range { end } => format!("{}–{end}", self.year),
            Kind::Half(h) => format!("H{h} {}", self.year),
            Kind::Quarter(q) => format!("Q{q} {}", self.year),
        }
    }
}

/// The latest of `periods` (text that is no period ignored): the one that
/// ends last, and of those ending together the longest, so a year's annual
/// report comes before its Q4 and H2 when the digest picks "the latest"
/// (string order would put "2025-Q4" after "2025", and "2025-Q1" too). A
/// plan's range is never the latest period: it is no reporting period.
pub fn latest<'a>(periods: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    periods
        .into_iter()
        .filter_map(|text| {
            text.parse::<Period>()
                .ok()
                .filter(|p| !p.is_range())
                .map(|p| (p.end_and_span(), text))
        })
        .max()
        .map(|(_, text)| text)
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::Year => write!(f, "{}", self.year),
            Kind::Range { end } => write!(f, "{}-{end}", self.year),
            Kind::Half(h) => write!(f, "{}-H{h}", self.year),
            Kind::Quarter(q) => write!(f, "{}-Q{q}", self.year),
        }
    }
}

/// A text that names no period (`YYYY`, `YYYY-Hn`, `YYYY-Qn` or `YYYY-YYYY`).
#[derive(Debug, thiserror::Error)]
#[error(
    "{0:?} is not a period: expected YYYY, YYYY-Hn, YYYY-Qn or a plan's range YYYY-YYYY (2 to 11 years), e.g. 2025, 2025-H1, 2025-Q4 or 2021-2025"
)]
pub struct PeriodParseError(String);

impl FromStr for Period {
    type Err = PeriodParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        static EXACT: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^(\d{4})(?:-([QqHh])(\d)|-(\d{4}))?$").expect("static regex")
        });
        let error = || PeriodParseError(text.to_string());
        let captures = EXACT.captures(text.trim()).ok_or_else(error)?;
        let year: i32 = captures[1].parse().map_err(|_| error())?;
        if !YEARS.contains(&year) {
            return Err(error());
        }
        if let Some(end) = captures.get(4) {
            let end: i32 = end.as_str().parse().map_err(|_| error())?;
            return Period::range(year, end).ok_or_else(error);
        }
        let Some(kind) = captures.get(2) else {
            return Ok(Period::year(year));
        };
        let number: u8 = captures[3].parse().map_err(|_| error())?;
        match kind.as_str() {
            "H" | "h" => Period::half(year, number),
            _ => Period::quarter(year, number),
        }
        .ok_or_else(error)
    }
}

impl Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------
// Evidence
// ---------------------------------------------------------------------------

/// Where a piece of evidence was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum EvidenceSource {
    /// A folder between the department's folder and the file.
    Folder,
    FileName,
    /// The title block above a sheet's header. `row` is the Excel row when
    /// known (the sheet reader hands the title texts on without their rows).
    Title {
        sheet: String,
        row: Option<u32>,
    },
}

/// One mention of a period, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    #[serde(flatten)]
    pub source: EvidenceSource,
    /// The folder or file name, or the title line(s), as written.
    pub text: String,
    /// The period it names; `None` when it names a span that is no reporting
    /// period ("THÁNG 12 NĂM 2025", "9 THÁNG NĂM 2025"), which cannot be filed.
    pub period: Option<Period>,
}

impl Evidence {
    fn where_vi(&self) -> String {
        match &self.source {
            EvidenceSource::Folder => format!("thư mục \"{}\"", self.text),
            EvidenceSource::FileName => format!("tên tệp \"{}\"", self.text),
            EvidenceSource::Title { sheet, row } => match row {
                Some(r) => format!("tiêu đề trang \"{sheet}\" dòng {r} (\"{}\")", self.text),
                None => format!("tiêu đề trang \"{sheet}\" (\"{}\")", self.text),
            },
        }
    }

    fn where_en(&self) -> String {
        match &self.source {
            EvidenceSource::Folder => format!("the folder \"{}\"", self.text),
            EvidenceSource::FileName => format!("the file name \"{}\"", self.text),
            EvidenceSource::Title { sheet, row } => match row {
                Some(r) => format!(
                    "the title of sheet \"{sheet}\", row {r} (\"{}\")",
                    self.text
                ),
                None => format!("the title of sheet \"{sheet}\" (\"{}\")", self.text),
            },
        }
    }

    /// "tên tệp "ds_2026.xlsx" ghi năm 2026".
    pub(crate) fn says_vi(&self) -> String {
        match self.period {
            Some(p) => format!("{} ghi {}", self.where_vi(), p.label_vi()),
            None => format!(
                "{} ghi một khoảng thời gian không phải kỳ báo cáo (năm, 6 tháng, quý; với kế hoạch: giai đoạn 2 đến 11 năm)",
                self.where_vi()
            ),
        }
    }

    /// "the file name "ds_2026.xlsx" says year 2026".
    pub fn says_en(&self) -> String {
        match self.period {
            Some(p) => format!("{} says {}", self.where_en(), p.label_en()),
            None => format!(
                "{} names a span that is no reporting period (year, half-year, quarter; for a plan: a range of 2 to 11 years)",
                self.where_en()
            ),
        }
    }
}

/// The period of a file and what it was decided from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodDecision {
    pub period: Period,
    /// Every piece of evidence the decision rests on (the folders, the file
    /// name and the titles of the sheets taken), nearest the file first.
    pub evidence: Vec<Evidence>,
    /// Sheets whose own title names another period: refused, their rows not taken.
    pub refused_sheets: Vec<SheetRefusal>,
}

/// A sheet refused because its title names another period than the file's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SheetRefusal {
    pub sheet: String,
    pub reason_vi: String,
    pub reason_en: String,
}

/// Why no period can be decided: the file is quarantined with this reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodRefusal {
    /// The evidence that disagrees (empty when there was none).
    pub evidence: Vec<Evidence>,
    pub reason_vi: String,
    pub reason_en: String,
}

/// The title evidence of one sheet whose rows would be taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetTitle {
    pub sheet: String,
    pub evidence: Vec<Evidence>,
}

/// What a set of evidence comes to.
enum Verdict {
    None,
    One(Period),
    /// Pieces that cannot be taken together, or one naming no period.
    Conflict(Vec<Evidence>),
}

/// The one period a set of evidence names: the most specific, when every
/// piece is consistent with every other (a year with a quarter of it).
fn combine(evidence: &[&Evidence]) -> Verdict {
    let unfileable: Vec<Evidence> = evidence
        .iter()
        .filter(|e| e.period.is_none())
        .map(|e| (*e).clone())
        .collect();
    if !unfileable.is_empty() {
        return Verdict::Conflict(unfileable);
    }
    let periods: Vec<(&Evidence, Period)> = evidence
        .iter()
        .filter_map(|e| e.period.map(|p| (*e, p)))
        .collect();
    for (i, (a, pa)) in periods.iter().enumerate() {
        if let Some((b, _)) = periods[i + 1..].iter().find(|(_, pb)| !pa.consistent(*pb)) {
            return Verdict::Conflict(vec![(*a).clone(), (*b).clone()]);
        }
    }
    // Pairwise consistent: the most specific holds every other one.
    match periods
        .iter()
        .map(|(_, p)| *p)
        .find(|p| periods.iter().all(|(_, q)| q.contains(*p)))
    {
        Some(p) => Verdict::One(p),
        None => Verdict::None,
    }
}

/// What each piece says, in Vietnamese and in English, joined.
fn evidence_said(evidence: &[Evidence]) -> (String, String) {
    let vi: Vec<String> = evidence.iter().map(Evidence::says_vi).collect();
    let en: Vec<String> = evidence.iter().map(Evidence::says_en).collect();
    (vi.join("; "), en.join("; "))
}

fn conflict_reason(evidence: &[Evidence]) -> (String, String) {
    let (vi, en) = evidence_said(evidence);
    (
        format!(
            "Không xác định được kỳ báo cáo: {vi}. Sửa tên tệp hoặc tiêu đề biểu cho đúng một kỳ báo cáo (năm, 6 tháng đầu/cuối năm hoặc quý; kế hoạch có thể theo giai đoạn, ví dụ \"GIAI ĐOẠN 2021 - 2025\") rồi gửi lại"
        ),
        format!(
            "Cannot determine the reporting period: {en}. Correct the file name or the title so that they name one reporting period (a year, a half-year or a quarter; a plan may cover a range of years, e.g. \"GIAI ĐOẠN 2021 - 2025\") and send the file again"
        ),
    )
}

fn refusal(evidence: Vec<Evidence>) -> PeriodRefusal {
    let (reason_vi, reason_en) = conflict_reason(&evidence);
    PeriodRefusal {
        evidence,
        reason_vi,
        reason_en,
    }
}

/// The period the folders and the file name agree on, if they name one
/// without contradiction. Sheets are checked against it as they are read.
pub(crate) fn path_period(path: &[Evidence]) -> Option<Period> {
    match combine(&path.iter().collect::<Vec<_>>()) {
        Verdict::One(p) => Some(p),
        _ => None,
    }
}

/// Whether a sheet is refused because its own title names another period
/// than the one its folders and file name agree on. Used by the loader as
/// soon as the sheet's header is found (before any of its rows is stored)
/// and by [`decide`], so the two cannot differ.
///
/// A title more specific than the name but within it ("QUÝ IV NĂM 2025" in
/// `…_2025.xlsx`) does not refuse the sheet: see [`decide`].
pub fn sheet_refusal(path: &[Evidence], title: &SheetTitle) -> Option<SheetRefusal> {
    let file_period = path_period(path)?;
    let mut all: Vec<&Evidence> = path.iter().collect();
    all.extend(title.evidence.iter());
    let Verdict::Conflict(pieces) = combine(&all) else {
        return None;
    };
    let (vi, en) = evidence_said(&pieces);
    let (sheet, vi_period, en_period) =
        (&title.sheet, file_period.label_vi(), file_period.label_en());
    Some(SheetRefusal {
        sheet: sheet.clone(),
        reason_vi: format!(
            "Trang \"{sheet}\" không được tiếp nhận vì tiêu đề không khớp kỳ báo cáo của tệp ({vi_period}): {vi}. Số liệu của kỳ khác gửi trong một tệp riêng; nếu trang này đúng là số liệu {vi_period}, sửa tiêu đề rồi gửi lại tệp"
        ),
        reason_en: format!(
            "Sheet \"{sheet}\" is not taken because its title does not match the file's reporting period ({en_period}): {en}. Send another period's figures in a file of their own; if the sheet does hold the figures of {en_period}, correct its title and send the file again"
        ),
    })
}

/// Decides a file's period from all its evidence: `path` from
/// [`path_evidence`], and the title evidence of each sheet whose rows would
/// be taken (sheets matching no template say nothing about the period).
///
/// The rules:
/// * Every piece must be consistent with every other: equal, or a year and
///   a half or quarter of that year. The file's period is then the most
///   specific one named. So `…_2025.xlsx` titled "QUÝ IV NĂM 2025" is
///   `2025-Q4`: the quarter is named, and a year in a name does not say
///   "the whole year" — it says which year. This is not silent: both pieces
///   are in [`PeriodDecision::evidence`], which the report and `inspect` show.
///   Two different specific periods (Q3 and Q4, or Q4 and H2) are not
///   consistent.
/// * The folders and the file name must agree among themselves; if they do
///   not (or one names a month, "thang12_2025"), the file is refused.
/// * When they name a period, a sheet whose title contradicts it is refused
///   ([`sheet_refusal`]) and the others are taken; if every sheet is
///   refused, the file is refused with the name and the titles shown.
/// * When they name none, the titles decide and must all agree, or the file
///   is refused with the disagreeing titles shown.
/// * No evidence at all: refused, "cannot determine the reporting period".
pub fn decide(path: &[Evidence], sheets: &[SheetTitle]) -> Result<PeriodDecision, PeriodRefusal> {
    let path_refs: Vec<&Evidence> = path.iter().collect();
    let mut refused_sheets = Vec::new();
    let mut taken: Vec<&SheetTitle> = Vec::new();
    match combine(&path_refs) {
        Verdict::Conflict(pieces) => return Err(refusal(pieces)),
        Verdict::One(_) => {
            for sheet in sheets {
                match sheet_refusal(path, sheet) {
                    Some(refused) => refused_sheets.push(refused),
                    None => taken.push(sheet),
                }
            }
            if taken.is_empty() && !sheets.is_empty() {
                let mut all = path.to_vec();
                all.extend(sheets.iter().flat_map(|s| s.evidence.iter().cloned()));
                return Err(refusal(all));
            }
        }
        Verdict::None => taken.extend(sheets),
    }
    let mut evidence: Vec<Evidence> = path.to_vec();
    evidence.extend(taken.iter().flat_map(|s| s.evidence.iter().cloned()));
    match combine(&evidence.iter().collect::<Vec<_>>()) {
        Verdict::One(period) => Ok(PeriodDecision {
            period,
            evidence,
            refused_sheets,
        }),
        Verdict::Conflict(pieces) => Err(refusal(pieces)),
        Verdict::None => Err(PeriodRefusal {
            evidence: Vec::new(),
            reason_vi: "Không xác định được kỳ báo cáo: ghi kỳ vào tên tệp (…_2025.xlsx, …_quy4_2025.xlsx, …_H1_2025.xlsx) hoặc tiêu đề biểu (\"NĂM 2025\", \"6 THÁNG ĐẦU NĂM 2025\", \"QUÝ IV NĂM 2025\")".into(),
            reason_en: "Cannot determine the reporting period: put it in the file name (…_2025.xlsx, …_quy4_2025.xlsx, …_H1_2025.xlsx) or the title (\"NĂM 2025\", \"6 THÁNG ĐẦU NĂM 2025\", \"QUÝ IV NĂM 2025\")".into(),
        }),
    }
}

// ---------------------------------------------------------------------------
// Reading the evidence
// ---------------------------------------------------------------------------

/// A period mention in folded text: its byte range and what it names.
struct Mention {
    range: std::ops::Range<usize>,
    period: Option<Period>,
}

fn year_of(text: &str) -> Option<i32> {
    text.parse().ok().filter(|y| YEARS.contains(y))
}

fn quarter_of(text: &str) -> Option<u8> {
    match text {
        "1" | "i" => Some(1),
        "2" | "ii" => Some(2),
        "3" | "iii" => Some(3),
        "4" | "iv" => Some(4),
        _ => None,
    }
}

/// What one pattern makes of its match; `None` when the match is no
/// mention after all (a year out of range), `Some(None)` for a span that is
/// no reporting period.
type Reader = fn(&regex::Captures<'_>) -> Option<Option<Period>>;

/// Finds mentions pattern by pattern; each match is blanked so a later,
/// looser pattern (a bare year) cannot read the same words again.
/// `consume_only` patterns (dates) are blanked and yield nothing.
fn mentions(folded: &str, patterns: &[(&Regex, Option<Reader>)]) -> Vec<Mention> {
    let mut text = folded.to_string();
    let mut found = Vec::new();
    for (pattern, reader) in patterns {
        let matches: Vec<(std::ops::Range<usize>, Option<Option<Period>>)> = pattern
            .captures_iter(&text)
            .filter_map(|c| {
                let whole = c.get(0)?;
                Some((whole.range(), reader.and_then(|r| r(&c))))
            })
            .collect();
        for (range, read) in matches {
            if let Some(period) = read {
                found.push(Mention {
                    range: range.clone(),
                    period,
                });
            }
            // Blank whole characters: the folded text may hold non-ASCII letters.
            text.replace_range(range.clone(), &" ".repeat(range.len()));
        }
    }
    found.sort_by_key(|m| m.range.start);
    found
}

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("static regex")
}

fn read_year(c: &regex::Captures<'_>) -> Option<Option<Period>> {
    year_of(c.name("y")?.as_str()).map(|y| Some(Period::year(y)))
}

fn read_quarter(c: &regex::Captures<'_>) -> Option<Option<Period>> {
    let year = year_of(c.name("y")?.as_str())?;
    let quarter = quarter_of(c.name("q")?.as_str())?;
    Some(Period::quarter(year, quarter))
}

fn read_half(c: &regex::Captures<'_>) -> Option<Option<Period>> {
    let year = year_of(c.name("y")?.as_str())?;
    // "6 tháng năm 2025" (no đầu/cuối) is the first half: the second is
    // always written "cuối năm".
    let half = match c.name("h").map(|h| h.as_str()) {
        Some("cuoi" | "2") => 2,
        _ => 1,
    };
    Some(Period::half(year, half))
}

/// A range of years "2021 đến 2025" (a dash is read as "đến", see
/// [`dashes_between_years`]): a plan's range when it spans 2 to 11 years
/// forward, else a span that is no period ("2025-2021", "2000-2025").
fn read_range(c: &regex::Captures<'_>) -> Option<Option<Period>> {
    let start = year_of(c.name("y")?.as_str())?;
    let end = year_of(c.name("e")?.as_str())?;
    Some(Period::range(start, end))
}

/// The text with a dash between two years ("2021-2025", "2021 – 2025",
/// "2021—2025", spaces or none) written "2021 đến 2025", before folding
/// drops the dash: so a range reads as one mention and neither of its
/// years as a year. Only four digits on both sides count: "12-01-2026"
/// and "2026-01-12" are dates, untouched.
fn dashes_between_years(text: &str) -> String {
    static DASH: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(^|[^0-9])([0-9]{4})\s*[-\u{2010}\u{2011}\u{2012}\u{2013}\u{2014}\u{2015}\u{2212}]\s*([0-9]{4})([^0-9]|$)",
        )
    });
    // Twice: a match takes the character after it, which may begin another.
    let once = DASH.replace_all(text, "${1}${2} đến ${3}${4}");
    DASH.replace_all(&once, "${1}${2} đến ${3}${4}")
        .into_owned()
}

/// A month, or a number of months other than six: a year is named, but the
/// report is not of a year, a half or a quarter, so it cannot be filed.
fn read_unfileable(c: &regex::Captures<'_>) -> Option<Option<Period>> {
    year_of(c.name("y")?.as_str()).map(|_| None)
}

/// The evidence of the folders under the department's folder and of the
/// file name: `relative` is the path below the department's folder
/// ("2025/ds_quy4_2025.xlsx"). Nearest the file first.
///
/// A date is not a period: "gui ngay 12-01-2026", "bc_31.12.2025",
/// "2026-01-12" name no year here. Tokens read: a year "_2025", a quarter
/// ("quy4_2025", "Q4-2025", "2025-Q4", "quy_IV_2025"), a half ("H1_2025",
/// "2025-H2", "6thang_dau_2025", "6_thang_cuoi_nam_2025"); a month
/// ("thang12_2025", "T12_2025") is evidence that names no period.
pub fn path_evidence(relative: &Path) -> Vec<Evidence> {
    let mut evidence = Vec::new();
    let Some(file_name) = relative.file_name().and_then(|n| n.to_str()) else {
        return evidence;
    };
    let stem = relative
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(file_name);
    for period in name_periods(stem) {
        evidence.push(Evidence {
            source: EvidenceSource::FileName,
            text: file_name.to_string(),
            period,
        });
    }
    let folders = relative
        .parent()
        .into_iter()
        .flat_map(|p| p.components().rev())
        .filter_map(|c| c.as_os_str().to_str());
    for folder in folders {
        for period in name_periods(folder) {
            evidence.push(Evidence {
                source: EvidenceSource::Folder,
                text: folder.to_string(),
                period,
            });
        }
    }
    evidence
}

/// The periods named by a file or folder name, one per mention.
fn name_periods(name: &str) -> Vec<Option<Period>> {
    static SPLIT: LazyLock<Regex> = LazyLock::new(|| re(r"([a-z])([0-9])|([0-9])([a-z])"));
    // Separate letters from digits so "quy4", "2025Q4", "6thang" are words.
    let folded = fold(&dashes_between_years(name));
    let mut spaced = folded.clone();
    // Two passes: a match consumes both characters, so "q4x" needs another.
    for _ in 0..2 {
        spaced = SPLIT.replace_all(&spaced, "$1$3 $2$4").into_owned();
    }
    static PATTERNS: LazyLock<Vec<(Regex, Option<Reader>)>> = LazyLock::new(|| {
        vec![
            // Dates, day first or ISO: no period.
            (
                re(r"\bngay (?:\d{1,2} )?(?:thang )?(?:\d{1,2} )?(?:nam )?\d{4}\b"),
                None,
            ),
            (
                re(r"\b(?:0?[1-9]|[12]\d|3[01]) (?:0?[1-9]|1[0-2]) \d{4}\b"),
                None,
            ),
            (
                re(r"\b\d{4} (?:0?[1-9]|1[0-2]) (?:0?[1-9]|[12]\d|3[01])\b"),
                None,
            ),
            // A school year is no plan's range.
            (re(r"\bnam hoc \d{4} (?:den )?\d{4}\b"), None),
            // A range: "2021-2025" (a dash, see `dashes_between_years`),
            // "2021 đến 2025", or two years after "giai đoạn" / "gd" with
            // any separator ("giai_doan_2021_2025"). Two years with no dash
            // and no "giai đoạn" ("ds_2024_2025") stay two years.
            (
                re(
                    r"\b(?:(?:giai doan|gd|thoi ky) )?(?:tu )?(?:nam )?(?P<y>\d{4}) den (?:nam )?(?P<e>\d{4})\b",
                ),
                Some(read_range),
            ),
            (
                re(r"\b(?:giai doan|gd|thoi ky) (?P<y>\d{4}) (?P<e>\d{4})\b"),
                Some(read_range),
            ),
            // "6T_dau_2025": six months abbreviated, as file names have it.
            (
                re(r"\b(?:6|sau) (?:thang|t) (?:(?P<h>dau|cuoi) )?(?:nam )?(?P<y>\d{4})\b"),
                Some(read_half),
            ),
            (
                re(r"\bh (?P<h>[12]) (?:nam )?(?P<y>\d{4})\b"),
                Some(read_half),
            ),
            (re(r"\b(?P<y>\d{4}) h (?P<h>[12])\b"), Some(read_half)),
            (
                re(r"\b(?:\d{1,2}|ba|chin) thang (?:dau )?(?:nam )?(?P<y>\d{4})\b"),
                Some(read_unfileable),
            ),
            (
                re(r"\b(?:thang|t) (?:0?[1-9]|1[0-2]) (?:nam )?(?P<y>\d{4})\b"),
                Some(read_unfileable),
            ),
            (
                re(r"\b(?:quy|q) (?P<q>[1-4]|iv|i{1,3}) (?:nam )?(?P<y>\d{4})\b"),
                Some(read_quarter),
            ),
            (
                re(r"\b(?P<y>\d{4}) (?:quy|q) (?P<q>[1-4]|iv|i{1,3})\b"),
                Some(read_quarter),
            ),
            (re(r"\b(?P<y>\d{4})\b"), Some(read_year)),
        ]
    });
    let patterns: Vec<(&Regex, Option<Reader>)> = PATTERNS.iter().map(|(r, f)| (r, *f)).collect();
    mentions(&spaced, &patterns)
        .into_iter()
        .map(|m| m.period)
        .collect()
}

/// The evidence in a sheet's title block (the texts above its header, one
/// per row): "NĂM 2025", "QUÝ IV NĂM 2025", "6 THÁNG ĐẦU NĂM 2025",
/// "(Số liệu tính đến 31/12/2024)" → 2024, "Năm kế hoạch: 2025".
///
/// Lines are read together, so a title split over rows ("BÁO CÁO QUÝ IV" /
/// "NĂM 2025") is one mention. Not read as a period: a document date
/// ("Điện Biên, ngày 15 tháng 01 năm 2026", "ngày … tháng … năm 2026" left
/// blank on a form) and the legal basis ("Căn cứ Luật … năm 2008"). The
/// signature block is below the table and never among these lines.
pub(crate) fn title_evidence(sheet: &str, lines: &[String]) -> Vec<Evidence> {
    // The folded lines joined by a space; `spans` maps each back to its line.
    let mut joined = String::new();
    let mut spans: Vec<(std::ops::Range<usize>, usize)> = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let folded = fold(&dashes_between_years(line));
        if folded.is_empty() || folded.starts_with("can cu ") {
            continue;
        }
        if !joined.is_empty() {
            joined.push(' ');
        }
        let start = joined.len();
        joined.push_str(&folded);
        spans.push((start..joined.len(), index));
    }
    static PATTERNS: LazyLock<Vec<(Regex, Option<Reader>)>> = LazyLock::new(|| {
        vec![
            // "tính đến ngày 31/12/2024", "đến hết ngày 31 tháng 12 năm 2024",
            // "tính đến tháng 12/2024": the year the figures are as of.
            (
                re(r"\bden (?:het )?(?:ngay )?\d{1,2} (?:thang )?\d{1,2} (?:nam )?(?P<y>\d{4})\b"),
                Some(read_year),
            ),
            (
                re(r"\bden (?:het )?thang \d{1,2} (?:nam )?(?P<y>\d{4})\b"),
                Some(read_year),
            ),
            // A document date, its day and month possibly left blank.
            (
                re(r"\bngay (?:\d{1,2} )?(?:thang )?(?:\d{1,2} )?(?:nam )?\d{4}\b"),
                None,
            ),
            // A school year ("NĂM HỌC 2024-2025") is no plan's range.
            (re(r"\b(?:nam hoc|nien khoa) \d{4} den \d{4}\b"), None),
            // "GIAI ĐOẠN 2021 - 2025", "giai đoạn 2021–2025", "từ năm 2021
            // đến năm 2025", "các năm 2021-2025": the range, never its years.
            (
                re(r"\b(?:tu )?(?:cac )?(?:nam )?(?P<y>\d{4}) den (?:nam )?(?P<e>\d{4})\b"),
                Some(read_range),
            ),
            (
                re(r"\bnam (?:ke hoach|bao cao) (?P<y>\d{4})\b"),
                Some(read_year),
            ),
            (
                re(r"\b(?:6|sau) thang (?:(?P<h>dau|cuoi) )?(?:nam )?(?P<y>\d{4})\b"),
                Some(read_half),
            ),
            (
                re(r"\b(?:\d{1,2}|ba|chin) thang (?:dau )?(?:nam )?(?P<y>\d{4})\b"),
                Some(read_unfileable),
            ),
            (
                re(r"\bthang (?:0?[1-9]|1[0-2]) (?:nam )?(?P<y>\d{4})\b"),
                Some(read_unfileable),
            ),
            (
                re(r"\bquy (?P<q>[1-4]|iv|i{1,3}) (?:nam )?(?P<y>\d{4})\b"),
                Some(read_quarter),
            ),
            (re(r"\bnam (?P<y>\d{4})\b"), Some(read_year)),
        ]
    });
    let patterns: Vec<(&Regex, Option<Reader>)> = PATTERNS.iter().map(|(r, f)| (r, *f)).collect();
    mentions(&joined, &patterns)
        .into_iter()
        .map(|m| {
            let covered: Vec<usize> = spans
                .iter()
                .filter(|(span, _)| span.start < m.range.end && m.range.start < span.end)
                .map(|(_, line)| *line)
                .collect();
            let text = covered
                .iter()
                .filter_map(|&i| lines.get(i))
                .map(|l| l.trim())
                .collect::<Vec<_>>()
                .join(" / ");
            Evidence {
                source: EvidenceSource::Title {
                    sheet: sheet.to_string(),
                    row: None,
                },
                text,
                period: m.period,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Option<Period> {
        text.parse().ok()
    }

    fn pp(text: &str) -> Period {
        text.parse().expect("a period")
    }

    /// The periods named by a path below the department's folder.
    fn named(path: &str) -> Vec<Option<Period>> {
        path_evidence(Path::new(path))
            .into_iter()
            .map(|e| e.period)
            .collect()
    }

    fn title(lines: &[&str]) -> Vec<Option<Period>> {
        let lines: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
        title_evidence("DS", &lines)
            .into_iter()
            .map(|e| e.period)
            .collect()
    }

    fn sheet(name: &str, lines: &[&str]) -> SheetTitle {
        let lines: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
        SheetTitle {
            sheet: name.to_string(),
            evidence: title_evidence(name, &lines),
        }
    }

    fn decided(path: &str, sheets: &[SheetTitle]) -> Result<PeriodDecision, PeriodRefusal> {
        decide(&path_evidence(Path::new(path)), sheets)
    }

    #[test]
    fn periods_parse_and_print() {
        assert_eq!(p("2025"), Some(Period::year(2025)));
        assert_eq!(p("2025-Q4").map(|x| x.to_string()), Some("2025-Q4".into()));
        assert_eq!(p("2025-H1").map(|x| x.to_string()), Some("2025-H1".into()));
        assert_eq!(p("2025-h2"), Period::half(2025, 2));
        assert_eq!(p("2025-Q5"), None);
        assert_eq!(p("2025-H3"), None);
        assert_eq!(p("2025-H0"), None);
        assert_eq!(p("1904"), None);
        assert_eq!(p("2021-2025"), Period::range(2021, 2025));
        assert_eq!(pp("2021-2025").to_string(), "2021-2025");
        assert_eq!(pp("2021-2025").year, 2021);
        assert_eq!(pp("2021-2025").kind, Kind::Range { end: 2025 });
        assert_eq!(p("2024-2025"), Period::range(2024, 2025), "two years");
        assert!(p("2020-2030").is_some(), "eleven years");
        assert_eq!(p("2020-2031"), None, "twelve years");
        assert_eq!(p("2025-2021"), None, "backwards");
        assert_eq!(p("2025-2025"), None, "one year is a year");
        assert_eq!(Period::range(2021, 2021), None);
        assert_eq!(Period::range(1980, 1985), None);
        assert_eq!(Period::year(2025).previous(), Period::year(2024));
        assert_eq!(p("2025-Q1").map(Period::previous), p("2024-Q4"));
        assert_eq!(p("2025-H1").map(Period::previous), p("2024-H2"));
        assert_eq!(p("2025-H2").map(Period::previous), p("2025-H1"));
        assert_eq!(p("2021-2025").map(Period::previous), p("2016-2020"));
    }

    #[test]
    fn a_range_is_labelled_and_never_the_latest() {
        assert_eq!(pp("2021-2025").label_vi(), "giai đoạn 2021–2025");
        assert_eq!(pp("2021-2025").label_en(), "2021–2025");
        assert!(pp("2021-2025").is_range());
        assert!(!pp("2025").is_range());
        assert_eq!(latest(["2021-2025", "2023"]), Some("2023"));
        assert_eq!(latest(["2023-Q1", "2021-2030"]), Some("2023-Q1"));
        assert_eq!(latest(["2021-2025"]), None);
        // A range sorts as its string, between its first year and that year's halves.
        let mut periods = ["2021-H1", "2022", "2021-2025", "2021"].map(pp);
        periods.sort();
        let strings: Vec<String> = periods.iter().map(ToString::to_string).collect();
        assert_eq!(strings, ["2021", "2021-2025", "2021-H1", "2022"]);
        // As evidence, a range and a year of it are different reports.
        assert!(!pp("2021").contains(pp("2021-2025")));
        assert!(!pp("2021-2025").contains(pp("2023")));
        assert!(pp("2021-2025").contains(pp("2021-2025")));
    }

    #[test]
    fn ranges_in_file_names() {
        let r = || p("2021-2025");
        assert_eq!(named("kehoach_2021-2025.xlsx"), [r()]);
        assert_eq!(named("KH DTBD 2021 - 2025.xlsx"), [r()]);
        assert_eq!(named("ke_hoach_2021–2025.xlsx"), [r()]);
        assert_eq!(named("ke hoach 2021—2025 (ban cuoi).xlsx"), [r()]);
        assert_eq!(named("KH_giai_doan_2021_2025.xlsx"), [r()]);
        assert_eq!(named("kh_gd2021-2025.xlsx"), [r()]);
        assert_eq!(named("Kế hoạch giai đoạn 2021-2025.xlsx"), [r()]);
        assert_eq!(named("kh_tu_2021_den_2025.xlsx"), [r()]);
        assert_eq!(named("2021-2025/ke_hoach.xlsx"), [r()]);
        // Not ranges: a date, an ISO date, two years with no dash, a school year.
        assert!(named("KH gui ngay 12-01-2026.xlsx").is_empty());
        assert!(named("kh 2026-01-12.xlsx").is_empty());
        assert_eq!(named("ds_2024_2025.xlsx"), [p("2024"), p("2025")]);
        assert!(named("ds_nam_hoc_2024-2025.xlsx").is_empty());
        // A dash range that is no plan's range names no period: refused, not a year.
        assert_eq!(named("kh_2025-2021.xlsx"), [None]);
        assert_eq!(named("kh_2000-2025.xlsx"), [None]);
        // The range beside a date still counts.
        assert_eq!(named("kh_2021-2025 gui ngay 12-01-2026.xlsx"), [r()]);
    }

    #[test]
    fn ranges_in_titles() {
        let r = || p("2021-2025");
        assert_eq!(
            title(&["KẾ HOẠCH ĐÀO TẠO, BỒI DƯỠNG", "GIAI ĐOẠN 2021 - 2025"]),
            [r()]
        );
        assert_eq!(title(&["Kế hoạch giai đoạn 2021–2025"]), [r()]);
        assert_eq!(title(&["KẾ HOẠCH GIAI ĐOẠN 2021—2025"]), [r()]);
        assert_eq!(title(&["kế hoạch giai đoạn 2021-2025"]), [r()]);
        assert_eq!(title(&["KẾ HOẠCH 2021 – 2025"]), [r()]);
        assert_eq!(title(&["Kế hoạch từ năm 2021 đến năm 2025"]), [r()]);
        assert_eq!(title(&["KẾ HOẠCH CÁC NĂM 2021-2025"]), [r()]);
        // Never its first or last year: "NĂM 2021-2025" is the range.
        assert_eq!(title(&["KẾ HOẠCH NĂM 2021-2025"]), [r()]);
        use unicode_normalization::UnicodeNormalization;
        let nfd: String = "GIAI ĐOẠN 2021 – 2025".nfd().collect();
        assert_eq!(title(&[nfd.as_str()]), [r()]);
        assert_eq!(title(&["GIAI ĐOẠN 2021\u{a0}-\u{a0}2025"]), [r()]);
        // Not ranges.
        assert!(title(&["DANH SÁCH", "NĂM HỌC 2024-2025"]).is_empty());
        assert!(title(&["Hà Nội, ngày 12-01-2026"]).is_empty());
        assert_eq!(title(&["GIAI ĐOẠN 2025 - 2021"]), [None]);
        assert_eq!(title(&["GIAI ĐOẠN 2021 - 2040"]), [None]);
        // The range with a document date on the same line.
        assert_eq!(
            title(&["GIAI ĐOẠN 2021-2025 Quảng Ninh, ngày 15 tháng 01 năm 2021"]),
            [r()]
        );
    }

    #[test]
    fn a_range_is_decided_from_name_and_title_and_refused_beside_a_year() {
        let d = decided(
            "kehoach_2021-2025.xlsx",
            &[sheet("KH", &["GIAI ĐOẠN 2021 - 2025"])],
        )
        .expect("decided");
        assert_eq!(d.period, pp("2021-2025"));
        assert_eq!(d.evidence.len(), 2);
        let d = decided("kehoach.xlsx", &[sheet("KH", &["giai đoạn 2021–2025"])]).expect("decided");
        assert_eq!(d.period, pp("2021-2025"));
        // A year in the name and a range in the title: both shown, refused.
        let r = decided(
            "kehoach_2025.xlsx",
            &[sheet("KH", &["KẾ HOẠCH GIAI ĐOẠN 2021–2025"])],
        )
        .expect_err("refused");
        assert!(r.reason_vi.contains("năm 2025"), "{}", r.reason_vi);
        assert!(
            r.reason_vi.contains("giai đoạn 2021–2025"),
            "{}",
            r.reason_vi
        );
        assert!(r.reason_en.contains("year 2025"), "{}", r.reason_en);
        assert!(r.reason_en.contains("says 2021–2025"), "{}", r.reason_en);
        // The other way round, and a range with a quarter of one of its years.
        assert!(decided("kh_2021-2025.xlsx", &[sheet("KH", &["NĂM 2023"])]).is_err());
        assert!(decided("kh_2021-2025.xlsx", &[sheet("KH", &["QUÝ I NĂM 2021"])]).is_err());
        // Two different ranges.
        assert!(
            decided(
                "kh_2021-2025.xlsx",
                &[sheet("KH", &["GIAI ĐOẠN 2026-2030"])]
            )
            .is_err()
        );
    }

    #[test]
    fn labels_name_the_kind() {
        assert_eq!(pp("2025").label_vi(), "năm 2025");
        assert_eq!(pp("2025-H1").label_vi(), "6 tháng đầu năm 2025");
        assert_eq!(pp("2025-H2").label_vi(), "6 tháng cuối năm 2025");
        assert_eq!(pp("2025-Q4").label_vi(), "quý IV năm 2025");
        assert_eq!(pp("2025").label_en(), "year 2025");
        assert_eq!(pp("2025-H1").label_en(), "H1 2025");
        assert_eq!(pp("2025-Q4").label_en(), "Q4 2025");
    }

    #[test]
    fn periods_sort_as_their_strings() {
        let mut periods = ["2026", "2025-Q1", "2025-H2", "2025", "2025-H1", "2024-Q4"].map(pp);
        periods.sort();
        let strings: Vec<String> = periods.iter().map(ToString::to_string).collect();
        let mut sorted = strings.clone();
        sorted.sort();
        assert_eq!(strings, sorted);
        assert_eq!(strings[0], "2024-Q4");
    }

    #[test]
    fn the_latest_period_ends_last_and_spans_most() {
        assert_eq!(latest(["2025-Q4", "2025", "2025-H1", "2024"]), Some("2025"));
        assert_eq!(latest(["2025-Q4", "2025-H2"]), Some("2025-H2"));
        assert_eq!(latest(["2025-Q1", "2024"]), Some("2025-Q1"));
        assert_eq!(latest(["2025-Q2", "2025-H1", "2025-Q1"]), Some("2025-H1"));
        assert_eq!(latest(["2024", "bogus"]), Some("2024"));
        assert_eq!(latest(["bogus"]), None);
    }

    #[test]
    fn periods_serialise_as_their_strings() {
        let json = serde_json::to_string(&pp("2025-H1")).expect("json");
        assert_eq!(json, "\"2025-H1\"");
        let back: Period = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, pp("2025-H1"));
        assert!(serde_json::from_str::<Period>("\"2025-H9\"").is_err());
    }

    #[test]
    fn file_name_tokens() {
        assert_eq!(named("danh-sach_2025.xlsx"), [p("2025")]);
        assert_eq!(named("bao-cao-2025-Q4.xlsx"), [p("2025-Q4")]);
        assert_eq!(named("BC_dao_tao_quy4_2025.xlsx"), [p("2025-Q4")]);
        assert_eq!(named("BC Q4-2025.xlsx"), [p("2025-Q4")]);
        assert_eq!(named("bc_2025Q3.xlsx"), [p("2025-Q3")]);
        assert_eq!(named("ds_quy_IV_2025.xlsx"), [p("2025-Q4")]);
        assert_eq!(named("Báo cáo quý I năm 2026.xlsx"), [p("2026-Q1")]);
        assert_eq!(named("ds_6thang_dau_2025.xlsx"), [p("2025-H1")]);
        assert_eq!(named("ds_6_thang_cuoi_nam_2025.xlsx"), [p("2025-H2")]);
        assert_eq!(named("ds_H1_2025.xlsx"), [p("2025-H1")]);
        assert_eq!(named("ds-2025-H2.xlsx"), [p("2025-H2")]);
        assert_eq!(named("Bao cao dao tao nam 2024.xlsx"), [p("2024")]);
        assert_eq!(named("BC_6T_dau_nam_2025.xlsx"), [p("2025-H1")]);
        assert_eq!(named("BC 6T cuoi 2025.xlsx"), [p("2025-H2")]);
        assert_eq!(named("ds_nam2025.xlsx"), [p("2025")]);
        assert_eq!(named("QUY4_2025_bo_sung_dot2.xlsx"), [p("2025-Q4")]);
        assert_eq!(named("ds 2025 (1).xlsx"), [p("2025")]);
        assert!(
            named("bc_2025_01_12.xlsx").is_empty(),
            "an ISO date with underscores"
        );
        // Two years in one name disagree: the file is refused, not guessed.
        assert_eq!(named("ds_2024_2025.xlsx"), [p("2024"), p("2025")]);
    }

    #[test]
    fn a_date_in_a_file_name_is_no_period() {
        assert!(named("DS CBCC gui ngay 12-01-2026.xlsx").is_empty());
        assert!(named("bc_31.12.2025.xlsx").is_empty());
        assert!(named("ds 2026-01-12.xlsx").is_empty());
        assert!(named("ds gửi ngày 12 tháng 1 năm 2026.xlsx").is_empty());
        // The year beside a date still counts.
        assert_eq!(named("ds_2025 gui ngay 12.01.2026.xlsx"), [p("2025")]);
    }

    #[test]
    fn numbers_that_are_no_year_are_no_evidence() {
        assert!(named("so-12345.xlsx").is_empty());
        assert!(named("danh-sach-can-bo-1904.xls").is_empty());
        assert!(named("danh-sach.xlsx").is_empty());
        assert!(named("ds_20260112.xlsx").is_empty());
    }

    #[test]
    fn a_month_in_a_file_name_names_no_period() {
        assert_eq!(named("bc_thang12_2025.xlsx"), [None]);
        assert_eq!(named("bc_T12_2025.xlsx"), [None]);
        assert_eq!(named("bc_9thang_2025.xlsx"), [None]);
    }

    #[test]
    fn folders_are_evidence_too() {
        assert_eq!(named("2024/danh-sach.xlsx"), [p("2024")]);
        assert_eq!(named("2025-Q4/ds_2025.xlsx"), [p("2025"), p("2025-Q4")]);
        let evidence = path_evidence(Path::new("2024/danh-sach.xlsx"));
        assert_eq!(evidence[0].source, EvidenceSource::Folder);
    }

    #[test]
    fn title_lines() {
        assert_eq!(title(&["DANH SÁCH", "NĂM 2025"]), [p("2025")]);
        assert_eq!(
            title(&["BÁO CÁO KẾT QUẢ ĐÀO TẠO, BỒI DƯỠNG NĂM 2025 (gộp ô)"]),
            [p("2025")]
        );
        assert_eq!(title(&["BÁO CÁO QUÝ IV NĂM 2025"]), [p("2025-Q4")]);
        assert_eq!(title(&["Báo cáo Quý 4/2025"]), [p("2025-Q4")]);
        assert_eq!(title(&["báo cáo quý I năm 2026"]), [p("2026-Q1")]);
        assert_eq!(title(&["BÁO CÁO QUÝ IV", "NĂM 2025"]), [p("2025-Q4")]);
        assert_eq!(title(&["(Số liệu tính đến 31/12/2024)"]), [p("2024")]);
        assert_eq!(title(&["(tính đến ngày 31/12/2022)"]), [p("2022")]);
        assert_eq!(
            title(&["Số liệu đến hết ngày 31 tháng 12 năm 2024"]),
            [p("2024")]
        );
        assert_eq!(title(&["Năm kế hoạch: 2025"]), [p("2025")]);
        assert_eq!(title(&["danh sách năm 2025"]), [p("2025")]);
        assert_eq!(title(&["BÁO CÁO QUÝ IV/2025"]), [p("2025-Q4")]);
        assert_eq!(title(&["Báo cáo quý III - 2025"]), [p("2025-Q3")]);
        assert_eq!(title(&["Năm báo cáo: 2025"]), [p("2025")]);
        assert!(title(&["DANH SÁCH", "NĂM HỌC 2024-2025"]).is_empty());
        assert_eq!(
            title(&["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "NĂM 2025"]),
            [p("2025")]
        );
        // Consistent mentions are all kept as evidence.
        assert_eq!(
            title(&["BÁO CÁO NĂM 2025", "(Số liệu tính đến 31/12/2025)"]),
            [p("2025"), p("2025")]
        );
    }

    #[test]
    fn half_years_in_titles_are_never_the_annual_report() {
        assert_eq!(title(&["BÁO CÁO 6 THÁNG ĐẦU NĂM 2025"]), [p("2025-H1")]);
        assert_eq!(title(&["Báo cáo 6 tháng cuối năm 2025"]), [p("2025-H2")]);
        assert_eq!(title(&["BÁO CÁO 6 THÁNG NĂM 2025"]), [p("2025-H1")]);
        assert_eq!(title(&["Báo cáo sáu tháng đầu năm 2025"]), [p("2025-H1")]);
        assert_eq!(title(&["BÁO CÁO 6 THÁNG ĐẦU", "NĂM 2025"]), [p("2025-H1")]);
    }

    #[test]
    fn nfd_text_reads_like_nfc() {
        use unicode_normalization::UnicodeNormalization;
        let nfd: String = "6 THÁNG CUỐI NĂM 2025".nfd().collect();
        assert_ne!(nfd, "6 THÁNG CUỐI NĂM 2025");
        assert_eq!(title(&[nfd.as_str()]), [p("2025-H2")]);
        let nfd: String = "QUÝ IV NĂM 2025".nfd().collect();
        assert_eq!(title(&[nfd.as_str()]), [p("2025-Q4")]);
    }

    #[test]
    fn dates_and_legal_basis_in_titles_are_no_period() {
        assert!(title(&["Điện Biên, ngày 15 tháng 01 năm 2023"]).is_empty());
        assert!(title(&["Điện Biên, ngày    tháng    năm 2026"]).is_empty());
        assert!(title(&["Kèm theo Công văn số 12/SNV ngày 10/01/2026"]).is_empty());
        assert!(title(&["Căn cứ Luật Cán bộ, công chức năm 2008"]).is_empty());
        // On one row with the period: the date goes, the period stays.
        assert_eq!(
            title(&["DANH SÁCH NĂM 2025 Điện Biên, ngày 15 tháng 01 năm 2026"]),
            [p("2025")]
        );
    }

    #[test]
    fn months_and_nine_months_name_no_period() {
        assert_eq!(title(&["BÁO CÁO THÁNG 12 NĂM 2025"]), [None]);
        assert_eq!(title(&["BÁO CÁO 9 THÁNG NĂM 2025"]), [None]);
    }

    #[test]
    fn title_evidence_quotes_the_lines() {
        let lines = vec!["BÁO CÁO QUÝ IV".to_string(), "NĂM 2025".to_string()];
        let evidence = title_evidence("Đào tạo", &lines);
        assert_eq!(evidence.len(), 1);
        assert_eq!(evidence[0].text, "BÁO CÁO QUÝ IV / NĂM 2025");
        assert_eq!(
            evidence[0].source,
            EvidenceSource::Title {
                sheet: "Đào tạo".into(),
                row: None
            }
        );
    }

    #[test]
    fn a_quarter_in_the_name_is_the_quarter_not_the_year() {
        let d = decided(
            "BC_dao_tao_quy4_2025.xlsx",
            &[sheet("DT", &["QUÝ IV NĂM 2025"])],
        )
        .expect("decided");
        assert_eq!(d.period, pp("2025-Q4"));
        assert_eq!(d.evidence.len(), 2);
        assert_eq!(d.evidence[0].source, EvidenceSource::FileName);
    }

    #[test]
    fn a_date_in_the_name_gives_way_to_the_title() {
        let d = decided(
            "DS CBCC gui ngay 12-01-2026.xlsx",
            &[sheet("DS", &["NĂM 2025"])],
        )
        .expect("decided");
        assert_eq!(d.period, pp("2025"));
        assert_eq!(d.evidence.len(), 1);
    }

    #[test]
    fn name_and_title_disagreeing_refuse_the_file_with_both_shown() {
        let r = decided("ds_2026.xlsx", &[sheet("DS", &["DANH SÁCH", "NĂM 2025"])])
            .expect_err("refused");
        assert_eq!(r.evidence.len(), 2);
        assert!(r.reason_vi.contains("ds_2026.xlsx"), "{}", r.reason_vi);
        assert!(r.reason_vi.contains("năm 2026"), "{}", r.reason_vi);
        assert!(r.reason_vi.contains("NĂM 2025"), "{}", r.reason_vi);
        assert!(r.reason_vi.contains("năm 2025"), "{}", r.reason_vi);
        assert!(r.reason_en.contains("year 2026"), "{}", r.reason_en);
        assert!(r.reason_en.contains("year 2025"), "{}", r.reason_en);
        assert!(r.reason_en.contains("\"DS\""), "{}", r.reason_en);
    }

    #[test]
    fn a_half_year_title_is_not_filed_as_the_year() {
        let d = decided("ds.xlsx", &[sheet("DS", &["6 THÁNG ĐẦU NĂM 2025"])]).expect("decided");
        assert_eq!(d.period, pp("2025-H1"));
        let d =
            decided("ds_2025.xlsx", &[sheet("DS", &["6 tháng cuối năm 2025"])]).expect("decided");
        assert_eq!(d.period, pp("2025-H2"));
    }

    /// The rule for evidence more specific but consistent: the specific
    /// period is taken (it is named), both pieces are kept as evidence.
    #[test]
    fn a_more_specific_consistent_title_refines_the_name_and_says_so() {
        let d = decided("ds_2025.xlsx", &[sheet("DS", &["QUÝ IV NĂM 2025"])]).expect("decided");
        assert_eq!(d.period, pp("2025-Q4"));
        let periods: Vec<_> = d.evidence.iter().map(|e| e.period).collect();
        assert_eq!(periods, [p("2025"), p("2025-Q4")]);
        // The other way round too: the name names the quarter.
        let d = decided("ds_quy4_2025.xlsx", &[sheet("DS", &["NĂM 2025"])]).expect("decided");
        assert_eq!(d.period, pp("2025-Q4"));
        // But not a quarter of another year, nor another kind of the same span.
        assert!(decided("ds_2025.xlsx", &[sheet("DS", &["QUÝ IV NĂM 2024"])]).is_err());
        assert!(
            decided(
                "ds_quy4_2025.xlsx",
                &[sheet("DS", &["6 THÁNG CUỐI NĂM 2025"])]
            )
            .is_err()
        );
    }

    #[test]
    fn a_sheet_titled_with_another_period_is_refused_and_the_rest_taken() {
        let sheets = [
            sheet("DS 2025", &["NĂM 2025"]),
            sheet("DS 2024", &["DANH SÁCH NĂM 2024"]),
            sheet("Không tiêu đề", &[]),
        ];
        let d = decided("ds_2025.xlsx", &sheets).expect("decided");
        assert_eq!(d.period, pp("2025"));
        assert_eq!(d.refused_sheets.len(), 1);
        let refused = &d.refused_sheets[0];
        assert_eq!(refused.sheet, "DS 2024");
        assert!(
            refused.reason_vi.contains("năm 2024"),
            "{}",
            refused.reason_vi
        );
        assert!(
            refused.reason_vi.contains("ds_2025.xlsx"),
            "{}",
            refused.reason_vi
        );
        assert!(
            refused.reason_en.contains("year 2024"),
            "{}",
            refused.reason_en
        );
        // The same verdict as the loader gets sheet by sheet.
        let path = path_evidence(Path::new("ds_2025.xlsx"));
        assert!(sheet_refusal(&path, &sheets[0]).is_none());
        assert_eq!(sheet_refusal(&path, &sheets[1]).as_ref(), Some(refused));
        assert!(sheet_refusal(&path, &sheets[2]).is_none());
    }

    #[test]
    fn without_a_name_period_sheets_that_disagree_refuse_the_file() {
        let sheets = [sheet("A", &["NĂM 2025"]), sheet("B", &["NĂM 2024"])];
        let r = decided("ds.xlsx", &sheets).expect_err("refused");
        assert_eq!(r.evidence.len(), 2);
        let path = path_evidence(Path::new("ds.xlsx"));
        assert!(sheets.iter().all(|s| sheet_refusal(&path, s).is_none()));
    }

    #[test]
    fn name_and_folder_disagreeing_refuse_the_file() {
        let r = decided("2024/ds_2025.xlsx", &[sheet("DS", &["NĂM 2025"])]).expect_err("refused");
        assert!(r.reason_vi.contains("thư mục \"2024\""), "{}", r.reason_vi);
        assert!(decided("2024_2025.xlsx", &[]).is_err());
    }

    #[test]
    fn a_month_refuses_the_file() {
        let r = decided(
            "ds_2025.xlsx",
            &[sheet("DS", &["BÁO CÁO THÁNG 12 NĂM 2025"])],
        );
        // The name names a period, so the sheet alone is refused, and with it
        // every sheet: the file.
        let r = r.expect_err("refused");
        assert!(
            r.reason_en.contains("no reporting period"),
            "{}",
            r.reason_en
        );
        assert!(decided("bc_thang12_2025.xlsx", &[sheet("DS", &["NĂM 2025"])]).is_err());
    }

    #[test]
    fn no_evidence_is_refused() {
        let r = decided("danh-sach.xlsx", &[sheet("DS", &["DANH SÁCH"])]).expect_err("refused");
        assert!(r.evidence.is_empty());
        assert!(
            r.reason_en
                .starts_with("Cannot determine the reporting period")
        );
    }

    #[test]
    fn the_signature_date_is_not_in_the_title_so_the_name_stands() {
        let d = decided("ds_2025.xlsx", &[sheet("DS", &["DANH SÁCH CÁN BỘ"])]).expect("decided");
        assert_eq!(d.period, pp("2025"));
    }

    #[test]
    fn the_decision_serialises_for_inspect() {
        let d = decided("ds_2025.xlsx", &[sheet("DS", &["QUÝ IV NĂM 2025"])]).expect("decided");
        let json = serde_json::to_value(&d).expect("json");
        assert_eq!(json["period"], "2025-Q4");
        assert_eq!(json["evidence"][0]["source"], "file_name");
        assert_eq!(json["evidence"][1]["source"], "title");
        assert_eq!(json["evidence"][1]["sheet"], "DS");
        let back: PeriodDecision = serde_json::from_value(json).expect("back");
        assert_eq!(back, d);
    }
}
