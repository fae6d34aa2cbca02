//! The sheet normaliser: a grid of cells in, typed rows, rejects and counted
//! skips out. Pure: no I/O, so it is tested and fuzzed on in-memory grids.

use std::sync::LazyLock;

use regex::Regex;
use rustc_hash::FxHashMap as HashMap;

use std::collections::BTreeMap;

use crate::model::rows::{
    ColumnReading, ColumnUse, ParsedRow, Reject, RowClass, RowSpan, SheetWarning, SkipKind,
    SkippedRows, Skips,
};
use crate::model::template::{BlankValue, Field, FieldType, Template};
use crate::model::text::{cell_address, clean, column_letters, fold};
use crate::model::value::{self, Cell, Problem, Value};

/// How far below the top of a sheet a header is looked for (title blocks are a few rows).
const HEADER_SEARCH_ROWS: usize = 40;

/// A sheet's cells. `rows[r][c]` is the cell at 0-based sheet row `origin_row + r`
/// and column `origin_col + c`, so addresses match what Excel shows.
#[derive(Debug, Clone, Default)]
pub struct Grid {
    pub name: String,
    pub origin_row: u32,
    pub origin_col: u32,
    pub rows: Vec<Vec<Cell>>,
    /// Merged regions, in grid coordinates (0-based, relative to the origin).
    pub merges: Vec<Merge>,
}

/// A merged region, inclusive bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Merge {
    pub first_row: u32,
    pub first_col: u32,
    pub last_row: u32,
    pub last_col: u32,
}

impl Merge {
    fn contains(&self, r: usize, c: usize) -> bool {
        (self.first_row as usize..=self.last_row as usize).contains(&r)
            && (self.first_col as usize..=self.last_col as usize).contains(&c)
    }
}

impl Grid {
    fn cell(&self, r: usize, c: usize) -> &Cell {
        static EMPTY: Cell = Cell::Empty;
        self.rows
            .get(r)
            .and_then(|row| row.get(c))
            .unwrap_or(&EMPTY)
    }

    /// The text a header cell shows: its own, or that of the merged region over it.
    fn header_text(&self, r: usize, c: usize) -> Option<String> {
        let own = self.cell(r, c);
        let cell = if own.is_blank() {
            let merge = self.merges.iter().find(|m| m.contains(r, c))?;
            self.cell(merge.first_row as usize, merge.first_col as usize)
        } else {
            own
        };
        cell.text().map(clean).filter(|t| !t.is_empty())
    }

    fn width(&self, r: usize) -> usize {
        let row_width = self.rows.get(r).map_or(0, Vec::len);
        let merged_width = self
            .merges
            .iter()
            .filter(|m| (m.first_row as usize..=m.last_row as usize).contains(&r))
            .map(|m| m.last_col as usize + 1)
            .max()
            .unwrap_or(0);
        row_width.max(merged_width)
    }
}

/// What the normaliser needs to know about who sent the sheet.
#[derive(Debug, Clone, Copy)]
pub struct SheetContext<'a> {
    /// The department's level, the default of a blank `level` cell.
    pub department_level: &'a str,
    /// The day the file is read: plausible dates (ages) are judged from it.
    pub today: chrono::NaiveDate,
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

/// Where a field's value is in the sheet.
#[derive(Debug, Clone, PartialEq)]
enum Mapping {
    /// One column, with its header as written.
    Column { col: usize, header: String },
    /// x-mark columns: a group header ("Giới tính") over one column per value
    /// ("Nam", "Nữ"); the marked column gives the value. `unmarked` is the
    /// value of a row with no mark, known only for a lone column of a
    /// two-valued field (a single "Nữ" column: blank means male).
    Marks {
        header: String,
        columns: Vec<(usize, String)>,
        unmarked: Option<String>,
    },
    /// The value is written in one of several columns, each standing for a
    /// value of another field ("Ngày tháng năm sinh" over "Nam" / "Nữ").
    InMarkedColumn {
        header: String,
        columns: Vec<(usize, String)>,
    },
    /// A text split across columns ("Họ và tên đệm" + "Tên"), joined with a space.
    Joined {
        header: String,
        parts: Vec<(usize, usize)>,
    },
}

impl Mapping {
    fn header(&self) -> &str {
        match self {
            Mapping::Column { header, .. }
            | Mapping::Marks { header, .. }
            | Mapping::InMarkedColumn { header, .. }
            | Mapping::Joined { header, .. } => header,
        }
    }

    fn first_col(&self) -> usize {
        self.cols().next().unwrap_or(0)
    }

    fn cols(&self) -> Box<dyn Iterator<Item = usize> + '_> {
        match self {
            Mapping::Column { col, .. } => Box::new(std::iter::once(*col)),
            Mapping::Marks { columns, .. } | Mapping::InMarkedColumn { columns, .. } => {
                Box::new(columns.iter().map(|(c, _)| *c))
            }
            Mapping::Joined { parts, .. } => Box::new(parts.iter().map(|(_, c)| *c)),
        }
    }
}

struct HeaderMatch<'t> {
    template: &'t Template,
    /// The first header row (grid index).
    row: usize,
    /// Header rows: 1 for a flat header, more for groups over sub-headers.
    height: usize,
    /// Field index → where its value is.
    columns: Vec<Option<Mapping>>,
    unknown: Vec<String>,
    /// Each column's header path and use, for `inspect`.
    readings: Vec<ColumnReading>,
    /// Column → the field it feeds, for reading every row's class quickly.
    field_by_col: Vec<Option<usize>>,
    /// The row-number (STT) columns.
    row_number_cols: Vec<usize>,
    /// Each header column's folded leaf text, to recognise the header
    /// repeated on a new printed page.
    folded_leaves: Vec<(usize, String)>,
    /// Columns mapped: the better header maps more of them.
    score: usize,
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
                    .filter(|(f, m)| m.is_none() && f.blank != BlankValue::DepartmentLevel)
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

/// A signer's name written under a signature line: text only, in the
/// columns of the lines above, a few words without digits.
fn is_name_under(cells: &[Cell], signature_cols: &[usize]) -> bool {
    let mut any = false;
    for (c, cell) in cells.iter().enumerate().filter(|(_, c)| !c.is_blank()) {
        let Some(text) = cell.text() else {
            return false;
        };
        let words = text.split_whitespace().count();
        if !signature_cols.contains(&c)
            || !(1..=6).contains(&words)
            || text.chars().any(|ch| ch.is_ascii_digit())
        {
            return false;
        }
        any = true;
    }
    any
}

/// A value (not a signature line's text) in a column of a required field.
fn has_required_value(cells: &[Cell], header: &HeaderMatch<'_>) -> bool {
    let cell = |c: usize| cells.get(c).unwrap_or(&Cell::Empty);
    header
        .template
        .fields
        .iter()
        .zip(&header.columns)
        .filter(|(f, _)| f.required)
        .filter_map(|(_, m)| m.as_ref())
        .any(|m| {
            m.cols().any(|c| {
                let cell = cell(c);
                !cell.is_blank() && !cell.text().is_some_and(is_signature_text)
            })
        })
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

fn texts_of_rows(grid: &Grid, rows: std::ops::Range<usize>) -> Vec<String> {
    rows.filter_map(|r| grid.rows.get(r))
        .map(|row| {
            row.iter()
                .filter(|c| !c.is_blank())
                .map(Cell::display)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|line| !line.is_empty())
        .collect()
}

const ROW_NUMBER_HEADERS: &[&str] = &["stt", "tt", "so thu tu", "so tt", "no"];

/// The most header rows read: a group over a group over the leaves, and one more.
const MAX_HEADER_ROWS: usize = 4;

impl HeaderMatch<'_> {
    fn same_as(&self, other: &HeaderMatch<'_>) -> bool {
        self.template.name == other.template.name
            && (self.row, self.height) == (other.row, other.height)
            && self.columns == other.columns
            && self.unknown == other.unknown
    }
}

/// Header candidates are matched against every template, one to four rows
/// high: each text is folded once per search.
#[derive(Default)]
struct FoldMemo(HashMap<String, String>);

impl FoldMemo {
    fn fold(&mut self, text: &str) -> String {
        if let Some(folded) = self.0.get(text) {
            return folded.clone();
        }
        let folded = fold(text);
        self.0.insert(text.to_string(), folded.clone());
        folded
    }
}

fn find_header<'t>(grid: &Grid, templates: &'t [Template]) -> Option<HeaderMatch<'t>> {
    let mut best: Option<HeaderMatch<'t>> = None;
    let mut folds = FoldMemo::default();
    let searched = grid.rows.len().min(HEADER_SEARCH_ROWS);
    // Each row's header texts, once: row r is the top of one candidate and
    // a sub-header of others, for every template.
    let texts: Vec<Vec<Option<String>>> = (0..grid.rows.len().min(searched + MAX_HEADER_ROWS))
        .map(|r| (0..grid.width(r)).map(|c| grid.header_text(r, c)).collect())
        .collect();
    let known: rustc_hash::FxHashSet<String> = templates
        .iter()
        .flat_map(|t| {
            t.folded_header_texts()
                .map(str::to_string)
                .chain(
                    t.fields
                        .iter()
                        .flat_map(|f| f.parts.iter().flatten().cloned()),
                )
                .chain(t.fields.iter().flat_map(Field::folded_value_texts))
        })
        .collect();
    // Header rows hold texts: a row with a number or a date (an STT, a
    // birth date) is data, never part of a header.
    let has_figures: Vec<bool> = (0..texts.len())
        .map(|r| {
            grid.rows.get(r).is_some_and(|row| {
                row.iter()
                    .any(|c| matches!(c, Cell::Number(_) | Cell::Date(_)))
            })
        })
        .collect();
    for r in 0..searched {
        if has_figures[r] {
            continue;
        }
        // A header's first row has two texts at least; a title merged
        // across the table repeats one.
        let mut distinct: Vec<&String> = texts[r].iter().flatten().collect();
        distinct.dedup();
        if distinct.len() < 2 {
            continue;
        }
        for height in 1..=MAX_HEADER_ROWS {
            if r + height > texts.len() || has_figures[r + height - 1] {
                break;
            }
            let reading = HeaderReading {
                row: r,
                origin_col: grid.origin_col,
                rows: &texts[r..r + height],
                merges: &grid.merges,
            };
            let paths = reading.paths(&mut folds);
            if !could_map_two(&paths, &known) {
                continue;
            }
            for template in templates {
                let candidate = match_header(template, &reading, &paths, false);
                let complete = template
                    .fields
                    .iter()
                    .zip(&candidate.columns)
                    .all(|(f, c)| !f.required || c.is_some());
                if !complete || candidate.score < 2 {
                    continue;
                }
                // Strictly better only: on a tie the header that ends first
                // wins, so a first data row is never taken for a sub-header;
                // then the one that starts first, so group headers over
                // vertically merged ones are read.
                let better = best.as_ref().is_none_or(|b| {
                    candidate.score > b.score
                        || (candidate.score == b.score
                            && candidate.row + candidate.height < b.row + b.height)
                });
                if better {
                    // Described (columns listed) only when it leads.
                    best = Some(match_header(template, &reading, &paths, true));
                }
            }
        }
    }
    best
}

/// One column of a candidate header: its texts top to bottom (a text
/// repeated by a vertical merge once), as written and folded.
struct HeaderPath {
    col: usize,
    texts: Vec<String>,
    folded: Vec<String>,
    /// `joined(from, to)` at `from * len + to`.
    joins: Vec<String>,
}

impl HeaderPath {
    fn shown(&self) -> String {
        self.texts.join(" › ")
    }

    /// The folded texts of levels `from..=to` joined, as one header
    /// (computed once per path: every template asks for them).
    fn joined(&self, from: usize, to: usize) -> &str {
        let n = self.folded.len();
        self.joins.get(from * n + to).map_or("", String::as_str)
    }

    fn joins_of(folded: &[String]) -> Vec<String> {
        let n = folded.len();
        let mut joins = vec![String::new(); n * n];
        for from in 0..n {
            for to in from..n {
                joins[from * n + to] = folded[from..=to]
                    .iter()
                    .filter(|t| !t.is_empty())
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(" ");
            }
        }
        joins
    }
}

/// Whether any template could map two columns of a candidate header: a
/// column counts when one of its texts, or two of them joined, is a header
/// or a value some template knows. This rules out most data rows before
/// they are matched template by template.
fn could_map_two(paths: &[HeaderPath], known: &rustc_hash::FxHashSet<String>) -> bool {
    paths
        .iter()
        .filter(|p| {
            let n = p.folded.len();
            (0..n).any(|from| (from..n).any(|to| known.contains(p.joined(from, to))))
        })
        .nth(1)
        .is_some()
}

/// A candidate header: its rows' texts (one row for a flat header).
struct HeaderReading<'a> {
    row: usize,
    origin_col: u32,
    rows: &'a [Vec<Option<String>>],
    merges: &'a [Merge],
}

impl HeaderReading<'_> {
    /// Each column's header path. A group header with no merge information
    /// (ODS, xlsb) is written once, left of its columns: a blank cell over a
    /// column whose lower rows have text takes the group text to its left.
    fn paths(&self, folds: &mut FoldMemo) -> Vec<HeaderPath> {
        let width = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let height = self.rows.len();
        let text = |level: usize, c: usize| -> Option<&String> {
            self.rows
                .get(level)
                .and_then(|r| r.get(c))
                .and_then(Option::as_ref)
        };
        let mut carried: Vec<Option<String>> = vec![None; height];
        let mut paths = Vec::new();
        for c in 0..width {
            let deepest = (0..height).rev().find(|&l| text(l, c).is_some());
            let mut texts: Vec<String> = Vec::new();
            for (level, carry) in carried.iter_mut().enumerate() {
                let own = text(level, c).cloned();
                let merged = self
                    .merges
                    .iter()
                    .any(|m| m.contains(self.row + level, c) && m.first_col as usize != c);
                let value = match own {
                    Some(t) => {
                        *carry = Some(t.clone());
                        Some(t)
                    }
                    None => {
                        // Carry the group text to the right only over
                        // columns that have sub-headers under it.
                        if deepest.is_some_and(|d| d > level) && !merged {
                            carry.clone()
                        } else {
                            *carry = None;
                            None
                        }
                    }
                };
                if let Some(v) = value
                    && texts.last() != Some(&v)
                {
                    texts.push(v);
                }
            }
            if texts.is_empty() {
                continue;
            }
            let folded: Vec<String> = texts.iter().map(|t| folds.fold(t)).collect();
            let joins = HeaderPath::joins_of(&folded);
            paths.push(HeaderPath {
                col: c,
                texts,
                folded,
                joins,
            });
        }
        paths
    }
}

/// What one header column can feed.
enum ColumnMatch {
    Value(usize),
    Mark(usize, String, String),
    InMarked {
        field: usize,
        header: String,
        by_field: usize,
        value: String,
    },
    Part(usize, usize),
    /// A lone column named by a value of a field ("Nữ").
    LoneMark(usize, String),
}

/// How a column's header path maps to a field of `template`, most specific first.
fn match_column(template: &Template, path: &HeaderPath) -> Option<ColumnMatch> {
    let n = path.folded.len();
    let leaf = n - 1;
    // The whole path or its lower part names a field: the cell is its value.
    for from in (0..n).rev() {
        if let Some(f) = template.field_for_folded_header(path.joined(from, leaf)) {
            return Some(ColumnMatch::Value(f));
        }
    }
    // A group above names a field and the leaf is one of its values: an
    // x-mark column. Or the group names a field that is not an enumeration
    // and the leaf a value of another one: the value is written in the
    // column of that other field's value.
    for to in (0..leaf).rev() {
        for from in (0..=to).rev() {
            let Some(f) = template.field_for_folded_header(path.joined(from, to)) else {
                continue;
            };
            let field = &template.fields[f];
            let header = path.texts[from..=to].join(" ");
            if field.kind == FieldType::Enum {
                if let Some(value) = field.enum_value(&path.texts[leaf]) {
                    return Some(ColumnMatch::Mark(f, header, value.to_string()));
                }
            } else if let Some((by_field, value)) = enum_value_of_any(template, &path.texts[leaf]) {
                return Some(ColumnMatch::InMarked {
                    field: f,
                    header,
                    by_field,
                    value,
                });
            }
        }
    }
    for (f, field) in template.fields.iter().enumerate() {
        for (part, headers) in field.parts.iter().enumerate() {
            if headers.contains(&path.folded[leaf]) {
                return Some(ColumnMatch::Part(f, part));
            }
        }
    }
    if n == 1
        && let Some((f, value)) = enum_value_of_any(template, &path.texts[leaf])
    {
        return Some(ColumnMatch::LoneMark(f, value));
    }
    None
}

/// The enumeration field (and its value) a text names, when exactly one does.
fn enum_value_of_any(template: &Template, text: &str) -> Option<(usize, String)> {
    let mut found = template
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| f.kind == FieldType::Enum)
        .filter_map(|(i, f)| f.enum_value(text).map(|v| (i, v.to_string())));
    let first = found.next()?;
    found.next().is_none().then_some(first)
}

fn field_by_col(columns: &[Option<Mapping>]) -> Vec<Option<usize>> {
    let mut by_col: Vec<Option<usize>> = Vec::new();
    for (f, mapping) in columns.iter().enumerate() {
        for c in mapping.iter().flat_map(Mapping::cols) {
            if by_col.len() <= c {
                by_col.resize(c + 1, None);
            }
            by_col[c].get_or_insert(f);
        }
    }
    by_col
}

/// Maps a candidate header's columns to the template's fields. `describe`
/// also lists the columns that map to nothing, which only the chosen
/// header needs.
fn match_header<'t>(
    template: &'t Template,
    reading: &HeaderReading<'_>,
    paths: &[HeaderPath],
    describe: bool,
) -> HeaderMatch<'t> {
    let mut columns: Vec<Option<Mapping>> = vec![None; template.fields.len()];
    let mut uses: Vec<(usize, Option<usize>, ColumnUse)> = Vec::new();
    let mut lone: Vec<(usize, usize, String)> = Vec::new();
    let mut by_mark: Vec<(usize, usize, String)> = Vec::new();
    let mut row_number_cols = Vec::new();
    for path in paths {
        let c = path.col;
        let used = match match_column(template, path) {
            Some(ColumnMatch::Value(f)) => match &columns[f] {
                None => {
                    columns[f] = Some(Mapping::Column {
                        col: c,
                        header: path.texts.last().cloned().unwrap_or_default(),
                    });
                    Some((f, ColumnUse::Value))
                }
                Some(_) => None,
            },
            Some(ColumnMatch::Mark(f, header, value)) => match &mut columns[f] {
                slot @ None => {
                    *slot = Some(Mapping::Marks {
                        header,
                        columns: vec![(c, value.clone())],
                        unmarked: None,
                    });
                    Some((f, ColumnUse::Mark(value)))
                }
                Some(Mapping::Marks {
                    header: h,
                    columns: marks,
                    ..
                }) if *h == header => {
                    marks.push((c, value.clone()));
                    Some((f, ColumnUse::Mark(value)))
                }
                Some(_) => None,
            },
            Some(ColumnMatch::InMarked {
                field,
                header,
                by_field,
                value,
            }) => match &mut columns[field] {
                slot @ None => {
                    *slot = Some(Mapping::InMarkedColumn {
                        header,
                        columns: vec![(c, value.clone())],
                    });
                    by_mark.push((by_field, c, value.clone()));
                    Some((field, ColumnUse::ValueByMark(value)))
                }
                Some(Mapping::InMarkedColumn {
                    header: h,
                    columns: cols,
                }) if *h == header => {
                    cols.push((c, value.clone()));
                    by_mark.push((by_field, c, value.clone()));
                    Some((field, ColumnUse::ValueByMark(value)))
                }
                Some(_) => None,
            },
            Some(ColumnMatch::Part(f, part)) => match &mut columns[f] {
                slot @ None => {
                    *slot = Some(Mapping::Joined {
                        header: path.texts.last().cloned().unwrap_or_default(),
                        parts: vec![(part, c)],
                    });
                    Some((f, ColumnUse::Part(part)))
                }
                Some(Mapping::Joined { parts, header })
                    if !parts.iter().any(|(p, _)| *p == part) =>
                {
                    parts.push((part, c));
                    parts.sort_unstable();
                    if let Some(t) = path.texts.last() {
                        header.push_str(" + ");
                        header.push_str(t);
                    }
                    Some((f, ColumnUse::Part(part)))
                }
                Some(_) => None,
            },
            Some(ColumnMatch::LoneMark(f, value)) => {
                lone.push((f, c, value));
                continue;
            }
            None => None,
        };
        match used {
            Some((f, how)) => uses.push((c, Some(f), how)),
            None => {
                let how = if path
                    .folded
                    .last()
                    .is_some_and(|t| ROW_NUMBER_HEADERS.contains(&t.as_str()))
                {
                    row_number_cols.push(c);
                    ColumnUse::RowNumber
                } else {
                    ColumnUse::Ignored
                };
                uses.push((c, None, how));
            }
        }
    }
    // A field written in the column of another field's value ("Ngày sinh"
    // over "Nam" / "Nữ") also gives that field by which column holds it.
    for (by_field, c, value) in by_mark {
        match &mut columns[by_field] {
            slot @ None => {
                *slot = Some(Mapping::Marks {
                    header: value.clone(),
                    columns: vec![(c, value)],
                    unmarked: None,
                })
            }
            Some(Mapping::Marks { columns: marks, .. }) if !marks.iter().any(|(m, _)| *m == c) => {
                marks.push((c, value))
            }
            Some(_) => {}
        }
    }
    // Lone value columns ("Nữ" alone) of a field no other column gives: marked
    // means that value; blank means the other value only for a field of two.
    let mut lone_by_field: BTreeMap<usize, Vec<(usize, String)>> = BTreeMap::new();
    for (f, c, value) in lone {
        lone_by_field.entry(f).or_default().push((c, value));
    }
    for (f, marks) in lone_by_field {
        if columns[f].is_some() {
            for (c, _) in marks {
                uses.push((c, None, ColumnUse::Ignored));
            }
            continue;
        }
        let field = &template.fields[f];
        let unmarked = match (marks.as_slice(), field.values.as_slice()) {
            ([(_, value)], [a, b]) => Some(if value == a { b.clone() } else { a.clone() }),
            _ => None,
        };
        for (c, value) in &marks {
            uses.push((*c, Some(f), ColumnUse::Mark(value.clone())));
        }
        let header = marks
            .iter()
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
            .join(" / ");
        columns[f] = Some(Mapping::Marks {
            header,
            columns: marks,
            unmarked,
        });
    }
    // A split value with one part found is not the value: unfound.
    for (f, slot) in columns.iter_mut().enumerate() {
        if let Some(Mapping::Joined { parts, .. }) = slot
            && parts.len() < template.fields[f].parts.len()
        {
            *slot = None;
            for u in uses.iter_mut().filter(|u| u.1 == Some(f)) {
                u.1 = None;
                u.2 = ColumnUse::Ignored;
            }
        }
    }
    uses.sort_by_key(|u| u.0);
    let score = uses.iter().filter(|u| u.1.is_some()).count();
    let mut unknown = Vec::new();
    let mut readings = Vec::new();
    let mut folded_leaves = Vec::new();
    if describe {
        for (c, field, how) in &uses {
            let Some(path) = paths.iter().find(|p| p.col == *c) else {
                continue;
            };
            if let Some(leaf) = path.folded.last() {
                folded_leaves.push((*c, leaf.clone()));
            }
            if field.is_none() && *how == ColumnUse::Ignored {
                let shown = path.texts.join(" / ");
                // A merged group header repeats over its columns: list it once.
                if !unknown.contains(&shown) {
                    unknown.push(shown);
                }
            }
            readings.push(ColumnReading {
                column: column_letters(reading.origin_col + *c as u32),
                header: path.shown(),
                field: field.map(|f| template.fields[f].name.clone()),
                reading: how.clone(),
            });
        }
    }
    let field_by_col = field_by_col(&columns);
    HeaderMatch {
        template,
        field_by_col,
        row: reading.row,
        height: reading.rows.len(),
        columns,
        unknown,
        readings,
        row_number_cols,
        folded_leaves,
        score,
    }
}

/// The header written again on a new printed page: most of the header's
/// column texts, in their columns.
fn is_repeated_header(cells: &[Cell], header: &HeaderMatch<'_>) -> bool {
    // Text only, and its first text is the header's in that column: one
    // fold per text-only row, none for a row with a number or a date.
    let mut non_blank = cells.iter().enumerate().filter(|(_, c)| !c.is_blank());
    let Some((first_col, Some(first))) = non_blank.next().map(|(c, cell)| (c, cell.text())) else {
        return false;
    };
    if cells.iter().any(|c| !c.is_blank() && c.text().is_none()) {
        return false;
    }
    let leaf_of = |c: usize| {
        header
            .folded_leaves
            .iter()
            .find(|(hc, _)| *hc == c)
            .map(|(_, t)| t.as_str())
    };
    if leaf_of(first_col) != Some(fold(first).as_str()) {
        return false;
    }
    let texts: Vec<(usize, String)> = cells
        .iter()
        .enumerate()
        .filter_map(|(c, cell)| cell.text().map(|t| (c, fold(t))))
        .filter(|(_, t)| !t.is_empty())
        .collect();
    if texts.len() < 2 {
        return false;
    }
    let same = texts
        .iter()
        .filter(|(c, t)| leaf_of(*c) == Some(t.as_str()))
        .count();
    same * 2 > texts.len()
}

/// A header of another table below this one ("Trình độ | Số lượng" over a
/// summary): text only, short, naming columns no data row would.
fn is_other_table_header(cells: &[Cell], header: &HeaderMatch<'_>) -> bool {
    const SUMMARY_HEADERS: &[&str] = &["so luong", "so nguoi", "ty le", "tong so", "ty le %"];
    let non_blank: Vec<&Cell> = cells.iter().filter(|c| !c.is_blank()).collect();
    if non_blank.len() < 2 || non_blank.iter().any(|c| c.text().is_none()) {
        return false;
    }
    let folded: Vec<String> = non_blank
        .iter()
        .filter_map(|c| c.text())
        .map(fold)
        .collect();
    if folded.iter().any(|t| t.len() > 40) {
        return false;
    }
    let names_a_summary = folded.iter().any(|t| SUMMARY_HEADERS.contains(&t.as_str()));
    let template = header.template;
    let names_a_field = folded
        .iter()
        .filter(|t| template.field_for_folded_header(t).is_some())
        .count();
    names_a_summary && names_a_field >= 1 || names_a_field >= 2
}

/// The class of a row that holds no value of the template's required fields
/// but its own label: totals, subtotals, section headings, notes, a row number
/// alone. `None` for a data row (or a row that may be one: it is converted,
/// and rejected with reasons if it cannot be).
fn label_kind(cells: &[Cell], header: &HeaderMatch<'_>) -> Option<SkipKind> {
    // Columns of the template's fields; a cell elsewhere (STT, notes,
    // unknown columns) holds no field's value.
    let field_of = |c: usize| -> Option<usize> { header.field_by_col.get(c).copied().flatten() };
    let non_blank: Vec<(usize, &Cell)> = cells
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.is_blank())
        .collect();
    let (label_col, label) = *non_blank.first()?;
    let no_field_value = !non_blank.iter().any(|&(c, _)| field_of(c).is_some());
    // Only row numbers: "5" in STT and nothing else.
    if no_field_value
        && non_blank
            .iter()
            .all(|(c, cell)| header.row_number_cols.contains(c) && is_row_number(cell))
    {
        return Some(SkipKind::EmptyNumbered);
    }
    let label_text = label.text().map(clean)?;
    let folded = fold(&label_text);
    // A label stands in the STT column or in a field's column (in place of
    // the name); text in a notes column beside an ID labels nothing.
    if !header.row_number_cols.contains(&label_col) && field_of(label_col).is_none() {
        return no_field_value.then_some(if is_section_marker(&label_text) || label_col == 0 {
            SkipKind::Sections
        } else {
            SkipKind::Notes
        });
    }
    let required_text_col = |c: usize| {
        field_of(c).is_some_and(|f| {
            let field = &header.template.fields[f];
            field.required && field.kind == FieldType::Text
        })
    };
    // A figure, or a formula saved without its value (a totals row's =SUM()).
    let is_figure = |cell: &Cell| {
        matches!(cell, Cell::Uncomputed { .. }) || matches!(value::as_integer(cell), Ok(Some(_)))
    };
    // Besides the label, only figures of integer fields (a totals row, a
    // section's counts) and row numbers.
    let rest_is_figures = |allowed_text_cols: &[usize]| {
        non_blank.iter().all(|&(c, cell)| {
            c == label_col
                || allowed_text_cols.contains(&c)
                || header.row_number_cols.contains(&c) && cell.text().is_none_or(is_section_marker)
                || is_figure(cell)
        })
    };
    if is_totals_label(&folded) && rest_is_figures(&[]) {
        // A count may stand in the ID column of a totals row.
        return Some(if folded == "cong" || folded.starts_with("cong ") {
            SkipKind::Subtotals
        } else {
            SkipKind::Totals
        });
    }
    if is_note_label(&label_text) && non_blank.len() == 1 {
        return Some(SkipKind::Notes);
    }
    // A section: the marker in the STT column and its title in one more
    // cell, or a title that starts with a marker ("I. Khối", "A- Cấp xã").
    let next_text = non_blank
        .iter()
        .skip(1)
        .find_map(|(_, cell)| cell.text())
        .unwrap_or("");
    let marker_in_row_number_col = header.row_number_cols.contains(&label_col)
        && (is_section_marker(&label_text)
            || NUMBERED_MARKER.is_match(label_text.trim())
            || (UNIT_NUMBER.is_match(label_text.trim()) && names_a_unit(next_text)));
    let next_text_col = non_blank
        .iter()
        .skip(1)
        .find(|(_, cell)| cell.text().is_some())
        .map(|(c, _)| *c);
    // A section's figures are counts, never in a required text column (an ID).
    let section_rest = |title_cols: &[usize]| {
        rest_is_figures(title_cols)
            && non_blank.iter().all(|&(c, cell)| {
                c == label_col
                    || title_cols.contains(&c)
                    || !required_text_col(c)
                    || cell.is_blank()
            })
    };
    if marker_in_row_number_col {
        let title_cols: Vec<usize> = next_text_col.into_iter().collect();
        if section_rest(&title_cols) {
            return Some(SkipKind::Sections);
        }
    }
    if starts_with_section_marker(&label_text) && section_rest(&[]) {
        return Some(SkipKind::Sections);
    }
    // No template field holds anything: a heading or remark in a column no
    // field reads.
    if no_field_value {
        return Some(if is_section_marker(&label_text) || label_col == 0 {
            SkipKind::Sections
        } else {
            SkipKind::Notes
        });
    }
    None
}

fn is_row_number(cell: &Cell) -> bool {
    match cell {
        Cell::Number(n) => n.fract() == 0.0 && *n >= 0.0,
        Cell::Text(t) => {
            let t = t.trim().trim_end_matches('.');
            !t.is_empty() && t.chars().all(|c| c.is_ascii_digit())
        }
        _ => false,
    }
}

static SECTION_MARKER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?i:[ivxlc]+|[a-zđ])[.)]?$").expect("static regex"));

static NUMBERED_MARKER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\d{1,2}(?:\.\d{1,2})+\.?$").expect("static regex"));

static UNIT_NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\d{1,2}[.)]$").expect("static regex"));

/// A unit's name ("Phòng Nội vụ", "Văn phòng HĐND và UBND huyện"): a
/// numbered row "1." in the STT column titled so is a section, where a
/// person's name would be a person missing an ID.
fn names_a_unit(text: &str) -> bool {
    const UNITS: &[&str] = &[
        "van phong",
        "phong",
        "ban",
        "so",
        "trung tam",
        "ubnd",
        "uy ban",
        "hdnd",
        "khoi",
        "cap",
        "truong",
        "benh vien",
        "chi cuc",
        "cuc",
        "doi",
        "co quan",
        "don vi",
        "thanh tra",
        "hoi",
        "mat tran",
        "huyen uy",
        "dang uy",
        "tram",
        "xa",
        "phuong",
        "thi tran",
        "thi xa",
    ];
    let folded = fold(text);
    UNITS
        .iter()
        .any(|u| folded == *u || folded.starts_with(&format!("{u} ")))
}

/// "I", "II.", "A", "b)": a section number alone. A plain number is a row
/// number or an ID, never a section; "1.2" is one only in the STT column.
fn is_section_marker(text: &str) -> bool {
    SECTION_MARKER.is_match(text.trim())
}

static MARKED_TITLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?i:[ivxlc]+|[a-zđ]|\d{1,2}(?:\.\d{1,2})*)\s*[.)\-–:/]\s*\p{L}")
        .expect("static regex")
});

/// "I. Khối cơ quan Đảng", "A- Cấp xã", "2) Phòng Nội vụ": a numbered title.
/// A name never has punctuation after its first syllable, so "Y Bhiông
/// Êban" or "Vi Thị Mai" are not titles.
fn starts_with_section_marker(text: &str) -> bool {
    MARKED_TITLE.is_match(text.trim()) || is_section_marker(text)
}

fn is_totals_label(folded: &str) -> bool {
    const TOTALS: &[&str] = &[
        "tong cong",
        "cong",
        "tong so",
        "tong",
        "tong cong toan tinh",
        "cong toan tinh",
        "tong cong chung",
    ];
    if TOTALS.contains(&folded) {
        return true;
    }
    // "Tổng cộng toàn huyện", "Cộng khối Đảng", "Cộng mục II"; never a
    // name such as "Cộng Thị Hà".
    let words: Vec<&str> = folded.split(' ').collect();
    match words.as_slice() {
        ["tong", "cong" | "so", rest @ ..] => rest.len() <= 3,
        ["cong", next, rest @ ..] => {
            rest.len() <= 3
                && (["khoi", "muc", "cap", "nhom", "phan", "toan"].contains(next)
                    || is_section_marker(next))
        }
        _ => false,
    }
}

/// Footnotes and remarks: "Ghi chú: …", "(*) …", "Lưu ý", "Nguồn:".
fn is_note_label(text: &str) -> bool {
    let trimmed = text.trim_start();
    if trimmed.starts_with('*') || trimmed.starts_with("(*") || trimmed.starts_with("- ") {
        return true;
    }
    let folded = fold(trimmed);
    [
        "ghi chu",
        "luu y",
        "chu thich",
        "nguon",
        "don vi tinh",
        "dvt",
        "chu y",
    ]
    .iter()
    .any(|p| folded == *p || folded.starts_with(&format!("{p} ")))
}

/// "(1) (2) (3) …", "1 2 3 …" or "A B 1 2 3" under the header: the numbers
/// count up by one and the letters follow the alphabet, so a person "A"
/// with ID "1" is not one.
fn is_column_number_row(row: &[Cell]) -> bool {
    let mut numbers: Vec<i64> = Vec::new();
    let mut letters: Vec<char> = Vec::new();
    let mut tokens = 0;
    for cell in row.iter().filter(|c| !c.is_blank()) {
        tokens += 1;
        match cell {
            Cell::Number(n) if n.fract() == 0.0 && *n >= 0.0 && *n < 1000.0 => {
                numbers.push(*n as i64)
            }
            Cell::Text(t) => {
                let raw = t
                    .trim()
                    .trim_start_matches('(')
                    .trim_end_matches(')')
                    .trim();
                if let Ok(n) = raw.parse::<i64>()
                    && (0..1000).contains(&n)
                {
                    numbers.push(n);
                } else if raw.chars().count() == 1
                    && let Some(ch) = raw.chars().next().filter(char::is_ascii_alphabetic)
                {
                    letters.push(ch.to_ascii_uppercase());
                } else if is_formula_label(raw) {
                    // "4=2+3": column 4, computed from 2 and 3.
                    if let Some(Ok(n)) = raw.split('=').next().map(|n| n.trim().parse::<i64>()) {
                        numbers.push(n);
                    }
                } else {
                    return false;
                }
            }
            _ => return false,
        }
    }
    let counts_up = numbers.windows(2).all(|w| w[1] == w[0] + 1);
    let alphabetical = letters.windows(2).all(|w| w[1] as u32 == w[0] as u32 + 1);
    tokens >= 2 && counts_up && alphabetical
}

/// "4=2+3" under a computed column.
fn is_formula_label(text: &str) -> bool {
    text.len() <= 12
        && text.contains('=')
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || "=+-*/() ".contains(c))
}

/// A line of the signature block: every cell says who signs, when or where
/// ("Người lập biểu", "KT. CHỦ TỊCH", "Điện Biên, ngày 15 tháng 01 năm 2026",
/// "(Ký, ghi rõ họ tên)"). A row with a name or a figure beside it is not.
fn is_signature_row(row: &[Cell]) -> bool {
    let mut any = false;
    for cell in row.iter().filter(|c| !c.is_blank()) {
        let Some(text) = cell.text() else {
            return false;
        };
        if !is_signature_text(text) {
            return false;
        }
        any = true;
    }
    any
}

fn is_signature_text(text: &str) -> bool {
    const STARTS: &[&str] = &[
        "nguoi lap",
        "nguoi tong hop",
        "nguoi bao cao",
        "nguoi ky",
        "thu truong",
        "noi nhan",
        "xac nhan cua",
        "ky ten",
        "ky ghi ro",
        "ky va ghi ro",
        "ky dong dau",
        "da ky",
        "ke toan",
        "kt chu tich",
        "kt giam doc",
        "kt truong",
        "kt thu truong",
        "tm ",
        "tl ",
        "tuq ",
        "q chu tich",
        "chu tich",
        "pho chu tich",
        "giam doc",
        "pho giam doc",
        "truong phong",
        "pho truong phong",
        "can bo tong hop",
        "lanh dao",
        "luu vt",
        "luu ",
    ];
    let folded = fold(text);
    if folded.len() > 120 {
        return false;
    }
    STARTS
        .iter()
        .any(|s| folded == s.trim_end() || folded.starts_with(s))
        || (folded.contains("ngay ") && folded.contains(" thang ") && folded.contains(" nam "))
}

fn parse_row<'t>(
    at: &RowAt<'_>,
    header: &HeaderMatch<'t>,
    ctx: SheetContext<'_>,
    enums: &mut EnumValues<'t>,
) -> Result<Vec<Value>, Vec<Reject>> {
    let template = header.template;
    let mut values = Vec::with_capacity(template.fields.len());
    let mut rejects = Vec::new();
    let mut reject = |field: usize, c: usize, cell: &Cell, problem: Problem| {
        let column = header.columns[field]
            .as_ref()
            .map(|m| m.header().to_string())
            .unwrap_or_else(|| template.fields[field].name.clone());
        rejects.push(Reject {
            sheet: at.sheet.to_string(),
            source_row: at.excel_row(),
            column,
            cell: at.address(c),
            value: value::clip(&cell.display()),
            reason_vi: problem.vi,
            reason_en: problem.en,
        });
    };
    for (index, field) in template.fields.iter().enumerate() {
        let (c, cell) = match &header.columns[index] {
            None => {
                // No column for it: unknown, never the blank value. The level
                // alone comes from the registry: the department's own.
                values.push(match field.blank {
                    BlankValue::DepartmentLevel => blank_value(field.kind, &field.blank, ctx),
                    _ => Value::Null,
                });
                continue;
            }
            Some(Mapping::Marks {
                columns, unmarked, ..
            }) => {
                let marked: Vec<&(usize, String)> = columns
                    .iter()
                    .filter(|(c, _)| is_mark(at.cell(*c)))
                    .collect();
                match marked.as_slice() {
                    [] if field.required => {
                        let c = columns.first().map_or(0, |(c, _)| *c);
                        reject(index, c, &Cell::Empty, Problem::missing());
                        values.push(Value::Null);
                    }
                    [] => values.push(match unmarked {
                        Some(value) => Value::Enum(value.clone()),
                        None => blank_value(field.kind, &field.blank, ctx),
                    }),
                    [(c, value)] => match value::unreadable(at.cell(*c)) {
                        Some(problem) => {
                            reject(index, *c, at.cell(*c), problem);
                            values.push(Value::Null);
                        }
                        None => values.push(Value::Enum(value.clone())),
                    },
                    [_, (c, _), ..] => {
                        reject(
                            index,
                            *c,
                            at.cell(*c),
                            Problem::new(
                                "Đánh dấu nhiều hơn một ô trong cùng một nhóm cột",
                                "More than one column of the group is marked",
                            ),
                        );
                        values.push(Value::Null);
                    }
                }
                continue;
            }
            Some(Mapping::InMarkedColumn { columns, .. }) => {
                let filled: Vec<usize> = columns
                    .iter()
                    .map(|(c, _)| *c)
                    .filter(|c| !at.cell(*c).is_blank())
                    .collect();
                match filled.as_slice() {
                    [] => (columns[0].0, &Cell::Empty),
                    [c] => (*c, at.cell(*c)),
                    [_, c, ..] => {
                        reject(
                            index,
                            *c,
                            at.cell(*c),
                            Problem::new(
                                "Ghi giá trị ở nhiều hơn một cột của cùng một nhóm",
                                "A value is written in more than one column of the group",
                            ),
                        );
                        values.push(Value::Null);
                        continue;
                    }
                }
            }
            Some(Mapping::Joined { parts, .. }) => {
                let mut texts = Vec::new();
                for (_, c) in parts {
                    match value::as_text(at.cell(*c)) {
                        Ok(Some(t)) => texts.push(t),
                        Ok(None) => {}
                        Err(problem) => reject(index, *c, at.cell(*c), problem),
                    }
                }
                let first = parts.first().map_or(0, |(_, c)| *c);
                let joined_cell = if texts.is_empty() {
                    Cell::Empty
                } else {
                    Cell::Text(texts.join(" "))
                };
                if joined_cell.is_blank() && field.required {
                    reject(index, first, &Cell::Empty, Problem::missing());
                    values.push(Value::Null);
                } else {
                    values.push(match &joined_cell {
                        Cell::Text(t) => Value::Text(t.clone()),
                        _ => Value::Null,
                    });
                }
                continue;
            }
            Some(Mapping::Column { col, .. }) => (*col, at.cell(*col)),
        };
        let converted: Result<Value, Problem> = match field.kind {
            FieldType::Text => value::as_text(cell).map(|t| t.map_or(Value::Null, Value::Text)),
            FieldType::Integer => value::as_integer(cell).and_then(|n| match (n, field.min) {
                (Some(n), Some(min)) if n < min => Err(Problem::new(
                    format!("Giá trị {n} nhỏ hơn mức tối thiểu {min}"),
                    format!("Value {n} is below the minimum {min}"),
                )),
                (n, _) => Ok(n.map_or(Value::Null, Value::Int)),
            }),
            FieldType::Date => value::as_plausible_date(cell, &field.dates, ctx.today)
                .map(|d| d.map_or(Value::Null, Value::Date)),
            FieldType::Bool => value::as_bool(cell).map(Value::Bool),
            FieldType::Enum => match cell {
                Cell::Error(code) => Err(Problem::error_cell(code)),
                Cell::Uncomputed { formula } => Err(Problem::uncomputed(formula)),
                Cell::TooLong { chars, .. } => Err(Problem::too_long(*chars)),
                blank if blank.is_blank() => Ok(blank_value(field.kind, &field.blank, ctx)),
                other => enums
                    .value(index, field, other)
                    .map(|v| Value::Enum(v.to_string()))
                    .ok_or_else(|| {
                        let shown = other.display();
                        let accepted = template
                            .synonyms
                            .get(&index)
                            .map(|s| s.join(", "))
                            .unwrap_or_default();
                        Problem::new(
                            format!("\"{shown}\" không thuộc danh mục; chấp nhận: {accepted}"),
                            format!("\"{shown}\" is not an accepted value; accepted: {accepted}"),
                        )
                    }),
            },
        };
        match converted {
            Ok(Value::Null) if field.required => {
                reject(index, c, cell, Problem::missing());
                values.push(Value::Null);
            }
            Ok(v) => values.push(v),
            Err(problem) => {
                reject(index, c, cell, problem);
                values.push(Value::Null);
            }
        }
    }
    for (index, field) in template.fields.iter().enumerate() {
        let Some(before) = field.not_before else {
            continue;
        };
        if let (Value::Date(end), Value::Date(start)) = (&values[index], &values[before])
            && end < start
            && let Some(mapping) = &header.columns[index]
        {
            let c = mapping.first_col();
            let start_header = header.columns[before]
                .as_ref()
                .map(Mapping::header)
                .unwrap_or("");
            reject(
                index,
                c,
                at.cell(c),
                Problem::new(
                    format!(
                        "Ngày {} trước \"{start_header}\" {}",
                        end.format("%d/%m/%Y"),
                        start.format("%d/%m/%Y")
                    ),
                    format!(
                        "Date {} is before \"{start_header}\" {}",
                        end.format("%d/%m/%Y"),
                        start.format("%d/%m/%Y")
                    ),
                ),
            );
        }
    }
    if rejects.is_empty() {
        Ok(values)
    } else {
        Err(rejects)
    }
}

/// Enumeration cells repeat ("Tập trung", "Đạt") down a sheet: each
/// distinct text is looked up (folded) once per field and sheet.
#[derive(Default)]
struct EnumValues<'t> {
    by_field: Vec<HashMap<String, Option<&'t str>>>,
}

impl<'t> EnumValues<'t> {
    /// Distinct texts remembered per field: a free-text column mapped to an
    /// enumeration must not grow without bound.
    const LIMIT: usize = 1024;

    fn value(&mut self, index: usize, field: &'t Field, cell: &Cell) -> Option<&'t str> {
        let Cell::Text(text) = cell else {
            return field.enum_value(&cell.display());
        };
        if self.by_field.len() <= index {
            self.by_field.resize_with(index + 1, HashMap::default);
        }
        let known = &mut self.by_field[index];
        if let Some(value) = known.get(text.as_str()) {
            return *value;
        }
        // "Đại học Luật", "Thạc sĩ Quản lý công": a value followed by more words.
        let value = field
            .enum_value(text)
            .or_else(|| field.enum_value_leading(text));
        if known.len() < Self::LIMIT {
            known.insert(text.clone(), value);
        }
        value
    }
}

/// An x-mark: any non-blank cell but an explicit no.
fn is_mark(cell: &Cell) -> bool {
    match cell {
        Cell::Number(n) => *n != 0.0,
        Cell::Bool(b) => *b,
        // "✓" folds to nothing but is a mark; a dash or "0" says no.
        Cell::Text(t) => {
            let raw = t.trim();
            !raw.is_empty()
                && !matches!(raw, "-" | "–" | "—")
                && !matches!(fold(raw).as_str(), "0" | "khong" | "no")
        }
        Cell::Date(_) | Cell::Error(_) | Cell::Uncomputed { .. } | Cell::TooLong { .. } => true,
        Cell::Empty => false,
    }
}

/// Values of the templates' `unique` fields seen so far in a workbook, with
/// the sheet and row that had them first: a person once per roster, even
/// when the roster is one sheet per unit.
#[derive(Default)]
pub struct SeenKeys(HashMap<(String, usize, String), (String, u32, String)>);

impl SeenKeys {
    /// The most values remembered: a workbook beyond it is checked only
    /// against its first million people.
    const LIMIT: usize = 1_000_000;

    /// Forgets the values a sheet brought (a sheet refused whole).
    pub fn forget_sheet(&mut self, sheet: &str) {
        self.0.retain(|_, (first_sheet, _, _)| first_sheet != sheet);
    }

    /// Rejects a row repeating a unique value, naming the first row.
    fn check(
        &mut self,
        at: &RowAt<'_>,
        header: &HeaderMatch<'_>,
        values: Vec<Value>,
    ) -> Result<Vec<Value>, Vec<Reject>> {
        let template = header.template;
        let name_index = template.field_index("full_name");
        let mut rejects = Vec::new();
        for &f in &template.unique {
            let key = match values.get(f) {
                Some(Value::Text(t)) => fold(t),
                Some(Value::Int(n)) => n.to_string(),
                _ => continue,
            };
            let name = name_index
                .and_then(|i| values.get(i))
                .and_then(|v| match v {
                    Value::Text(t) => Some(t.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            let key = (template.name.clone(), f, key);
            match self.0.get(&key) {
                Some((first_sheet, first_row, first_name)) => {
                    let mapping = header.columns[f].as_ref();
                    let c = mapping.map_or(0, Mapping::first_col);
                    let column = mapping.map_or(template.fields[f].name.as_str(), Mapping::header);
                    let (where_vi, where_en) = if first_sheet == at.sheet {
                        (format!("dòng {first_row}"), format!("row {first_row}"))
                    } else {
                        (
                            format!("dòng {first_row} của trang \"{first_sheet}\""),
                            format!("row {first_row} of sheet \"{first_sheet}\""),
                        )
                    };
                    rejects.push(Reject {
                        sheet: at.sheet.to_string(),
                        source_row: at.excel_row(),
                        column: column.to_string(),
                        cell: at.address(c),
                        value: value::clip(&at.cell(c).display()),
                        reason_vi: format!(
                            "Trùng \"{column}\" với {where_vi} ({first_name}): mỗi người chỉ ghi một lần; xóa dòng trùng hoặc sửa mã"
                        ),
                        reason_en: format!(
                            "Same \"{column}\" as {where_en} ({first_name}): each person once; remove the repeat or correct the ID"
                        ),
                    });
                }
                None => {
                    if self.0.len() < Self::LIMIT {
                        self.0
                            .insert(key, (at.sheet.to_string(), at.excel_row(), name));
                    }
                }
            }
        }
        if rejects.is_empty() {
            Ok(values)
        } else {
            Err(rejects)
        }
    }
}

/// Vertical merges over data cells: the value written in the merge's first
/// row belongs to every row the merge covers ("Đơn vị" over five people).
struct DataMerges {
    /// Merges spanning rows below the header, by first row.
    waiting: std::collections::VecDeque<Merge>,
    /// Merges the current row may be under, with the value of their first cell.
    active: Vec<(Merge, Cell)>,
}

impl DataMerges {
    fn new(merges: &[Merge], data_from: u32) -> Self {
        let mut waiting: Vec<Merge> = merges
            .iter()
            .filter(|m| m.last_row > m.first_row && m.first_row >= data_from)
            .copied()
            .collect();
        waiting.sort_by_key(|m| m.first_row);
        DataMerges {
            waiting: waiting.into(),
            active: Vec::new(),
        }
    }

    /// Fills the blank cells of `row` under a merge started above, unless the
    /// row holds nothing else (a merge drawn over empty lines adds no row).
    fn fill(&mut self, row: u32, cells: &mut Vec<Cell>) {
        self.active.retain(|(m, _)| m.last_row >= row);
        while self.waiting.front().is_some_and(|m| m.first_row <= row) {
            let Some(m) = self.waiting.pop_front() else {
                break;
            };
            if m.first_row == row
                && let Some(cell) = cells.get(m.first_col as usize)
            {
                self.active.push((m, cell.clone()));
            }
        }
        if self.active.is_empty() || cells.iter().all(Cell::is_blank) {
            return;
        }
        for (m, value) in &self.active {
            let c = m.first_col as usize;
            if m.first_row == row || value.is_blank() {
                continue;
            }
            if cells.len() <= c {
                cells.resize(c + 1, Cell::Empty);
            }
            if cells[c].is_blank() {
                cells[c] = value.clone();
            }
        }
    }
}

/// Sums of the integer columns, to check totals rows: those of the current
/// section (since the last section heading or subtotal) and of the whole
/// sheet. A totals row is right when it matches either; one placed above
/// its lines is checked against the whole sheet at the end.
struct RunningTotals {
    fields: Vec<usize>,
    section: Vec<i64>,
    all: Vec<i64>,
    rows_seen: usize,
    /// Totals rows met before any data row: (excel row, field, cell, header, stated).
    early: Vec<(u32, usize, String, String, i64)>,
}

impl RunningTotals {
    fn new(template: &Template) -> Self {
        let fields: Vec<usize> = template
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.kind == FieldType::Integer)
            .map(|(i, _)| i)
            .collect();
        let n = fields.len();
        RunningTotals {
            fields,
            section: vec![0; n],
            all: vec![0; n],
            rows_seen: 0,
            early: Vec::new(),
        }
    }

    fn new_section(&mut self) {
        self.section.iter_mut().for_each(|s| *s = 0);
    }

    /// Adds a data row's figures as written, rejected or not: a totals row
    /// sums what the department typed, and a reject elsewhere in the row must
    /// not make the totals look wrong.
    fn add(&mut self, at: &RowAt<'_>, header: &HeaderMatch<'_>) {
        self.rows_seen += 1;
        for (i, &field) in self.fields.iter().enumerate() {
            let Some(Mapping::Column { col, .. }) = &header.columns[field] else {
                continue;
            };
            if let Ok(Some(n)) = value::as_integer(at.cell(*col)) {
                self.section[i] = self.section[i].saturating_add(n);
                self.all[i] = self.all[i].saturating_add(n);
            }
        }
    }

    /// Compares a totals row with the rows it sums; a mismatch is a warning, not a reject.
    fn check(
        &mut self,
        at: &RowAt<'_>,
        header: &HeaderMatch<'_>,
        warnings: &mut Vec<SheetWarning>,
    ) {
        for (i, &field) in self.fields.iter().enumerate() {
            let Some(Mapping::Column { col, header: name }) = &header.columns[field] else {
                continue;
            };
            let Ok(Some(stated)) = value::as_integer(at.cell(*col)) else {
                continue;
            };
            if self.rows_seen == 0 {
                self.early
                    .push((at.excel_row(), i, at.address(*col), name.clone(), stated));
                continue;
            }
            // Right when it sums its section or the whole table so far.
            if stated != self.section[i] && stated != self.all[i] {
                let sum = self.section[i];
                warnings.push(SheetWarning {
                    source_row: at.excel_row(),
                    cell: at.address(*col),
                    message_vi: format!("Dòng tổng cộng ghi {stated} ở cột \"{name}\" nhưng tổng các dòng phía trên là {sum}"),
                    message_en: format!("The totals row says {stated} in column \"{name}\" but the rows above add up to {sum}"),
                });
            }
        }
        // The next totals row sums the rows after this one (a totals row
        // before any data row left the sums at zero).
        self.new_section();
    }

    /// Totals rows placed above their lines, checked against the whole sheet.
    fn at_end(&mut self) -> Vec<SheetWarning> {
        std::mem::take(&mut self.early)
            .into_iter()
            .filter(|(_, i, _, _, stated)| *stated != self.all[*i])
            .map(|(row, i, cell, name, stated)| {
                let sum = self.all[i];
                SheetWarning {
                    source_row: row,
                    cell,
                    message_vi: format!("Dòng tổng cộng ghi {stated} ở cột \"{name}\" nhưng tổng các dòng của bảng là {sum}"),
                    message_en: format!("The totals row says {stated} in column \"{name}\" but the rows of the table add up to {sum}"),
                }
            })
            .collect()
    }
}

fn blank_value(kind: FieldType, blank: &BlankValue, ctx: SheetContext<'_>) -> Value {
    match (kind, blank) {
        (FieldType::Bool, _) => Value::Bool(false),
        (_, BlankValue::Null) => Value::Null,
        (_, BlankValue::Value(v)) => Value::Enum(v.clone()),
        (_, BlankValue::DepartmentLevel) => Value::Enum(ctx.department_level.to_string()),
    }
}

/// Builds a grid from arbitrary bytes, for fuzzing and randomized tests: each
/// byte pair picks a cell from a vocabulary of real header texts, values,
/// section, totals and signature words, numbers, dates and errors, so the
/// normaliser's deep paths are reached, not just "no header found".
pub fn grid_from_bytes(bytes: &[u8]) -> Grid {
    const WORDS: &[&str] = &[
        "STT",
        "Họ và tên",
        "Mã định danh",
        "Ngày sinh",
        "Giới tính",
        "Nam",
        "Nữ",
        "Đơn vị",
        "Trình độ chuyên môn",
        "Thạc sĩ",
        "Đại học",
        "Tên khóa học",
        "Nội dung",
        "Chuyển đổi số",
        "Hình thức",
        "Tập trung",
        "Trực tuyến",
        "Từ ngày",
        "Đến ngày",
        "Thời gian",
        "Số tiết",
        "Kết quả",
        "Đạt",
        "Chứng chỉ",
        "x",
        "Kinh phí",
        "1.500.000",
        "17,51",
        "31/12/2022",
        "31/02/1985",
        "Tổng cộng",
        "I",
        "A. Khối",
        "Người lập biểu",
        "ngày 15 tháng 01 năm 2026",
        "NĂM 2025",
        "(1)",
        "Chỉ tiêu",
        "Lĩnh vực",
        "Đã tuyển",
        "",
        " ",
        "\n",
    ];
    let width = usize::from(bytes.first().copied().unwrap_or(4) % 16) + 1;
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    let mut row = Vec::new();
    for pair in bytes.get(1..).unwrap_or_default().chunks(2) {
        let kind = pair[0];
        let arg = pair.get(1).copied().unwrap_or(0);
        // The first two rows are words only, as a header is: a header row
        // never holds a number, and the deep paths start at a header.
        let kind = if rows.len() < 2 { kind % 3 } else { kind };
        let cell = match kind % 8 {
            0..=2 => Cell::Text(WORDS[usize::from(arg) % WORDS.len()].to_string()),
            3 => Cell::Number(f64::from(arg) * 997.0 - 1000.0),
            4 => Cell::Number(f64::from(arg) + 0.5),
            5 => chrono::NaiveDate::from_ymd_opt(1950 + i32::from(arg), 1 + u32::from(arg % 12), 1)
                .map_or(Cell::Empty, Cell::Date),
            6 => Cell::Error("#REF!".into()),
            _ => Cell::Empty,
        };
        row.push(cell);
        if row.len() == width || kind >= 250 {
            rows.push(std::mem::take(&mut row));
        }
    }
    rows.push(row);
    let merges = bytes
        .chunks(7)
        .take(4)
        .filter(|c| c.len() == 7 && c[6] % 5 == 0)
        .map(|c| {
            let (r, col) = (u32::from(c[2] % 8), u32::from(c[3] % 16));
            Merge {
                first_row: r,
                first_col: col,
                last_row: r + u32::from(c[4] % 2),
                last_col: col + u32::from(c[5] % 3),
            }
        })
        .collect();
    Grid {
        name: "fuzz".into(),
        origin_row: u32::from(bytes.get(1).copied().unwrap_or(0) % 3),
        origin_col: 0,
        rows,
        merges,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::load_templates;
    use std::path::Path;

    fn t(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }

    fn grid(rows: Vec<Vec<Cell>>) -> Grid {
        Grid {
            name: "Sheet1".into(),
            origin_row: 0,
            origin_col: 0,
            rows,
            merges: Vec::new(),
        }
    }

    const CTX: SheetContext<'static> = SheetContext {
        department_level: "district",
        today: TODAY,
    };

    const TODAY: chrono::NaiveDate = match chrono::NaiveDate::from_ymd_opt(2026, 1, 15) {
        Some(date) => date,
        None => chrono::NaiveDate::MIN,
    };

    #[test]
    fn staff_sheet_with_title_block_numbers_row_totals_and_signature() {
        let templates = load_templates(Path::new("/nonexistent")).expect("templates");
        let g = grid(vec![
            vec![t("UBND TỈNH ĐIỆN BIÊN")],
            vec![t("DANH SÁCH CÁN BỘ, CÔNG CHỨC"), Cell::Empty],
            vec![t("NĂM 2025")],
            vec![],
            vec![
                t("STT"),
                t("Họ và tên"),
                t("Mã định danh"),
                t("Ngày sinh"),
                t("TRÌNH ĐỘ\nCHUYÊN MÔN"),
                t("Ghi chú"),
            ],
            vec![t("(1)"), t("(2)"), t("(3)"), t("(4)"), t("(5)"), t("(6)")],
            vec![t("I"), t("Khối cơ quan")],
            vec![
                Cell::Number(1.0),
                t("Nguyễn Văn An"),
                t("001085000001"),
                t("31/12/1985"),
                t("Thạc sĩ"),
            ],
            vec![
                Cell::Number(2.0),
                t("Trần Thị Bình"),
                Cell::Number(1085000002.0),
                // A date cell: a plain number in a date column is refused.
                Cell::Date(chrono::NaiveDate::from_ymd_opt(1984, 11, 15).expect("date")),
                t(""),
            ],
            vec![
                Cell::Number(3.0),
                t("Lê Văn Cường"),
                t("001085000003"),
                t("31/02/1985"),
                // Not a qualification ("Kỹ sư" is: university).
                t("Kỹ thuật viên"),
            ],
            vec![Cell::Empty, t("Tổng cộng"), Cell::Number(3.0)],
            vec![],
            vec![Cell::Empty, t("Điện Biên, ngày 15 tháng 01 năm 2026")],
            vec![
                Cell::Empty,
                t("Người lập biểu"),
                Cell::Empty,
                t("Thủ trưởng đơn vị"),
            ],
            vec![Cell::Empty, t("Nguyễn Thị Dung")],
        ]);
        let out = normalise_sheet(&g, &templates, CTX);
        assert_eq!(out.template.as_deref(), Some("staff"));
        assert_eq!(out.header_row, Some(5));
        assert_eq!(out.unknown_columns, ["Ghi chú"]);
        assert_eq!(out.rows.len(), 2);
        assert_eq!(out.rows[0].source_row, 8);
        assert_eq!(out.rejected_rows, 1);
        assert_eq!(out.rejects.len(), 2, "{:#?}", out.rejects);
        assert_eq!(out.rejects[0].cell, "D10");
        assert_eq!(out.rejects[1].cell, "E10");
        assert!(out.rejects[1].reason_en.contains("accepted"));
        assert_eq!(out.skips.column_numbers, 1);
        assert_eq!(out.skips.sections, 1);
        assert_eq!(out.skips.totals, 1);
        assert_eq!(out.skips.signature, 3);
        assert_eq!(out.data_rows, 9);
        assert!(out.is_balanced());
        let staff = templates.iter().find(|t| t.name == "staff").expect("staff");
        let level = staff.field_index("level").expect("level");
        assert_eq!(out.rows[0].values[level], Value::Enum("district".into()));
        let id = staff.field_index("person_id").expect("id");
        assert_eq!(out.rows[1].values[id], Value::Text("1085000002".into()));
        assert_eq!(
            crate::model::period::title_evidence(&out.sheet, &out.title_lines)
                .first()
                .and_then(|e| e.period)
                .map(|p| p.to_string()),
            Some("2025".into())
        );
    }

    #[test]
    fn sheet_matching_no_template_is_counted_not_guessed() {
        let templates = load_templates(Path::new("/nonexistent")).expect("templates");
        let g = grid(vec![
            vec![t("Tên"), t("Tuổi")],
            vec![t("An"), Cell::Number(3.0)],
        ]);
        let out = normalise_sheet(&g, &templates, CTX);
        assert_eq!(out.template, None);
        assert_eq!(out.data_rows, 2);
        assert!(out.is_balanced());
    }
    #[test]
    fn two_row_header_with_group_header_and_x_marks() {
        let templates = load_templates(Path::new("/nonexistent")).expect("templates");
        let mut g = grid(vec![
            vec![t("DANH SÁCH KẾT QUẢ ĐÀO TẠO, BỒI DƯỠNG NĂM 2024")],
            vec![
                t("STT"),
                t("Họ và tên"),
                t("Tên lớp"),
                t("Nội dung"),
                t("Hình thức"),
                Cell::Empty,
                t("Thời gian"),
                Cell::Empty,
                t("Giới tính"),
                Cell::Empty,
            ],
            vec![
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                t("Tập trung"),
                t("Trực tuyến"),
                t("Từ ngày"),
                t("Đến ngày"),
                t("Nam"),
                t("Nữ"),
            ],
            vec![
                Cell::Number(1.0),
                t("Lò Văn Pọm"),
                t("Bồi dưỡng CĐS"),
                t("Chuyển đổi số"),
                Cell::Empty,
                t("x"),
                t("01/03/2024"),
                t("05/03/2024"),
                t("x"),
            ],
            vec![
                Cell::Number(2.0),
                t("Quàng Thị Ả"),
                t("Bồi dưỡng QLNN"),
                t("Quản lý nhà nước"),
                t("X"),
                Cell::Empty,
                t("10/04/2024"),
                t("01/04/2024"),
                Cell::Empty,
                t("x"),
            ],
            vec![
                Cell::Number(3.0),
                t("Tòng Văn Ún"),
                t("Tiếng Anh"),
                t("Ngoại ngữ"),
                t("x"),
                t("x"),
            ],
        ]);
        g.merges = vec![
            Merge {
                first_row: 1,
                first_col: 0,
                last_row: 2,
                last_col: 0,
            },
            Merge {
                first_row: 1,
                first_col: 1,
                last_row: 2,
                last_col: 1,
            },
            Merge {
                first_row: 1,
                first_col: 4,
                last_row: 1,
                last_col: 5,
            },
            Merge {
                first_row: 1,
                first_col: 6,
                last_row: 1,
                last_col: 7,
            },
            Merge {
                first_row: 1,
                first_col: 8,
                last_row: 1,
                last_col: 9,
            },
        ];
        let out = normalise_sheet(&g, &templates, CTX);
        assert_eq!(out.template.as_deref(), Some("training"), "{out:#?}");
        assert_eq!(out.header_row, Some(3));
        assert_eq!(
            out.unknown_columns,
            ["Giới tính / Nam", "Giới tính / Nữ"],
            "training has no gender"
        );
        let training = templates
            .iter()
            .find(|t| t.name == "training")
            .expect("training");
        let mode = training.field_index("mode").expect("mode");
        let start = training.field_index("start_date").expect("start");
        assert_eq!(out.rows.len(), 1, "{:#?}", out.rejects);
        assert_eq!(out.rows[0].values[mode], Value::Enum("online".into()));
        assert_eq!(
            out.rows[0].values[start],
            Value::Date(chrono::NaiveDate::from_ymd_opt(2024, 3, 1).expect("date"))
        );
        assert_eq!(out.rejected_rows, 2);
        assert_eq!(out.rejects[0].cell, "H5", "end before start");
        assert_eq!(out.rejects[1].cell, "F6", "two marks in one group");
        assert_eq!(out.rejects[1].column, "Hình thức");
        assert!(out.is_balanced());
    }

    #[test]
    fn merges_learnt_after_the_rows_are_checked_against_the_header_found() {
        let templates = load_templates(Path::new("/nonexistent")).expect("templates");
        let ctx = SheetContext {
            department_level: "province",
            today: TODAY,
        };
        let rows = vec![
            vec![t("KẾT QUẢ ĐÀO TẠO NĂM 2025"), Cell::Empty, Cell::Empty],
            vec![],
            vec![
                t("STT"),
                t("Họ và tên"),
                Cell::Empty,
                t("Tên khóa học"),
                t("Nội dung bồi dưỡng"),
            ],
            vec![
                Cell::Number(1.0),
                t("Lò Văn A"),
                Cell::Empty,
                t("Tin học cơ bản"),
                t("Tin học"),
            ],
        ];
        let mut normaliser = SheetNormaliser::new("Sheet1", &templates, ctx, 0);
        let mut loaded = 0;
        for (r, cells) in rows.into_iter().enumerate() {
            normaliser.push(r as u32, cells, &mut |_, _| loaded += 1);
        }
        assert!(
            normaliser.template().is_none(),
            "undecided within the first rows"
        );
        // A row far below makes it decide, without merges.
        let far = vec![
            Cell::Number(2.0),
            t("Lò Thị B"),
            Cell::Empty,
            t("Tin học cơ bản"),
            t("Tin học"),
        ];
        normaliser.push(60, far, &mut |_, _| loaded += 1);
        assert_eq!(
            normaliser.template().map(|t| t.name.as_str()),
            Some("training")
        );
        assert_eq!(loaded, 2);
        let merge = |first_row, first_col, last_row, last_col| Merge {
            first_row,
            first_col,
            last_row,
            last_col,
        };
        // A merged title changes nothing; "Họ và tên" merged over two columns
        // would have read a second name column (listed as unknown).
        assert!(normaliser.header_holds(&[merge(0, 0, 0, 4)]));
        assert!(!normaliser.header_holds(&[merge(2, 1, 2, 2)]));
        assert!(normaliser.header_holds(&[]));
    }

    #[test]
    fn a_totals_row_that_disagrees_is_a_warning() {
        let templates = load_templates(Path::new("/nonexistent")).expect("templates");
        let g = grid(vec![
            vec![t("KẾ HOẠCH ĐÀO TẠO NĂM 2025")],
            vec![
                t("STT"),
                t("Nội dung"),
                t("Chỉ tiêu"),
                t("Kinh phí dự kiến"),
            ],
            vec![
                Cell::Number(1.0),
                t("Chuyên môn, nghiệp vụ"),
                Cell::Number(100.0),
                t("1.500.000"),
            ],
            vec![
                Cell::Number(2.0),
                t("Tin học"),
                Cell::Number(20.0),
                Cell::Number(500000.0),
            ],
            vec![
                Cell::Empty,
                t("Tổng cộng"),
                Cell::Number(125.0),
                Cell::Number(2000000.0),
            ],
        ]);
        let out = normalise_sheet(&g, &templates, CTX);
        assert_eq!(out.template.as_deref(), Some("plan"));
        assert_eq!(out.rows.len(), 2);
        assert_eq!(out.skips.totals, 1);
        assert_eq!(out.warnings.len(), 1, "{:#?}", out.warnings);
        assert_eq!(out.warnings[0].cell, "C5");
        assert!(
            out.warnings[0].message_en.contains("says 125")
                && out.warnings[0].message_en.contains("add up to 120")
        );
        assert!(out.is_balanced());
    }
    #[test]
    fn random_grids_never_panic_and_always_balance() {
        let templates = load_templates(Path::new("/nonexistent")).expect("templates");
        // xorshift: reproducible, no dependency.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut matched = 0;
        for _ in 0..1000 {
            let len = (next() % 600) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| (next() & 0xff) as u8).collect();
            let grid = grid_from_bytes(&bytes);
            let out = normalise_sheet(&grid, &templates, CTX);
            assert!(out.is_balanced(), "{out:#?}");
            assert!(out.rejects.len() >= out.rejected_rows);
            matched += usize::from(out.template.is_some());
        }
        assert!(
            matched > 50,
            "the vocabulary reaches matched sheets: {matched}"
        );
    }

    fn staff_templates() -> Vec<Template> {
        load_templates(Path::new("/nonexistent")).expect("templates")
    }

    fn field(templates: &[Template], template: &str, name: &str) -> usize {
        templates
            .iter()
            .find(|t| t.name == template)
            .and_then(|t| t.field_index(name))
            .expect("field")
    }

    fn class_of(out: &SheetOutcome, excel_row: u32) -> Option<RowClass> {
        out.row_spans
            .iter()
            .find(|s| (s.first_row..=s.last_row).contains(&excel_row))
            .map(|s| s.class)
    }

    fn merge(first_row: u32, first_col: u32, last_row: u32, last_col: u32) -> Merge {
        Merge {
            first_row,
            first_col,
            last_row,
            last_col,
        }
    }

    #[test]
    fn a_note_with_a_date_in_a_row_is_data_and_the_people_below_are_too() {
        let templates = staff_templates();
        let mut rows = vec![vec![
            t("STT"),
            t("Họ và tên"),
            t("Mã định danh"),
            t("Ghi chú"),
        ]];
        let people = [
            ("Nguyễn Văn An", "001", ""),
            (
                "Trần Thị Bình",
                "002",
                "Nghỉ hưu từ ngày 01 tháng 7 năm 2026",
            ),
            ("Lê Văn Cường", "003", ""),
            (
                "Phạm Thị Dung",
                "004",
                "Chuyển công tác ngày 5 tháng 3 năm 2025",
            ),
        ];
        for (i, (name, id, note)) in people.iter().enumerate() {
            rows.push(vec![Cell::Number(i as f64 + 1.0), t(name), t(id), t(note)]);
        }
        rows.push(vec![]);
        rows.push(vec![Cell::Empty, t("Điện Biên, ngày 15 tháng 01 năm 2026")]);
        rows.push(vec![
            Cell::Empty,
            t("NGƯỜI TỔNG HỢP"),
            Cell::Empty,
            t("KT. CHỦ TỊCH"),
        ]);
        rows.push(vec![
            Cell::Empty,
            t("Kế toán"),
            Cell::Empty,
            t("PHÓ CHỦ TỊCH"),
        ]);
        rows.push(vec![
            Cell::Empty,
            t("Hoàng Văn Em"),
            Cell::Empty,
            t("Lò Văn Phóng"),
        ]);
        let out = normalise_sheet(&grid(rows), &templates, CTX);
        assert_eq!(out.loaded, 4, "{:#?}", out.rejects);
        assert_eq!(out.skips.signature, 4);
        assert_eq!(out.rejected_rows, 0);
        assert!(out.is_balanced());
        assert_eq!(
            out.skipped_rows(),
            [SkippedRows {
                kind: SkipKind::Signature,
                first_row: 7,
                last_row: 10
            }]
        );
    }

    #[test]
    fn names_that_start_like_a_letter_or_a_roman_numeral_are_people() {
        let templates = staff_templates();
        let mut rows = vec![vec![t("STT"), t("Họ và tên"), t("Mã định danh")]];
        let names = [
            "Y Bhiông Êban",
            "H'Linh Mlô",
            "A Thút",
            "Vi Thị Mai",
            "I Văn Lý",
            "X Thị Nga",
        ];
        for (i, name) in names.iter().enumerate() {
            rows.push(vec![Cell::Empty, t(name), t(&format!("00{i}"))]);
        }
        rows.push(vec![t("II"), t("Khối chính quyền")]);
        rows.push(vec![Cell::Empty, t("B. KHỐI ĐOÀN THỂ")]);
        let out = normalise_sheet(&grid(rows), &templates, CTX);
        assert_eq!(out.loaded, 6, "{:#?}", out.row_spans);
        assert_eq!(out.skips.sections, 2);
        let name = field(&templates, "staff", "full_name");
        assert_eq!(
            out.rows[0].values[name],
            Value::Text("Y Bhiông Êban".into())
        );
    }

    #[test]
    fn a_name_alone_is_rejected_not_skipped() {
        let templates = staff_templates();
        let rows = vec![
            vec![t("STT"), t("Họ và tên"), t("Mã định danh")],
            vec![Cell::Number(1.0), t("A Thút"), t("001")],
            vec![Cell::Number(2.0), t("Vi Thị Mai")],
            vec![Cell::Number(3.0), t("Cộng Thị Hà")],
            vec![Cell::Empty, t("Tổng Văn Cộng")],
            vec![Cell::Number(5.0), t("Y Bhiông Êban"), t("005")],
        ];
        let out = normalise_sheet(&grid(rows), &templates, CTX);
        assert_eq!(
            (out.loaded, out.rejected_rows, out.skips.total()),
            (2, 3, 0),
            "{:#?}",
            out.row_spans
        );
        assert_eq!(out.rejects[0].cell, "C3");
    }

    #[test]
    fn three_row_header_with_x_marks_at_the_leaves() {
        let templates = staff_templates();
        let e = || Cell::Empty;
        let mut g = grid(vec![
            vec![t("STT"), t("Họ và tên"), t("Mã định danh"), t("Trình độ")],
            vec![
                e(),
                e(),
                e(),
                t("Chuyên môn"),
                e(),
                e(),
                t("Lý luận chính trị"),
                e(),
            ],
            vec![
                e(),
                e(),
                e(),
                t("Đại học"),
                t("Thạc sĩ"),
                t("Tiến sĩ"),
                t("Cao cấp"),
                t("Trung cấp"),
            ],
            vec![
                Cell::Number(1.0),
                t("Lò Văn A"),
                t("001"),
                e(),
                t("x"),
                e(),
                t("x"),
            ],
            vec![
                Cell::Number(2.0),
                t("Lò Văn B"),
                t("002"),
                t("x"),
                e(),
                e(),
                e(),
                t("x"),
            ],
            vec![Cell::Number(3.0), t("Lò Văn C"), t("003")],
        ]);
        g.merges = vec![
            merge(0, 0, 2, 0),
            merge(0, 1, 2, 1),
            merge(0, 2, 2, 2),
            merge(0, 3, 0, 7),
            merge(1, 3, 1, 5),
            merge(1, 6, 1, 7),
        ];
        let out = normalise_sheet(&g, &templates, CTX);
        assert_eq!(out.header_row, Some(3), "{:#?}", out.columns);
        assert_eq!(out.loaded, 3, "{:#?}", out.rejects);
        let q = field(&templates, "staff", "qualification");
        let p = field(&templates, "staff", "political_theory");
        let enumv = |s: &str| Value::Enum(s.into());
        let got: Vec<(Value, Value)> = out
            .rows
            .iter()
            .map(|r| (r.values[q].clone(), r.values[p].clone()))
            .collect();
        assert_eq!(
            got,
            [
                (enumv("master"), enumv("advanced")),
                (enumv("university"), enumv("intermediate")),
                (enumv("none"), enumv("none")),
            ]
        );
        assert!(out.unknown_columns.is_empty(), "{:?}", out.unknown_columns);
    }

    #[test]
    fn a_field_whose_column_is_not_found_is_null_not_its_blank_value() {
        let templates = staff_templates();
        let rows = vec![
            vec![t("Họ và tên"), t("Mã định danh"), t("Chứng chỉ tin học")],
            vec![t("Lò Văn A"), t("001")],
        ];
        let out = normalise_sheet(&grid(rows), &templates, CTX);
        assert_eq!(out.loaded, 1);
        for name in [
            "qualification",
            "political_theory",
            "gender",
            "birth_date",
            "digital_role",
        ] {
            let f = field(&templates, "staff", name);
            assert_eq!(out.rows[0].values[f], Value::Null, "{name}");
            assert!(out.fields_not_found.iter().any(|n| n == name), "{name}");
        }
        let level = field(&templates, "staff", "level");
        assert_eq!(out.rows[0].values[level], Value::Enum("district".into()));
    }

    #[test]
    fn a_lone_female_column_a_birth_date_by_gender_and_a_split_name() {
        let templates = staff_templates();
        let lone = vec![
            vec![t("Họ và tên"), t("Mã định danh"), t("Nữ")],
            vec![t("Lò Văn A"), t("001")],
            vec![t("Lò Thị B"), t("002"), t("x")],
        ];
        let out = normalise_sheet(&grid(lone), &templates, CTX);
        let gender = field(&templates, "staff", "gender");
        let got: Vec<&Value> = out.rows.iter().map(|r| &r.values[gender]).collect();
        assert_eq!(
            got,
            [&Value::Enum("male".into()), &Value::Enum("female".into())]
        );

        let mut by_gender = grid(vec![
            vec![
                t("Họ và tên đệm"),
                t("Tên"),
                t("Mã định danh"),
                t("Ngày tháng năm sinh"),
                Cell::Empty,
            ],
            vec![Cell::Empty, Cell::Empty, Cell::Empty, t("Nam"), t("Nữ")],
            vec![t("Lò Văn"), t("An"), t("001"), t("02/03/1980")],
            vec![
                t("Cà Thị"),
                t("Bình"),
                t("002"),
                Cell::Empty,
                t("04/05/1990"),
            ],
        ]);
        by_gender.merges = vec![merge(0, 3, 0, 4), merge(0, 0, 1, 0), merge(0, 1, 1, 1)];
        let out = normalise_sheet(&by_gender, &templates, CTX);
        assert_eq!(out.loaded, 2, "{:#?} {:#?}", out.rejects, out.columns);
        let name = field(&templates, "staff", "full_name");
        let birth = field(&templates, "staff", "birth_date");
        let date = |y, m, d| Value::Date(chrono::NaiveDate::from_ymd_opt(y, m, d).expect("date"));
        assert_eq!(out.rows[0].values[name], Value::Text("Lò Văn An".into()));
        assert_eq!(out.rows[1].values[name], Value::Text("Cà Thị Bình".into()));
        assert_eq!(out.rows[0].values[birth], date(1980, 3, 2));
        assert_eq!(out.rows[1].values[birth], date(1990, 5, 4));
        assert_eq!(out.rows[0].values[gender], Value::Enum("male".into()));
        assert_eq!(out.rows[1].values[gender], Value::Enum("female".into()));
    }

    #[test]
    fn a_value_under_a_vertical_merge_belongs_to_every_row() {
        let templates = staff_templates();
        let mut rows = vec![vec![t("Họ và tên"), t("Mã định danh"), t("Đơn vị")]];
        for i in 0..5 {
            let unit = if i == 0 {
                t("Phòng Nội vụ")
            } else {
                Cell::Empty
            };
            rows.push(vec![t(&format!("Người {i}")), t(&format!("00{i}")), unit]);
        }
        rows.push(vec![t("Người 5"), t("005"), t("Văn phòng")]);
        rows.push(vec![]);
        let mut g = grid(rows);
        // Over the five people and one empty line below them.
        g.merges = vec![merge(1, 2, 5, 2), merge(8, 2, 9, 2)];
        g.rows.push(vec![t("Người 6"), t("006"), t("Ban Tổ chức")]);
        g.rows.push(vec![t("Người 7"), t("007")]);
        let out = normalise_sheet(&g, &templates, CTX);
        let unit = field(&templates, "staff", "unit");
        let got: Vec<&Value> = out.rows.iter().map(|r| &r.values[unit]).collect();
        assert_eq!(got.len(), 8, "{:#?}", out.row_spans);
        let text = |s: &str| Value::Text(s.into());
        assert!(
            got[..5].iter().all(|v| **v == text("Phòng Nội vụ")),
            "{got:?}"
        );
        assert_eq!(got[5], &text("Văn phòng"));
        assert_eq!(got[6], &text("Ban Tổ chức"));
        assert_eq!(got[7], &text("Ban Tổ chức"));
    }

    #[test]
    fn a_second_table_below_is_not_read_as_people() {
        let templates = staff_templates();
        let rows = vec![
            vec![t("STT"), t("Họ và tên"), t("Mã định danh")],
            vec![Cell::Number(1.0), t("Lò Văn A"), t("001")],
            vec![Cell::Number(2.0), t("Lò Văn B"), t("002")],
            vec![],
            vec![Cell::Empty, t("TỔNG HỢP THEO TRÌNH ĐỘ")],
            vec![t("Trình độ"), t("Số lượng")],
            vec![t("Tiến sĩ"), Cell::Number(1.0)],
            vec![t("Thạc sĩ"), Cell::Number(1.0)],
            vec![],
            vec![Cell::Empty, t("Người lập biểu")],
            vec![Cell::Empty, t("Lò Thị Hoa")],
        ];
        let out = normalise_sheet(&grid(rows), &templates, CTX);
        assert_eq!(out.loaded, 2, "{:#?}", out.row_spans);
        assert_eq!(out.rejected_rows, 0, "{:#?}", out.rejects);
        assert!(out.rejects.is_empty());
        assert_eq!((out.skips.unmatched, out.skips.signature), (4, 2));
        assert_eq!(
            out.skipped_rows(),
            [
                SkippedRows {
                    kind: SkipKind::Unmatched,
                    first_row: 5,
                    last_row: 8
                },
                SkippedRows {
                    kind: SkipKind::Signature,
                    first_row: 10,
                    last_row: 11
                }
            ]
        );
        assert!(out.is_balanced());
    }

    #[test]
    fn the_same_person_twice_is_rejected_naming_the_first_row() {
        let templates = staff_templates();
        let rows = vec![
            vec![t("Họ và tên"), t("Mã định danh")],
            vec![t("Lò Văn A"), t("001")],
            vec![t("Lò Văn B"), t("002")],
            vec![t("Lò Văn A"), t("001")],
            vec![t("Lò Văn C"), t("002")],
        ];
        let out = normalise_sheet(&grid(rows), &templates, CTX);
        assert_eq!((out.loaded, out.rejected_rows), (2, 2));
        assert!(
            out.rejects[0].reason_vi.contains("dòng 2"),
            "{:?}",
            out.rejects[0]
        );
        assert!(
            out.rejects[1].reason_en.contains("row 3 (Lò Văn B)"),
            "{:?}",
            out.rejects[1]
        );
    }

    #[test]
    fn a_person_on_two_sheets_of_one_roster_is_rejected_on_the_second() {
        let templates = staff_templates();
        let read = |name: &str, rows: Vec<Vec<Cell>>, keys: SeenKeys| {
            let mut normaliser = SheetNormaliser::new(name, &templates, CTX, 0);
            normaliser.carry_keys(keys);
            for (r, cells) in rows.into_iter().enumerate() {
                normaliser.push(r as u32, cells, &mut |_, _| {});
            }
            normaliser.finish_with_keys(&mut |_, _| {})
        };
        let header = vec![t("Họ và tên"), t("Mã định danh")];
        let (first, keys) = read(
            "Phòng A",
            vec![header.clone(), vec![t("Lò Văn A"), t("001")]],
            SeenKeys::default(),
        );
        assert_eq!(first.loaded, 1);
        let (second, _) = read(
            "Phòng B",
            vec![
                header,
                vec![t("Lò Văn B"), t("002")],
                vec![t("Lò Văn A"), t("001")],
            ],
            keys,
        );
        assert_eq!((second.loaded, second.rejected_rows), (1, 1));
        assert!(
            second.rejects[0]
                .reason_vi
                .contains("dòng 2 của trang \"Phòng A\" (Lò Văn A)"),
            "{:?}",
            second.rejects[0]
        );
        // A sheet refused whole gives its people back.
        let mut keys = SeenKeys::default();
        let (_, mut after) = read(
            "Cũ",
            vec![
                vec![t("Họ và tên"), t("Mã định danh")],
                vec![t("Lò Văn A"), t("001")],
            ],
            std::mem::take(&mut keys),
        );
        after.forget_sheet("Cũ");
        let (again, _) = read(
            "Mới",
            vec![
                vec![t("Họ và tên"), t("Mã định danh")],
                vec![t("Lò Văn A"), t("001")],
            ],
            after,
        );
        assert_eq!(again.loaded, 1);
    }

    #[test]
    fn subtotals_per_section_and_a_totals_row_first_are_right() {
        let templates = staff_templates();
        let plan = |rows: Vec<Vec<Cell>>| {
            let mut all = vec![vec![t("STT"), t("Nội dung"), t("Chỉ tiêu")]];
            all.extend(rows);
            grid(all)
        };
        let g = plan(vec![
            vec![t("A"), t("B"), t("1")],
            vec![t("I"), t("Cấp tỉnh")],
            vec![Cell::Number(1.0), t("Chuyên môn"), Cell::Number(10.0)],
            vec![Cell::Number(2.0), t("Tin học"), Cell::Number(5.0)],
            vec![Cell::Empty, t("Cộng"), Cell::Number(15.0)],
            vec![t("II"), t("Cấp huyện")],
            vec![Cell::Number(1.0), t("Ngoại ngữ"), Cell::Number(7.0)],
            vec![Cell::Empty, t("Cộng"), Cell::Number(7.0)],
            vec![Cell::Empty, t("Tổng cộng"), Cell::Number(22.0)],
        ]);
        let out = normalise_sheet(&g, &templates, CTX);
        assert_eq!(out.template.as_deref(), Some("plan"));
        assert_eq!(out.loaded, 3, "{:#?}", out.rejects);
        let s = out.skips;
        assert_eq!(
            (s.subtotals, s.totals, s.sections, s.column_numbers),
            (2, 1, 2, 1)
        );
        assert!(out.warnings.is_empty(), "{:#?}", out.warnings);

        let first = plan(vec![
            vec![t("A"), t("B"), t("1")],
            vec![Cell::Empty, t("Tổng cộng"), Cell::Number(15.0)],
            vec![Cell::Number(1.0), t("Chuyên môn"), Cell::Number(10.0)],
            vec![Cell::Number(2.0), t("Tin học"), Cell::Number(5.0)],
        ]);
        let out = normalise_sheet(&first, &templates, CTX);
        assert!(out.warnings.is_empty(), "{:#?}", out.warnings);
        let wrong = plan(vec![
            vec![Cell::Empty, t("Tổng cộng"), Cell::Number(16.0)],
            vec![Cell::Number(1.0), t("Chuyên môn"), Cell::Number(10.0)],
            vec![Cell::Number(2.0), t("Tin học"), Cell::Number(5.0)],
        ]);
        let out = normalise_sheet(&wrong, &templates, CTX);
        assert_eq!(out.warnings.len(), 1, "a wrong total is still told");
    }

    #[test]
    fn noise_rows_are_skips_of_their_own_kind() {
        let templates = staff_templates();
        let header = vec![t("STT"), t("Họ và tên"), t("Mã định danh")];
        let rows = vec![
            header.clone(),
            vec![t("(1)"), t("(2)"), t("(3)")],
            vec![t("Ghi chú: danh sách tính đến hết năm")],
            vec![Cell::Number(1.0), t("Lò Văn A"), t("001")],
            vec![Cell::Number(2.0)],
            vec![Cell::Number(3.0)],
            header.clone(),
            vec![t("(1)"), t("(2)"), t("(3)")],
            vec![Cell::Number(4.0), t("Lò Văn B"), t("002")],
            vec![t("(*) Số liệu do phòng Nội vụ cung cấp")],
            vec![Cell::Empty, t("Người lập biểu"), t("Thủ trưởng đơn vị")],
            vec![
                Cell::Empty,
                t("(Ký, ghi rõ họ tên)"),
                t("(Ký tên, đóng dấu)"),
            ],
        ];
        let out = normalise_sheet(&grid(rows), &templates, CTX);
        assert_eq!(out.loaded, 2, "{:#?}", out.row_spans);
        assert_eq!(out.rejected_rows, 0, "{:#?}", out.rejects);
        let s = out.skips;
        assert_eq!(
            (
                s.column_numbers,
                s.notes,
                s.empty_numbered,
                s.repeated_header,
                s.signature
            ),
            (1, 2, 2, 2, 2),
            "{:#?}",
            out.row_spans
        );
        assert_eq!(
            class_of(&out, 5),
            Some(RowClass::Skipped {
                kind: SkipKind::EmptyNumbered
            })
        );
    }

    /// Values a real data row holds: none of them is a label of a non-data row.
    const NAMES: &[&str] = &[
        "Y Bhiông Êban",
        "H'Linh Mlô",
        "A Thút",
        "Vi Thị Mai",
        "Lò Văn Pọm",
        "NGUYỄN VĂN AN",
        "Tổng Văn Cộng",
        "Cộng Thị Hà",
        "I Văn Lý",
        "Giàng A Dế",
        "Kế Văn Toán",
        "Ngày Thị Tháng",
        "Lưu Văn Ghi",
        "Chu Thị Thích",
    ];
    const NOTES: &[&str] = &[
        "",
        "Nghỉ hưu từ ngày 01 tháng 7 năm 2026",
        "Người lập biểu",
        "Tổng cộng",
        "II",
        "Ghi chú",
        "KT. CHỦ TỊCH",
        "(*) chuyển đến",
    ];

    /// Acceptance 2 of issue 13: over generated rosters (random columns in a
    /// random order, people with and without an ID or a name, notes that look
    /// like labels), a row holding a person's ID or name is never skipped, and
    /// a field with no column is null in every stored row.
    #[test]
    fn property_no_row_with_a_real_required_value_is_skipped_and_unfound_fields_are_null() {
        let templates = staff_templates();
        let staff = templates.iter().find(|t| t.name == "staff").expect("staff");
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let optional: &[(&str, &str)] = &[
            ("birth_date", "Ngày sinh"),
            ("gender", "Giới tính"),
            ("unit", "Đơn vị"),
            ("position", "Chức vụ"),
            ("qualification", "Trình độ chuyên môn"),
            ("digital_role", "Chuyển đổi số"),
        ];
        let mut checked = 0;
        for case in 0..400 {
            let mut columns: Vec<(&str, &str)> = vec![
                ("person_id", "Mã định danh"),
                ("full_name", "Họ và tên"),
                ("note", "Ghi chú"),
            ];
            if next(2) == 0 {
                columns.push(("stt", "STT"));
            }
            for col in optional {
                if next(2) == 0 {
                    columns.push(*col);
                }
            }
            for i in (1..columns.len()).rev() {
                let j = next(i as u64 + 1) as usize;
                columns.swap(i, j);
            }
            let mut rows = vec![columns.iter().map(|(_, h)| t(h)).collect::<Vec<_>>()];
            let mut real = Vec::new();
            let n = 3 + next(25);
            for i in 0..n {
                let noise = next(5) == 0;
                let with_id = next(4) != 0;
                let with_name = next(4) != 0;
                let row: Vec<Cell> = columns
                    .iter()
                    .map(|(f, _)| match *f {
                        "stt" => Cell::Number(i as f64 + 1.0),
                        "person_id" if !noise && with_id => t(&format!("{:012}", next(1_000_000))),
                        "full_name" if !noise && with_name => {
                            t(NAMES[next(NAMES.len() as u64) as usize])
                        }
                        "note" => t(NOTES[next(NOTES.len() as u64) as usize]),
                        "birth_date" if !noise => t("15/03/1985"),
                        "gender" if !noise => t("Nữ"),
                        "unit" if !noise => t("Phòng Nội vụ"),
                        _ => Cell::Empty,
                    })
                    .collect();
                real.push(!noise && (with_id || with_name));
                rows.push(row);
            }
            let shown: Vec<String> = rows.iter().map(|r| format!("{r:?}")).collect();
            let out = normalise_sheet(&grid(rows), &templates, CTX);
            assert_eq!(out.template.as_deref(), Some("staff"), "case {case}");
            assert!(out.is_balanced(), "case {case}");
            for (i, is_real) in real.iter().enumerate() {
                let excel_row = i as u32 + 2;
                if *is_real {
                    checked += 1;
                    let class = class_of(&out, excel_row);
                    assert!(
                        matches!(class, Some(RowClass::Data | RowClass::Rejected)),
                        "case {case}: row {excel_row} holds a person but was {class:?}\n{}",
                        shown.join("\n")
                    );
                }
            }
            for (f, field) in staff.fields.iter().enumerate() {
                let found = columns.iter().any(|(name, _)| *name == field.name);
                if !found && field.name != "level" {
                    assert!(
                        out.rows.iter().all(|r| r.values[f] == Value::Null),
                        "case {case}: {} has no column but got a value",
                        field.name
                    );
                }
            }
        }
        assert!(checked > 3000, "{checked} rows checked");
    }
}
