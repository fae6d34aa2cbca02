//! Files named like workbooks that are something else.
//!
//! HR and accounting software often "exports to Excel" by writing an HTML
//! page with a `<table>` and naming it `.xls`; Excel opens it with a
//! warning, so departments send it as it is. It is a table: it is read
//! here, tolerantly (unclosed tags, `rowspan`/`colspan` as merged regions,
//! entities decoded), text outside the tables (the title block) as rows of
//! its own, as Excel shows it. Excel 2003 XML ("XML Spreadsheet", the
//! other common export) is read too. Other impostors (CSV text, a PDF, an
//! image) are told apart so the department is told what the file is and how
//! to send a real workbook, instead of a reader's English error.

use super::sheet::Merge;
use super::workbook::{
    GridBuilder, MAX_CELLS_PER_SHEET, MAX_COLUMNS, NotAWorkbook, SizeLimit, WorkbookError,
    WorkbookSheet, text_cell,
};
use crate::model::value::Cell;

/// The HTML limits of `colspan` and `rowspan`: larger values are clamped.
const MAX_COLSPAN: u32 = 1000;
const MAX_ROWSPAN: u32 = 65_534;
/// How much of the start of a file is looked at to tell what it is.
const SNIFF_BYTES: usize = 4096;

/// What a file that is not a zip or OLE workbook holds: `None` when it may be
/// a workbook after all (calamine decides), the sheets of an HTML table, or
/// why it is refused.
pub(crate) fn sniff(bytes: &[u8]) -> Option<Result<Vec<WorkbookSheet>, WorkbookError>> {
    const OLE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0];
    if bytes.starts_with(b"PK") || bytes.starts_with(OLE) {
        return None;
    }
    let refuse = |kind| Some(Err(WorkbookError::NotAWorkbook(kind)));
    let text = decode(bytes);
    let head: String = match &text {
        Some(text) => text.chars().take(SNIFF_BYTES).collect(),
        None => String::from_utf8_lossy(&bytes[..bytes.len().min(SNIFF_BYTES)]).into_owned(),
    };
    let head = head.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    let lower = head.to_ascii_lowercase();
    if lower.starts_with("%pdf") {
        return refuse(NotAWorkbook::Pdf);
    }
    let image = [&b"\x89PNG"[..], &[0xFF, 0xD8, 0xFF], b"GIF8"];
    if lower.starts_with("{\\rtf") || image.iter().any(|m| bytes.starts_with(m)) {
        return refuse(NotAWorkbook::Other);
    }
    if lower.starts_with('<') {
        // Excel 2003 XML first: its <Table> is no HTML table.
        let spreadsheet_xml = (lower.contains("office:spreadsheet") || lower.contains("<workbook"))
            && !lower.contains("<html");
        if spreadsheet_xml {
            return Some(match text.as_deref().map(read_spreadsheet_xml) {
                Some(Ok(sheets)) if !sheets.is_empty() => Ok(sheets),
                Some(Err(e @ WorkbookError::TooLarge { .. })) => Err(e),
                _ => Err(WorkbookError::NotAWorkbook(NotAWorkbook::SpreadsheetXml)),
            });
        }
        let html = [
            "<html",
            "<table",
            "<!doctype html",
            "<head",
            "<body",
            "<meta",
        ]
        .iter()
        .any(|tag| lower.contains(tag));
        if html {
            return Some(match text.as_deref().and_then(read_html) {
                Some(sheet) => sheet,
                None => Err(WorkbookError::NotAWorkbook(NotAWorkbook::Html)),
            });
        }
        return refuse(NotAWorkbook::Other);
    }
    // Text without NUL bytes (binary formats are full of them) in lines
    // with separators: CSV, TSV, in any encoding. Other text is left to the
    // workbook reader's "cannot open".
    let sample = &bytes[..bytes.len().min(SNIFF_BYTES)];
    let utf16 = bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF");
    let separated = head.lines().any(|line| line.contains([',', ';', '\t']));
    let plain = (utf16 && text.is_some()) || (!sample.is_empty() && !sample.contains(&0));
    if plain && separated {
        return refuse(NotAWorkbook::Csv);
    }
    None
}

/// The file's text: UTF-8 (with or without a byte-order mark) or UTF-16
/// with one. Other encodings (windows-1258) are not guessed.
fn decode(bytes: &[u8]) -> Option<String> {
    let utf16 = |pairs: &[u8], from: fn([u8; 2]) -> u16| {
        let units: Vec<u16> = pairs.chunks_exact(2).map(|p| from([p[0], p[1]])).collect();
        String::from_utf16(&units).ok()
    };
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return std::str::from_utf8(rest).ok().map(str::to_string);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return utf16(rest, u16::from_le_bytes);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return utf16(rest, u16::from_be_bytes);
    }
    std::str::from_utf8(bytes).ok().map(str::to_string)
}

/// The tables of an HTML page as one sheet, or `None` when it holds no
/// table cell at all.
fn read_html(html: &str) -> Option<Result<Vec<WorkbookSheet>, WorkbookError>> {
    let mut reader = TableReader::default();
    if let Err(e) = reader.read(html) {
        return Some(Err(e));
    }
    if reader.table_cells == 0 {
        return None;
    }
    let name = reader
        .title
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(31)
        .collect::<String>();
    let name = if name.is_empty() {
        "Sheet1".to_string()
    } else {
        name
    };
    let mut builder = GridBuilder::new(&name);
    for (row, col, cell) in reader.cells {
        if let Err(e) = builder.push(row, col, cell) {
            return Some(Err(e));
        }
    }
    for merge in reader.merges {
        builder.merge(merge);
    }
    Some(Ok(vec![WorkbookSheet {
        grid: builder.finish(),
        hidden: false,
    }]))
}

/// The worksheets of an Excel 2003 XML spreadsheet ("XML Spreadsheet
/// 2003", which web software also exports as `.xls`): `Worksheet` >
/// `Table` > `Row` > `Cell` > `Data`, with `ss:Index` skips, `MergeAcross`
/// / `MergeDown` regions, `ss:Formula` (a formula without `Data` is
/// uncomputed) and `WorksheetOptions/Visible` for hidden sheets. Damaged
/// XML is an error: the caller refuses the file with the Excel 2003 reason.
fn read_spreadsheet_xml(xml: &str) -> Result<Vec<WorkbookSheet>, WorkbookError> {
    use quick_xml::events::Event;
    let damaged = || WorkbookError::NotAWorkbook(NotAWorkbook::SpreadsheetXml);
    let mut reader = quick_xml::Reader::from_str(xml);
    let config = reader.config_mut();
    config.trim_text(false);
    config.expand_empty_elements = true;
    config.check_end_names = false;

    let attribute = |e: &quick_xml::events::BytesStart<'_>, key: &str| -> Option<String> {
        e.attributes()
            .flatten()
            .find(|a| a.key.local_name().as_ref() == key)
            .map(|a| decode_entities(&a.value))
    };
    let number = |text: Option<String>| text.and_then(|t| t.trim().parse::<u32>().ok());

    let mut sheets = Vec::new();
    let mut sheet: Option<(GridBuilder, bool)> = None;
    let (mut row, mut col) = (0u32, 0u32);
    // The cell being read: (row, col, type, formula, text, has data).
    let mut cell: Option<(u32, u32, String, Option<String>, String, bool)> = None;
    let mut in_data = false;
    let mut in_visible = false;
    let mut visible_text = String::new();
    let mut cells = 0usize;
    loop {
        match reader.read_event().map_err(|_| damaged())? {
            Event::Start(e) => match e.local_name().as_ref() {
                "Worksheet" => {
                    let name = attribute(&e, "Name").unwrap_or_else(|| "Sheet1".into());
                    sheet = Some((GridBuilder::new(&name), false));
                    (row, col) = (0, 0);
                }
                "Row" => {
                    if let Some(index) = number(attribute(&e, "Index")).filter(|i| *i >= 1) {
                        row = index - 1;
                    }
                    col = 0;
                }
                "Cell" => {
                    if let Some(index) = number(attribute(&e, "Index")).filter(|i| *i >= 1) {
                        col = index - 1;
                    }
                    let across = number(attribute(&e, "MergeAcross"))
                        .unwrap_or(0)
                        .min(MAX_COLSPAN);
                    let down = number(attribute(&e, "MergeDown"))
                        .unwrap_or(0)
                        .min(MAX_ROWSPAN);
                    let last_col = col.saturating_add(across);
                    if last_col >= MAX_COLUMNS {
                        return Err(WorkbookError::TooLarge {
                            sheet: "XML".into(),
                            limit: SizeLimit::Column(last_col + 1),
                        });
                    }
                    if (across > 0 || down > 0)
                        && let Some((builder, _)) = &mut sheet
                    {
                        builder.merge(Merge {
                            first_row: row,
                            first_col: col,
                            last_row: row.saturating_add(down),
                            last_col,
                        });
                    }
                    let formula = attribute(&e, "Formula");
                    cell = Some((row, col, String::new(), formula, String::new(), false));
                    col = last_col + 1;
                }
                "Data" => {
                    if let Some(open) = &mut cell {
                        open.2 = attribute(&e, "Type").unwrap_or_default();
                        open.5 = true;
                        in_data = true;
                    }
                }
                "Visible" => {
                    in_visible = true;
                    visible_text.clear();
                }
                _ => {}
            },
            Event::Text(t) => {
                let text = t.xml10_content();
                if in_data && let Some(open) = &mut cell {
                    open.4.push_str(&text);
                } else if in_visible {
                    visible_text.push_str(&text);
                }
            }
            Event::GeneralRef(r) => {
                let entity = decode_entities(&format!("&{};", &*r));
                if in_data && let Some(open) = &mut cell {
                    open.4.push_str(&entity);
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                "Data" => in_data = false,
                "Visible" => {
                    in_visible = false;
                    if let Some((_, hidden)) = &mut sheet {
                        *hidden = visible_text.trim().starts_with("SheetHidden")
                            || visible_text.trim().starts_with("SheetVeryHidden");
                    }
                }
                "Row" => row = row.saturating_add(1),
                "Cell" => {
                    if let (Some((r, c, kind, formula, text, has_data)), Some((builder, _))) =
                        (cell.take(), &mut sheet)
                    {
                        let value = match (kind.as_str(), formula) {
                            (_, Some(formula)) if !has_data => Cell::Uncomputed {
                                formula: formula.strip_prefix('=').unwrap_or(&formula).to_string(),
                            },
                            ("Number", _) => text
                                .trim()
                                .parse::<f64>()
                                .map_or_else(|_| Cell::Text(text.clone()), Cell::Number),
                            ("DateTime", _) => crate::model::value::parse_date_text(&text)
                                .map_or_else(|| Cell::Text(text.clone()), Cell::Date),
                            ("Boolean", _) => Cell::Bool(text.trim() == "1"),
                            ("Error", _) => Cell::Error(text.trim().to_string()),
                            _ => text_cell(&text),
                        };
                        cells += 1;
                        if cells > MAX_CELLS_PER_SHEET {
                            return Err(WorkbookError::TooLarge {
                                sheet: "XML".into(),
                                limit: SizeLimit::Cells,
                            });
                        }
                        builder.push(r, c, value)?;
                    }
                }
                "Worksheet" => {
                    if let Some((builder, hidden)) = sheet.take() {
                        sheets.push(WorkbookSheet {
                            grid: builder.finish(),
                            hidden,
                        });
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(sheets)
}

/// The cell being filled.
struct OpenCell {
    row: u32,
    col: u32,
    text: String,
}

#[derive(Default)]
struct TableReader {
    cells: Vec<(u32, u32, Cell)>,
    merges: Vec<Merge>,
    table_cells: usize,
    title: String,
    in_title: bool,
    /// Tables open: text of a table inside a cell belongs to that cell.
    depth: usize,
    /// The next sheet row free for a table or a line of text.
    next_row: u32,
    /// The row of the top-level table being read.
    row: Option<u32>,
    /// The column after the last cell placed in `row`.
    next_col: u32,
    /// Per column: the first row no longer covered by a rowspan above.
    covered_until: Vec<u32>,
    /// The last row the current table reaches (rowspans included).
    table_end: Option<u32>,
    cell: Option<OpenCell>,
    /// Text outside any table since the last block boundary.
    loose: String,
}

impl TableReader {
    fn read(&mut self, html: &str) -> Result<(), WorkbookError> {
        let mut rest = html;
        while let Some(at) = rest.find('<') {
            self.text(&rest[..at]);
            rest = &rest[at..];
            if let Some(comment) = rest.strip_prefix("<!--") {
                rest = comment.find("-->").map_or("", |end| &comment[end + 3..]);
                continue;
            }
            if rest.starts_with("<!") || rest.starts_with("<?") {
                rest = rest.find('>').map_or("", |end| &rest[end + 1..]);
                continue;
            }
            let Some((tag, after)) = Tag::parse(rest) else {
                // A lone '<' in text.
                self.text("<");
                rest = &rest[1..];
                continue;
            };
            rest = after;
            if !tag.closing && (tag.name == "script" || tag.name == "style") {
                let end = format!("</{}", tag.name);
                rest = find_ignore_case(rest, &end).map_or("", |at| &rest[at..]);
                continue;
            }
            self.tag(&tag)?;
        }
        self.text(rest);
        self.close_cell()?;
        self.flush_loose()?;
        Ok(())
    }

    fn text(&mut self, raw: &str) {
        if raw.is_empty() {
            return;
        }
        let decoded = decode_entities(raw);
        let target = if self.in_title {
            &mut self.title
        } else if let Some(cell) = &mut self.cell {
            &mut cell.text
        } else if self.depth == 0 {
            &mut self.loose
        } else {
            return;
        };
        // Whitespace in HTML source is one space; a line break is `<br>`.
        for c in decoded.chars() {
            if c.is_whitespace() && c != '\u{a0}' {
                if !target.is_empty() && !target.ends_with([' ', '\n']) {
                    target.push(' ');
                }
            } else {
                target.push(c);
            }
        }
    }

    fn line_break(&mut self) {
        if let Some(cell) = &mut self.cell {
            let trimmed = cell.text.trim_end_matches(' ').len();
            cell.text.truncate(trimmed);
            cell.text.push('\n');
        }
    }

    fn tag(&mut self, tag: &Tag<'_>) -> Result<(), WorkbookError> {
        let name = tag.name.as_str();
        match (name, tag.closing) {
            ("title", closing) => self.in_title = !closing,
            ("table", false) => {
                if self.depth == 0 {
                    self.flush_loose()?;
                    self.row = None;
                    self.table_end = None;
                    self.covered_until.clear();
                } else if let Some(cell) = &mut self.cell {
                    cell.text.push(' ');
                }
                self.depth += 1;
            }
            ("table", true) if self.depth > 0 => {
                self.depth -= 1;
                if self.depth == 0 {
                    self.close_cell()?;
                    if let Some(end) = self.table_end {
                        self.next_row = end.saturating_add(1);
                    }
                    self.row = None;
                }
            }
            ("tr", false) if self.depth == 1 => self.start_row()?,
            ("tr", true) if self.depth == 1 => self.close_cell()?,
            ("td" | "th", false) if self.depth == 1 => self.start_cell(tag)?,
            ("td" | "th", true) if self.depth == 1 => self.close_cell()?,
            ("td" | "th" | "tr", _) if self.depth > 1 => {
                if let Some(cell) = &mut self.cell {
                    cell.text.push(' ');
                }
            }
            ("br", _) => {
                if self.cell.is_some() {
                    self.line_break();
                } else if self.depth == 0 {
                    self.flush_loose()?;
                }
            }
            ("p" | "div" | "li" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6", _) => {
                if self.cell.is_some() {
                    if !tag.closing {
                        let empty = self.cell.as_ref().is_some_and(|c| c.text.trim().is_empty());
                        if !empty {
                            self.line_break();
                        }
                    }
                } else if self.depth == 0 {
                    self.flush_loose()?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn start_row(&mut self) -> Result<(), WorkbookError> {
        self.close_cell()?;
        let row = match self.row {
            Some(row) => row.saturating_add(1),
            None => self.next_row,
        };
        self.row = Some(row);
        self.next_col = 0;
        self.table_end = Some(self.table_end.map_or(row, |end| end.max(row)));
        Ok(())
    }

    fn start_cell(&mut self, tag: &Tag<'_>) -> Result<(), WorkbookError> {
        self.close_cell()?;
        if self.row.is_none() {
            // A cell without its <tr>: the tolerant reading opens one.
            self.start_row()?;
        }
        let row = self.row.unwrap_or(self.next_row);
        let span = |key: &str, max: u32| {
            tag.attribute(key)
                .and_then(|v| v.trim().parse::<u32>().ok())
                .filter(|n| *n >= 1)
                .map_or(1, |n| n.min(max))
        };
        let (colspan, rowspan) = (span("colspan", MAX_COLSPAN), span("rowspan", MAX_ROWSPAN));
        let mut col = self.next_col;
        while self
            .covered_until
            .get(col as usize)
            .is_some_and(|until| *until > row)
        {
            col += 1;
        }
        let last_col = col + colspan - 1;
        if last_col >= MAX_COLUMNS {
            return Err(WorkbookError::TooLarge {
                sheet: "HTML".into(),
                limit: SizeLimit::Column(last_col + 1),
            });
        }
        let last_row = row.saturating_add(rowspan - 1);
        if self.covered_until.len() <= last_col as usize {
            self.covered_until.resize(last_col as usize + 1, 0);
        }
        for c in col..=last_col {
            self.covered_until[c as usize] = last_row.saturating_add(1);
        }
        if colspan > 1 || rowspan > 1 {
            self.merges.push(Merge {
                first_row: row,
                first_col: col,
                last_row,
                last_col,
            });
        }
        self.table_end = Some(self.table_end.map_or(last_row, |end| end.max(last_row)));
        self.next_col = last_col + 1;
        self.table_cells += 1;
        self.cell = Some(OpenCell {
            row,
            col,
            text: String::new(),
        });
        Ok(())
    }

    fn close_cell(&mut self) -> Result<(), WorkbookError> {
        if self.cells.len() >= MAX_CELLS_PER_SHEET {
            return Err(WorkbookError::TooLarge {
                sheet: "HTML".into(),
                limit: SizeLimit::Cells,
            });
        }
        if let Some(cell) = self.cell.take() {
            let text = cell.text.trim_matches([' ', '\n']);
            if !text.is_empty() {
                self.cells.push((cell.row, cell.col, text_cell(text)));
            }
        }
        Ok(())
    }

    /// Text outside the tables (a title line) becomes a row of its own.
    fn flush_loose(&mut self) -> Result<(), WorkbookError> {
        let text = std::mem::take(&mut self.loose);
        let text = text.trim();
        if !text.is_empty() {
            self.cells
                .push((self.next_row, 0, Cell::Text(text.to_string())));
            self.next_row = self.next_row.saturating_add(1);
        }
        Ok(())
    }
}

/// A start or end tag with its attributes (raw text, parsed on demand).
struct Tag<'a> {
    name: String,
    closing: bool,
    attributes: &'a str,
}

impl<'a> Tag<'a> {
    /// `text` starts with '<'. Returns the tag and the text after its '>'.
    fn parse(text: &'a str) -> Option<(Tag<'a>, &'a str)> {
        let inner = &text[1..];
        let (closing, inner) = match inner.strip_prefix('/') {
            Some(rest) => (true, rest),
            None => (false, inner),
        };
        let name_len = inner
            .find(|c: char| !c.is_ascii_alphanumeric() && c != ':')
            .unwrap_or(inner.len());
        if name_len == 0 || !inner.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return None;
        }
        // The end of the tag: the first '>' outside quotes.
        let bytes = inner.as_bytes();
        let mut quote = None;
        let mut end = None;
        for (i, &b) in bytes.iter().enumerate().skip(name_len) {
            match (quote, b) {
                (None, b'"' | b'\'') => quote = Some(b),
                (Some(q), _) if b == q => quote = None,
                (None, b'>') => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let end = end.unwrap_or(inner.len());
        let name = inner[..name_len].to_ascii_lowercase();
        let name = name.rsplit(':').next().unwrap_or("").to_string();
        let tag = Tag {
            name,
            closing,
            attributes: &inner[name_len..end],
        };
        let after = inner.get(end + 1..).unwrap_or("");
        Some((tag, after))
    }

    /// The value of attribute `key` (case-insensitive), quoted or not.
    fn attribute(&self, key: &str) -> Option<String> {
        let mut rest = self.attributes;
        loop {
            rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
            if rest.is_empty() {
                return None;
            }
            let name_len = rest
                .find(|c: char| c.is_whitespace() || c == '=' || c == '>')
                .unwrap_or(rest.len());
            let name = &rest[..name_len];
            rest = rest[name_len..].trim_start();
            let value = if let Some(after) = rest.strip_prefix('=') {
                let after = after.trim_start();
                let (value, remaining) = match after.chars().next() {
                    Some(q @ ('"' | '\'')) => {
                        let body = &after[1..];
                        let close = body.find(q).unwrap_or(body.len());
                        (&body[..close], body.get(close + 1..).unwrap_or(""))
                    }
                    _ => {
                        let close = after.find(char::is_whitespace).unwrap_or(after.len());
                        (&after[..close], &after[close..])
                    }
                };
                rest = remaining;
                Some(value)
            } else {
                if name_len == 0 {
                    // Not an attribute at all: skip a character.
                    rest = rest.get(1..).unwrap_or("");
                }
                None
            };
            if name.eq_ignore_ascii_case(key) {
                return Some(decode_entities(value.unwrap_or("")));
            }
        }
    }
}

/// Where `needle` (ASCII, starting with '<') is in `haystack`, ignoring
/// ASCII case; linear, with no copy of the page.
fn find_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    let needle = needle.as_bytes();
    let bytes = haystack.as_bytes();
    memchr::memchr_iter(b'<', bytes).find(|&at| {
        bytes
            .get(at..at + needle.len())
            .is_some_and(|candidate| candidate.eq_ignore_ascii_case(needle))
    })
}

/// The named entities of Latin-1 letters, U+00C0 to U+00FF in order (the
/// Vietnamese letters an exporter may write as `&agrave;`).
const LATIN1_LETTERS: [&str; 64] = [
    "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig", "Ccedil", "Egrave", "Eacute",
    "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve", "Oacute",
    "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute",
    "THORN", "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil",
    "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde",
    "ograve", "oacute", "ocirc", "otilde", "ouml", "divide", "oslash", "ugrave", "uacute", "ucirc",
    "uuml", "yacute", "thorn", "yuml",
];

fn named_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "laquo" => '«',
        "raquo" => '»',
        "ldquo" => '“',
        "rdquo" => '”',
        "lsquo" => '‘',
        "rsquo" => '’',
        "deg" => '°',
        "middot" => '·',
        "copy" => '©',
        "Dstrok" | "Dbar" => 'Đ',
        "dstrok" | "dbar" => 'đ',
        _ => {
            let index = LATIN1_LETTERS.iter().position(|n| *n == name)?;
            char::from_u32(0xC0 + index as u32)?
        }
    })
}

/// Decodes `&amp;`, `&#7871;`, `&#x1EBF;` and the named entities above; an
/// unknown or malformed one is kept as written.
pub(crate) fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest[1..]
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '#')
            .map_or(rest.len(), |e| e + 1);
        let body = &rest[1..end];
        let decoded = if let Some(number) = body.strip_prefix('#') {
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => number.parse().ok(),
            };
            code.and_then(char::from_u32)
        } else {
            named_entity(body)
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end..];
                rest = rest.strip_prefix(';').unwrap_or(rest);
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet(html: &str) -> WorkbookSheet {
        let mut sheets = sniff(html.as_bytes())
            .expect("an HTML file")
            .expect("a table");
        assert_eq!(sheets.len(), 1);
        sheets.remove(0)
    }

    fn texts(sheet: &WorkbookSheet) -> Vec<Vec<String>> {
        sheet
            .grid
            .rows
            .iter()
            .map(|row| row.iter().map(Cell::display).collect())
            .collect()
    }

    #[test]
    fn an_exported_table_is_read_with_spans_as_merges_and_entities_decoded() {
        let html = r#"<html xmlns:x="urn:schemas-microsoft-com:office:excel"><head>
            <meta charset="utf-8"><title>Danh sách</title><style>td { color: red }</style></head>
            <body><h3>DANH S&Aacute;CH C&#193;N B&#7896; N&#258;M 2025</h3>
            <table border=1>
              <tr><th rowspan="2">STT</th><th rowspan=2>Họ và tên</th><th colspan='2'>Giới tính</th></tr>
              <tr><th>Nam</th><th>Nữ</th></tr>
              <tr><td>1</td><td>Nguyễn&nbsp;Văn&nbsp;An</td><td>x</td><td></td>
              <tr><td>2<td>Lò Thị<br>Bình &amp; Co<td><td>x</td></tr>
            </table><p>Người lập biểu</p></body></html>"#;
        let read = sheet(html);
        assert_eq!(read.grid.name, "Danh sách");
        assert!(!read.hidden);
        assert_eq!(
            texts(&read),
            vec![
                vec!["DANH SÁCH CÁN BỘ NĂM 2025".to_string()],
                vec!["STT".into(), "Họ và tên".into(), "Giới tính".into()],
                vec!["".into(), "".into(), "Nam".into(), "Nữ".into()],
                vec!["1".into(), "Nguyễn Văn An".into(), "x".into()],
                vec!["2".into(), "Lò Thị Bình & Co".into(), "".into(), "x".into()],
                vec!["Người lập biểu".into()],
            ]
        );
        // The line break is kept in the cell (clean() makes it a space on display).
        assert_eq!(read.grid.rows[4][1], Cell::Text("Lò Thị\nBình & Co".into()));
        let merges = &read.grid.merges;
        assert!(merges.contains(&Merge {
            first_row: 1,
            first_col: 0,
            last_row: 2,
            last_col: 0
        }));
        assert!(merges.contains(&Merge {
            first_row: 1,
            first_col: 2,
            last_row: 1,
            last_col: 3
        }));
    }

    #[test]
    fn rowspans_push_later_cells_right() {
        let html = "<table><tr><td rowspan=3>Phòng A</td><td>An</td></tr>\
                    <tr><td>Bình</td></tr><tr><td>Chi</td></tr><tr><td>Phòng B</td><td>Dũng</td></tr></table>";
        let read = sheet(html);
        assert_eq!(
            texts(&read),
            vec![
                vec!["Phòng A".to_string(), "An".into()],
                vec!["".into(), "Bình".into()],
                vec!["".into(), "Chi".into()],
                vec!["Phòng B".into(), "Dũng".into()],
            ]
        );
    }

    #[test]
    fn impostors_are_told_apart() {
        let kind = |bytes: &[u8]| match sniff(bytes) {
            Some(Err(WorkbookError::NotAWorkbook(kind))) => Some(kind),
            _ => None,
        };
        assert_eq!(kind(b"%PDF-1.7\n..."), Some(NotAWorkbook::Pdf));
        assert_eq!(
            kind("STT;Họ và tên;Ngày sinh\n1;An;01/02/1985\n".as_bytes()),
            Some(NotAWorkbook::Csv)
        );
        assert_eq!(
            kind(b"<html><body><p>Xin loi, khong co du lieu</p></body></html>"),
            Some(NotAWorkbook::Html)
        );
        assert_eq!(
            kind(b"<?xml version=\"1.0\"?>\n<Workbook xmlns=\"urn:schemas-microsoft-com:office:spreadsheet\">"),
            Some(NotAWorkbook::SpreadsheetXml)
        );
        // windows-1258 text is not guessed: refused with the HTML reason.
        assert_eq!(
            kind(b"<html><table><tr><td>Nguy\xd2n</td></tr></table></html>"),
            Some(NotAWorkbook::Html)
        );
        assert!(sniff(b"PK\x03\x04rest").is_none());
        assert!(sniff(&[0xD0, 0xCF, 0x11, 0xE0, 0, 0]).is_none());
        assert!(sniff(&[0x00, 0x01, 0x02, 0xff]).is_none());
    }

    #[test]
    fn entities() {
        assert_eq!(decode_entities("a &amp; b"), "a & b");
        assert_eq!(decode_entities("Ti&#7871;n s&#x129;"), "Tiến sĩ");
        assert_eq!(decode_entities("&agrave;&Dstrok;"), "àĐ");
        assert_eq!(decode_entities("AT&T &unknown; &"), "AT&T &unknown; &");
    }

    #[test]
    fn hostile_spans_are_bounded() {
        let html = "<table><tr><td colspan=99999999 rowspan=99999999>x</td></tr></table>";
        let read = sheet(html);
        let merge = read.grid.merges[0];
        assert_eq!(merge.last_col, MAX_COLSPAN - 1);
        assert_eq!(merge.last_row, MAX_ROWSPAN - 1);
    }

    /// Damaged and hostile pages: every cut of a real one, and seeded
    /// random soup of tags, quotes, entities and multi-byte letters, is read
    /// or refused, never a panic.
    #[test]
    fn any_page_is_read_or_refused_without_a_panic() {
        let page = "<html><head><title>Đào tạo</title></head><body><p>NĂM 2025</p>\
            <table><tr><th colspan=\"2\" rowspan='3'>Họ &amp; tên</th><th>Ngày</th></tr>\
            <tr><td>Nguyễn&nbsp;Văn An<br/>x</td><td a=\">\" b='<' c=d>12/03/2025</td></tr>\
            <!-- a comment --><script>if (a < b) {}</script></table></body></html>";
        // Every byte, so cuts inside a letter (invalid UTF-8) too.
        for cut in 0..=page.len() {
            let _ = sniff(&page.as_bytes()[..cut]);
        }
        let pieces = [
            "<",
            ">",
            "</",
            "<td",
            "<tr>",
            "</td>",
            "<table>",
            "</table>",
            "<th colspan=",
            "\"",
            "'",
            "=",
            "&",
            "&#",
            "&#x",
            ";",
            "1",
            "99999",
            "Đ",
            "ễ",
            " ",
            "\n",
            "<br>",
            "<!--",
            "-->",
            "<script>",
            "</script",
            "rowspan=0",
            "<p>",
            "x",
        ];
        let mut seed: u64 = 0x6874_6d6c;
        for _ in 0..400 {
            let mut soup = String::from("<html>");
            for _ in 0..60 {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                soup.push_str(pieces[((seed >> 33) % pieces.len() as u64) as usize]);
            }
            let _ = sniff(soup.as_bytes());
        }
    }

    #[test]
    fn an_excel_2003_xml_spreadsheet_is_read_with_merges_formulas_and_hidden_sheets() {
        let xml = r#"<?xml version="1.0"?>
<?mso-application progid="Excel.Sheet"?>
<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">
 <Worksheet ss:Name="Danh sách">
  <Table>
   <Row><Cell ss:MergeAcross="2"><Data ss:Type="String">DANH S&#193;CH N&#258;M 2025</Data></Cell></Row>
   <Row ss:Index="3"><Cell><Data ss:Type="String">STT</Data></Cell><Cell><Data ss:Type="String">Họ và tên</Data></Cell><Cell><Data ss:Type="String">Ngày sinh</Data></Cell><Cell><Data ss:Type="String">Số tiết</Data></Cell></Row>
   <Row><Cell><Data ss:Type="Number">1</Data></Cell><Cell><Data ss:Type="String">A &amp; B</Data></Cell><Cell><Data ss:Type="DateTime">1985-06-07T00:00:00.000</Data></Cell><Cell ss:Formula="=R[0]C[-3]*40"/></Row>
   <Row><Cell ss:Index="2" ss:MergeDown="1"><Data ss:Type="String">Lò Thị Bình</Data></Cell><Cell ss:Formula="=1+1"><Data ss:Type="Number">2</Data></Cell></Row>
  </Table>
 </Worksheet>
 <Worksheet ss:Name="Cũ"><Table><Row><Cell><Data ss:Type="String">2024</Data></Cell></Row></Table>
  <WorksheetOptions xmlns="urn:schemas-microsoft-com:office:excel"><Visible>SheetHidden</Visible></WorksheetOptions></Worksheet>
</Workbook>"#;
        let sheets = sniff(xml.as_bytes()).expect("XML").expect("read");
        assert_eq!(sheets.len(), 2);
        assert_eq!(sheets[0].grid.name, "Danh sách");
        assert!(!sheets[0].hidden);
        assert!(sheets[1].hidden);
        let grid = &sheets[0].grid;
        assert_eq!(grid.origin_row, 0);
        assert_eq!(grid.rows[0][0], Cell::Text("DANH SÁCH NĂM 2025".into()));
        assert!(
            grid.rows[1].is_empty(),
            "row 2 is blank: {:?}",
            grid.rows[1]
        );
        assert_eq!(grid.rows[3][0], Cell::Number(1.0));
        assert_eq!(grid.rows[3][1], Cell::Text("A & B".into()));
        assert_eq!(
            grid.rows[3][2],
            Cell::Date(chrono::NaiveDate::from_ymd_opt(1985, 6, 7).expect("date"))
        );
        assert_eq!(
            grid.rows[3][3],
            Cell::Uncomputed {
                formula: "R[0]C[-3]*40".into()
            }
        );
        assert_eq!(grid.rows[4][1], Cell::Text("Lò Thị Bình".into()));
        assert_eq!(grid.rows[4][2], Cell::Number(2.0));
        assert!(grid.merges.contains(&Merge {
            first_row: 0,
            first_col: 0,
            last_row: 0,
            last_col: 2
        }));
        assert!(grid.merges.contains(&Merge {
            first_row: 4,
            first_col: 1,
            last_row: 5,
            last_col: 1
        }));
        // Damaged XML is refused with the Excel 2003 reason.
        let damaged = sniff(b"<?xml version=\"1.0\"?><Workbook xmlns=\"urn:schemas-microsoft-com:office:spreadsheet\"><Worksheet ss:Name=\"A\"><Table><Row><Cell></Row>");
        assert!(
            matches!(
                damaged,
                Some(Ok(_))
                    | Some(Err(WorkbookError::NotAWorkbook(
                        NotAWorkbook::SpreadsheetXml
                    )))
            ),
            "{damaged:?}"
        );
    }
}
