//! Reading workbooks (calamine) into format-independent grids.

use std::io::Cursor;

use calamine::{Data, Reader, Sheets, open_workbook_auto_from_rs};

use super::sheet::Grid;
use super::value::{Cell, parse_date_text};

/// A sheet larger than this many cells is refused: real forms are far smaller,
/// and an absurd declared size is how a hostile or broken file exhausts memory.
pub const MAX_CELLS_PER_SHEET: u64 = 20_000_000;

#[derive(Debug, thiserror::Error)]
pub enum WorkbookError {
    #[error("cannot open the workbook: {0}")]
    Open(String),
    #[error("sheet {sheet:?} cannot be read: {message}")]
    Sheet { sheet: String, message: String },
    #[error(
        "sheet {sheet:?} claims {rows} rows × {columns} columns, more than the {MAX_CELLS_PER_SHEET} cells a form can have"
    )]
    TooLarge {
        sheet: String,
        rows: u64,
        columns: u64,
    },
}

impl WorkbookError {
    /// The reason in Vietnamese, for the department.
    pub fn reason_vi(&self) -> String {
        match self {
            WorkbookError::Open(message) => {
                format!(
                    "Không mở được tệp (hỏng, có mật khẩu hoặc không phải bảng tính Excel): {message}"
                )
            }
            WorkbookError::Sheet { sheet, message } => {
                format!("Không đọc được trang tính \"{sheet}\": {message}")
            }
            WorkbookError::TooLarge {
                sheet,
                rows,
                columns,
            } => format!(
                "Trang tính \"{sheet}\" khai báo {rows} dòng × {columns} cột, vượt quá giới hạn {MAX_CELLS_PER_SHEET} ô"
            ),
        }
    }
}

/// Reads every worksheet of a workbook held in memory. Chart sheets and the
/// like have no cells and come back empty.
pub fn read_workbook(bytes: &[u8]) -> Result<Vec<Grid>, WorkbookError> {
    let mut workbook: Sheets<Cursor<&[u8]>> = open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|e| WorkbookError::Open(e.to_string()))?;
    let names = workbook.sheet_names();
    let mut grids = Vec::with_capacity(names.len());
    for name in names {
        let range = workbook
            .worksheet_range(&name)
            .map_err(|e| WorkbookError::Sheet {
                sheet: name.clone(),
                message: e.to_string(),
            })?;
        let (rows, columns) = range.get_size();
        if (rows as u64).saturating_mul(columns as u64) > MAX_CELLS_PER_SHEET {
            return Err(WorkbookError::TooLarge {
                sheet: name,
                rows: rows as u64,
                columns: columns as u64,
            });
        }
        let (origin_row, origin_col) = range.start().unwrap_or((0, 0));
        let grid_rows = range
            .rows()
            .map(|row| {
                let mut cells: Vec<Cell> = row.iter().map(cell_from).collect();
                while cells.last().is_some_and(Cell::is_blank) {
                    cells.pop();
                }
                cells
            })
            .collect();
        grids.push(Grid {
            name,
            origin_row,
            origin_col,
            rows: grid_rows,
        });
    }
    Ok(grids)
}

fn cell_from(data: &Data) -> Cell {
    match data {
        Data::Empty => Cell::Empty,
        Data::String(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(datetime) if dt.is_datetime() => Cell::Date(datetime.date()),
            _ => Cell::Number(dt.as_f64()),
        },
        Data::DateTimeIso(text) => match parse_date_text(text) {
            Some(date) => Cell::Date(date),
            None => Cell::Text(text.clone()),
        },
        Data::DurationIso(text) => Cell::Text(text.clone()),
        Data::Error(e) => Cell::Error(format!("{e}")),
    }
}
