//! A table engine: records (the truth) rendered by columns (the office's
//! habits) into a sheet with its title block, header of any depth, noise
//! rows and signature block, and the truth of that sheet.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::book::{Cell, Sheet, address, t};
use super::{Kind, Rejected, SheetTruth, Stored, V, Why, absent_value, blank_value, table_fields};

/// One line of the table as a careful officer reads it: the canonical value
/// of each field it holds (absent = blank cell).
#[derive(Debug, Clone, Default)]
pub struct Rec {
    pub v: BTreeMap<&'static str, V>,
    /// Free text for the notes column.
    pub note: Option<String>,
    /// The cells a careful officer would reject, with what the reason names.
    pub bad: Vec<(&'static str, Why)>,
    /// Cells written otherwise than the column's renderer would (by field).
    pub raw: BTreeMap<&'static str, Cell>,
    /// Index (among the table's records) of an earlier record this one
    /// duplicates: the later is rejected, naming the earlier's row.
    pub duplicate_of: Option<usize>,
    /// Stored with its values or rejected at this field's cell, either honest.
    pub either: Option<(&'static str, Why)>,
}

pub fn rec() -> Rec {
    Rec::default()
}

/// A staff record with its two required fields.
pub fn person(id: &str, name: &str) -> Rec {
    rec().s("person_id", id).s("full_name", name)
}

impl Rec {
    pub fn s(mut self, field: &'static str, value: &str) -> Rec {
        self.v.insert(field, V::s(value));
        self
    }
    pub fn i(mut self, field: &'static str, value: i64) -> Rec {
        self.v.insert(field, V::I(value));
        self
    }
    pub fn b(mut self, field: &'static str, value: bool) -> Rec {
        self.v.insert(field, V::B(value));
        self
    }
    pub fn d(mut self, field: &'static str, y: i32, m: u32, d: u32) -> Rec {
        self.v.insert(field, V::D(y, m, d));
        self
    }
    pub fn born(self, y: i32, m: u32, d: u32) -> Rec {
        self.d("birth_date", y, m, d)
    }
    pub fn male(self) -> Rec {
        self.s("gender", "male")
    }
    pub fn female(self) -> Rec {
        self.s("gender", "female")
    }
    pub fn note(mut self, text: &str) -> Rec {
        self.note = Some(text.to_string());
        self
    }
    pub fn bad(mut self, field: &'static str, why: Why) -> Rec {
        self.bad.push((field, why));
        self
    }
    pub fn raw(mut self, field: &'static str, cell: Cell) -> Rec {
        self.raw.insert(field, cell);
        self
    }
    pub fn either(mut self, field: &'static str, why: Why) -> Rec {
        self.either = Some((field, why));
        self
    }
    pub fn dup_of(mut self, index: usize) -> Rec {
        self.duplicate_of = Some(index);
        self
    }
    fn text(&self, field: &str) -> Option<&str> {
        match self.v.get(field) {
            Some(V::S(s)) => Some(s),
            _ => None,
        }
    }
}

type Render = Rc<dyn Fn(&Rec, usize) -> Option<Cell>>;

/// A column: its header path (group › … › leaf), the fields it establishes
/// (found when the column is there) and how a record is written in it.
#[derive(Clone)]
pub struct Col {
    pub path: Vec<String>,
    pub fields: Vec<&'static str>,
    pub render: Render,
    /// What the column-number row says under it.
    pub number: Option<String>,
}

impl Col {
    fn new(path: &[&str], fields: &[&'static str], render: Render) -> Col {
        Col {
            path: path.iter().map(|s| s.to_string()).collect(),
            fields: fields.to_vec(),
            render,
            number: None,
        }
    }
}

fn ymd(v: Option<&V>) -> Option<(i32, u32, u32)> {
    match v {
        Some(V::D(y, m, d)) => Some((*y, *m, *d)),
        _ => None,
    }
}

/// The STT (row number) column.
pub fn stt(header: &str) -> Col {
    Col::new(
        &[header],
        &[],
        Rc::new(|_, i| Some(Cell::N((i + 1) as f64))),
    )
}

/// A text field written as is.
pub fn text(path: &[&str], field: &'static str) -> Col {
    Col::new(
        path,
        &[field],
        Rc::new(move |r, _| match r.v.get(field) {
            Some(V::S(s)) => Some(t(s.clone())),
            Some(V::I(n)) => Some(Cell::N(*n as f64)),
            _ => None,
        }),
    )
}

/// A text field written by a function of the record's text (ALL CAPS, NFD…).
pub fn text_as(path: &[&str], field: &'static str, f: fn(&str) -> String) -> Col {
    Col::new(
        path,
        &[field],
        Rc::new(move |r, _| r.text(field).map(|s| t(f(s)))),
    )
}

/// How a date is written.
#[derive(Clone, Copy)]
pub enum DateAs {
    Cell,
    /// "15/03/1985"
    Slash,
    /// "15/3/1985"
    SlashShort,
    /// "15.03.1985"
    Dot,
    /// "15-03-1985"
    Dash,
    /// "1985-03-15"
    Iso,
}

pub fn date_text(how: DateAs, (y, m, d): (i32, u32, u32)) -> Cell {
    match how {
        DateAs::Cell => Cell::D(y, m, d),
        DateAs::Slash => t(format!("{d:02}/{m:02}/{y}")),
        DateAs::SlashShort => t(format!("{d}/{m}/{y}")),
        DateAs::Dot => t(format!("{d:02}.{m:02}.{y}")),
        DateAs::Dash => t(format!("{d:02}-{m:02}-{y}")),
        DateAs::Iso => t(format!("{y}-{m:02}-{d:02}")),
    }
}

pub fn date(path: &[&str], field: &'static str, how: DateAs) -> Col {
    Col::new(
        path,
        &[field],
        Rc::new(move |r, _| ymd(r.v.get(field)).map(|d| date_text(how, d))),
    )
}

/// An enumeration written with the office's spelling of each canonical value.
pub fn spelled(
    path: &[&str],
    field: &'static str,
    spelling: &[(&'static str, &'static str)],
) -> Col {
    let spelling = spelling.to_vec();
    Col::new(
        path,
        &[field],
        Rc::new(move |r, _| {
            let value = r.text(field)?;
            let written = spelling
                .iter()
                .find(|(canonical, _)| *canonical == value)
                .map(|(_, w)| *w)
                .unwrap_or(value);
            Some(t(written))
        }),
    )
}

/// An integer field, written by `f` (a number, "1.500.000", …).
pub fn int(path: &[&str], field: &'static str) -> Col {
    int_as(path, field, |n| Cell::N(n as f64))
}

pub fn int_as(path: &[&str], field: &'static str, f: fn(i64) -> Cell) -> Col {
    Col::new(
        path,
        &[field],
        Rc::new(move |r, _| match r.v.get(field) {
            Some(V::I(n)) => Some(f(*n)),
            _ => None,
        }),
    )
}

/// A bool field: `yes` written when true, blank when false.
pub fn flag(path: &[&str], field: &'static str, yes: &'static str) -> Col {
    Col::new(
        path,
        &[field],
        Rc::new(move |r, _| matches!(r.v.get(field), Some(V::B(true))).then(|| t(yes))),
    )
}

/// x-mark columns: one per value, under a group; `mark(i)` is what the office
/// writes in the chosen one for the i-th record.
pub fn marks(
    group: &[&str],
    field: &'static str,
    leaves: &[(&str, &'static str)],
    mark: fn(usize) -> Cell,
) -> Vec<Col> {
    leaves
        .iter()
        .map(|&(leaf, canonical)| {
            let mut path = group.to_vec();
            path.push(leaf);
            Col::new(
                &path,
                &[field],
                Rc::new(move |r, i| (r.text(field) == Some(canonical)).then(|| mark(i))),
            )
        })
        .collect()
}

pub fn x(_: usize) -> Cell {
    t("x")
}

/// A single "Nữ" column: marked = female, blank = male.
pub fn female_only(header: &str, mark: fn(usize) -> Cell) -> Col {
    Col::new(
        &[header],
        &["gender"],
        Rc::new(move |r, i| (r.text("gender") == Some("female")).then(|| mark(i))),
    )
}

/// "Ngày tháng năm sinh" over "Nam" / "Nữ": the date in the gender's column.
pub fn birth_by_gender(group: &str, how: DateAs) -> Vec<Col> {
    [("Nam", "male"), ("Nữ", "female")]
        .into_iter()
        .map(|(leaf, gender)| {
            Col::new(
                &[group, leaf],
                &["birth_date", "gender"],
                Rc::new(move |r, _| {
                    if r.text("gender") == Some(gender) {
                        ymd(r.v.get("birth_date")).map(|d| date_text(how, d))
                    } else {
                        None
                    }
                }),
            )
        })
        .collect()
}

/// "Họ và tên đệm" + "Tên": the name split before its last word.
pub fn split_name(first: &[&str], last: &[&str]) -> Vec<Col> {
    let head = Col::new(
        first,
        &["full_name"],
        Rc::new(|r, _| {
            let name = r.text("full_name")?;
            name.rsplit_once(' ').map(|(h, _)| t(h))
        }),
    );
    let tail = Col::new(
        last,
        &["full_name"],
        Rc::new(|r, _| {
            let name = r.text("full_name")?;
            Some(t(name.rsplit_once(' ').map(|(_, l)| l).unwrap_or(name)))
        }),
    );
    vec![head, tail]
}

/// The notes column ("Ghi chú").
pub fn notes(header: &str) -> Col {
    Col::new(&[header], &[], Rc::new(|r, _| r.note.clone().map(t)))
}

/// A column no template knows (ignored by the reader, listed in its report).
pub fn extra(path: &[&str], f: fn(&Rec, usize) -> Option<Cell>) -> Col {
    Col::new(path, &[], Rc::new(f))
}

/// What the column-number row under the header says.
#[derive(Clone, Copy, PartialEq)]
pub enum Numbers {
    None,
    /// "(1) (2) (3)…"
    Paren,
    /// "1 2 3…"
    Plain,
    /// "A B 1 2 3…": letters for the first two columns.
    Letters,
}

/// A line of the table body.
#[derive(Clone)]
pub enum Item {
    R(Rec),
    /// A section row: (STT cell, label in the first text column), or merged.
    Section(Option<String>, String),
    SectionMerged(String),
    /// "Cộng" under a section, with the section's sums.
    Sub(String),
    /// "Tổng cộng" with the sums of every record.
    Total(String),
    /// The header repeated at a printed page, with its number row.
    RepeatHeader,
    /// An STT and nothing else.
    SttOnly(u32),
    Blank,
    /// A footnote or remark across the table.
    Note(String),
    /// Anything else, with its kind.
    Raw(Vec<(u16, Cell)>, Kind),
}

/// A table of one template on one sheet.
pub struct Table {
    pub table: &'static str,
    pub department_level: &'static str,
    pub cols: Vec<Col>,
    /// First column of the table (0 = A).
    pub left: u16,
    /// Title rows above the header, each at `left` (merged across the table
    /// when `merge_title`).
    pub title: Vec<String>,
    pub merge_title: bool,
    /// Blank rows between the title and the header.
    pub gap: u32,
    /// First row of the title (1-based).
    pub top: u32,
    pub numbers: Numbers,
    pub items: Vec<Item>,
    /// Rows after the table: (column offset, text) per row; empty = blank row.
    pub signature: Vec<Vec<(u16, String)>>,
    /// Integer fields summed on subtotal/total rows.
    pub sums: Vec<&'static str>,
    /// Column (offset) where a section/subtotal/total label is written.
    pub label_col: u16,
    /// Vertical merges of a field's column over these record-index ranges
    /// (first, last inclusive): the value written once at the top.
    pub vmerge: Vec<(&'static str, usize, usize)>,
}

pub fn table(table: &'static str, department_level: &'static str, cols: Vec<Col>) -> Table {
    Table {
        table,
        department_level,
        cols,
        left: 0,
        title: Vec::new(),
        merge_title: false,
        gap: 1,
        top: 1,
        numbers: Numbers::None,
        items: Vec::new(),
        signature: Vec::new(),
        sums: Vec::new(),
        label_col: 1,
        vmerge: Vec::new(),
    }
}

/// The usual signature block: place and date, the two signers, their names.
pub fn signature_block(width: u16) -> Vec<Vec<(u16, String)>> {
    let right = width.saturating_sub(3).max(2);
    vec![
        vec![],
        vec![(right, "Điện Biên, ngày 12 tháng 01 năm 2026".to_string())],
        vec![
            (1, "NGƯỜI LẬP BIỂU".to_string()),
            (right, "THỦ TRƯỞNG ĐƠN VỊ".to_string()),
        ],
        vec![(right, "(Ký tên, đóng dấu)".to_string())],
        vec![],
        vec![],
        vec![
            (1, "Lò Thị Hương".to_string()),
            (right, "Nguyễn Văn Thắng".to_string()),
        ],
    ]
}

pub struct Written {
    pub truth: SheetTruth,
    /// Excel row of each record, in order.
    pub rows: Vec<u32>,
    /// The first header row and the column-number row (if any).
    pub header_row: u32,
}

impl Table {
    fn depth(&self) -> usize {
        self.cols.iter().map(|c| c.path.len()).max().unwrap_or(1)
    }

    /// Writes the header rows from `row`; returns the number of rows written.
    fn write_header(&self, sheet: &mut Sheet, row: u32) -> u32 {
        let depth = self.depth();
        for (i, col) in self.cols.iter().enumerate() {
            let c = self.left + i as u16;
            for level in 0..col.path.len() {
                // A group label spans the adjacent columns with the same path prefix.
                let same = |other: &Col| {
                    other.path.len() > level && other.path[..=level] == col.path[..=level]
                };
                if i > 0 && same(&self.cols[i - 1]) {
                    continue;
                }
                let span = self.cols[i..].iter().take_while(|o| same(o)).count() as u16;
                let r = row + level as u32;
                sheet.text(r, c, &col.path[level]);
                let last_row = if level + 1 == col.path.len() {
                    row + depth as u32 - 1
                } else {
                    r
                };
                sheet.merge(r, c, last_row, c + span - 1);
            }
        }
        depth as u32
    }

    fn write_numbers(&self, sheet: &mut Sheet, row: u32) -> bool {
        if self.numbers == Numbers::None {
            return false;
        }
        for (i, col) in self.cols.iter().enumerate() {
            let c = self.left + i as u16;
            let label = col.number.clone().unwrap_or_else(|| match self.numbers {
                Numbers::Paren => format!("({})", i + 1),
                Numbers::Plain => format!("{}", i + 1),
                Numbers::Letters if i < 2 => ["A", "B"][i].to_string(),
                Numbers::Letters => format!("{}", i - 1),
                Numbers::None => String::new(),
            });
            if self.numbers == Numbers::Plain && col.number.is_none() {
                sheet.set(row, c, Cell::N((i + 1) as f64));
            } else {
                sheet.text(row, c, &label);
            }
        }
        true
    }

    /// The column (absolute) holding a field's value for this record.
    fn column_of(&self, field: &str, r: &Rec, index: usize) -> Option<u16> {
        self.cols
            .iter()
            .enumerate()
            .filter(|(_, c)| c.fields.first() == Some(&field) || c.fields.contains(&field))
            .find(|(_, c)| r.raw.contains_key(field) || (c.render)(r, index).is_some())
            .or_else(|| {
                self.cols
                    .iter()
                    .enumerate()
                    .find(|(_, c)| c.fields.contains(&field))
            })
            .map(|(i, _)| self.left + i as u16)
    }

    fn found(&self) -> Vec<&'static str> {
        self.cols
            .iter()
            .flat_map(|c| c.fields.iter().copied())
            .collect()
    }

    /// The stored values of a record: every field of the table.
    pub fn truth_of(&self, r: &Rec) -> BTreeMap<&'static str, V> {
        let found = self.found();
        table_fields(self.table)
            .iter()
            .map(|&f| {
                let value = if found.contains(&f) {
                    match r.v.get(f) {
                        Some(v) => v.clone(),
                        None => blank_value(self.table, f, self.department_level),
                    }
                } else {
                    absent_value(self.table, f, self.department_level)
                };
                (f, value)
            })
            .collect()
    }

    fn sums_of<'a>(&self, recs: impl Iterator<Item = &'a Rec>) -> BTreeMap<&'static str, i64> {
        let mut sums: BTreeMap<&'static str, i64> = self.sums.iter().map(|&f| (f, 0)).collect();
        for r in recs {
            for (&f, sum) in sums.iter_mut() {
                if let Some(V::I(n)) = r.v.get(f) {
                    *sum += n;
                }
            }
        }
        sums
    }

    fn write_sums(&self, sheet: &mut Sheet, row: u32, sums: &BTreeMap<&'static str, i64>) {
        for (i, col) in self.cols.iter().enumerate() {
            if let Some(f) = col.fields.first()
                && let Some(sum) = sums.get(f)
            {
                sheet.set(row, self.left + i as u16, Cell::N(*sum as f64));
            }
        }
    }

    /// Renders the table into `sheet` and returns its truth.
    pub fn write(&self, sheet: &mut Sheet) -> Written {
        let width = self.cols.len() as u16;
        let mut truth = SheetTruth {
            sheet: sheet.name.clone(),
            table: Some(self.table),
            stored: Vec::new(),
            rejected: Vec::new(),
            skipped: Vec::new(),
            whole: None,
            either: Vec::new(),
            skipped_any: Vec::new(),
            allow_warnings: false,
        };
        let mut row = self.top;
        for title in &self.title {
            sheet.text(row, self.left, title);
            if self.merge_title {
                sheet.merge(row, self.left, row, self.left + width - 1);
            }
            row += 1;
        }
        row += self.gap;
        let header_row = row;
        row += self.write_header(sheet, row);
        if self.write_numbers(sheet, row) {
            truth.skipped.push((Kind::ColumnNumbers, row));
            row += 1;
        }
        let all: Vec<&Rec> = self
            .items
            .iter()
            .filter_map(|i| if let Item::R(r) = i { Some(r) } else { None })
            .collect();
        let mut index = 0usize;
        let mut section: Vec<&Rec> = Vec::new();
        let mut rows = Vec::new();
        for item in &self.items {
            match item {
                Item::R(r) => {
                    for (i, col) in self.cols.iter().enumerate() {
                        let c = self.left + i as u16;
                        let raw = col.fields.first().and_then(|f| r.raw.get(f));
                        let cell = match raw {
                            Some(cell) => Some(cell.clone()),
                            None => (col.render)(r, index),
                        };
                        if let Some(cell) = cell {
                            sheet.set(row, c, cell);
                        }
                    }
                    if let Some((field, why)) = &r.either {
                        truth.either.push((
                            Stored {
                                row,
                                values: self.truth_of(r),
                            },
                            Rejected {
                                row,
                                cell: self.column_of(field, r, index).map(|c| address(row, c)),
                                why: why.clone(),
                            },
                        ));
                    } else if r.bad.is_empty() && r.duplicate_of.is_none() {
                        truth.stored.push(Stored {
                            row,
                            values: self.truth_of(r),
                        });
                    }
                    for (field, why) in &r.bad {
                        truth.rejected.push(Rejected {
                            row,
                            cell: self.column_of(field, r, index).map(|c| address(row, c)),
                            why: why.clone(),
                        });
                    }
                    if let Some(earlier) = r.duplicate_of {
                        truth.rejected.push(Rejected {
                            row,
                            cell: None,
                            why: Why::MentionsRow(rows[earlier]),
                        });
                    }
                    rows.push(row);
                    section.push(r);
                    index += 1;
                    row += 1;
                }
                Item::Section(number, label) => {
                    if let Some(number) = number {
                        sheet.text(row, self.left, number);
                    }
                    sheet.text(row, self.left + self.label_col, label);
                    truth.skipped.push((Kind::Sections, row));
                    section.clear();
                    row += 1;
                }
                Item::SectionMerged(label) => {
                    sheet.text(row, self.left, label);
                    sheet.merge(row, self.left, row, self.left + width - 1);
                    truth.skipped.push((Kind::Sections, row));
                    section.clear();
                    row += 1;
                }
                Item::Sub(label) => {
                    sheet.text(row, self.left + self.label_col, label);
                    let sums = self.sums_of(section.iter().copied());
                    self.write_sums(sheet, row, &sums);
                    truth.skipped.push((Kind::Subtotals, row));
                    row += 1;
                }
                Item::Total(label) => {
                    sheet.text(row, self.left + self.label_col, label);
                    let sums = self.sums_of(all.iter().copied());
                    self.write_sums(sheet, row, &sums);
                    truth.skipped.push((Kind::Totals, row));
                    row += 1;
                }
                Item::RepeatHeader => {
                    let depth = self.write_header(sheet, row);
                    for k in 0..depth {
                        truth.skipped.push((Kind::RepeatedHeader, row + k));
                    }
                    row += depth;
                    if self.write_numbers(sheet, row) {
                        truth.skipped.push((Kind::RepeatedHeader, row));
                        row += 1;
                    }
                }
                Item::SttOnly(n) => {
                    sheet.set(row, self.left, Cell::N(*n as f64));
                    truth.skipped.push((Kind::EmptyNumbered, row));
                    row += 1;
                }
                Item::Blank => row += 1,
                Item::Note(text) => {
                    sheet.text(row, self.left, text);
                    sheet.merge(row, self.left, row, self.left + width - 1);
                    truth.skipped.push((Kind::Notes, row));
                    row += 1;
                }
                Item::Raw(cells, kind) => {
                    for (offset, cell) in cells {
                        sheet.set(row, self.left + offset, cell.clone());
                    }
                    truth.skipped.push((*kind, row));
                    row += 1;
                }
            }
        }
        for line in &self.signature {
            for (offset, text) in line {
                sheet.text(row, self.left + offset, text);
            }
            if !line.is_empty() {
                truth.skipped.push((Kind::Signature, row));
            }
            row += 1;
        }
        // Vertical merges of data cells: the value stays in the top cell only.
        for &(field, first, last) in &self.vmerge {
            let Some(i) = self
                .cols
                .iter()
                .position(|c| c.fields.first() == Some(&field))
            else {
                continue;
            };
            let c = self.left + i as u16;
            let (top, bottom) = (rows[first], rows[last]);
            for r in top + 1..=bottom {
                sheet.cells.remove(&(r, c));
            }
            sheet.merge(top, c, bottom, c);
        }
        Written {
            truth,
            rows,
            header_row,
        }
    }
}

/// The mark written in the i-th row by an office that mixes conventions.
pub fn mixed_mark(i: usize) -> Cell {
    match i % 4 {
        0 => t("x"),
        1 => t("X"),
        2 => t("✓"),
        _ => Cell::N(1.0),
    }
}

/// A tiny deterministic generator (fixed seed per style).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    pub fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[(self.next() as usize) % items.len()]
    }
    pub fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + (self.next() as u32) % (hi - lo + 1)
    }
}

/// A deterministic roster of `count` people (names, ids, birth dates,
/// gender, qualification), from `seed`.
pub fn people(seed: u64, count: usize, id_prefix: &str) -> Vec<Rec> {
    const FAMILY: [&str; 10] = [
        "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Lò", "Quàng", "Vừ", "Cà", "Lường",
    ];
    const MIDDLE_M: [&str; 5] = ["Văn", "Đức", "Minh", "Quang", "Thanh"];
    const MIDDLE_F: [&str; 5] = ["Thị", "Thu", "Ngọc", "Thanh", "Hồng"];
    const GIVEN_M: [&str; 8] = ["An", "Bình", "Cường", "Dũng", "Hải", "Khánh", "Long", "Sơn"];
    const GIVEN_F: [&str; 8] = ["Hoa", "Lan", "Mai", "Nga", "Phương", "Thảo", "Trang", "Yến"];
    const QUAL: [&str; 5] = [
        "university",
        "university",
        "master",
        "college",
        "intermediate",
    ];
    let mut g = Lcg(seed);
    (0..count)
        .map(|i| {
            let female = g.next().is_multiple_of(2);
            let name = if female {
                format!(
                    "{} {} {}",
                    g.pick(&FAMILY),
                    g.pick(&MIDDLE_F),
                    g.pick(&GIVEN_F)
                )
            } else {
                format!(
                    "{} {} {}",
                    g.pick(&FAMILY),
                    g.pick(&MIDDLE_M),
                    g.pick(&GIVEN_M)
                )
            };
            let id = format!("{id_prefix}{:06}", i + 1);
            let r = person(&id, &name)
                .born(g.range(1965, 2000) as i32, g.range(1, 12), g.range(1, 28))
                .s("qualification", g.pick(&QUAL[..]));
            if female { r.female() } else { r.male() }
        })
        .collect()
}
