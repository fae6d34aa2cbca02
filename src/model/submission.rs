//! One submission: a department's workbook taken into the ledger, as the
//! ledger holds it and as the warehouse's `submissions` table records it.

use super::period::Period;
use super::status::SubmissionStatus;

/// A submission of the ledger: whose file it is, for which period, where
/// its bytes are archived, where it stands and how many rows it gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// Derived from the department and the bytes ([`super::names::submission_id`]).
    pub submission_id: String,
    /// The SHA-256 of the workbook's bytes, lowercase hex.
    pub sha256: String,
    /// The sending department's code.
    pub department: String,
    /// The period its rows are filed under (`2025`, `2025-H1`, `2025-Q4`).
    pub period: Period,
    /// The path it arrived under, relative to the inbox.
    pub source_file: String,
    /// Where its bytes are kept, relative to the archive folder.
    pub stored_as: String,
    /// Where it stands in the ledger.
    pub status: SubmissionStatus,
    /// When it was received: RFC 3339, UTC.
    pub received_at: String,
    /// Rows stored in the warehouse.
    pub rows_loaded: i64,
    /// Rows rejected with reasons.
    pub rows_rejected: i64,
    /// Rows skipped as provably not data.
    pub rows_skipped: i64,
    /// The templates (forms) it filled, comma-separated.
    pub templates: String,
}
