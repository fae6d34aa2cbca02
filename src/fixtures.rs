//! A small fictional province's Excel submissions, generated reproducibly.
//!
//! Eight departments of "tỉnh Điện Biên" send staff rosters, training records
//! and (Sở Nội vụ only) training plans for 2024 and 2025, laid out like real
//! Vietnamese government forms: a title block, one header row, data rows and a
//! signature block. The generator is used by tests, by the
//! `gen_fixtures` example and for demos, so it must be:
//!
//! * deterministic: every random choice comes from a small SplitMix64 stream
//!   seeded from the department code, the period and a purpose label, and every
//!   workbook carries a fixed creation date, so two runs write identical bytes;
//! * self-describing: [`WrittenFile`] says how many rows of each file are valid
//!   (`data_rows`) and how many must be rejected (`bad_rows`), so tests compare
//!   the pipeline against these figures instead of hard-coding them.
//!
//! The module depends on `std` and `rust_xlsxwriter` only, so it can also be
//! compiled on its own (`#[path = ".../fixtures.rs"] mod fixtures;`).
//!
//! Errors: [`write_province`] returns [`XlsxError`]; file-system errors (creating
//! the department folders, writing the files) arrive as [`XlsxError::IoError`].
//!
//! Traps deliberately built in, as real submissions have them:
//! * two files carry no period in their name (`HTG/bao-cao-dao-tao.xlsx` for
//!   2024, `XTM/danh-sach-can-bo.xlsx` for 2025): the period is only in the
//!   title block ("NĂM 2024"), while the signature date below the table
//!   ("ngày 15 tháng 01 năm 2025") names a different year;
//! * birth dates as text "dd/mm/yyyy" at XTM and XNT, training dates as text at
//!   XTM, costs as Vietnamese text ("1.500.000") at HTG;
//! * one impossible birth date "31/02/1985" (SYT 2025 staff) and one training row
//!   without a course name (TPDBP 2025), counted in `bad_rows`;
//! * XNT sends nothing for 2025 (the "has not submitted" example);
//! * a "Tổng cộng" totals row in the plan, and signer names under the
//!   signature block, neither of which is data.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use rust_xlsxwriter::{
    DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError,
};

/// A unit expected to submit; mirrors `config/departments.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Department {
    pub code: &'static str,
    pub name: &'static str,
    /// `province`, `district` or `commune`.
    pub level: &'static str,
}

/// The fictional province's departments, in registry order.
pub const DEPARTMENTS: &[Department] = &[
    Department {
        code: "SNV",
        name: "Sở Nội vụ",
        level: "province",
    },
    Department {
        code: "SYT",
        name: "Sở Y tế",
        level: "province",
    },
    Department {
        code: "SGDDT",
        name: "Sở Giáo dục và Đào tạo",
        level: "province",
    },
    Department {
        code: "STTTT",
        name: "Sở Khoa học và Công nghệ",
        level: "province",
    },
    Department {
        code: "TPDBP",
        name: "Thành phố Điện Biên Phủ",
        level: "district",
    },
    Department {
        code: "HTG",
        name: "Huyện Tuần Giáo",
        level: "district",
    },
    Department {
        code: "XTM",
        name: "Xã Thanh Minh",
        level: "commune",
    },
    Department {
        code: "XNT",
        name: "Xã Nà Tấu",
        level: "commune",
    },
];

/// The reporting periods (years) the fixtures cover.
pub const YEARS: &[u16] = &[2024, 2025];

/// The department that has not submitted for the latest year.
pub const LATE_DEPARTMENT: &str = "XNT";

/// One workbook written by [`write_province`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    pub path: PathBuf,
    pub department: String,
    /// `YYYY`.
    pub period: String,
    /// `staff`, `training` or `plan`.
    pub template: &'static str,
    /// Rows that must reach the warehouse (totals and signature rows excluded).
    pub data_rows: usize,
    /// Rows that must be rejected.
    pub bad_rows: usize,
}

pub const STAFF_HEADERS: [&str; 12] = [
    "STT",
    "Họ và tên",
    "Mã định danh",
    "Ngày sinh",
    "Giới tính",
    "Đơn vị",
    "Chức vụ",
    "Trình độ chuyên môn",
    "Lý luận chính trị",
    "Quản lý nhà nước",
    "Chuyển đổi số",
    "An toàn thông tin",
];

pub const TRAINING_HEADERS: [&str; 14] = [
    "STT",
    "Họ và tên",
    "Mã định danh",
    "Ngày sinh",
    "Tên khóa học",
    "Nội dung bồi dưỡng",
    "Hình thức",
    "Trong nước/Nước ngoài",
    "Từ ngày",
    "Đến ngày",
    "Số tiết",
    "Kết quả",
    "Chứng chỉ",
    "Kinh phí (đồng)",
];

pub const PLAN_HEADERS: [&str; 4] = [
    "STT",
    "Nội dung",
    "Chỉ tiêu (lượt người)",
    "Kinh phí dự kiến (đồng)",
];

/// The training categories as departments write them. "Chuyển đổi số" and
/// "Tin học" both mean the `digital` category.
pub const TRAINING_CATEGORIES: [&str; 8] = [
    "Chuyên môn, nghiệp vụ",
    "Lý luận chính trị",
    "Quản lý nhà nước",
    "Kỹ năng lãnh đạo, quản lý",
    "Quốc phòng và an ninh",
    "Ngoại ngữ",
    "Chuyển đổi số",
    "Tin học",
];

/// A calendar date. Only valid dates may be written as date cells; an
/// impossible date ("31/02/1985") is written as [`Cell::Text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ymd {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Ymd {
    pub const fn new(year: u16, month: u8, day: u8) -> Ymd {
        Ymd { year, month, day }
    }

    /// Day first, as Vietnamese forms write dates: "05/03/1987".
    pub fn dmy(&self) -> String {
        format!("{:02}/{:02}/{:04}", self.day, self.month, self.year)
    }

    /// The date `days` days later (days ≥ 0).
    fn plus_days(self, days: u32) -> Ymd {
        let mut date = self;
        for _ in 0..days {
            date = if date.day < days_in_month(date.year, date.month) {
                Ymd::new(date.year, date.month, date.day + 1)
            } else if date.month < 12 {
                Ymd::new(date.year, date.month + 1, 1)
            } else {
                Ymd::new(date.year + 1, 1, 1)
            };
        }
        date
    }
}

/// One cell of a form, as the department typed it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Blank,
    Text(String),
    Number(f64),
    /// A real Excel date cell (serial number with a date format).
    Date(Ymd),
}

impl Cell {
    /// Text, or [`Cell::Blank`] for an empty string.
    pub fn text(value: impl Into<String>) -> Cell {
        let value = value.into();
        if value.is_empty() {
            Cell::Blank
        } else {
            Cell::Text(value)
        }
    }

    pub fn int(value: i64) -> Cell {
        // Fixture figures stay far below 2^53, so the conversion is exact.
        Cell::Number(value as f64)
    }
}

/// One row of a staff roster. Empty strings are written as blank cells.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffRow {
    pub person_id: String,
    pub full_name: String,
    pub birth_date: Cell,
    pub gender: String,
    pub unit: String,
    pub position: String,
    pub qualification: String,
    pub political_theory: String,
    pub state_management: String,
    pub digital_role: String,
    pub infosec_role: String,
}

/// One row of a training record (one person, one course).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingRow {
    pub person_id: String,
    pub full_name: String,
    pub birth_date: Cell,
    pub course: String,
    pub category: String,
    pub mode: String,
    pub location: String,
    pub start_date: Cell,
    pub end_date: Cell,
    pub lessons: Cell,
    pub result: String,
    pub certified: String,
    pub cost_vnd: Cell,
}

/// One line of a training plan; the "Tổng cộng" row is added by
/// [`plan_form`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRow {
    pub category: String,
    pub target_participants: i64,
    pub budget_vnd: i64,
}

/// A one-sheet form: title block, header, rows, signature block. Build one
/// with [`staff_form`], [`training_form`] or [`plan_form`], adjust it if a
/// test needs something unusual (another period line, extra columns, a
/// column-number row), and turn it into a workbook with [`form_workbook`].
#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    pub sheet_name: String,
    /// The submitting department's name; written upper-case under the
    /// province line.
    pub agency: String,
    /// The report title, e.g. "DANH SÁCH CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC".
    pub title: String,
    /// The period line under the title, e.g. "NĂM 2025".
    pub period_line: String,
    pub headers: Vec<String>,
    /// Whether a "(1) (2) (3)…" column-number row follows the header.
    pub number_row: bool,
    /// Data rows (and totals rows), each starting at column A.
    pub rows: Vec<Vec<Cell>>,
    /// The date of the signature line, also the workbook's creation date.
    pub signed_on: Ymd,
}

/// What a department sent for one period and template.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    Staff(Vec<StaffRow>),
    Training(Vec<TrainingRow>),
    Plan(Vec<PlanRow>),
}

/// One fixture file before it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    pub department: &'static Department,
    pub year: u16,
    /// The file name inside `inbox/<CODE>/`.
    pub file_name: String,
    pub content: Content,
    /// How many of the content's rows are deliberately invalid.
    pub bad_rows: usize,
}

impl Submission {
    pub fn period(&self) -> String {
        self.year.to_string()
    }

    pub fn template(&self) -> &'static str {
        match self.content {
            Content::Staff(_) => "staff",
            Content::Training(_) => "training",
            Content::Plan(_) => "plan",
        }
    }

    /// Valid rows: the content's rows minus the bad ones (a plan's totals row
    /// is not part of the content).
    pub fn data_rows(&self) -> usize {
        let rows = match &self.content {
            Content::Staff(rows) => rows.len(),
            Content::Training(rows) => rows.len(),
            Content::Plan(rows) => rows.len(),
        };
        rows.saturating_sub(self.bad_rows)
    }

    pub fn form(&self) -> Form {
        match &self.content {
            Content::Staff(rows) => staff_form(self.department, self.year, rows),
            Content::Training(rows) => training_form(self.department, self.year, rows),
            Content::Plan(rows) => plan_form(self.department, self.year, rows),
        }
    }

    pub fn workbook(&self) -> Result<Workbook, XlsxError> {
        form_workbook(&self.form())
    }
}

/// Writes every fixture workbook to `inbox/<CODE>/<file>.xlsx`, creating the
/// folders, and returns what was written in a stable order (department, year,
/// template). Existing files with the same names are overwritten; nothing is
/// deleted. File-system errors are returned as [`XlsxError::IoError`].
pub fn write_province(inbox: &Path) -> Result<Vec<WrittenFile>, XlsxError> {
    let mut written = Vec::new();
    for submission in province_submissions() {
        let dir = inbox.join(submission.department.code);
        fs::create_dir_all(&dir)?;
        let path = dir.join(&submission.file_name);
        submission.workbook()?.save(&path)?;
        written.push(WrittenFile {
            path,
            department: submission.department.code.to_string(),
            period: submission.period(),
            template: submission.template(),
            data_rows: submission.data_rows(),
            bad_rows: submission.bad_rows,
        });
    }
    Ok(written)
}

/// The whole province in memory, in the order [`write_province`] writes it.
pub fn province_submissions() -> Vec<Submission> {
    // Person ids are unique across the province, not only per department:
    // a person works in one place.
    let mut taken_ids = HashSet::new();
    let mut submissions = Vec::new();
    let mut training_by_year: Vec<(u16, Vec<TrainingRow>)> = Vec::new();
    for department in DEPARTMENTS {
        let pool = Pool::generate(department, &mut taken_ids);
        for &year in YEARS {
            if year == 2025 && department.code == LATE_DEPARTMENT {
                continue;
            }
            let style = Style::of(department);
            let (staff, staff_bad) = staff_rows(department, year, &pool, &style);
            let (training, training_bad) = training_rows(department, year, &pool, &style);
            match training_by_year.iter_mut().find(|(y, _)| *y == year) {
                Some((_, rows)) => rows.extend(training.iter().cloned()),
                None => training_by_year.push((year, training.clone())),
            }
            submissions.push(Submission {
                department,
                year,
                file_name: file_name(department.code, "staff", year),
                content: Content::Staff(staff),
                bad_rows: staff_bad,
            });
            submissions.push(Submission {
                department,
                year,
                file_name: file_name(department.code, "training", year),
                content: Content::Training(training),
                bad_rows: training_bad,
            });
        }
    }
    // The Department of Home Affairs sends the province's plan; its targets
    // are set near what was achieved so attainment lands around 70–110 %.
    if let Some(home_affairs) = DEPARTMENTS.iter().find(|d| d.code == "SNV") {
        for (year, training) in &training_by_year {
            submissions.push(Submission {
                department: home_affairs,
                year: *year,
                file_name: file_name(home_affairs.code, "plan", *year),
                content: Content::Plan(plan_rows(*year, training)),
                bad_rows: 0,
            });
        }
    }
    submissions.sort_by_key(|s| {
        let department = DEPARTMENTS
            .iter()
            .position(|d| d.code == s.department.code)
            .unwrap_or(usize::MAX);
        let template = match s.content {
            Content::Staff(_) => 0,
            Content::Training(_) => 1,
            Content::Plan(_) => 2,
        };
        (department, s.year, template)
    });
    submissions
}

/// The file name a department gives its submission. Most carry the year as a
/// token; two do not, so their period must come from the title block.
fn file_name(code: &str, template: &str, year: u16) -> String {
    match (code, template, year) {
        ("HTG", "training", 2024) => "bao-cao-dao-tao.xlsx".to_string(),
        ("XTM", "staff", 2025) => "danh-sach-can-bo.xlsx".to_string(),
        ("SGDDT", "staff", _) => format!("SGDDT_DS-CBCCVC_{year}.xlsx"),
        ("SGDDT", "training", _) => format!("SGDDT_DaoTao_{year}.xlsx"),
        // A name with spaces, as saved from Excel's "Save as" by hand.
        ("XTM", "training", _) => format!("Bao cao dao tao nam {year}.xlsx"),
        (_, "staff", _) => format!("danh-sach-can-bo_{year}.xlsx"),
        (_, "training", _) => format!("dao-tao-boi-duong_{year}.xlsx"),
        _ => format!("ke-hoach-dao-tao_{year}.xlsx"),
    }
}

// ---------------------------------------------------------------------------
// Forms and workbooks
// ---------------------------------------------------------------------------

/// The signature date of a period's reports: mid-January of the next year,
/// so it never equals the period.
fn signing_date(year: u16) -> Ymd {
    Ymd::new(year + 1, 1, 15)
}

pub fn staff_form(department: &Department, year: u16, rows: &[StaffRow]) -> Form {
    let rows = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            vec![
                Cell::int(i as i64 + 1),
                Cell::text(r.full_name.as_str()),
                Cell::text(r.person_id.as_str()),
                r.birth_date.clone(),
                Cell::text(r.gender.as_str()),
                Cell::text(r.unit.as_str()),
                Cell::text(r.position.as_str()),
                Cell::text(r.qualification.as_str()),
                Cell::text(r.political_theory.as_str()),
                Cell::text(r.state_management.as_str()),
                Cell::text(r.digital_role.as_str()),
                Cell::text(r.infosec_role.as_str()),
            ]
        })
        .collect();
    Form {
        sheet_name: "DS CBCCVC".to_string(),
        agency: department.name.to_string(),
        title: "DANH SÁCH CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC".to_string(),
        period_line: format!("NĂM {year}"),
        headers: STAFF_HEADERS.iter().map(|h| h.to_string()).collect(),
        number_row: false,
        rows,
        signed_on: signing_date(year),
    }
}

pub fn training_form(department: &Department, year: u16, rows: &[TrainingRow]) -> Form {
    let rows = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            vec![
                Cell::int(i as i64 + 1),
                Cell::text(r.full_name.as_str()),
                Cell::text(r.person_id.as_str()),
                r.birth_date.clone(),
                Cell::text(r.course.as_str()),
                Cell::text(r.category.as_str()),
                Cell::text(r.mode.as_str()),
                Cell::text(r.location.as_str()),
                r.start_date.clone(),
                r.end_date.clone(),
                r.lessons.clone(),
                Cell::text(r.result.as_str()),
                Cell::text(r.certified.as_str()),
                r.cost_vnd.clone(),
            ]
        })
        .collect();
    Form {
        sheet_name: "Dao tao".to_string(),
        agency: department.name.to_string(),
        title: "DANH SÁCH KẾT QUẢ ĐÀO TẠO, BỒI DƯỠNG".to_string(),
        period_line: format!("NĂM {year}"),
        headers: TRAINING_HEADERS.iter().map(|h| h.to_string()).collect(),
        number_row: false,
        rows,
        signed_on: signing_date(year),
    }
}

/// A plan form: one row per line, then "Tổng cộng" (blank STT) with the sums.
pub fn plan_form(department: &Department, year: u16, rows: &[PlanRow]) -> Form {
    let mut cells: Vec<Vec<Cell>> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            vec![
                Cell::int(i as i64 + 1),
                Cell::text(r.category.as_str()),
                Cell::int(r.target_participants),
                Cell::int(r.budget_vnd),
            ]
        })
        .collect();
    cells.push(vec![
        Cell::Blank,
        Cell::text("Tổng cộng"),
        Cell::int(rows.iter().map(|r| r.target_participants).sum()),
        Cell::int(rows.iter().map(|r| r.budget_vnd).sum()),
    ]);
    Form {
        sheet_name: "Ke hoach".to_string(),
        agency: department.name.to_string(),
        title: "KẾ HOẠCH ĐÀO TẠO, BỒI DƯỠNG CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC".to_string(),
        period_line: format!("NĂM {year}"),
        headers: PLAN_HEADERS.iter().map(|h| h.to_string()).collect(),
        number_row: false,
        rows: cells,
        signed_on: signing_date(year),
    }
}

pub fn staff_workbook(
    department: &Department,
    year: u16,
    rows: &[StaffRow],
) -> Result<Workbook, XlsxError> {
    form_workbook(&staff_form(department, year, rows))
}

pub fn training_workbook(
    department: &Department,
    year: u16,
    rows: &[TrainingRow],
) -> Result<Workbook, XlsxError> {
    form_workbook(&training_form(department, year, rows))
}

pub fn plan_workbook(
    department: &Department,
    year: u16,
    rows: &[PlanRow],
) -> Result<Workbook, XlsxError> {
    form_workbook(&plan_form(department, year, rows))
}

/// Zero-based sheet rows of the layout: title block in Excel rows 1–6, a
/// blank row 7, the header in row 8.
const HEADER_ROW: u32 = 7;

/// Lays a form out on one sheet. The workbook's creation date is fixed to the
/// form's signature date so the bytes are the same on every run.
pub fn form_workbook(form: &Form) -> Result<Workbook, XlsxError> {
    let mut workbook = Workbook::new();
    let created = ExcelDateTime::from_ymd(
        form.signed_on.year,
        form.signed_on.month,
        form.signed_on.day,
    )?;
    let properties = DocProperties::new()
        .set_creation_datetime(&created)
        .set_author(form.agency.as_str())
        .set_company("UBND tỉnh Điện Biên")
        .set_title(form.title.as_str());
    workbook.set_properties(&properties);
    let sheet = workbook.add_worksheet();
    write_form(sheet, form)?;
    Ok(workbook)
}

struct Formats {
    bold_center: Format,
    title: Format,
    italic_center: Format,
    header: Format,
    cell: Format,
    center: Format,
    money: Format,
    date: Format,
}

impl Formats {
    fn new() -> Formats {
        // Times New Roman 12 is what government templates prescribe.
        let base = Format::new()
            .set_font_name("Times New Roman")
            .set_font_size(12);
        let boxed = base.clone().set_border(FormatBorder::Thin);
        Formats {
            bold_center: base.clone().set_bold().set_align(FormatAlign::Center),
            title: base
                .clone()
                .set_bold()
                .set_font_size(14)
                .set_align(FormatAlign::Center),
            italic_center: base.clone().set_italic().set_align(FormatAlign::Center),
            header: boxed
                .clone()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
            cell: boxed.clone(),
            center: boxed.clone().set_align(FormatAlign::Center),
            money: boxed.clone().set_num_format("#,##0"),
            date: boxed
                .set_num_format("dd/mm/yyyy")
                .set_align(FormatAlign::Center),
        }
    }
}

fn write_form(sheet: &mut Worksheet, form: &Form) -> Result<(), XlsxError> {
    let formats = Formats::new();
    sheet.set_name(form.sheet_name.as_str())?;
    sheet.set_landscape();

    // The title block spans at least four columns, so that the left (agency)
    // and right (national motto) halves never overlap, even for narrow forms.
    let width = form.headers.len().max(4) as u16;
    let last_col = width - 1;
    let left_end = (width / 2 - 1).min(3);
    let right_start = (width / 2).max(width.saturating_sub(6));

    merge_or_write(
        sheet,
        0,
        0,
        left_end,
        "UBND TỈNH ĐIỆN BIÊN",
        &formats.bold_center,
    )?;
    merge_or_write(
        sheet,
        0,
        right_start,
        last_col,
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        &formats.bold_center,
    )?;
    merge_or_write(
        sheet,
        1,
        0,
        left_end,
        &form.agency.to_uppercase(),
        &formats.bold_center,
    )?;
    merge_or_write(
        sheet,
        1,
        right_start,
        last_col,
        "Độc lập - Tự do - Hạnh phúc",
        &formats.bold_center,
    )?;
    merge_or_write(sheet, 3, 0, last_col, &form.title, &formats.title)?;
    merge_or_write(
        sheet,
        4,
        0,
        last_col,
        &form.period_line,
        &formats.bold_center,
    )?;
    merge_or_write(
        sheet,
        5,
        0,
        last_col,
        &format!("(Kèm theo báo cáo của {})", form.agency),
        &formats.italic_center,
    )?;

    for (col, header) in form.headers.iter().enumerate() {
        sheet.write_string_with_format(HEADER_ROW, col as u16, header, &formats.header)?;
    }
    let mut row = HEADER_ROW + 1;
    if form.number_row {
        for col in 0..form.headers.len() {
            let label = format!("({})", col + 1);
            sheet.write_string_with_format(row, col as u16, &label, &formats.center)?;
        }
        row += 1;
    }
    for cells in &form.rows {
        for (col, cell) in cells.iter().enumerate() {
            write_cell(sheet, row, col as u16, cell, &formats)?;
        }
        row += 1;
    }

    // Signature block, after one blank row. Its date is the signing date,
    // not the period. The head of unit signs in column F on wide forms.
    let head_col: u16 = if width > 6 { 5 } else { last_col };
    let prepared_col: u16 = 1;
    row += 1;
    let dated = form.signed_on;
    let date_line = format!(
        "Điện Biên, ngày {:02} tháng {:02} năm {}",
        dated.day, dated.month, dated.year
    );
    sheet.write_string_with_format(row, head_col, &date_line, &formats.italic_center)?;
    row += 1;
    sheet.write_string_with_format(row, prepared_col, "Người lập biểu", &formats.bold_center)?;
    sheet.write_string_with_format(row, head_col, "Thủ trưởng đơn vị", &formats.bold_center)?;
    row += 1;
    sheet.write_string_with_format(
        row,
        prepared_col,
        "(Ký, ghi rõ họ tên)",
        &formats.italic_center,
    )?;
    sheet.write_string_with_format(row, head_col, "(Ký tên, đóng dấu)", &formats.italic_center)?;
    // Real forms leave room for the signatures, then print the names.
    row += 4;
    let mut names = Rng::seeded(&[form.agency.as_str(), "signers"]);
    let preparer = vietnamese_name(&mut names, Gender::Female, "province");
    let head = vietnamese_name(&mut names, Gender::Male, "province");
    sheet.write_string_with_format(row, prepared_col, &preparer, &formats.bold_center)?;
    sheet.write_string_with_format(row, head_col, &head, &formats.bold_center)?;

    for (col, header) in form.headers.iter().enumerate() {
        sheet.set_column_width(col as u16, column_width(header, col, &form.rows))?;
    }
    Ok(())
}

fn merge_or_write(
    sheet: &mut Worksheet,
    row: u32,
    first_col: u16,
    last_col: u16,
    text: &str,
    format: &Format,
) -> Result<(), XlsxError> {
    if first_col < last_col {
        sheet.merge_range(row, first_col, row, last_col, text, format)?;
    } else {
        sheet.write_string_with_format(row, first_col, text, format)?;
    }
    Ok(())
}

fn write_cell(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    cell: &Cell,
    formats: &Formats,
) -> Result<(), XlsxError> {
    match cell {
        // A blank with a format keeps the table's borders, as in a real form.
        Cell::Blank => sheet.write_blank(row, col, &formats.cell)?,
        Cell::Text(text) => sheet.write_string_with_format(row, col, text, &formats.cell)?,
        Cell::Number(number) => {
            let format = if number.fract() == 0.0 && number.abs() >= 1000.0 {
                &formats.money
            } else {
                &formats.center
            };
            sheet.write_number_with_format(row, col, *number, format)?
        }
        Cell::Date(date) => {
            let value = ExcelDateTime::from_ymd(date.year, date.month, date.day)?;
            sheet.write_datetime_with_format(row, col, &value, &formats.date)?
        }
    };
    Ok(())
}

/// A readable width: the longest header or text in the column, within limits.
fn column_width(header: &str, col: usize, rows: &[Vec<Cell>]) -> f64 {
    if header == "STT" {
        return 5.0;
    }
    let longest_text = rows
        .iter()
        .filter_map(|cells| match cells.get(col) {
            Some(Cell::Text(text)) => Some(text.chars().count()),
            Some(Cell::Date(_)) => Some(10),
            Some(Cell::Number(_)) => Some(12),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    // Headers wrap, so they need only about half their length.
    let wanted = longest_text.max(header.chars().count() / 2 + 2) as f64 * 1.1;
    wanted.clamp(8.0, 45.0)
}

// ---------------------------------------------------------------------------
// Deterministic randomness
// ---------------------------------------------------------------------------

/// SplitMix64: tiny, fast, good enough for fixtures, and identical on every
/// platform (no dependence on `HashMap` order or the `rand` crate).
struct Rng(u64);

impl Rng {
    /// Seeded from labels (department code, period, purpose) with FNV-1a, so
    /// each stream is independent: changing one department's rules does not
    /// shift another department's data.
    fn seeded(labels: &[&str]) -> Rng {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for label in labels {
            for byte in label.bytes().chain(std::iter::once(0xff)) {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        Rng(hash)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when n is 0); the modulo bias is irrelevant here.
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// Uniform in `low..=high`.
    fn between(&mut self, low: u32, high: u32) -> u32 {
        low + self.below(u64::from(high.saturating_sub(low)) + 1) as u32
    }

    fn percent(&mut self, chance: u64) -> bool {
        self.below(100) < chance
    }

    /// One element; the lists passed in are non-empty constants.
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// A value drawn by weight.
    fn weighted<'a>(&mut self, table: &[(&'a str, u32)]) -> &'a str {
        let total: u64 = table.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut draw = self.below(total);
        for (value, weight) in table {
            let weight = u64::from(*weight);
            if draw < weight {
                return value;
            }
            draw -= weight;
        }
        table.last().map(|(value, _)| *value).unwrap_or("")
    }
}

fn is_leap(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn random_date(rng: &mut Rng, year: u16) -> Ymd {
    let month = rng.between(1, 12) as u8;
    let day = rng.between(1, u32::from(days_in_month(year, month))) as u8;
    Ymd::new(year, month, day)
}

/// "1.500.000": thousands separated by dots, as Vietnamese text writes money.
fn vietnamese_thousands(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(ch);
    }
    if value < 0 { format!("-{out}") } else { out }
}

// ---------------------------------------------------------------------------
// People
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gender {
    Male,
    Female,
}

impl Gender {
    fn label(self) -> &'static str {
        match self {
            Gender::Male => "Nam",
            Gender::Female => "Nữ",
        }
    }
}

// Điện Biên is home to Kinh, Thái and H'Mông people; their names differ in
// family names and, for the H'Mông, the male middle name "A".
const KINH_FAMILIES: &[(&str, u32)] = &[
    ("Nguyễn", 30),
    ("Trần", 10),
    ("Lê", 10),
    ("Phạm", 8),
    ("Hoàng", 6),
    ("Vũ", 5),
    ("Đặng", 4),
    ("Bùi", 4),
    ("Đỗ", 4),
    ("Ngô", 3),
];
const THAI_FAMILIES: &[(&str, u32)] = &[
    ("Lò", 30),
    ("Quàng", 20),
    ("Lường", 20),
    ("Cà", 15),
    ("Tòng", 10),
    ("Lù", 5),
];
const HMONG_FAMILIES: &[(&str, u32)] = &[
    ("Giàng", 30),
    ("Thào", 25),
    ("Vàng", 20),
    ("Mùa", 15),
    ("Sùng", 10),
];
const MALE_MIDDLE: &[&str] = &["Văn", "Văn", "Đức", "Minh", "Hữu", "Quang", "Xuân", "Mạnh"];
const FEMALE_MIDDLE: &[&str] = &[
    "Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Hồng", "Phương",
];
const MALE_GIVEN: &[&str] = &[
    "An", "Bình", "Cường", "Dũng", "Duy", "Hải", "Hiếu", "Hùng", "Huy", "Khánh", "Long", "Minh",
    "Nam", "Phong", "Quân", "Sơn", "Thắng", "Trung", "Tuấn", "Việt",
];
const FEMALE_GIVEN: &[&str] = &[
    "Anh", "Bình", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hoa", "Huyền", "Hương", "Lan", "Linh",
    "Mai", "Nga", "Nhung", "Phương", "Thảo", "Trang", "Vân", "Yến",
];
const HMONG_MALE_GIVEN: &[&str] = &["Páo", "Chứ", "Dế", "Sình", "Lử", "Chống", "Sềnh"];
const HMONG_FEMALE_GIVEN: &[&str] = &["Mỷ", "Dợ", "Sua", "Chua", "Mai", "Pà"];

fn vietnamese_name(rng: &mut Rng, gender: Gender, level: &str) -> String {
    // Communes in the highlands are mostly Thái and H'Mông.
    let groups: &[(&str, u32)] = match level {
        "commune" => &[("kinh", 30), ("thai", 40), ("hmong", 30)],
        "district" => &[("kinh", 55), ("thai", 30), ("hmong", 15)],
        _ => &[("kinh", 75), ("thai", 18), ("hmong", 7)],
    };
    match (rng.weighted(groups), gender) {
        ("hmong", Gender::Male) => format!(
            "{} A {}",
            rng.weighted(HMONG_FAMILIES),
            rng.pick(HMONG_MALE_GIVEN)
        ),
        ("hmong", Gender::Female) => format!(
            "{} Thị {}",
            rng.weighted(HMONG_FAMILIES),
            rng.pick(HMONG_FEMALE_GIVEN)
        ),
        (group, gender) => {
            let family = if group == "thai" {
                rng.weighted(THAI_FAMILIES)
            } else {
                rng.weighted(KINH_FAMILIES)
            };
            let (middle, given) = match gender {
                Gender::Male => (rng.pick(MALE_MIDDLE), rng.pick(MALE_GIVEN)),
                Gender::Female => (rng.pick(FEMALE_MIDDLE), rng.pick(FEMALE_GIVEN)),
            };
            format!("{family} {middle} {given}")
        }
    }
}

/// A 12-digit citizen id like a CCCD: province code 011 (Điện Biên), a
/// century-and-gender digit, the two-digit birth year, six random digits.
fn citizen_id(rng: &mut Rng, gender: Gender, birth: Ymd) -> String {
    let century_gender = match (birth.year >= 2000, gender) {
        (false, Gender::Male) => 0,
        (false, Gender::Female) => 1,
        (true, Gender::Male) => 2,
        (true, Gender::Female) => 3,
    };
    format!(
        "011{}{:02}{:06}",
        century_gender,
        birth.year % 100,
        rng.below(1_000_000)
    )
}

#[derive(Debug, Clone)]
struct Person {
    id: String,
    name: String,
    gender: Gender,
    birth: Ymd,
    unit: String,
    position: String,
    qualification: String,
    political_theory: String,
    state_management: String,
    digital_role: String,
    infosec_role: String,
}

/// Where a department's people work and what they do.
struct Workplace {
    units: &'static [&'static str],
    positions: &'static [&'static str],
    leadership_unit: &'static str,
    head: &'static str,
    deputy: &'static str,
}

fn workplace(department: &Department) -> Workplace {
    match (department.code, department.level) {
        ("SNV", _) => Workplace {
            units: &[
                "Văn phòng Sở",
                "Phòng Tổ chức, biên chế",
                "Phòng Công chức, viên chức",
                "Phòng Xây dựng chính quyền",
                "Thanh tra Sở",
                "Trung tâm Lưu trữ lịch sử",
            ],
            positions: &[
                "Chuyên viên",
                "Chuyên viên",
                "Chuyên viên chính",
                "Trưởng phòng",
                "Phó Trưởng phòng",
                "Văn thư",
                "Kế toán",
                "Lưu trữ viên",
            ],
            leadership_unit: "Ban Giám đốc",
            head: "Giám đốc",
            deputy: "Phó Giám đốc",
        },
        ("SYT", _) => Workplace {
            units: &[
                "Văn phòng Sở",
                "Phòng Nghiệp vụ Y",
                "Bệnh viện Đa khoa tỉnh",
                "Trung tâm Kiểm soát bệnh tật",
                "Bệnh viện Y học cổ truyền",
            ],
            positions: &[
                "Chuyên viên",
                "Bác sĩ",
                "Bác sĩ",
                "Điều dưỡng",
                "Điều dưỡng",
                "Dược sĩ",
                "Kỹ thuật viên",
                "Trưởng khoa",
                "Kế toán",
            ],
            leadership_unit: "Ban Giám đốc",
            head: "Giám đốc",
            deputy: "Phó Giám đốc",
        },
        ("SGDDT", _) => Workplace {
            units: &[
                "Văn phòng Sở",
                "Phòng Giáo dục trung học",
                "Trường THPT Chuyên Lê Quý Đôn",
                "Trường THPT Phan Đình Giót",
                "Trung tâm GDNN-GDTX tỉnh",
            ],
            positions: &[
                "Chuyên viên",
                "Giáo viên",
                "Giáo viên",
                "Giáo viên",
                "Hiệu trưởng",
                "Phó Hiệu trưởng",
                "Nhân viên thư viện",
                "Kế toán",
            ],
            leadership_unit: "Ban Giám đốc",
            head: "Giám đốc",
            deputy: "Phó Giám đốc",
        },
        ("STTTT", _) => Workplace {
            units: &[
                "Văn phòng Sở",
                "Phòng Chuyển đổi số",
                "Phòng Bưu chính, Viễn thông",
                "Trung tâm Giám sát, điều hành đô thị thông minh",
                "Trung tâm Ứng dụng tiến bộ khoa học và công nghệ",
            ],
            positions: &[
                "Chuyên viên",
                "Chuyên viên",
                "Kỹ sư",
                "Trưởng phòng",
                "Phó Trưởng phòng",
                "Kỹ thuật viên",
                "Kế toán",
            ],
            leadership_unit: "Ban Giám đốc",
            head: "Giám đốc",
            deputy: "Phó Giám đốc",
        },
        (_, "district") => Workplace {
            units: &[
                "Văn phòng HĐND và UBND",
                "Phòng Nội vụ",
                "Phòng Tài chính - Kế hoạch",
                "Phòng Giáo dục và Đào tạo",
                "Phòng Văn hóa và Thông tin",
                "Phòng Tài nguyên và Môi trường",
            ],
            positions: &[
                "Chuyên viên",
                "Chuyên viên",
                "Chuyên viên",
                "Trưởng phòng",
                "Phó Trưởng phòng",
                "Văn thư",
                "Kế toán",
            ],
            leadership_unit: "Lãnh đạo UBND",
            head: "Chủ tịch UBND",
            deputy: "Phó Chủ tịch UBND",
        },
        _ => Workplace {
            units: &["UBND xã", "UBND xã", "Đảng ủy xã", "HĐND xã"],
            positions: &[
                "Công chức Văn phòng - Thống kê",
                "Công chức Tư pháp - Hộ tịch",
                "Công chức Địa chính - Xây dựng",
                "Công chức Tài chính - Kế toán",
                "Công chức Văn hóa - Xã hội",
                "Chỉ huy trưởng Quân sự",
            ],
            leadership_unit: "UBND xã",
            head: "Chủ tịch UBND xã",
            deputy: "Phó Chủ tịch UBND xã",
        },
    }
}

fn qualification_table(level: &str) -> &'static [(&'static str, u32)] {
    match level {
        "commune" => &[
            ("Thạc sĩ", 2),
            ("Đại học", 33),
            ("Cao đẳng", 10),
            ("Trung cấp", 45),
            ("Sơ cấp", 5),
            ("", 5),
        ],
        "district" => &[
            ("Thạc sĩ", 12),
            ("Đại học", 70),
            ("Cao đẳng", 7),
            ("Trung cấp", 9),
            ("Sơ cấp", 1),
            ("", 1),
        ],
        _ => &[
            ("Tiến sĩ", 3),
            ("Thạc sĩ", 25),
            ("Đại học", 60),
            ("Cao đẳng", 5),
            ("Trung cấp", 5),
            ("Sơ cấp", 1),
            ("", 1),
        ],
    }
}

fn political_theory_table(level: &str) -> &'static [(&'static str, u32)] {
    match level {
        "commune" => &[("Cao cấp", 2), ("Trung cấp", 48), ("Sơ cấp", 30), ("", 20)],
        "district" => &[
            ("Cao cấp", 8),
            ("Cử nhân", 2),
            ("Trung cấp", 45),
            ("Sơ cấp", 25),
            ("", 20),
        ],
        _ => &[
            ("Cao cấp", 12),
            ("Cử nhân", 3),
            ("Trung cấp", 40),
            ("Sơ cấp", 25),
            ("", 20),
        ],
    }
}

fn state_management_table(level: &str) -> &'static [(&'static str, u32)] {
    match level {
        "commune" => &[("Chuyên viên chính", 3), ("Chuyên viên", 52), ("", 45)],
        "district" => &[
            ("Chuyên viên cao cấp", 1),
            ("Chuyên viên chính", 15),
            ("Chuyên viên", 54),
            ("", 30),
        ],
        _ => &[
            ("Chuyên viên cao cấp", 4),
            ("Chuyên viên chính", 26),
            ("Chuyên viên", 45),
            ("", 25),
        ],
    }
}

/// Digital and information-security roles are rare, except at the
/// department in charge of digital transformation.
fn digital_role_table(code: &str) -> &'static [(&'static str, u32)] {
    match code {
        "STTTT" => &[("Chuyên trách", 20), ("Kiêm nhiệm", 10), ("", 70)],
        _ => &[("Chuyên trách", 3), ("Kiêm nhiệm", 8), ("", 89)],
    }
}

fn infosec_role_table(code: &str) -> &'static [(&'static str, u32)] {
    match code {
        "STTTT" => &[("Chuyên trách", 10), ("Kiêm nhiệm", 10), ("", 80)],
        _ => &[("Chuyên trách", 1), ("Kiêm nhiệm", 4), ("", 95)],
    }
}

/// A new person for the department. Leaders (`rank` 0 = head, 1–2 =
/// deputies) are older and better qualified, as in reality.
fn new_person(
    rng: &mut Rng,
    department: &Department,
    rank: usize,
    born_between: (u16, u16),
    taken_ids: &mut HashSet<String>,
) -> Person {
    let female_share = match department.code {
        "SYT" | "SGDDT" => 62,
        _ => 48,
    };
    let gender = if rng.percent(female_share) {
        Gender::Female
    } else {
        Gender::Male
    };
    let name = vietnamese_name(rng, gender, department.level);
    let birth_year = rng.between(u32::from(born_between.0), u32::from(born_between.1)) as u16;
    let birth = random_date(rng, birth_year);
    let id = loop {
        let candidate = citizen_id(rng, gender, birth);
        if taken_ids.insert(candidate.clone()) {
            break candidate;
        }
    };
    let place = workplace(department);
    let level = department.level;
    let (unit, position) = match rank {
        0 => (place.leadership_unit.to_string(), place.head.to_string()),
        1 | 2 => (place.leadership_unit.to_string(), place.deputy.to_string()),
        _ => (
            rng.pick(place.units).to_string(),
            rng.pick(place.positions).to_string(),
        ),
    };
    let leader = rank < 3;
    let qualification = if leader {
        if level == "commune" {
            "Đại học"
        } else {
            rng.weighted(&[("Tiến sĩ", 15), ("Thạc sĩ", 60), ("Đại học", 25)])
        }
    } else {
        rng.weighted(qualification_table(level))
    };
    let political_theory = if leader {
        if level == "commune" {
            "Trung cấp"
        } else {
            "Cao cấp"
        }
    } else {
        rng.weighted(political_theory_table(level))
    };
    let state_management = if leader {
        if level == "commune" {
            "Chuyên viên"
        } else {
            rng.weighted(&[("Chuyên viên cao cấp", 40), ("Chuyên viên chính", 60)])
        }
    } else {
        rng.weighted(state_management_table(level))
    };
    let digital_role = rng.weighted(digital_role_table(department.code));
    let infosec_role = rng.weighted(infosec_role_table(department.code));
    Person {
        id,
        name,
        gender,
        birth,
        unit,
        position,
        qualification: qualification.to_string(),
        political_theory: political_theory.to_string(),
        state_management: state_management.to_string(),
        digital_role: digital_role.to_string(),
        infosec_role: infosec_role.to_string(),
    }
}

/// Everyone who works, worked or will work at a department over the two
/// years, so the same person keeps the same id from 2024 to 2025.
struct Pool {
    people: Vec<Person>,
    /// Indexes into `people` of each year's roster, in roster order.
    roster_2024: Vec<usize>,
    roster_2025: Vec<usize>,
}

impl Pool {
    fn generate(department: &Department, taken_ids: &mut HashSet<String>) -> Pool {
        let mut rng = Rng::seeded(&[department.code, "pool"]);
        // 2025 = 2024 − leavers (1–3) + hires (2–4), so every roster stays
        // within 15–60 people.
        let size_2024 = match department.level {
            "province" => rng.between(40, 55),
            "district" => rng.between(30, 45),
            _ => rng.between(16, 22),
        } as usize;
        let mut people: Vec<Person> = (0..size_2024)
            .map(|rank| new_person(&mut rng, department, rank, (1966, 2000), taken_ids))
            .collect();
        let leaver_count = rng.between(1, 3) as usize;
        let mut leavers: Vec<usize> = Vec::new();
        while leavers.len() < leaver_count {
            // Leaders stay: the head and deputies sign the forms.
            let candidate = 3 + rng.below(size_2024 as u64 - 3) as usize;
            if !leavers.contains(&candidate) {
                leavers.push(candidate);
            }
        }
        let hire_count = rng.between(2, 4) as usize;
        for _ in 0..hire_count {
            let hire = new_person(&mut rng, department, usize::MAX, (1994, 2002), taken_ids);
            people.push(hire);
        }
        Pool {
            roster_2024: (0..size_2024).collect(),
            roster_2025: (0..people.len()).filter(|i| !leavers.contains(i)).collect(),
            people,
        }
    }

    fn roster(&self, year: u16) -> &[usize] {
        if year <= 2024 {
            &self.roster_2024
        } else {
            &self.roster_2025
        }
    }
}

/// How a department types dates and money, which varies between offices.
struct Style {
    birth_dates_as_text: bool,
    training_dates_as_text: bool,
    cost_as_text: bool,
}

impl Style {
    fn of(department: &Department) -> Style {
        Style {
            birth_dates_as_text: matches!(department.code, "XTM" | "XNT"),
            training_dates_as_text: department.code == "XTM",
            cost_as_text: department.code == "HTG",
        }
    }

    fn birth_date(&self, date: Ymd) -> Cell {
        if self.birth_dates_as_text {
            Cell::Text(date.dmy())
        } else {
            Cell::Date(date)
        }
    }

    fn training_date(&self, date: Ymd) -> Cell {
        if self.training_dates_as_text {
            Cell::Text(date.dmy())
        } else {
            Cell::Date(date)
        }
    }

    fn cost(&self, vnd: i64) -> Cell {
        if self.cost_as_text {
            Cell::Text(vietnamese_thousands(vnd))
        } else {
            Cell::int(vnd)
        }
    }
}

fn staff_row(person: &Person, style: &Style) -> StaffRow {
    StaffRow {
        person_id: person.id.clone(),
        full_name: person.name.clone(),
        birth_date: style.birth_date(person.birth),
        gender: person.gender.label().to_string(),
        unit: person.unit.clone(),
        position: person.position.clone(),
        qualification: person.qualification.clone(),
        political_theory: person.political_theory.clone(),
        state_management: person.state_management.clone(),
        digital_role: person.digital_role.clone(),
        infosec_role: person.infosec_role.clone(),
    }
}

/// A year's roster and how many of its rows are bad. In 2025 some people
/// have finished a degree or taken on digital work since 2024, so the
/// indicators move between the periods.
fn staff_rows(
    department: &Department,
    year: u16,
    pool: &Pool,
    style: &Style,
) -> (Vec<StaffRow>, usize) {
    let period = year.to_string();
    let mut rng = Rng::seeded(&[department.code, &period, "staff"]);
    let mut rows: Vec<StaffRow> = Vec::new();
    for &index in pool.roster(year) {
        let mut row = staff_row(&pool.people[index], style);
        if year >= 2025 {
            if row.qualification == "Đại học" && rng.percent(8) {
                row.qualification = "Thạc sĩ".to_string();
            }
            if row.political_theory == "Sơ cấp" && rng.percent(15) {
                row.political_theory = "Trung cấp".to_string();
            }
            if row.digital_role.is_empty() && rng.percent(6) {
                row.digital_role = "Kiêm nhiệm".to_string();
            }
        }
        rows.push(row);
    }
    let mut bad_rows = 0;
    if department.code == "SYT" && year == 2025 {
        // An impossible birth date typed by hand: the whole row is rejected.
        let mut ids = HashSet::new();
        let person = new_person(&mut rng, department, usize::MAX, (1985, 1985), &mut ids);
        let mut row = staff_row(&person, style);
        row.birth_date = Cell::Text("31/02/1985".to_string());
        rows.insert(rows.len() / 2, row);
        bad_rows += 1;
    }
    (rows, bad_rows)
}

/// A course on offer: its category (as written), name and length in lessons.
struct Course {
    category: &'static str,
    name: &'static str,
    lessons: (u32, u32),
}

const COURSES: &[Course] = &[
    Course {
        category: "Chuyên môn, nghiệp vụ",
        name: "Bồi dưỡng nghiệp vụ công tác tổ chức cán bộ",
        lessons: (24, 40),
    },
    Course {
        category: "Chuyên môn, nghiệp vụ",
        name: "Bồi dưỡng nghiệp vụ văn thư, lưu trữ",
        lessons: (16, 40),
    },
    Course {
        category: "Chuyên môn, nghiệp vụ",
        name: "Bồi dưỡng nghiệp vụ kế toán hành chính sự nghiệp",
        lessons: (24, 56),
    },
    Course {
        category: "Chuyên môn, nghiệp vụ",
        name: "Tập huấn chuyên môn theo ngành",
        lessons: (8, 24),
    },
    Course {
        category: "Lý luận chính trị",
        name: "Trung cấp lý luận chính trị - hành chính",
        lessons: (160, 200),
    },
    Course {
        category: "Lý luận chính trị",
        name: "Sơ cấp lý luận chính trị",
        lessons: (80, 120),
    },
    Course {
        category: "Lý luận chính trị",
        name: "Cao cấp lý luận chính trị",
        lessons: (180, 200),
    },
    Course {
        category: "Quản lý nhà nước",
        name: "Bồi dưỡng kiến thức QLNN ngạch chuyên viên",
        lessons: (120, 160),
    },
    Course {
        category: "Quản lý nhà nước",
        name: "Bồi dưỡng kiến thức QLNN ngạch chuyên viên chính",
        lessons: (160, 200),
    },
    Course {
        category: "Kỹ năng lãnh đạo, quản lý",
        name: "Bồi dưỡng lãnh đạo, quản lý cấp phòng",
        lessons: (40, 80),
    },
    Course {
        category: "Kỹ năng lãnh đạo, quản lý",
        name: "Bồi dưỡng kỹ năng lãnh đạo, quản lý cấp huyện",
        lessons: (40, 80),
    },
    Course {
        category: "Quốc phòng và an ninh",
        name: "Bồi dưỡng kiến thức quốc phòng và an ninh đối tượng 3",
        lessons: (40, 60),
    },
    Course {
        category: "Quốc phòng và an ninh",
        name: "Bồi dưỡng kiến thức quốc phòng và an ninh đối tượng 4",
        lessons: (24, 40),
    },
    Course {
        category: "Ngoại ngữ",
        name: "Tiếng Anh giao tiếp cơ bản",
        lessons: (60, 120),
    },
    Course {
        category: "Ngoại ngữ",
        name: "Tiếng Lào cơ bản",
        lessons: (60, 120),
    },
    Course {
        category: "Chuyển đổi số",
        name: "Bồi dưỡng kỹ năng số cho cán bộ, công chức",
        lessons: (8, 24),
    },
    Course {
        category: "Chuyển đổi số",
        name: "Ứng dụng trí tuệ nhân tạo trong công việc",
        lessons: (8, 16),
    },
    Course {
        category: "Chuyển đổi số",
        name: "Bồi dưỡng kiến thức an toàn thông tin",
        lessons: (16, 40),
    },
    Course {
        category: "Tin học",
        name: "Tin học văn phòng nâng cao",
        lessons: (24, 60),
    },
    Course {
        category: "Tin học",
        name: "Ứng dụng chữ ký số và văn bản điện tử",
        lessons: (8, 16),
    },
];

/// A course abroad: rare, in person, expensive.
const ABROAD_COURSE: Course = Course {
    category: "Kỹ năng lãnh đạo, quản lý",
    name: "Bồi dưỡng kinh nghiệm quản lý hành chính công tại nước ngoài",
    lessons: (40, 80),
};

const CATEGORY_WEIGHTS: &[(&str, u32)] = &[
    ("Chuyên môn, nghiệp vụ", 25),
    ("Lý luận chính trị", 12),
    ("Quản lý nhà nước", 12),
    ("Kỹ năng lãnh đạo, quản lý", 8),
    ("Quốc phòng và an ninh", 8),
    ("Ngoại ngữ", 5),
    ("Chuyển đổi số", 18),
    ("Tin học", 12),
];

fn pick_course(rng: &mut Rng) -> &'static Course {
    let category = rng.weighted(CATEGORY_WEIGHTS);
    let choices: Vec<&'static Course> = COURSES.iter().filter(|c| c.category == category).collect();
    match choices.as_slice() {
        [] => &COURSES[0],
        list => list[rng.below(list.len() as u64) as usize],
    }
}

/// Who attended a course: mostly the department's own staff, sometimes a
/// person not on this year's roster (left, not yet hired), and now and then a
/// contract worker with no id at all.
fn pick_trainee(
    rng: &mut Rng,
    department: &Department,
    year: u16,
    pool: &Pool,
) -> (String, String, Ymd) {
    let roster = pool.roster(year);
    let others: Vec<usize> = (0..pool.people.len())
        .filter(|i| !roster.contains(i))
        .collect();
    let draw = rng.below(100);
    if draw < 88 || (draw < 96 && others.is_empty()) {
        let person = &pool.people[*rng.pick(roster)];
        (person.id.clone(), person.name.clone(), person.birth)
    } else if draw < 96 {
        let person = &pool.people[*rng.pick(&others)];
        (person.id.clone(), person.name.clone(), person.birth)
    } else {
        let gender = if rng.percent(50) {
            Gender::Female
        } else {
            Gender::Male
        };
        let name = vietnamese_name(rng, gender, department.level);
        let birth_year = rng.between(1975, 2000) as u16;
        (String::new(), name, random_date(rng, birth_year))
    }
}

/// A generated training row and its real start date (the cell may be text).
fn training_row(
    rng: &mut Rng,
    department: &Department,
    year: u16,
    pool: &Pool,
    style: &Style,
) -> (Ymd, TrainingRow) {
    let (person_id, full_name, birth) = pick_trainee(rng, department, year, pool);
    let abroad = department.level == "province" && rng.percent(3);
    let course = if abroad {
        &ABROAD_COURSE
    } else {
        pick_course(rng)
    };
    let mode = if abroad {
        "Tập trung"
    } else {
        match course.category {
            "Chuyển đổi số" | "Tin học" | "Ngoại ngữ" => {
                rng.weighted(&[("Tập trung", 25), ("Trực tuyến", 55), ("Kết hợp", 20)])
            }
            _ => rng.weighted(&[("Tập trung", 60), ("Trực tuyến", 25), ("Kết hợp", 15)]),
        }
    };
    let lessons = rng.between(course.lessons.0, course.lessons.1);
    // Eight lessons a day, a little slack for weekends; courses stay inside
    // the period year so the dates never contradict the period.
    let span_days = lessons / 8 + rng.between(0, lessons / 16);
    let year_days: u32 = if is_leap(year) { 366 } else { 365 };
    let latest_start = year_days.saturating_sub(span_days + 1).max(1);
    let start = Ymd::new(year, 1, 1).plus_days(rng.between(5, latest_start.max(5)));
    let mut end = start.plus_days(span_days);
    if end.year > year {
        end = Ymd::new(year, 12, 31);
    }
    let result = rng.weighted(&[
        ("Đạt", 40),
        ("Hoàn thành", 25),
        ("Giỏi", 10),
        ("Khá", 12),
        ("Không đạt", 4),
        ("Đang học", 6),
    ]);
    let passed = !matches!(result, "Không đạt" | "Đang học");
    let certified = if passed && rng.percent(80) { "x" } else { "" };
    let cost = if abroad {
        i64::from(rng.between(40, 90)) * 1_000_000
    } else if mode == "Trực tuyến" && rng.percent(40) {
        // Free online courses from the ministries' platforms.
        0
    } else {
        let per_lesson = i64::from(rng.between(12, 30)) * 1_000;
        ((i64::from(lessons) * per_lesson / 100_000).max(3)) * 100_000
    };
    let row = TrainingRow {
        person_id,
        full_name,
        birth_date: style.birth_date(birth),
        course: course.name.to_string(),
        category: course.category.to_string(),
        mode: mode.to_string(),
        location: if abroad {
            "Nước ngoài"
        } else {
            "Trong nước"
        }
        .to_string(),
        start_date: style.training_date(start),
        end_date: style.training_date(end),
        lessons: Cell::int(i64::from(lessons)),
        result: result.to_string(),
        certified: certified.to_string(),
        cost_vnd: style.cost(cost),
    };
    (start, row)
}

/// A year's training record, grouped by course start as offices keep it, and
/// how many of its rows are bad.
fn training_rows(
    department: &Department,
    year: u16,
    pool: &Pool,
    style: &Style,
) -> (Vec<TrainingRow>, usize) {
    let period = year.to_string();
    let mut rng = Rng::seeded(&[department.code, &period, "training"]);
    let count = match department.level {
        "province" => rng.between(30, 50),
        "district" => rng.between(20, 35),
        _ => rng.between(10, 18),
    };
    let mut rows: Vec<(Ymd, TrainingRow)> = (0..count)
        .map(|_| training_row(&mut rng, department, year, pool, style))
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.course.cmp(&b.1.course)));
    let mut rows: Vec<TrainingRow> = rows.into_iter().map(|(_, row)| row).collect();
    let mut bad_rows = 0;
    if department.code == "TPDBP" && year == 2025 {
        // A row whose course name was never filled in: rejected.
        let (_, mut row) = training_row(&mut rng, department, year, pool, style);
        row.course = String::new();
        rows.insert(rows.len() / 3, row);
        bad_rows += 1;
    }
    (rows, bad_rows)
}

/// The province's plan for a year: one line per category ("Tin học" is
/// planned under "Chuyển đổi số", both being the digital category), with
/// targets near the participants actually recorded.
fn plan_rows(year: u16, training: &[TrainingRow]) -> Vec<PlanRow> {
    let period = year.to_string();
    let mut rng = Rng::seeded(&["SNV", &period, "plan"]);
    let planned = TRAINING_CATEGORIES.iter().filter(|c| **c != "Tin học");
    planned
        .map(|category| {
            let achieved = training
                .iter()
                .filter(|row| !row.course.is_empty())
                .filter(|row| {
                    row.category == *category
                        || (*category == "Chuyển đổi số" && row.category == "Tin học")
                })
                .count() as i64;
            let factor = i64::from(rng.between(90, 140));
            let target = (achieved * factor / 100).max(2);
            let cost_per_person: i64 = match *category {
                "Lý luận chính trị" => 8_000_000,
                "Quản lý nhà nước" => 4_500_000,
                "Kỹ năng lãnh đạo, quản lý" => 5_000_000,
                "Ngoại ngữ" => 3_000_000,
                "Quốc phòng và an ninh" => 1_500_000,
                "Chuyển đổi số" => 1_200_000,
                _ => 2_000_000,
            };
            PlanRow {
                category: category.to_string(),
                target_participants: target,
                budget_vnd: target * cost_per_person,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_province_is_the_one_described() {
        let submissions = province_submissions();
        let mut keys = HashSet::new();
        for s in &submissions {
            assert!(
                keys.insert((s.department.code, s.year, s.template())),
                "two files for {} {} {}",
                s.department.code,
                s.year,
                s.template()
            );
            let rows = s.data_rows() + s.bad_rows;
            match s.template() {
                "staff" => assert!((15..=60).contains(&rows), "{}: {rows}", s.file_name),
                "training" => assert!((10..=50).contains(&rows), "{}: {rows}", s.file_name),
                _ => assert_eq!(s.department.code, "SNV"),
            }
        }
        // 8 departments × 2 templates × 2 years, minus XNT's 2025, plus 2 plans.
        assert_eq!(submissions.len(), 8 * 2 * 2 - 2 + 2);
        let bad: Vec<(&str, u16, &str)> = submissions
            .iter()
            .filter(|s| s.bad_rows > 0)
            .map(|s| (s.department.code, s.year, s.template()))
            .collect();
        assert_eq!(bad, [("SYT", 2025, "staff"), ("TPDBP", 2025, "training")]);
        let undated: Vec<&str> = submissions
            .iter()
            .filter(|s| !s.file_name.contains(&s.period()))
            .map(|s| s.file_name.as_str())
            .collect();
        assert_eq!(undated.len(), 2, "{undated:?}");
    }

    #[test]
    fn person_ids_are_unique_per_roster_and_twelve_digits() {
        for s in province_submissions() {
            if let Content::Staff(rows) = &s.content {
                let mut seen = HashSet::new();
                for row in rows {
                    assert_eq!(row.person_id.len(), 12);
                    assert!(row.person_id.chars().all(|c| c.is_ascii_digit()));
                    assert!(seen.insert(row.person_id.clone()), "{}", row.person_id);
                }
            }
        }
    }

    #[test]
    fn a_person_id_belongs_to_one_department_and_is_kept_between_years() {
        let mut owner: std::collections::HashMap<String, &str> = Default::default();
        let mut ids_by_year: std::collections::HashMap<(&str, u16), HashSet<String>> =
            Default::default();
        for s in province_submissions() {
            if let Content::Staff(rows) = &s.content {
                for row in rows {
                    let first = *owner
                        .entry(row.person_id.clone())
                        .or_insert(s.department.code);
                    assert_eq!(first, s.department.code, "{}", row.person_id);
                    ids_by_year
                        .entry((s.department.code, s.year))
                        .or_default()
                        .insert(row.person_id.clone());
                }
            }
        }
        let snv_2024 = &ids_by_year[&("SNV", 2024)];
        let snv_2025 = &ids_by_year[&("SNV", 2025)];
        assert!(snv_2024.intersection(snv_2025).count() >= snv_2024.len() - 3);
    }

    #[test]
    fn training_dates_stay_in_the_period_and_in_order() {
        for s in province_submissions() {
            if let Content::Training(rows) = &s.content {
                for row in rows {
                    let (Cell::Date(start), Cell::Date(end)) = (&row.start_date, &row.end_date)
                    else {
                        continue;
                    };
                    assert!(start <= end);
                    assert_eq!((start.year, end.year), (s.year, s.year));
                }
            }
        }
    }

    #[test]
    fn workbooks_are_byte_for_byte_reproducible() {
        let first = province_submissions();
        let second = province_submissions();
        for (a, b) in first.iter().zip(&second) {
            let a = a.workbook().unwrap().save_to_buffer().unwrap();
            let b = b.workbook().unwrap().save_to_buffer().unwrap();
            assert_eq!(a, b);
        }
    }

    #[test]
    fn money_text_uses_dots() {
        assert_eq!(vietnamese_thousands(1_500_000), "1.500.000");
        assert_eq!(vietnamese_thousands(0), "0");
        assert_eq!(vietnamese_thousands(999), "999");
    }
}
