//! Finding the header of a sheet and matching its columns to a template's
//! fields: one to four header rows, group headers over leaves, folded text.

use rustc_hash::FxHashMap as HashMap;

use std::collections::BTreeMap;

use crate::model::rows::{ColumnReading, ColumnUse};
use crate::model::template::{Field, FieldType, Template};
use crate::model::text::{column_letters, fold};
use crate::model::value::Cell;

use super::HEADER_SEARCH_ROWS;
use super::grid::{Grid, Merge};

/// Where a field's value is in the sheet.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Mapping {
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
    pub(super) fn header(&self) -> &str {
        match self {
            Mapping::Column { header, .. }
            | Mapping::Marks { header, .. }
            | Mapping::InMarkedColumn { header, .. }
            | Mapping::Joined { header, .. } => header,
        }
    }

    pub(super) fn first_col(&self) -> usize {
        self.cols().next().unwrap_or(0)
    }

    pub(super) fn cols(&self) -> Box<dyn Iterator<Item = usize> + '_> {
        match self {
            Mapping::Column { col, .. } => Box::new(std::iter::once(*col)),
            Mapping::Marks { columns, .. } | Mapping::InMarkedColumn { columns, .. } => {
                Box::new(columns.iter().map(|(c, _)| *c))
            }
            Mapping::Joined { parts, .. } => Box::new(parts.iter().map(|(_, c)| *c)),
        }
    }
}

pub(super) struct HeaderMatch<'t> {
    pub(super) template: &'t Template,
    /// The first header row (grid index).
    pub(super) row: usize,
    /// Header rows: 1 for a flat header, more for groups over sub-headers.
    pub(super) height: usize,
    /// Field index → where its value is.
    pub(super) columns: Vec<Option<Mapping>>,
    pub(super) unknown: Vec<String>,
    /// Each column's header path and use, for `inspect`.
    pub(super) readings: Vec<ColumnReading>,
    /// Column → the field it feeds, for reading every row's class quickly.
    pub(super) field_by_col: Vec<Option<usize>>,
    /// The row-number (STT) columns.
    pub(super) row_number_cols: Vec<usize>,
    /// Each header column's folded leaf text, to recognise the header
    /// repeated on a new printed page.
    pub(super) folded_leaves: Vec<(usize, String)>,
    /// Columns mapped: the better header maps more of them.
    score: usize,
}

const ROW_NUMBER_HEADERS: &[&str] = &["stt", "tt", "so thu tu", "so tt", "no"];

/// The most header rows read: a group over a group over the leaves, and one more.
const MAX_HEADER_ROWS: usize = 4;

impl HeaderMatch<'_> {
    pub(super) fn same_as(&self, other: &HeaderMatch<'_>) -> bool {
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

pub(super) fn find_header<'t>(grid: &Grid, templates: &'t [Template]) -> Option<HeaderMatch<'t>> {
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
                .chain(
                    t.fields
                        .iter()
                        .filter(|f| f.derived.is_none())
                        .flat_map(Field::folded_value_texts),
                )
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
        .filter(|(_, f)| f.kind == FieldType::Enum && f.derived.is_none())
        .filter_map(|(i, f)| f.enum_value(text).map(|v| (i, v.to_string())));
    let first = found.next()?;
    found.next().is_none().then_some(first)
}

pub(super) fn field_by_col(columns: &[Option<Mapping>]) -> Vec<Option<usize>> {
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
