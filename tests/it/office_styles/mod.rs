//! Office styles: workbooks laid out the way Vietnamese offices really send
//! them, each with the ground truth a careful officer reads in it.
//!
//! A style is a legitimate submission. Its truth says, per sheet, which Excel
//! rows are stored (with the value of every template field), which are
//! rejected (the cell and what the reason must name) and which are skipped
//! (and as what kind of non-data row), and the period the file is filed
//! under — or that the file is refused and what the refusal must say.
//!
//! The truth is written from the records a style renders (a person, a course
//! line, a plan line), never from what the reader does: a field whose column
//! the sheet does not have is unknown (null), a blank cell of a column that is
//! there takes the template's blank value.
#![allow(dead_code)]

pub mod book;
mod invented;
pub mod kit;
mod listed;
pub mod roster;

use std::collections::BTreeMap;

/// A value as stored in the warehouse, in the form DuckDB returns it.
#[derive(Debug, Clone, PartialEq)]
pub enum V {
    Null,
    S(String),
    I(i64),
    B(bool),
    /// A date (year, month, day).
    D(i32, u32, u32),
    /// Any of these is an honest reading (a column the reader may take with
    /// its unit, or leave untaken and listed: never a third value).
    Any(Vec<V>),
}

impl V {
    pub fn s(text: &str) -> V {
        V::S(text.to_string())
    }

    /// The value as the comparison prints it (and as DuckDB's JSON gives it).
    pub fn show(&self) -> String {
        match self {
            V::Null => "NULL".into(),
            V::S(s) => format!("{s:?}"),
            V::I(n) => n.to_string(),
            V::B(b) => b.to_string(),
            V::D(y, m, d) => format!("{y:04}-{m:02}-{d:02}"),
            V::Any(options) => options.iter().map(V::show).collect::<Vec<_>>().join(" or "),
        }
    }
}

/// What the reason of a rejected cell must name.
#[derive(Debug, Clone, PartialEq)]
pub enum Why {
    /// The column (as written, or its field) is named by the reject line.
    Column(String),
    /// The Vietnamese or English reason contains this text (case-insensitive).
    Says(String),
    /// The reason names this (earlier) Excel row, as a number of its own.
    MentionsRow(u32),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    pub row: u32,
    /// The cell's address ("C12"); None where which cell carries the reason
    /// is the reader's choice (a duplicate row).
    pub cell: Option<String>,
    pub why: Why,
}

/// The kinds of non-data row (the reader's `Skips` field names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    ColumnNumbers,
    RepeatedHeader,
    Sections,
    Subtotals,
    Totals,
    Signature,
    Notes,
    EmptyNumbered,
    Unmatched,
    HiddenSheet,
    OtherPeriod,
}

impl Kind {
    pub const ALL: [Kind; 11] = [
        Kind::ColumnNumbers,
        Kind::RepeatedHeader,
        Kind::Sections,
        Kind::Subtotals,
        Kind::Totals,
        Kind::Signature,
        Kind::Notes,
        Kind::EmptyNumbered,
        Kind::Unmatched,
        Kind::HiddenSheet,
        Kind::OtherPeriod,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Kind::ColumnNumbers => "column_numbers",
            Kind::RepeatedHeader => "repeated_header",
            Kind::Sections => "sections",
            Kind::Subtotals => "subtotals",
            Kind::Totals => "totals",
            Kind::Signature => "signature",
            Kind::Notes => "notes",
            Kind::EmptyNumbered => "empty_numbered",
            Kind::Unmatched => "unmatched",
            Kind::HiddenSheet => "hidden_sheet",
            Kind::OtherPeriod => "other_period",
        }
    }
}

/// One stored row: its Excel row number and the value of every field of its
/// table (all of them, so an invented value in any field is seen).
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub row: u32,
    pub values: BTreeMap<&'static str, V>,
}

/// The truth of one sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct SheetTruth {
    /// The sheet's name; "*" for a file whose one table has no sheet name of
    /// its own (an HTML table).
    pub sheet: String,
    /// The warehouse table its rows go to; None for a sheet that is not read.
    pub table: Option<&'static str>,
    pub stored: Vec<Stored>,
    pub rejected: Vec<Rejected>,
    /// Skipped rows, each with its kind.
    pub skipped: Vec<(Kind, u32)>,
    /// The whole sheet is skipped as this kind (hidden, unmatched, another
    /// period): nothing of it stored or rejected, the kind counted at least
    /// once. How many of its rows are counted is the reader's choice.
    pub whole: Option<Kind>,
    /// Rows that are either stored with these values or rejected at this
    /// cell: both are honest (a formula without a cached value may be
    /// evaluated where it is simple, or rejected).
    pub either: Vec<(Stored, Rejected)>,
    /// Rows that are not data and are skipped, of a kind the reader chooses
    /// (a second table below the first).
    pub skipped_any: Vec<u32>,
    /// Warnings are acceptable on this sheet (a totals formula without a
    /// cached value cannot be checked); everywhere else the figures are right
    /// and a warning is a mismatch.
    pub allow_warnings: bool,
}

impl SheetTruth {
    pub fn whole(sheet: &str, kind: Kind) -> SheetTruth {
        SheetTruth {
            sheet: sheet.to_string(),
            table: None,
            stored: Vec::new(),
            rejected: Vec::new(),
            skipped: Vec::new(),
            whole: Some(kind),
            either: Vec::new(),
            skipped_any: Vec::new(),
            allow_warnings: false,
        }
    }
}

/// What must happen to the file.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Taken, filed under this period.
    Accepted { period: String },
    /// Refused (quarantined); the Vietnamese reason contains every one of these.
    Refused { says: Vec<String> },
    /// Either read as the sheets say, filed under `period`, or refused with a
    /// reason in Vietnamese (not an English message passed through).
    ReadOrRefusedInVietnamese { period: String },
}

pub struct Style {
    pub name: &'static str,
    pub description: &'static str,
    /// Relative to the inbox: "<DEPARTMENT>/<file>".
    pub file_name: String,
    pub bytes: Vec<u8>,
    pub outcome: Outcome,
    pub sheets: Vec<SheetTruth>,
}

impl Style {
    /// The same style written otherwise (another format of the same sheets).
    pub fn with_bytes(mut self, bytes: Vec<u8>) -> Style {
        self.bytes = bytes;
        self
    }

    pub fn department(&self) -> &str {
        self.file_name.split('/').next().unwrap_or("")
    }
}

/// The level of the repository's departments (config/departments.toml).
pub fn department_level(code: &str) -> &'static str {
    match code {
        "TPDBP" | "HTG" => "district",
        "XTM" | "XNT" => "commune",
        _ => "province",
    }
}

/// The departments of the repository's registry, one file each per project.
pub const DEPARTMENTS: [&str; 8] = ["SNV", "SYT", "SGDDT", "STTTT", "TPDBP", "HTG", "XTM", "XNT"];

/// Every style: the classes of issue 13 first, then the invented ones.
pub fn all() -> Vec<Style> {
    let mut styles = listed::styles();
    styles.extend(invented::styles());
    styles
}

/// The fields of each table, in the warehouse's order.
pub fn table_fields(table: &str) -> &'static [&'static str] {
    match table {
        "staff" => &[
            "person_id",
            "full_name",
            "birth_date",
            "gender",
            "unit",
            "level",
            "position",
            "qualification",
            "political_theory",
            "state_management",
            "digital_role",
            "infosec_role",
        ],
        "training" => &[
            "person_id",
            "full_name",
            "birth_date",
            "course",
            "category",
            "mode",
            "location",
            "start_date",
            "end_date",
            "lessons",
            "result",
            "certified",
            "cost_vnd",
        ],
        "plan" => &["category", "target_participants", "budget_vnd"],
        "recruitment" => &["field", "target", "recruited", "resigned"],
        _ => &[],
    }
}

/// A field's value when its column was not found. Level is the one field
/// the data contract gives a default for ("default: the department's"), the
/// department's level from the registry; every other absent field is
/// unknown. (If the contract is read as "absent means null" for level too,
/// this is the one place to change.)
pub fn absent_value(table: &str, field: &str, department_level: &str) -> V {
    if table == "staff" && field == "level" {
        V::s(department_level)
    } else {
        V::Null
    }
}

/// A blank cell's value in a column that was found (DESIGN "Templates").
pub fn blank_value(table: &str, field: &str, department_level: &str) -> V {
    match (table, field) {
        ("staff", "level") => V::s(department_level),
        (
            "staff",
            "qualification" | "political_theory" | "state_management" | "digital_role"
            | "infosec_role",
        ) => V::s("none"),
        ("training", "location") => V::s("domestic"),
        ("training", "certified") => V::B(false),
        _ => V::Null,
    }
}
