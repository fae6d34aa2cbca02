//! What reading a sheet found, row by row: the rows taken, the rows rejected
//! with their reasons, the rows skipped by kind, how each column was read.
//! The ledger report, the warehouse and the feedback all speak of these.

use super::value::Value;

/// A data row converted: one typed value per template field.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedRow {
    /// The Excel row number, 1-based.
    pub source_row: u32,
    /// One value per template field, in the template's order.
    pub values: Vec<Value>,
}

/// A data row refused, with the cell that made it so and why, in
/// Vietnamese and English: what the department reads in its feedback.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Reject {
    pub sheet: String,
    pub source_row: u32,
    /// The header as written in the sheet.
    pub column: String,
    /// The cell's address as the department sees it ("C12").
    pub cell: String,
    pub value: String,
    pub reason_vi: String,
    pub reason_en: String,
}

/// Rows that are part of the form but not data: counted by kind, never
/// silently dropped. A row is one of these only when it is provably not data
/// (it holds no value in a required field but the label that gives it its kind).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Skips {
    /// The "(1) (2) (3)…" or "A B 1 2 3" row under a header.
    pub column_numbers: usize,
    /// The header repeated on each printed page, and its column-number row.
    pub repeated_header: usize,
    /// "I. Khối cơ quan Đảng", "A", "II".
    pub sections: usize,
    /// "Cộng" under a section: checked against the section's rows.
    pub subtotals: usize,
    /// "Tổng cộng": checked against all rows.
    pub totals: usize,
    /// The signature block after the last data row.
    pub signature: usize,
    /// Footnotes and remarks ("Ghi chú: …", "(*) …") with no value in any field.
    pub notes: usize,
    /// A row number (STT) and nothing else.
    pub empty_numbered: usize,
    /// Rows of a sheet that matched no template.
    pub unmatched: usize,
    /// Rows of a hidden or very-hidden sheet: not read, reported.
    pub hidden_sheet: usize,
    /// Rows of a sheet whose own title names another period than the file's.
    pub other_period: usize,
}

impl Skips {
    /// Every skipped row, of any kind.
    pub fn total(&self) -> usize {
        self.column_numbers
            + self.repeated_header
            + self.sections
            + self.subtotals
            + self.totals
            + self.signature
            + self.notes
            + self.empty_numbered
            + self.unmatched
            + self.hidden_sheet
            + self.other_period
    }
}

impl Skips {
    /// Counts one more row of `kind`.
    pub fn count(&mut self, kind: SkipKind) {
        let slot = match kind {
            SkipKind::ColumnNumbers => &mut self.column_numbers,
            SkipKind::RepeatedHeader => &mut self.repeated_header,
            SkipKind::Sections => &mut self.sections,
            SkipKind::Subtotals => &mut self.subtotals,
            SkipKind::Totals => &mut self.totals,
            SkipKind::Signature => &mut self.signature,
            SkipKind::Notes => &mut self.notes,
            SkipKind::EmptyNumbered => &mut self.empty_numbered,
            SkipKind::Unmatched => &mut self.unmatched,
            SkipKind::HiddenSheet => &mut self.hidden_sheet,
            SkipKind::OtherPeriod => &mut self.other_period,
        };
        *slot += 1;
    }
}

/// The kind of a skipped row; the names are those of [`Skips`]' counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipKind {
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

impl SkipKind {
    /// What the department reads in its feedback: "bỏ qua dòng 12–19: khối chữ ký".
    pub fn label_vi(self) -> &'static str {
        match self {
            SkipKind::ColumnNumbers => "dòng đánh số cột",
            SkipKind::RepeatedHeader => "tiêu đề bảng lặp lại (sang trang)",
            SkipKind::Sections => "dòng tiêu đề mục (I, II, A…)",
            SkipKind::Subtotals => "dòng cộng của mục",
            SkipKind::Totals => "dòng tổng cộng",
            SkipKind::Signature => "khối chữ ký",
            SkipKind::Notes => "ghi chú, chú thích",
            SkipKind::EmptyNumbered => "dòng chỉ có số thứ tự",
            SkipKind::Unmatched => "bảng không khớp biểu mẫu nào",
            SkipKind::HiddenSheet => "trang tính bị ẩn",
            SkipKind::OtherPeriod => "trang tính ghi kỳ báo cáo khác",
        }
    }

    /// The same in English.
    pub fn label_en(self) -> &'static str {
        match self {
            SkipKind::ColumnNumbers => "column-number row",
            SkipKind::RepeatedHeader => "header repeated on a new page",
            SkipKind::Sections => "section heading (I, II, A…)",
            SkipKind::Subtotals => "section subtotal",
            SkipKind::Totals => "totals row",
            SkipKind::Signature => "signature block",
            SkipKind::Notes => "notes and footnotes",
            SkipKind::EmptyNumbered => "row number only",
            SkipKind::Unmatched => "table matching no template",
            SkipKind::HiddenSheet => "hidden sheet",
            SkipKind::OtherPeriod => "sheet titled with another period",
        }
    }
}

/// How one row was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "class", rename_all = "snake_case")]
pub enum RowClass {
    /// Converted and stored.
    Data,
    /// Data, rejected with reasons (see the rejects).
    Rejected,
    /// Provably not data, counted by kind.
    Skipped { kind: SkipKind },
}

/// Consecutive rows of one class (Excel row numbers, inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RowSpan {
    pub first_row: u32,
    pub last_row: u32,
    #[serde(flatten)]
    pub class: RowClass,
}

/// Skipped rows of one kind, for the department's feedback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SkippedRows {
    pub kind: SkipKind,
    pub first_row: u32,
    pub last_row: u32,
}

/// How one column of the header was read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ColumnReading {
    /// The column's letters ("C").
    pub column: String,
    /// The header cells over it, top to bottom, joined with " › ".
    pub header: String,
    /// The field it feeds; `None` when the column is not taken.
    pub field: Option<String>,
    /// How it feeds the field.
    pub reading: ColumnUse,
}

/// How a header column feeds its field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "use", content = "value", rename_all = "snake_case")]
pub enum ColumnUse {
    /// The cell's value is the field's value.
    Value,
    /// An x-mark column: marked means this value.
    Mark(String),
    /// The field's value is written in the column of this value of another
    /// field ("Ngày sinh" over "Nam" / "Nữ").
    ValueByMark(String),
    /// Part `n` (0-based) of a value split across columns.
    Part(usize),
    /// The row number (STT).
    RowNumber,
    /// No field of the template: listed, not taken.
    Ignored,
}

/// Something worth telling the department that rejected no row (a totals
/// row that does not add up), with its row and cell.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SheetWarning {
    pub source_row: u32,
    pub cell: String,
    pub message_vi: String,
    pub message_en: String,
}
