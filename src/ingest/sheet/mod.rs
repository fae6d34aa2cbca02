//! The sheet normaliser: a grid of cells in, typed rows, rejects and counted
//! skips out. Pure: no I/O, so it is tested and fuzzed on in-memory grids.
//!
//! A sheet arrives as a [`Grid`] (or row by row into a [`SheetNormaliser`]);
//! its header is found and matched to a template's fields (`header`); each
//! row under it is classed, a section, totals, a signature, a note, a row of
//! column numbers being skipped for what it is (`rows`); a data row is
//! converted to typed values (`convert`); and rows are checked against each
//! other, the same person twice or totals that disagree (`checks`).

use crate::model::posts::PostTable;
use crate::model::rows::{
    ColumnReading, ParsedRow, Reject, RowClass, RowSpan, SheetWarning, SkipKind, SkippedRows, Skips,
};
use crate::model::template::{BlankValue, Template};
use crate::model::text::cell_address;
use crate::model::value::Cell;

use checks::RunningTotals;
use convert::{EnumValues, parse_row};
use grid::{DataMerges, texts_of_rows};
use header::{HeaderMatch, find_header};
use rows::{
    has_required_value, is_column_number_row, is_name_under, is_other_table_header,
    is_repeated_header, is_signature_row, label_kind,
};

mod checks;
mod convert;
mod grid;
mod header;
mod rows;
#[cfg(test)]
mod tests;

pub use checks::SeenKeys;
pub use grid::{Grid, Merge, grid_from_bytes};

/// How far below the top of a sheet a header is looked for (title blocks are a few rows).
const HEADER_SEARCH_ROWS: usize = 40;

/// What the normaliser needs to know about who sent the sheet.
#[derive(Debug, Clone, Copy)]
pub struct SheetContext<'a> {
    /// The department's level, the default of a blank `level` cell.
    pub department_level: &'a str,
    /// The day the file is read: plausible dates (ages) are judged from it.
    pub today: chrono::NaiveDate,
    /// The post-name table the derived fields (leadership, post group) are read through.
    pub posts: &'a PostTable,
}

#[derive(Debug, Clone, Default)]
pub struct SheetOutcome {
    pub sheet: String,
    /// The template the header matched; `None` for a sheet that matched none.
    pub template: Option<String>,
    /// The header's last Excel row number (1-based).
    pub header_row: Option<u32>,
    /// The header's first Excel row number (1-based).
    pub header_first_row: Option<u32>,
    /// Texts above the header, where the reporting period is usually written.
    pub title_lines: Vec<String>,
    /// The converted rows, kept only by [`normalise_sheet`]; a streamed sheet
    /// hands them on as they come.
    pub rows: Vec<ParsedRow>,
    /// Data rows converted.
    pub loaded: usize,
    pub rejects: Vec<Reject>,
    pub rejected_rows: usize,
    pub skips: Skips,
    /// Non-blank rows under the header (or in the whole sheet, if unmatched).
    pub data_rows: usize,
    /// Headers that name no field of the template: ignored, and listed in the report.
    pub unknown_columns: Vec<String>,
    /// Each column of the header and what it feeds.
    pub columns: Vec<ColumnReading>,
    /// Fields of the template no column was found for: null in every row.
    pub fields_not_found: Vec<String>,
    /// Every non-blank row's class, as runs of consecutive rows.
    pub row_spans: Vec<RowSpan>,
    /// Things worth telling the department that did not reject a row, such as
    /// a totals row that does not match the sum of the rows above it.
    pub warnings: Vec<SheetWarning>,
}

impl SheetOutcome {
    /// The accounting identity every sheet must satisfy.
    pub fn is_balanced(&self) -> bool {
        self.data_rows == self.loaded + self.rejected_rows + self.skips.total()
    }

    /// The skipped runs of rows, for the department's feedback.
    pub fn skipped_rows(&self) -> Vec<SkippedRows> {
        self.row_spans
            .iter()
            .filter_map(|span| match span.class {
                RowClass::Skipped { kind } => Some(SkippedRows {
                    kind,
                    first_row: span.first_row,
                    last_row: span.last_row,
                }),
                _ => None,
            })
            .collect()
    }

    /// Turns the row just recorded as rejected into a skip of `kind`: the
    /// title of a second table, known only once its header follows.
    fn reclassify_rejected(&mut self, excel_row: u32, kind: SkipKind) {
        let Some(last) = self.row_spans.last_mut() else {
            return;
        };
        if last.class != RowClass::Rejected || last.last_row != excel_row {
            return;
        }
        if last.first_row == excel_row {
            self.row_spans.pop();
        } else {
            last.last_row -= 1;
        }
        self.rejected_rows -= 1;
        self.data_rows -= 1;
        self.rejects.retain(|r| r.source_row != excel_row);
        self.record(excel_row, RowClass::Skipped { kind });
    }

    /// Records one row's class (rows arrive in increasing order).
    fn record(&mut self, excel_row: u32, class: RowClass) {
        self.data_rows += 1;
        match class {
            RowClass::Data => self.loaded += 1,
            RowClass::Rejected => self.rejected_rows += 1,
            RowClass::Skipped { kind } => self.skips.count(kind),
        }
        if let Some(last) = self.row_spans.last_mut()
            && last.class == class
            && last.last_row < excel_row
        {
            last.last_row = excel_row;
            return;
        }
        self.row_spans.push(RowSpan {
            first_row: excel_row,
            last_row: excel_row,
            class,
        });
    }
}

/// Normalises one sheet held whole against the templates: finds the header,
/// maps the columns, converts every data row or rejects it with reasons.
/// The rows come back in the outcome.
pub fn normalise_sheet(grid: &Grid, templates: &[Template], ctx: SheetContext<'_>) -> SheetOutcome {
    let mut normaliser = SheetNormaliser::new(&grid.name, templates, ctx, grid.origin_col);
    normaliser.merges = grid
        .merges
        .iter()
        .map(|m| Merge {
            first_row: m.first_row + grid.origin_row,
            last_row: m.last_row + grid.origin_row,
            ..*m
        })
        .collect();
    let mut rows = Vec::new();
    for (r, cells) in grid.rows.iter().enumerate() {
        normaliser.push(grid.origin_row + r as u32, cells.clone(), &mut |_, row| {
            rows.push(row)
        });
    }
    let mut outcome = normaliser.finish(&mut |_, row| rows.push(row));
    outcome.rows = rows;
    outcome
}

/// Normalises a sheet read row by row, so a sheet of any length is converted
/// in the memory of a few rows. The first rows are held until the header is
/// found; after that each data row is converted and handed on as it comes,
/// except the rows of a possible signature block, held until a data row
/// shows they were not one (or the sheet ends).
///
/// Merged regions matter for finding the header and for data cells under a
/// vertical merge. Where they are known only after the rows (xlsx stores them
/// after the cells), the sheet is read without them and
/// [`SheetNormaliser::header_holds`] tells, once they are known, whether they
/// would have read it differently.
pub struct SheetNormaliser<'t> {
    name: String,
    templates: &'t [Template],
    ctx: SheetContext<'t>,
    origin_col: u32,
    /// Merged regions in sheet coordinates: 0-based sheet rows, columns
    /// relative to `origin_col`.
    pub merges: Vec<Merge>,
    /// The first rows, (0-based sheet row, cells), until the header is decided.
    head: Vec<(u32, Vec<Cell>)>,
    first_row: Option<u32>,
    decided: Option<Option<Reading<'t>>>,
    outcome: SheetOutcome,
    /// Unique values of the sheets before this one, until the header is found.
    carried: Option<SeenKeys>,
}

/// What is known once the header is found.
struct Reading<'t> {
    header: HeaderMatch<'t>,
    /// The first data row as a 0-based sheet row.
    data_from: u32,
    /// The next non-blank row may be a column-number row: right after the
    /// header, or after the header repeated on a new page.
    numbers_may_follow: Option<SkipKind>,
    /// Rows from a signature-like row on, held until the sheet ends (a
    /// signature block) or a row with a value in a required field follows
    /// (they were not one). Each with whether it belongs to a signature
    /// block: a signature line, or a name under one.
    held: Vec<(u32, Vec<Cell>, bool)>,
    /// Columns of the held signature lines: a signer's name is written under them.
    signature_cols: Vec<usize>,
    /// A second table began below the first: the rows from here on are not
    /// this template's.
    other_table_from: Option<u32>,
    /// The last row read as data that held a single text (0-based): the
    /// title of a second table when that table's header follows.
    last_single_text: Option<u32>,
    /// The last non-blank row read (0-based), to see the gap a second table
    /// leaves above it.
    last_read: Option<u32>,
    totals: RunningTotals,
    enums: EnumValues<'t>,
    merges: DataMerges,
    seen: SeenKeys,
}

impl Reading<'_> {
    /// Remembers the columns of a signature line: signers' names are written under them.
    fn note_signature_columns(&mut self, cells: &[Cell]) {
        self.signature_cols.extend(
            cells
                .iter()
                .enumerate()
                .filter(|(_, c)| !c.is_blank())
                .map(|(c, _)| c),
        );
    }
}

/// The most rows a possible signature block may hold before they are read
/// as ordinary rows: a real one is a dozen.
const SIGNATURE_HOLD_MAX: usize = 200;

/// One row of a sheet: its cells from `origin_col` on.
struct RowAt<'a> {
    sheet: &'a str,
    /// 0-based sheet row.
    row: u32,
    origin_col: u32,
    cells: &'a [Cell],
}

impl RowAt<'_> {
    fn cell(&self, c: usize) -> &Cell {
        static EMPTY: Cell = Cell::Empty;
        self.cells.get(c).unwrap_or(&EMPTY)
    }

    fn excel_row(&self) -> u32 {
        self.row + 1
    }

    fn address(&self, c: usize) -> String {
        cell_address(self.row, self.origin_col + c as u32)
    }
}

impl<'t> SheetNormaliser<'t> {
    pub fn new(
        name: &str,
        templates: &'t [Template],
        ctx: SheetContext<'t>,
        origin_col: u32,
    ) -> Self {
        SheetNormaliser {
            name: name.to_string(),
            templates,
            ctx,
            origin_col,
            merges: Vec::new(),
            head: Vec::new(),
            first_row: None,
            decided: None,
            outcome: SheetOutcome {
                sheet: name.to_string(),
                ..SheetOutcome::default()
            },
            carried: None,
        }
    }

    /// The unique values (people) of the workbook's earlier sheets: a
    /// repeat here is rejected naming the first.
    pub fn carry_keys(&mut self, keys: SeenKeys) {
        self.carried = Some(keys);
    }

    /// The template the header matched, once the header is decided.
    pub fn template(&self) -> Option<&'t Template> {
        self.decided
            .as_ref()
            .and_then(|d| d.as_ref().map(|r| r.header.template))
    }

    /// The texts above the header once the header is decided (`None`
    /// before). The period is read from them before any row is stored.
    pub fn title_lines(&self) -> Option<&[String]> {
        self.decided
            .as_ref()
            .map(|_| self.outcome.title_lines.as_slice())
    }

    /// Takes the next row (0-based sheet row, rows in increasing order);
    /// converted data rows go to `out` with their template.
    pub fn push(
        &mut self,
        row: u32,
        cells: Vec<Cell>,
        out: &mut dyn FnMut(&'t Template, ParsedRow),
    ) {
        if self.decided.is_none() {
            let first = *self.first_row.get_or_insert(row);
            if row <= first + HEADER_SEARCH_ROWS as u32 {
                if cells.iter().any(|c| !c.is_blank()) || self.head.is_empty() {
                    self.head.push((row, cells));
                }
                return;
            }
            self.decide(out);
        }
        self.take_row(row, cells, out);
    }

    /// Ends the sheet: decides the header if the sheet was short, and returns
    /// the accounting (rows loaded, rejected, skipped), rejects and warnings.
    pub fn finish(self, out: &mut dyn FnMut(&'t Template, ParsedRow)) -> SheetOutcome {
        self.finish_with_keys(out).0
    }

    /// [`SheetNormaliser::finish`], handing back the unique values seen so
    /// far for the workbook's next sheet.
    pub fn finish_with_keys(
        mut self,
        out: &mut dyn FnMut(&'t Template, ParsedRow),
    ) -> (SheetOutcome, SeenKeys) {
        if self.decided.is_none() {
            self.decide(out);
        }
        if let Some(Some(reading)) = &mut self.decided {
            // Held to the end: a signature block after the last data row;
            // what else was held among its lines is read as it is.
            for (row, cells, in_block) in std::mem::take(&mut reading.held) {
                if in_block {
                    self.outcome.record(
                        row + 1,
                        RowClass::Skipped {
                            kind: SkipKind::Signature,
                        },
                    );
                } else {
                    read_row(
                        reading,
                        &mut self.outcome,
                        &self.name,
                        self.origin_col,
                        self.ctx,
                        row,
                        &cells,
                        out,
                    );
                }
            }
            let at_end = reading.totals.at_end();
            self.outcome.warnings.extend(at_end);
        }
        let keys = match &mut self.decided {
            Some(Some(reading)) => std::mem::take(&mut reading.seen),
            _ => self.carried.take().unwrap_or_default(),
        };
        (self.outcome, keys)
    }

    /// Whether `merges` would read the sheet as this normaliser did without
    /// them: the same header, and no vertical merge over data cells.
    pub fn header_holds(&self, merges: &[Merge]) -> bool {
        let mut grid = self.head_grid();
        grid.merges = merges
            .iter()
            .filter(|m| m.first_row >= grid.origin_row)
            .map(|m| Merge {
                first_row: m.first_row - grid.origin_row,
                last_row: m.last_row - grid.origin_row,
                ..*m
            })
            .collect();
        let with_merges = find_header(&grid, self.templates);
        let found = self.decided.as_ref().and_then(Option::as_ref);
        match (with_merges, found) {
            (None, None) => true,
            (Some(a), Some(b)) => {
                a.same_as(&b.header)
                    && !merges
                        .iter()
                        .any(|m| m.last_row > m.first_row && m.first_row >= b.data_from)
            }
            _ => false,
        }
    }

    /// The rows held so far as a dense grid starting at the first row.
    fn head_grid(&self) -> Grid {
        let origin_row = self.first_row.unwrap_or(0);
        let mut rows: Vec<Vec<Cell>> = Vec::new();
        for (row, cells) in &self.head {
            let index = (row - origin_row) as usize;
            if rows.len() <= index {
                rows.resize_with(index + 1, Vec::new);
            }
            rows[index] = cells.clone();
        }
        Grid {
            name: self.name.clone(),
            origin_row,
            origin_col: self.origin_col,
            rows,
            merges: Vec::new(),
        }
    }

    fn decide(&mut self, out: &mut dyn FnMut(&'t Template, ParsedRow)) {
        let mut grid = self.head_grid();
        grid.merges = self
            .merges
            .iter()
            .filter(|m| m.first_row >= grid.origin_row)
            .map(|m| Merge {
                first_row: m.first_row - grid.origin_row,
                last_row: m.last_row - grid.origin_row,
                ..*m
            })
            .collect();
        let header = find_header(&grid, self.templates);
        let head = std::mem::take(&mut self.head);
        match header {
            None => {
                self.outcome.title_lines =
                    texts_of_rows(&grid, 0..grid.rows.len().min(HEADER_SEARCH_ROWS));
                self.decided = Some(None);
                for (row, cells) in &head {
                    self.take_row(*row, cells.clone(), out);
                }
            }
            Some(header) => {
                let header_row = grid.origin_row + header.row as u32;
                let data_from = header_row + header.height as u32;
                self.outcome.template = Some(header.template.name.clone());
                self.outcome.header_row = Some(data_from);
                self.outcome.header_first_row = Some(header_row + 1);
                self.outcome.title_lines = texts_of_rows(&grid, 0..header.row);
                self.outcome.unknown_columns = header.unknown.clone();
                self.outcome.columns = header.readings.clone();
                self.outcome.fields_not_found = header
                    .template
                    .fields
                    .iter()
                    .zip(&header.columns)
                    .filter(|(f, m)| {
                        m.is_none() && f.blank != BlankValue::DepartmentLevel && f.derived.is_none()
                    })
                    .map(|(f, _)| f.name.clone())
                    .collect();
                let totals = RunningTotals::new(header.template);
                let merges = DataMerges::new(&self.merges, data_from);
                self.decided = Some(Some(Reading {
                    header,
                    data_from,
                    numbers_may_follow: Some(SkipKind::ColumnNumbers),
                    held: Vec::new(),
                    signature_cols: Vec::new(),
                    other_table_from: None,
                    last_single_text: None,
                    last_read: None,
                    totals,
                    enums: EnumValues::default(),
                    merges,
                    seen: self.carried.take().unwrap_or_default(),
                }));
                for (row, cells) in &head {
                    if *row >= data_from {
                        self.take_row(*row, cells.clone(), out);
                    }
                }
            }
        }
        // Kept for `header_holds`: a few dozen rows at most.
        self.head = head;
    }

    fn take_row(
        &mut self,
        row: u32,
        mut cells: Vec<Cell>,
        out: &mut dyn FnMut(&'t Template, ParsedRow),
    ) {
        let Some(Some(reading)) = &mut self.decided else {
            if !cells.iter().all(Cell::is_blank) {
                self.outcome.record(
                    row + 1,
                    RowClass::Skipped {
                        kind: SkipKind::Unmatched,
                    },
                );
            }
            return;
        };
        if row < reading.data_from {
            return;
        }
        reading.merges.fill(row, &mut cells);
        if cells.iter().all(Cell::is_blank) {
            return;
        }
        if reading.other_table_from.is_some() {
            // The second table's lines, then perhaps the signature block.
            let signature =
                is_signature_row(&cells) || is_name_under(&cells, &reading.signature_cols);
            if signature {
                reading.note_signature_columns(&cells);
            }
            let kind = if signature {
                SkipKind::Signature
            } else {
                SkipKind::Unmatched
            };
            self.outcome.record(row + 1, RowClass::Skipped { kind });
            return;
        }
        let signature_line = is_signature_row(&cells);
        let holding = !reading.held.is_empty();
        if signature_line || holding {
            let in_block = signature_line || is_name_under(&cells, &reading.signature_cols);
            if in_block || (holding && !has_required_value(&cells, &reading.header)) {
                if signature_line {
                    reading.note_signature_columns(&cells);
                }
                reading.held.push((row, cells, in_block));
                if reading.held.len() > SIGNATURE_HOLD_MAX {
                    read_held(
                        reading,
                        &mut self.outcome,
                        &self.name,
                        self.origin_col,
                        self.ctx,
                        out,
                    );
                }
                return;
            }
            // Not a signature block after all: a person follows.
            read_held(
                reading,
                &mut self.outcome,
                &self.name,
                self.origin_col,
                self.ctx,
                out,
            );
        }
        read_row(
            reading,
            &mut self.outcome,
            &self.name,
            self.origin_col,
            self.ctx,
            row,
            &cells,
            out,
        );
    }
}

/// Reads the held rows as ordinary rows: they were not a signature block
/// (a person follows), or more rows than any real one.
fn read_held<'t>(
    reading: &mut Reading<'t>,
    outcome: &mut SheetOutcome,
    sheet: &str,
    origin_col: u32,
    ctx: SheetContext<'_>,
    out: &mut dyn FnMut(&'t Template, ParsedRow),
) {
    reading.signature_cols.clear();
    for (row, cells, _) in std::mem::take(&mut reading.held) {
        read_row(reading, outcome, sheet, origin_col, ctx, row, &cells, out);
    }
}

/// Reads one non-blank row under the header that is not held as a possible
/// signature: decides its class from the whole row, converts a data row.
#[allow(clippy::too_many_arguments)]
fn read_row<'t>(
    reading: &mut Reading<'t>,
    outcome: &mut SheetOutcome,
    sheet: &str,
    origin_col: u32,
    ctx: SheetContext<'_>,
    row: u32,
    cells: &[Cell],
    out: &mut dyn FnMut(&'t Template, ParsedRow),
) {
    let at = RowAt {
        sheet,
        row,
        origin_col,
        cells,
    };
    let excel_row = at.excel_row();
    let skip = |outcome: &mut SheetOutcome, kind: SkipKind| {
        outcome.record(excel_row, RowClass::Skipped { kind });
    };
    if let Some(kind) = reading.numbers_may_follow.take()
        && is_column_number_row(cells)
    {
        skip(outcome, kind);
        return;
    }
    if is_repeated_header(cells, &reading.header) {
        reading.numbers_may_follow = Some(SkipKind::RepeatedHeader);
        skip(outcome, SkipKind::RepeatedHeader);
        return;
    }
    // A second table starts after a gap: only then is a text row its header.
    // (or under its title, a row of one text).
    let after_gap = reading.last_read.is_some_and(|last| row > last + 1);
    reading.last_read = Some(row);
    if (after_gap || reading.last_single_text.is_some())
        && is_other_table_header(cells, &reading.header)
    {
        // Its title, the row just above, was read as a row without an ID.
        if let Some(title_row) = reading.last_single_text {
            outcome.reclassify_rejected(title_row + 1, SkipKind::Unmatched);
        }
        reading.other_table_from = Some(row);
        skip(outcome, SkipKind::Unmatched);
        return;
    }
    reading.last_single_text = None;
    match label_kind(cells, &reading.header) {
        Some(kind @ (SkipKind::Totals | SkipKind::Subtotals)) => {
            reading
                .totals
                .check(&at, &reading.header, &mut outcome.warnings);
            skip(outcome, kind);
            return;
        }
        Some(SkipKind::Sections) => {
            reading.totals.new_section();
            skip(outcome, SkipKind::Sections);
            return;
        }
        Some(kind) => {
            skip(outcome, kind);
            return;
        }
        None => {}
    }
    reading.totals.add(&at, &reading.header);
    let mut non_blank = cells.iter().filter(|c| !c.is_blank());
    if let (Some(Cell::Text(_)), None) = (non_blank.next(), non_blank.next()) {
        reading.last_single_text = Some(row);
    }
    let parsed = parse_row(&at, &reading.header, ctx, &mut reading.enums)
        .and_then(|values| reading.seen.check(&at, &reading.header, values));
    match parsed {
        Ok(values) => {
            outcome.record(excel_row, RowClass::Data);
            out(
                reading.header.template,
                ParsedRow {
                    source_row: excel_row,
                    values,
                },
            );
        }
        Err(rejects) => {
            outcome.record(excel_row, RowClass::Rejected);
            outcome.rejects.extend(rejects);
        }
    }
}
