//! A small workbook model (cells, merges, hidden sheets) written with
//! rust_xlsxwriter, byte for byte the same on every run.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, FormatAlign, Workbook};

/// A cell as an office writes it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    T(String),
    N(f64),
    /// A date cell (a serial with a date format), year, month, day.
    D(i32, u32, u32),
    /// A formula with its cached value, or without one (as scripts such as
    /// openpyxl save it: `<v></v>`).
    F(String, Option<f64>),
}

pub fn t(text: impl Into<String>) -> Cell {
    Cell::T(text.into())
}

pub fn n(value: f64) -> Cell {
    Cell::N(value)
}

/// A sheet: cells by (Excel row, 1-based; column, 0-based).
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    pub name: String,
    pub hidden: bool,
    pub cells: BTreeMap<(u32, u16), Cell>,
    /// (first row, first col, last row, last col), rows 1-based.
    pub merges: Vec<(u32, u16, u32, u16)>,
}

impl Sheet {
    pub fn new(name: &str) -> Sheet {
        Sheet {
            name: name.to_string(),
            ..Sheet::default()
        }
    }

    pub fn set(&mut self, row: u32, col: u16, cell: Cell) {
        self.cells.insert((row, col), cell);
    }

    pub fn text(&mut self, row: u32, col: u16, text: &str) {
        self.set(row, col, t(text));
    }

    /// Texts from `col` on, one per column; empty strings leave the cell blank.
    pub fn texts(&mut self, row: u32, col: u16, texts: &[&str]) {
        for (i, text) in texts.iter().enumerate() {
            if !text.is_empty() {
                self.text(row, col + i as u16, text);
            }
        }
    }

    /// Merges a range; the value is the one set at its top-left cell, and
    /// any other cell set inside it is dropped (as Excel does).
    pub fn merge(&mut self, r1: u32, c1: u16, r2: u32, c2: u16) {
        if r1 == r2 && c1 == c2 {
            return;
        }
        self.merges.push((r1, c1, r2, c2));
    }

    pub fn last_row(&self) -> u32 {
        self.cells.keys().map(|(r, _)| *r).max().unwrap_or(0)
    }
}

/// "A", "B", … "AA" for a 0-based column.
pub fn col_name(col: u16) -> String {
    let mut n = col as u32 + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        out.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

pub fn address(row: u32, col: u16) -> String {
    format!("{}{row}", col_name(col))
}

/// The xlsx bytes of these sheets (first sheet active).
pub fn xlsx(sheets: &[Sheet]) -> Vec<u8> {
    write_xlsx(sheets, false)
}

/// The xlsx bytes as Excel for Mac saves them with the 1904 date system:
/// `date1904="1"` in the workbook and every date a 1904 serial.
pub fn xlsx_1904(sheets: &[Sheet]) -> Vec<u8> {
    write_xlsx(sheets, true)
}

/// Days from 1904-01-01 (the 1904 system's day 0).
fn serial_1904(y: i32, m: u32, d: u32) -> f64 {
    let day = chrono::NaiveDate::from_ymd_opt(y, m, d).expect("valid date");
    let epoch = chrono::NaiveDate::from_ymd_opt(1904, 1, 1).expect("epoch");
    (day - epoch).num_days() as f64
}

fn write_xlsx(sheets: &[Sheet], date1904: bool) -> Vec<u8> {
    let mut workbook = Workbook::new();
    // A fixed creation time: the same style is the same bytes on every run.
    let created = ExcelDateTime::from_ymd(2026, 1, 12).expect("fixed date");
    workbook.set_properties(&DocProperties::new().set_creation_datetime(&created));
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let wrap = Format::new()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let mut uncached = false;
    for sheet in sheets {
        let ws = workbook.add_worksheet();
        ws.set_name(&sheet.name).expect("sheet name");
        if sheet.hidden {
            ws.set_hidden(true);
        }
        let inside_merge = |row: u32, col: u16| {
            sheet.merges.iter().any(|&(r1, c1, r2, c2)| {
                (r1..=r2).contains(&row) && (c1..=c2).contains(&col) && (row, col) != (r1, c1)
            })
        };
        for &(r1, c1, r2, c2) in &sheet.merges {
            ws.merge_range(r1 - 1, c1, r2 - 1, c2, "", &wrap)
                .expect("merge");
        }
        for (&(row, col), cell) in &sheet.cells {
            if inside_merge(row, col) {
                continue;
            }
            let r = row - 1;
            let merged = sheet
                .merges
                .iter()
                .any(|&(r1, c1, _, _)| (r1, c1) == (row, col));
            match cell {
                Cell::T(text) if merged || text.contains('\n') => {
                    ws.write_string_with_format(r, col, text, &wrap)
                        .expect("write");
                }
                Cell::T(text) => {
                    ws.write_string(r, col, text).expect("write");
                }
                Cell::N(value) => {
                    ws.write_number(r, col, *value).expect("write");
                }
                Cell::D(y, m, d) if date1904 => {
                    ws.write_number_with_format(r, col, serial_1904(*y, *m, *d), &date)
                        .expect("write");
                }
                Cell::D(y, m, d) => {
                    let value =
                        ExcelDateTime::from_ymd(*y as u16, *m as u8, *d as u8).expect("valid date");
                    ws.write_datetime_with_format(r, col, &value, &date)
                        .expect("write");
                }
                Cell::F(formula, cached) => {
                    ws.write_formula(r, col, formula.as_str()).expect("write");
                    match cached {
                        Some(value) => {
                            ws.set_formula_result(r, col, value.to_string());
                        }
                        None => uncached = true,
                    }
                }
            }
        }
    }
    let bytes = workbook.save_to_buffer().expect("xlsx");
    if !uncached && !date1904 {
        return bytes;
    }
    rewrite_parts(&bytes, |name, text| {
        if uncached && name.starts_with("xl/worksheets/sheet") {
            // rust_xlsxwriter always writes a cached result (0 by default);
            // a script writes none: `<f>…</f><v></v>`, as openpyxl saves a
            // formula. Only formulas are written with a result of exactly
            // "0" here, so the rewrite is exact.
            text.replace("</f><v>0</v>", "</f><v></v>")
        } else if date1904 && name == "xl/workbook.xml" {
            text.replacen("<workbookPr ", "<workbookPr date1904=\"1\" ", 1)
        } else {
            text
        }
    })
}

/// The package with some XML parts rewritten.
fn rewrite_parts(bytes: &[u8], edit: impl Fn(&str, String) -> String) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("zip");
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).expect("entry");
        let name = file.name().expect("entry name").to_string();
        let mut content = Vec::new();
        file.read_to_end(&mut content).expect("read entry");
        if name.ends_with(".xml") {
            let text = String::from_utf8(content).expect("utf-8 xml");
            content = edit(&name, text).into_bytes();
        }
        out.start_file(name, options).expect("start");
        out.write_all(&content).expect("write entry");
    }
    out.finish().expect("zip finish").into_inner()
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The OpenDocument spreadsheet (.ods, as LibreOffice saves it) of these
/// sheets: merges as spanned and covered cells, dates as `date` cells,
/// hidden sheets through a table style with `table:display="false"`.
/// Formulas are not written here (no style needs one in .ods).
pub fn ods(sheets: &[Sheet]) -> Vec<u8> {
    let mut content = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" office:version="1.3">
<office:automatic-styles>
<style:style style:name="ta1" style:family="table"><style:table-properties table:display="true"/></style:style>
<style:style style:name="ta2" style:family="table"><style:table-properties table:display="false"/></style:style>
</office:automatic-styles>
<office:body><office:spreadsheet>
"#,
    );
    for sheet in sheets {
        let style = if sheet.hidden { "ta2" } else { "ta1" };
        content.push_str(&format!(
            "<table:table table:name=\"{}\" table:style-name=\"{style}\">\n",
            xml_escape(&sheet.name)
        ));
        let width = sheet.cells.keys().map(|(_, c)| *c).max().unwrap_or(0);
        content.push_str(&format!(
            "<table:table-column table:number-columns-repeated=\"{}\"/>\n",
            width + 1
        ));
        let covered = |row: u32, col: u16| {
            sheet.merges.iter().any(|&(r1, c1, r2, c2)| {
                (r1..=r2).contains(&row) && (c1..=c2).contains(&col) && (row, col) != (r1, c1)
            })
        };
        for row in 1..=sheet.last_row() {
            content.push_str("<table:table-row>");
            let last = sheet
                .cells
                .keys()
                .filter(|(r, _)| *r == row)
                .map(|(_, c)| *c)
                .chain(
                    sheet
                        .merges
                        .iter()
                        .filter(|m| (m.0..=m.2).contains(&row))
                        .map(|m| m.3),
                )
                .max();
            let Some(last) = last else {
                content.push_str("<table:table-cell/></table:table-row>\n");
                continue;
            };
            for col in 0..=last {
                if covered(row, col) {
                    content.push_str("<table:covered-table-cell/>");
                    continue;
                }
                let span = sheet
                    .merges
                    .iter()
                    .find(|m| (m.0, m.1) == (row, col))
                    .map(|m| {
                        format!(
                            " table:number-columns-spanned=\"{}\" table:number-rows-spanned=\"{}\"",
                            m.3 - m.1 + 1,
                            m.2 - m.0 + 1
                        )
                    })
                    .unwrap_or_default();
                match sheet.cells.get(&(row, col)) {
                    None => content.push_str(&format!("<table:table-cell{span}/>")),
                    Some(Cell::T(text)) => {
                        let paragraphs: String = text
                            .split('\n')
                            .map(|p| format!("<text:p>{}</text:p>", xml_escape(p)))
                            .collect();
                        content.push_str(&format!(
                            "<table:table-cell{span} office:value-type=\"string\">{paragraphs}</table:table-cell>"
                        ));
                    }
                    Some(Cell::N(value)) => content.push_str(&format!(
                        "<table:table-cell{span} office:value-type=\"float\" office:value=\"{value}\"><text:p>{value}</text:p></table:table-cell>"
                    )),
                    Some(Cell::D(y, m, d)) => content.push_str(&format!(
                        "<table:table-cell{span} office:value-type=\"date\" office:date-value=\"{y:04}-{m:02}-{d:02}\"><text:p>{d:02}/{m:02}/{y:04}</text:p></table:table-cell>"
                    )),
                    Some(Cell::F(..)) => content.push_str(&format!("<table:table-cell{span}/>")),
                }
            }
            content.push_str("</table:table-row>\n");
        }
        content.push_str("</table:table>\n");
    }
    content.push_str("</office:spreadsheet></office:body></office:document-content>\n");
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>
"#;
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::default());
    let deflated = stored.compression_method(zip::CompressionMethod::Deflated);
    // The mimetype comes first and uncompressed (ODF 1.3 part 2, 3.3).
    out.start_file("mimetype", stored).expect("mimetype");
    out.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
        .expect("mimetype");
    out.start_file("content.xml", deflated).expect("content");
    out.write_all(content.as_bytes()).expect("content");
    out.start_file("META-INF/manifest.xml", deflated)
        .expect("manifest");
    out.write_all(manifest.as_bytes()).expect("manifest");
    out.finish().expect("ods").into_inner()
}
