//! The grid a sheet is read as: its cells, merged regions and where it lies
//! in the workbook; merges over data rows filled down.

use crate::model::text::clean;
use crate::model::value::Cell;

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
    pub(super) fn contains(&self, r: usize, c: usize) -> bool {
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
    pub(super) fn header_text(&self, r: usize, c: usize) -> Option<String> {
        let own = self.cell(r, c);
        let cell = if own.is_blank() {
            let merge = self.merges.iter().find(|m| m.contains(r, c))?;
            self.cell(merge.first_row as usize, merge.first_col as usize)
        } else {
            own
        };
        cell.text().map(clean).filter(|t| !t.is_empty())
    }

    pub(super) fn width(&self, r: usize) -> usize {
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

pub(super) fn texts_of_rows(grid: &Grid, rows: std::ops::Range<usize>) -> Vec<String> {
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

/// Vertical merges over data cells: the value written in the merge's first
/// row belongs to every row the merge covers ("Đơn vị" over five people).
pub(super) struct DataMerges {
    /// Merges spanning rows below the header, by first row.
    waiting: std::collections::VecDeque<Merge>,
    /// Merges the current row may be under, with the value of their first cell.
    active: Vec<(Merge, Cell)>,
}

impl DataMerges {
    pub(super) fn new(merges: &[Merge], data_from: u32) -> Self {
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
    pub(super) fn fill(&mut self, row: u32, cells: &mut Vec<Cell>) {
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
