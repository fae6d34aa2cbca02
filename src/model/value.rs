//! Cells as read from a workbook, and their conversion to typed values.

use chrono::{Datelike, NaiveDate};

use super::text::{clean, fold};

/// A cell of a sheet, independent of the file format it came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
    /// A cell whose number format says date (serial already resolved, 1900 or 1904 system).
    Date(NaiveDate),
    /// A formula error such as `#REF!`.
    Error(String),
    /// A formula saved without its computed value (files written by scripts,
    /// e.g. openpyxl, that never ran the calculation). The formula text, as
    /// stored, without the leading "=". Not blank: the department sees a
    /// number in Excel, so the cell is rejected, never taken as empty.
    Uncomputed {
        formula: String,
    },
    /// A text longer than Excel's limit for a cell ([`MAX_TEXT_CHARS`]): no
    /// office program wrote it, so it is rejected, never taken. Only its
    /// start is kept (memory and reports stay small); `chars` is its length.
    TooLong {
        start: String,
        chars: usize,
    },
}

/// Excel's limit on the characters of one cell.
pub const MAX_TEXT_CHARS: usize = 32_767;

/// Characters of a value kept where it is copied into a report (rejects,
/// the ledger's report, feedback mail).
pub(crate) const SHOWN_CHARS: usize = 200;

/// `text` cut to [`SHOWN_CHARS`] characters, with "…" when cut: how a
/// rejected value is copied into reports, whatever its length.
pub(crate) fn clip(text: &str) -> String {
    clip_to(text, SHOWN_CHARS)
}

fn clip_to(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        None => text.to_string(),
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}

/// A text cell as read: a text over [`MAX_TEXT_CHARS`] becomes
/// [`Cell::TooLong`] without being copied whole.
pub(crate) fn text_or_too_long(text: &str) -> Option<Cell> {
    // Bytes bound characters from above: most texts need no count.
    if text.len() <= MAX_TEXT_CHARS {
        return None;
    }
    let chars = text.chars().count();
    (chars > MAX_TEXT_CHARS).then(|| Cell::TooLong {
        start: clip_to(text, SHOWN_CHARS).trim_end_matches('…').to_string(),
        chars,
    })
}

impl Cell {
    /// An empty cell, or one holding only white space.
    pub(crate) fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(text) => text.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as a department would read it, for messages and the rejects table.
    pub fn display(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(text) => clean(text),
            Cell::Number(n) => format_number(*n),
            Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
            Cell::Date(d) => d.format("%d/%m/%Y").to_string(),
            Cell::Error(e) => e.clone(),
            Cell::Uncomputed { formula } => format!("={formula}"),
            Cell::TooLong { start, .. } => format!("{}…", clean(start)),
        }
    }

    /// The cell's text, when it holds one.
    pub fn text(&self) -> Option<&str> {
        match self {
            Cell::Text(text) => Some(text),
            _ => None,
        }
    }
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// A typed value of a warehouse row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Text(String),
    Int(i64),
    Bool(bool),
    Date(NaiveDate),
    /// A canonical enumeration value name ("female", "online").
    Enum(String),
}

/// Characters of a reason kept (see [`Problem::new`]).
const MAX_REASON_CHARS: usize = 1_000;

/// Why a cell was refused, in Vietnamese and English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub vi: String,
    pub en: String,
}

impl Problem {
    /// Reasons quote the value they refuse: each is bounded, so a hostile
    /// value is never copied whole into every report that holds the reason.
    pub fn new(vi: impl Into<String>, en: impl Into<String>) -> Self {
        let bound = |text: String| {
            if text.len() > MAX_REASON_CHARS {
                clip_to(&text, MAX_REASON_CHARS)
            } else {
                text
            }
        };
        Problem {
            vi: bound(vi.into()),
            en: bound(en.into()),
        }
    }

    /// A text longer than a cell can hold.
    pub(crate) fn too_long(chars: usize) -> Self {
        Problem::new(
            format!(
                "Ô có {chars} ký tự, vượt giới hạn {MAX_TEXT_CHARS} ký tự một ô của Excel: tệp có thể bị hỏng; sửa ô rồi gửi lại"
            ),
            format!(
                "The cell holds {chars} characters, more than Excel's {MAX_TEXT_CHARS} per cell: the file may be damaged; correct the cell and send it again"
            ),
        )
    }

    /// A required field with no value.
    pub fn missing() -> Self {
        Problem::new("Thiếu giá trị bắt buộc", "Required value is missing")
    }

    /// A cell holding a formula error (`#REF!`, `#N/A`, …).
    pub(crate) fn error_cell(code: &str) -> Self {
        Problem::new(
            format!("Ô bị lỗi công thức ({code}): cần nhập giá trị"),
            format!("Formula error cell ({code}): a value is needed"),
        )
    }

    /// A formula cell saved without its computed value.
    pub(crate) fn uncomputed(formula: &str) -> Self {
        Problem::new(
            format!(
                "Ô công thức chưa có giá trị tính sẵn (={formula}): mở tệp bằng Excel, lưu lại rồi gửi lại"
            ),
            format!(
                "Formula without a computed value (={formula}): open and save the file in Excel, then send it again"
            ),
        )
    }
}

/// Why a cell holds no value any conversion can take (a formula error, a
/// formula never computed), or `None` when it may be converted.
pub fn unreadable(cell: &Cell) -> Option<Problem> {
    match cell {
        Cell::Error(code) => Some(Problem::error_cell(code)),
        Cell::Uncomputed { formula } => Some(Problem::uncomputed(formula)),
        Cell::TooLong { chars, .. } => Some(Problem::too_long(*chars)),
        _ => None,
    }
}

/// A text field's value: the cell as a department reads it (a date as
/// dd/mm/yyyy); blank is none.
pub(crate) fn as_text(cell: &Cell) -> Result<Option<String>, Problem> {
    if let Some(problem) = unreadable(cell) {
        return Err(problem);
    }
    match cell {
        Cell::Date(d) => Ok(Some(d.format("%d/%m/%Y").to_string())),
        other if other.is_blank() => Ok(None),
        other => Ok(Some(other.display())),
    }
}

/// An integer field's value: a whole number, also one written as text
/// with thousands separators; blank is none.
pub(crate) fn as_integer(cell: &Cell) -> Result<Option<i64>, Problem> {
    let not_whole = || {
        Problem::new(
            "Không phải số nguyên (ví dụ đúng: 1500000 hoặc 1.500.000)",
            "Not a whole number (e.g. 1500000 or 1.500.000)",
        )
    };
    if let Some(problem) = unreadable(cell) {
        return Err(problem);
    }
    match cell {
        Cell::Number(n) => whole_number(*n).map(Some).ok_or_else(not_whole),
        Cell::Text(text) if text.trim().is_empty() => Ok(None),
        Cell::Text(text) => parse_vietnamese_integer(text)
            .map(Some)
            .ok_or_else(not_whole),
        Cell::Empty => Ok(None),
        _ => Err(not_whole()),
    }
}

/// The whole number a float stands for. Binary floating point leaves noise
/// in computed figures (a formula's 349999.99999999994 is Excel's 350,000):
/// a difference of a few units in the last place is noise, a genuine
/// fraction such as 17.5 is not a whole number.
pub(crate) fn whole_number(n: f64) -> Option<i64> {
    if !n.is_finite() || n.abs() >= 9.0e15 {
        return None;
    }
    let rounded = n.round();
    // 1e-12 relative is thousands of units in the last place (2.2e-16), far
    // below any fraction a person types.
    let noise = 1e-12 * rounded.abs().max(1.0);
    ((n - rounded).abs() <= noise).then_some(rounded as i64)
}

/// Currency words written after an amount, lower case: "1.500.000 đồng",
/// "1.500.000đ", "1,500,000 VNĐ", "1500000 vnd".
const CURRENCY_SUFFIXES: &[&str] = &["vnđ", "vnd", "đồng", "dong", "đ"];

/// Parses "1.500.000", "1 500 000" (spaces or non-breaking spaces),
/// "1,500,000", "1500000", "1.500.000 đồng", "1.500.000đ", "350.000 VNĐ",
/// and a decimal whose fraction is zero ("1.500.000,00", "1,500,000.00").
/// "17,51" is not a whole number.
pub(crate) fn parse_vietnamese_integer(text: &str) -> Option<i64> {
    // `clean` makes every whitespace character (NBSP, narrow and thin
    // spaces included) one plain space.
    let mut t = clean(text).to_lowercase();
    for suffix in CURRENCY_SUFFIXES {
        if let Some(stripped) = t.strip_suffix(suffix) {
            t = stripped.trim_end().to_string();
            break;
        }
    }
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, t.as_str()),
    };
    if digits.is_empty() {
        return None;
    }
    let value = grouped_integer(digits).or_else(|| {
        // "1.500.000,00": a zero fraction after the other separator.
        let at = digits.rfind(['.', ','])?;
        let (whole, fraction) = (&digits[..at], &digits[at + 1..]);
        let zero_fraction = !fraction.is_empty() && fraction.bytes().all(|b| b == b'0');
        let other_separator = !whole.contains(&digits[at..=at]);
        (zero_fraction && other_separator && !whole.is_empty())
            .then(|| grouped_integer(whole))
            .flatten()
    })?;
    Some(if negative { -value } else { value })
}

/// "1500000", or thousands groups separated by one kind of separator
/// ("1.500.000", "1,500,000", "1 500 000").
fn grouped_integer(digits: &str) -> Option<i64> {
    if digits.is_empty() {
        return None;
    }
    if digits.chars().all(|c| c.is_ascii_digit()) {
        return digits.parse().ok();
    }
    let separator = digits.chars().find(|c| !c.is_ascii_digit())?;
    if !['.', ',', ' '].contains(&separator) {
        return None;
    }
    let groups: Vec<&str> = digits.split(separator).collect();
    let well_grouped = groups.len() >= 2
        && (1..=3).contains(&groups[0].len())
        && groups[1..].iter().all(|g| g.len() == 3)
        && groups.iter().all(|g| g.chars().all(|c| c.is_ascii_digit()));
    if !well_grouped {
        return None;
    }
    groups.concat().parse().ok()
}

/// The date of an Excel serial in the 1900 system (the Lotus leap-year bug included).
pub(crate) fn date_from_serial(serial: f64) -> Option<NaiveDate> {
    if !serial.is_finite() || !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let days = serial.floor() as i64;
    // Serials before 1 March 1900 count the non-existent 29 February 1900.
    let offset = if days >= 60 { days } else { days + 1 };
    NaiveDate::from_ymd_opt(1899, 12, 30)?.checked_add_days(chrono::Days::new(offset as u64))
}

/// A date cell's value. Every format the reader takes (xlsx, xlsm, xlsb,
/// xls, ods) delivers a date-formatted cell as [`Cell::Date`], and a date
/// typed as text is read day first. A plain number is never a date: a
/// number in a date column is a year (1985), digits typed without
/// separators (31121985) or a serial whose cell is not formatted as a date
/// (45000); each is rejected with what to write instead.
pub(crate) fn as_date(cell: &Cell) -> Result<Option<NaiveDate>, Problem> {
    let invalid = |shown: &str| {
        Problem::new(
            format!("Ngày không hợp lệ \"{shown}\": cần dạng ngày/tháng/năm, ví dụ 31/12/2022"),
            format!("Not a valid date \"{shown}\": expected day/month/year, e.g. 31/12/2022"),
        )
    };
    if let Some(problem) = unreadable(cell) {
        return Err(problem);
    }
    let date = match cell {
        Cell::Empty => return Ok(None),
        Cell::Date(d) => *d,
        Cell::Number(n) => return Err(number_is_not_a_date(*n)),
        Cell::Text(text) if text.trim().is_empty() => return Ok(None),
        Cell::Text(text) => match parse_date_text(text) {
            Some(date) => date,
            None => {
                let t = clean(text);
                // "1985" or "31121985" typed as text: the same advice as a number.
                return Err(match t.parse::<u32>() {
                    Ok(n) if t.len() == 4 || t.len() == 8 => number_is_not_a_date(f64::from(n)),
                    _ => invalid(&t),
                });
            }
        },
        Cell::Bool(b) => return Err(invalid(&b.to_string())),
        // Refused by `unreadable` above; never a silent null.
        Cell::Error(_) | Cell::Uncomputed { .. } | Cell::TooLong { .. } => {
            return Err(invalid(&cell.display()));
        }
    };
    if !(1900..=2100).contains(&date.year()) {
        return Err(Problem::new(
            format!("Năm {} nằm ngoài khoảng hợp lý (1900–2100)", date.year()),
            format!(
                "Year {} is outside the plausible range (1900–2100)",
                date.year()
            ),
        ));
    }
    Ok(Some(date))
}

/// Why a plain number in a date column is refused, and what to write.
fn number_is_not_a_date(n: f64) -> Problem {
    let shown = format_number(n);
    let whole = whole_number(n).filter(|w| *w > 0);
    if let Some(year) = whole.filter(|w| (1900..=2100).contains(w)) {
        return Problem::new(
            format!(
                "{year} là năm, không phải ngày: ghi ngày dạng dd/mm/yyyy (ví dụ 15/03/{year})"
            ),
            format!(
                "{year} is a year, not a date: write the date as dd/mm/yyyy (e.g. 15/03/{year})"
            ),
        );
    }
    // Eight digits typed without separators: 31121985 (day first) or 19851231.
    let typed = whole
        .filter(|w| (1_000_000..=99_999_999).contains(w))
        .and_then(|w| {
            let (a, b, c) = (
                (w / 1_000_000) as u32,
                (w / 10_000 % 100) as u32,
                (w % 10_000) as i32,
            );
            NaiveDate::from_ymd_opt(c, b, a).or_else(|| {
                let (y, m, d) = (
                    (w / 10_000) as i32,
                    (w / 100 % 100) as u32,
                    (w % 100) as u32,
                );
                NaiveDate::from_ymd_opt(y, m, d)
            })
        })
        .filter(|d| (1900..=2100).contains(&d.year()));
    if let Some(date) = typed {
        let written = date.format("%d/%m/%Y");
        return Problem::new(
            format!(
                "{shown} là một số, không phải ngày: ghi ngày có dấu phân cách, dạng dd/mm/yyyy (có phải {written}?)"
            ),
            format!(
                "{shown} is a number, not a date: write the date with separators as dd/mm/yyyy ({written}?)"
            ),
        );
    }
    match date_from_serial(n).filter(|d| (1900..=2100).contains(&d.year())) {
        Some(date) => {
            let written = date.format("%d/%m/%Y");
            Problem::new(
                format!(
                    "{shown} là một số, không phải ngày (ô không định dạng kiểu Ngày): nếu là ngày {written}, ghi {written} hoặc định dạng ô kiểu Ngày"
                ),
                format!(
                    "{shown} is a number, not a date (the cell is not formatted as a date): if it is {written}, write {written} or format the cell as a date"
                ),
            )
        }
        None => Problem::new(
            format!("{shown} là một số, không phải ngày: ghi ngày dạng dd/mm/yyyy"),
            format!("{shown} is a number, not a date: write the date as dd/mm/yyyy"),
        ),
    }
}

/// One end of a field's plausible dates: a fixed date, or a number of years
/// from the day the file is read (negative: before).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateBound {
    On(NaiveDate),
    YearsFromToday(i32),
}

impl DateBound {
    /// "2000-01-01", "today", "today+2y", "today-100y".
    pub fn parse(text: &str) -> Option<DateBound> {
        let t = text.trim();
        if let Some(rest) = t.strip_prefix("today") {
            if rest.is_empty() {
                return Some(DateBound::YearsFromToday(0));
            }
            let years = rest.strip_suffix('y')?;
            let (sign, digits) = match years.as_bytes().first()? {
                b'+' => (1, &years[1..]),
                b'-' => (-1, &years[1..]),
                _ => return None,
            };
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let n: i32 = digits.parse().ok().filter(|n| *n <= 1000)?;
            return Some(DateBound::YearsFromToday(sign * n));
        }
        NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .ok()
            .map(DateBound::On)
    }

    /// The bound as a date, relative bounds counted back from `today`.
    pub(crate) fn resolve(self, today: NaiveDate) -> NaiveDate {
        match self {
            DateBound::On(date) => date,
            DateBound::YearsFromToday(years) => add_years(today, years),
        }
    }
}

/// `date` moved by whole years; 29 February becomes 28 February in a common year.
fn add_years(date: NaiveDate, years: i32) -> NaiveDate {
    let year = date.year().saturating_add(years);
    NaiveDate::from_ymd_opt(year, date.month(), date.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, date.month(), 28))
        .unwrap_or(date)
}

/// The dates a field may plausibly hold, from its template: a birth date
/// giving an age between `age.0` and `age.1` years on the day the file is
/// read, a course date between two bounds. Empty: any date of 1900–2100.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DateBounds {
    pub earliest: Option<DateBound>,
    pub latest: Option<DateBound>,
    /// (youngest, oldest) age in whole years, for a birth date.
    pub age: Option<(u32, u32)>,
}

impl DateBounds {
    /// No bound at all: any date of 1900–2100 is taken.
    pub fn is_empty(&self) -> bool {
        self.earliest.is_none() && self.latest.is_none() && self.age.is_none()
    }
}

/// Whole years from `born` to `on` (negative when `born` is later).
pub(crate) fn age_on(born: NaiveDate, on: NaiveDate) -> i64 {
    let mut years = i64::from(on.year()) - i64::from(born.year());
    if (on.month(), on.day()) < (born.month(), born.day()) {
        years -= 1;
    }
    years
}

/// Refuses a date outside a field's plausible range, with the reason.
/// `today` is the day the file is read.
pub(crate) fn check_plausible(
    date: NaiveDate,
    bounds: &DateBounds,
    today: NaiveDate,
) -> Result<(), Problem> {
    // Formatted only for a message: every date cell passes through here.
    let shown = || date.format("%d/%m/%Y").to_string();
    if let Some((youngest, oldest)) = bounds.age {
        if date > today {
            let shown = shown();
            return Err(Problem::new(
                format!("Ngày sinh {shown} ở tương lai: kiểm tra lại năm sinh"),
                format!("Birth date {shown} is in the future: check the year"),
            ));
        }
        let age = age_on(date, today);
        if age < i64::from(youngest) {
            let shown = shown();
            return Err(Problem::new(
                format!(
                    "Ngày sinh {shown}: mới {age} tuổi, dưới {youngest} tuổi: kiểm tra lại năm sinh"
                ),
                format!(
                    "Birth date {shown}: only {age} years old, under {youngest}: check the year"
                ),
            ));
        }
        if age > i64::from(oldest) {
            let shown = shown();
            return Err(Problem::new(
                format!(
                    "Ngày sinh {shown}: đã {age} tuổi, quá {oldest} tuổi: kiểm tra lại năm sinh"
                ),
                format!("Birth date {shown}: {age} years old, over {oldest}: check the year"),
            ));
        }
    }
    let earliest = bounds.earliest.map(|b| b.resolve(today));
    let latest = bounds.latest.map(|b| b.resolve(today));
    let outside = earliest.is_some_and(|e| date < e) || latest.is_some_and(|l| date > l);
    if outside {
        let range = |d: Option<NaiveDate>| d.map(|d| d.format("%d/%m/%Y").to_string());
        let (from, to) = (range(earliest), range(latest));
        let (vi, en) = match (&from, &to) {
            (Some(f), Some(t)) => (format!("từ {f} đến {t}"), format!("from {f} to {t}")),
            (Some(f), None) => (format!("từ {f} trở đi"), format!("from {f} on")),
            (None, Some(t)) => (format!("đến {t}"), format!("up to {t}")),
            (None, None) => (String::new(), String::new()),
        };
        let shown = shown();
        return Err(Problem::new(
            format!("Ngày {shown} nằm ngoài khoảng hợp lý ({vi}): kiểm tra lại năm"),
            format!("Date {shown} is outside the plausible range ({en}): check the year"),
        ));
    }
    Ok(())
}

/// [`as_date`], then [`check_plausible`] against the field's bounds.
pub(crate) fn as_plausible_date(
    cell: &Cell,
    bounds: &DateBounds,
    today: NaiveDate,
) -> Result<Option<NaiveDate>, Problem> {
    let date = as_date(cell)?;
    if let Some(date) = date {
        check_plausible(date, bounds, today)?;
    }
    Ok(date)
}

/// Day-first dates as typed in Vietnam: "31/12/2022", "31-12-2022", "31.12.2022",
/// "1/2/2023"; also ISO "2022-12-31" (an ISO cell from ODS) with an optional time.
pub(crate) fn parse_date_text(text: &str) -> Option<NaiveDate> {
    let t = clean(text);
    let t = t.split(['T', ' ']).next().unwrap_or("");
    let parts: Vec<&str> = t.split(['/', '-', '.']).collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    let numbers: Vec<u32> = parts
        .iter()
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    if parts[0].len() == 4 {
        NaiveDate::from_ymd_opt(numbers[0] as i32, numbers[1], numbers[2])
    } else if parts[2].len() == 4 {
        NaiveDate::from_ymd_opt(numbers[2] as i32, numbers[1], numbers[0])
    } else {
        None
    }
}

/// A yes/no field's value: an x-mark or a yes/no word; blank is no.
pub(crate) fn as_bool(cell: &Cell) -> Result<bool, Problem> {
    if let Some(problem) = unreadable(cell) {
        return Err(problem);
    }
    match cell {
        Cell::Bool(b) => Ok(*b),
        Cell::Number(n) if *n == 1.0 => Ok(true),
        Cell::Number(n) if *n == 0.0 => Ok(false),
        other if other.is_blank() => Ok(false),
        Cell::Text(text) => match fold(text).as_str() {
            "x" | "co" | "yes" | "true" | "v" | "da cap" | "1" => Ok(true),
            "khong" | "no" | "false" | "chua cap" | "0" => Ok(false),
            _ => Err(Problem::new(
                format!(
                    "\"{}\" không rõ có hay không: đánh dấu \"x\" hoặc \"Có\", để trống nếu không",
                    clean(text)
                ),
                format!(
                    "\"{}\" is neither yes nor no: mark \"x\" or \"Có\", leave blank for no",
                    clean(text)
                ),
            )),
        },
        other => Err(Problem::new(
            format!("\"{}\" không rõ có hay không", other.display()),
            format!("\"{}\" is neither yes nor no", other.display()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_integers() {
        assert_eq!(parse_vietnamese_integer("1.500.000"), Some(1_500_000));
        assert_eq!(parse_vietnamese_integer("1,500,000"), Some(1_500_000));
        assert_eq!(parse_vietnamese_integer("1 500 000 đồng"), Some(1_500_000));
        assert_eq!(parse_vietnamese_integer("250"), Some(250));
        assert_eq!(parse_vietnamese_integer("17,51"), None);
        assert_eq!(parse_vietnamese_integer("1.50.000"), None);
        assert_eq!(parse_vietnamese_integer("abc"), None);
    }

    #[test]
    fn dates_from_text_and_serials() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day);
        assert_eq!(parse_date_text("31/12/2022"), d(2022, 12, 31));
        assert_eq!(parse_date_text("31-12-2022"), d(2022, 12, 31));
        assert_eq!(parse_date_text("1/2/2023"), d(2023, 2, 1));
        assert_eq!(parse_date_text("2022-12-31T00:00:00"), d(2022, 12, 31));
        assert_eq!(parse_date_text("31/02/1985"), None);
        assert_eq!(date_from_serial(44926.0), d(2022, 12, 31));
        assert_eq!(date_from_serial(61.0), d(1900, 3, 1));
        assert!(as_date(&Cell::Text("31/02/1985".into())).is_err());
        assert_eq!(as_date(&Cell::Empty), Ok(None));
    }

    #[test]
    fn booleans_and_errors() {
        assert_eq!(as_bool(&Cell::Text("x".into())), Ok(true));
        assert_eq!(as_bool(&Cell::Text(" Có ".into())), Ok(true));
        assert_eq!(as_bool(&Cell::Empty), Ok(false));
        assert!(as_bool(&Cell::Text("maybe".into())).is_err());
        assert!(as_integer(&Cell::Error("#REF!".into())).is_err());
        assert_eq!(as_integer(&Cell::Number(12.0)), Ok(Some(12)));
        assert!(as_integer(&Cell::Number(12.5)).is_err());
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a date")
    }

    #[test]
    fn amounts_as_offices_write_them() {
        for (text, amount) in [
            ("1.500.000 VNĐ", 1_500_000),
            ("1.500.000 vnđ", 1_500_000),
            ("1.500.000đ", 1_500_000),
            ("1.500.000 đ", 1_500_000),
            ("350,000 VND", 350_000),
            ("350000 vnd", 350_000),
            ("2.000.000 đồng", 2_000_000),
            ("1\u{a0}500\u{a0}000", 1_500_000),
            ("1\u{202f}500\u{202f}000 đ", 1_500_000),
            ("1.500.000,00", 1_500_000),
            ("1,500,000.00", 1_500_000),
            ("1500000,0", 1_500_000),
            ("-1.000", -1_000),
        ] {
            assert_eq!(parse_vietnamese_integer(text), Some(amount), "{text:?}");
        }
        for text in [
            "17,5",
            "1.500.000,50",
            "2.000.000.00",
            "đ",
            "VNĐ",
            "1 5",
            "12 người",
        ] {
            assert_eq!(parse_vietnamese_integer(text), None, "{text:?}");
        }
    }

    #[test]
    fn float_noise_is_a_whole_number_and_a_fraction_is_not() {
        assert_eq!(
            as_integer(&Cell::Number(349_999.999_999_999_94)),
            Ok(Some(350_000))
        );
        assert_eq!(as_integer(&Cell::Number(0.1 + 0.2 - 0.3)), Ok(Some(0)));
        assert_eq!(
            as_integer(&Cell::Number(1_499_999.999_999_999_8)),
            Ok(Some(1_500_000))
        );
        assert!(as_integer(&Cell::Number(17.5)).is_err());
        assert!(as_integer(&Cell::Number(349_999.99)).is_err());
        assert!(as_integer(&Cell::Number(0.000_001)).is_err());
        assert!(as_integer(&Cell::Number(f64::NAN)).is_err());
    }

    #[test]
    fn a_number_in_a_date_column_is_not_a_date() {
        let reason = |cell: Cell| as_date(&cell).expect_err("refused");
        let year = reason(Cell::Number(1985.0));
        assert!(
            year.vi.starts_with("1985 là năm, không phải ngày"),
            "{}",
            year.vi
        );
        assert!(year.en.contains("is a year"), "{}", year.en);
        let typed = reason(Cell::Number(31_121_985.0));
        assert!(typed.vi.contains("31/12/1985"), "{}", typed.vi);
        let iso = reason(Cell::Number(19_851_231.0));
        assert!(iso.vi.contains("31/12/1985"), "{}", iso.vi);
        let serial = reason(Cell::Number(45_000.0));
        assert!(serial.vi.contains("định dạng ô kiểu Ngày"), "{}", serial.vi);
        assert!(serial.vi.contains("15/03/2023"), "{}", serial.vi);
        let text_year = reason(Cell::Text("1985".into()));
        assert!(text_year.vi.starts_with("1985 là năm"), "{}", text_year.vi);
        // A date cell (a serial in a date-formatted cell) is a date.
        assert_eq!(
            as_date(&Cell::Date(day(1985, 12, 31))),
            Ok(Some(day(1985, 12, 31)))
        );
        assert_eq!(
            as_date(&Cell::Text("31/12/1985".into())),
            Ok(Some(day(1985, 12, 31)))
        );
    }

    #[test]
    fn implausible_dates_are_refused_with_the_reason() {
        let today = day(2026, 12, 2);
        let birth = DateBounds {
            age: Some((15, 100)),
            ..DateBounds::default()
        };
        let check = |d: NaiveDate| check_plausible(d, &birth, today);
        assert_eq!(check(day(1985, 6, 7)), Ok(()));
        assert_eq!(check(day(2011, 12, 2)), Ok(()), "15 today");
        let future = check(day(2030, 3, 15)).expect_err("future");
        assert!(
            future.vi.contains("15/03/2030 ở tương lai"),
            "{}",
            future.vi
        );
        let child = check(day(2020, 1, 1)).expect_err("a child");
        assert!(child.vi.contains("mới 6 tuổi"), "{}", child.vi);
        assert!(check(day(2011, 12, 3)).is_err(), "a day short of 15");
        let old = check(day(1905, 6, 7)).expect_err("121 years");
        assert!(old.vi.contains("121 tuổi"), "{}", old.vi);
        let course = DateBounds {
            earliest: DateBound::parse("1990-01-01"),
            latest: DateBound::parse("today+2y"),
            age: None,
        };
        assert_eq!(check_plausible(day(2025, 3, 1), &course, today), Ok(()));
        assert_eq!(check_plausible(day(2028, 12, 2), &course, today), Ok(()));
        let late = check_plausible(day(2028, 12, 3), &course, today).expect_err("late");
        assert!(late.vi.contains("02/12/2028"), "{}", late.vi);
        assert!(check_plausible(day(1989, 12, 31), &course, today).is_err());
        assert_eq!(
            check_plausible(day(1900, 1, 1), &DateBounds::default(), today),
            Ok(())
        );
        // The call parse_row makes.
        assert!(as_plausible_date(&Cell::Date(day(2030, 3, 15)), &birth, today).is_err());
        assert_eq!(as_plausible_date(&Cell::Empty, &birth, today), Ok(None));
    }

    #[test]
    fn date_bounds_parse() {
        assert_eq!(
            DateBound::parse("today"),
            Some(DateBound::YearsFromToday(0))
        );
        assert_eq!(
            DateBound::parse("today-100y"),
            Some(DateBound::YearsFromToday(-100))
        );
        assert_eq!(
            DateBound::parse("today+2y"),
            Some(DateBound::YearsFromToday(2))
        );
        assert_eq!(
            DateBound::parse("2000-01-31"),
            Some(DateBound::On(day(2000, 1, 31)))
        );
        for bad in [
            "today+y",
            "today2y",
            "tomorrow",
            "31/01/2000",
            "today+5000y",
        ] {
            assert_eq!(DateBound::parse(bad), None, "{bad}");
        }
        assert_eq!(
            DateBound::YearsFromToday(-1).resolve(day(2024, 2, 29)),
            day(2023, 2, 28)
        );
        assert_eq!(age_on(day(1985, 12, 31), day(2026, 12, 30)), 40);
        assert_eq!(age_on(day(1985, 12, 31), day(2026, 12, 31)), 41);
    }

    #[test]
    fn a_formula_without_its_value_is_refused_by_every_conversion() {
        let cell = Cell::Uncomputed {
            formula: "SUM(D5:D9)".into(),
        };
        assert!(!cell.is_blank());
        assert_eq!(cell.display(), "=SUM(D5:D9)");
        let expected = Problem::uncomputed("SUM(D5:D9)");
        assert!(expected.vi.starts_with(
            "Ô công thức chưa có giá trị tính sẵn (=SUM(D5:D9)): mở tệp bằng Excel, lưu lại rồi gửi lại"
        ));
        assert!(expected.en.contains("open and save the file in Excel"));
        assert_eq!(as_text(&cell), Err(expected.clone()));
        assert_eq!(as_integer(&cell), Err(expected.clone()));
        assert_eq!(as_date(&cell), Err(expected.clone()));
        assert_eq!(as_bool(&cell), Err(expected.clone()));
        assert_eq!(unreadable(&cell), Some(expected));
        assert_eq!(unreadable(&Cell::Number(1.0)), None);
    }
}
