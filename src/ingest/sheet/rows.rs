//! What a row under the header is when it is not data: a repeated header,
//! another table's header, a section, totals, a note, column numbers, a
//! signature block. Each is a skip of its own kind.

use std::sync::LazyLock;

use regex::Regex;

use crate::model::rows::SkipKind;
use crate::model::template::FieldType;
use crate::model::text::{clean, fold};
use crate::model::value::{self, Cell};

use super::header::HeaderMatch;

/// A signer's name written under a signature line: text only, in the
/// columns of the lines above, a few words without digits.
pub(super) fn is_name_under(cells: &[Cell], signature_cols: &[usize]) -> bool {
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
pub(super) fn has_required_value(cells: &[Cell], header: &HeaderMatch<'_>) -> bool {
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

/// The header written again on a new printed page: most of the header's
/// column texts, in their columns.
pub(super) fn is_repeated_header(cells: &[Cell], header: &HeaderMatch<'_>) -> bool {
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
pub(super) fn is_other_table_header(cells: &[Cell], header: &HeaderMatch<'_>) -> bool {
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
pub(super) fn label_kind(cells: &[Cell], header: &HeaderMatch<'_>) -> Option<SkipKind> {
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
pub(super) fn is_column_number_row(row: &[Cell]) -> bool {
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
pub(super) fn is_signature_row(row: &[Cell]) -> bool {
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
