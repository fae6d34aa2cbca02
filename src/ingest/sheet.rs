//! The sheet normaliser: a grid of cells in, typed rows, rejects and counted
//! skips out. Pure: no I/O, so it is tested and fuzzed on in-memory grids.

use std::sync::LazyLock;

use regex::Regex;
use rustc_hash::FxHashMap as HashMap;

use super::template::{BlankValue, Field, FieldType, Template};
use super::text::{cell_address, clean, fold};
use super::value::{self, Cell, Problem, Value};

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

#[derive(Debug, Clone, PartialEq)]
pub struct ParsedRow {
    /// The Excel row number, 1-based.
    pub source_row: u32,
    /// One value per template field, in the template's order.
    pub values: Vec<Value>,
}

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

#[derive(Debug, Clone, Default)]
pub struct SheetOutcome {
    pub sheet: String,
    /// The template the header matched; `None` for a sheet that matched none.
    pub template: Option<String>,
    /// The header's Excel row number (1-based).
    pub header_row: Option<u32>,
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
    /// Things worth telling the department that did not reject a row, such as
    /// a totals row that does not match the sum of the rows above it.
    pub warnings: Vec<SheetWarning>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SheetWarning {
    pub source_row: u32,
    pub cell: String,
    pub message_vi: String,
    pub message_en: String,
}

impl SheetOutcome {
    /// The accounting identity every sheet must satisfy.
    pub fn is_balanced(&self) -> bool {
        self.data_rows == self.loaded + self.rejected_rows + self.skips.total()
    }
}

/// Where a field's value is in the sheet.
#[derive(Debug, Clone, PartialEq)]
enum Mapping {
    /// One column, with its header as written.
    Column { col: usize, header: String },
    /// x-mark columns: a group header ("Giới tính") over one column per value
    /// ("Nam", "Nữ"); the marked column gives the value.
    Marks {
        header: String,
        columns: Vec<(usize, String)>,
    },
}

impl Mapping {
    fn header(&self) -> &str {
        match self {
            Mapping::Column { header, .. } | Mapping::Marks { header, .. } => header,
        }
    }

    fn first_col(&self) -> usize {
        match self {
            Mapping::Column { col, .. } => *col,
            Mapping::Marks { columns, .. } => columns.first().map_or(0, |(c, _)| *c),
        }
    }
}

struct HeaderMatch<'t> {
    template: &'t Template,
    /// The first header row (grid index).
    row: usize,
    /// 1, or 2 for a group header over sub-headers.
    height: usize,
    /// Field index → where its value is.
    columns: Vec<Option<Mapping>>,
    unknown: Vec<String>,
    /// Columns mapped: the better header maps more of them.
    score: usize,
}

/// Normalises one sheet held whole against the templates: finds the header,
/// maps the columns, converts every data row or rejects it with reasons.
/// The rows come back in the outcome.
pub fn normalise_sheet(grid: &Grid, templates: &[Template], ctx: SheetContext<'_>) -> SheetOutcome {
    let mut normaliser = SheetNormaliser::new(&grid.name, templates, ctx, grid.origin_col);
    normaliser.merges = grid.merges.clone();
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
/// found; after that each data row is converted and handed on as it comes.
///
/// Merged regions only matter for finding the header. Where they are known
/// only after the rows (xlsx stores them after the cells), the header is
/// found without them and [`SheetNormaliser::header_holds`] tells, once they
/// are known, whether they would have found another one.
pub struct SheetNormaliser<'t> {
    name: String,
    templates: &'t [Template],
    ctx: SheetContext<'t>,
    origin_col: u32,
    /// Merged regions in sheet coordinates relative to `origin_col`.
    pub merges: Vec<Merge>,
    /// The first rows, (0-based sheet row, cells), until the header is decided.
    head: Vec<(u32, Vec<Cell>)>,
    first_row: Option<u32>,
    decided: Option<Option<Reading<'t>>>,
    outcome: SheetOutcome,
}

/// What is known once the header is found.
struct Reading<'t> {
    header: HeaderMatch<'t>,
    /// The header's first row as a 0-based sheet row.
    header_row: u32,
    in_signature: bool,
    first_data_row: bool,
    totals: RunningTotals,
    enums: EnumValues<'t>,
}

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
        }
    }

    /// The template the header matched, once the header is decided.
    pub fn template(&self) -> Option<&'t Template> {
        self.decided
            .as_ref()
            .and_then(|d| d.as_ref().map(|r| r.header.template))
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
        self.take_row(row, &cells, out);
    }

    /// Ends the sheet: decides the header if the sheet was short, and returns
    /// the accounting (rows loaded, rejected, skipped), rejects and warnings.
    pub fn finish(mut self, out: &mut dyn FnMut(&'t Template, ParsedRow)) -> SheetOutcome {
        if self.decided.is_none() {
            self.decide(out);
        }
        self.outcome
    }

    /// Whether `merges` would find the header this normaliser found without them.
    pub fn header_holds(&self, merges: &[Merge]) -> bool {
        let mut grid = self.head_grid();
        grid.merges = merges.to_vec();
        let with_merges = find_header(&grid, self.templates);
        let found = self.decided.as_ref().and_then(Option::as_ref);
        match (with_merges, found) {
            (None, None) => true,
            (Some(a), Some(b)) => a.same_as(&b.header),
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
        grid.merges = std::mem::take(&mut self.merges);
        let header = find_header(&grid, self.templates);
        self.merges = std::mem::take(&mut grid.merges);
        let head = std::mem::take(&mut self.head);
        match header {
            None => {
                self.outcome.title_lines =
                    texts_of_rows(&grid, 0..grid.rows.len().min(HEADER_SEARCH_ROWS));
                self.decided = Some(None);
                for (row, cells) in &head {
                    self.take_row(*row, cells, out);
                }
            }
            Some(header) => {
                let header_row = grid.origin_row + header.row as u32;
                let data_from = header_row + header.height as u32;
                self.outcome.template = Some(header.template.name.clone());
                self.outcome.header_row = Some(data_from);
                self.outcome.title_lines = texts_of_rows(&grid, 0..header.row);
                self.outcome.unknown_columns = header.unknown.clone();
                let totals = RunningTotals::new(header.template);
                self.decided = Some(Some(Reading {
                    header,
                    header_row,
                    in_signature: false,
                    first_data_row: true,
                    totals,
                    enums: EnumValues::default(),
                }));
                for (row, cells) in &head {
                    if *row >= data_from {
                        self.take_row(*row, cells, out);
                    }
                }
            }
        }
        // Kept for `header_holds`: a few dozen rows at most.
        self.head = head;
    }

    fn take_row(&mut self, row: u32, cells: &[Cell], out: &mut dyn FnMut(&'t Template, ParsedRow)) {
        if cells.iter().all(Cell::is_blank) {
            return;
        }
        let outcome = &mut self.outcome;
        let Some(Some(reading)) = &mut self.decided else {
            outcome.data_rows += 1;
            outcome.skips.unmatched += 1;
            return;
        };
        if row < reading.header_row + reading.header.height as u32 {
            return;
        }
        let at = RowAt {
            sheet: &self.name,
            row,
            origin_col: self.origin_col,
            cells,
        };
        outcome.data_rows += 1;
        if reading.first_data_row && is_column_number_row(cells) {
            reading.first_data_row = false;
            outcome.skips.column_numbers += 1;
            return;
        }
        reading.first_data_row = false;
        if reading.in_signature || is_signature_row(cells) {
            reading.in_signature = true;
            outcome.skips.signature += 1;
            return;
        }
        if is_totals_row(cells) {
            outcome.skips.totals += 1;
            reading
                .totals
                .check(&at, &reading.header, &mut outcome.warnings);
            return;
        }
        if is_section_row(cells) {
            outcome.skips.sections += 1;
            return;
        }
        reading.totals.add(&at, &reading.header);
        match parse_row(&at, &reading.header, self.ctx, &mut reading.enums) {
            Ok(values) => {
                outcome.loaded += 1;
                out(
                    reading.header.template,
                    ParsedRow {
                        source_row: at.excel_row(),
                        values,
                    },
                );
            }
            Err(rejects) => {
                outcome.rejected_rows += 1;
                outcome.rejects.extend(rejects);
            }
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

const ROW_NUMBER_HEADERS: &[&str] = &["stt", "tt", "so thu tu", "no"];

impl HeaderMatch<'_> {
    fn same_as(&self, other: &HeaderMatch<'_>) -> bool {
        self.template.name == other.template.name
            && (self.row, self.height) == (other.row, other.height)
            && self.columns == other.columns
            && self.unknown == other.unknown
    }
}

/// Header candidates are matched against every template, one and two rows
/// high: each text is folded once per search.
#[derive(Default)]
struct FoldMemo(HashMap<String, String>);

impl FoldMemo {
    fn fold(&mut self, text: &str) -> &str {
        if !self.0.contains_key(text) {
            self.0.insert(text.to_string(), fold(text));
        }
        &self.0[text]
    }
}

fn find_header<'t>(grid: &Grid, templates: &'t [Template]) -> Option<HeaderMatch<'t>> {
    let mut best: Option<HeaderMatch<'t>> = None;
    let mut folds = FoldMemo::default();
    let searched = grid.rows.len().min(HEADER_SEARCH_ROWS);
    // Each row's header texts, once: row r is the top of one candidate and
    // the sub-header of another, for every template.
    let texts: Vec<Vec<Option<String>>> = (0..grid.rows.len().min(searched + 1))
        .map(|r| (0..grid.width(r)).map(|c| grid.header_text(r, c)).collect())
        .collect();
    let known: rustc_hash::FxHashSet<&str> = templates
        .iter()
        .flat_map(Template::folded_header_texts)
        .collect();
    for r in 0..searched {
        let top = &texts[r];
        if top.iter().flatten().count() < 2 {
            continue;
        }
        for template in templates {
            for height in [1, 2] {
                let sub = match height {
                    2 => match texts.get(r + 1) {
                        Some(sub) if r + 1 < grid.rows.len() => Some(sub.as_slice()),
                        _ => continue,
                    },
                    _ => None,
                };
                let reading = HeaderReading { row: r, top, sub };
                if !could_map_two(&reading, &mut folds, &known) {
                    continue;
                }
                let candidate = match_header(template, &reading, &mut folds, false);
                let complete = template
                    .fields
                    .iter()
                    .zip(&candidate.columns)
                    .all(|(f, c)| !f.required || c.is_some());
                if !complete || candidate.score < 2 {
                    continue;
                }
                // Strictly better only: on a tie the earlier row and the
                // single-row reading win, so a first data row is never taken
                // for a sub-header.
                if best.as_ref().is_none_or(|b| candidate.score > b.score) {
                    // Described (unknown columns listed) only when it leads.
                    best = Some(match_header(template, &reading, &mut folds, true));
                }
            }
        }
    }
    best
}

/// Whether any template could map two columns of a candidate header: every
/// mapping needs a text (the column's own, its sub-header, the two joined,
/// or a group header to its left) that some template knows. This rules out
/// data rows before they are matched template by template.
fn could_map_two(
    reading: &HeaderReading<'_>,
    folds: &mut FoldMemo,
    known: &rustc_hash::FxHashSet<&str>,
) -> bool {
    let width = reading.top.len().max(reading.sub.map_or(0, <[_]>::len));
    let mut known_top_seen = false;
    let mut possible = 0;
    for c in 0..width {
        let top = reading.top.get(c).and_then(Option::as_deref);
        let sub = reading
            .sub
            .and_then(|sub| sub.get(c))
            .and_then(Option::as_deref);
        let top_folded = top.map(|t| folds.fold(t).to_string());
        let sub_folded = sub.map(|s| folds.fold(s).to_string());
        let top_known = top_folded.as_deref().is_some_and(|t| known.contains(t));
        known_top_seen |= top_known;
        let sub_known = sub_folded.as_deref().is_some_and(|s| known.contains(s));
        let joined_known = match (top_folded.as_deref(), sub_folded.as_deref()) {
            (Some(t), Some(s)) => {
                let joined = match (t.is_empty(), s.is_empty()) {
                    (true, _) => s.to_string(),
                    (_, true) => t.to_string(),
                    _ => format!("{t} {s}"),
                };
                known.contains(joined.as_str())
            }
            _ => false,
        };
        let under_group = top.is_none() && sub.is_some() && known_top_seen;
        if top_known || sub_known || joined_known || under_group {
            possible += 1;
            if possible >= 2 {
                return true;
            }
        }
    }
    false
}

/// A candidate header: its first row's texts and, for a two-row header, the
/// texts of the row under it.
struct HeaderReading<'a> {
    row: usize,
    top: &'a [Option<String>],
    sub: Option<&'a [Option<String>]>,
}

/// Maps a candidate header's columns to the template's fields. `describe`
/// also lists the columns that map to nothing, which only the chosen
/// header needs.
fn match_header<'t>(
    template: &'t Template,
    reading: &HeaderReading<'_>,
    folds: &mut FoldMemo,
    describe: bool,
) -> HeaderMatch<'t> {
    let top = reading.top;
    let width = top.len().max(reading.sub.map_or(0, <[_]>::len));
    let mut columns: Vec<Option<Mapping>> = vec![None; template.fields.len()];
    let mut unknown = Vec::new();
    let mut score = 0;
    // The group header of the x-mark columns being read: formats without merge
    // information (ODS, xlsb) leave the top cells right of it blank.
    let mut group: Option<String> = None;
    for c in 0..width {
        let own_top = top.get(c).cloned().flatten();
        if own_top.is_some() {
            group = None;
        }
        let top_text = own_top.or_else(|| group.clone());
        let sub_text = reading
            .sub
            .and_then(|sub| sub.get(c).cloned().flatten())
            .filter(|sub| Some(sub) != top_text.as_ref());
        let (field, mapping) = match (&top_text, &sub_text) {
            (_, Some(sub)) => {
                let combined = top_text.as_ref().map(|t| format!("{t} {sub}"));
                if let Some(f) = template.field_for_folded_header(folds.fold(sub)) {
                    (
                        Some(f),
                        Mapping::Column {
                            col: c,
                            header: sub.clone(),
                        },
                    )
                } else if let Some(f) = combined
                    .as_deref()
                    .and_then(|t| template.field_for_folded_header(folds.fold(t)))
                {
                    (
                        Some(f),
                        Mapping::Column {
                            col: c,
                            header: combined.unwrap_or_default(),
                        },
                    )
                } else if let Some((f, value)) = top_text.as_deref().and_then(|t| {
                    let f = template.field_for_folded_header(folds.fold(t))?;
                    let value = template.fields[f].enum_value(sub)?;
                    Some((f, value.to_string()))
                }) {
                    let header = top_text.clone().unwrap_or_default();
                    group = top_text.clone();
                    (
                        Some(f),
                        Mapping::Marks {
                            header,
                            columns: vec![(c, value)],
                        },
                    )
                } else {
                    (
                        None,
                        Mapping::Column {
                            col: c,
                            header: sub.clone(),
                        },
                    )
                }
            }
            (Some(text), None) => match template.field_for_folded_header(folds.fold(text)) {
                Some(f) => (
                    Some(f),
                    Mapping::Column {
                        col: c,
                        header: text.clone(),
                    },
                ),
                None => (
                    None,
                    Mapping::Column {
                        col: c,
                        header: text.clone(),
                    },
                ),
            },
            (None, None) => continue,
        };
        let accepted = match (field, &mut columns) {
            (Some(f), columns) => match (&mut columns[f], mapping) {
                (slot @ None, mapping) => {
                    *slot = Some(mapping);
                    true
                }
                (
                    Some(Mapping::Marks {
                        columns: marks,
                        header,
                    }),
                    Mapping::Marks {
                        header: h,
                        columns: more,
                    },
                ) if *header == h => {
                    marks.extend(more);
                    true
                }
                _ => false,
            },
            (None, _) => false,
        };
        if accepted {
            score += 1;
        } else if describe {
            let header = match (&top_text, &sub_text) {
                (Some(t), Some(s)) => format!("{t} / {s}"),
                (Some(t), None) => t.clone(),
                (None, Some(s)) => s.clone(),
                (None, None) => String::new(),
            };
            // A merged group header repeats over its columns: list it once.
            if !ROW_NUMBER_HEADERS.contains(&fold(&header).as_str()) && !unknown.contains(&header) {
                unknown.push(header);
            }
        }
    }
    HeaderMatch {
        template,
        row: reading.row,
        height: if reading.sub.is_some() { 2 } else { 1 },
        columns,
        unknown,
        score,
    }
}

static ROMAN_OR_LETTER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:[ivxl]+|[a-z])(?: |$)").expect("static regex"));

/// "(1) (2) (3) …" or "1 2 3 …" under the header.
fn is_column_number_row(row: &[Cell]) -> bool {
    let cells: Vec<&Cell> = row.iter().filter(|c| !c.is_blank()).collect();
    cells.len() >= 2
        && cells.iter().all(|c| match c {
            Cell::Number(n) => n.fract() == 0.0 && *n >= 0.0 && *n < 1000.0,
            Cell::Text(t) => {
                let f = fold(t);
                !f.is_empty() && f.len() <= 3 && f.chars().all(|ch| ch.is_ascii_digit())
            }
            _ => false,
        })
}

fn is_signature_row(row: &[Cell]) -> bool {
    const STARTS: &[&str] = &[
        "nguoi lap",
        "thu truong",
        "noi nhan",
        "xac nhan cua",
        "ky ten",
        "ky ghi ro ho ten",
    ];
    // Only text can say who signs or when; numbers and dates are skipped
    // unfolded, as every data row passes through here.
    row.iter().filter_map(Cell::text).any(|text| {
        let t = fold(text);
        STARTS.iter().any(|s| t.starts_with(s))
            || (t.contains("ngay ") && t.contains(" thang ") && t.contains(" nam "))
    })
}

fn is_totals_row(row: &[Cell]) -> bool {
    const TOTALS: &[&str] = &[
        "tong cong",
        "cong",
        "tong so",
        "tong",
        "tong cong toan tinh",
    ];
    // The label is the first thing in the row; a row starting with a number
    // (its STT) is data.
    row.iter()
        .find(|c| !c.is_blank())
        .and_then(Cell::text)
        .is_some_and(|first| TOTALS.contains(&fold(first).as_str()))
}

fn is_section_row(row: &[Cell]) -> bool {
    let mut non_blank = row.iter().filter(|c| !c.is_blank());
    let (Some(first), second, None) = (non_blank.next(), non_blank.next(), non_blank.next()) else {
        return false;
    };
    let is_figure = |c: &Cell| matches!(c, Cell::Number(_) | Cell::Date(_));
    !is_figure(first)
        && !second.is_some_and(is_figure)
        && ROMAN_OR_LETTER.is_match(&fold(&first.display()))
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
            value: cell.display(),
            reason_vi: problem.vi,
            reason_en: problem.en,
        });
    };
    for (index, field) in template.fields.iter().enumerate() {
        let (c, cell) = match &header.columns[index] {
            None => {
                values.push(blank_value(field.kind, &field.blank, ctx));
                continue;
            }
            Some(Mapping::Marks { columns, .. }) => {
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
                    [] => values.push(blank_value(field.kind, &field.blank, ctx)),
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
            Some(Mapping::Column { col, .. }) => (col, at.cell(*col)),
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
                reject(index, *c, cell, Problem::missing());
                values.push(Value::Null);
            }
            Ok(v) => values.push(v),
            Err(problem) => {
                reject(index, *c, cell, problem);
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
        let value = field.enum_value(text);
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
        Cell::Text(t) => !matches!(fold(t).as_str(), "" | "0" | "khong" | "no"),
        Cell::Date(_) | Cell::Error(_) | Cell::Uncomputed { .. } => true,
        Cell::Empty => false,
    }
}

/// Sums of the integer columns since the last totals row, to check the next one.
struct RunningTotals {
    fields: Vec<usize>,
    sums: Vec<i64>,
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
        let sums = vec![0; fields.len()];
        RunningTotals { fields, sums }
    }

    /// Adds a data row's figures as written, rejected or not: a totals row
    /// sums what the department typed, and a reject elsewhere in the row must
    /// not make the totals look wrong.
    fn add(&mut self, at: &RowAt<'_>, header: &HeaderMatch<'_>) {
        for (sum, &field) in self.sums.iter_mut().zip(&self.fields) {
            let Some(Mapping::Column { col, .. }) = &header.columns[field] else {
                continue;
            };
            if let Ok(Some(n)) = value::as_integer(at.cell(*col)) {
                *sum = sum.saturating_add(n);
            }
        }
    }

    /// Compares a totals row with the rows above it; a mismatch is a warning, not a reject.
    fn check(
        &mut self,
        at: &RowAt<'_>,
        header: &HeaderMatch<'_>,
        warnings: &mut Vec<SheetWarning>,
    ) {
        for (sum, &field) in self.sums.iter().zip(&self.fields) {
            let Some(Mapping::Column { col, header: name }) = &header.columns[field] else {
                continue;
            };
            let Ok(Some(stated)) = value::as_integer(at.cell(*col)) else {
                continue;
            };
            if stated != *sum {
                warnings.push(SheetWarning {
                    source_row: at.excel_row(),
                    cell: at.address(*col),
                    message_vi: format!("Dòng tổng cộng ghi {stated} ở cột \"{name}\" nhưng tổng các dòng phía trên là {sum}"),
                    message_en: format!("The totals row says {stated} in column \"{name}\" but the rows above add up to {sum}"),
                });
            }
        }
        self.sums.iter_mut().for_each(|s| *s = 0);
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
    use crate::ingest::template::load_templates;
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
            super::super::period::from_title(&out.title_lines).map(|p| p.to_string()),
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
}
