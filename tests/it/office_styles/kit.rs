//! Pieces shared by the styles: the usual columns, spellings, title blocks,
//! and the assembly of a style from its sheets.

use super::book::{Sheet, ods, xlsx};
use super::roster::{Col, DateAs, Rec, Table, date, int, person, rec, spelled, stt, text};
use super::{Outcome, SheetTruth, Style, department_level};

pub const QUAL_VI: &[(&str, &str)] = &[
    ("doctorate", "Tiến sĩ"),
    ("master", "Thạc sĩ"),
    ("university", "Đại học"),
    ("college", "Cao đẳng"),
    ("intermediate", "Trung cấp"),
    ("elementary", "Sơ cấp"),
    ("none", "Chưa qua đào tạo"),
];
pub const GENDER_VI: &[(&str, &str)] = &[("male", "Nam"), ("female", "Nữ")];
pub const LLCT_VI: &[(&str, &str)] = &[
    ("advanced", "Cao cấp"),
    ("intermediate", "Trung cấp"),
    ("elementary", "Sơ cấp"),
];
pub const QLNN_VI: &[(&str, &str)] = &[
    ("senior", "Chuyên viên cao cấp"),
    ("principal", "Chuyên viên chính"),
    ("specialist", "Chuyên viên"),
];
pub const ROLE_VI: &[(&str, &str)] = &[("dedicated", "Chuyên trách"), ("part_time", "Kiêm nhiệm")];
pub const CATEGORY_VI: &[(&str, &str)] = &[
    ("professional", "Chuyên môn, nghiệp vụ"),
    ("political_theory", "Lý luận chính trị"),
    ("state_management", "Quản lý nhà nước"),
    ("leadership", "Kỹ năng lãnh đạo, quản lý"),
    ("defense_security", "Quốc phòng và an ninh"),
    ("foreign_language", "Ngoại ngữ"),
    ("digital", "Chuyển đổi số"),
    ("ethnic_language", "Tiếng dân tộc"),
    ("other", "Khác"),
];
pub const MODE_VI: &[(&str, &str)] = &[
    ("in_person", "Tập trung"),
    ("online", "Trực tuyến"),
    ("blended", "Kết hợp"),
];
pub const RESULT_VI: &[(&str, &str)] = &[
    ("passed", "Đạt"),
    ("failed", "Không đạt"),
    ("in_progress", "Đang học"),
];

/// STT | Họ và tên | Mã định danh | Ngày sinh | Giới tính | Đơn vị | Trình độ chuyên môn
pub fn staff_cols() -> Vec<Col> {
    vec![
        stt("STT"),
        text(&["Họ và tên"], "full_name"),
        text(&["Mã định danh"], "person_id"),
        date(&["Ngày sinh"], "birth_date", DateAs::Cell),
        spelled(&["Giới tính"], "gender", GENDER_VI),
        text(&["Đơn vị"], "unit"),
        spelled(&["Trình độ chuyên môn"], "qualification", QUAL_VI),
    ]
}

/// STT | Họ và tên | Ngày sinh | Tên khóa học | Nội dung bồi dưỡng | Hình thức |
/// Từ ngày | Đến ngày | Số tiết | Kết quả | Kinh phí (đồng)
pub fn training_cols() -> Vec<Col> {
    vec![
        stt("STT"),
        text(&["Họ và tên"], "full_name"),
        date(&["Ngày sinh"], "birth_date", DateAs::Cell),
        text(&["Tên khóa học"], "course"),
        spelled(&["Nội dung bồi dưỡng"], "category", CATEGORY_VI),
        spelled(&["Hình thức"], "mode", MODE_VI),
        date(&["Thời gian", "Từ ngày"], "start_date", DateAs::Cell),
        date(&["Thời gian", "Đến ngày"], "end_date", DateAs::Cell),
        int(&["Số tiết"], "lessons"),
        spelled(&["Kết quả"], "result", RESULT_VI),
        int(&["Kinh phí (đồng)"], "cost_vnd"),
    ]
}

/// The usual title block of a roster.
pub fn staff_title(agency: &str, period_line: &str) -> Vec<String> {
    vec![
        "UBND TỈNH ĐIỆN BIÊN".to_string(),
        agency.to_string(),
        "DANH SÁCH CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC".to_string(),
        period_line.to_string(),
    ]
}

pub fn training_title(agency: &str, period_line: &str) -> Vec<String> {
    vec![
        "UBND TỈNH ĐIỆN BIÊN".to_string(),
        agency.to_string(),
        "DANH SÁCH KẾT QUẢ ĐÀO TẠO, BỒI DƯỠNG CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC".to_string(),
        period_line.to_string(),
    ]
}

/// Eight ordinary people.
pub fn eight() -> Vec<Rec> {
    vec![
        person("011085000101", "Nguyễn Văn An")
            .born(1985, 3, 15)
            .male()
            .s("unit", "Văn phòng")
            .s("qualification", "master"),
        person("011090000102", "Trần Thị Bình")
            .born(1990, 7, 2)
            .female()
            .s("unit", "Văn phòng")
            .s("qualification", "university"),
        person("011078000103", "Lò Văn Cường")
            .born(1978, 11, 30)
            .male()
            .s("unit", "Thanh tra")
            .s("qualification", "university"),
        person("011092000104", "Quàng Thị Dung")
            .born(1992, 1, 9)
            .female()
            .s("unit", "Thanh tra")
            .s("qualification", "college"),
        person("011083000105", "Lường Văn Hải")
            .born(1983, 5, 21)
            .male()
            .s("unit", "Phòng Tổ chức")
            .s("qualification", "doctorate"),
        person("011095000106", "Cà Thị Hoa")
            .born(1995, 9, 14)
            .female()
            .s("unit", "Phòng Tổ chức")
            .s("qualification", "intermediate"),
        person("011070000107", "Vừ A Dế")
            .born(1970, 12, 1)
            .male()
            .s("unit", "Phòng Kế hoạch"),
        person("011988000108", "Hoàng Thị Lan")
            .born(1988, 4, 27)
            .female()
            .s("unit", "Phòng Kế hoạch")
            .s("qualification", "university"),
    ]
}

/// A training line.
pub fn course_line(name: &str, course: &str, category: &str) -> Rec {
    rec()
        .s("full_name", name)
        .s("course", course)
        .s("category", category)
}

/// Training lines of one course for these people (a course is these eight
/// facts; a struct would only rename them at every call).
#[allow(clippy::too_many_arguments)]
pub fn course_lines(
    names: &[&str],
    course: &str,
    category: &str,
    mode: &str,
    start: (i32, u32, u32),
    end: (i32, u32, u32),
    lessons: i64,
    cost: i64,
) -> Vec<Rec> {
    names
        .iter()
        .map(|name| {
            course_line(name, course, category)
                .s("mode", mode)
                .d("start_date", start.0, start.1, start.2)
                .d("end_date", end.0, end.1, end.2)
                .i("lessons", lessons)
                .s("result", "passed")
                .i("cost_vnd", cost)
        })
        .collect()
}

/// One sheet holding one table.
pub fn sheet_of(name: &str, table: &Table) -> (Sheet, SheetTruth) {
    let mut sheet = Sheet::new(name);
    let written = table.write(&mut sheet);
    (sheet, written.truth)
}

/// A style of one or more sheets; `truths` are the sheets' truths.
pub fn style(
    name: &'static str,
    description: &'static str,
    file_name: &str,
    sheets: Vec<Sheet>,
    truths: Vec<SheetTruth>,
    outcome: Outcome,
) -> Style {
    Style {
        name,
        description,
        file_name: file_name.to_string(),
        bytes: xlsx(&sheets),
        outcome,
        sheets: truths,
    }
}

/// A style of one sheet holding one table.
pub fn single(
    name: &'static str,
    description: &'static str,
    file_name: &str,
    sheet_name: &str,
    table: &Table,
    period: &str,
) -> Style {
    let (sheet, truth) = sheet_of(sheet_name, table);
    style(
        name,
        description,
        file_name,
        vec![sheet],
        vec![truth],
        accepted(period),
    )
}

/// A style saved by LibreOffice as .ods.
pub fn ods_style(
    name: &'static str,
    description: &'static str,
    file_name: &str,
    sheets: Vec<Sheet>,
    truths: Vec<SheetTruth>,
    period: &str,
) -> Style {
    Style {
        name,
        description,
        file_name: file_name.to_string(),
        bytes: ods(&sheets),
        outcome: accepted(period),
        sheets: truths,
    }
}

pub fn accepted(period: &str) -> Outcome {
    Outcome::Accepted {
        period: period.to_string(),
    }
}

/// The level of the department a file name is filed under.
pub fn level_of(file_name: &str) -> &'static str {
    department_level(file_name.split('/').next().unwrap_or(""))
}

/// The items of a table from records.
pub fn items(recs: Vec<Rec>) -> Vec<super::roster::Item> {
    recs.into_iter().map(super::roster::Item::R).collect()
}
