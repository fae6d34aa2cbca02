//! What the ledger keeps of a file: its outcome and, per sheet, what was
//! taken, rejected and skipped. Stored as JSON in the ledger, read back by
//! `status`, `inspect`, the feedback and `rebuild`.

use serde::{Deserialize, Serialize};

use super::addition::Effect;
use super::period::{Evidence, SheetRefusal};
use super::rows::{Reject, SheetWarning, SkippedRows, Skips};

/// What happened to one file.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Accepted {
        submission_id: String,
        period: String,
        /// Earlier submissions whose rows this one replaced, as "template:submission".
        superseded: Vec<String>,
        /// What it did to the rows held: first, replaced, or added to them.
        effect: Effect,
    },
    /// The same bytes were taken before: nothing to do.
    Duplicate { submission_id: String },
    Quarantined {
        reason_vi: String,
        reason_en: String,
    },
    /// Left in the inbox for the next run (still being copied).
    Waiting { reason: String },
}

/// What the ledger keeps of one sheet: its template, header, row counts
/// by outcome, the rejects and warnings, and why it was refused if it was.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SheetReport {
    pub sheet: String,
    /// The workbook hides the sheet: its rows are counted in
    /// `skips.hidden_sheet`, none is taken.
    #[serde(default)]
    pub hidden: bool,
    pub template: Option<String>,
    pub header_row: Option<u32>,
    pub data_rows: usize,
    pub loaded: usize,
    pub rejected_rows: usize,
    pub skips: Skips,
    pub unknown_columns: Vec<String>,
    /// Fields no column was found for: null in every row.
    #[serde(default)]
    pub fields_not_found: Vec<String>,
    /// The skipped rows by kind, as runs of row numbers.
    #[serde(default)]
    pub skipped_rows: Vec<SkippedRows>,
    pub rejects: Vec<Reject>,
    pub warnings: Vec<SheetWarning>,
    /// Why the sheet was refused whole (its title names another period than
    /// the file's): its rows are counted in `skips.other_period`, none stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<SheetRefusal>,
}

/// What happened to one file of the inbox, and to each of its sheets.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// The path as received, relative to the inbox.
    pub source_file: String,
    pub department: Option<String>,
    #[serde(flatten)]
    pub outcome: Outcome,
    pub sheets: Vec<SheetReport>,
    /// What the period was decided from (see `decide` of the period module); empty when
    /// the file was not read that far.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub period_evidence: Vec<Evidence>,
}

impl FileReport {
    /// The rows of all sheets: (loaded, rejected, skipped).
    pub fn rows(&self) -> (usize, usize, usize) {
        self.sheets.iter().fold((0, 0, 0), |(l, r, s), sheet| {
            (
                l + sheet.loaded,
                r + sheet.rejected_rows,
                s + sheet.skips.total(),
            )
        })
    }
}

/// The format of [`LedgerReport`] this build writes and reads. Stored beside
/// the report (the ledger's `report_version` column), so a report written
/// by a later build is refused by name instead of being misread; reports
/// written before the column existed are version 1.
pub const LEDGER_REPORT_VERSION: u32 = 1;

/// What the ledger keeps of a file's sheets, as stored: a JSON array of
/// [`SheetReport`], and the version of that format.
#[derive(Debug, Clone, Default)]
pub struct LedgerReport {
    /// One per sheet of the workbook, in workbook order.
    pub sheets: Vec<SheetReport>,
}

/// Why a stored ledger report cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum LedgerReportError {
    /// Written by a later build, in a format this one does not know.
    #[error(
        "the report is in format {found}, this build reads format {LEDGER_REPORT_VERSION}: it was written by a newer nhanluc"
    )]
    Newer {
        /// The version stored with the report.
        found: u32,
    },
    /// Not the JSON of a report (cut short, or written by hand).
    #[error("the report is not valid JSON of a report")]
    Json(#[source] serde_json::Error),
}

impl LedgerReport {
    /// The report as stored: its JSON and its format version.
    pub fn to_stored(&self) -> (String, u32) {
        // Serialising these plain structs cannot fail.
        let json = serde_json::to_string(&self.sheets).unwrap_or_default();
        (json, LEDGER_REPORT_VERSION)
    }

    /// The report stored as `json` in format `version`.
    pub fn from_stored(json: &str, version: u32) -> Result<Self, LedgerReportError> {
        if version > LEDGER_REPORT_VERSION {
            return Err(LedgerReportError::Newer { found: version });
        }
        let sheets = serde_json::from_str(json).map_err(LedgerReportError::Json)?;
        Ok(LedgerReport { sheets })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet(name: &str) -> SheetReport {
        SheetReport {
            sheet: name.into(),
            hidden: false,
            template: Some("staff".into()),
            header_row: Some(4),
            data_rows: 2,
            loaded: 2,
            rejected_rows: 0,
            skips: Skips::default(),
            unknown_columns: Vec::new(),
            fields_not_found: Vec::new(),
            skipped_rows: Vec::new(),
            rejects: Vec::new(),
            warnings: Vec::new(),
            refused: None,
        }
    }

    #[test]
    fn a_report_reads_back_as_stored_and_a_newer_one_is_refused() {
        let report = LedgerReport {
            sheets: vec![sheet("Biểu 1"), sheet("Biểu 2")],
        };
        let (json, version) = report.to_stored();
        assert_eq!(version, LEDGER_REPORT_VERSION);
        // Format 1 is the bare array of sheets, as reports were stored before
        // the version column: those read back unchanged.
        assert!(json.starts_with('['), "{json}");
        let back = LedgerReport::from_stored(&json, 1).expect("format 1");
        let names: Vec<&str> = back.sheets.iter().map(|s| s.sheet.as_str()).collect();
        assert_eq!(names, ["Biểu 1", "Biểu 2"]);
        let newer = LedgerReport::from_stored(&json, LEDGER_REPORT_VERSION + 1);
        assert!(
            matches!(newer, Err(LedgerReportError::Newer { found }) if found == LEDGER_REPORT_VERSION + 1)
        );
        assert!(matches!(
            LedgerReport::from_stored("[{\"sheet\"", 1),
            Err(LedgerReportError::Json(_))
        ));
    }
}
