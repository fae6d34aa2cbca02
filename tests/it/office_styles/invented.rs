//! Styles beyond the list: LibreOffice and WPS habits, HR software
//! exports, forms copied from official templates, multi-sheet files.

use unicode_normalization::UnicodeNormalization;

use super::book::{Cell, Sheet, n, t};
use super::kit::*;
use super::roster::*;
use super::{Kind, SheetTruth, Style, V};

pub fn styles() -> Vec<Style> {
    vec![
        libre_empty_first_column(),
        wps_trailing_spaces(),
        nfd_text(),
        training_numbers_as_text(),
        dates_dotted(),
        dates_iso(),
        training_dates_dashed(),
        national_heading(),
        hr_export_flat_caps(),
        hr_export_offset(),
        mau_so_01_sections(),
        bieu_so_2a_training(),
        multi_sheet_units(),
        mixed_gender_marks(),
        training_mode_location_marks(),
        plan_aliases_no_budget(),
        recruitment_with_totals(),
        blank_rows_inside(),
        long_roster_signature(),
        last_person_note_date(),
        roman_like_names(),
        numbered_unit_sections(),
        wrapped_group_header(),
        digital_roles(),
        level_column(),
        results_variety(),
        cached_formulas(),
        stt_text_numeric_codes(),
        gender_caps_lower(),
        english_headers_export(),
        quarter_token_in_name(),
        plan_range_of_years(),
        plan_range_in_title_only(),
        second_half_year(),
        dispatch_date_in_title(),
        repeated_header_no_numbers(),
        position_column(),
        ods_roster_gender_marks(),
        ods_hidden_last_year(),
        ods_training_course_block(),
        plan_without_breakdown(),
        recruitment_aliases(),
        mac_1904_dates(),
        unmerged_group_header(),
        split_name_grouped(),
        lettered_subsections(),
        staff_total_people(),
        cost_in_thousands(),
        qualification_with_major(),
    ]
}

fn without(recs: Vec<Rec>, fields: &[&str]) -> Vec<Rec> {
    recs.into_iter()
        .map(|mut r| {
            for f in fields {
                r.v.remove(*f);
            }
            r
        })
        .collect()
}

fn caps(s: &str) -> String {
    s.to_uppercase()
}

/// LibreOffice: column A left empty, header cells with line breaks.
fn libre_empty_first_column() -> Style {
    let file = "SNV/ds_cbccvc_2025.xlsx";
    let cols = vec![
        stt("STT"),
        text(&["Họ và\ntên"], "full_name"),
        text(&["Mã định\ndanh"], "person_id"),
        date(&["Ngày\nsinh"], "birth_date", DateAs::Cell),
        spelled(&["Giới\ntính"], "gender", GENDER_VI),
        text(&["Đơn\nvị"], "unit"),
        spelled(&["Trình độ\nchuyên môn"], "qualification", QUAL_VI),
    ];
    let mut tb = table("staff", level_of(file), cols);
    tb.left = 1;
    tb.title = staff_title("SỞ NỘI VỤ", "NĂM 2025");
    tb.items = items(eight());
    tb.signature = signature_block(7);
    single(
        "libre_empty_first_column",
        "LibreOffice habit: empty column A, header cells broken over lines ('Họ và\\ntên', 'Trình độ\\nchuyên môn')",
        file,
        "Sheet1",
        &tb,
        "2025",
    )
}

fn padded(s: &str) -> String {
    format!("{s} \u{a0} ")
}

/// WPS: trailing spaces and non-breaking spaces in headers and values.
fn wps_trailing_spaces() -> Style {
    let file = "SYT/danh_sach_2025.xlsx";
    let cols = vec![
        stt("STT "),
        text_as(&["Họ và tên\u{a0}"], "full_name", padded),
        text_as(&[" Mã định danh "], "person_id", padded),
        date(&["Ngày sinh "], "birth_date", DateAs::Cell),
        spelled(
            &["Giới tính\u{a0}"],
            "gender",
            &[("male", "Nam "), ("female", "Nữ\u{a0}")],
        ),
        text_as(&["Đơn vị "], "unit", padded),
        spelled(
            &["Trình độ chuyên môn "],
            "qualification",
            &[
                ("doctorate", "Tiến sĩ "),
                ("master", " Thạc sĩ"),
                ("university", "Đại học\u{a0}"),
                ("college", "Cao đẳng "),
                ("intermediate", "Trung cấp "),
            ],
        ),
    ];
    let mut tb = table("staff", level_of(file), cols);
    tb.title = staff_title("SỞ Y TẾ", "NĂM 2025 ");
    tb.items = items(eight());
    tb.signature = signature_block(7);
    single(
        "wps_trailing_spaces",
        "WPS habit: trailing spaces and NBSP after headers, names, IDs and enumeration values (stored trimmed)",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// Text typed on a Mac or pasted from a PDF: NFD everywhere.
fn nfd_text() -> Style {
    let file = "SGDDT/danh_sach_nfd_2025.xlsx";
    let mut tb = table("staff", level_of(file), staff_cols());
    tb.title = staff_title("SỞ GIÁO DỤC VÀ ĐÀO TẠO", "NĂM 2025");
    tb.items = items(eight());
    tb.signature = signature_block(7);
    let (mut sheet, truth) = sheet_of("DS", &tb);
    for cell in sheet.cells.values_mut() {
        if let Cell::T(s) = cell {
            *s = s.nfd().collect();
        }
    }
    style(
        "nfd_text",
        "every text (title, headers, names, values) in Unicode NFD; stored as NFC",
        file,
        vec![sheet],
        vec![truth],
        accepted("2025"),
    )
}

fn vn_thousands(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(ch);
    }
    out
}

/// Numbers stored as text ("40", "1.500.000") and dates as text "5/3/2025".
fn training_numbers_as_text() -> Style {
    let file = "STTTT/ket_qua_dao_tao_2025.xlsx";
    let cols = vec![
        stt("STT"),
        text(&["Họ và tên"], "full_name"),
        text(&["Tên khóa học"], "course"),
        spelled(&["Nội dung bồi dưỡng"], "category", CATEGORY_VI),
        date(&["Từ ngày"], "start_date", DateAs::SlashShort),
        date(&["Đến ngày"], "end_date", DateAs::SlashShort),
        int_as(&["Số tiết"], "lessons", |v| t(v.to_string())),
        int_as(&["Kinh phí (đồng)"], "cost_vnd", |v| t(vn_thousands(v))),
    ];
    let mut tb = table("training", level_of(file), cols);
    tb.title = training_title("SỞ KHOA HỌC VÀ CÔNG NGHỆ", "NĂM 2025");
    tb.items = items(without(
        course_lines(
            &[
                "Nguyễn Hữu Thắng",
                "Trần Thị Mơ",
                "Lò Văn Dương",
                "Vũ Thị Phượng",
            ],
            "Bồi dưỡng chuyển đổi số cho công chức",
            "digital",
            "online",
            (2025, 3, 5),
            (2025, 3, 14),
            40,
            1_500_000,
        ),
        &["mode", "result"],
    ));
    tb.signature = signature_block(8);
    single(
        "training_numbers_as_text",
        "lessons and costs stored as text ('40', '1.500.000'), dates as text '5/3/2025'",
        file,
        "DS",
        &tb,
        "2025",
    )
}

fn staff_with_dates(file: &str, agency: &str, how: DateAs) -> Table {
    let mut cols = staff_cols();
    cols[3] = date(&["Ngày sinh"], "birth_date", how);
    let mut tb = table("staff", level_of(file), cols);
    tb.title = staff_title(agency, "NĂM 2025");
    tb.items = items(eight());
    tb.signature = signature_block(7);
    tb
}

fn dates_dotted() -> Style {
    let file = "TPDBP/danh_sach_cbcc_2025.xlsx";
    let tb = staff_with_dates(file, "UBND THÀNH PHỐ ĐIỆN BIÊN PHỦ", DateAs::Dot);
    single(
        "dates_dotted",
        "birth dates typed as text '15.03.1985'",
        file,
        "DS",
        &tb,
        "2025",
    )
}

fn dates_iso() -> Style {
    let file = "HTG/danh_sach_cbcc_2025.xlsx";
    let tb = staff_with_dates(file, "UBND HUYỆN TUẦN GIÁO", DateAs::Iso);
    single(
        "dates_iso",
        "birth dates as ISO text '1985-03-15' (exported by software)",
        file,
        "DS",
        &tb,
        "2025",
    )
}

fn training_dates_dashed() -> Style {
    let file = "XTM/ket_qua_boi_duong_2025.xlsx";
    let mut cols = training_cols();
    cols[6] = date(&["Thời gian", "Từ ngày"], "start_date", DateAs::Dash);
    cols[7] = date(&["Thời gian", "Đến ngày"], "end_date", DateAs::Dash);
    let mut tb = table("training", level_of(file), cols);
    tb.title = training_title("UBND XÃ THANH MINH", "NĂM 2025");
    tb.items = items(course_lines(
        &["Lò Văn Inh", "Lường Thị Én", "Quàng Văn Ón"],
        "Bồi dưỡng quốc phòng và an ninh đối tượng 4",
        "defense_security",
        "in_person",
        (2025, 8, 4),
        (2025, 8, 8),
        40,
        900_000,
    ));
    tb.signature = signature_block(11);
    single(
        "training_dates_dashed",
        "course dates as text '04-08-2025' under 'Thời gian' › 'Từ ngày'/'Đến ngày'",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// The two-sided national heading above a merged title.
fn national_heading() -> Style {
    let file = "XNT/danh_sach_cbcc_2025.xlsx";
    let mut tb = table("staff", level_of(file), staff_cols());
    tb.top = 5;
    tb.merge_title = true;
    tb.title = vec![
        "DANH SÁCH CÁN BỘ, CÔNG CHỨC XÃ NÀ TẤU".into(),
        "NĂM 2025".into(),
    ];
    tb.items = items(eight());
    tb.signature = signature_block(7);
    let mut sheet = Sheet::new("DS");
    sheet.text(1, 0, "UBND HUYỆN ĐIỆN BIÊN");
    sheet.merge(1, 0, 1, 2);
    sheet.text(1, 3, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM");
    sheet.merge(1, 3, 1, 6);
    sheet.text(2, 0, "UBND XÃ NÀ TẤU");
    sheet.merge(2, 0, 2, 2);
    sheet.text(2, 3, "Độc lập - Tự do - Hạnh phúc");
    sheet.merge(2, 3, 2, 6);
    sheet.text(3, 3, "Nà Tấu, ngày 08 tháng 01 năm 2026");
    sheet.merge(3, 3, 3, 6);
    let written = tb.write(&mut sheet);
    style(
        "national_heading",
        "two-sided heading (agency | CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM, a dated line) above a title merged across the table",
        file,
        vec![sheet],
        vec![written.truth],
        accepted("2025"),
    )
}

/// HR software export: flat header in capitals, ALL CAPS names, codes, extra columns, no title.
fn hr_export_flat_caps() -> Style {
    let file = "SNV/nhan_su_export_2025.xlsx";
    let cols = vec![
        text(&["MÃ CÁN BỘ"], "person_id"),
        text_as(&["HỌ VÀ TÊN"], "full_name", caps),
        date(&["NGÀY SINH"], "birth_date", DateAs::Slash),
        spelled(
            &["GIỚI TÍNH"],
            "gender",
            &[("male", "NAM"), ("female", "NỮ")],
        ),
        extra(&["MÃ PHÒNG BAN"], |_, i| {
            Some(t(format!("PB{:02}", i % 3 + 1)))
        }),
        text(&["ĐƠN VỊ"], "unit"),
        spelled(
            &["TRÌNH ĐỘ CHUYÊN MÔN"],
            "qualification",
            &[
                ("doctorate", "TIẾN SĨ"),
                ("master", "THẠC SĨ"),
                ("university", "ĐẠI HỌC"),
                ("college", "CAO ĐẲNG"),
                ("intermediate", "TRUNG CẤP"),
            ],
        ),
        extra(&["TRẠNG THÁI"], |_, _| Some(t("Đang làm việc"))),
        extra(&["NGÀY CẬP NHẬT"], |_, _| Some(t("10/01/2026 08:15"))),
    ];
    let mut tb = table("staff", level_of(file), cols);
    tb.gap = 0;
    let recs: Vec<Rec> = eight()
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let name = match r.v.get("full_name") {
                Some(super::V::S(s)) => s.to_uppercase(),
                _ => String::new(),
            };
            r.s("person_id", &format!("CB{:05}", 1201 + i))
                .s("full_name", &name)
        })
        .collect();
    tb.items = items(recs);
    single(
        "hr_export_flat_caps",
        "HR software export: one flat header row in capitals at row 1, codes 'CB01201', ALL CAPS names (stored as written), unknown columns",
        file,
        "NhanSu",
        &tb,
        "2025",
    )
}

/// An export whose table starts at column D and row 20 (space for a logo).
fn hr_export_offset() -> Style {
    let file = "SYT/bao_cao_nhan_su_2025.xlsx";
    let mut tb = table("staff", level_of(file), staff_cols());
    tb.left = 3;
    tb.top = 13;
    tb.gap = 2;
    tb.title = staff_title("SỞ Y TẾ", "NĂM 2025");
    tb.items = items(eight());
    tb.signature = signature_block(7);
    let written_probe = {
        let mut s = Sheet::new("probe");
        tb.write(&mut s).rows[0]
    };
    assert_eq!(written_probe, 20, "the style's table starts at row 20");
    single(
        "hr_export_offset",
        "table starting at column D, header at row 19, data from row 20 (rows above left for a logo)",
        file,
        "BaoCao",
        &tb,
        "2025",
    )
}

/// "Mẫu số 01": letters-and-numbers row, sections "A." / "B." per block.
fn mau_so_01_sections() -> Style {
    let file = "SGDDT/mau_01_danh_sach_2025.xlsx";
    let mut tb = table("staff", level_of(file), staff_cols());
    tb.title = vec![
        "Mẫu số 01".into(),
        "(Ban hành kèm theo Công văn số 2345/SNV-CCVC của Sở Nội vụ)".into(),
        "DANH SÁCH CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC NĂM 2025".into(),
    ];
    tb.numbers = Numbers::Letters;
    let recs = eight();
    let mut all = vec![Item::Section(
        Some("A.".into()),
        "KHỐI QUẢN LÝ NHÀ NƯỚC".into(),
    )];
    all.extend(items(recs[..4].to_vec()));
    all.push(Item::Section(Some("B.".into()), "KHỐI SỰ NGHIỆP".into()));
    all.extend(items(recs[4..].to_vec()));
    tb.items = all;
    tb.signature = signature_block(7);
    single(
        "mau_so_01_sections",
        "'Mẫu số 01' form: A B 1 2 3… row, section rows 'A.'/'B.' with a block name",
        file,
        "Mau 01",
        &tb,
        "2025",
    )
}

/// "Biểu số 2a": sections I/II, subtotals and the grand total of costs.
fn bieu_so_2a_training() -> Style {
    let file = "STTTT/bieu_2a_dao_tao_2025.xlsx";
    let mut tb = table("training", level_of(file), training_cols());
    tb.title = vec![
        "Biểu số 2a".into(),
        "KẾT QUẢ ĐÀO TẠO, BỒI DƯỠNG CÁN BỘ, CÔNG CHỨC NĂM 2025".into(),
    ];
    tb.numbers = Numbers::Paren;
    tb.sums = vec!["cost_vnd"];
    let a = course_lines(
        &["Nguyễn Minh Tuấn", "Lê Thị Thanh"],
        "Bồi dưỡng ngạch chuyên viên chính",
        "state_management",
        "in_person",
        (2025, 2, 10),
        (2025, 4, 11),
        320,
        12_000_000,
    );
    let b = course_lines(
        &["Trần Quang Vinh", "Phạm Thị Loan", "Đỗ Văn Hiệp"],
        "Tập huấn trí tuệ nhân tạo trong công vụ",
        "digital",
        "online",
        (2025, 11, 3),
        (2025, 11, 5),
        16,
        0,
    );
    let mut all = vec![Item::SectionMerged(
        "I. BỒI DƯỠNG THEO TIÊU CHUẨN NGẠCH".into(),
    )];
    all.extend(items(a));
    all.push(Item::Sub("Cộng".into()));
    all.push(Item::SectionMerged("II. BỒI DƯỠNG KỸ NĂNG".into()));
    all.extend(items(b));
    all.push(Item::Sub("Cộng".into()));
    all.push(Item::Total("TỔNG CỘNG".into()));
    tb.items = all;
    tb.signature = signature_block(11);
    single(
        "bieu_so_2a_training",
        "'Biểu số 2a' form: (1)(2)… row, merged section rows 'I. …'/'II. …', correct 'Cộng' subtotals and 'TỔNG CỘNG' of costs",
        file,
        "Bieu 2a",
        &tb,
        "2025",
    )
}

/// One sheet per unit and an instructions sheet.
fn multi_sheet_units() -> Style {
    let file = "TPDBP/danh_sach_theo_don_vi_2025.xlsx";
    let recs = eight();
    let units = [
        ("Văn phòng", 0..3),
        ("Phòng Nội vụ", 3..6),
        ("Phòng Tài chính", 6..8),
    ];
    let mut sheets = Vec::new();
    let mut truths = Vec::new();
    for (unit, range) in units {
        let mut tb = table("staff", level_of(file), staff_cols());
        tb.title = staff_title(
            &format!("UBND THÀNH PHỐ ĐIỆN BIÊN PHỦ - {}", unit.to_uppercase()),
            "NĂM 2025",
        );
        tb.items = items(
            recs[range]
                .iter()
                .cloned()
                .map(|r| r.s("unit", unit))
                .collect(),
        );
        tb.signature = signature_block(7);
        let (sheet, truth) = sheet_of(unit, &tb);
        sheets.push(sheet);
        truths.push(truth);
    }
    let mut guide = Sheet::new("Hướng dẫn");
    let lines = [
        "HƯỚNG DẪN GHI BIỂU",
        "1. Mỗi đơn vị ghi một sheet, không thay đổi tiêu đề cột.",
        "2. Ngày sinh ghi theo định dạng ngày/tháng/năm.",
        "3. Trình độ chuyên môn ghi: Tiến sĩ, Thạc sĩ, Đại học, Cao đẳng, Trung cấp.",
    ];
    for (i, line) in lines.iter().enumerate() {
        guide.text(i as u32 + 1, 0, line);
    }
    sheets.push(guide);
    truths.push(SheetTruth::whole("Hướng dẫn", Kind::Unmatched));
    style(
        "multi_sheet_units",
        "one roster sheet per unit (3 sheets) and a 'Hướng dẫn' instructions sheet (reported, not read)",
        file,
        sheets,
        truths,
        accepted("2025"),
    )
}

/// Giới tính › Nam | Nữ marked "x", "X", "✓" or 1.
fn mixed_gender_marks() -> Style {
    let file = "HTG/ds_2025_gioi_tinh.xlsx";
    let mut cols = vec![
        stt("STT"),
        text(&["Họ và tên"], "full_name"),
        text(&["Mã định danh"], "person_id"),
    ];
    cols.extend(marks(
        &["Giới tính"],
        "gender",
        &[("Nam", "male"), ("Nữ", "female")],
        mixed_mark,
    ));
    cols.push(date(&["Ngày sinh"], "birth_date", DateAs::Cell));
    let mut tb = table("staff", level_of(file), cols);
    tb.title = staff_title("UBND HUYỆN TUẦN GIÁO", "NĂM 2025");
    tb.items = items(without(eight(), &["unit", "qualification"]));
    tb.signature = signature_block(6);
    single(
        "mixed_gender_marks",
        "'Giới tính' over 'Nam'/'Nữ' marked with a mix of 'x', 'X', '✓' and 1",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// Training: mode and location as x-marks, certificate as "x".
fn training_mode_location_marks() -> Style {
    let file = "XTM/dao_tao_hinh_thuc_2025.xlsx";
    let mut cols = vec![
        stt("STT"),
        text(&["Họ và tên"], "full_name"),
        text(&["Tên lớp"], "course"),
        spelled(&["Lĩnh vực"], "category", CATEGORY_VI),
    ];
    cols.extend(marks(
        &["Hình thức"],
        "mode",
        &[
            ("Tập trung", "in_person"),
            ("Trực tuyến", "online"),
            ("Kết hợp", "blended"),
        ],
        x,
    ));
    cols.extend(marks(
        &["Địa điểm"],
        "location",
        &[("Trong nước", "domestic"), ("Nước ngoài", "abroad")],
        x,
    ));
    cols.push(flag(&["Chứng chỉ"], "certified", "x"));
    let mut tb = table("training", level_of(file), cols);
    tb.title = training_title("UBND XÃ THANH MINH", "NĂM 2025");
    tb.items = items(vec![
        course_line("Lò Thị Hoa", "Lớp tiếng Anh giao tiếp", "foreign_language")
            .s("mode", "in_person")
            .s("location", "domestic")
            .b("certified", true),
        course_line(
            "Quàng Văn Kiên",
            "Khóa học quản trị công tại Singapore",
            "leadership",
        )
        .s("mode", "in_person")
        .s("location", "abroad")
        .b("certified", true),
        course_line("Tòng Thị Phương", "Kỹ năng số cơ bản", "digital")
            .s("mode", "online")
            .s("location", "domestic")
            .b("certified", false),
        course_line("Cầm Văn Tâm", "Bồi dưỡng nghiệp vụ văn thư", "professional")
            .s("mode", "blended")
            .s("location", "domestic")
            .b("certified", false),
    ]);
    tb.signature = signature_block(10);
    single(
        "training_mode_location_marks",
        "training with 'Hình thức' (Tập trung/Trực tuyến/Kết hợp) and 'Địa điểm' (Trong nước/Nước ngoài) x-marks, 'Chứng chỉ' x",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// A plan with header aliases and no budget column.
fn plan_aliases_no_budget() -> Style {
    let file = "XNT/ke_hoach_boi_duong_2026.xlsx";
    let cols = vec![
        stt("TT"),
        spelled(&["Lĩnh vực"], "category", CATEGORY_VI),
        int(&["Kế hoạch"], "target_participants"),
        notes("Ghi chú"),
    ];
    let mut tb = table("plan", level_of(file), cols);
    tb.title = vec![
        "UBND XÃ NÀ TẤU".into(),
        "KẾ HOẠCH BỒI DƯỠNG CÁN BỘ, CÔNG CHỨC XÃ NĂM 2026".into(),
    ];
    tb.sums = vec!["target_participants"];
    let mut all = items(vec![
        rec()
            .s("category", "political_theory")
            .i("target_participants", 6),
        rec()
            .s("category", "professional")
            .i("target_participants", 12)
            .note("Trong đó 4 công chức Tư pháp - Hộ tịch"),
        rec()
            .s("category", "ethnic_language")
            .i("target_participants", 5),
        rec().s("category", "digital").i("target_participants", 20),
    ]);
    all.push(Item::Total("Tổng cộng".into()));
    tb.items = all;
    tb.signature = signature_block(4);
    single(
        "plan_aliases_no_budget",
        "commune plan with 'Lĩnh vực' and 'Kế hoạch' headers, a notes column and no budget column (budget unknown), correct total",
        file,
        "KH",
        &tb,
        "2026",
    )
}

/// IT recruitment with a totals row.
fn recruitment_with_totals() -> Style {
    let file = "SNV/tuyen_dung_cntt_2025.xlsx";
    let cols = vec![
        stt("STT"),
        spelled(
            &["Lĩnh vực"],
            "field",
            &[("it", "Công nghệ thông tin"), ("other", "Khác")],
        ),
        int(&["Chỉ tiêu"], "target"),
        int(&["Đã tuyển"], "recruited"),
        int(&["Thôi việc"], "resigned"),
    ];
    let mut tb = table("recruitment", level_of(file), cols);
    tb.title = vec!["SỞ NỘI VỤ".into(), "BÁO CÁO TUYỂN DỤNG NĂM 2025".into()];
    tb.sums = vec!["target", "recruited", "resigned"];
    let mut all = items(vec![
        rec()
            .s("field", "it")
            .i("target", 5)
            .i("recruited", 3)
            .i("resigned", 1),
        rec()
            .s("field", "it")
            .i("target", 2)
            .i("recruited", 2)
            .i("resigned", 0)
            .raw("field", t("An toàn thông tin")),
        rec()
            .s("field", "other")
            .i("target", 10)
            .i("recruited", 9)
            .i("resigned", 2),
    ]);
    all.push(Item::Total("Tổng cộng".into()));
    tb.items = all;
    tb.signature = signature_block(5);
    single(
        "recruitment_with_totals",
        "IT recruitment (CNTT, An toàn thông tin, Khác) with a correct Tổng cộng row",
        file,
        "TD",
        &tb,
        "2025",
    )
}

/// Blank rows inside the table.
fn blank_rows_inside() -> Style {
    let file = "SYT/ds_vien_chuc_2025.xlsx";
    let mut tb = table("staff", level_of(file), staff_cols());
    tb.title = staff_title("SỞ Y TẾ", "NĂM 2025");
    let recs = eight();
    let mut all = items(recs[..3].to_vec());
    all.push(Item::Blank);
    all.push(Item::Blank);
    all.extend(items(recs[3..6].to_vec()));
    all.push(Item::Blank);
    all.extend(items(recs[6..].to_vec()));
    all.push(Item::Blank);
    all.push(Item::Blank);
    tb.items = all;
    tb.signature = signature_block(7);
    single(
        "blank_rows_inside",
        "two blank rows, then one, between people inside the table; more blanks before the signature",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// A long roster (230 people) with a signature block.
fn long_roster_signature() -> Style {
    let file = "SGDDT/danh_sach_giao_vien_2025.xlsx";
    let mut tb = table("staff", level_of(file), staff_cols());
    tb.title = staff_title("SỞ GIÁO DỤC VÀ ĐÀO TẠO", "NĂM 2025");
    tb.items = items(
        people(2025, 230, "0112")
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                r.s(
                    "unit",
                    [
                        "Trường THPT Chuyên Lê Quý Đôn",
                        "Trường THPT Phan Đình Giót",
                        "Trường PTDTNT tỉnh",
                    ][i % 3],
                )
            })
            .collect(),
    );
    tb.signature = signature_block(7);
    single(
        "long_roster_signature",
        "a 230-person roster (fixed seed) ending in a signature block",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// The last person's notes cell holds a date sentence.
fn last_person_note_date() -> Style {
    let file = "STTTT/ds_cong_chuc_ghi_chu_2025.xlsx";
    let mut cols = staff_cols();
    cols.push(notes("Ghi chú"));
    let mut tb = table("staff", level_of(file), cols);
    tb.title = staff_title("SỞ KHOA HỌC VÀ CÔNG NGHỆ", "NĂM 2025");
    let mut recs = eight();
    recs[7] = recs[7]
        .clone()
        .note("Chuyển công tác từ ngày 01 tháng 02 năm 2026");
    tb.items = items(recs);
    tb.signature = signature_block(8);
    single(
        "last_person_note_date",
        "the last person's 'Ghi chú' says 'Chuyển công tác từ ngày 01 tháng 02 năm 2026', right above the signature block",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// Names that begin like roman numerals or letters.
fn roman_like_names() -> Style {
    let file = "TPDBP/ds_can_bo_ten_2025.xlsx";
    let cols = vec![
        stt("STT"),
        text(&["Họ và tên"], "full_name"),
        text(&["Mã định danh"], "person_id"),
        spelled(&["Giới tính"], "gender", GENDER_VI),
    ];
    let mut tb = table("staff", level_of(file), cols);
    tb.title = staff_title("UBND THÀNH PHỐ ĐIỆN BIÊN PHỦ", "NĂM 2025");
    tb.items = items(vec![
        person("011090000601", "Lý Thị I").female(),
        person("011089000602", "Vi Văn X").male(),
        person("011087000603", "Vi Thị Lan").female(),
        person("011091000604", "Mai Văn C").male(),
        person("011093000605", "Lò Văn V").male(),
        person("011088000606", "Xa Thị Dịu").female(),
        person("011086000607", "Ly Văn Lâm").male(),
        person("011092000608", "Di Thị Mỷ").female(),
    ]);
    tb.signature = signature_block(4);
    single(
        "roman_like_names",
        "names that read like section labels: 'Lý Thị I', 'Vi Văn X', 'Mai Văn C', 'Lò Văn V', 'Xa Thị Dịu'",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// Section rows "1." / "2." per unit, numbered like data rows.
fn numbered_unit_sections() -> Style {
    let file = "HTG/ds_theo_phong_2025.xlsx";
    let mut tb = table("staff", level_of(file), staff_cols());
    tb.title = staff_title("UBND HUYỆN TUẦN GIÁO", "NĂM 2025");
    tb.numbers = Numbers::Plain;
    let recs = eight();
    let mut all = vec![Item::Section(
        Some("1.".into()),
        "Văn phòng HĐND và UBND huyện".into(),
    )];
    all.extend(items(
        recs[..3]
            .iter()
            .cloned()
            .map(|r| r.s("unit", "Văn phòng HĐND và UBND huyện"))
            .collect(),
    ));
    all.push(Item::Section(Some("2.".into()), "Phòng Nội vụ".into()));
    all.extend(items(
        recs[3..6]
            .iter()
            .cloned()
            .map(|r| r.s("unit", "Phòng Nội vụ"))
            .collect(),
    ));
    all.push(Item::Section(
        Some("3.".into()),
        "Phòng Giáo dục và Đào tạo".into(),
    ));
    all.extend(items(
        recs[6..]
            .iter()
            .cloned()
            .map(|r| r.s("unit", "Phòng Giáo dục và Đào tạo"))
            .collect(),
    ));
    tb.items = all;
    tb.signature = signature_block(7);
    single(
        "numbered_unit_sections",
        "section rows '1.', '2.', '3.' naming each unit in the name column (no ID), under a 1 2 3… row",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// "Trình độ" over "Chuyên môn" | "Lý luận\nchính trị" | "Quản lý\nnhà nước".
fn wrapped_group_header() -> Style {
    let file = "XTM/ds_trinh_do_2025.xlsx";
    let cols = vec![
        stt("STT"),
        text(&["Họ và tên"], "full_name"),
        text(&["Mã định danh"], "person_id"),
        spelled(&["Trình độ", "Chuyên môn"], "qualification", QUAL_VI),
        spelled(
            &["Trình độ", "Lý luận\nchính trị"],
            "political_theory",
            LLCT_VI,
        ),
        spelled(
            &["Trình độ", "Quản lý\nnhà nước"],
            "state_management",
            QLNN_VI,
        ),
    ];
    let mut tb = table("staff", level_of(file), cols);
    tb.title = staff_title("UBND XÃ THANH MINH", "NĂM 2025");
    tb.items = items(vec![
        person("011080000701", "Lò Văn Minh")
            .s("qualification", "university")
            .s("political_theory", "intermediate")
            .s("state_management", "specialist"),
        person("011082000702", "Quàng Thị Lả")
            .s("qualification", "intermediate")
            .s("political_theory", "elementary"),
        person("011084000703", "Lường Văn Pọm")
            .s("qualification", "university")
            .s("political_theory", "intermediate")
            .s("state_management", "principal"),
        person("011089000704", "Tòng Văn Hặc"),
    ]);
    tb.signature = signature_block(6);
    single(
        "wrapped_group_header",
        "'Trình độ' over 'Chuyên môn' | 'Lý luận\\nchính trị' | 'Quản lý\\nnhà nước' (wrapped leaves), blanks meaning none",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// Digital transformation and information security roles.
fn digital_roles() -> Style {
    let file = "XNT/ds_cds_2025.xlsx";
    let cols = vec![
        stt("STT"),
        text(&["Họ và tên"], "full_name"),
        text(&["Mã định danh"], "person_id"),
        text(&["Chức vụ"], "position"),
        spelled(&["Vai trò CĐS"], "digital_role", ROLE_VI),
        spelled(&["ATTT"], "infosec_role", ROLE_VI),
    ];
    let mut tb = table("staff", level_of(file), cols);
    tb.title = staff_title("UBND XÃ NÀ TẤU", "NĂM 2025");
    tb.items = items(vec![
        person("011085000801", "Lò Văn Thành")
            .s("position", "Chủ tịch UBND")
            .s("digital_role", "part_time"),
        person("011090000802", "Lò Thị Nhàn")
            .s("position", "Công chức Văn phòng - Thống kê")
            .s("digital_role", "dedicated")
            .s("infosec_role", "part_time"),
        person("011093000803", "Cà Văn Bun").s("position", "Công chức Tư pháp - Hộ tịch"),
        person("011095000804", "Vừ Thị Dợ")
            .s("position", "Công chức Địa chính")
            .s("infosec_role", "dedicated"),
    ]);
    tb.signature = signature_block(6);
    single(
        "digital_roles",
        "commune roster with 'Vai trò CĐS' and 'ATTT' (Chuyên trách/Kiêm nhiệm, blank = none) and positions",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// A district roster with a "Cấp" column, some blank (the department's level).
fn level_column() -> Style {
    let file = "TPDBP/ds_cbcc_cap_2025.xlsx";
    let cols = vec![
        stt("STT"),
        text(&["Họ và tên"], "full_name"),
        text(&["Mã định danh"], "person_id"),
        text(&["Cơ quan, đơn vị"], "unit"),
        spelled(
            &["Cấp"],
            "level",
            &[("district", "Huyện"), ("commune", "Xã")],
        ),
    ];
    let mut tb = table("staff", level_of(file), cols);
    tb.title = staff_title("UBND THÀNH PHỐ ĐIỆN BIÊN PHỦ", "NĂM 2025");
    tb.items = items(vec![
        person("011085000901", "Nguyễn Văn Hưng")
            .s("unit", "Phòng Nội vụ")
            .s("level", "district"),
        person("011087000902", "Lê Thị Hồng")
            .s("unit", "UBND phường Him Lam")
            .s("level", "commune"),
        person("011089000903", "Đỗ Văn Sỹ")
            .s("unit", "UBND xã Thanh Minh")
            .s("level", "commune"),
        person("011090000904", "Phạm Thị Yên").s("unit", "Phòng Tài chính - Kế hoạch"),
    ]);
    tb.signature = signature_block(5);
    single(
        "level_column",
        "district roster with a 'Cấp' column (Huyện/Xã; a blank cell takes the department's level) and 'Cơ quan, đơn vị'",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// Results written as grades, certificates as "Có".
fn results_variety() -> Style {
    let file = "SYT/xep_loai_boi_duong_2025.xlsx";
    let cols = vec![
        stt("STT"),
        text(&["Họ và tên"], "full_name"),
        text(&["Số CCCD"], "person_id"),
        text(&["Khóa đào tạo, bồi dưỡng"], "course"),
        spelled(&["Nội dung"], "category", CATEGORY_VI),
        extra(&["Xếp loại"], |_, _| None),
        flag(&["Cấp chứng chỉ"], "certified", "Có"),
    ];
    let grades = [
        ("Xuất sắc", "passed", true),
        ("Giỏi", "passed", true),
        ("Khá", "passed", true),
        ("Trung bình", "passed", true),
        ("Không đạt", "failed", false),
        ("Đang học", "in_progress", false),
    ];
    let mut cols = cols;
    cols[5] = spelled(&["Xếp loại"], "result", &[]);
    let mut tb = table("training", level_of(file), cols);
    tb.title = training_title("SỞ Y TẾ", "NĂM 2025");
    let names = [
        "Hà Văn Chung",
        "Lưu Thị Sen",
        "Mạc Văn Khoa",
        "Ninh Thị Duyên",
        "Tạ Văn Quân",
        "Khổng Thị Huyền",
    ];
    tb.items = items(
        grades
            .iter()
            .enumerate()
            .map(|(i, &(written, result, cert))| {
                course_line(
                    names[i],
                    "Bồi dưỡng chức danh nghề nghiệp bác sĩ hạng II",
                    "professional",
                )
                .s("person_id", &format!("0110860010{i:02}"))
                .s("result", result)
                .raw("result", t(written))
                .b("certified", cert)
            })
            .collect(),
    );
    tb.signature = signature_block(7);
    single(
        "results_variety",
        "'Xếp loại' as grades Xuất sắc/Giỏi/Khá/Trung bình/Không đạt/Đang học, 'Cấp chứng chỉ' = 'Có' or blank (false)",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// Formulas saved by Excel, with their cached values.
fn cached_formulas() -> Style {
    let file = "SGDDT/kinh_phi_dao_tao_2025.xlsx";
    let mut tb = table("training", level_of(file), training_cols());
    tb.title = training_title("SỞ GIÁO DỤC VÀ ĐÀO TẠO", "NĂM 2025");
    tb.sums = vec!["cost_vnd"];
    let mut all = items(course_lines(
        &["Nguyễn Thị Hương", "Bạc Văn Tuấn", "Lò Thị Vân"],
        "Bồi dưỡng cán bộ quản lý trường học",
        "leadership",
        "in_person",
        (2025, 7, 14),
        (2025, 7, 25),
        80,
        2_400_000,
    ));
    all.push(Item::Total("Tổng cộng".into()));
    tb.items = all;
    tb.signature = signature_block(11);
    let mut sheet = Sheet::new("DS");
    let written = tb.write(&mut sheet);
    let (start, end, lessons, cost) = (6u16, 7u16, 8u16, 10u16);
    let _ = lessons;
    for &row in &written.rows {
        // End = start + 11 days, cost = 80 lessons × 30.000: Excel keeps the results.
        sheet.set(
            row,
            end,
            Cell::F(
                format!("{}{row}+11", super::book::col_name(start)),
                Some(45863.0),
            ),
        );
        sheet.set(
            row,
            cost,
            Cell::F(
                format!("{}{row}*30000", super::book::col_name(8)),
                Some(2_400_000.0),
            ),
        );
    }
    let first = written.rows[0];
    let last = *written.rows.last().unwrap_or(&first);
    let k = super::book::col_name(cost);
    sheet.set(
        last + 1,
        cost,
        Cell::F(format!("SUM({k}{first}:{k}{last})"), Some(7_200_000.0)),
    );
    style(
        "cached_formulas",
        "end dates '=G8+11', costs '=I8*30000' and '=SUM()' total as Excel saves them, with cached values",
        file,
        vec![sheet],
        vec![written.truth],
        accepted("2025"),
    )
}

/// STT as text "01", "02"; numeric staff codes.
fn stt_text_numeric_codes() -> Style {
    let file = "STTTT/ds_ma_can_bo_2025.xlsx";
    let cols = vec![
        extra(&["STT"], |_, i| Some(t(format!("{:02}", i + 1)))),
        text(&["Mã cán bộ"], "person_id"),
        text(&["Họ tên"], "full_name"),
        date(&["Ngày sinh"], "birth_date", DateAs::Cell),
        spelled(&["Giới tính"], "gender", GENDER_VI),
    ];
    let mut tb = table("staff", level_of(file), cols);
    tb.title = staff_title("SỞ KHOA HỌC VÀ CÔNG NGHỆ", "NĂM 2025");
    let recs: Vec<Rec> = without(eight(), &["unit", "qualification"])
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let code = 10230 + i as i64;
            r.s("person_id", &code.to_string())
                .raw("person_id", n(code as f64))
        })
        .collect();
    tb.items = items(recs);
    tb.signature = signature_block(5);
    single(
        "stt_text_numeric_codes",
        "STT typed as text '01', '02'…; 'Mã cán bộ' as numbers 10230… (stored as the text '10230')",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// Gender written "NAM" / "NỮ" / "nam" / "nữ".
fn gender_caps_lower() -> Style {
    let file = "TPDBP/ds_gioi_tinh_2025.xlsx";
    let mut tb = table("staff", level_of(file), staff_cols());
    tb.title = staff_title("UBND THÀNH PHỐ ĐIỆN BIÊN PHỦ", "NĂM 2025");
    let recs: Vec<Rec> = eight()
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let female = matches!(r.v.get("gender"), Some(super::V::S(g)) if g == "female");
            let written = match (female, i % 2) {
                (true, 0) => "NỮ",
                (true, _) => "nữ",
                (false, 0) => "NAM",
                (false, _) => "nam",
            };
            r.raw("gender", t(written))
        })
        .collect();
    tb.items = items(recs);
    tb.signature = signature_block(7);
    single(
        "gender_caps_lower",
        "gender typed 'NAM'/'NỮ'/'nam'/'nữ'",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// An export from software with English headers and values.
fn english_headers_export() -> Style {
    let file = "HTG/hrm_export_2025.xlsx";
    let cols = vec![
        text(&["ID"], "person_id"),
        text(&["Full name"], "full_name"),
        date(&["Date of birth"], "birth_date", DateAs::Iso),
        spelled(
            &["Gender"],
            "gender",
            &[("male", "Male"), ("female", "Female")],
        ),
        text(&["Unit"], "unit"),
        spelled(
            &["Qualification"],
            "qualification",
            &[
                ("doctorate", "Doctorate"),
                ("master", "Master"),
                ("university", "University"),
                ("college", "College"),
                ("intermediate", "Intermediate"),
            ],
        ),
        extra(&["Employee status"], |_, _| Some(t("Active"))),
    ];
    let mut tb = table("staff", level_of(file), cols);
    tb.title = vec!["Staff list 2025".into()];
    tb.gap = 0;
    tb.items = items(eight());
    single(
        "english_headers_export",
        "HRM export with English headers and values (ID, Full name, Date of birth as ISO, Male/Female, Master…), a title 'Staff list 2025'",
        file,
        "Export",
        &tb,
        "2025",
    )
}

fn short_training(file: &str, agency: &str, line: &str) -> Table {
    let mut tb = table("training", level_of(file), training_cols());
    tb.title = training_title(agency, line);
    tb.items = items(course_lines(
        &["Nguyễn Văn Phúc", "Trần Thị Nguyệt", "Lò Văn Chăm"],
        "Bồi dưỡng nghiệp vụ công tác dân tộc",
        "professional",
        "in_person",
        (2025, 5, 12),
        (2025, 5, 16),
        40,
        1_000_000,
    ));
    tb.signature = signature_block(11);
    tb
}

fn quarter_token_in_name() -> Style {
    let file = "XTM/BC_dao_tao_2025-Q2.xlsx";
    let tb = short_training(file, "UBND XÃ THANH MINH", "QUÝ II NĂM 2025");
    single(
        "quarter_token_in_name",
        "file 'BC_dao_tao_2025-Q2.xlsx' titled QUÝ II NĂM 2025: 2025-Q2",
        file,
        "DS",
        &tb,
        "2025-Q2",
    )
}

fn plan_range_of_years() -> Style {
    let file = "XNT/ke_hoach_2021-2025.xlsx";
    let cols = vec![
        stt("STT"),
        spelled(&["Nội dung bồi dưỡng"], "category", CATEGORY_VI),
        int(&["Số lượt người"], "target_participants"),
        int(&["Kinh phí dự kiến"], "budget_vnd"),
    ];
    let mut tb = table("plan", level_of(file), cols);
    tb.title = vec![
        "UBND XÃ NÀ TẤU".into(),
        "KẾ HOẠCH ĐÀO TẠO, BỒI DƯỠNG GIAI ĐOẠN 2021 - 2025".into(),
    ];
    tb.items = items(vec![
        rec()
            .s("category", "political_theory")
            .i("target_participants", 25)
            .i("budget_vnd", 150_000_000),
        rec()
            .s("category", "state_management")
            .i("target_participants", 30)
            .i("budget_vnd", 90_000_000),
        rec()
            .s("category", "ethnic_language")
            .i("target_participants", 40)
            .i("budget_vnd", 60_000_000),
    ]);
    tb.signature = signature_block(4);
    single(
        "plan_range_of_years",
        "plan 'ke_hoach_2021-2025.xlsx' titled GIAI ĐOẠN 2021 - 2025: the range 2021-2025",
        file,
        "KH",
        &tb,
        "2021-2025",
    )
}

/// A range written with an en dash in the title alone, the file name naming
/// nothing: the title decides the range.
fn plan_range_in_title_only() -> Style {
    let file = "SNV/Ke hoach DTBD (ban chinh thuc).xlsx";
    let cols = vec![
        stt("TT"),
        spelled(&["Lĩnh vực"], "category", CATEGORY_VI),
        int(&["Chỉ tiêu"], "target_participants"),
    ];
    let mut tb = table("plan", level_of(file), cols);
    tb.title = vec![
        "SỞ NỘI VỤ".into(),
        "Kế hoạch đào tạo, bồi dưỡng cán bộ, công chức".into(),
        "giai đoạn 2026–2030".into(),
    ];
    tb.items = items(vec![
        rec()
            .s("category", "digital")
            .i("target_participants", 1200),
        rec()
            .s("category", "professional")
            .i("target_participants", 3400),
    ]);
    single(
        "plan_range_in_title_only",
        "plan titled 'giai đoạn 2026–2030' (en dash) in a file whose name names no period: the range 2026-2030",
        file,
        "Sheet1",
        &tb,
        "2026-2030",
    )
}

fn second_half_year() -> Style {
    let file = "SNV/bao_cao_dao_tao_6_thang_cuoi_nam.xlsx";
    let tb = short_training(file, "SỞ NỘI VỤ", "6 THÁNG CUỐI NĂM 2025");
    single(
        "second_half_year",
        "training list whose title block says '6 THÁNG CUỐI NĂM 2025' (name '…6_thang_cuoi_nam'): the half-year 2025-H2",
        file,
        "DS",
        &tb,
        "2025-H2",
    )
}

fn dispatch_date_in_title() -> Style {
    let file = "SYT/danh_sach_gui_so_noi_vu.xlsx";
    let mut tb = table("staff", level_of(file), staff_cols());
    tb.title = vec![
        "SỞ Y TẾ".into(),
        "DANH SÁCH CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC NĂM 2025".into(),
        "(Kèm theo Công văn số 15/SYT-TCCB ngày 05/01/2026 của Sở Y tế)".into(),
    ];
    tb.items = items(eight());
    tb.signature = signature_block(7);
    single(
        "dispatch_date_in_title",
        "title 'NĂM 2025' with a dispatch line '(Kèm theo Công văn số 15/SYT-TCCB ngày 05/01/2026 …)': 2025",
        file,
        "DS",
        &tb,
        "2025",
    )
}

fn repeated_header_no_numbers() -> Style {
    let file = "SGDDT/ds_nhieu_trang_2025.xlsx";
    let mut tb = table("staff", level_of(file), staff_cols());
    tb.title = staff_title("SỞ GIÁO DỤC VÀ ĐÀO TẠO", "NĂM 2025");
    let mut all = Vec::new();
    for (i, r) in people(77, 60, "0113").into_iter().enumerate() {
        if i > 0 && i % 25 == 0 {
            all.push(Item::RepeatHeader);
        }
        all.push(Item::R(r));
    }
    tb.items = all;
    tb.signature = signature_block(7);
    single(
        "repeated_header_no_numbers",
        "60 people with the header (no number row) repeated every 25 rows, as printed pages",
        file,
        "DS",
        &tb,
        "2025",
    )
}

fn position_column() -> Style {
    let file = "STTTT/ds_lanh_dao_2025.xlsx";
    let cols = vec![
        stt("STT"),
        text(&["Họ và tên"], "full_name"),
        text(&["Mã định danh"], "person_id"),
        text(&["Vị trí việc làm"], "position"),
        spelled(&["Quản lý nhà nước"], "state_management", QLNN_VI),
        spelled(&["Lý luận chính trị"], "political_theory", LLCT_VI),
    ];
    let mut tb = table("staff", level_of(file), cols);
    tb.title = staff_title("SỞ KHOA HỌC VÀ CÔNG NGHỆ", "NĂM 2025");
    tb.items = items(vec![
        person("011075001101", "Trần Văn Kiên")
            .s("position", "Giám đốc Sở")
            .s("state_management", "senior")
            .s("political_theory", "advanced"),
        person("011078001102", "Nguyễn Thị Vân")
            .s("position", "Phó Giám đốc Sở")
            .s("state_management", "principal")
            .s("political_theory", "advanced"),
        person("011083001103", "Phạm Văn Hòa")
            .s("position", "Trưởng phòng Kế hoạch - Tài chính")
            .s("state_management", "principal")
            .s("political_theory", "intermediate"),
        person("011091001104", "Lò Thị Huệ")
            .s("position", "Chuyên viên")
            .s("state_management", "specialist"),
        person("011096001105", "Vi Văn Hùng").s("position", "Nhân viên"),
    ]);
    tb.signature = signature_block(6);
    single(
        "position_column",
        "leaders' roster: 'Vị trí việc làm', 'Quản lý nhà nước' (Chuyên viên cao cấp/chính/…), 'Lý luận chính trị'",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// LibreOffice .ods: merged title, "Giới tính" › Nam | Nữ x-marks, date cells.
fn ods_roster_gender_marks() -> Style {
    let file = "HTG/danh_sach_cbcc_libreoffice_2025.ods";
    let mut cols = vec![
        stt("STT"),
        text(&["Họ và tên"], "full_name"),
        text(&["Mã định danh"], "person_id"),
    ];
    cols.push(date(&["Ngày sinh"], "birth_date", DateAs::Cell));
    cols.extend(marks(
        &["Giới tính"],
        "gender",
        &[("Nam", "male"), ("Nữ", "female")],
        x,
    ));
    cols.push(spelled(&["Trình độ chuyên môn"], "qualification", QUAL_VI));
    let mut tb = table("staff", level_of(file), cols);
    tb.title = staff_title("UBND HUYỆN TUẦN GIÁO", "NĂM 2025");
    tb.merge_title = true;
    tb.items = items(without(eight(), &["unit"]));
    tb.signature = signature_block(7);
    let (sheet, truth) = sheet_of("Trang tính1", &tb);
    ods_style(
        "ods_roster_gender_marks",
        "LibreOffice .ods roster: title merged across the table, 'Giới tính' over 'Nam'/'Nữ' x-marks, date cells",
        file,
        vec![sheet],
        vec![truth],
        "2025",
    )
}

/// LibreOffice .ods with last year's sheet hidden.
fn ods_hidden_last_year() -> Style {
    let file = "XTM/ds_can_bo_xa_2025.ods";
    let mut this = table("staff", level_of(file), staff_cols());
    this.title = staff_title("UBND XÃ THANH MINH", "NĂM 2025");
    this.items = items(eight());
    this.signature = signature_block(7);
    let (visible, truth) = sheet_of("2025", &this);
    let mut last = table("staff", level_of(file), staff_cols());
    last.title = staff_title("UBND XÃ THANH MINH", "NĂM 2024");
    last.items = items(people(24, 6, "0124"));
    let (mut hidden, _) = sheet_of("2024", &last);
    hidden.hidden = true;
    ods_style(
        "ods_hidden_last_year",
        "LibreOffice .ods with this year's roster and last year's sheet (titled NĂM 2024) hidden",
        file,
        vec![visible, hidden],
        vec![truth, SheetTruth::whole("2024", Kind::HiddenSheet)],
        "2025",
    )
}

/// LibreOffice .ods training list with a course block merged over its participants.
fn ods_training_course_block() -> Style {
    let file = "XNT/dao_tao_boi_duong_2025.ods";
    let mut tb = table("training", level_of(file), training_cols());
    tb.title = training_title("UBND XÃ NÀ TẤU", "NĂM 2025");
    let mut recs = course_lines(
        &["Lò Văn Xôm", "Lò Thị Ính", "Quàng Văn Doan"],
        "Bồi dưỡng tiếng Mông cho cán bộ, công chức xã",
        "ethnic_language",
        "in_person",
        (2025, 9, 15),
        (2025, 10, 24),
        160,
        2_000_000,
    );
    recs.extend(course_lines(
        &["Vừ A Sình", "Mùa Thị Dợ"],
        "Bồi dưỡng kỹ năng số",
        "digital",
        "online",
        (2025, 11, 3),
        (2025, 11, 7),
        20,
        0,
    ));
    tb.items = items(recs);
    tb.vmerge = [
        "course",
        "category",
        "mode",
        "start_date",
        "end_date",
        "lessons",
    ]
    .iter()
    .flat_map(|&f| [(f, 0, 2), (f, 3, 4)])
    .collect();
    tb.signature = signature_block(11);
    let (sheet, truth) = sheet_of("DS", &tb);
    ods_style(
        "ods_training_course_block",
        "LibreOffice .ods training list whose course, category, mode, dates and lessons are merged over each course's participants",
        file,
        vec![sheet],
        vec![truth],
        "2025",
    )
}

/// A plan with one "Chung" line (no breakdown by category).
fn plan_without_breakdown() -> Style {
    let file = "SNV/ke_hoach_chung_2026.xlsx";
    let cols = vec![
        stt("STT"),
        spelled(&["Nội dung"], "category", &[("all", "Chung")]),
        int(&["Chỉ tiêu"], "target_participants"),
        int_as(&["Kinh phí dự kiến (đồng)"], "budget_vnd", |v| {
            t(vn_thousands(v))
        }),
    ];
    let mut tb = table("plan", level_of(file), cols);
    tb.title = vec![
        "SỞ NỘI VỤ".into(),
        "KẾ HOẠCH ĐÀO TẠO, BỒI DƯỠNG NĂM 2026".into(),
    ];
    tb.items = items(vec![
        rec()
            .s("category", "all")
            .i("target_participants", 450)
            .i("budget_vnd", 1_250_000_000),
    ]);
    tb.signature = signature_block(4);
    single(
        "plan_without_breakdown",
        "plan of one 'Chung' line (no breakdown), budget typed as text '1.250.000.000'",
        file,
        "KH",
        &tb,
        "2026",
    )
}

/// Recruitment with header aliases "Chuyên ngành", "Số tuyển được", "Nghỉ việc".
fn recruitment_aliases() -> Style {
    let file = "TPDBP/bao_cao_tuyen_dung_2025.xlsx";
    let cols = vec![
        stt("TT"),
        spelled(
            &["Chuyên ngành"],
            "field",
            &[("it", "CNTT"), ("other", "Khác")],
        ),
        int(&["Chỉ tiêu tuyển dụng"], "target"),
        int(&["Số tuyển được"], "recruited"),
        int(&["Nghỉ việc"], "resigned"),
    ];
    let mut tb = table("recruitment", level_of(file), cols);
    tb.title = vec![
        "UBND THÀNH PHỐ ĐIỆN BIÊN PHỦ".into(),
        "KẾT QUẢ TUYỂN DỤNG NĂM 2025".into(),
    ];
    tb.items = items(vec![
        rec().s("field", "it").i("target", 3).i("recruited", 1),
        rec()
            .s("field", "it")
            .i("target", 1)
            .i("recruited", 1)
            .raw("field", t("Chuyển đổi số")),
        rec()
            .s("field", "other")
            .i("target", 6)
            .i("recruited", 6)
            .i("resigned", 1),
    ]);
    tb.signature = signature_block(5);
    single(
        "recruitment_aliases",
        "recruitment with 'Chuyên ngành' (CNTT, Chuyển đổi số, Khác), 'Chỉ tiêu tuyển dụng', 'Số tuyển được', 'Nghỉ việc' (one blank)",
        file,
        "TD",
        &tb,
        "2025",
    )
}

/// Excel for Mac with the 1904 date system: every date a 1904 serial.
fn mac_1904_dates() -> Style {
    let file = "HTG/dao_tao_mac_2025.xlsx";
    let mut tb = table("training", level_of(file), training_cols());
    tb.title = training_title("UBND HUYỆN TUẦN GIÁO", "NĂM 2025");
    tb.items = items(
        course_lines(
            &["Quàng Văn Hướng", "Lò Thị Ngân", "Cầm Văn Đông"],
            "Bồi dưỡng nghiệp vụ công tác tổ chức",
            "professional",
            "in_person",
            (2025, 6, 16),
            (2025, 6, 20),
            40,
            1_100_000,
        )
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.born(1980 + i as i32 * 4, 2 + i as u32, 10 + i as u32))
        .collect(),
    );
    tb.signature = signature_block(11);
    let (sheet, truth) = sheet_of("DS", &tb);
    style(
        "mac_1904_dates",
        "saved by Excel for Mac with the 1904 date system (date1904=1): birth and course dates are 1904 serials",
        file,
        vec![sheet.clone()],
        vec![truth],
        accepted("2025"),
    )
    .with_bytes(super::book::xlsx_1904(&[sheet]))
}

/// A group label typed once above its sub-headers without merging the cells.
fn unmerged_group_header() -> Style {
    let file = "XNT/ket_qua_dao_tao_2025.xlsx";
    let mut tb = table("training", level_of(file), training_cols());
    tb.title = training_title("UBND XÃ NÀ TẤU", "NĂM 2025");
    tb.items = items(course_lines(
        &["Lò Văn Thiêm", "Vừ Thị Chá"],
        "Bồi dưỡng nghiệp vụ văn phòng - thống kê",
        "professional",
        "blended",
        (2025, 4, 21),
        (2025, 4, 25),
        40,
        850_000,
    ));
    tb.signature = signature_block(11);
    let (mut sheet, truth) = sheet_of("DS", &tb);
    // Copied from another file: every merge of the header lost, labels stay
    // in their first cell ("Thời gian" over G only; "STT" in row 6 only).
    let header = 6;
    sheet.merges.retain(|m| m.0 != header);
    style(
        "unmerged_group_header",
        "two-row header whose merges were lost in copying: 'Thời gian' typed once above 'Từ ngày'/'Đến ngày', single labels in the top row only",
        file,
        vec![sheet],
        vec![truth],
        accepted("2025"),
    )
}

/// "Họ và tên" over "Họ và tên đệm" | "Tên".
fn split_name_grouped() -> Style {
    let file = "XTM/ds_cbcc_ho_ten_2025.xlsx";
    let mut cols = vec![stt("STT")];
    cols.extend(split_name(
        &["Họ và tên", "Họ và tên đệm"],
        &["Họ và tên", "Tên"],
    ));
    cols.push(text(&["Mã định danh"], "person_id"));
    cols.push(spelled(&["Giới tính"], "gender", GENDER_VI));
    let mut tb = table("staff", level_of(file), cols);
    tb.title = staff_title("UBND XÃ THANH MINH", "NĂM 2025");
    tb.items = items(without(eight(), &["birth_date", "unit", "qualification"]));
    tb.signature = signature_block(5);
    single(
        "split_name_grouped",
        "'Họ và tên' over 'Họ và tên đệm' | 'Tên' (full name = both joined by a space)",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// Sub-sections "a)" / "b)" under a roman section.
fn lettered_subsections() -> Style {
    let file = "SNV/ds_cong_chuc_vien_chuc_2025.xlsx";
    let mut tb = table("staff", level_of(file), staff_cols());
    tb.title = staff_title("SỞ NỘI VỤ", "NĂM 2025");
    tb.numbers = Numbers::Paren;
    let recs = eight();
    let mut all = vec![
        Item::Section(Some("I".into()), "Cơ quan Sở".into()),
        Item::Section(Some("a)".into()), "Công chức".into()),
    ];
    all.extend(items(recs[..3].to_vec()));
    all.push(Item::Section(Some("b)".into()), "Viên chức".into()));
    all.extend(items(recs[3..5].to_vec()));
    all.push(Item::Section(
        Some("II".into()),
        "Đơn vị sự nghiệp trực thuộc".into(),
    ));
    all.extend(items(recs[5..].to_vec()));
    tb.items = all;
    tb.signature = signature_block(7);
    single(
        "lettered_subsections",
        "sections 'I'/'II' with sub-sections 'a) Công chức' / 'b) Viên chức' in the STT and name columns",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// A roster closed by "Tổng cộng: 8 người".
fn staff_total_people() -> Style {
    let file = "SYT/ds_tong_so_nguoi_2025.xlsx";
    let mut tb = table("staff", level_of(file), staff_cols());
    tb.title = staff_title("SỞ Y TẾ", "NĂM 2025");
    let mut all = items(eight());
    all.push(Item::Raw(vec![(1, t("Tổng cộng: 08 người"))], Kind::Totals));
    tb.items = all;
    tb.signature = signature_block(7);
    single(
        "staff_total_people",
        "roster closed by a 'Tổng cộng: 08 người' row in the name column",
        file,
        "DS",
        &tb,
        "2025",
    )
}

/// Costs in thousands of đồng, as the header says.
fn cost_in_thousands() -> Style {
    let file = "SGDDT/kinh_phi_nghin_dong_2025.xlsx";
    let mut cols = training_cols();
    cols[10] = int_as(&["Kinh phí (nghìn đồng)"], "cost_vnd", |v| {
        Cell::N((v / 1000) as f64)
    });
    let mut tb = table("training", level_of(file), cols);
    tb.title = training_title("SỞ GIÁO DỤC VÀ ĐÀO TẠO", "NĂM 2025");
    tb.items = items(course_lines(
        &["Nguyễn Thị Quế", "Hoàng Văn Lâm", "Lò Thị Sương"],
        "Bồi dưỡng giáo viên dạy tiếng dân tộc",
        "ethnic_language",
        "in_person",
        (2025, 7, 7),
        (2025, 8, 1),
        120,
        3_500_000,
    ));
    // The column is written in thousands: read with its unit, or not taken.
    let truth_cost = V::Any(vec![V::I(3_500_000), V::Null]);
    tb.signature = signature_block(11);
    let (sheet, mut truth) = sheet_of("DS", &tb);
    for stored in &mut truth.stored {
        stored.values.insert("cost_vnd", truth_cost.clone());
    }
    style(
        "cost_in_thousands",
        "'Kinh phí (nghìn đồng)': 3.500 means 3,500,000 đồng (or the column is not taken — never 3,500 đồng)",
        file,
        vec![sheet],
        vec![truth],
        accepted("2025"),
    )
}

/// Qualifications written with the major: "Đại học Luật", "Thạc sĩ Quản lý công".
fn qualification_with_major() -> Style {
    let file = "TPDBP/ds_trinh_do_chuyen_nganh_2025.xlsx";
    let cols = vec![
        stt("STT"),
        text(&["Họ và tên"], "full_name"),
        text(&["Mã định danh"], "person_id"),
        spelled(&["Trình độ chuyên môn"], "qualification", QUAL_VI),
    ];
    let mut tb = table("staff", level_of(file), cols);
    tb.title = staff_title("UBND THÀNH PHỐ ĐIỆN BIÊN PHỦ", "NĂM 2025");
    let written = [
        ("Đại học Luật", "university"),
        ("Thạc sĩ Quản lý công", "master"),
        ("Cử nhân Kinh tế", "university"),
        ("Kỹ sư Xây dựng", "university"),
        ("Cao đẳng Sư phạm", "college"),
        ("Trung cấp Kế toán", "intermediate"),
        ("Tiến sĩ Kinh tế", "doctorate"),
    ];
    let names = [
        "Đặng Văn Khải",
        "Lê Thị Hiền",
        "Phạm Văn Tú",
        "Nguyễn Văn Đạt",
        "Lò Thị Bích",
        "Cà Văn Lả",
        "Trần Minh Triết",
    ];
    tb.items = items(
        written
            .iter()
            .enumerate()
            .map(|(i, &(w, q))| {
                person(&format!("0110870012{i:02}"), names[i])
                    .s("qualification", q)
                    .raw("qualification", t(w))
            })
            .collect(),
    );
    tb.signature = signature_block(4);
    single(
        "qualification_with_major",
        "qualification written with the major ('Đại học Luật', 'Thạc sĩ Quản lý công', 'Cử nhân Kinh tế', 'Kỹ sư Xây dựng')",
        file,
        "DS",
        &tb,
        "2025",
    )
}
