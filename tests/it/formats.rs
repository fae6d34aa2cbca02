//! Every workbook format departments send, through the real binary: the same
//! staff roster as BIFF8 `.xls` (1900 and 1904 date systems), OpenDocument
//! `.ods` and `.xlsm`, the same training record as `.xls` and `.ods`, and a
//! training record under a two-row merged header with x-marks as `.xls` and
//! `.ods`, each asserted down to the warehouse rows, the rejects and the
//! ledger's row accounting.
//!
//! The `.xls` and `.ods` files are committed in `fixtures/forms/` (written once
//! by `scripts/make_legacy_fixtures.py`, whose comments describe each row);
//! the `.xlsm` is written here with rust_xlsxwriter.

use crate::ledger;

use std::path::{Path, PathBuf};

use crate::support::{Project, duckdb};
use ledger::{SheetAccount, Submission};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

fn form(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/forms")
        .join(name)
}

/// Copies `source` into the inbox as `relative` (e.g. "SNV/ds.xls").
fn drop_in(project: &Project, source: &Path, relative: &str) -> PathBuf {
    let target = project.inbox().join(relative);
    std::fs::create_dir_all(target.parent().expect("parent")).expect("inbox folder");
    std::fs::copy(source, &target).unwrap_or_else(|e| panic!("{}: {e}", source.display()));
    target
}

/// Ingests one file dropped in as `relative` and checks what every accepted
/// file must satisfy: exit 0, the file left the inbox for the archive (under
/// its own extension), nothing quarantined, the ledger's totals equal the
/// printed ones and the sum of its sheets, and every sheet balances.
fn ingest_one(project: &Project, source: &Path, relative: &str, period: &str) -> Submission {
    let dropped = drop_in(project, source, relative);
    let stdout = project.run_ok(&["ingest"]);
    assert!(!dropped.exists(), "an accepted file leaves the inbox");
    assert!(
        project
            .files_under(&project.data().join("quarantine"), "txt")
            .is_empty(),
        "nothing is quarantined:\n{stdout}"
    );
    let mut entries = ledger::submissions(&project.data().join("state.sqlite3"));
    assert_eq!(entries.len(), 1, "{entries:#?}");
    let entry = entries.remove(0);
    assert_eq!(entry.source_file, relative);
    assert_eq!(entry.status, "accepted", "{stdout}");
    assert_eq!(entry.period.as_deref(), Some(period), "{stdout}");
    let extension = Path::new(relative)
        .extension()
        .and_then(|e| e.to_str())
        .expect("extension");
    let stored = entry.stored_as.as_deref().expect("stored_as");
    assert!(
        stored.ends_with(&format!(".{}", extension.to_lowercase())),
        "{stored}"
    );
    assert_eq!(
        std::fs::read(project.data().join("archive").join(stored)).expect("archived"),
        std::fs::read(source).expect("source"),
        "the archive holds the original bytes"
    );

    let printed = ledger::printed_files(&stdout);
    assert_eq!(printed.len(), 1, "{stdout}");
    assert_eq!(printed[0].source_file, relative, "{stdout}");
    assert_eq!(printed[0].outcome, "accepted", "{stdout}");
    assert_eq!(printed[0].rows, entry.rows, "{stdout}");
    assert_eq!(entry.sheet_sums(), entry.rows, "{:#?}", entry.sheets);
    for sheet in &entry.sheets {
        assert!(sheet.is_balanced(), "row accounting of {sheet:#?}");
    }
    entry
}

fn warehouse_rows(project: &Project, table: &str, columns: &str) -> String {
    duckdb(&format!(
        "SELECT {columns} FROM read_parquet('{}/{table}/**/*.parquet', hive_partitioning = true) ORDER BY source_sheet, source_row",
        project.warehouse().display()
    ))
}

/// The rejects of `source_file` as [sheet, row, column, cell, value, reason_en],
/// each with a Vietnamese reason too.
fn rejects(project: &Project, source_file: &str) -> Vec<Vec<String>> {
    let out = duckdb(&format!(
        "SELECT source_file, source_sheet, source_row, \"column\", cell, value, reason_en, reason_vi FROM read_parquet('{}/rejects/**/*.parquet', hive_partitioning = true) ORDER BY source_row, cell",
        project.warehouse().display()
    ));
    out.lines()
        .map(|line| {
            let fields: Vec<String> = line.split('|').map(str::to_string).collect();
            assert_eq!(fields.len(), 8, "{line}");
            assert_eq!(fields[0], source_file, "{line}");
            assert!(!fields[7].is_empty(), "a Vietnamese reason: {line}");
            fields[1..7].to_vec()
        })
        .collect()
}

fn assert_rejects(actual: &[Vec<String>], expected: &[[&str; 6]]) {
    assert_eq!(actual.len(), expected.len(), "{actual:#?}");
    for (got, want) in actual.iter().zip(expected) {
        assert_eq!(got[..5], want[..5], "{got:?}");
        assert!(got[5].contains(want[5]), "reason of {got:?}");
    }
}

// ------------------------------------------------------------- the roster

const STAFF_COLUMNS: &str = "period, department, source_sheet, source_row, person_id, full_name, birth_date, gender, unit, level, position, qualification, political_theory, state_management, digital_role, infosec_role";

const STAFF_ROWS: &str = "\
2024|SNV|Danh sách|10|011085000001|Nguyễn Văn An|1985-12-31|male|Văn phòng Sở|province|Chánh Văn phòng|master|intermediate|principal|part_time|none
2024|SNV|Danh sách|11|011190000002|Trần Thị Bình|1990-03-05|female|Văn phòng Sở|province|Chuyên viên|university|none|specialist|dedicated|part_time
2024|SNV|Danh sách|13|011088000003|Lê Văn Cường|1988-02-29|male|Phòng Công chức, viên chức|province|Trưởng phòng|doctorate|advanced|senior|none|none
2024|SNV|Danh sách|14|11092000004|Phạm Thị Dung|1992-07-15|female|Phòng Công chức, viên chức|province|Phó Trưởng phòng|university|elementary|specialist|none|none
2024|SNV|Danh sách|16|011095000006|Vũ Thị Phương|1995-11-20|female|Phòng Công chức, viên chức|province|Chuyên viên|university|none|none|none|none";

/// The roster of `fixtures/forms/danh-sach-can-bo.*`: title block ("NĂM 2024",
/// the signature line says 2025), header on row 7, "(1)…(12)" on row 8,
/// sections on rows 9 and 12, people on rows 10–16 (row 15: birth date
/// "31/02/1985" rejected; row 16: qualification "Kỹ sư", an engineer's
/// degree, so university), "Tổng cộng" on row 17 and a
/// four-line signature block on rows 19–24.
fn assert_staff_roster(project: &Project, source: &Path, relative: &str) {
    let entry = ingest_one(project, source, relative, "2024");
    assert_eq!(
        entry.sheets,
        [SheetAccount {
            sheet: "Danh sách".into(),
            template: Some("staff".into()),
            header_row: Some(7),
            data_rows: 14,
            loaded: 5,
            rejected_rows: 1,
            column_numbers: 1,
            sections: 2,
            totals: 1,
            signature: 4,
            unmatched: 0,
        }]
    );
    assert_eq!(entry.rows, (5, 1, 8));
    assert_eq!(warehouse_rows(project, "staff", STAFF_COLUMNS), STAFF_ROWS);
    assert_rejects(
        &rejects(project, relative),
        &[[
            "Danh sách",
            "15",
            "Ngày sinh",
            "D15",
            "31/02/1985",
            "Not a valid date",
        ]],
    );
}

#[test]
fn staff_roster_as_xls_with_1900_date_cells() {
    let project = Project::new();
    assert_staff_roster(
        &project,
        &form("danh-sach-can-bo.xls"),
        "SNV/danh-sach-can-bo.xls",
    );
}

#[test]
fn staff_roster_as_xls_with_1904_date_cells() {
    let project = Project::new();
    assert_staff_roster(
        &project,
        &form("danh-sach-can-bo-mac.xls"),
        "SNV/danh-sach-can-bo-mac.xls",
    );
}

/// Also: ODF date cells (`office:date-value`), merged title cells (covered
/// cells), a name and "Nữ" in NFD stored as NFC, and LibreOffice's repeated
/// empty rows and columns to the sheet's end.
#[test]
fn staff_roster_as_ods_with_date_cells_and_nfd_text() {
    let project = Project::new();
    assert_staff_roster(
        &project,
        &form("danh-sach-can-bo.ods"),
        "SNV/danh-sach-can-bo.ods",
    );
}

/// An .xlsx saved under the .xlsm name (what a macro-enabled template
/// without macros amounts to): the format is sniffed from the bytes.
#[test]
fn staff_roster_as_xlsm() {
    let project = Project::new();
    let written = project.root().join("danh-sach-can-bo.xlsm");
    write_staff_roster_xlsx(&written);
    assert_staff_roster(&project, &written, "SNV/danh-sach-can-bo.xlsm");
}

/// The same roster as `scripts/make_legacy_fixtures.py` writes, with rust_xlsxwriter.
fn write_staff_roster_xlsx(path: &Path) {
    enum X {
        T(&'static str),
        N(f64),
        D(u16, u8, u8),
    }
    use X::{D, N, T};
    let unit1 = "Văn phòng Sở";
    let unit2 = "Phòng Công chức, viên chức";
    let table: Vec<Vec<Option<X>>> = vec![
        [
            "STT",
            "Họ và tên",
            "Mã định danh",
            "Ngày sinh",
            "Giới tính",
            "Đơn vị",
            "Chức vụ",
            "Trình độ\nchuyên môn",
            "Lý luận chính trị",
            "Quản lý nhà nước",
            "Chuyển đổi số",
            "An toàn thông tin",
        ]
        .into_iter()
        .map(|h| Some(T(h)))
        .collect(),
        [
            "(1)", "(2)", "(3)", "(4)", "(5)", "(6)", "(7)", "(8)", "(9)", "(10)", "(11)", "(12)",
        ]
        .into_iter()
        .map(|h| Some(T(h)))
        .collect(),
        vec![Some(T("I")), Some(T(unit1))],
        vec![
            Some(N(1.0)),
            Some(T("Nguyễn Văn An")),
            Some(T("011085000001")),
            Some(D(1985, 12, 31)),
            Some(T("Nam")),
            Some(T(unit1)),
            Some(T("Chánh Văn phòng")),
            Some(T("Thạc sĩ")),
            Some(T("Trung cấp")),
            Some(T("Chuyên viên chính")),
            Some(T("Kiêm nhiệm")),
        ],
        vec![
            Some(N(2.0)),
            Some(T("Trần Thị Bình")),
            Some(T("011190000002")),
            Some(D(1990, 3, 5)),
            Some(T("Nữ")),
            Some(T(unit1)),
            Some(T("Chuyên viên")),
            Some(T("Đại học")),
            None,
            Some(T("Chuyên viên")),
            Some(T("Chuyên trách")),
            Some(T("Kiêm nhiệm")),
        ],
        vec![Some(T("II")), Some(T(unit2))],
        vec![
            Some(N(3.0)),
            Some(T("Lê Văn Cường")),
            Some(T("011088000003")),
            Some(D(1988, 2, 29)),
            Some(T("Nam")),
            Some(T(unit2)),
            Some(T("Trưởng phòng")),
            Some(T("Tiến sĩ")),
            Some(T("Cao cấp")),
            Some(T("Chuyên viên cao cấp")),
        ],
        vec![
            Some(N(4.0)),
            Some(T("Phạm Thị Dung")),
            Some(N(11092000004.0)),
            Some(D(1992, 7, 15)),
            Some(T("Nữ")),
            Some(T(unit2)),
            Some(T("Phó Trưởng phòng")),
            Some(T("Đại học")),
            Some(T("Sơ cấp")),
            Some(T("Chuyên viên")),
        ],
        vec![
            Some(N(5.0)),
            Some(T("Hoàng Văn Em")),
            Some(T("011085000005")),
            Some(T("31/02/1985")),
            Some(T("Nam")),
            Some(T(unit2)),
            Some(T("Chuyên viên")),
            Some(T("Cao đẳng")),
        ],
        vec![
            Some(N(6.0)),
            Some(T("Vũ Thị Phương")),
            Some(T("011095000006")),
            Some(D(1995, 11, 20)),
            Some(T("Nữ")),
            Some(T(unit2)),
            Some(T("Chuyên viên")),
            Some(T("Kỹ sư")),
        ],
        vec![None, Some(T("Tổng cộng")), Some(N(6.0))],
    ];

    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Danh sách").expect("name");
    let title = Format::new().set_bold();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    for (row, first, last, text) in [
        (0, 0, 3, "UBND TỈNH ĐIỆN BIÊN"),
        (0, 5, 11, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
        (1, 0, 3, "SỞ NỘI VỤ"),
        (1, 5, 11, "Độc lập - Tự do - Hạnh phúc"),
        (3, 0, 11, "DANH SÁCH CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC"),
        (4, 0, 11, "NĂM 2024"),
    ] {
        sheet
            .merge_range(row, first, row, last, text, &title)
            .expect("merge");
    }
    for (r, cells) in table.iter().enumerate() {
        let r = 6 + r as u32;
        for (c, cell) in cells.iter().enumerate() {
            let c = c as u16;
            match cell {
                None => {}
                Some(T(text)) => {
                    sheet.write_string(r, c, *text).expect("text");
                }
                Some(N(n)) => {
                    sheet.write_number(r, c, *n).expect("number");
                }
                Some(D(y, m, d)) => {
                    let value = ExcelDateTime::from_ymd(*y, *m, *d).expect("date");
                    sheet
                        .write_datetime_with_format(r, c, &value, &date)
                        .expect("date cell");
                }
            }
        }
    }
    for (r, c, text) in [
        (18, 9, "Điện Biên, ngày 15 tháng 01 năm 2025"),
        (19, 1, "Người lập biểu"),
        (19, 9, "Thủ trưởng đơn vị"),
        (20, 1, "(Ký, ghi rõ họ tên)"),
        (20, 9, "(Ký tên, đóng dấu)"),
        (23, 1, "Nguyễn Thị Hoa"),
        (23, 9, "Đỗ Văn Khánh"),
    ] {
        sheet.write_string(r, c, text).expect("signature");
    }
    workbook.save(path).expect("save the .xlsm");
}

// ---------------------------------------------------- the training record

const TRAINING_COLUMNS: &str = "period, department, source_sheet, source_row, person_id, full_name, birth_date, course, category, mode, location, start_date, end_date, lessons, result, certified, cost_vnd";

const TRAINING_ROWS: &str = "\
2024|SNV|Đào tạo 2024|9|011085000001|Nguyễn Văn An|1985-12-31|Bồi dưỡng kiến thức quản lý nhà nước chương trình chuyên viên chính|state_management|in_person|domestic|2024-03-04|2024-03-29|120|passed|True|1500000
2024|SNV|Đào tạo 2024|10|011190000002|Trần Thị Bình|1990-03-05|Chuyển đổi số trong cơ quan nhà nước|digital|online|domestic|2024-06-10|2024-06-12|24|passed|True|None
2024|SNV|Đào tạo 2024|11|None|Lê Văn Cường|1988-02-29|Tiếng Anh trình độ B1|foreign_language|blended|abroad|2024-07-01|2024-09-30|200|in_progress|False|12000000";

/// The record of `fixtures/forms/dao-tao-boi-duong.*`: dates as text
/// ("31/12/1985", "05-03-1990"), money as text ("1.500.000") and as a number,
/// lessons as text and numbers, a "1 2 3…" number row, rows 12 (ends before
/// it starts) and 13 (no course, "1.50.000") rejected, a "Tổng cộng" row, a
/// signature block, and a "Hướng dẫn" sheet that matches no form.
fn assert_training_record(project: &Project, source: &Path, relative: &str) {
    let entry = ingest_one(project, source, relative, "2024");
    assert_eq!(
        entry.sheets,
        [
            SheetAccount {
                sheet: "Đào tạo 2024".into(),
                template: Some("training".into()),
                header_row: Some(7),
                data_rows: 11,
                loaded: 3,
                rejected_rows: 2,
                column_numbers: 1,
                sections: 0,
                totals: 1,
                signature: 4,
                unmatched: 0,
            },
            SheetAccount {
                sheet: "Hướng dẫn".into(),
                template: None,
                header_row: None,
                data_rows: 3,
                loaded: 0,
                rejected_rows: 0,
                column_numbers: 0,
                sections: 0,
                totals: 0,
                signature: 0,
                unmatched: 3,
            },
        ]
    );
    assert_eq!(entry.rows, (3, 2, 9));
    assert_eq!(
        warehouse_rows(project, "training", TRAINING_COLUMNS),
        TRAINING_ROWS
    );
    assert_rejects(
        &rejects(project, relative),
        &[
            [
                "Đào tạo 2024",
                "12",
                "Đến ngày",
                "J12",
                "10/05/2024",
                "is before",
            ],
            [
                "Đào tạo 2024",
                "13",
                "Tên khóa học",
                "E13",
                "",
                "Required value is missing",
            ],
            [
                "Đào tạo 2024",
                "13",
                "Kinh phí (đồng)",
                "N13",
                "1.50.000",
                "Not a whole number",
            ],
        ],
    );
}

#[test]
fn training_record_as_xls_with_text_dates_and_numbers() {
    let project = Project::new();
    assert_training_record(
        &project,
        &form("dao-tao-boi-duong.xls"),
        "SNV/dao-tao-boi-duong.xls",
    );
}

#[test]
fn training_record_as_ods_with_text_dates_and_numbers() {
    let project = Project::new();
    assert_training_record(
        &project,
        &form("dao-tao-boi-duong.ods"),
        "SNV/dao-tao-boi-duong.ods",
    );
}

// ------------------------------------- a two-row header with merged cells

const GROUPED_ROWS: &str = "\
2024|SNV|Đào tạo|10|011085000001|Nguyễn Văn An|Bồi dưỡng kiến thức quản lý nhà nước chương trình chuyên viên chính|state_management|in_person|2024-03-04|2024-03-29|120|passed
2024|SNV|Đào tạo|11|011190000002|Trần Thị Bình|Chuyển đổi số trong cơ quan nhà nước|digital|online|2024-06-10|2024-06-12|24|passed";

/// `fixtures/forms/dao-tao-tieu-de-gop.*`: header on rows 7–8, single headers
/// merged down both rows, "Hình thức" merged over the x-mark columns F
/// "Tập trung" / G "Trực tuyến", "Thời gian" over H "Từ ngày" / I "Đến ngày";
/// row 10 marked in person, row 11 online, row 12 both (rejected).
fn assert_grouped_training_record(project: &Project, source: &Path, relative: &str) {
    let entry = ingest_one(project, source, relative, "2024");
    assert_eq!(
        entry.sheets,
        [SheetAccount {
            sheet: "Đào tạo".into(),
            template: Some("training".into()),
            header_row: Some(8),
            data_rows: 9,
            loaded: 2,
            rejected_rows: 1,
            column_numbers: 1,
            sections: 0,
            totals: 1,
            signature: 4,
            unmatched: 0,
        }]
    );
    assert_eq!(
        warehouse_rows(
            project,
            "training",
            "period, department, source_sheet, source_row, person_id, full_name, course, category, mode, start_date, end_date, lessons, result"
        ),
        GROUPED_ROWS
    );
    assert_rejects(
        &rejects(project, relative),
        &[[
            "Đào tạo",
            "12",
            "Hình thức",
            "G12",
            "x",
            "More than one column of the group is marked",
        ]],
    );
}

#[test]
fn two_row_header_with_merged_group_and_x_marks_as_xls() {
    let project = Project::new();
    assert_grouped_training_record(
        &project,
        &form("dao-tao-tieu-de-gop.xls"),
        "SNV/dao-tao-tieu-de-gop.xls",
    );
}

/// calamine exposes no merged regions for ODS, but the merge is in the file
/// (table:number-columns-spanned on "Hình thức", covered cells after it).
#[test]
fn two_row_header_with_merged_group_and_x_marks_as_ods() {
    let project = Project::new();
    assert_grouped_training_record(
        &project,
        &form("dao-tao-tieu-de-gop.ods"),
        "SNV/dao-tao-tieu-de-gop.ods",
    );
}

/// The extension is matched case-insensitively, and a period in the file
/// name wins over the title block's.
#[test]
fn upper_case_extension_and_period_from_the_file_name() {
    let project = Project::new();
    // The name's year agrees with the title's "NĂM 2024": a name that
    // contradicts the title is refused (tests/it/periods.rs).
    let entry = ingest_one(
        &project,
        &form("danh-sach-can-bo.xls"),
        "SNV/DANH-SACH_2024.XLS",
        "2024",
    );
    assert_eq!(entry.rows, (5, 1, 8));
    let periods = duckdb(&format!(
        "SELECT period, count(*) FROM read_parquet('{}/staff/**/*.parquet', hive_partitioning = true) GROUP BY period",
        project.warehouse().display()
    ));
    assert_eq!(periods, "2024|5");
}

/// "1904" in a file name is no reporting period (periods are 1990–2100), so
/// the title block's "NĂM 2024" applies.
#[test]
fn an_implausible_year_in_the_file_name_is_not_the_period() {
    let project = Project::new();
    assert_staff_roster(
        &project,
        &form("danh-sach-can-bo-mac.xls"),
        "SNV/danh-sach-can-bo-1904.xls",
    );
}

/// The department's "Tổng cộng" row sums every row it wrote: 400 lessons is
/// 120 + 24 + 200 + 40 + 16, rejected rows 12 and 13 included, so it is right.
/// Its 15.650.000 is not the sum of the amounts as written (1.500.000 +
/// 12.000.000 + 2.000.000, "1.50.000" being no number), so that one is worth a
/// warning.
#[test]
fn a_totals_row_is_checked_against_the_rows_as_written() {
    let project = Project::new();
    let entry = ingest_one(
        &project,
        &form("dao-tao-boi-duong.xls"),
        "SNV/dao-tao-boi-duong.xls",
        "2024",
    );
    let cells: Vec<&str> = entry.warnings.iter().map(|w| w.cell.as_str()).collect();
    assert_eq!(cells, ["N14"], "{:#?}", entry.warnings);
}

/// A sheet too big to scan for merged regions before its rows (over 4 MiB of
/// XML), so its merges are scanned on another thread while the rows stream,
/// under a two-row header as in `dao-tao-tieu-de-gop` ("Hình thức" merged
/// over the x-mark columns, "Thời gian" over the dates, single headers merged
/// down both rows): every row lands, with its mode from the x marks. (This
/// header is also found without its merges; `header_holds` is unit-tested
/// for headers that are not.)
#[test]
fn a_big_xlsx_with_a_merged_two_row_header_is_read_with_its_merges() {
    const ROWS: u32 = 14_000;
    let project = Project::new();
    let source = project.root().join("dao-tao_2024.xlsx");
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Đào tạo").expect("name");
    let plain = Format::new();
    for (col, text) in [
        (0, "STT"),
        (1, "Họ và tên"),
        (2, "Mã định danh"),
        (3, "Tên khóa học"),
        (4, "Nội dung bồi dưỡng"),
        (9, "Số tiết"),
        (10, "Kết quả"),
    ] {
        sheet
            .merge_range(0, col, 1, col, text, &plain)
            .expect("merge down");
    }
    sheet
        .merge_range(0, 5, 0, 6, "Hình thức", &plain)
        .expect("merge across");
    sheet
        .merge_range(0, 7, 0, 8, "Thời gian", &plain)
        .expect("merge across");
    for (col, text) in [
        (5, "Tập trung"),
        (6, "Trực tuyến"),
        (7, "Từ ngày"),
        (8, "Đến ngày"),
    ] {
        sheet.write_string(1, col, text).expect("sub-header");
    }
    for i in 0..ROWS {
        let row = 2 + i;
        sheet.write_number(row, 0, f64::from(i + 1)).expect("stt");
        sheet
            .write_string(row, 1, format!("Người học số {}", i + 1))
            .expect("name");
        sheet
            .write_string(row, 2, format!("0110{:08}", i + 1))
            .expect("id");
        sheet
            .write_string(
                row,
                3,
                "Bồi dưỡng kiến thức quản lý nhà nước chương trình chuyên viên",
            )
            .expect("course");
        sheet
            .write_string(row, 4, "Quản lý nhà nước")
            .expect("category");
        // Even rows in person, odd rows online.
        sheet
            .write_string(row, if i % 2 == 0 { 5 } else { 6 }, "x")
            .expect("mark");
        sheet.write_string(row, 7, "04/03/2024").expect("from");
        sheet.write_string(row, 8, "29/03/2024").expect("to");
        sheet.write_number(row, 9, 40.0).expect("lessons");
        sheet.write_string(row, 10, "Đạt").expect("result");
    }
    workbook.save(&source).expect("save");
    let sheet_xml = {
        let mut zip =
            zip::ZipArchive::new(std::fs::File::open(&source).expect("open")).expect("zip");
        zip.by_name("xl/worksheets/sheet1.xml")
            .expect("sheet")
            .size()
    };
    assert!(
        sheet_xml > 4 * 1024 * 1024,
        "the sheet must be big enough to be streamed before its merges are known: {sheet_xml} bytes"
    );

    let entry = ingest_one(&project, &source, "SNV/dao-tao_2024.xlsx", "2024");
    assert_eq!(entry.sheets.len(), 1, "{:#?}", entry.sheets);
    let account = &entry.sheets[0];
    assert_eq!(
        account.template.as_deref(),
        Some("training"),
        "{account:#?}"
    );
    assert_eq!(account.header_row, Some(2), "{account:#?}");
    assert_eq!(
        (account.loaded, account.rejected_rows),
        (u64::from(ROWS), 0),
        "{account:#?}"
    );
    assert_eq!(
        duckdb(&format!(
            "SELECT mode, count(*), min(start_date), max(end_date), sum(lessons) \
             FROM read_parquet('{}/training/**/*.parquet', hive_partitioning = true) \
             GROUP BY mode ORDER BY mode",
            project.warehouse().display()
        )),
        format!(
            "in_person|{half}|2024-03-04|2024-03-29|{lessons}\nonline|{half}|2024-03-04|2024-03-29|{lessons}",
            half = ROWS / 2,
            lessons = 40 * ROWS / 2
        )
    );
}
