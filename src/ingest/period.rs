//! The reporting period of a submission: a year or a quarter.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;

use super::text::fold;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    pub year: i32,
    pub quarter: Option<u8>,
}

impl Period {
    pub fn year(year: i32) -> Self {
        Period {
            year,
            quarter: None,
        }
    }

    /// The period before this one of the same kind: 2024 for 2025, 2025-Q3 for 2025-Q4.
    pub fn previous(self) -> Period {
        match self.quarter {
            None => Period::year(self.year - 1),
            Some(1) => Period {
                year: self.year - 1,
                quarter: Some(4),
            },
            Some(q) => Period {
                year: self.year,
                quarter: Some(q - 1),
            },
        }
    }

    /// "năm 2025" or "quý IV năm 2025", for subjects and headings.
    pub fn label_vi(self) -> String {
        match self.quarter {
            None => format!("năm {}", self.year),
            Some(q) => format!(
                "quý {} năm {}",
                ["I", "II", "III", "IV"][usize::from(q.clamp(1, 4)) - 1],
                self.year
            ),
        }
    }

    pub fn label_en(self) -> String {
        match self.quarter {
            None => format!("year {}", self.year),
            Some(q) => format!("Q{q} {}", self.year),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.quarter {
            None => write!(f, "{}", self.year),
            Some(q) => write!(f, "{}-Q{q}", self.year),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a period: expected YYYY or YYYY-Qn, e.g. 2025 or 2025-Q4")]
pub struct PeriodParseError(String);

impl FromStr for Period {
    type Err = PeriodParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        static EXACT: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"^(\d{4})(?:-[Qq]([1-4]))?$").expect("static regex"));
        let captures = EXACT
            .captures(text.trim())
            .ok_or_else(|| PeriodParseError(text.to_string()))?;
        let year: i32 = captures[1]
            .parse()
            .map_err(|_| PeriodParseError(text.to_string()))?;
        if !(1990..=2100).contains(&year) {
            return Err(PeriodParseError(text.to_string()));
        }
        let quarter = captures.get(2).and_then(|q| q.as_str().parse().ok());
        Ok(Period { year, quarter })
    }
}

/// The period named by a folder ("2025", "2025-Q4") or a file-name token
/// ("..._2025.xlsx", "bao-cao-2025-Q4.xlsx"), nearest the file first.
pub fn from_path(relative: &Path) -> Option<Period> {
    // Digit runs of exactly four, so "so-12345" names no year; a quarter
    // may follow ("2025-Q4", "2025Q4", "2025_q4").
    static TOKEN: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)\d+(?:[-_ ]?q([1-4])(?:\D|$))?").expect("static regex"));
    let file_stem = relative.file_stem()?.to_str()?;
    let folders = relative
        .parent()
        .into_iter()
        .flat_map(|p| p.components().rev())
        .filter_map(|c| c.as_os_str().to_str());
    for (index, part) in std::iter::once(file_stem).chain(folders).enumerate() {
        let is_file_name = index == 0;
        if !is_file_name && let Ok(period) = part.parse::<Period>() {
            return Some(period);
        }
        if is_file_name {
            let mut found: Option<Period> = None;
            for captures in TOKEN.captures_iter(part) {
                let digits = captures[0].trim_start_matches(|c: char| !c.is_ascii_digit());
                let digits: String = digits.chars().take_while(char::is_ascii_digit).collect();
                let Some(year) = digits
                    .parse::<i32>()
                    .ok()
                    .filter(|y| digits.len() == 4 && (1990..=2100).contains(y))
                else {
                    continue;
                };
                let quarter = captures.get(1).and_then(|q| q.as_str().parse().ok());
                let period = Period { year, quarter };
                // Two different periods in one name ("2024_2025") name none.
                if found.is_some_and(|f| f != period) {
                    return None;
                }
                found = Some(period);
            }
            if found.is_some() {
                return found;
            }
        }
    }
    None
}

/// The period named in a form's title block: "NĂM 2025", "QUÝ IV NĂM 2025",
/// "tính đến ngày 31/12/2022". Lines are the texts above the table's header.
pub fn from_title(lines: &[String]) -> Option<Period> {
    static QUARTER: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\bquy (i{1,3}|iv|[1-4]) (?:nam )?((?:19|20)\d{2})\b").expect("static regex")
    });
    static YEAR: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\bnam ((?:19|20)\d{2})\b").expect("static regex"));
    static AS_OF: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\b(?:tinh )?den ngay \d{1,2} \d{1,2} ((?:19|20)\d{2})\b")
            .expect("static regex")
    });
    for line in lines {
        let folded = fold(line);
        // A date line such as "Điện Biên, ngày 15 tháng 01 năm 2023" dates the
        // document, not the period it reports on.
        if folded.contains(" thang ") && folded.contains("ngay ") && !folded.contains("den ngay") {
            continue;
        }
        if let Some(c) = QUARTER.captures(&folded) {
            let quarter = match &c[1] {
                "i" | "1" => 1,
                "ii" | "2" => 2,
                "iii" | "3" => 3,
                _ => 4,
            };
            let year = c[2].parse().ok()?;
            return Some(Period {
                year,
                quarter: Some(quarter),
            });
        }
        if let Some(c) = AS_OF.captures(&folded) {
            return c[1].parse().ok().map(Period::year);
        }
        if let Some(c) = YEAR.captures(&folded) {
            return c[1].parse().ok().map(Period::year);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Option<Period> {
        text.parse().ok()
    }

    #[test]
    fn periods_parse_and_print() {
        assert_eq!(p("2025"), Some(Period::year(2025)));
        assert_eq!(p("2025-Q4").map(|x| x.to_string()), Some("2025-Q4".into()));
        assert_eq!(p("2025-Q5"), None);
        assert_eq!(Period::year(2025).previous(), Period::year(2024));
        assert_eq!(p("2025-Q1").map(Period::previous), p("2024-Q4"));
    }

    #[test]
    fn period_from_folders_and_file_names() {
        assert_eq!(from_path(Path::new("SNV/danh-sach_2025.xlsx")), p("2025"));
        assert_eq!(
            from_path(Path::new("SNV/bao-cao-2025-Q4.xlsx")),
            p("2025-Q4")
        );
        assert_eq!(from_path(Path::new("SNV/2024/danh-sach.xlsx")), p("2024"));
        assert_eq!(from_path(Path::new("SNV/danh-sach.xlsx")), None);
        assert_eq!(from_path(Path::new("SNV/so-12345.xlsx")), None);
        assert_eq!(from_path(Path::new("SNV/2024_2025.xlsx")), None);
    }

    #[test]
    fn period_from_title_block_not_signature_date() {
        let lines = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(from_title(&lines(&["DANH SÁCH", "NĂM 2025"])), p("2025"));
        assert_eq!(
            from_title(&lines(&["BÁO CÁO QUÝ IV NĂM 2025"])),
            p("2025-Q4")
        );
        assert_eq!(
            from_title(&lines(&["(tính đến ngày 31/12/2022)"])),
            p("2022")
        );
        assert_eq!(
            from_title(&lines(&["Điện Biên, ngày 15 tháng 01 năm 2023"])),
            None
        );
    }
}
