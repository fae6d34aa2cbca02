//! Tests of the normaliser as a whole: most read a sheet end to end.

use super::*;
use crate::catalogue::load_templates;
use crate::model::value::Value;
use std::path::Path;

fn t(s: &str) -> Cell {
    Cell::Text(s.to_string())
}

fn grid(rows: Vec<Vec<Cell>>) -> Grid {
    Grid {
        name: "Sheet1".into(),
        origin_row: 0,
        origin_col: 0,
        rows,
        merges: Vec::new(),
    }
}

const CTX: SheetContext<'static> = SheetContext {
    department_level: "district",
    today: TODAY,
    posts: &crate::model::posts::PostTable::EMPTY,
};

/// The built-in post-name table (`config/posts.toml`).
static POSTS: std::sync::LazyLock<crate::model::posts::PostTable> =
    std::sync::LazyLock::new(|| {
        let (posts, _) = crate::catalogue::load_posts(
            Path::new("/nonexistent/posts.toml"),
            Path::new("/nonexistent/competencies.toml"),
            &load_templates(Path::new("/nonexistent")).expect("templates"),
        )
        .expect("built-in posts");
        posts
    });

const TODAY: chrono::NaiveDate = match chrono::NaiveDate::from_ymd_opt(2026, 1, 15) {
    Some(date) => date,
    None => chrono::NaiveDate::MIN,
};

#[test]
fn staff_sheet_with_title_block_numbers_row_totals_and_signature() {
    let templates = load_templates(Path::new("/nonexistent")).expect("templates");
    let g = grid(vec![
        vec![t("UBND TỈNH ĐIỆN BIÊN")],
        vec![t("DANH SÁCH CÁN BỘ, CÔNG CHỨC"), Cell::Empty],
        vec![t("NĂM 2025")],
        vec![],
        vec![
            t("STT"),
            t("Họ và tên"),
            t("Mã định danh"),
            t("Ngày sinh"),
            t("TRÌNH ĐỘ\nCHUYÊN MÔN"),
            t("Ghi chú"),
        ],
        vec![t("(1)"), t("(2)"), t("(3)"), t("(4)"), t("(5)"), t("(6)")],
        vec![t("I"), t("Khối cơ quan")],
        vec![
            Cell::Number(1.0),
            t("Nguyễn Văn An"),
            t("001085000001"),
            t("31/12/1985"),
            t("Thạc sĩ"),
        ],
        vec![
            Cell::Number(2.0),
            t("Trần Thị Bình"),
            Cell::Number(1085000002.0),
            // A date cell: a plain number in a date column is refused.
            Cell::Date(chrono::NaiveDate::from_ymd_opt(1984, 11, 15).expect("date")),
            t(""),
        ],
        vec![
            Cell::Number(3.0),
            t("Lê Văn Cường"),
            t("001085000003"),
            t("31/02/1985"),
            // Not a qualification ("Kỹ sư" is: university).
            t("Kỹ thuật viên"),
        ],
        vec![Cell::Empty, t("Tổng cộng"), Cell::Number(3.0)],
        vec![],
        vec![Cell::Empty, t("Điện Biên, ngày 15 tháng 01 năm 2026")],
        vec![
            Cell::Empty,
            t("Người lập biểu"),
            Cell::Empty,
            t("Thủ trưởng đơn vị"),
        ],
        vec![Cell::Empty, t("Nguyễn Thị Dung")],
    ]);
    let out = normalise_sheet(&g, &templates, CTX);
    assert_eq!(out.template.as_deref(), Some("staff"));
    assert_eq!(out.header_row, Some(5));
    assert_eq!(out.unknown_columns, ["Ghi chú"]);
    assert_eq!(out.rows.len(), 2);
    assert_eq!(out.rows[0].source_row, 8);
    assert_eq!(out.rejected_rows, 1);
    assert_eq!(out.rejects.len(), 2, "{:#?}", out.rejects);
    assert_eq!(out.rejects[0].cell, "D10");
    assert_eq!(out.rejects[1].cell, "E10");
    assert!(out.rejects[1].reason_en.contains("accepted"));
    assert_eq!(out.skips.column_numbers, 1);
    assert_eq!(out.skips.sections, 1);
    assert_eq!(out.skips.totals, 1);
    assert_eq!(out.skips.signature, 3);
    assert_eq!(out.data_rows, 9);
    assert!(out.is_balanced());
    let staff = templates.iter().find(|t| t.name == "staff").expect("staff");
    let level = staff.field_index("level").expect("level");
    assert_eq!(out.rows[0].values[level], Value::Enum("district".into()));
    let id = staff.field_index("person_id").expect("id");
    assert_eq!(out.rows[1].values[id], Value::Text("1085000002".into()));
    assert_eq!(
        crate::model::period::title_evidence(&out.sheet, &out.title_lines)
            .first()
            .and_then(|e| e.period)
            .map(|p| p.to_string()),
        Some("2025".into())
    );
}

#[test]
fn sheet_matching_no_template_is_counted_not_guessed() {
    let templates = load_templates(Path::new("/nonexistent")).expect("templates");
    let g = grid(vec![
        vec![t("Tên"), t("Tuổi")],
        vec![t("An"), Cell::Number(3.0)],
    ]);
    let out = normalise_sheet(&g, &templates, CTX);
    assert_eq!(out.template, None);
    assert_eq!(out.data_rows, 2);
    assert!(out.is_balanced());
}
#[test]
fn two_row_header_with_group_header_and_x_marks() {
    let templates = load_templates(Path::new("/nonexistent")).expect("templates");
    let mut g = grid(vec![
        vec![t("DANH SÁCH KẾT QUẢ ĐÀO TẠO, BỒI DƯỠNG NĂM 2024")],
        vec![
            t("STT"),
            t("Họ và tên"),
            t("Tên lớp"),
            t("Nội dung"),
            t("Hình thức"),
            Cell::Empty,
            t("Thời gian"),
            Cell::Empty,
            t("Giới tính"),
            Cell::Empty,
        ],
        vec![
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            t("Tập trung"),
            t("Trực tuyến"),
            t("Từ ngày"),
            t("Đến ngày"),
            t("Nam"),
            t("Nữ"),
        ],
        vec![
            Cell::Number(1.0),
            t("Lò Văn Pọm"),
            t("Bồi dưỡng CĐS"),
            t("Chuyển đổi số"),
            Cell::Empty,
            t("x"),
            t("01/03/2024"),
            t("05/03/2024"),
            t("x"),
        ],
        vec![
            Cell::Number(2.0),
            t("Quàng Thị Ả"),
            t("Bồi dưỡng QLNN"),
            t("Quản lý nhà nước"),
            t("X"),
            Cell::Empty,
            t("10/04/2024"),
            t("01/04/2024"),
            Cell::Empty,
            t("x"),
        ],
        vec![
            Cell::Number(3.0),
            t("Tòng Văn Ún"),
            t("Tiếng Anh"),
            t("Ngoại ngữ"),
            t("x"),
            t("x"),
        ],
    ]);
    g.merges = vec![
        Merge {
            first_row: 1,
            first_col: 0,
            last_row: 2,
            last_col: 0,
        },
        Merge {
            first_row: 1,
            first_col: 1,
            last_row: 2,
            last_col: 1,
        },
        Merge {
            first_row: 1,
            first_col: 4,
            last_row: 1,
            last_col: 5,
        },
        Merge {
            first_row: 1,
            first_col: 6,
            last_row: 1,
            last_col: 7,
        },
        Merge {
            first_row: 1,
            first_col: 8,
            last_row: 1,
            last_col: 9,
        },
    ];
    let out = normalise_sheet(&g, &templates, CTX);
    assert_eq!(out.template.as_deref(), Some("training"), "{out:#?}");
    assert_eq!(out.header_row, Some(3));
    assert_eq!(
        out.unknown_columns,
        ["Giới tính / Nam", "Giới tính / Nữ"],
        "training has no gender"
    );
    let training = templates
        .iter()
        .find(|t| t.name == "training")
        .expect("training");
    let mode = training.field_index("mode").expect("mode");
    let start = training.field_index("start_date").expect("start");
    assert_eq!(out.rows.len(), 1, "{:#?}", out.rejects);
    assert_eq!(out.rows[0].values[mode], Value::Enum("online".into()));
    assert_eq!(
        out.rows[0].values[start],
        Value::Date(chrono::NaiveDate::from_ymd_opt(2024, 3, 1).expect("date"))
    );
    assert_eq!(out.rejected_rows, 2);
    assert_eq!(out.rejects[0].cell, "H5", "end before start");
    assert_eq!(out.rejects[1].cell, "F6", "two marks in one group");
    assert_eq!(out.rejects[1].column, "Hình thức");
    assert!(out.is_balanced());
}

#[test]
fn merges_learnt_after_the_rows_are_checked_against_the_header_found() {
    let templates = load_templates(Path::new("/nonexistent")).expect("templates");
    let ctx = SheetContext {
        department_level: "province",
        today: TODAY,
        posts: &crate::model::posts::PostTable::EMPTY,
    };
    let rows = vec![
        vec![t("KẾT QUẢ ĐÀO TẠO NĂM 2025"), Cell::Empty, Cell::Empty],
        vec![],
        vec![
            t("STT"),
            t("Họ và tên"),
            Cell::Empty,
            t("Tên khóa học"),
            t("Nội dung bồi dưỡng"),
        ],
        vec![
            Cell::Number(1.0),
            t("Lò Văn A"),
            Cell::Empty,
            t("Tin học cơ bản"),
            t("Tin học"),
        ],
    ];
    let mut normaliser = SheetNormaliser::new("Sheet1", &templates, ctx, 0);
    let mut loaded = 0;
    for (r, cells) in rows.into_iter().enumerate() {
        normaliser.push(r as u32, cells, &mut |_, _| loaded += 1);
    }
    assert!(
        normaliser.template().is_none(),
        "undecided within the first rows"
    );
    // A row far below makes it decide, without merges.
    let far = vec![
        Cell::Number(2.0),
        t("Lò Thị B"),
        Cell::Empty,
        t("Tin học cơ bản"),
        t("Tin học"),
    ];
    normaliser.push(60, far, &mut |_, _| loaded += 1);
    assert_eq!(
        normaliser.template().map(|t| t.name.as_str()),
        Some("training")
    );
    assert_eq!(loaded, 2);
    let merge = |first_row, first_col, last_row, last_col| Merge {
        first_row,
        first_col,
        last_row,
        last_col,
    };
    // A merged title changes nothing; "Họ và tên" merged over two columns
    // would have read a second name column (listed as unknown).
    assert!(normaliser.header_holds(&[merge(0, 0, 0, 4)]));
    assert!(!normaliser.header_holds(&[merge(2, 1, 2, 2)]));
    assert!(normaliser.header_holds(&[]));
}

#[test]
fn a_totals_row_that_disagrees_is_a_warning() {
    let templates = load_templates(Path::new("/nonexistent")).expect("templates");
    let g = grid(vec![
        vec![t("KẾ HOẠCH ĐÀO TẠO NĂM 2025")],
        vec![
            t("STT"),
            t("Nội dung"),
            t("Chỉ tiêu"),
            t("Kinh phí dự kiến"),
        ],
        vec![
            Cell::Number(1.0),
            t("Chuyên môn, nghiệp vụ"),
            Cell::Number(100.0),
            t("1.500.000"),
        ],
        vec![
            Cell::Number(2.0),
            t("Tin học"),
            Cell::Number(20.0),
            Cell::Number(500000.0),
        ],
        vec![
            Cell::Empty,
            t("Tổng cộng"),
            Cell::Number(125.0),
            Cell::Number(2000000.0),
        ],
    ]);
    let out = normalise_sheet(&g, &templates, CTX);
    assert_eq!(out.template.as_deref(), Some("plan"));
    assert_eq!(out.rows.len(), 2);
    assert_eq!(out.skips.totals, 1);
    assert_eq!(out.warnings.len(), 1, "{:#?}", out.warnings);
    assert_eq!(out.warnings[0].cell, "C5");
    assert!(
        out.warnings[0].message_en.contains("says 125")
            && out.warnings[0].message_en.contains("add up to 120")
    );
    assert!(out.is_balanced());
}
#[test]
fn random_grids_never_panic_and_always_balance() {
    let templates = load_templates(Path::new("/nonexistent")).expect("templates");
    // xorshift: reproducible, no dependency.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut matched = 0;
    for _ in 0..1000 {
        let len = (next() % 600) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| (next() & 0xff) as u8).collect();
        let grid = grid_from_bytes(&bytes);
        let out = normalise_sheet(&grid, &templates, CTX);
        assert!(out.is_balanced(), "{out:#?}");
        assert!(out.rejects.len() >= out.rejected_rows);
        matched += usize::from(out.template.is_some());
    }
    assert!(
        matched > 50,
        "the vocabulary reaches matched sheets: {matched}"
    );
}

fn staff_templates() -> Vec<Template> {
    load_templates(Path::new("/nonexistent")).expect("templates")
}

fn field(templates: &[Template], template: &str, name: &str) -> usize {
    templates
        .iter()
        .find(|t| t.name == template)
        .and_then(|t| t.field_index(name))
        .expect("field")
}

fn class_of(out: &SheetOutcome, excel_row: u32) -> Option<RowClass> {
    out.row_spans
        .iter()
        .find(|s| (s.first_row..=s.last_row).contains(&excel_row))
        .map(|s| s.class)
}

fn merge(first_row: u32, first_col: u32, last_row: u32, last_col: u32) -> Merge {
    Merge {
        first_row,
        first_col,
        last_row,
        last_col,
    }
}

#[test]
fn a_note_with_a_date_in_a_row_is_data_and_the_people_below_are_too() {
    let templates = staff_templates();
    let mut rows = vec![vec![
        t("STT"),
        t("Họ và tên"),
        t("Mã định danh"),
        t("Ghi chú"),
    ]];
    let people = [
        ("Nguyễn Văn An", "001", ""),
        (
            "Trần Thị Bình",
            "002",
            "Nghỉ hưu từ ngày 01 tháng 7 năm 2026",
        ),
        ("Lê Văn Cường", "003", ""),
        (
            "Phạm Thị Dung",
            "004",
            "Chuyển công tác ngày 5 tháng 3 năm 2025",
        ),
    ];
    for (i, (name, id, note)) in people.iter().enumerate() {
        rows.push(vec![Cell::Number(i as f64 + 1.0), t(name), t(id), t(note)]);
    }
    rows.push(vec![]);
    rows.push(vec![Cell::Empty, t("Điện Biên, ngày 15 tháng 01 năm 2026")]);
    rows.push(vec![
        Cell::Empty,
        t("NGƯỜI TỔNG HỢP"),
        Cell::Empty,
        t("KT. CHỦ TỊCH"),
    ]);
    rows.push(vec![
        Cell::Empty,
        t("Kế toán"),
        Cell::Empty,
        t("PHÓ CHỦ TỊCH"),
    ]);
    rows.push(vec![
        Cell::Empty,
        t("Hoàng Văn Em"),
        Cell::Empty,
        t("Lò Văn Phóng"),
    ]);
    let out = normalise_sheet(&grid(rows), &templates, CTX);
    assert_eq!(out.loaded, 4, "{:#?}", out.rejects);
    assert_eq!(out.skips.signature, 4);
    assert_eq!(out.rejected_rows, 0);
    assert!(out.is_balanced());
    assert_eq!(
        out.skipped_rows(),
        [SkippedRows {
            kind: SkipKind::Signature,
            first_row: 7,
            last_row: 10
        }]
    );
}

#[test]
fn names_that_start_like_a_letter_or_a_roman_numeral_are_people() {
    let templates = staff_templates();
    let mut rows = vec![vec![t("STT"), t("Họ và tên"), t("Mã định danh")]];
    let names = [
        "Y Bhiông Êban",
        "H'Linh Mlô",
        "A Thút",
        "Vi Thị Mai",
        "I Văn Lý",
        "X Thị Nga",
    ];
    for (i, name) in names.iter().enumerate() {
        rows.push(vec![Cell::Empty, t(name), t(&format!("00{i}"))]);
    }
    rows.push(vec![t("II"), t("Khối chính quyền")]);
    rows.push(vec![Cell::Empty, t("B. KHỐI ĐOÀN THỂ")]);
    let out = normalise_sheet(&grid(rows), &templates, CTX);
    assert_eq!(out.loaded, 6, "{:#?}", out.row_spans);
    assert_eq!(out.skips.sections, 2);
    let name = field(&templates, "staff", "full_name");
    assert_eq!(
        out.rows[0].values[name],
        Value::Text("Y Bhiông Êban".into())
    );
}

#[test]
fn a_name_alone_is_rejected_not_skipped() {
    let templates = staff_templates();
    let rows = vec![
        vec![t("STT"), t("Họ và tên"), t("Mã định danh")],
        vec![Cell::Number(1.0), t("A Thút"), t("001")],
        vec![Cell::Number(2.0), t("Vi Thị Mai")],
        vec![Cell::Number(3.0), t("Cộng Thị Hà")],
        vec![Cell::Empty, t("Tổng Văn Cộng")],
        vec![Cell::Number(5.0), t("Y Bhiông Êban"), t("005")],
    ];
    let out = normalise_sheet(&grid(rows), &templates, CTX);
    assert_eq!(
        (out.loaded, out.rejected_rows, out.skips.total()),
        (2, 3, 0),
        "{:#?}",
        out.row_spans
    );
    assert_eq!(out.rejects[0].cell, "C3");
}

#[test]
fn three_row_header_with_x_marks_at_the_leaves() {
    let templates = staff_templates();
    let e = || Cell::Empty;
    let mut g = grid(vec![
        vec![t("STT"), t("Họ và tên"), t("Mã định danh"), t("Trình độ")],
        vec![
            e(),
            e(),
            e(),
            t("Chuyên môn"),
            e(),
            e(),
            t("Lý luận chính trị"),
            e(),
        ],
        vec![
            e(),
            e(),
            e(),
            t("Đại học"),
            t("Thạc sĩ"),
            t("Tiến sĩ"),
            t("Cao cấp"),
            t("Trung cấp"),
        ],
        vec![
            Cell::Number(1.0),
            t("Lò Văn A"),
            t("001"),
            e(),
            t("x"),
            e(),
            t("x"),
        ],
        vec![
            Cell::Number(2.0),
            t("Lò Văn B"),
            t("002"),
            t("x"),
            e(),
            e(),
            e(),
            t("x"),
        ],
        vec![Cell::Number(3.0), t("Lò Văn C"), t("003")],
    ]);
    g.merges = vec![
        merge(0, 0, 2, 0),
        merge(0, 1, 2, 1),
        merge(0, 2, 2, 2),
        merge(0, 3, 0, 7),
        merge(1, 3, 1, 5),
        merge(1, 6, 1, 7),
    ];
    let out = normalise_sheet(&g, &templates, CTX);
    assert_eq!(out.header_row, Some(3), "{:#?}", out.columns);
    assert_eq!(out.loaded, 3, "{:#?}", out.rejects);
    let q = field(&templates, "staff", "qualification");
    let p = field(&templates, "staff", "political_theory");
    let enumv = |s: &str| Value::Enum(s.into());
    let got: Vec<(Value, Value)> = out
        .rows
        .iter()
        .map(|r| (r.values[q].clone(), r.values[p].clone()))
        .collect();
    assert_eq!(
        got,
        [
            (enumv("master"), enumv("advanced")),
            (enumv("university"), enumv("intermediate")),
            (enumv("none"), enumv("none")),
        ]
    );
    assert!(out.unknown_columns.is_empty(), "{:?}", out.unknown_columns);
}

#[test]
fn leadership_and_post_group_are_derived_from_the_position_and_planning_read_as_marks() {
    let templates = staff_templates();
    let rows = vec![
        vec![
            t("Họ và tên"),
            t("Mã định danh"),
            t("Chức vụ"),
            t("Quy hoạch"),
        ],
        vec![t("A"), t("001"), t("Phó Giám đốc Sở"), t("x")],
        vec![
            t("B"),
            t("002"),
            t("TRƯỞNG PHÒNG Tổ chức"),
            t("Quy hoạch Phó Giám đốc"),
        ],
        vec![t("C"), t("003"), t("Chuyên viên"), Cell::Empty],
        vec![t("D"), t("004"), t("Chủ tịch UBND xã"), t("Có")],
        vec![t("E"), t("005"), t("Thợ lặn"), t("Không")],
        vec![t("F"), t("006"), Cell::Empty, Cell::Empty],
    ];
    let ctx = SheetContext {
        posts: &POSTS,
        ..CTX
    };
    let out = normalise_sheet(&grid(rows), &templates, ctx);
    assert_eq!(out.loaded, 6, "{:?}", out.rejects);
    let [leadership, group, planning] =
        ["leadership", "post_group", "in_planning"].map(|n| field(&templates, "staff", n));
    let got: Vec<(Value, Value, Value)> = out
        .rows
        .iter()
        .map(|r| {
            (
                r.values[leadership].clone(),
                r.values[group].clone(),
                r.values[planning].clone(),
            )
        })
        .collect();
    let e = |s: &str| Value::Enum(s.into());
    let x = |s: &str| Value::Text(s.into());
    assert_eq!(
        got,
        [
            (e("leader"), x("leader"), Value::Bool(true)),
            (e("manager"), x("manager"), Value::Bool(true)),
            (e("staff"), x("specialist"), Value::Bool(false)),
            (e("leader"), x("leader"), Value::Bool(true)),
            (Value::Null, Value::Null, Value::Bool(false)),
            (Value::Null, Value::Null, Value::Bool(false)),
        ]
    );
    // Derived fields are never "not found": no column is expected for them.
    assert!(
        !out.fields_not_found
            .iter()
            .any(|n| n == "leadership" || n == "post_group"),
        "{:?}",
        out.fields_not_found
    );
}

#[test]
fn planning_without_its_column_is_null_and_posts_unknown_to_an_empty_table_are_null() {
    let templates = staff_templates();
    let rows = vec![
        vec![t("Họ và tên"), t("Mã định danh"), t("Chức vụ")],
        vec![t("A"), t("001"), t("Giám đốc")],
    ];
    let out = normalise_sheet(&grid(rows), &templates, CTX);
    assert_eq!(out.loaded, 1);
    for name in ["in_planning", "leadership", "post_group"] {
        let f = field(&templates, "staff", name);
        assert_eq!(out.rows[0].values[f], Value::Null, "{name}");
    }
    assert!(out.fields_not_found.iter().any(|n| n == "in_planning"));
}

#[test]
fn a_field_whose_column_is_not_found_is_null_not_its_blank_value() {
    let templates = staff_templates();
    let rows = vec![
        vec![t("Họ và tên"), t("Mã định danh"), t("Chứng chỉ tin học")],
        vec![t("Lò Văn A"), t("001")],
    ];
    let out = normalise_sheet(&grid(rows), &templates, CTX);
    assert_eq!(out.loaded, 1);
    for name in [
        "qualification",
        "political_theory",
        "gender",
        "birth_date",
        "digital_role",
    ] {
        let f = field(&templates, "staff", name);
        assert_eq!(out.rows[0].values[f], Value::Null, "{name}");
        assert!(out.fields_not_found.iter().any(|n| n == name), "{name}");
    }
    let level = field(&templates, "staff", "level");
    assert_eq!(out.rows[0].values[level], Value::Enum("district".into()));
}

#[test]
fn a_lone_female_column_a_birth_date_by_gender_and_a_split_name() {
    let templates = staff_templates();
    let lone = vec![
        vec![t("Họ và tên"), t("Mã định danh"), t("Nữ")],
        vec![t("Lò Văn A"), t("001")],
        vec![t("Lò Thị B"), t("002"), t("x")],
    ];
    let out = normalise_sheet(&grid(lone), &templates, CTX);
    let gender = field(&templates, "staff", "gender");
    let got: Vec<&Value> = out.rows.iter().map(|r| &r.values[gender]).collect();
    assert_eq!(
        got,
        [&Value::Enum("male".into()), &Value::Enum("female".into())]
    );

    let mut by_gender = grid(vec![
        vec![
            t("Họ và tên đệm"),
            t("Tên"),
            t("Mã định danh"),
            t("Ngày tháng năm sinh"),
            Cell::Empty,
        ],
        vec![Cell::Empty, Cell::Empty, Cell::Empty, t("Nam"), t("Nữ")],
        vec![t("Lò Văn"), t("An"), t("001"), t("02/03/1980")],
        vec![
            t("Cà Thị"),
            t("Bình"),
            t("002"),
            Cell::Empty,
            t("04/05/1990"),
        ],
    ]);
    by_gender.merges = vec![merge(0, 3, 0, 4), merge(0, 0, 1, 0), merge(0, 1, 1, 1)];
    let out = normalise_sheet(&by_gender, &templates, CTX);
    assert_eq!(out.loaded, 2, "{:#?} {:#?}", out.rejects, out.columns);
    let name = field(&templates, "staff", "full_name");
    let birth = field(&templates, "staff", "birth_date");
    let date = |y, m, d| Value::Date(chrono::NaiveDate::from_ymd_opt(y, m, d).expect("date"));
    assert_eq!(out.rows[0].values[name], Value::Text("Lò Văn An".into()));
    assert_eq!(out.rows[1].values[name], Value::Text("Cà Thị Bình".into()));
    assert_eq!(out.rows[0].values[birth], date(1980, 3, 2));
    assert_eq!(out.rows[1].values[birth], date(1990, 5, 4));
    assert_eq!(out.rows[0].values[gender], Value::Enum("male".into()));
    assert_eq!(out.rows[1].values[gender], Value::Enum("female".into()));
}

#[test]
fn a_value_under_a_vertical_merge_belongs_to_every_row() {
    let templates = staff_templates();
    let mut rows = vec![vec![t("Họ và tên"), t("Mã định danh"), t("Đơn vị")]];
    for i in 0..5 {
        let unit = if i == 0 {
            t("Phòng Nội vụ")
        } else {
            Cell::Empty
        };
        rows.push(vec![t(&format!("Người {i}")), t(&format!("00{i}")), unit]);
    }
    rows.push(vec![t("Người 5"), t("005"), t("Văn phòng")]);
    rows.push(vec![]);
    let mut g = grid(rows);
    // Over the five people and one empty line below them.
    g.merges = vec![merge(1, 2, 5, 2), merge(8, 2, 9, 2)];
    g.rows.push(vec![t("Người 6"), t("006"), t("Ban Tổ chức")]);
    g.rows.push(vec![t("Người 7"), t("007")]);
    let out = normalise_sheet(&g, &templates, CTX);
    let unit = field(&templates, "staff", "unit");
    let got: Vec<&Value> = out.rows.iter().map(|r| &r.values[unit]).collect();
    assert_eq!(got.len(), 8, "{:#?}", out.row_spans);
    let text = |s: &str| Value::Text(s.into());
    assert!(
        got[..5].iter().all(|v| **v == text("Phòng Nội vụ")),
        "{got:?}"
    );
    assert_eq!(got[5], &text("Văn phòng"));
    assert_eq!(got[6], &text("Ban Tổ chức"));
    assert_eq!(got[7], &text("Ban Tổ chức"));
}

#[test]
fn a_second_table_below_is_not_read_as_people() {
    let templates = staff_templates();
    let rows = vec![
        vec![t("STT"), t("Họ và tên"), t("Mã định danh")],
        vec![Cell::Number(1.0), t("Lò Văn A"), t("001")],
        vec![Cell::Number(2.0), t("Lò Văn B"), t("002")],
        vec![],
        vec![Cell::Empty, t("TỔNG HỢP THEO TRÌNH ĐỘ")],
        vec![t("Trình độ"), t("Số lượng")],
        vec![t("Tiến sĩ"), Cell::Number(1.0)],
        vec![t("Thạc sĩ"), Cell::Number(1.0)],
        vec![],
        vec![Cell::Empty, t("Người lập biểu")],
        vec![Cell::Empty, t("Lò Thị Hoa")],
    ];
    let out = normalise_sheet(&grid(rows), &templates, CTX);
    assert_eq!(out.loaded, 2, "{:#?}", out.row_spans);
    assert_eq!(out.rejected_rows, 0, "{:#?}", out.rejects);
    assert!(out.rejects.is_empty());
    assert_eq!((out.skips.unmatched, out.skips.signature), (4, 2));
    assert_eq!(
        out.skipped_rows(),
        [
            SkippedRows {
                kind: SkipKind::Unmatched,
                first_row: 5,
                last_row: 8
            },
            SkippedRows {
                kind: SkipKind::Signature,
                first_row: 10,
                last_row: 11
            }
        ]
    );
    assert!(out.is_balanced());
}

#[test]
fn the_same_person_twice_is_rejected_naming_the_first_row() {
    let templates = staff_templates();
    let rows = vec![
        vec![t("Họ và tên"), t("Mã định danh")],
        vec![t("Lò Văn A"), t("001")],
        vec![t("Lò Văn B"), t("002")],
        vec![t("Lò Văn A"), t("001")],
        vec![t("Lò Văn C"), t("002")],
    ];
    let out = normalise_sheet(&grid(rows), &templates, CTX);
    assert_eq!((out.loaded, out.rejected_rows), (2, 2));
    assert!(
        out.rejects[0].reason_vi.contains("dòng 2"),
        "{:?}",
        out.rejects[0]
    );
    assert!(
        out.rejects[1].reason_en.contains("row 3 (Lò Văn B)"),
        "{:?}",
        out.rejects[1]
    );
}

#[test]
fn a_person_on_two_sheets_of_one_roster_is_rejected_on_the_second() {
    let templates = staff_templates();
    let read = |name: &str, rows: Vec<Vec<Cell>>, keys: SeenKeys| {
        let mut normaliser = SheetNormaliser::new(name, &templates, CTX, 0);
        normaliser.carry_keys(keys);
        for (r, cells) in rows.into_iter().enumerate() {
            normaliser.push(r as u32, cells, &mut |_, _| {});
        }
        normaliser.finish_with_keys(&mut |_, _| {})
    };
    let header = vec![t("Họ và tên"), t("Mã định danh")];
    let (first, keys) = read(
        "Phòng A",
        vec![header.clone(), vec![t("Lò Văn A"), t("001")]],
        SeenKeys::default(),
    );
    assert_eq!(first.loaded, 1);
    let (second, _) = read(
        "Phòng B",
        vec![
            header,
            vec![t("Lò Văn B"), t("002")],
            vec![t("Lò Văn A"), t("001")],
        ],
        keys,
    );
    assert_eq!((second.loaded, second.rejected_rows), (1, 1));
    assert!(
        second.rejects[0]
            .reason_vi
            .contains("dòng 2 của trang \"Phòng A\" (Lò Văn A)"),
        "{:?}",
        second.rejects[0]
    );
    // A sheet refused whole gives its people back.
    let mut keys = SeenKeys::default();
    let (_, mut after) = read(
        "Cũ",
        vec![
            vec![t("Họ và tên"), t("Mã định danh")],
            vec![t("Lò Văn A"), t("001")],
        ],
        std::mem::take(&mut keys),
    );
    after.forget_sheet("Cũ");
    let (again, _) = read(
        "Mới",
        vec![
            vec![t("Họ và tên"), t("Mã định danh")],
            vec![t("Lò Văn A"), t("001")],
        ],
        after,
    );
    assert_eq!(again.loaded, 1);
}

#[test]
fn subtotals_per_section_and_a_totals_row_first_are_right() {
    let templates = staff_templates();
    let plan = |rows: Vec<Vec<Cell>>| {
        let mut all = vec![vec![t("STT"), t("Nội dung"), t("Chỉ tiêu")]];
        all.extend(rows);
        grid(all)
    };
    let g = plan(vec![
        vec![t("A"), t("B"), t("1")],
        vec![t("I"), t("Cấp tỉnh")],
        vec![Cell::Number(1.0), t("Chuyên môn"), Cell::Number(10.0)],
        vec![Cell::Number(2.0), t("Tin học"), Cell::Number(5.0)],
        vec![Cell::Empty, t("Cộng"), Cell::Number(15.0)],
        vec![t("II"), t("Cấp huyện")],
        vec![Cell::Number(1.0), t("Ngoại ngữ"), Cell::Number(7.0)],
        vec![Cell::Empty, t("Cộng"), Cell::Number(7.0)],
        vec![Cell::Empty, t("Tổng cộng"), Cell::Number(22.0)],
    ]);
    let out = normalise_sheet(&g, &templates, CTX);
    assert_eq!(out.template.as_deref(), Some("plan"));
    assert_eq!(out.loaded, 3, "{:#?}", out.rejects);
    let s = out.skips;
    assert_eq!(
        (s.subtotals, s.totals, s.sections, s.column_numbers),
        (2, 1, 2, 1)
    );
    assert!(out.warnings.is_empty(), "{:#?}", out.warnings);

    let first = plan(vec![
        vec![t("A"), t("B"), t("1")],
        vec![Cell::Empty, t("Tổng cộng"), Cell::Number(15.0)],
        vec![Cell::Number(1.0), t("Chuyên môn"), Cell::Number(10.0)],
        vec![Cell::Number(2.0), t("Tin học"), Cell::Number(5.0)],
    ]);
    let out = normalise_sheet(&first, &templates, CTX);
    assert!(out.warnings.is_empty(), "{:#?}", out.warnings);
    let wrong = plan(vec![
        vec![Cell::Empty, t("Tổng cộng"), Cell::Number(16.0)],
        vec![Cell::Number(1.0), t("Chuyên môn"), Cell::Number(10.0)],
        vec![Cell::Number(2.0), t("Tin học"), Cell::Number(5.0)],
    ]);
    let out = normalise_sheet(&wrong, &templates, CTX);
    assert_eq!(out.warnings.len(), 1, "a wrong total is still told");
}

#[test]
fn noise_rows_are_skips_of_their_own_kind() {
    let templates = staff_templates();
    let header = vec![t("STT"), t("Họ và tên"), t("Mã định danh")];
    let rows = vec![
        header.clone(),
        vec![t("(1)"), t("(2)"), t("(3)")],
        vec![t("Ghi chú: danh sách tính đến hết năm")],
        vec![Cell::Number(1.0), t("Lò Văn A"), t("001")],
        vec![Cell::Number(2.0)],
        vec![Cell::Number(3.0)],
        header.clone(),
        vec![t("(1)"), t("(2)"), t("(3)")],
        vec![Cell::Number(4.0), t("Lò Văn B"), t("002")],
        vec![t("(*) Số liệu do phòng Nội vụ cung cấp")],
        vec![Cell::Empty, t("Người lập biểu"), t("Thủ trưởng đơn vị")],
        vec![
            Cell::Empty,
            t("(Ký, ghi rõ họ tên)"),
            t("(Ký tên, đóng dấu)"),
        ],
    ];
    let out = normalise_sheet(&grid(rows), &templates, CTX);
    assert_eq!(out.loaded, 2, "{:#?}", out.row_spans);
    assert_eq!(out.rejected_rows, 0, "{:#?}", out.rejects);
    let s = out.skips;
    assert_eq!(
        (
            s.column_numbers,
            s.notes,
            s.empty_numbered,
            s.repeated_header,
            s.signature
        ),
        (1, 2, 2, 2, 2),
        "{:#?}",
        out.row_spans
    );
    assert_eq!(
        class_of(&out, 5),
        Some(RowClass::Skipped {
            kind: SkipKind::EmptyNumbered
        })
    );
}

/// Values a real data row holds: none of them is a label of a non-data row.
const NAMES: &[&str] = &[
    "Y Bhiông Êban",
    "H'Linh Mlô",
    "A Thút",
    "Vi Thị Mai",
    "Lò Văn Pọm",
    "NGUYỄN VĂN AN",
    "Tổng Văn Cộng",
    "Cộng Thị Hà",
    "I Văn Lý",
    "Giàng A Dế",
    "Kế Văn Toán",
    "Ngày Thị Tháng",
    "Lưu Văn Ghi",
    "Chu Thị Thích",
];
const NOTES: &[&str] = &[
    "",
    "Nghỉ hưu từ ngày 01 tháng 7 năm 2026",
    "Người lập biểu",
    "Tổng cộng",
    "II",
    "Ghi chú",
    "KT. CHỦ TỊCH",
    "(*) chuyển đến",
];

/// Acceptance 2 of issue 13: over generated rosters (random columns in a
/// random order, people with and without an ID or a name, notes that look
/// like labels), a row holding a person's ID or name is never skipped, and
/// a field with no column is null in every stored row.
#[test]
fn property_no_row_with_a_real_required_value_is_skipped_and_unfound_fields_are_null() {
    let templates = staff_templates();
    let staff = templates.iter().find(|t| t.name == "staff").expect("staff");
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let optional: &[(&str, &str)] = &[
        ("birth_date", "Ngày sinh"),
        ("gender", "Giới tính"),
        ("unit", "Đơn vị"),
        ("position", "Chức vụ"),
        ("qualification", "Trình độ chuyên môn"),
        ("digital_role", "Chuyển đổi số"),
    ];
    let mut checked = 0;
    for case in 0..400 {
        let mut columns: Vec<(&str, &str)> = vec![
            ("person_id", "Mã định danh"),
            ("full_name", "Họ và tên"),
            ("note", "Ghi chú"),
        ];
        if next(2) == 0 {
            columns.push(("stt", "STT"));
        }
        for col in optional {
            if next(2) == 0 {
                columns.push(*col);
            }
        }
        for i in (1..columns.len()).rev() {
            let j = next(i as u64 + 1) as usize;
            columns.swap(i, j);
        }
        let mut rows = vec![columns.iter().map(|(_, h)| t(h)).collect::<Vec<_>>()];
        let mut real = Vec::new();
        let n = 3 + next(25);
        for i in 0..n {
            let noise = next(5) == 0;
            let with_id = next(4) != 0;
            let with_name = next(4) != 0;
            let row: Vec<Cell> = columns
                .iter()
                .map(|(f, _)| match *f {
                    "stt" => Cell::Number(i as f64 + 1.0),
                    "person_id" if !noise && with_id => t(&format!("{:012}", next(1_000_000))),
                    "full_name" if !noise && with_name => {
                        t(NAMES[next(NAMES.len() as u64) as usize])
                    }
                    "note" => t(NOTES[next(NOTES.len() as u64) as usize]),
                    "birth_date" if !noise => t("15/03/1985"),
                    "gender" if !noise => t("Nữ"),
                    "unit" if !noise => t("Phòng Nội vụ"),
                    _ => Cell::Empty,
                })
                .collect();
            real.push(!noise && (with_id || with_name));
            rows.push(row);
        }
        let shown: Vec<String> = rows.iter().map(|r| format!("{r:?}")).collect();
        let out = normalise_sheet(&grid(rows), &templates, CTX);
        assert_eq!(out.template.as_deref(), Some("staff"), "case {case}");
        assert!(out.is_balanced(), "case {case}");
        for (i, is_real) in real.iter().enumerate() {
            let excel_row = i as u32 + 2;
            if *is_real {
                checked += 1;
                let class = class_of(&out, excel_row);
                assert!(
                    matches!(class, Some(RowClass::Data | RowClass::Rejected)),
                    "case {case}: row {excel_row} holds a person but was {class:?}\n{}",
                    shown.join("\n")
                );
            }
        }
        for (f, field) in staff.fields.iter().enumerate() {
            let found = columns.iter().any(|(name, _)| *name == field.name);
            if !found && field.name != "level" {
                assert!(
                    out.rows.iter().all(|r| r.values[f] == Value::Null),
                    "case {case}: {} has no column but got a value",
                    field.name
                );
            }
        }
    }
    assert!(checked > 3000, "{checked} rows checked");
}
