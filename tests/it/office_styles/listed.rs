//! One workbook (or more) for each class of issue 13.

use super::book::{Cell, Sheet, col_name, n, t};
use super::kit::*;
use super::roster::*;
use super::{Kind, Outcome, SheetTruth, Style, V, Why};

pub fn styles() -> Vec<Style> {
    vec![
        notes_with_dates(),
        training_time_free_text(),
        ethnic_names(),
        three_row_header(),
        female_only_column(),
        birth_date_by_gender(),
        split_name_columns(),
        unit_merged(),
        course_block_merged(),
        formula_without_cache(),
        hidden_last_year(),
        sheet_of_another_year(),
        summary_below(),
        period_quarter_in_name(),
        period_date_in_name(),
        period_as_of_date(),
        period_plan_year(),
        period_half_year(),
        period_name_title_disagree(),
        implausible_birth_dates(),
        duplicate_people(),
        section_subtotals(),
        totals_first(),
        spellings_staff(),
        spellings_training(),
        noise_pages(),
        noise_footnotes_signers(),
        html_table_as_xls(),
    ]
}

fn more_people(seed: u64, count: usize, prefix: &str) -> Vec<Rec> {
    people(seed, count, prefix)
        .into_iter()
        .map(|r| r.s("unit", "Phòng Chuyên môn"))
        .collect()
}

/// Class 1: a notes column whose text holds "ngày … tháng … năm".
fn notes_with_dates() -> Style {
    let file = "SNV/danh_sach_2025.xlsx";
    let mut cols = staff_cols();
    cols.push(notes("Ghi chú"));
    let mut tb = table("staff", level_of(file), cols);
    tb.title = staff_title("SỞ NỘI VỤ", "NĂM 2025");
    let mut recs = eight();
    recs[2] = recs[2].clone().note("Nghỉ hưu từ ngày 01 tháng 7 năm 2026");
    recs.extend(more_people(101, 8, "011100"));
    recs[9] = recs[9]
        .clone()
        .note("Điều động từ ngày 15 tháng 3 năm 2025");
    tb.items = items(recs);
    tb.signature = signature_block(8);
    single(
        "notes_with_dates",
        "Ghi chú column with 'ngày … tháng … năm' texts above 13 more people, then a signature block",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// Class 1: a free-text "Thời gian" cell with a date sentence.
fn training_time_free_text() -> Style {
    let file = "SYT/ket_qua_boi_duong_2025.xlsx";
    let cols = vec![
        stt("STT"),
        text(&["Họ và tên"], "full_name"),
        text(&["Tên lớp"], "course"),
        spelled(&["Nội dung"], "category", CATEGORY_VI),
        extra(&["Thời gian"], |_, i| {
            Some(t(if i < 4 {
                "Từ ngày 05 tháng 3 năm 2025 đến ngày 09 tháng 3 năm 2025"
            } else {
                "Ngày 12 tháng 6 năm 2025"
            }))
        }),
        int(&["Số tiết"], "lessons"),
        spelled(&["Kết quả"], "result", RESULT_VI),
    ];
    let mut tb = table("training", level_of(file), cols);
    tb.title = training_title("SỞ Y TẾ", "NĂM 2025");
    let names = [
        "Nguyễn Thị Hà",
        "Phạm Văn Toàn",
        "Lê Thị Thu",
        "Đỗ Văn Nam",
        "Bùi Thị Yến",
        "Vũ Đức Thịnh",
        "Mai Thị Hường",
    ];
    let recs: Vec<Rec> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let (course, category, lessons) = if i < 4 {
                (
                    "Bồi dưỡng kiến thức quản lý nhà nước ngạch chuyên viên",
                    "state_management",
                    320,
                )
            } else {
                ("Tập huấn an toàn thông tin", "digital", 16)
            };
            course_line(name, course, category)
                .i("lessons", lessons)
                .s("result", "passed")
        })
        .collect();
    tb.items = items(recs);
    tb.signature = signature_block(7);
    single(
        "training_time_free_text",
        "training list whose free-text 'Thời gian' column says 'Từ ngày 05 tháng 3 năm 2025 đến …' (unknown column: dates unknown)",
        file,
        "Sheet1",
        &tb,
        "2025",
    )
}

/// Class 2: Ê Đê / Ba Na / Thái names with only name and ID.
fn ethnic_names() -> Style {
    let file = "XNT/ds_can_bo_xa_2025.xlsx";
    let cols = vec![
        stt("STT"),
        text(&["Họ và tên"], "full_name"),
        text(&["Số CCCD"], "person_id"),
    ];
    let mut tb = table("staff", level_of(file), cols);
    tb.title = staff_title("UBND XÃ NÀ TẤU", "NĂM 2025");
    let names = [
        ("066090001201", "Y Bhiông Êban"),
        ("066091001202", "H'Linh Mlô"),
        ("064088001203", "A Thút"),
        ("011093001204", "Vi Thị Mai"),
        ("066085001205", "Y Moan Ênuôl"),
        ("066096001206", "H' Hen Niê"),
        ("064079001207", "A Sáng"),
        ("011094001208", "Vi Văn Sơn"),
    ];
    tb.items = items(names.iter().map(|(id, name)| person(id, name)).collect());
    tb.signature = signature_block(3);
    single(
        "ethnic_names",
        "commune roster of only STT, name and CCCD; Ê Đê/Ba Na/Thái names 'Y Bhiông Êban', 'H'Linh Mlô', 'A Thút', 'Vi Thị Mai'",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// Class 3: Trình độ › Chuyên môn › Đại học / Thạc sĩ / Tiến sĩ x-marks.
fn three_row_header() -> Style {
    let file = "SGDDT/danh_sach_2025.xlsx";
    let mut cols = vec![
        stt("STT"),
        text(&["Họ và tên"], "full_name"),
        text(&["Mã định danh"], "person_id"),
    ];
    cols.extend(marks(
        &["Trình độ", "Chuyên môn"],
        "qualification",
        &[
            ("Đại học", "university"),
            ("Thạc sĩ", "master"),
            ("Tiến sĩ", "doctorate"),
        ],
        x,
    ));
    cols.push(spelled(
        &["Trình độ", "Lý luận chính trị"],
        "political_theory",
        LLCT_VI,
    ));
    cols.push(text(&["Chức vụ"], "position"));
    let mut tb = table("staff", level_of(file), cols);
    tb.title = staff_title("SỞ GIÁO DỤC VÀ ĐÀO TẠO", "NĂM 2025");
    tb.numbers = Numbers::Paren;
    tb.items = items(vec![
        person("011080000301", "Phạm Thị Thu Hà")
            .s("qualification", "doctorate")
            .s("political_theory", "advanced")
            .s("position", "Giám đốc"),
        person("011082000302", "Nguyễn Văn Quyết")
            .s("qualification", "master")
            .s("political_theory", "advanced")
            .s("position", "Phó Giám đốc"),
        person("011086000303", "Lê Thị Nhung")
            .s("qualification", "master")
            .s("political_theory", "intermediate")
            .s("position", "Trưởng phòng"),
        person("011090000304", "Trần Văn Hùng")
            .s("qualification", "university")
            .s("position", "Chuyên viên"),
        person("011091000305", "Lò Thị Xuân")
            .s("qualification", "university")
            .s("political_theory", "elementary")
            .s("position", "Chuyên viên"),
        person("011094000306", "Cầm Văn Thái")
            .s("qualification", "university")
            .s("position", "Chuyên viên"),
    ]);
    tb.signature = signature_block(8);
    single(
        "three_row_header",
        "three-row header Trình độ › Chuyên môn › Đại học/Thạc sĩ/Tiến sĩ x-marks beside Trình độ › Lý luận chính trị, with (1)(2)… numbers",
        file,
        "Danh sach",
        &tb,
        "2025",
    )
}

/// Class 4: one "Nữ" column, marked = female, blank = male.
fn female_only_column() -> Style {
    let file = "STTTT/danh_sach_2025.xlsx";
    let cols = vec![
        stt("TT"),
        text(&["Họ và tên"], "full_name"),
        text(&["Mã cán bộ"], "person_id"),
        date(&["Ngày sinh"], "birth_date", DateAs::Cell),
        female_only("Nữ", x),
        text(&["Đơn vị"], "unit"),
    ];
    let mut tb = table("staff", level_of(file), cols);
    tb.title = staff_title("SỞ KHOA HỌC VÀ CÔNG NGHỆ", "NĂM 2025");
    tb.items = items(
        eight()
            .into_iter()
            .map(|mut r| {
                r.v.remove("qualification");
                r
            })
            .collect(),
    );
    tb.signature = signature_block(6);
    single(
        "female_only_column",
        "a single 'Nữ' x-mark column (marked = female, blank = male), no qualification column",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// Class 4: "Ngày tháng năm sinh" over Nam / Nữ, the date in the gender's column.
fn birth_date_by_gender() -> Style {
    let file = "TPDBP/danh_sach_2025.xlsx";
    let mut cols = vec![
        stt("STT"),
        text(&["Họ và tên"], "full_name"),
        text(&["Mã định danh"], "person_id"),
    ];
    cols.extend(birth_by_gender("Ngày tháng năm sinh", DateAs::Slash));
    cols.push(text(&["Chức vụ"], "position"));
    let mut tb = table("staff", level_of(file), cols);
    tb.title = staff_title("UBND THÀNH PHỐ ĐIỆN BIÊN PHỦ", "NĂM 2025");
    tb.items = items(
        eight()
            .into_iter()
            .map(|mut r| {
                r.v.remove("qualification");
                r.v.remove("unit");
                r.s("position", "Chuyên viên")
            })
            .collect(),
    );
    tb.signature = signature_block(6);
    single(
        "birth_date_by_gender",
        "'Ngày tháng năm sinh' spanning 'Nam'/'Nữ', the birth date (text dd/mm/yyyy) written in the person's gender column",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// Class 4: "Họ và tên đệm" + "Tên".
fn split_name_columns() -> Style {
    let file = "HTG/danh_sach_2025.xlsx";
    let mut cols = vec![stt("STT")];
    cols.extend(split_name(&["Họ và tên đệm"], &["Tên"]));
    cols.push(text(&["Mã định danh"], "person_id"));
    cols.push(date(&["Ngày sinh"], "birth_date", DateAs::Cell));
    cols.push(spelled(&["Giới tính"], "gender", GENDER_VI));
    let mut tb = table("staff", level_of(file), cols);
    tb.title = staff_title("UBND HUYỆN TUẦN GIÁO", "NĂM 2025");
    tb.items = items(
        eight()
            .into_iter()
            .map(|mut r| {
                r.v.remove("qualification");
                r.v.remove("unit");
                r
            })
            .collect(),
    );
    tb.signature = signature_block(6);
    single(
        "split_name_columns",
        "'Họ và tên đệm' + 'Tên' in two columns (full name = both joined by a space)",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// Class 5: "Đơn vị" merged vertically over 5 people, then over 3.
fn unit_merged() -> Style {
    let file = "XTM/danh_sach_2025.xlsx";
    let mut tb = table("staff", level_of(file), staff_cols());
    tb.title = staff_title("UBND XÃ THANH MINH", "NĂM 2025");
    let recs: Vec<Rec> = eight()
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            r.s(
                "unit",
                if i < 5 {
                    "Văn phòng HĐND - UBND"
                } else {
                    "Công an xã"
                },
            )
        })
        .collect();
    tb.items = items(recs);
    tb.vmerge = vec![("unit", 0, 4), ("unit", 5, 7)];
    tb.signature = signature_block(7);
    single(
        "unit_merged",
        "'Đơn vị' merged vertically over 5 people and over 3 (the value belongs to every row under it)",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// Class 5: a course block (course, category, dates) merged over its participants.
fn course_block_merged() -> Style {
    let file = "SNV/dao_tao_2025.xlsx";
    let mut tb = table("training", level_of(file), training_cols());
    tb.title = training_title("SỞ NỘI VỤ", "NĂM 2025");
    let mut recs = course_lines(
        &[
            "Nguyễn Văn An",
            "Trần Thị Bình",
            "Lò Văn Cường",
            "Quàng Thị Dung",
        ],
        "Bồi dưỡng kỹ năng lãnh đạo, quản lý cấp phòng",
        "leadership",
        "in_person",
        (2025, 4, 7),
        (2025, 4, 18),
        80,
        2_500_000,
    );
    recs.extend(course_lines(
        &["Lường Văn Hải", "Cà Thị Hoa"],
        "Tiếng Thái cho cán bộ, công chức",
        "ethnic_language",
        "blended",
        (2025, 9, 8),
        (2025, 10, 31),
        120,
        1_800_000,
    ));
    tb.items = items(recs);
    tb.vmerge = ["course", "category", "mode", "start_date", "end_date"]
        .iter()
        .flat_map(|&f| [(f, 0, 3), (f, 4, 5)])
        .collect();
    tb.signature = signature_block(11);
    single(
        "course_block_merged",
        "training list whose course, category, mode and dates are one merged block over the course's participants",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// Class 6: formulas without a cached value (as a script writes them).
fn formula_without_cache() -> Style {
    let file = "SYT/dao_tao_2025.xlsx";
    let mut tb = table("training", level_of(file), training_cols());
    tb.title = training_title("SỞ Y TẾ", "NĂM 2025");
    tb.sums = vec!["lessons"];
    let lines: Vec<Rec> = course_lines(
        &[
            "Hoàng Văn Nam",
            "Đinh Thị Hạnh",
            "Lò Thị Ánh",
            "Vi Văn Tùng",
        ],
        "Bồi dưỡng nghiệp vụ dược lâm sàng",
        "professional",
        "in_person",
        (2025, 5, 5),
        (2025, 5, 9),
        40,
        1_200_000,
    )
    .into_iter()
    .map(|r| r.either("end_date", Why::Says("formula".into())))
    .collect();
    let mut all = items(lines);
    all.push(Item::Total("Tổng cộng".into()));
    tb.items = all;
    let (mut sheet, mut truth) = {
        let mut sheet = Sheet::new("DS");
        let written = tb.write(&mut sheet);
        // End date = start + 4, and the total = SUM: formulas with no cached value.
        let (start, end, lessons) = (6u16, 7u16, 8u16);
        for &row in &written.rows {
            sheet.set(
                row,
                end,
                Cell::F(format!("{}{row}+4", col_name(start)), None),
            );
        }
        let first = written.rows[0];
        let last = *written.rows.last().unwrap_or(&first);
        sheet.set(
            last + 1,
            lessons,
            Cell::F(
                format!(
                    "SUM({}{first}:{}{last})",
                    col_name(lessons),
                    col_name(lessons)
                ),
                None,
            ),
        );
        (sheet, written.truth)
    };
    truth.allow_warnings = true;
    sheet.name = "DS".into();
    style(
        "formula_without_cache",
        "end dates '=G8+4' and a '=SUM()' total saved without cached values (openpyxl-style): evaluated or rejected, never null",
        file,
        vec![sheet],
        vec![truth],
        accepted("2025"),
    )
}

/// Class 7: a hidden sheet, last year's copy.
fn hidden_last_year() -> Style {
    let file = "STTTT/ds_cbcc_2025.xlsx";
    let mut this = table("staff", level_of(file), staff_cols());
    this.title = staff_title("SỞ KHOA HỌC VÀ CÔNG NGHỆ", "NĂM 2025");
    this.items = items(eight());
    this.signature = signature_block(7);
    let (visible, truth) = sheet_of("Năm 2025", &this);
    let mut last = table("staff", level_of(file), staff_cols());
    last.title = staff_title("SỞ KHOA HỌC VÀ CÔNG NGHỆ", "NĂM 2024");
    last.items = items(more_people(7, 5, "011024"));
    let (mut hidden, _) = sheet_of("Năm 2024", &last);
    hidden.hidden = true;
    style(
        "hidden_last_year",
        "a visible 2025 roster and a hidden copy of last year's titled NĂM 2024",
        file,
        vec![visible, hidden],
        vec![truth, SheetTruth::whole("Năm 2024", Kind::HiddenSheet)],
        accepted("2025"),
    )
}

/// Class 7: a visible sheet titled with another year than the file's.
fn sheet_of_another_year() -> Style {
    let file = "HTG/ds_cbcc_2025.xlsx";
    let mut this = table("staff", level_of(file), staff_cols());
    this.title = staff_title("UBND HUYỆN TUẦN GIÁO", "NĂM 2025");
    this.items = items(eight());
    let (first, truth) = sheet_of("2025", &this);
    let mut other = table("staff", level_of(file), staff_cols());
    other.title = staff_title("UBND HUYỆN TUẦN GIÁO", "NĂM 2024");
    other.items = items(more_people(8, 4, "011124"));
    let (second, _) = sheet_of("2024", &other);
    style(
        "sheet_of_another_year",
        "file and first sheet say 2025; a second, visible sheet is titled NĂM 2024 (that sheet refused)",
        file,
        vec![first, second],
        vec![truth, SheetTruth::whole("2024", Kind::OtherPeriod)],
        accepted("2025"),
    )
}

/// Class 8: a summary by qualification below the roster.
fn summary_below() -> Style {
    let file = "SGDDT/ds_2025.xlsx";
    let mut tb = table("staff", level_of(file), staff_cols());
    tb.title = staff_title("SỞ GIÁO DỤC VÀ ĐÀO TẠO", "NĂM 2025");
    tb.items = items(eight());
    let mut sheet = Sheet::new("DS");
    let written = tb.write(&mut sheet);
    let mut truth = written.truth;
    let mut row = sheet.last_row() + 3;
    let lines: [(&str, &str); 7] = [
        ("TỔNG HỢP THEO TRÌNH ĐỘ CHUYÊN MÔN", ""),
        ("Trình độ", "Số lượng"),
        ("Tiến sĩ", "1"),
        ("Thạc sĩ", "1"),
        ("Đại học", "3"),
        ("Cao đẳng", "1"),
        ("Trung cấp", "1"),
    ];
    for (label, count) in lines {
        sheet.text(row, 1, label);
        if let Ok(value) = count.parse::<f64>() {
            sheet.set(row, 2, n(value));
        } else if !count.is_empty() {
            sheet.text(row, 2, count);
        }
        truth.skipped_any.push(row);
        row += 1;
    }
    sheet.text(row, 1, "Chưa qua đào tạo");
    sheet.set(row, 2, n(1.0));
    truth.skipped_any.push(row);
    row += 2;
    for line in signature_block(7).into_iter().skip(1) {
        for (offset, text) in &line {
            sheet.text(row, *offset, text);
        }
        if !line.is_empty() {
            truth.skipped.push((Kind::Signature, row));
        }
        row += 1;
    }
    style(
        "summary_below",
        "roster followed by a second table 'TỔNG HỢP THEO TRÌNH ĐỘ' (Tiến sĩ | 1 …) in the name and ID columns, then the signature",
        file,
        vec![sheet],
        vec![truth],
        accepted("2025"),
    )
}

fn simple_training(file: &str, agency: &str, period_line: &str, seed: u64) -> Table {
    let mut tb = table("training", level_of(file), training_cols());
    tb.title = training_title(agency, period_line);
    let names: Vec<String> = people(seed, 5, "0")
        .into_iter()
        .filter_map(|r| match r.v.get("full_name") {
            Some(V::S(s)) => Some(s.clone()),
            _ => None,
        })
        .collect();
    let names: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
    tb.items = items(course_lines(
        &names,
        "Bồi dưỡng kỹ năng số cho cán bộ, công chức",
        "digital",
        "online",
        (2025, 10, 6),
        (2025, 10, 10),
        24,
        0,
    ));
    tb.signature = signature_block(11);
    tb
}

/// Class 9: "quy4_2025" in the name, QUÝ IV NĂM 2025 in the title.
fn period_quarter_in_name() -> Style {
    let file = "TPDBP/BC_dao_tao_quy4_2025.xlsx";
    let tb = simple_training(file, "UBND THÀNH PHỐ ĐIỆN BIÊN PHỦ", "QUÝ IV NĂM 2025", 91);
    single(
        "period_quarter_in_name",
        "file 'BC_dao_tao_quy4_2025.xlsx' titled QUÝ IV NĂM 2025: the quarter 2025-Q4",
        file,
        "Q4",
        &tb,
        "2025-Q4",
    )
}

/// Class 9: a sending date in the name is not a period.
fn period_date_in_name() -> Style {
    let file = "SYT/DS CBCC gui ngay 12-01-2026.xlsx";
    let mut tb = table("staff", level_of(file), staff_cols());
    tb.title = staff_title("SỞ Y TẾ", "NĂM 2025");
    tb.items = items(eight());
    tb.signature = signature_block(7);
    single(
        "period_date_in_name",
        "file 'DS CBCC gui ngay 12-01-2026.xlsx' titled NĂM 2025: 2025 (a sending date is not a period)",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// Class 9: "(Số liệu tính đến 31/12/2024)".
fn period_as_of_date() -> Style {
    let file = "SGDDT/danh_sach_can_bo.xlsx";
    let mut tb = table("staff", level_of(file), staff_cols());
    tb.title = vec![
        "UBND TỈNH ĐIỆN BIÊN".into(),
        "SỞ GIÁO DỤC VÀ ĐÀO TẠO".into(),
        "DANH SÁCH CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC".into(),
        "(Số liệu tính đến 31/12/2024)".into(),
    ];
    tb.items = items(eight());
    tb.signature = signature_block(7);
    single(
        "period_as_of_date",
        "no period in the file name; title '(Số liệu tính đến 31/12/2024)': 2024",
        file,
        "DS",
        &tb,
        "2024",
    )
}

fn plan_cols() -> Vec<Col> {
    let mut spelling = CATEGORY_VI.to_vec();
    spelling.push(("all", "Chung"));
    vec![
        stt("STT"),
        spelled(&["Nội dung"], "category", &spelling),
        int(&["Chỉ tiêu (lượt người)"], "target_participants"),
        int(&["Kinh phí dự kiến (đồng)"], "budget_vnd"),
    ]
}

fn plan_lines() -> Vec<Rec> {
    [
        ("political_theory", 40, 320_000_000),
        ("state_management", 60, 270_000_000),
        ("professional", 150, 300_000_000),
        ("digital", 200, 120_000_000),
        ("defense_security", 35, 70_000_000),
    ]
    .iter()
    .map(|&(c, target, budget)| {
        rec()
            .s("category", c)
            .i("target_participants", target)
            .i("budget_vnd", budget)
    })
    .collect()
}

/// Class 9: "Năm kế hoạch: 2025".
fn period_plan_year() -> Style {
    let file = "STTTT/ke_hoach_dao_tao.xlsx";
    let mut tb = table("plan", level_of(file), plan_cols());
    tb.title = vec![
        "SỞ KHOA HỌC VÀ CÔNG NGHỆ".into(),
        "KẾ HOẠCH ĐÀO TẠO, BỒI DƯỠNG CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC".into(),
        "Năm kế hoạch: 2025".into(),
    ];
    tb.sums = vec!["target_participants", "budget_vnd"];
    let mut all = items(plan_lines());
    all.push(Item::Total("Tổng cộng".into()));
    tb.items = all;
    tb.signature = signature_block(4);
    single(
        "period_plan_year",
        "plan titled 'Năm kế hoạch: 2025' (no period in the name), with a correct Tổng cộng row",
        file,
        "KH",
        &tb,
        "2025",
    )
}

/// Class 9: "6 THÁNG ĐẦU NĂM 2025" is a half-year.
fn period_half_year() -> Style {
    let file = "HTG/bao_cao_dao_tao.xlsx";
    let tb = simple_training(file, "UBND HUYỆN TUẦN GIÁO", "6 THÁNG ĐẦU NĂM 2025", 92);
    single(
        "period_half_year",
        "training list whose title block says '6 THÁNG ĐẦU NĂM 2025' (no period in the name): the half-year 2025-H1",
        file,
        "DS",
        &tb,
        "2025-H1",
    )
}

/// Class 9: the name says 2026, the title NĂM 2025: refused with both.
fn period_name_title_disagree() -> Style {
    let file = "XTM/danh_sach_2026.xlsx";
    let mut tb = table("staff", level_of(file), staff_cols());
    tb.title = staff_title("UBND XÃ THANH MINH", "NĂM 2025");
    tb.items = items(eight());
    let (sheet, _) = sheet_of("DS", &tb);
    style(
        "period_name_title_disagree",
        "file name 'danh_sach_2026.xlsx' but title NĂM 2025: refused, both shown",
        file,
        vec![sheet],
        vec![],
        Outcome::Refused {
            says: vec!["2026".into(), "2025".into()],
        },
    )
}

/// Class 10: a future birth date and 1985 as a plain number.
fn implausible_birth_dates() -> Style {
    let file = "XNT/danh_sach_2025.xlsx";
    let mut tb = table("staff", level_of(file), staff_cols());
    tb.title = staff_title("UBND XÃ NÀ TẤU", "NĂM 2025");
    let mut recs = eight();
    recs[3] = recs[3]
        .clone()
        .born(2030, 3, 15)
        .bad("birth_date", Why::Column("Ngày sinh".into()));
    recs[6] = recs[6]
        .clone()
        .raw("birth_date", n(1985.0))
        .bad("birth_date", Why::Column("Ngày sinh".into()));
    tb.items = items(recs);
    tb.signature = signature_block(7);
    single(
        "implausible_birth_dates",
        "birth date 15/03/2030 (future) and the number 1985 in a birth-date cell: both rows rejected at the cell",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// Class 11: an exact duplicate row and one ID with two names.
fn duplicate_people() -> Style {
    let file = "TPDBP/ds_cbcc_2025.xlsx";
    let mut tb = table("staff", level_of(file), staff_cols());
    tb.title = staff_title("UBND THÀNH PHỐ ĐIỆN BIÊN PHỦ", "NĂM 2025");
    let mut recs = eight();
    let copy = recs[2].clone().dup_of(2);
    let mut other = recs[4].clone().s("full_name", "Lường Văn Hiếu").dup_of(4);
    other.v.insert("birth_date", V::D(1984, 2, 11));
    recs.push(copy);
    recs.push(other);
    tb.items = items(recs);
    tb.signature = signature_block(7);
    single(
        "duplicate_people",
        "an exact duplicate row and one ID under two names: the later rows rejected, naming the earlier",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// Class 12: "Cộng" under each section and "Tổng cộng", all correct.
fn section_subtotals() -> Style {
    let file = "XTM/dao_tao_2025.xlsx";
    let mut tb = table("training", level_of(file), training_cols());
    tb.title = training_title("UBND XÃ THANH MINH", "NĂM 2025");
    tb.numbers = Numbers::Paren;
    tb.sums = vec!["lessons", "cost_vnd"];
    let party = course_lines(
        &["Lò Văn Pánh", "Quàng Thị Ngoan", "Lường Văn Chiến"],
        "Bồi dưỡng lý luận chính trị sơ cấp",
        "political_theory",
        "in_person",
        (2025, 3, 3),
        (2025, 4, 25),
        240,
        3_000_000,
    );
    let gov = course_lines(
        &["Cà Văn Hậu", "Tòng Thị Hiên"],
        "Bồi dưỡng quản lý nhà nước ngạch chuyên viên",
        "state_management",
        "blended",
        (2025, 6, 2),
        (2025, 7, 11),
        200,
        4_500_000,
    );
    let mut all = vec![Item::Section(
        Some("I".into()),
        "Khối Đảng, đoàn thể".into(),
    )];
    all.extend(items(party));
    all.push(Item::Sub("Cộng".into()));
    all.push(Item::Section(Some("II".into()), "Khối chính quyền".into()));
    all.extend(items(gov));
    all.push(Item::Sub("Cộng".into()));
    all.push(Item::Total("Tổng cộng".into()));
    tb.items = all;
    tb.signature = signature_block(11);
    single(
        "section_subtotals",
        "sections I/II each closed by a correct 'Cộng' subtotal, then 'Tổng cộng': no warning",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// Class 12: the totals row first, above its lines, under an "A B 1 2" row.
fn totals_first() -> Style {
    let file = "SNV/ke_hoach_dao_tao_2026.xlsx";
    let mut tb = table("plan", level_of(file), plan_cols());
    tb.title = vec![
        "SỞ NỘI VỤ".into(),
        "KẾ HOẠCH ĐÀO TẠO, BỒI DƯỠNG NĂM 2026".into(),
    ];
    tb.numbers = Numbers::Letters;
    tb.sums = vec!["target_participants", "budget_vnd"];
    let mut all = vec![Item::Total("Tổng cộng".into())];
    all.extend(items(plan_lines()));
    tb.items = all;
    tb.signature = signature_block(4);
    single(
        "totals_first",
        "plan whose correct 'Tổng cộng' row comes first, above its lines, under an 'A B 1 2' row: no warning",
        file,
        "KH",
        &tb,
        "2026",
    )
}

/// Class 13: qualification and LLCT spellings offices use.
fn spellings_staff() -> Style {
    let file = "SYT/danh_sach_vien_chuc_2025.xlsx";
    let cols = vec![
        stt("STT"),
        text(&["Họ và tên"], "full_name"),
        text(&["Mã định danh"], "person_id"),
        spelled(&["Trình độ chuyên môn"], "qualification", QUAL_VI),
        spelled(&["Trình độ LLCT"], "political_theory", LLCT_VI),
    ];
    let mut tb = table("staff", level_of(file), cols);
    tb.title = staff_title("SỞ Y TẾ", "NĂM 2025");
    let spell = [
        ("Thạc sỹ", "master", "TC", "intermediate"),
        ("Tiến sỹ", "doctorate", "CC", "advanced"),
        ("Th.S", "master", "SC", "elementary"),
        ("ThS", "master", "Cử nhân", "advanced"),
        ("TS", "doctorate", "", ""),
        ("CN", "university", "TC", "intermediate"),
        ("Cử nhân", "university", "", ""),
        ("Kỹ sư", "university", "SC", "elementary"),
        ("BS", "", "", ""),
    ];
    let recs: Vec<Rec> = spell
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.1.is_empty())
        .map(|(i, &(q, qv, l, lv))| {
            let r = person(
                &format!("0110880004{i:02}"),
                [
                    "Nguyễn Văn Tâm",
                    "Trần Thị Huệ",
                    "Phạm Văn Đức",
                    "Lê Thị Hằng",
                    "Đỗ Minh Khôi",
                    "Bùi Thị Lý",
                    "Vũ Văn Hào",
                    "Hà Thị Mến",
                ][i],
            )
            .s("qualification", qv)
            .raw("qualification", t(q));
            if lv.is_empty() {
                r
            } else {
                r.s("political_theory", lv).raw("political_theory", t(l))
            }
        })
        .collect();
    tb.items = items(recs);
    tb.signature = signature_block(5);
    single(
        "spellings_staff",
        "qualifications written Thạc sỹ/Tiến sỹ/Th.S/ThS/TS/CN/Cử nhân/Kỹ sư and LLCT TC/CC/SC/Cử nhân",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// Class 13: header and money spellings of training lists.
fn spellings_training() -> Style {
    let file = "SGDDT/dao_tao_boi_duong_2025.xlsx";
    let cols = vec![
        stt("STT"),
        text(&["Họ và tên"], "full_name"),
        text(&["Tên khóa học"], "course"),
        spelled(&["Nội dung bồi dưỡng"], "category", CATEGORY_VI),
        int(&["Thời lượng (số tiết)"], "lessons"),
        spelled(
            &["Kết quả học tập"],
            "result",
            &[("passed", "Hoàn thành"), ("failed", "Không hoàn thành")],
        ),
        int(&["Kinh phí (VNĐ)"], "cost_vnd"),
    ];
    let mut tb = table("training", level_of(file), cols);
    tb.title = training_title("SỞ GIÁO DỤC VÀ ĐÀO TẠO", "NĂM 2025");
    let course = "Bồi dưỡng tiếng Anh cho giáo viên";
    tb.items = items(vec![
        course_line("Nguyễn Thị Ngọc", course, "foreign_language")
            .i("lessons", 60)
            .s("result", "passed")
            .i("cost_vnd", 1_500_000)
            .raw("cost_vnd", t("1.500.000 vnđ")),
        course_line("Phan Văn Lợi", course, "foreign_language")
            .i("lessons", 60)
            .s("result", "passed")
            .i("cost_vnd", 350_000)
            .raw("cost_vnd", n(349999.99999999994)),
        course_line("Đặng Thị Kim", course, "foreign_language")
            .i("lessons", 60)
            .s("result", "failed")
            .i("cost_vnd", 800_000),
        course_line("Hứa Văn Tài", course, "foreign_language")
            .i("lessons", 60)
            .s("result", "passed")
            .i("cost_vnd", 2_000_000)
            .raw("cost_vnd", t("2.000.000 VNĐ")),
    ]);
    tb.signature = signature_block(7);
    single(
        "spellings_training",
        "headers 'Thời lượng (số tiết)', 'Kết quả học tập', 'Kinh phí (VNĐ)'; costs '1.500.000 vnđ', 349999.99999999994, '2.000.000 VNĐ'",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// Class 14: header repeated at each printed page, STT-only rows, signers.
fn noise_pages() -> Style {
    let file = "SNV/ds_cong_chuc_2025.xlsx";
    let mut tb = table("staff", level_of(file), staff_cols());
    tb.title = staff_title("SỞ NỘI VỤ", "NĂM 2025");
    tb.numbers = Numbers::Paren;
    let mut recs = eight();
    recs.extend(more_people(141, 6, "011141"));
    let mut all = Vec::new();
    for (i, r) in recs.into_iter().enumerate() {
        if i == 7 {
            all.push(Item::RepeatHeader);
        }
        all.push(Item::R(r));
    }
    for k in 15..=18 {
        all.push(Item::SttOnly(k));
    }
    tb.items = all;
    tb.signature = vec![
        vec![],
        vec![(5, "Điện Biên, ngày 10 tháng 01 năm 2026".into())],
        vec![
            (1, "Kế toán".into()),
            (3, "NGƯỜI TỔNG HỢP".into()),
            (5, "KT. CHỦ TỊCH".into()),
        ],
        vec![(5, "PHÓ CHỦ TỊCH".into())],
        vec![],
        vec![
            (1, "Điêu Thị Hạnh".into()),
            (3, "Lò Văn Thương".into()),
            (5, "Trần Quốc Khánh".into()),
        ],
    ];
    single(
        "noise_pages",
        "header + (1)(2)… row repeated at the printed page break, STT-only rows 15–18 left from the template, 'Kế toán'/'NGƯỜI TỔNG HỢP'/'KT. CHỦ TỊCH' signers",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// Class 14: footnotes under the header and above the signature.
fn noise_footnotes_signers() -> Style {
    let file = "STTTT/danh_sach_cong_chuc_2025.xlsx";
    let mut tb = table("staff", level_of(file), staff_cols());
    tb.title = staff_title("SỞ KHOA HỌC VÀ CÔNG NGHỆ", "NĂM 2025");
    tb.numbers = Numbers::Plain;
    let mut all = vec![Item::Note(
        "Ghi chú: cột (7) ghi theo văn bằng cao nhất đã được cấp".into(),
    )];
    all.extend(items(eight()));
    all.push(Item::Note(
        "(*) Danh sách không bao gồm lao động hợp đồng theo Nghị định 111/2022/NĐ-CP".into(),
    ));
    tb.items = all;
    tb.signature = vec![
        vec![],
        vec![(1, "NGƯỜI TỔNG HỢP".into()), (5, "KT. GIÁM ĐỐC".into())],
        vec![(5, "PHÓ GIÁM ĐỐC".into())],
        vec![],
        vec![(1, "Nguyễn Thị Thơm".into()), (5, "Phạm Văn Lực".into())],
    ];
    single(
        "noise_footnotes_signers",
        "a footnote row right under the 1 2 3… row, a '(*)' remark under the last person, 'NGƯỜI TỔNG HỢP'/'KT. GIÁM ĐỐC' signers",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// Class 15: an HTML table saved as .xls ("Xuất Excel" of a web system).
fn html_table_as_xls() -> Style {
    let file = "XNT/xuat_excel_2025.xls";
    let cols = vec![
        stt("STT"),
        text(&["Họ và tên"], "full_name"),
        text(&["Mã định danh"], "person_id"),
        date(&["Ngày sinh"], "birth_date", DateAs::Slash),
        spelled(&["Giới tính"], "gender", GENDER_VI),
        spelled(&["Trình độ chuyên môn"], "qualification", QUAL_VI),
    ];
    let mut tb = table("staff", level_of(file), cols);
    tb.title = vec!["DANH SÁCH CÁN BỘ, CÔNG CHỨC XÃ".into(), "NĂM 2025".into()];
    tb.merge_title = true;
    tb.gap = 0;
    tb.items = items(
        eight()
            .into_iter()
            .map(|mut r| {
                r.v.remove("unit");
                r
            })
            .collect(),
    );
    let mut sheet = Sheet::new("*");
    let written = tb.write(&mut sheet);
    let mut truth = written.truth;
    truth.sheet = "*".into();
    Style {
        name: "html_table_as_xls",
        description: "an HTML <table> saved as .xls by a web system's 'Xuất Excel': read as a table, or refused in Vietnamese",
        file_name: file.to_string(),
        bytes: html_of(&sheet).into_bytes(),
        outcome: Outcome::ReadOrRefusedInVietnamese {
            period: "2025".into(),
        },
        sheets: vec![truth],
    }
}

/// The sheet as the HTML a web export writes (merges as colspan).
pub fn html_of(sheet: &Sheet) -> String {
    let width = sheet.cells.keys().map(|(_, c)| *c).max().unwrap_or(0);
    let mut out = String::from(
        "<html xmlns:o=\"urn:schemas-microsoft-com:office:office\" xmlns:x=\"urn:schemas-microsoft-com:office:excel\">\n<head><meta charset=\"utf-8\"></head>\n<body>\n<table border=\"1\">\n",
    );
    for row in 1..=sheet.last_row() {
        out.push_str("<tr>");
        let mut col = 0u16;
        while col <= width {
            let span = sheet
                .merges
                .iter()
                .find(|&&(r1, c1, _, _)| (r1, c1) == (row, col))
                .map(|&(_, c1, _, c2)| c2 - c1 + 1)
                .unwrap_or(1);
            let text = match sheet.cells.get(&(row, col)) {
                Some(Cell::T(s)) => s.clone(),
                Some(Cell::N(v)) => format!("{v}"),
                Some(Cell::D(y, m, d)) => format!("{d:02}/{m:02}/{y}"),
                Some(Cell::F(_, v)) => v.map(|v| v.to_string()).unwrap_or_default(),
                None => String::new(),
            };
            if span > 1 {
                out.push_str(&format!("<td colspan=\"{span}\">{text}</td>"));
            } else {
                out.push_str(&format!("<td>{text}</td>"));
            }
            col += span;
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n</body>\n</html>\n");
    out
}
