//! Reading back what `nhanluc ingest` recorded: the submission ledger
//! (`data/state.sqlite3`) and the table the command prints.
#![allow(dead_code)]

use std::path::Path;

use nhanluc::model::report::SheetReport;

/// One sheet's row accounting, as the ledger's `report` JSON holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetAccount {
    pub sheet: String,
    pub template: Option<String>,
    pub header_row: Option<u64>,
    pub data_rows: u64,
    pub loaded: u64,
    pub rejected_rows: u64,
    pub column_numbers: u64,
    pub sections: u64,
    pub totals: u64,
    pub signature: u64,
    pub unmatched: u64,
}

impl SheetAccount {
    pub fn skipped(&self) -> u64 {
        self.column_numbers + self.sections + self.totals + self.signature + self.unmatched
    }

    /// Every non-blank row under the header is a warehouse row, a reject or a counted skip.
    pub fn is_balanced(&self) -> bool {
        self.data_rows == self.loaded + self.rejected_rows + self.skipped()
    }
}

/// One row of the `submissions` table.
#[derive(Debug, Clone)]
pub struct Submission {
    pub source_file: String,
    pub sha256: String,
    /// accepted, superseded or quarantined.
    pub status: String,
    pub period: Option<String>,
    /// Relative to the archive folder (accepted) or the quarantine folder.
    pub stored_as: Option<String>,
    pub reason: Option<String>,
    /// (loaded, rejected, skipped)
    pub rows: (u64, u64, u64),
    pub sheets: Vec<SheetAccount>,
    /// The report's warnings (such as a totals row that disagrees), in sheet order.
    pub warnings: Vec<Warning>,
}

/// A warning of the report: the row is taken, the department is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub sheet: String,
    pub cell: String,
    pub message_en: String,
}

impl Submission {
    /// The sum of the sheets' figures, which must equal `rows`.
    pub fn sheet_sums(&self) -> (u64, u64, u64) {
        self.sheets.iter().fold((0, 0, 0), |(l, r, s), sheet| {
            (
                l + sheet.loaded,
                r + sheet.rejected_rows,
                s + sheet.skipped(),
            )
        })
    }
}

/// Every submission in the ledger, oldest first.
pub fn submissions(state: &Path) -> Vec<Submission> {
    let db =
        rusqlite::Connection::open_with_flags(state, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap_or_else(|e| panic!("open the ledger {}: {e}", state.display()));
    let mut query = db
        .prepare(
            "SELECT source_file, sha256, status, period, stored_as, reason,
                    rows_loaded, rows_rejected, rows_skipped, report
             FROM submissions ORDER BY id",
        )
        .expect("prepare");
    let rows = query
        .query_map([], |row| {
            let count = |i: usize| row.get::<_, i64>(i).map(|n| n as u64);
            Ok((
                Submission {
                    source_file: row.get(0)?,
                    sha256: row.get(1)?,
                    status: row.get(2)?,
                    period: row.get(3)?,
                    stored_as: row.get(4)?,
                    reason: row.get(5)?,
                    rows: (count(6)?, count(7)?, count(8)?),
                    sheets: Vec::new(),
                    warnings: Vec::new(),
                },
                row.get::<_, Option<String>>(9)?,
            ))
        })
        .expect("query")
        .collect::<Result<Vec<_>, _>>()
        .expect("ledger rows");
    rows.into_iter()
        .map(|(mut submission, report)| {
            if let Some(report) = report.filter(|r| !r.is_empty()) {
                let sheets = sheet_reports(&report);
                submission.sheets = sheets.iter().map(SheetAccount::from).collect();
                submission.warnings = warnings(&sheets);
            }
            submission
        })
        .collect()
}

/// The ledger's `report` JSON, decoded by the library's own type (as the
/// feedback and `status` read it), not by a copy of its field names.
fn sheet_reports(report: &str) -> Vec<SheetReport> {
    serde_json::from_str(report).unwrap_or_else(|e| panic!("report JSON {e}: {report}"))
}

impl From<&SheetReport> for SheetAccount {
    fn from(s: &SheetReport) -> SheetAccount {
        SheetAccount {
            sheet: s.sheet.clone(),
            template: s.template.clone(),
            header_row: s.header_row.map(u64::from),
            data_rows: s.data_rows as u64,
            loaded: s.loaded as u64,
            rejected_rows: s.rejected_rows as u64,
            column_numbers: s.skips.column_numbers as u64,
            sections: s.skips.sections as u64,
            totals: s.skips.totals as u64,
            signature: s.skips.signature as u64,
            unmatched: s.skips.unmatched as u64,
        }
    }
}

fn warnings(sheets: &[SheetReport]) -> Vec<Warning> {
    sheets
        .iter()
        .flat_map(|sheet| {
            sheet.warnings.iter().map(|warning| Warning {
                sheet: sheet.sheet.clone(),
                cell: warning.cell.clone(),
                message_en: warning.message_en.clone(),
            })
        })
        .collect()
}

/// One file's line of the table `nhanluc ingest` prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintedFile {
    pub source_file: String,
    pub department: String,
    /// accepted, duplicate, quarantined or waiting.
    pub outcome: String,
    /// (loaded, rejected, skipped)
    pub rows: (u64, u64, u64),
    pub note: String,
}

/// The file lines of `nhanluc ingest`'s table (file names without spaces).
pub fn printed_files(stdout: &str) -> Vec<PrintedFile> {
    const OUTCOMES: &[&str] = &["accepted", "duplicate", "quarantined", "waiting"];
    stdout
        .lines()
        .filter(|line| !line.starts_with(' '))
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 6 || !OUTCOMES.contains(&fields[2]) {
                return None;
            }
            let count = |i: usize| fields[i].parse::<u64>().ok();
            let rows = (count(3)?, count(4)?, count(5)?);
            // The note starts after the skipped count.
            let mut rest = line;
            for field in &fields[..6] {
                let at = rest.find(field).expect("field in its line") + field.len();
                rest = &rest[at..];
            }
            Some(PrintedFile {
                source_file: fields[0].to_string(),
                department: fields[1].to_string(),
                outcome: fields[2].to_string(),
                rows,
                note: rest.trim().to_string(),
            })
        })
        .collect()
}
