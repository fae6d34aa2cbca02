//! Reading workbooks (calamine) into format-independent grids.
//!
//! xlsx, xlsm and xlsb sheets are streamed cell by cell into a sparse grid
//! whose size is bounded, so a sheet that claims a cell at XFD1048576 cannot
//! make us allocate the whole rectangle. xls and ods are loaded whole by
//! calamine; they are bounded by the file-size limit. Zip-based files are
//! checked against their declared uncompressed sizes before they are opened.
//! A panic inside the reader becomes an error: a hostile file is quarantined,
//! it never takes the run down.
//!
//! Nothing is read as blank that is not: a formula saved without its
//! computed value (xlsx, ods) is a [`Cell::Uncomputed`] every conversion
//! rejects. Sheets the workbook hides are told to the sink as hidden (all
//! formats: calamine's sheet metadata). Files named like workbooks that are
//! HTML pages or Excel 2003 XML are read by [`super::html`]; CSV text, PDFs
//! and images are refused saying what they are. xls and xlsb store a
//! formula's result with the formula, so they have no uncomputed cells.
//!
//! A formula's computed value is read like a value: a date when its cell
//! is date-formatted, and also when it is a date plus days (`=G8+11`) whose
//! stored result is what its inputs give, as office software shows it.
//! ODS merged regions (spanned cells), which calamine does not give, are
//! found by a streaming scan of `content.xml`.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use calamine::{
    Data, DataRef, Dimensions, Reader, SheetVisible, Sheets, XlsxCellFormulaMetadataRecord,
    XlsxFormulaMetadata, open_workbook_auto_from_rs,
};

use super::html;
use super::sheet::{Grid, Merge};
use crate::error_chain::chain;
use crate::model::value::{Cell, parse_date_text};

/// A sheet with more cells than this is refused: real forms are far smaller.
pub const MAX_CELLS_PER_SHEET: usize = 20_000_000;
/// The largest column index accepted (Excel's own limit is 16,384 columns).
pub const MAX_COLUMNS: u32 = 16_384;
/// A zip-based workbook that declares more uncompressed bytes than this is refused.
pub(crate) const MAX_UNCOMPRESSED_BYTES: u64 = 4 * 1024 * 1024 * 1024;
/// Shared strings are loaded whole by calamine: bound them separately.
pub(crate) const MAX_SHARED_STRINGS_BYTES: u64 = 512 * 1024 * 1024;

/// Why a workbook could not be read: damaged, password protected, too
/// large, malformed, or it stopped the reader.
#[derive(Debug, thiserror::Error)]
pub enum WorkbookError {
    /// No reader can open it: damaged, or not a spreadsheet at all.
    #[error("cannot open the workbook")]
    Open(#[source] calamine::Error),
    #[error("the workbook is password protected: send it again without a password")]
    Password,
    #[error("sheet {sheet:?} cannot be read")]
    Sheet {
        sheet: String,
        source: calamine::Error,
    },
    #[error("sheet {sheet:?} is too large: {limit}")]
    TooLarge { sheet: String, limit: SizeLimit },
    #[error(
        "the workbook declares {declared} bytes of content once unpacked, more than the {limit} bytes allowed (a damaged file or a zip bomb)"
    )]
    Bomb { declared: u64, limit: u64 },
    /// The reader panicked; the text is the panic's message (no error value exists).
    #[error("the reader failed on this file: {0}")]
    Panicked(String),
    /// The cells of sheet are not stored row after row: it must be read whole.
    #[error("sheet {0:?} stores its rows out of order")]
    Unordered(String),
    /// Two sheets of the workbook are one stored part: no office program
    /// writes that, and it would be read (and counted) once per name.
    #[error(
        "sheets {first:?} and {second:?} of the workbook point at the same content ({part}): a damaged or crafted file"
    )]
    SharedPart {
        first: String,
        second: String,
        part: String,
    },
    /// A part declares more items than its size can hold (sharedStrings'
    /// `uniqueCount`): a reader would reserve memory for all of them.
    #[error(
        "the part {part} declares {declared} items but holds {size} bytes (a damaged or crafted file)"
    )]
    DeclaredCount {
        part: String,
        declared: u64,
        size: u64,
    },
    /// The file stopped the reader process (see [`super::reader`]).
    #[error("{0}")]
    ReaderStopped(super::reader::Stop),
    /// An error a reader process met, as it told it: the Vietnamese reason
    /// and the English one with its causes.
    #[error("{en}")]
    Relayed { vi: String, en: String },
    /// Named like a workbook but something else inside (an HTML page, CSV
    /// text, a PDF): told apart so the department learns how to fix it.
    #[error("{0}")]
    NotAWorkbook(NotAWorkbook),
}

/// Which bound of [`MAX_COLUMNS`] and [`MAX_CELLS_PER_SHEET`] a sheet passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeLimit {
    /// A cell in this 1-based column.
    Column(u32),
    Cells,
}

impl std::fmt::Display for SizeLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SizeLimit::Column(col) => {
                write!(f, "a cell in column {col} (the limit is {MAX_COLUMNS})")
            }
            SizeLimit::Cells => write!(f, "more than {MAX_CELLS_PER_SHEET} cells"),
        }
    }
}

impl SizeLimit {
    fn vi(&self) -> String {
        match self {
            SizeLimit::Column(col) => {
                format!("có ô ở cột thứ {col}, vượt giới hạn {MAX_COLUMNS} cột")
            }
            SizeLimit::Cells => format!("hơn {MAX_CELLS_PER_SHEET} ô"),
        }
    }
}

/// What a file named `.xls`/`.xlsx` really holds when it is no workbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotAWorkbook {
    /// An HTML page ("Xuất Excel" of web software) that is not UTF-8 or
    /// holds no table.
    Html,
    /// Excel 2003 XML ("XML Spreadsheet") that cannot be read: damaged, or
    /// without a worksheet (a readable one is read).
    SpreadsheetXml,
    /// Plain text with separators (CSV, tab-separated).
    Csv,
    Pdf,
    /// A Word document or another non-spreadsheet format.
    Other,
}

impl std::fmt::Display for NotAWorkbook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NotAWorkbook::Html => {
                "the file is a web page (HTML) named as a workbook, with no table that can be read: open it in Excel, File > Save As > Excel Workbook (.xlsx), and send that"
            }
            NotAWorkbook::SpreadsheetXml => {
                "the file is an Excel 2003 XML spreadsheet that cannot be read (damaged or without a sheet): open it in Excel, File > Save As > Excel Workbook (.xlsx), and send that"
            }
            NotAWorkbook::Csv => {
                "the file is plain text (CSV) named as a workbook: open it in Excel, File > Save As > Excel Workbook (.xlsx), and send that"
            }
            NotAWorkbook::Pdf => {
                "the file is a PDF document, not a workbook: send the Excel file the report was printed from"
            }
            NotAWorkbook::Other => {
                "the file is not a spreadsheet (Word, an image or another format): send the report as an Excel workbook (.xlsx)"
            }
        })
    }
}

impl NotAWorkbook {
    fn vi(&self) -> &'static str {
        match self {
            NotAWorkbook::Html => {
                "Tệp là trang web (HTML) được đặt tên như tệp Excel (thường do chức năng \"Xuất Excel\" của phần mềm tạo ra) và không có bảng đọc được: mở tệp bằng Excel, chọn File > Save As (Lưu thành) > Excel Workbook (.xlsx) rồi gửi tệp .xlsx đó"
            }
            NotAWorkbook::SpreadsheetXml => {
                "Tệp là bảng tính dạng XML của Excel 2003 nhưng không đọc được (bị hỏng hoặc không có trang tính): mở tệp bằng Excel, chọn File > Save As (Lưu thành) > Excel Workbook (.xlsx) rồi gửi tệp .xlsx đó"
            }
            NotAWorkbook::Csv => {
                "Tệp là văn bản thuần (CSV) được đặt tên như tệp Excel: mở tệp bằng Excel, chọn File > Save As (Lưu thành) > Excel Workbook (.xlsx) rồi gửi tệp .xlsx đó"
            }
            NotAWorkbook::Pdf => {
                "Tệp là tài liệu PDF, không phải bảng tính: đề nghị gửi tệp Excel dùng để in báo cáo"
            }
            NotAWorkbook::Other => {
                "Tệp không phải bảng tính (tài liệu Word, ảnh hoặc định dạng khác): đề nghị gửi báo cáo dạng tệp Excel (.xlsx)"
            }
        }
    }
}

impl WorkbookError {
    /// The reason in Vietnamese, for the department.
    pub fn reason_vi(&self) -> String {
        match self {
            // The library's own (English) words stay in the English reason.
            WorkbookError::Open(_) => "Không mở được tệp: tệp bị hỏng hoặc không phải bảng tính Excel (.xlsx, .xls, .ods); mở tệp bằng Excel, lưu lại dạng Excel Workbook (.xlsx) rồi gửi lại".to_string(),
            WorkbookError::Password => {
                "Tệp được đặt mật khẩu: đề nghị gửi lại bản không đặt mật khẩu".to_string()
            }
            WorkbookError::Sheet { sheet, .. } => format!(
                "Không đọc được trang tính \"{sheet}\": nội dung bị hỏng; mở tệp bằng Excel, lưu lại rồi gửi lại"
            ),
            WorkbookError::TooLarge { sheet, limit } => {
                format!("Trang tính \"{sheet}\" quá lớn ({})", limit.vi())
            }
            WorkbookError::Bomb { declared, limit } => format!(
                "Tệp khai báo {declared} byte nội dung khi giải nén, vượt giới hạn {limit} byte (tệp hỏng hoặc tệp nén độc hại)"
            ),
            WorkbookError::Panicked(_) => {
                "Không đọc được tệp: nội dung bị hỏng hoặc không đúng định dạng".to_string()
            }
            WorkbookError::Unordered(sheet) => {
                format!("Trang tính \"{sheet}\" lưu các dòng không theo thứ tự")
            }
            WorkbookError::NotAWorkbook(kind) => kind.vi().to_string(),
            WorkbookError::SharedPart { first, second, .. } => format!(
                "Trang tính \"{first}\" và \"{second}\" trỏ tới cùng một nội dung: tệp bị hỏng hoặc bị sửa bằng công cụ khác; mở bằng Excel, lưu lại và gửi lại"
            ),
            WorkbookError::DeclaredCount { part, declared, size } => format!(
                "Phần {part} của tệp khai báo {declared} mục nhưng chỉ có {size} byte (tệp hỏng hoặc bị sửa): mở bằng Excel, lưu lại và gửi lại"
            ),
            WorkbookError::ReaderStopped(stop) => stop.reason_vi(),
            WorkbookError::Relayed { vi, .. } => vi.clone(),
        }
    }
}

/// A worksheet read whole, and whether the workbook hides it.
#[derive(Debug, Clone, Default)]
pub struct WorkbookSheet {
    pub grid: Grid,
    /// Hidden or very hidden: last year's copy, a lookup list. Its rows are
    /// counted and reported, never taken.
    pub hidden: bool,
}

/// Reads every worksheet of a workbook held in memory. Chart sheets and the
/// like come back empty.
pub fn read_workbook(bytes: &[u8]) -> Result<Vec<WorkbookSheet>, WorkbookError> {
    if bytes.starts_with(b"PK") {
        check_zip(bytes)?;
    }
    if let Some(found) = sniff_guarded(bytes) {
        return found;
    }
    catch_unwind(AssertUnwindSafe(|| read_unguarded(bytes)))
        .unwrap_or_else(|panic| Err(WorkbookError::Panicked(panic_message(panic.as_ref()))))
}

/// Receives a workbook's sheets row by row.
pub trait RowSink {
    /// A sheet begins. `merges` are given when the format stores them before
    /// the cells (0-based sheet rows, columns counted from `origin_col`);
    /// `origin_col` is the column rows start at; `hidden` says the workbook
    /// hides the sheet (hidden or very hidden).
    fn begin_sheet(
        &mut self,
        name: &str,
        origin_col: u32,
        merges: Option<Vec<Merge>>,
        hidden: bool,
    );
    /// The next non-blank row (0-based sheet row, increasing), cells from `origin_col`.
    fn row(&mut self, row: u32, cells: Vec<Cell>);
    /// The sheet ended; `late_merges` are the merged regions of a format that
    /// stores them after the cells (xlsx).
    fn end_sheet(&mut self, late_merges: Option<Vec<Merge>>);
}

/// Reads every worksheet of a workbook held in memory into `sink`, row by
/// row. xlsx, xlsm and xlsb cells are streamed, so memory follows the widest
/// row, not the sheet; xls and ods sheets are read whole first. A sheet whose
/// rows are stored out of order fails with [`WorkbookError::Unordered`]:
/// read it with [`read_workbook`] and [`replay`] instead.
pub fn stream_workbook(bytes: &[u8], sink: &mut dyn RowSink) -> Result<(), WorkbookError> {
    if bytes.starts_with(b"PK") {
        check_zip(bytes)?;
    }
    if let Some(found) = sniff_guarded(bytes) {
        replay(found?, sink);
        return Ok(());
    }
    if bytes.len() >= PIPELINE_MIN_BYTES {
        return stream_pipelined(bytes, sink);
    }
    catch_unwind(AssertUnwindSafe(|| stream_unguarded(bytes, sink)))
        .unwrap_or_else(|panic| Err(WorkbookError::Panicked(panic_message(panic.as_ref()))))
}

/// Feeds whole grids to a sink, as [`stream_workbook`] would.
pub fn replay(sheets: Vec<WorkbookSheet>, sink: &mut dyn RowSink) {
    for WorkbookSheet { grid, hidden } in sheets {
        // Sinks take merges in sheet rows (columns from the origin column),
        // as the streaming readers give them.
        let merges = grid
            .merges
            .iter()
            .map(|m| Merge {
                first_row: m.first_row + grid.origin_row,
                last_row: m.last_row + grid.origin_row,
                ..*m
            })
            .collect();
        sink.begin_sheet(&grid.name, grid.origin_col, Some(merges), hidden);
        for (r, cells) in grid.rows.into_iter().enumerate() {
            if cells.iter().any(|c| !c.is_blank()) {
                sink.row(grid.origin_row + r as u32, cells);
            }
        }
        sink.end_sheet(None);
    }
}

/// [`html::sniff`], a panic in it becoming an error like any reader's.
fn sniff_guarded(bytes: &[u8]) -> Option<Result<Vec<WorkbookSheet>, WorkbookError>> {
    catch_unwind(AssertUnwindSafe(|| html::sniff(bytes)))
        .unwrap_or_else(|panic| Some(Err(WorkbookError::Panicked(panic_message(panic.as_ref())))))
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

/// The names of the sheets a workbook hides (hidden or very hidden).
fn hidden_sheets<R>(workbook: &Sheets<R>) -> std::collections::HashSet<String>
where
    R: std::io::Read + std::io::Seek,
{
    workbook
        .sheets_metadata()
        .iter()
        .filter(|sheet| sheet.visible != SheetVisible::Visible)
        .map(|sheet| sheet.name.clone())
        .collect()
}

fn stream_unguarded(bytes: &[u8], sink: &mut dyn RowSink) -> Result<(), WorkbookError> {
    let mut workbook = open(bytes)?;
    let names = workbook.sheet_names();
    let hidden = hidden_sheets(&workbook);
    match &mut workbook {
        Sheets::Xlsx(xlsx) => {
            let entries = xlsx_sheet_entries(bytes).unwrap_or_default();
            let recalculated = calc_on_load(bytes);
            let archive = zip::ZipArchive::new(Cursor::new(bytes)).ok();
            for name in names {
                // Merged regions only matter for headers; a sheet whose merge
                // list is damaged is still read, just without them. They are
                // stored after the cells: a small sheet is scanned for them
                // first; a big one on a thread of its own while its rows are
                // read, and checked at its end (see `header_holds`).
                let entry = entries.get(&name);
                let scan = || {
                    entry
                        .zip(archive.clone())
                        .and_then(|(e, archive)| scan_merges_in(archive, &e.path))
                };
                let first = entry.is_some_and(|e| e.size <= MERGES_FIRST_MAX_BYTES);
                let is_hidden = hidden.contains(&name);
                let late = std::thread::scope(|scope| {
                    let background = (!first).then(|| scope.spawn(scan));
                    sink.begin_sheet(&name, 0, if first { scan() } else { None }, is_hidden);
                    match xlsx.worksheet_cells_reader(&name) {
                        Ok(mut reader) => {
                            let mut formulas = XlsxFormulas::new(recalculated);
                            stream_rows(&name, sink, || {
                                reader
                                    .next_cell_with_formula_metadata()
                                    .map(|c| c.map(|record| formulas.cell(record)))
                            })?
                        }
                        Err(calamine::XlsxError::NotAWorksheet(_)) => {}
                        Err(e) => return Err(sheet_error(&name, e)),
                    }
                    Ok(background.map(|scan| {
                        scan.join()
                            .ok()
                            .flatten()
                            .or_else(|| {
                                xlsx.merge_cells_by_sheet_name(&name)
                                    .ok()
                                    .map(|regions| merges_of(&regions))
                            })
                            .unwrap_or_default()
                    }))
                })?;
                sink.end_sheet(late);
            }
        }
        Sheets::Xlsb(xlsb) => {
            // xlsb stores a formula's result with the formula, always: no
            // uncomputed cells to look for.
            for name in names {
                sink.begin_sheet(&name, 0, Some(Vec::new()), hidden.contains(&name));
                match xlsb.worksheet_cells_reader(&name) {
                    Ok(mut reader) => stream_rows(&name, sink, || {
                        reader
                            .next_cell()
                            .map(|c| c.map(|c| (c.get_position(), cell_from_ref(c.get_value()))))
                    })?,
                    Err(e) => return Err(sheet_error(&name, e)),
                }
                sink.end_sheet(None);
            }
        }
        Sheets::Xls(_) | Sheets::Ods(_) => {
            drop(workbook);
            replay(read_unguarded(bytes)?, sink);
        }
    }
    Ok(())
}

/// Groups a streaming reader's cells into rows, checking the same bounds as
/// a whole-sheet read: columns, cells per sheet, and row order.
fn stream_rows<E: Into<calamine::Error>>(
    sheet: &str,
    sink: &mut dyn RowSink,
    mut next: impl FnMut() -> Result<Option<((u32, u32), Cell)>, E>,
) -> Result<(), WorkbookError> {
    let mut current: Option<(u32, Vec<Cell>)> = None;
    let mut cells = 0usize;
    while let Some(((row, col), cell)) = next().map_err(|e| sheet_error(sheet, e))? {
        if cell.is_blank() {
            continue;
        }
        check_cell(sheet, col, cells)?;
        cells += 1;
        match &mut current {
            Some((r, _)) if row < *r => return Err(WorkbookError::Unordered(sheet.to_string())),
            Some((r, cells)) if row == *r => place(cells, col, cell),
            _ => {
                if let Some((r, done)) = current.take() {
                    sink.row(r, done);
                }
                let mut fresh = Vec::new();
                place(&mut fresh, col, cell);
                current = Some((row, fresh));
            }
        }
    }
    if let Some((r, done)) = current {
        sink.row(r, done);
    }
    Ok(())
}

fn place(cells: &mut Vec<Cell>, col: u32, cell: Cell) {
    let index = col as usize;
    if cells.len() <= index {
        cells.resize(index + 1, Cell::Empty);
    }
    cells[index] = cell;
}

fn check_cell(sheet: &str, col: u32, cells_so_far: usize) -> Result<(), WorkbookError> {
    if col >= MAX_COLUMNS {
        return Err(WorkbookError::TooLarge {
            sheet: sheet.to_string(),
            limit: SizeLimit::Column(col + 1),
        });
    }
    if cells_so_far >= MAX_CELLS_PER_SHEET {
        return Err(WorkbookError::TooLarge {
            sheet: sheet.to_string(),
            limit: SizeLimit::Cells,
        });
    }
    Ok(())
}

fn merges_of(regions: &[Dimensions]) -> Vec<Merge> {
    regions
        .iter()
        .map(|d| Merge {
            first_row: d.start.0,
            first_col: d.start.1,
            last_row: d.end.0,
            last_col: d.end.1,
        })
        .collect()
}

fn check_zip(bytes: &[u8]) -> Result<(), WorkbookError> {
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        // Not a readable zip: calamine will say what is wrong with it.
        return Ok(());
    };
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let Ok(entry) = archive.by_index_raw(index) else {
            continue;
        };
        let size = entry.size();
        let is_shared_strings = entry.name().is_ok_and(|n| n.ends_with("sharedStrings.xml"));
        if is_shared_strings && size > MAX_SHARED_STRINGS_BYTES {
            return Err(WorkbookError::Bomb {
                declared: size,
                limit: MAX_SHARED_STRINGS_BYTES,
            });
        }
        total = total.saturating_add(size);
    }
    if total > MAX_UNCOMPRESSED_BYTES {
        return Err(WorkbookError::Bomb {
            declared: total,
            limit: MAX_UNCOMPRESSED_BYTES,
        });
    }
    check_shared_strings(&mut archive)?;
    check_sheet_parts(&mut archive)?;
    check_ods_repeats(&mut archive)?;
    Ok(())
}

/// Bytes the smallest shared string takes (`<si/>`).
const MIN_SHARED_STRING_BYTES: u64 = 5;

/// calamine reserves room for sharedStrings' declared `uniqueCount` before
/// reading one: a count its part cannot hold (each string takes at least
/// `<si/>`) is refused before that. Only the part's first KiB are read.
fn check_shared_strings(archive: &mut zip::ZipArchive<Cursor<&[u8]>>) -> Result<(), WorkbookError> {
    let Some(name) = archive
        .file_names()
        .flatten()
        .find(|n| n.ends_with("sharedStrings.xml"))
        .map(|n| n.into_owned())
    else {
        return Ok(());
    };
    let Ok(entry) = archive.by_name(&name) else {
        return Ok(());
    };
    let size = entry.size();
    let mut head = Vec::new();
    if std::io::Read::read_to_end(&mut std::io::Read::take(entry, 8 * 1024), &mut head).is_err() {
        return Ok(());
    }
    let Some(at) = memchr::memmem::find(&head, b"uniqueCount=") else {
        return Ok(());
    };
    let digits: String = head[at + b"uniqueCount=".len()..]
        .iter()
        .skip(1)
        .take_while(|b| b.is_ascii_digit())
        .map(|&b| char::from(b))
        .collect();
    // More digits than a u64 holds is more than any part holds.
    let declared = digits.parse::<u64>().unwrap_or(u64::MAX);
    if !digits.is_empty() && declared > size / MIN_SHARED_STRING_BYTES + 1 {
        return Err(WorkbookError::DeclaredCount {
            part: name,
            declared,
            size,
        });
    }
    Ok(())
}

/// Sheets of `xl/workbook.xml` pointing at one stored part would each be
/// read whole (ten names, ten times the work, the size limit counted once):
/// refused, naming two of them.
fn check_sheet_parts(archive: &mut zip::ZipArchive<Cursor<&[u8]>>) -> Result<(), WorkbookError> {
    if archive.index_for_name("xl/workbook.xml").is_none() {
        return Ok(());
    }
    let Some(paths) = xlsx_sheet_paths(archive) else {
        return Ok(());
    };
    let mut sorted: Vec<(&String, &String)> = paths.iter().collect();
    // The workbook's order is lost in the map: by name, for a stable reason.
    sorted.sort();
    let mut seen: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    for (name, part) in sorted {
        if let Some(first) = seen.insert(part.as_str(), name.as_str()) {
            return Err(WorkbookError::SharedPart {
                first: first.to_string(),
                second: name.clone(),
                part: part.clone(),
            });
        }
    }
    Ok(())
}

/// An ODS sheet's cells as its repeats declare them: calamine expands
/// `number-columns-repeated` × `number-rows-repeated` into one cell each,
/// so a 1 KB file can ask for a hundred million. Refused past
/// [`MAX_CELLS_PER_SHEET`] before calamine reads it, by a streaming count
/// (memory follows one element). Repeated blank cells (no value, no text)
/// cost nothing and are not counted, as calamine skips them.
fn check_ods_repeats(archive: &mut zip::ZipArchive<Cursor<&[u8]>>) -> Result<(), WorkbookError> {
    use quick_xml::events::Event;
    if archive.index_for_name("mimetype").is_none() {
        return Ok(());
    }
    let Ok(entry) = archive.by_name("content.xml") else {
        return Ok(());
    };
    let mut reader = quick_xml::Reader::from_reader(std::io::BufReader::new(entry));
    reader.config_mut().check_end_names = false;
    let number = |e: &quick_xml::events::BytesStart<'_>, key: &str| -> u64 {
        e.attributes()
            .flatten()
            .find(|a| a.key.local_name().as_ref() == key)
            .and_then(|a| a.value.trim().parse::<u64>().ok())
            .unwrap_or(1)
            .max(1)
    };
    let has_value = |e: &quick_xml::events::BytesStart<'_>| {
        e.attributes()
            .flatten()
            .any(|a| a.key.local_name().as_ref() == "value-type")
    };
    let (mut sheet, mut depth) = (String::new(), 0usize);
    let (mut cells, mut row_repeats, mut row_cells) = (0u64, 1u64, 0u64);
    let mut buf = Vec::new();
    loop {
        let event = match reader.read_event_into(&mut buf) {
            Ok(event) => event,
            // Damaged XML: calamine says what is wrong with it.
            Err(_) => return Ok(()),
        };
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e), false),
            Event::Empty(e) => (Some(e), true),
            _ => (None, false),
        };
        if let Some(e) = start {
            match e.local_name().as_ref() {
                "table" => {
                    if depth == 0 {
                        sheet = e
                            .attributes()
                            .flatten()
                            .find(|a| a.key.local_name().as_ref() == "name")
                            .map(|a| a.value.to_string())
                            .unwrap_or_default();
                        cells = 0;
                    }
                    if !empty {
                        depth += 1;
                    }
                }
                "table-row" if depth == 1 => {
                    row_repeats = number(e, "number-rows-repeated");
                    row_cells = 0;
                    if empty {
                        row_repeats = 1;
                    }
                }
                "table-cell" | "covered-table-cell" if depth == 1 && has_value(e) => {
                    row_cells = row_cells.saturating_add(number(e, "number-columns-repeated"));
                }
                _ => {}
            }
        }
        match &event {
            Event::End(e) if e.local_name().as_ref() == "table" => {
                depth = depth.saturating_sub(1);
            }
            Event::End(e) if depth == 1 && e.local_name().as_ref() == "table-row" => {
                cells = cells.saturating_add(row_cells.saturating_mul(row_repeats));
                if cells > MAX_CELLS_PER_SHEET as u64 {
                    return Err(WorkbookError::TooLarge {
                        sheet,
                        limit: SizeLimit::Cells,
                    });
                }
                row_repeats = 1;
                row_cells = 0;
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
        buf.clear();
    }
}

fn open(bytes: &[u8]) -> Result<Sheets<Cursor<&[u8]>>, WorkbookError> {
    open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| {
        let why = why_unreadable(bytes, e);
        if chain(&why).to_lowercase().contains("password") {
            WorkbookError::Password
        } else {
            WorkbookError::Open(why)
        }
    })
}

fn read_unguarded(bytes: &[u8]) -> Result<Vec<WorkbookSheet>, WorkbookError> {
    let mut workbook = open(bytes)?;
    let names = workbook.sheet_names();
    let hidden = hidden_sheets(&workbook);
    let mut grids = Vec::with_capacity(names.len());
    match &mut workbook {
        Sheets::Xlsx(xlsx) => {
            let recalculated = calc_on_load(bytes);
            for name in names {
                let mut builder = GridBuilder::new(&name);
                match xlsx.worksheet_cells_reader(&name) {
                    Ok(mut reader) => {
                        let mut formulas = XlsxFormulas::new(recalculated);
                        stream_cells(&mut builder, || {
                            reader
                                .next_cell_with_formula_metadata()
                                .map(|c| c.map(|record| formulas.cell(record)))
                        })?
                    }
                    Err(calamine::XlsxError::NotAWorksheet(_)) => {}
                    Err(e) => return Err(sheet_error(&name, e)),
                }
                // Merged regions only matter for headers; a sheet whose merge
                // list is damaged is still read, just without them.
                if let Ok(regions) = xlsx.merge_cells_by_sheet_name(&name) {
                    builder.merges(&regions);
                }
                grids.push(builder.finish());
            }
        }
        Sheets::Xlsb(xlsb) => {
            for name in names {
                let mut builder = GridBuilder::new(&name);
                match xlsb.worksheet_cells_reader(&name) {
                    Ok(mut reader) => stream_cells(&mut builder, || {
                        reader
                            .next_cell()
                            .map(|c| c.map(|c| (c.get_position(), cell_from_ref(c.get_value()))))
                    })?,
                    Err(e) => return Err(sheet_error(&name, e)),
                }
                grids.push(builder.finish());
            }
        }
        Sheets::Xls(xls) => {
            for name in names {
                let range = xls
                    .worksheet_range(&name)
                    .map_err(|e| sheet_error(&name, e))?;
                let mut builder = GridBuilder::from_range(&name, &range)?;
                if let Ok(regions) = xls.merge_cells_by_sheet_name(&name) {
                    builder.merges(&regions);
                }
                grids.push(builder.finish());
            }
        }
        Sheets::Ods(ods) => {
            let ods_merges = scan_ods_merges(bytes);
            for name in names {
                let range = ods
                    .worksheet_range(&name)
                    .map_err(|e| sheet_error(&name, e))?;
                let mut builder = GridBuilder::from_range(&name, &range)?;
                // calamine does not give ODS merged regions: without them a
                // unit or course merged down over its rows reads as blanks.
                if let Some(merges) = ods_merges
                    .as_ref()
                    .and_then(|all| all.iter().find(|(sheet, _)| *sheet == name))
                {
                    for &merge in &merges.1 {
                        builder.merge(merge);
                    }
                }
                // A formula cell without an office:value (written by a
                // script, never recalculated) is empty in the value range.
                if let Ok(formulas) = ods.worksheet_formula(&name) {
                    let (row0, col0) = formulas.start().unwrap_or((0, 0));
                    for (r, c, formula) in formulas.used_cells() {
                        let at = (row0 + r as u32, col0 + c as u32);
                        let computed = range
                            .get_value(at)
                            .is_some_and(|v| !matches!(v, Data::Empty));
                        if !formula.is_empty() && !computed {
                            builder.push(at.0, at.1, uncomputed_ods(formula))?;
                        }
                    }
                }
                grids.push(builder.finish());
            }
        }
    }
    Ok(grids
        .into_iter()
        .map(|grid| WorkbookSheet {
            hidden: hidden.contains(&grid.name),
            grid,
        })
        .collect())
}

/// More merged regions than this in one ODS file: the scan gives up (no
/// merges at all rather than some), a real form has a few hundred.
const MAX_ODS_MERGES: usize = 1_000_000;

/// The merged regions of every sheet of an ODS file, in the order of its
/// `table:table` elements: name → regions in absolute 0-based sheet rows and
/// columns. ODS stores a merge as `table:number-columns-spanned` /
/// `table:number-rows-spanned` on the anchor cell; the cells it covers are
/// `table:covered-table-cell` and count as positions like any cell.
/// Positions follow `number-rows-repeated` / `number-columns-repeated` as
/// calamine counts them (capped at the sheet's limits), so they agree with
/// the cells read. `content.xml` is streamed (memory follows one element,
/// not the file). A damaged or missing part gives `None`: the sheets are
/// still read, without merges, as for an xlsx whose merge list is damaged.
fn scan_ods_merges(bytes: &[u8]) -> Option<Vec<(String, Vec<Merge>)>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let entry = archive.by_name("content.xml").ok()?;
    scan_ods_content(std::io::BufReader::new(entry))
}

/// [`scan_ods_merges`] on the text of a `content.xml`.
fn scan_ods_content(xml: impl std::io::BufRead) -> Option<Vec<(String, Vec<Merge>)>> {
    use quick_xml::events::Event;
    // The largest row and column counted, as calamine caps them.
    const ROWS: u64 = 1_048_576;
    const COLUMNS: u64 = MAX_COLUMNS as u64;
    let mut reader = quick_xml::Reader::from_reader(xml);
    {
        let config = reader.config_mut();
        // As calamine reads the part: `<a/>` is a start and an end, and a
        // misnamed end tag is no reason to lose a sheet.
        config.expand_empty_elements = true;
        config.check_end_names = false;
    }
    let number = |e: &quick_xml::events::BytesStart<'_>, key: &str| -> Option<u64> {
        e.attributes()
            .flatten()
            .find(|a| a.key.local_name().as_ref() == key)
            .map(|a| a.value.trim().parse::<u64>().ok())
            .unwrap_or(Some(1))
    };
    let mut sheets: Vec<(String, Vec<Merge>)> = Vec::new();
    let mut total = 0usize;
    // Inside a top-level table: the next row's index and the next cell's column.
    let mut table = false;
    let (mut row, mut col) = (0u64, 0u64);
    let mut row_repeats = 1u64;
    let (mut buf, mut skip) = (Vec::new(), Vec::new());
    loop {
        let event = reader.read_event_into(&mut buf).ok()?;
        match event {
            Event::Start(e) if e.local_name().as_ref() == "table" && !table => {
                let name = e
                    .attributes()
                    .flatten()
                    .find(|a| a.key.local_name().as_ref() == "name")
                    .map(|a| {
                        let raw = a.value.to_string();
                        quick_xml::escape::unescape(&raw)
                            .map(|v| v.into_owned())
                            .unwrap_or(raw)
                    })
                    .unwrap_or_default();
                sheets.push((name, Vec::new()));
                table = true;
                row = 0;
            }
            Event::End(e) if e.local_name().as_ref() == "table" && table => table = false,
            Event::Start(e) if table && e.local_name().as_ref() == "table-row" => {
                row_repeats = number(&e, "number-rows-repeated")?;
                col = 0;
            }
            Event::End(e) if table && e.local_name().as_ref() == "table-row" => {
                row = row.saturating_add(row_repeats).min(ROWS);
                row_repeats = 1;
            }
            Event::Start(e)
                if table
                    && matches!(e.local_name().as_ref(), "table-cell" | "covered-table-cell") =>
            {
                let repeats = number(&e, "number-columns-repeated")?;
                let covered = e.local_name().as_ref() == "covered-table-cell";
                let across = number(&e, "number-columns-spanned")?;
                let down = number(&e, "number-rows-spanned")?;
                if !covered && (across > 1 || down > 1) && row < ROWS && col < COLUMNS {
                    // Repeated anchors: each copy is a region when they
                    // cannot overlap, else only the first is.
                    let copies_across = if across > 1 { 1 } else { repeats };
                    let copies_down = if down > 1 { 1 } else { row_repeats };
                    for r in (row..row.saturating_add(copies_down)).take_while(|&r| r < ROWS) {
                        for c in
                            (col..col.saturating_add(copies_across)).take_while(|&c| c < COLUMNS)
                        {
                            total += 1;
                            if total > MAX_ODS_MERGES {
                                return None;
                            }
                            let merge = Merge {
                                first_row: r as u32,
                                first_col: c as u32,
                                last_row: (r + down - 1).min(ROWS - 1) as u32,
                                last_col: (c + across - 1).min(COLUMNS - 1) as u32,
                            };
                            if let Some((_, merges)) = sheets.last_mut() {
                                merges.push(merge);
                            }
                        }
                    }
                }
                col = col.saturating_add(repeats).min(COLUMNS);
                // The cell's paragraphs (and any table inside them) are no
                // positions of this sheet.
                let end = e.name().0.to_owned();
                skip.clear();
                reader
                    .read_to_end_into(quick_xml::name::QName(&end), &mut skip)
                    .ok()?;
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    // A file cut short ends inside a table: damaged.
    (!table).then_some(sheets)
}

/// Whether an xlsx's `xl/workbook.xml` asks for a full recalculation on
/// opening. A missing or unreadable part says no.
fn calc_on_load(bytes: &[u8]) -> bool {
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return false;
    };
    let Ok(entry) = archive.by_name("xl/workbook.xml") else {
        return false;
    };
    // The part is small (sheet names, defined names); bounded all the same.
    let mut xml = Vec::new();
    if std::io::Read::read_to_end(&mut std::io::Read::take(entry, 16 * 1024 * 1024), &mut xml)
        .is_err()
    {
        return false;
    }
    [
        &b"fullCalcOnLoad=\"1\""[..],
        b"fullCalcOnLoad=\"true\"",
        b"fullCalcOnLoad='1'",
    ]
    .iter()
    .any(|flag| memchr::memmem::find(&xml, flag).is_some())
}

/// An ODS formula ("of:=SUM([.D5:.D9])") as the department would type it.
fn uncomputed_ods(formula: &str) -> Cell {
    let text = formula.strip_prefix("of:").unwrap_or(formula);
    Cell::Uncomputed {
        formula: text.strip_prefix('=').unwrap_or(text).to_string(),
    }
}

/// Turns the xlsx reader's cells into ours, telling a formula saved without
/// its computed value from a blank. Only the anchors of shared formulas are
/// remembered (one per filled-down block), to name the formula of a
/// derived cell that has no value.
#[derive(Default)]
struct XlsxFormulas {
    /// Shared formula index → (anchor formula, anchor position).
    anchors: Vec<Option<(String, (u32, u32))>>,
    /// The workbook asks to be recalculated when opened
    /// (`<calcPr fullCalcOnLoad="1"/>`): written by a library (openpyxl,
    /// XlsxWriter, EPPlus) that stores 0 or nothing as every formula's
    /// result. Excel drops the flag when it saves the file.
    calc_on_load: bool,
    /// The numbers and dates of the last [`FORMULA_INPUT_ROWS`] rows read,
    /// by position: the inputs of a date formula (see [`date_arithmetic`]).
    recent: std::collections::BTreeMap<(u32, u32), Input>,
}

/// Rows back a formula's inputs are remembered for: an end date refers to
/// its own row's start date, a chained schedule to the row above.
const FORMULA_INPUT_ROWS: u32 = 16;

/// A numeric cell a formula may refer to.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Input {
    serial: f64,
    /// Set when the cell is a date (date-formatted): its day.
    date: Option<chrono::NaiveDate>,
}

impl XlsxFormulas {
    fn new(calc_on_load: bool) -> Self {
        XlsxFormulas {
            anchors: Vec::new(),
            calc_on_load,
            recent: std::collections::BTreeMap::new(),
        }
    }

    /// Remembers a numeric cell as a possible formula input, forgetting the
    /// rows too far above to matter (memory follows a few rows).
    fn remember(&mut self, pos: (u32, u32), cell: &Cell, value: &DataRef<'_>) {
        let input = match (cell, value) {
            (Cell::Date(date), DataRef::DateTime(dt)) => Input {
                serial: dt.as_f64(),
                date: Some(*date),
            },
            // A date a formula computed (`=H7+1` after `=G7+11`).
            (Cell::Date(date), DataRef::Float(f)) => Input {
                serial: *f,
                date: Some(*date),
            },
            (Cell::Date(date), DataRef::Int(i)) => Input {
                serial: *i as f64,
                date: Some(*date),
            },
            (Cell::Number(n), _) => Input {
                serial: *n,
                date: None,
            },
            _ => return,
        };
        let keep_from = pos.0.saturating_sub(FORMULA_INPUT_ROWS);
        if self
            .recent
            .first_key_value()
            .is_some_and(|(k, _)| k.0 < keep_from)
        {
            self.recent = self.recent.split_off(&(keep_from, 0));
        }
        self.recent.insert(pos, input);
    }

    /// The cell of a formula that has its computed value. A date plus or
    /// minus days (`=G8+11`, `=H7+1`) is a date even in a cell that carries
    /// no date format (a script writes the formula without the format Excel
    /// would give it when typed; LibreOffice shows it as a date): the
    /// result is the input's date moved by the days, and only when the
    /// stored result is exactly what the inputs give.
    fn computed(&self, pos: (u32, u32), formula: Option<&str>, value: &DataRef<'_>) -> Cell {
        let cell = cell_from_ref(value);
        if let (Cell::Number(result), Some(formula)) = (&cell, formula)
            && let Some(date) = date_arithmetic(formula, *result, |at| {
                (at.0 < pos.0 || (at.0 == pos.0 && at.1 < pos.1))
                    .then(|| self.recent.get(&at).copied())
                    .flatten()
            })
        {
            return Cell::Date(date);
        }
        cell
    }

    /// No computed value: none stored, or the placeholder a library stores
    /// (0, "") in a workbook that asks to be recalculated on opening.
    fn uncomputed(&self, value: &DataRef<'_>) -> bool {
        match value {
            DataRef::Empty => true,
            DataRef::Float(f) => self.calc_on_load && *f == 0.0,
            DataRef::Int(i) => self.calc_on_load && *i == 0,
            DataRef::String(s) => self.calc_on_load && s.is_empty(),
            DataRef::DateTime(dt) => self.calc_on_load && dt.as_f64() == 0.0,
            _ => false,
        }
    }

    fn cell(&mut self, record: XlsxCellFormulaMetadataRecord<'_>) -> ((u32, u32), Cell) {
        let (pos, cell) = self.read(record.pos, record.formula, &record.value);
        self.remember(pos, &cell, &record.value);
        (pos, cell)
    }

    fn read(
        &mut self,
        pos: (u32, u32),
        formula: Option<XlsxFormulaMetadata>,
        value: &DataRef<'_>,
    ) -> ((u32, u32), Cell) {
        let empty = formula.is_some() && self.uncomputed(value);
        let formula = match formula {
            None => None,
            Some(XlsxFormulaMetadata::Normal { formula }) => Some(formula),
            Some(XlsxFormulaMetadata::Shared {
                shared_index,
                range,
                formula,
            }) => {
                if self.anchors.len() <= shared_index {
                    // Indices are small and dense in practice; a hostile
                    // one is bounded by the cells limit's order of size.
                    if shared_index > MAX_CELLS_PER_SHEET {
                        return (pos, cell_from_ref(value));
                    }
                    self.anchors.resize(shared_index + 1, None);
                }
                let start = range.map_or(pos, |r| r.start);
                self.anchors[shared_index] = Some((formula.clone(), start));
                Some(formula)
            }
            // A derived cell's own formula: to name it when it has no
            // value, to read a date from its inputs when it has one.
            Some(XlsxFormulaMetadata::SharedDerived { shared_index }) => {
                let own = self
                    .anchors
                    .get(shared_index)
                    .and_then(Option::as_ref)
                    .and_then(|(formula, start)| {
                        calamine::expand_shared_formula(formula, *start, pos).ok()
                    });
                if empty {
                    Some(own.unwrap_or_default())
                } else {
                    own
                }
            }
            Some(_) => None,
        };
        match formula {
            Some(formula) if empty => (pos, Cell::Uncomputed { formula }),
            formula => (pos, self.computed(pos, formula.as_deref(), value)),
        }
    }
}

/// The date a formula of the shape `REF ± number ± …` computes: exactly
/// one term is a date cell, added (never subtracted: a date minus a date is
/// a number of days), every other term a number literal or a number cell,
/// and `result` (the value the file stores) equals what those inputs give.
/// Anything else (functions, parentheses, other sheets, a cell not seen,
/// a stale result) is no date: the number is then read as a number and a
/// date column rejects it with its reason, never silently.
fn date_arithmetic(
    formula: &str,
    result: f64,
    input: impl Fn((u32, u32)) -> Option<Input>,
) -> Option<chrono::NaiveDate> {
    let text: String = formula.chars().filter(|c| !c.is_whitespace()).collect();
    let text = text.strip_prefix('=').unwrap_or(&text);
    if text.is_empty() || text.len() > 256 {
        return None;
    }
    let mut date: Option<(chrono::NaiveDate, f64)> = None;
    let mut total = 0.0f64;
    let mut rest = text;
    let mut sign = 1.0;
    if let Some(after) = rest.strip_prefix('-') {
        (sign, rest) = (-1.0, after);
    } else if let Some(after) = rest.strip_prefix('+') {
        rest = after;
    }
    loop {
        let end = rest.find(['+', '-']).unwrap_or(rest.len());
        let term = &rest[..end];
        let value = if term.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
            term.parse::<f64>().ok().filter(|v| v.is_finite())?
        } else {
            let found = input(cell_position(term)?)?;
            if let Some(day) = found.date {
                if sign < 0.0 || date.is_some() {
                    return None;
                }
                date = Some((day, found.serial));
            }
            found.serial
        };
        total += sign * value;
        if end == rest.len() {
            break;
        }
        sign = if rest[end..].starts_with('-') {
            -1.0
        } else {
            1.0
        };
        rest = &rest[end + 1..];
    }
    let (day, serial) = date?;
    if (total - result).abs() > 1e-9 * result.abs().max(1.0) {
        return None;
    }
    let shift = result.floor() - serial.floor();
    if shift.abs() > 1_000_000.0 {
        return None;
    }
    let shift = shift as i64;
    if shift >= 0 {
        day.checked_add_days(chrono::Days::new(shift as u64))
    } else {
        day.checked_sub_days(chrono::Days::new(shift.unsigned_abs()))
    }
}

/// Format detection only says "Cannot detect file format" when every reader
/// failed; each reader's own error says more ("Workbook is password
/// protected"). A password error is the one worth telling.
fn why_unreadable(bytes: &[u8], detected: calamine::Error) -> calamine::Error {
    use calamine::{Ods, Xls, Xlsb, Xlsx, open_workbook_from_rs};
    let errors = [
        open_workbook_from_rs::<Xlsx<_>, _>(Cursor::new(bytes))
            .err()
            .map(calamine::Error::from),
        open_workbook_from_rs::<Xls<_>, _>(Cursor::new(bytes))
            .err()
            .map(calamine::Error::from),
        open_workbook_from_rs::<Xlsb<_>, _>(Cursor::new(bytes))
            .err()
            .map(calamine::Error::from),
        open_workbook_from_rs::<Ods<_>, _>(Cursor::new(bytes))
            .err()
            .map(calamine::Error::from),
    ];
    errors
        .into_iter()
        .flatten()
        .find(|e| chain(e).to_lowercase().contains("password"))
        .unwrap_or(detected)
}

/// Feeds a streaming reader's cells into the builder until the sheet ends.
fn stream_cells<E: Into<calamine::Error>>(
    builder: &mut GridBuilder,
    mut next: impl FnMut() -> Result<Option<((u32, u32), Cell)>, E>,
) -> Result<(), WorkbookError> {
    while let Some(((row, col), cell)) = next().map_err(|e| sheet_error(&builder.name, e))? {
        builder.push(row, col, cell)?;
    }
    Ok(())
}

fn sheet_error(sheet: &str, e: impl Into<calamine::Error>) -> WorkbookError {
    WorkbookError::Sheet {
        sheet: sheet.to_string(),
        source: e.into(),
    }
}

/// Collects cells in any order into rows, never allocating beyond the cells
/// that exist (plus the blanks between them within a row).
pub(super) struct GridBuilder {
    name: String,
    /// (row, col, cell), absolute 0-based positions.
    cells: Vec<(u32, u32, Cell)>,
    merges: Vec<Merge>,
}

impl GridBuilder {
    pub(super) fn new(name: &str) -> Self {
        GridBuilder {
            name: name.to_string(),
            cells: Vec::new(),
            merges: Vec::new(),
        }
    }

    fn from_range(name: &str, range: &calamine::Range<Data>) -> Result<Self, WorkbookError> {
        let mut builder = GridBuilder::new(name);
        for (row, col, data) in range.used_cells() {
            let (row0, col0) = range.start().unwrap_or((0, 0));
            builder.push(row0 + row as u32, col0 + col as u32, cell_from(data))?;
        }
        Ok(builder)
    }

    pub(super) fn push(&mut self, row: u32, col: u32, cell: Cell) -> Result<(), WorkbookError> {
        if cell.is_blank() {
            return Ok(());
        }
        check_cell(&self.name, col, self.cells.len())?;
        self.cells.push((row, col, cell));
        Ok(())
    }

    fn merges(&mut self, regions: &[Dimensions]) {
        self.merges.extend(merges_of(regions));
    }

    /// A merged region in absolute sheet coordinates.
    pub(super) fn merge(&mut self, merge: Merge) {
        self.merges.push(merge);
    }

    pub(super) fn finish(mut self) -> Grid {
        if self.cells.is_empty() {
            return Grid {
                name: self.name,
                ..Grid::default()
            };
        }
        self.cells.sort_by_key(|(r, c, _)| (*r, *c));
        let origin_row = self.cells.first().map_or(0, |c| c.0);
        let origin_col = self.cells.iter().map(|c| c.1).min().unwrap_or(0);
        let last_row = self.cells.last().map_or(0, |c| c.0);
        // Empty rows cost one empty Vec each; the cells bound keeps the rest small.
        let row_count = (last_row - origin_row) as usize + 1;
        let mut rows: Vec<Vec<Cell>> = Vec::new();
        rows.resize_with(row_count.min(MAX_CELLS_PER_SHEET), Vec::new);
        for (r, c, cell) in self.cells {
            let Some(row) = rows.get_mut((r - origin_row) as usize) else {
                continue;
            };
            let index = (c - origin_col) as usize;
            if row.len() <= index {
                row.resize(index + 1, Cell::Empty);
            }
            row[index] = cell;
        }
        let merges = self
            .merges
            .into_iter()
            .filter(|m| m.last_row >= origin_row && m.last_col >= origin_col)
            .map(|m| Merge {
                first_row: m.first_row.saturating_sub(origin_row),
                first_col: m.first_col.saturating_sub(origin_col),
                last_row: m.last_row - origin_row,
                last_col: m.last_col - origin_col,
            })
            .collect();
        Grid {
            name: self.name,
            origin_row,
            origin_col,
            rows,
            merges,
        }
    }
}

fn cell_from_ref(data: &DataRef<'_>) -> Cell {
    match data {
        DataRef::Empty => Cell::Empty,
        DataRef::String(s) => text_cell(s),
        DataRef::SharedString(s) => text_cell(s),
        DataRef::Int(i) => Cell::Number(*i as f64),
        DataRef::Float(f) => Cell::Number(*f),
        DataRef::Bool(b) => Cell::Bool(*b),
        DataRef::DateTime(dt) => match dt.as_datetime() {
            Some(datetime) if dt.is_datetime() => Cell::Date(datetime.date()),
            _ => Cell::Number(dt.as_f64()),
        },
        DataRef::DateTimeIso(text) => iso_cell(text),
        DataRef::DurationIso(text) => Cell::Text(text.clone()),
        DataRef::Error(e) => Cell::Error(format!("{e}")),
    }
}

fn cell_from(data: &Data) -> Cell {
    match data {
        Data::Empty => Cell::Empty,
        Data::String(s) => text_cell(s),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(datetime) if dt.is_datetime() => Cell::Date(datetime.date()),
            _ => Cell::Number(dt.as_f64()),
        },
        Data::DateTimeIso(text) => iso_cell(text),
        Data::DurationIso(text) => Cell::Text(text.clone()),
        Data::Error(e) => Cell::Error(format!("{e}")),
    }
}

/// Spreadsheet error values, as ODS and some writers store them: as text.
const ERROR_SPELLINGS: &[&str] = &[
    "#REF!", "#DIV/0!", "#N/A", "#VALUE!", "#NAME?", "#NUM!", "#NULL!",
];

pub(super) fn text_cell(text: &str) -> Cell {
    if let Some(too_long) = crate::model::value::text_or_too_long(text) {
        return too_long;
    }
    if ERROR_SPELLINGS.contains(&text.trim()) {
        Cell::Error(text.trim().to_string())
    } else {
        Cell::Text(text.to_string())
    }
}

fn iso_cell(text: &str) -> Cell {
    match parse_date_text(text) {
        Some(date) => Cell::Date(date),
        None => Cell::Text(text.to_string()),
    }
}

/// Workbooks at least this large are read on a thread of their own while the
/// caller's thread normalises and writes their rows: one big sheet then uses
/// both cores.
const PIPELINE_MIN_BYTES: usize = 1024 * 1024;
/// Rows handed over at a time between the reading and the writing thread.
const PIPELINE_ROWS: usize = 1024;

/// A sheet event crossing from the reading thread to the sink.
enum SheetEvent {
    Begin {
        name: String,
        origin_col: u32,
        merges: Option<Vec<Merge>>,
        hidden: bool,
    },
    Rows(Vec<(u32, Vec<Cell>)>),
    End(Option<Vec<Merge>>),
}

/// The reading thread's sink: rows in chunks over a bounded channel, so the
/// reader is never more than a few chunks ahead of the writer.
struct Forward {
    sender: std::sync::mpsc::SyncSender<SheetEvent>,
    rows: Vec<(u32, Vec<Cell>)>,
}

impl Forward {
    fn send(&mut self, event: SheetEvent) {
        // A closed channel means the receiving side has gone: nothing to do.
        let _ = self.sender.send(event);
    }

    fn flush(&mut self) {
        if !self.rows.is_empty() {
            let rows = std::mem::replace(&mut self.rows, Vec::with_capacity(PIPELINE_ROWS));
            self.send(SheetEvent::Rows(rows));
        }
    }
}

impl RowSink for Forward {
    fn begin_sheet(
        &mut self,
        name: &str,
        origin_col: u32,
        merges: Option<Vec<Merge>>,
        hidden: bool,
    ) {
        self.send(SheetEvent::Begin {
            name: name.to_string(),
            origin_col,
            merges,
            hidden,
        });
    }

    fn row(&mut self, row: u32, cells: Vec<Cell>) {
        self.rows.push((row, cells));
        if self.rows.len() >= PIPELINE_ROWS {
            self.flush();
        }
    }

    fn end_sheet(&mut self, late_merges: Option<Vec<Merge>>) {
        self.flush();
        self.send(SheetEvent::End(late_merges));
    }
}

fn stream_pipelined(bytes: &[u8], sink: &mut dyn RowSink) -> Result<(), WorkbookError> {
    std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::sync_channel(4);
        let reader = scope.spawn(move || {
            let mut forward = Forward {
                sender,
                rows: Vec::with_capacity(PIPELINE_ROWS),
            };
            catch_unwind(AssertUnwindSafe(|| stream_unguarded(bytes, &mut forward)))
                .unwrap_or_else(|panic| Err(WorkbookError::Panicked(panic_message(panic.as_ref()))))
        });
        for event in receiver {
            match event {
                SheetEvent::Begin {
                    name,
                    origin_col,
                    merges,
                    hidden,
                } => sink.begin_sheet(&name, origin_col, merges, hidden),
                SheetEvent::Rows(rows) => {
                    for (row, cells) in rows {
                        sink.row(row, cells);
                    }
                }
                SheetEvent::End(merges) => sink.end_sheet(merges),
            }
        }
        reader
            .join()
            .unwrap_or_else(|_| Err(WorkbookError::Panicked("the reading thread".into())))
    })
}

/// Sheets up to this size (uncompressed XML) are scanned for merged regions
/// before their cells are read; bigger ones after.
const MERGES_FIRST_MAX_BYTES: u64 = 4 * 1024 * 1024;

/// Where a worksheet of an xlsx is stored in the zip.
#[derive(Debug, Clone)]
struct SheetEntry {
    path: String,
    /// Uncompressed size.
    size: u64,
}

/// Where each worksheet of an xlsx is stored: name → zip entry, from
/// `xl/workbook.xml` and its relationships.
fn xlsx_sheet_entries(bytes: &[u8]) -> Option<std::collections::HashMap<String, SheetEntry>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let paths = xlsx_sheet_paths(&mut archive)?;
    Some(
        paths
            .into_iter()
            .filter_map(|(name, path)| {
                let size = archive.by_name(&path).ok()?.size();
                Some((name, SheetEntry { path, size }))
            })
            .collect(),
    )
}

/// Name → zip entry path of each worksheet.
fn xlsx_sheet_paths(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
) -> Option<std::collections::HashMap<String, String>> {
    use quick_xml::events::Event;
    let mut read = |name: &str| -> Option<Vec<u8>> {
        let mut entry = archive.by_name(name).ok()?;
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut out).ok()?;
        Some(out)
    };
    let workbook = read("xl/workbook.xml")?;
    let relationships = read("xl/_rels/workbook.xml.rels")?;
    let attributes = |e: &quick_xml::events::BytesStart<'_>| -> Vec<(Vec<u8>, String)> {
        e.attributes()
            .flatten()
            .map(|a| {
                let raw = a.value.to_string();
                let value = quick_xml::escape::unescape(&raw)
                    .map(|v| v.into_owned())
                    .unwrap_or(raw);
                (a.key.local_name().as_ref().as_bytes().to_vec(), value)
            })
            .collect()
    };
    let find = |attrs: &[(Vec<u8>, String)], key: &[u8]| {
        attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    };
    let mut targets = std::collections::HashMap::new();
    let mut reader = quick_xml::Reader::from_reader(relationships.as_slice());
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).ok()? {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "Relationship" => {
                let attrs = attributes(&e);
                if let (Some(id), Some(target)) = (find(&attrs, b"Id"), find(&attrs, b"Target")) {
                    let path = match target.strip_prefix('/') {
                        Some(absolute) => absolute.to_string(),
                        None => format!("xl/{target}"),
                    };
                    targets.insert(id, path);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    let mut paths = std::collections::HashMap::new();
    let mut reader = quick_xml::Reader::from_reader(workbook.as_slice());
    loop {
        match reader.read_event_into(&mut buf).ok()? {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "sheet" => {
                let attrs = attributes(&e);
                if let (Some(name), Some(id)) = (find(&attrs, b"name"), find(&attrs, b"id"))
                    && let Some(path) = targets.get(&id)
                {
                    paths.insert(name, path.clone());
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Some(paths)
}

/// The merged regions of an xlsx sheet, found by scanning its XML for
/// `<mergeCell ref="…"/>` rather than parsing every element of it: they come
/// after the cells, so the whole sheet has to be inflated either way.
#[cfg(test)]
fn scan_merges(bytes: &[u8], sheet_path: &str) -> Option<Vec<Merge>> {
    scan_merges_in(zip::ZipArchive::new(Cursor::new(bytes)).ok()?, sheet_path)
}

/// [`scan_merges`] in an archive opened once for the workbook: opening one
/// parses the whole central directory, so opening it per sheet made the
/// cost quadratic in the sheet count (10,000 sheets: minutes). A clone
/// shares the parsed directory.
fn scan_merges_in(
    mut archive: zip::ZipArchive<Cursor<&[u8]>>,
    sheet_path: &str,
) -> Option<Vec<Merge>> {
    const TAG: &[u8] = b"mergeCell";
    // Longer than any mergeCell tag, so one is never cut in two.
    const OVERLAP: usize = 512;
    let mut entry = archive.by_name(sheet_path).ok()?;
    let finder = memchr::memmem::Finder::new(TAG);
    let mut merges = Vec::new();
    let mut window: Vec<u8> = Vec::with_capacity(256 * 1024 + OVERLAP);
    let mut chunk = vec![0u8; 256 * 1024];
    loop {
        let read = std::io::Read::read(&mut entry, &mut chunk).ok()?;
        window.extend_from_slice(&chunk[..read]);
        let last = read == 0;
        let scan_to = if last {
            window.len()
        } else {
            window.len().saturating_sub(OVERLAP)
        };
        // Tags starting before `scan_to` are whole in the window; later ones
        // are looked at again with the next chunk.
        for at in finder.find_iter(&window).take_while(|&at| at < scan_to) {
            let before = at.checked_sub(1).map(|i| window[i]);
            let after = window.get(at + TAG.len()).copied();
            if matches!(before, Some(b'<' | b':')) && after.is_some_and(|b| b.is_ascii_whitespace())
            {
                let tag_end = window[at..]
                    .iter()
                    .position(|&b| b == b'>')
                    .map_or(window.len(), |p| at + p);
                if let Some(merge) = merge_ref(&window[at..tag_end]) {
                    merges.push(merge);
                }
            }
        }
        if last {
            return Some(merges);
        }
        window.drain(..scan_to);
    }
}

/// The `ref="B2:D3"` of a mergeCell tag, as a region.
fn merge_ref(tag: &[u8]) -> Option<Merge> {
    let start = memchr::memmem::find(tag, b"ref=\"")? + 5;
    let len = tag[start..].iter().position(|&b| b == b'"')?;
    let text = std::str::from_utf8(&tag[start..start + len]).ok()?;
    let (first, last) = text.split_once(':').unwrap_or((text, text));
    let (first_row, first_col) = cell_position(first)?;
    let (last_row, last_col) = cell_position(last)?;
    Some(Merge {
        first_row,
        first_col,
        last_row,
        last_col,
    })
}

/// "AB12" → (11, 27), 0-based.
fn cell_position(address: &str) -> Option<(u32, u32)> {
    let address = address.trim().trim_start_matches('$');
    let split = address.find(|c: char| c.is_ascii_digit())?;
    let (letters, digits) = address.split_at(split);
    let letters = letters.trim_end_matches('$');
    if letters.is_empty() || letters.len() > 3 {
        return None;
    }
    let col = letters.bytes().try_fold(0u32, |acc, b| {
        b.is_ascii_alphabetic()
            .then(|| acc * 26 + u32::from(b.to_ascii_uppercase() - b'A') + 1)
    })?;
    let row: u32 = digits.parse().ok()?;
    Some((row.checked_sub(1)?, col - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_values_stored_as_text_are_errors_and_other_text_is_not() {
        assert_eq!(text_cell(" #N/A "), Cell::Error("#N/A".into()));
        assert_eq!(text_cell("#DIV/0!"), Cell::Error("#DIV/0!".into()));
        assert_eq!(text_cell("#1 Nguyễn"), Cell::Text("#1 Nguyễn".into()));
        assert_eq!(text_cell(" Đạt "), Cell::Text(" Đạt ".into()));
    }

    /// The xlsx and xlsm workbooks under `fixtures/` (the fixture province
    /// and the vendored corpus files), the generated ones of
    /// [`generated_with_merges`], and the robustness corpus beside the
    /// repository when it is there (it is not part of a clone).
    fn workbooks() -> Vec<(std::path::PathBuf, Vec<u8>)> {
        let mut found = generated_with_merges();
        let mut dirs = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures"
        ))];
        dirs.push(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/excel").into());
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "xlsx" || e == "xlsm")
                    && let Ok(bytes) = std::fs::read(&path)
                {
                    found.push((path, bytes));
                }
            }
        }
        found
    }

    /// Workbooks written here with merged regions of every shape: one row or
    /// one column wide, tall and wide, far right (column XFD) and far down
    /// (row 1,048,576), many per sheet, sheets without any, sheet names with
    /// spaces, accents and XML's special characters, cells written around
    /// and inside the regions. A seeded generator, so the same every run.
    fn generated_with_merges() -> Vec<(std::path::PathBuf, Vec<u8>)> {
        use rust_xlsxwriter::{Format, Workbook};
        let mut seed: u64 = 0x006e_6861_6e6c_7563;
        let mut next = move |bound: u32| -> u32 {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((seed >> 33) % u64::from(bound.max(1))) as u32
        };
        let names = [
            "Biểu 01",
            "Sheet1",
            "Đào tạo & bồi dưỡng",
            "A<B>\"'",
            "Tổng hợp (2025)",
        ];
        let format = Format::new();
        let mut out = Vec::new();
        for book in 0..8 {
            let mut workbook = Workbook::new();
            for sheet_index in 0..1 + next(3) {
                let sheet = workbook.add_worksheet();
                let name = format!(
                    "{} {book}",
                    names[((book + sheet_index) as usize) % names.len()]
                );
                sheet.set_name(name).expect("sheet name");
                // Regions in bands of rows that never overlap.
                let mut row = next(5);
                let merges = if sheet_index == 1 { 0 } else { 1 + next(20) };
                for _ in 0..merges {
                    let height = [0, 0, 1, 3, 40][next(5) as usize];
                    let col = [0, 1, 5, 26, 700][next(5) as usize] + next(3);
                    let width = if height == 0 { 1 + next(8) } else { next(6) };
                    let text = format!("r{row}c{col}");
                    sheet
                        .merge_range(
                            row,
                            col as u16,
                            row + height,
                            (col + width) as u16,
                            &text,
                            &format,
                        )
                        .expect("merge");
                    sheet
                        .write_number(row + height + 1, 0, f64::from(row))
                        .expect("number");
                    row += height + 2 + next(4);
                }
                if book % 3 == 0 {
                    sheet
                        .merge_range(1_048_574, 16_380, 1_048_575, 16_383, "corner", &format)
                        .expect("merge at the sheet's end");
                }
            }
            let bytes = workbook.save_to_buffer().expect("workbook");
            out.push((
                std::path::PathBuf::from(format!("generated-{book}.xlsx")),
                bytes,
            ));
        }
        out
    }

    #[test]
    fn merges_found_by_scanning_are_calamines() {
        let (mut compared, mut generated) = (0, 0);
        for (path, bytes) in workbooks() {
            let Ok(mut xlsx) = calamine::open_workbook_from_rs::<calamine::Xlsx<_>, _>(
                Cursor::new(bytes.as_slice()),
            ) else {
                continue;
            };
            let Some(entries) = xlsx_sheet_entries(&bytes) else {
                continue;
            };
            for name in xlsx.sheet_names() {
                let Ok(expected) = xlsx.merge_cells_by_sheet_name(&name) else {
                    continue;
                };
                let Some(entry) = entries.get(&name) else {
                    continue;
                };
                let scanned = scan_merges(&bytes, &entry.path);
                assert_eq!(
                    scanned,
                    Some(merges_of(&expected)),
                    "{} sheet {name:?}",
                    path.display()
                );
                compared += usize::from(!expected.is_empty());
                if path.to_string_lossy().starts_with("generated-") {
                    generated += usize::from(!expected.is_empty());
                }
            }
        }
        // Meaningful on a clone alone: the generated workbooks hold enough.
        assert!(
            compared >= 10 && generated >= 10,
            "only {compared} sheets with merges compared, {generated} of them generated"
        );
    }

    #[test]
    fn cell_positions_read_like_excel() {
        assert_eq!(cell_position("A1"), Some((0, 0)));
        assert_eq!(cell_position("$AB$12"), Some((11, 27)));
        assert_eq!(cell_position("XFD1048576"), Some((1_048_575, 16_383)));
        assert_eq!(cell_position("A0"), None);
        assert_eq!(cell_position("12"), None);
    }

    /// Records what a sink is told.
    #[derive(Default, Debug, PartialEq)]
    struct Recorder(Vec<String>);

    impl RowSink for Recorder {
        fn begin_sheet(
            &mut self,
            name: &str,
            origin_col: u32,
            merges: Option<Vec<Merge>>,
            hidden: bool,
        ) {
            self.0.push(format!(
                "begin {name} {origin_col} {merges:?} hidden={hidden}"
            ));
        }
        fn row(&mut self, row: u32, cells: Vec<Cell>) {
            self.0.push(format!("{row} {cells:?}"));
        }
        fn end_sheet(&mut self, late_merges: Option<Vec<Merge>>) {
            self.0.push(format!("end {late_merges:?}"));
        }
    }

    #[test]
    fn a_workbook_read_on_its_own_thread_gives_the_same_rows() {
        for (path, bytes) in workbooks().into_iter().take(40) {
            let mut direct = Recorder::default();
            let mut pipelined = Recorder::default();
            let a = stream_unguarded(&bytes, &mut direct).map_err(|e| chain(&e));
            let b = stream_pipelined(&bytes, &mut pipelined).map_err(|e| chain(&e));
            assert_eq!(a, b, "{}", path.display());
            assert_eq!(direct, pipelined, "{}", path.display());
        }
    }

    /// A one-sheet xlsx whose `sheetData` is `rows_xml` (written by hand, as
    /// a script would), with or without the request to recalculate on opening.
    fn xlsx_with_sheet_data(rows_xml: &str, calc_on_load: bool) -> Vec<u8> {
        use std::io::{Read, Write};
        let mut workbook = rust_xlsxwriter::Workbook::new();
        // A date-formatted cell, replaced with the rows: the styles then
        // hold style 1 = dd/mm/yyyy for the rows to use (`s="1"`).
        workbook
            .add_worksheet()
            .set_name("DS")
            .expect("name")
            .write_number_with_format(
                0,
                0,
                45852.0,
                &rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy"),
            )
            .expect("date");
        let bytes = workbook.save_to_buffer().expect("workbook");
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes.as_slice())).expect("zip");
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for index in 0..archive.len() {
            let mut entry = archive.by_index(index).expect("entry");
            let name = entry.name().expect("name").to_string();
            let mut content = String::new();
            entry.read_to_string(&mut content).expect("xml");
            if name == "xl/worksheets/sheet1.xml" {
                content = format!(
                    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{rows_xml}</sheetData></worksheet>"#
                );
            }
            if name == "xl/workbook.xml" && !calc_on_load {
                content = content.replace(" fullCalcOnLoad=\"1\"", "");
            }
            out.start_file(name, zip::write::SimpleFileOptions::default())
                .expect("start");
            out.write_all(content.as_bytes()).expect("write");
        }
        out.finish().expect("finish").into_inner()
    }

    /// The rows a sink is told, streamed and read whole (they must agree).
    fn rows_told(bytes: &[u8]) -> Vec<String> {
        let mut streamed = Recorder::default();
        stream_workbook(bytes, &mut streamed).expect("streamed");
        let mut whole = Recorder::default();
        replay(read_workbook(bytes).expect("read whole"), &mut whole);
        // Merges are told at the end when streamed, at the start when whole.
        let rows = |r: Recorder| -> Vec<String> {
            r.0.into_iter()
                .filter(|line| !line.starts_with("begin") && !line.starts_with("end"))
                .collect()
        };
        let (streamed, whole) = (rows(streamed), rows(whole));
        assert_eq!(streamed, whole);
        streamed
    }

    #[test]
    fn formulas_without_a_value_are_uncomputed_cells_not_blanks() {
        let rows = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>An</t></is></c><c r="B1"><f>SUM(D5:D9)</f></c><c r="C1"><f>D8+5</f><v></v></c><c r="D1" t="str"><f>IF(A1="","",A1)</f><v></v></c><c r="E1"><f>1+1</f><v>2</v></c></row>
<row r="2"><c r="B2"><f t="shared" ref="B2:B4" si="0">A2*2</f></c><c r="C2"><v>3</v></c></row>
<row r="3"><c r="B3"><f t="shared" si="0"/></c><c r="C3"><v>4</v></c></row>
<row r="4"><c r="B4"><f t="shared" si="0"/><v>8</v></c></row>"#;
        let told = rows_told(&xlsx_with_sheet_data(rows, false));
        let uncomputed = |f: &str| format!("Uncomputed {{ formula: {f:?} }}");
        assert_eq!(
            told[0],
            format!(
                "0 [Text(\"An\"), {}, {}, Empty, Number(2.0)]",
                uncomputed("SUM(D5:D9)"),
                uncomputed("D8+5")
            ),
            "a computed empty text is blank, a missing value is not"
        );
        assert_eq!(
            told[1],
            format!("1 [Empty, {}, Number(3.0)]", uncomputed("A2*2"))
        );
        assert_eq!(
            told[2],
            format!("2 [Empty, {}, Number(4.0)]", uncomputed("A3*2")),
            "a derived shared formula is named by its own references"
        );
        assert_eq!(told[3], "3 [Empty, Number(8.0)]");
    }

    #[test]
    fn a_placeholder_zero_is_uncomputed_only_in_a_workbook_never_recalculated() {
        let rows = r#"<row r="1"><c r="A1"><f>B1*2</f><v>0</v></c><c r="B1"><v>0</v></c><c r="C1"><f>B1+1</f><v>1</v></c></row>"#;
        let placeholder = rows_told(&xlsx_with_sheet_data(rows, true));
        assert_eq!(
            placeholder,
            ["0 [Uncomputed { formula: \"B1*2\" }, Number(0.0), Number(1.0)]"],
            "a literal 0 stays a number"
        );
        let computed = rows_told(&xlsx_with_sheet_data(rows, false));
        assert_eq!(computed, ["0 [Number(0.0), Number(0.0), Number(1.0)]"]);
    }

    fn day(y: i32, m: u32, d: u32) -> Cell {
        Cell::Date(chrono::NaiveDate::from_ymd_opt(y, m, d).expect("valid date"))
    }

    #[test]
    fn a_date_formatted_formula_result_is_a_date_like_a_value() {
        use rust_xlsxwriter::{Format, Workbook};
        let date = Format::new().set_num_format("dd/mm/yyyy");
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        sheet
            .write_number_with_format(0, 0, 45852.0, &date)
            .expect("start");
        sheet
            .write_formula_with_format(0, 1, "=A1+11", &date)
            .expect("formatted end");
        sheet.set_formula_result(0, 1, "45863");
        // A formula whose inputs are no date stays a number, formatted or not.
        sheet.write_number(0, 2, 80.0).expect("lessons");
        sheet.write_formula(0, 3, "=C1*30000").expect("cost");
        sheet.set_formula_result(0, 3, "2400000");
        // A plain number without a date format is a number.
        sheet.write_number(0, 4, 45863.0).expect("plain");
        // The format alone makes a date: no input here is one.
        sheet
            .write_formula_with_format(0, 5, "=45852+11", &date)
            .expect("formatted literal");
        sheet.set_formula_result(0, 5, "45863");
        let bytes = workbook.save_to_buffer().expect("workbook");
        assert_eq!(
            rows_told(&bytes),
            [format!(
                "0 [{:?}, {:?}, Number(80.0), Number(2400000.0), Number(45863.0), {:?}]",
                day(2025, 7, 14),
                day(2025, 7, 25),
                day(2025, 7, 25)
            )]
        );
    }

    #[test]
    fn a_date_plus_days_is_a_date_without_a_format_and_nothing_else_is() {
        // s="1" is dd/mm/yyyy (see xlsx_with_sheet_data). A1 a date, B1 a number.
        let rows = r#"<row r="1"><c r="A1" s="1"><v>45852</v></c><c r="B1"><v>3</v></c><c r="C1"><f>A1+11</f><v>45863</v></c><c r="D1"><f>$A$1 + B1 - 1</f><v>45854</v></c><c r="E1"><f>A1-A1</f><v>0</v></c><c r="F1"><f>A1+11</f><v>45000</v></c><c r="G1"><f>B1-A1</f><v>-45849</v></c><c r="H1"><f>EDATE(A1,1)</f><v>45883</v></c><c r="I1"><f>J1+1</f><v>45853</v></c><c r="J1" s="1"><v>45852</v></c><c r="K1"><f>Cũ!A1+1</f><v>45853</v></c><c r="L1"><f>C1+1</f><v>45864</v></c></row>
<row r="2"><c r="A2" s="1"><v>45900</v></c><c r="C2"><f t="shared" ref="C2:C3" si="0">A2+5</f><v>45905</v></c></row>
<row r="3"><c r="A3" s="1"><v>45910</v></c><c r="C3"><f t="shared" si="0"/><v>45915</v></c></row>"#;
        let told = rows_told(&xlsx_with_sheet_data(rows, false));
        assert_eq!(
            told,
            [
                format!(
                    "0 [{:?}, Number(3.0), {:?}, {:?}, Number(0.0), Number(45000.0), Number(-45849.0), Number(45883.0), Number(45853.0), {:?}, Number(45853.0), {:?}]",
                    day(2025, 7, 14),
                    day(2025, 7, 25),
                    day(2025, 7, 16),
                    day(2025, 7, 14),
                    day(2025, 7, 26),
                ),
                format!("1 [{:?}, Empty, {:?}]", day(2025, 8, 31), day(2025, 9, 5)),
                format!("2 [{:?}, Empty, {:?}]", day(2025, 9, 10), day(2025, 9, 15)),
            ],
            "date ± days (literals, number cells, a shared formula, a date computed before) is a date; a date minus a date, a stale result, a function, a cell not yet read or on another sheet stay numbers"
        );
    }

    /// An ODS written by hand: a visible sheet with a formula that has no
    /// office:value, and a hidden one.
    fn ods() -> Vec<u8> {
        ods_of(ODS_CONTENT)
    }

    const ODS_CONTENT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2" office:version="1.2">
<office:automatic-styles><style:style style:name="ta1" style:family="table"><style:table-properties table:display="true"/></style:style><style:style style:name="ta2" style:family="table"><style:table-properties table:display="false"/></style:style></office:automatic-styles>
<office:body><office:spreadsheet>
<table:table table:name="DS" table:style-name="ta1"><table:table-row><table:table-cell office:value-type="float" office:value="5"><text:p>5</text:p></table:table-cell><table:table-cell table:formula="of:=[.A1]+5"/><table:table-cell table:formula="of:=[.A1]*2" office:value-type="float" office:value="10"><text:p>10</text:p></table:table-cell></table:table-row></table:table>
<table:table table:name="Cũ" table:style-name="ta2"><table:table-row><table:table-cell office:value-type="string"><text:p>Năm 2024</text:p></table:table-cell></table:table-row></table:table>
</office:spreadsheet></office:body></office:document-content>"#;

    /// An ODS package whose `content.xml` is `content`.
    fn ods_of(content: &str) -> Vec<u8> {
        use std::io::Write;
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        out.start_file("mimetype", stored).expect("mimetype");
        out.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
            .expect("write");
        out.start_file(
            "META-INF/manifest.xml",
            zip::write::SimpleFileOptions::default(),
        )
        .expect("manifest");
        out.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#)
            .expect("write");
        out.start_file("content.xml", zip::write::SimpleFileOptions::default())
            .expect("content");
        out.write_all(content.as_bytes()).expect("write");
        out.finish().expect("finish").into_inner()
    }

    /// A `content.xml` holding `tables` (the `table:table` elements).
    fn ods_content(tables: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3"><office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body></office:document-content>"#
        )
    }

    fn merge(first_row: u32, first_col: u32, last_row: u32, last_col: u32) -> Merge {
        Merge {
            first_row,
            first_col,
            last_row,
            last_col,
        }
    }

    /// Three sheets as LibreOffice writes them: repeated blank rows and
    /// cells, a header row inside `table:table-header-rows` with a group
    /// merged across, a unit merged down over four rows, repeated anchors,
    /// paragraphs with inner elements, a sheet without merges and a name
    /// with an escaped character.
    const THREE_SHEETS: &str = r#"<table:table table:name="DS &amp; tổng hợp"><table:table-column table:number-columns-repeated="1024"/>
<table:table-row table:number-rows-repeated="3"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>
<table:table-header-rows><table:table-row><table:table-cell table:number-columns-repeated="2"/><table:table-cell table:number-columns-spanned="3" table:number-rows-spanned="1" office:value-type="string"><text:p>Trình<text:s/>độ <text:span>chuyên môn</text:span></text:p></table:table-cell><table:covered-table-cell table:number-columns-repeated="2"/></table:table-row></table:table-header-rows>
<table:table-row><table:covered-table-cell/><table:table-cell table:number-rows-spanned="4" office:value-type="string"><text:p>Phòng Nội vụ</text:p></table:table-cell><table:table-cell table:number-columns-repeated="2" table:number-rows-spanned="2" office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell></table:table-row>
<table:table-row table:number-rows-repeated="3"><table:table-cell/><table:covered-table-cell table:number-columns-repeated="3"/><table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row>
<table:table-row table:number-rows-repeated="1048000"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>
</table:table>
<table:table table:name="B"><table:table-row><table:table-cell table:number-columns-spanned="2" table:number-rows-spanned="2" office:value-type="string"><text:p>Tiêu đề</text:p></table:table-cell><table:covered-table-cell/></table:table-row><table:table-row><table:covered-table-cell table:number-columns-repeated="2"/></table:table-row></table:table>
<table:table table:name="C"><table:table-row><table:table-cell office:value-type="string"><text:p>Không gộp</text:p></table:table-cell></table:table-row></table:table>"#;

    #[test]
    fn ods_merges_count_repeats_covered_cells_and_every_sheet() {
        let content = ods_content(THREE_SHEETS);
        let scanned = scan_ods_content(content.as_bytes()).expect("a sound content.xml");
        assert_eq!(
            scanned,
            [
                (
                    "DS & tổng hợp".to_string(),
                    vec![
                        merge(3, 2, 3, 4),
                        merge(4, 1, 7, 1),
                        // An anchor repeated across: one region per copy.
                        merge(4, 2, 5, 2),
                        merge(4, 3, 5, 3),
                    ]
                ),
                ("B".to_string(), vec![merge(0, 0, 1, 1)]),
                ("C".to_string(), vec![]),
            ]
        );
        // The same through the package, as the reader finds it.
        assert_eq!(scan_ods_merges(&ods_of(&content)), Some(scanned));
    }

    #[test]
    fn ods_merges_reach_the_grid_and_the_sink() {
        let bytes = ods_of(&ods_content(THREE_SHEETS));
        let sheets = read_workbook(&bytes).expect("read");
        assert_eq!(sheets.len(), 3);
        let ds = &sheets[0].grid;
        // The first filled cell is D4 (row 3, column 2): merges are relative to it.
        assert_eq!((ds.origin_row, ds.origin_col), (3, 1));
        assert_eq!(
            ds.merges,
            [
                merge(0, 1, 0, 3),
                merge(1, 0, 4, 0),
                merge(1, 1, 2, 1),
                merge(1, 2, 2, 2)
            ]
        );
        // Calamine puts the unit's text where the scan puts its region.
        assert_eq!(ds.rows[1][0], Cell::Text("Phòng Nội vụ".into()));
        assert_eq!(ds.rows[2][3], Cell::Text("x".into()));
        assert_eq!(sheets[1].grid.merges, [merge(0, 0, 1, 1)]);
        let mut told = Recorder::default();
        stream_workbook(&bytes, &mut told).expect("streamed");
        let begins: Vec<&String> = told.0.iter().filter(|l| l.starts_with("begin")).collect();
        assert_eq!(
            begins[0],
            &format!(
                "begin DS & tổng hợp 1 Some({:?}) hidden=false",
                [
                    merge(3, 1, 3, 3),
                    merge(4, 0, 7, 0),
                    merge(4, 1, 5, 1),
                    merge(4, 2, 5, 2)
                ]
            )
        );
    }

    #[test]
    fn ods_merges_stop_at_the_sheet_limits() {
        let content = ods_content(
            r#"<table:table table:name="A"><table:table-row table:number-rows-repeated="1048575"><table:table-cell/></table:table-row><table:table-row><table:table-cell table:number-columns-repeated="16383"/><table:table-cell table:number-columns-spanned="99999999" table:number-rows-spanned="99999999"/></table:table-row><table:table-row><table:table-cell table:number-rows-spanned="2"/></table:table-row></table:table>"#,
        );
        assert_eq!(
            scan_ods_content(content.as_bytes()),
            Some(vec![(
                "A".to_string(),
                vec![merge(1_048_575, 16_383, 1_048_575, 16_383)]
            )]),
            "clipped to the last row and column; nothing past the last row"
        );
    }

    #[test]
    fn a_damaged_ods_content_gives_no_merges_and_never_panics() {
        let content = ods_content(THREE_SHEETS);
        for bad in [
            content.replace("number-rows-spanned=\"4\"", "number-rows-spanned=\"four\""),
            content.replace(
                "table:number-rows-repeated=\"3\"",
                "table:number-rows-repeated=\"-3\"",
            ),
            content[..content.find("<table:table table:name=\"B\"").expect("B") + 40].to_string(),
        ] {
            assert_eq!(scan_ods_content(bad.as_bytes()), None, "{bad:.80}");
        }
        // Cut at every byte (inside a character too): a result or none,
        // never a panic.
        for cut in 0..content.len() {
            let _ = scan_ods_content(&content.as_bytes()[..cut]);
        }
        let no_merges = |found: Option<Vec<(String, Vec<Merge>)>>| {
            found.is_none_or(|sheets| sheets.iter().all(|(_, merges)| merges.is_empty()))
        };
        assert!(no_merges(scan_ods_content(&b"not xml at all <<< &"[..])));
        assert!(no_merges(scan_ods_content(&b"\xff\xfe<table:table"[..])));
        assert_eq!(scan_ods_merges(b"PK not a zip"), None);
        assert!(no_merges(scan_ods_merges(&ods_of(""))));
        // The sheets of a package whose content.xml is damaged are what
        // calamine makes of them; merges never make it fail or panic.
        let _ = read_workbook(&ods_of(&content[..content.len() / 2]));
    }

    #[test]
    fn ods_formulas_without_a_value_and_hidden_sheets() {
        let bytes = ods();
        let mut told = Recorder::default();
        stream_workbook(&bytes, &mut told).expect("read");
        assert_eq!(
            told.0,
            [
                "begin DS 0 Some([]) hidden=false",
                "0 [Number(5.0), Uncomputed { formula: \"[.A1]+5\" }, Number(10.0)]",
                "end None",
                "begin Cũ 0 Some([]) hidden=true",
                "0 [Text(\"Năm 2024\")]",
                "end None",
            ]
        );
    }

    #[test]
    fn hidden_and_very_hidden_xlsx_sheets_are_told_as_hidden() {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        for (name, hide) in [("A", 0), ("B", 1), ("C", 2)] {
            let sheet = workbook.add_worksheet();
            sheet.set_name(name).expect("name");
            sheet.write_string(0, 0, name).expect("cell");
            match hide {
                1 => {
                    sheet.set_hidden(true);
                }
                2 => {
                    sheet.set_very_hidden(true);
                }
                _ => {}
            }
        }
        let bytes = workbook.save_to_buffer().expect("workbook");
        let mut told = Recorder::default();
        stream_workbook(&bytes, &mut told).expect("read");
        let begins: Vec<&String> = told.0.iter().filter(|l| l.starts_with("begin")).collect();
        assert_eq!(begins.len(), 3);
        assert!(begins[0].ends_with("hidden=false"), "{begins:?}");
        assert!(begins[1].ends_with("hidden=true"), "{begins:?}");
        assert!(begins[2].ends_with("hidden=true"), "{begins:?}");
        let whole = read_workbook(&bytes).expect("read whole");
        let hidden: Vec<bool> = whole.iter().map(|s| s.hidden).collect();
        assert_eq!(hidden, [false, true, true]);
    }

    #[test]
    fn vietnamese_reasons_hold_no_library_english() {
        let damaged = read_workbook(b"PK\x03\x04 not really a zip").expect_err("damaged");
        let reasons = [
            damaged.reason_vi(),
            WorkbookError::TooLarge {
                sheet: "DS".into(),
                limit: SizeLimit::Column(20_000),
            }
            .reason_vi(),
            WorkbookError::TooLarge {
                sheet: "DS".into(),
                limit: SizeLimit::Cells,
            }
            .reason_vi(),
            WorkbookError::NotAWorkbook(NotAWorkbook::Html).reason_vi(),
        ];
        for reason in reasons {
            for english in [
                "Cannot", "cannot", "error", "Zip", "column", "cells", "limit",
            ] {
                assert!(!reason.contains(english), "{english:?} in {reason}");
            }
        }
    }
}
