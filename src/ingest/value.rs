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
}

impl Cell {
    pub fn is_blank(&self) -> bool {
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
        }
    }

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

/// Why a cell was refused, in Vietnamese and English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub vi: String,
    pub en: String,
}

impl Problem {
    pub fn new(vi: impl Into<String>, en: impl Into<String>) -> Self {
        Problem {
            vi: vi.into(),
            en: en.into(),
        }
    }

    pub fn missing() -> Self {
        Problem::new("Thiếu giá trị bắt buộc", "Required value is missing")
    }

    pub fn error_cell(code: &str) -> Self {
        Problem::new(
            format!("Ô bị lỗi công thức ({code}): cần nhập giá trị"),
            format!("Formula error cell ({code}): a value is needed"),
        )
    }
}

pub fn as_text(cell: &Cell) -> Result<Option<String>, Problem> {
    match cell {
        Cell::Error(code) => Err(Problem::error_cell(code)),
        Cell::Date(d) => Ok(Some(d.format("%d/%m/%Y").to_string())),
        other if other.is_blank() => Ok(None),
        other => Ok(Some(other.display())),
    }
}

pub fn as_integer(cell: &Cell) -> Result<Option<i64>, Problem> {
    let not_whole = || {
        Problem::new(
            "Không phải số nguyên (ví dụ đúng: 1500000 hoặc 1.500.000)",
            "Not a whole number (e.g. 1500000 or 1.500.000)",
        )
    };
    match cell {
        Cell::Error(code) => Err(Problem::error_cell(code)),
        Cell::Number(n) => {
            if n.is_finite() && n.fract() == 0.0 && n.abs() < 9.0e15 {
                Ok(Some(*n as i64))
            } else {
                Err(not_whole())
            }
        }
        Cell::Text(text) if text.trim().is_empty() => Ok(None),
        Cell::Text(text) => parse_vietnamese_integer(text)
            .map(Some)
            .ok_or_else(not_whole),
        Cell::Empty => Ok(None),
        Cell::Bool(_) | Cell::Date(_) => Err(not_whole()),
    }
}

/// Parses "1.500.000", "1 500 000", "1,500,000", "1500000", "1.500.000 đồng".
/// "17,51" is not a whole number.
pub fn parse_vietnamese_integer(text: &str) -> Option<i64> {
    let mut t = clean(text);
    for suffix in ["đồng", "đ", "VNĐ", "VND"] {
        if let Some(stripped) = t.strip_suffix(suffix) {
            t = stripped.trim_end().to_string();
        }
    }
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, t.as_str()),
    };
    if digits.is_empty() {
        return None;
    }
    let plain: String = if digits.chars().all(|c| c.is_ascii_digit()) {
        digits.to_string()
    } else {
        // Thousands groups separated by one kind of separator.
        let separator = digits.chars().find(|c| !c.is_ascii_digit())?;
        if ![".", ",", " "].contains(&separator.to_string().as_str()) {
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
        groups.concat()
    };
    let value: i64 = plain.parse().ok()?;
    Some(if negative { -value } else { value })
}

/// Parses a Vietnamese decimal: "17,51", "1.234,5", "1500000", "17.51" where unambiguous.
pub fn parse_vietnamese_decimal(text: &str) -> Option<f64> {
    if let Some(i) = parse_vietnamese_integer(text) {
        return Some(i as f64);
    }
    let t = clean(text).replace(' ', "");
    let (int_part, frac) = match (t.rfind(','), t.rfind('.')) {
        (Some(c), Some(d)) if c > d => (t[..c].replace('.', ""), &t[c + 1..]),
        (Some(c), Some(d)) if d > c => (t[..d].replace(',', ""), &t[d + 1..]),
        (Some(c), None) => (t[..c].to_string(), &t[c + 1..]),
        (None, Some(d)) => (t[..d].to_string(), &t[d + 1..]),
        _ => return None,
    };
    let digits_only = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    let int_ok = digits_only(int_part.trim_start_matches('-'));
    if !int_ok || !digits_only(frac) {
        return None;
    }
    format!("{int_part}.{frac}").parse().ok()
}

/// The date of an Excel serial in the 1900 system (the Lotus leap-year bug included).
pub fn date_from_serial(serial: f64) -> Option<NaiveDate> {
    if !serial.is_finite() || !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let days = serial.floor() as i64;
    // Serials before 1 March 1900 count the non-existent 29 February 1900.
    let offset = if days >= 60 { days } else { days + 1 };
    NaiveDate::from_ymd_opt(1899, 12, 30)?.checked_add_days(chrono::Days::new(offset as u64))
}

pub fn as_date(cell: &Cell) -> Result<Option<NaiveDate>, Problem> {
    let invalid = |shown: &str| {
        Problem::new(
            format!("Ngày không hợp lệ \"{shown}\": cần dạng ngày/tháng/năm, ví dụ 31/12/2022"),
            format!("Not a valid date \"{shown}\": expected day/month/year, e.g. 31/12/2022"),
        )
    };
    let date = match cell {
        Cell::Error(code) => return Err(Problem::error_cell(code)),
        Cell::Empty => return Ok(None),
        Cell::Date(d) => *d,
        Cell::Number(n) => date_from_serial(*n).ok_or_else(|| invalid(&format_number(*n)))?,
        Cell::Text(text) if text.trim().is_empty() => return Ok(None),
        Cell::Text(text) => parse_date_text(text).ok_or_else(|| invalid(&clean(text)))?,
        Cell::Bool(b) => return Err(invalid(&b.to_string())),
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

/// Day-first dates as typed in Vietnam: "31/12/2022", "31-12-2022", "31.12.2022",
/// "1/2/2023"; also ISO "2022-12-31" (an ISO cell from ODS) with an optional time.
pub fn parse_date_text(text: &str) -> Option<NaiveDate> {
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

pub fn as_bool(cell: &Cell) -> Result<bool, Problem> {
    match cell {
        Cell::Error(code) => Err(Problem::error_cell(code)),
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
        assert_eq!(parse_vietnamese_decimal("17,51"), Some(17.51));
        assert_eq!(parse_vietnamese_decimal("1.234,5"), Some(1234.5));
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
}
