//! Values as offices write them, through the real binary: formulas saved
//! without a computed value (openpyxl; XlsxWriter's placeholder 0), hidden
//! and very hidden sheets, numbers and implausible dates in date columns,
//! the spellings of headers, enumerations and amounts offices use, an HTML
//! table saved as `.xls`, and other files renamed `.xls`. Each asserts what
//! is stored, what is rejected with which reason, and what is skipped.

use crate::support;

use std::io::{Read, Write};

use crate::support::{Project, duckdb};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet};

/// A cell of a generated sheet.
#[derive(Clone)]
enum V {
    T(&'static str),
    N(f64),
    /// A date-formatted date cell.
    D(u16, u8, u8),
    /// A formula (with rust_xlsxwriter's placeholder result, 0).
    F(&'static str),
    Blank,
}

fn write_rows(sheet: &mut Worksheet, rows: &[Vec<V>]) {
    let date = Format::new().set_num_format("dd/mm/yyyy");
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match cell {
                V::T(text) => {
                    sheet.write_string(r, c, *text).expect("text");
                }
                V::N(n) => {
                    sheet.write_number(r, c, *n).expect("number");
                }
                V::D(y, m, d) => {
                    let value = ExcelDateTime::from_ymd(*y, *m, *d).expect("date");
                    sheet
                        .write_datetime_with_format(r, c, &value, &date)
                        .expect("date cell");
                }
                V::F(formula) => {
                    sheet.write_formula(r, c, *formula).expect("formula");
                }
                V::Blank => {}
            }
        }
    }
}

fn workbook_bytes(sheets: &[(&str, Visibility, Vec<Vec<V>>)]) -> Vec<u8> {
    let mut workbook = Workbook::new();
    for (name, visibility, rows) in sheets {
        let sheet = workbook.add_worksheet();
        sheet.set_name(*name).expect("name");
        write_rows(sheet, rows);
        match visibility {
            Visibility::Visible => {}
            Visibility::Hidden => {
                sheet.set_hidden(true);
            }
            Visibility::VeryHidden => {
                sheet.set_very_hidden(true);
            }
        }
    }
    workbook.save_to_buffer().expect("workbook")
}

#[derive(Clone, Copy)]
enum Visibility {
    Visible,
    Hidden,
    VeryHidden,
}

/// What openpyxl writes: formulas with no `<v>` at all, and no request to
/// recalculate on opening. Made from rust_xlsxwriter's file by editing its XML.
fn as_openpyxl_writes_it(xlsx: &[u8]) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).expect("zip");
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).expect("entry");
        let name = entry.name().expect("entry name").to_string();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).expect("read");
        if name.starts_with("xl/worksheets/") || name == "xl/workbook.xml" {
            let text = String::from_utf8(content).expect("xml");
            let text = text
                .replace("</f><v>0</v>", "</f>")
                .replace(" fullCalcOnLoad=\"1\"", "");
            content = text.into_bytes();
        }
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .expect("start");
        out.write_all(&content).expect("write");
    }
    out.finish().expect("finish").into_inner()
}

fn drop_bytes(project: &Project, relative: &str, bytes: &[u8]) {
    let target = project.inbox().join(relative);
    std::fs::create_dir_all(target.parent().expect("parent")).expect("inbox folder");
    std::fs::write(&target, bytes).expect("write");
}

/// Rows of `table` as "a|b|c" lines, by sheet and row.
fn stored(project: &Project, table: &str, columns: &str) -> String {
    let dir = project.warehouse().join(table);
    if !dir.exists() {
        return String::new();
    }
    duckdb(&format!(
        "SELECT {columns} FROM read_parquet('{}/**/*.parquet', hive_partitioning = true) ORDER BY source_sheet, source_row",
        dir.display()
    ))
}

/// The rejects as (cell, value, reason_en, reason_vi), by row and cell.
fn rejects(project: &Project) -> Vec<(String, String, String, String)> {
    let dir = project.warehouse().join("rejects");
    if !dir.exists() {
        return Vec::new();
    }
    let sql = format!(
        "SELECT cell, value, reason_en, reason_vi FROM read_parquet('{}/**/*.parquet', hive_partitioning = true) ORDER BY source_row, cell",
        dir.display()
    );
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg("import sys, json, duckdb; print(json.dumps(duckdb.sql(sys.argv[1]).fetchall()))")
        .arg(sql)
        .output()
        .expect("python3 with duckdb");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<(String, String, String, String)> =
        serde_json::from_slice(&out.stdout).expect("json rows");
    rows
}

/// The sheets of the ledger's report of the only submission.
fn report_sheets(project: &Project) -> Vec<serde_json::Value> {
    let db = rusqlite::Connection::open(project.data().join("state.sqlite3")).expect("ledger");
    let report: String = db
        .query_row("SELECT report FROM submissions", [], |row| row.get(0))
        .expect("one submission");
    serde_json::from_str::<Vec<serde_json::Value>>(&report).expect("report JSON")
}

/// The quarantine sidecar of the only refused file.
fn quarantine_reason(project: &Project) -> String {
    let sidecars = project.files_under(&project.data().join("quarantine"), "txt");
    assert_eq!(sidecars.len(), 1, "{sidecars:?}");
    std::fs::read_to_string(&sidecars[0]).expect("sidecar")
}

fn training_title() -> Vec<Vec<V>> {
    vec![
        vec![V::T("UBND TỈNH ĐIỆN BIÊN")],
        vec![V::T("KẾT QUẢ ĐÀO TẠO, BỒI DƯỠNG NĂM 2025")],
        vec![],
    ]
}

fn training_with_formulas() -> Vec<u8> {
    let mut rows = training_title();
    rows.push(vec![
        V::T("STT"),
        V::T("Họ và tên"),
        V::T("Tên khóa học"),
        V::T("Nội dung"),
        V::T("Từ ngày"),
        V::T("Đến ngày"),
        V::T("Số tiết"),
        V::T("Kinh phí (đồng)"),
    ]);
    // Row 5: literal values. Row 6: its end date and cost are formulas.
    rows.push(vec![
        V::N(1.0),
        V::T("Nguyễn Văn An"),
        V::T("Bồi dưỡng kỹ năng số"),
        V::T("Tin học"),
        V::D(2025, 3, 3),
        V::D(2025, 3, 7),
        V::N(40.0),
        V::N(1_500_000.0),
    ]);
    rows.push(vec![
        V::N(2.0),
        V::T("Lò Thị Bình"),
        V::T("Bồi dưỡng kỹ năng số"),
        V::T("Tin học"),
        V::D(2025, 3, 3),
        V::F("=E6+5"),
        V::N(40.0),
        V::F("=H5"),
    ]);
    rows.push(vec![
        V::Blank,
        V::T("Tổng cộng"),
        V::Blank,
        V::Blank,
        V::Blank,
        V::Blank,
        V::Blank,
        V::F("=SUM(H5:H6)"),
    ]);
    workbook_bytes(&[("Đào tạo", Visibility::Visible, rows)])
}

fn assert_formula_rejected(project: &Project) {
    let rows = stored(
        project,
        "training",
        "source_row, full_name, end_date, cost_vnd",
    );
    assert_eq!(
        rows, "5|Nguyễn Văn An|2025-03-07|1500000",
        "only the literal row"
    );
    let rejects = rejects(project);
    assert_eq!(rejects.len(), 2, "{rejects:#?}");
    let (cell, value, en, vi) = &rejects[0];
    assert_eq!(cell, "F6");
    assert_eq!(value, "=E6+5");
    assert!(
        en.starts_with("Formula without a computed value (=E6+5): open and save the file in Excel"),
        "{en}"
    );
    assert!(
        vi.starts_with(
            "Ô công thức chưa có giá trị tính sẵn (=E6+5): mở tệp bằng Excel, lưu lại rồi gửi lại"
        ),
        "{vi}"
    );
    assert_eq!(rejects[1].0, "H6");
    assert_eq!(rejects[1].1, "=H5");
    let sheets = report_sheets(project);
    assert_eq!(sheets[0]["loaded"], 1);
    assert_eq!(sheets[0]["rejected_rows"], 1);
    assert_eq!(sheets[0]["skips"]["totals"], 1, "{:#}", sheets[0]);
    support::assert_rows_accounted(project);
}

/// openpyxl: formulas stored without any value.
#[test]
fn a_formula_saved_without_its_value_is_rejected_never_null() {
    let project = Project::new();
    let bytes = as_openpyxl_writes_it(&training_with_formulas());
    assert!(
        !String::from_utf8_lossy(&bytes).contains("fullCalcOnLoad"),
        "the openpyxl style has no recalculation flag"
    );
    drop_bytes(&project, "SNV/dao-tao.xlsx", &bytes);
    project.run_ok(&["ingest"]);
    assert_formula_rejected(&project);
}

/// XlsxWriter and rust_xlsxwriter store 0 as every formula's result and ask
/// Excel to recalculate on opening: that 0 is no computed value either.
#[test]
fn a_placeholder_zero_of_a_workbook_never_recalculated_is_rejected() {
    let project = Project::new();
    drop_bytes(&project, "SNV/dao-tao.xlsx", &training_with_formulas());
    project.run_ok(&["ingest"]);
    assert_formula_rejected(&project);
}

fn staff_header() -> Vec<V> {
    vec![
        V::T("STT"),
        V::T("Họ và tên"),
        V::T("Mã định danh"),
        V::T("Ngày sinh"),
        V::T("Trình độ chuyên môn"),
        V::T("Lý luận chính trị"),
    ]
}

fn staff_sheet(year: &'static str, people: &[(&'static str, &'static str)]) -> Vec<Vec<V>> {
    let mut rows = vec![
        vec![V::T("DANH SÁCH CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC")],
        vec![V::T(year)],
        vec![],
        staff_header(),
    ];
    for (i, (name, id)) in people.iter().enumerate() {
        rows.push(vec![
            V::N((i + 1) as f64),
            V::T(name),
            V::T(id),
            V::D(1985, 6, 7),
            V::T("Đại học"),
        ]);
    }
    rows
}

#[test]
fn hidden_and_very_hidden_sheets_are_counted_and_reported_never_taken() {
    let project = Project::new();
    let bytes = workbook_bytes(&[
        (
            "2025",
            Visibility::Visible,
            staff_sheet(
                "NĂM 2025",
                &[("Nguyễn Văn An", "001"), ("Lò Thị Bình", "002")],
            ),
        ),
        (
            "2024 (cũ)",
            Visibility::Hidden,
            staff_sheet(
                "NĂM 2024",
                &[
                    ("Nguyễn Văn An", "001"),
                    ("Quàng Văn Cường", "003"),
                    ("A Thút", "004"),
                ],
            ),
        ),
        (
            "Danh mục",
            Visibility::VeryHidden,
            vec![vec![V::T("Đại học")], vec![V::T("Thạc sĩ")]],
        ),
    ]);
    drop_bytes(&project, "SNV/ds.xlsx", &bytes);
    project.run_ok(&["ingest"]);
    assert_eq!(
        stored(
            &project,
            "staff",
            "period, source_sheet, source_row, full_name"
        ),
        "2025|2025|5|Nguyễn Văn An\n2025|2025|6|Lò Thị Bình"
    );
    let sheets = report_sheets(&project);
    assert_eq!(sheets.len(), 3, "{sheets:#?}");
    assert_eq!(sheets[0]["hidden"], false);
    assert_eq!(sheets[0]["loaded"], 2);
    for (sheet, name, rows) in [(&sheets[1], "2024 (cũ)", 6), (&sheets[2], "Danh mục", 2)] {
        assert_eq!(sheet["sheet"], name);
        assert_eq!(sheet["hidden"], true, "{sheet:#}");
        assert_eq!(sheet["loaded"], 0);
        assert_eq!(sheet["rejected_rows"], 0);
        assert_eq!(sheet["data_rows"], rows, "{sheet:#}");
        assert_eq!(sheet["skips"]["hidden_sheet"], rows, "{sheet:#}");
    }
    support::assert_rows_accounted(&project);
}

#[test]
fn a_file_whose_only_form_is_on_a_hidden_sheet_is_refused_saying_so() {
    let project = Project::new();
    let bytes = workbook_bytes(&[
        (
            "Bìa",
            Visibility::Visible,
            vec![vec![V::T("Báo cáo năm 2025")]],
        ),
        (
            "Danh sách",
            Visibility::Hidden,
            staff_sheet("NĂM 2025", &[("Nguyễn Văn An", "001")]),
        ),
    ]);
    drop_bytes(&project, "SNV/ds.xlsx", &bytes);
    project.run_ok(&["ingest"]);
    let reason = quarantine_reason(&project);
    assert!(
        reason.contains("trang tính ẩn không được đọc: Danh sách"),
        "{reason}"
    );
    assert!(
        reason.contains("hidden sheets are not read: Danh sách"),
        "{reason}"
    );
    assert_eq!(stored(&project, "staff", "full_name"), "");
}

#[test]
fn numbers_and_implausible_dates_in_a_date_column_are_rejected_with_what_to_write() {
    let project = Project::new();
    let mut rows = vec![
        vec![V::T("DANH SÁCH CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC")],
        vec![V::T("NĂM 2025")],
        vec![],
        staff_header(),
    ];
    let births = [
        ("Nguyễn Văn An", V::D(1985, 6, 7)),
        ("Lò Thị Bình", V::T("07/06/1985")),
        ("Quàng Văn Cường", V::N(1985.0)),
        ("Lường Thị Dung", V::N(31_121_985.0)),
        ("Vi Văn Em", V::N(31_000.0)),
        ("Cà Thị Phương", V::D(2030, 3, 15)),
        ("Tòng Văn Giang", V::D(1905, 6, 7)),
        ("Lò Văn Hà", V::T("1985")),
    ];
    for (i, (name, birth)) in births.iter().enumerate() {
        rows.push(vec![
            V::N((i + 1) as f64),
            V::T(name),
            V::T(["a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8"][i]),
            birth.clone(),
            V::T("Đại học"),
        ]);
    }
    drop_bytes(
        &project,
        "SNV/ds.xlsx",
        &workbook_bytes(&[("DS", Visibility::Visible, rows)]),
    );
    project.run_ok(&["ingest"]);
    assert_eq!(
        stored(&project, "staff", "source_row, full_name, birth_date"),
        "5|Nguyễn Văn An|1985-06-07\n6|Lò Thị Bình|1985-06-07"
    );
    let rejects = rejects(&project);
    let by_cell: Vec<(&str, &str, &str)> = rejects
        .iter()
        .map(|(cell, value, _, vi)| (cell.as_str(), value.as_str(), vi.as_str()))
        .collect();
    let expected = [
        (
            "D7",
            "1985",
            "1985 là năm, không phải ngày: ghi ngày dạng dd/mm/yyyy",
        ),
        ("D8", "31121985", "(có phải 31/12/1985?)"),
        (
            "D9",
            "31000",
            "nếu là ngày 14/11/1984, ghi 14/11/1984 hoặc định dạng ô kiểu Ngày",
        ),
        ("D10", "15/03/2030", "Ngày sinh 15/03/2030 ở tương lai"),
        ("D11", "07/06/1905", "tuổi, quá 100 tuổi"),
        ("D12", "1985", "1985 là năm, không phải ngày"),
    ];
    assert_eq!(by_cell.len(), expected.len(), "{rejects:#?}");
    for ((cell, value, vi), (want_cell, want_value, want_reason)) in by_cell.iter().zip(expected) {
        assert_eq!((*cell, *value), (want_cell, want_value), "{rejects:#?}");
        assert!(vi.contains(want_reason), "{cell}: {vi}");
    }
    for (_, _, en, _) in &rejects {
        assert!(!en.is_empty(), "an English reason too");
    }
    support::assert_rows_accounted(&project);
}

#[test]
fn headers_values_and_amounts_as_offices_spell_them() {
    let project = Project::new();
    // A staff roster: degrees and theory levels by their abbreviations.
    let mut staff = vec![
        vec![V::T("DANH SÁCH CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC")],
        vec![V::T("NĂM 2025")],
        vec![],
        staff_header(),
    ];
    let people = [
        ("Thạc sỹ", "TC"),
        ("Th.S", "CC"),
        ("Tiến sỹ", "SC"),
        ("TS", "Cao cấp"),
        ("Kỹ sư", ""),
        ("CN", "Cử nhân"),
        ("Cử nhân", "Trung cấp"),
        ("ĐH", ""),
        ("CĐ", ""),
        ("TC", ""),
    ];
    for (i, (degree, theory)) in people.iter().enumerate() {
        staff.push(vec![
            V::N((i + 1) as f64),
            V::T("Nguyễn Văn An"),
            V::T(["01", "02", "03", "04", "05", "06", "07", "08", "09", "10"][i]),
            V::D(1985, 6, 7),
            V::T(degree),
            V::T(theory),
        ]);
    }
    // A training record under the headers offices write.
    let mut training = training_title();
    training.push(vec![
        V::T("STT"),
        V::T("Họ và tên"),
        V::T("Tên lớp"),
        V::T("Nội dung"),
        V::T("Thời lượng (số tiết)"),
        V::T("Kết quả học tập"),
        V::T("Kinh phí (VNĐ)"),
    ]);
    let courses: [(V, V); 6] = [
        (V::N(40.0), V::T("1.500.000 vnđ")),
        (V::N(40.0), V::N(349_999.999_999_999_94)),
        (V::T("40"), V::T("2\u{a0}000\u{a0}000 đ")),
        (V::N(40.0), V::T("450.000 VND")),
        (V::N(40.0), V::T("1.200.000,00")),
        (V::N(17.5), V::N(100.0)),
    ];
    for (i, (lessons, cost)) in courses.into_iter().enumerate() {
        training.push(vec![
            V::N((i + 1) as f64),
            V::T("Nguyễn Văn An"),
            V::T("Bồi dưỡng QLNN"),
            V::T("QLNN"),
            lessons,
            V::T("Đạt yêu cầu"),
            cost,
        ]);
    }
    drop_bytes(
        &project,
        "SNV/ds.xlsx",
        &workbook_bytes(&[("DS", Visibility::Visible, staff)]),
    );
    drop_bytes(
        &project,
        "SNV/dt.xlsx",
        &workbook_bytes(&[("ĐT", Visibility::Visible, training)]),
    );
    project.run_ok(&["ingest"]);
    assert_eq!(
        stored(
            &project,
            "staff",
            "person_id, qualification, political_theory"
        ),
        "01|master|intermediate\n02|master|advanced\n03|doctorate|elementary\n\
         04|doctorate|advanced\n05|university|none\n06|university|advanced\n\
         07|university|intermediate\n08|university|none\n09|college|none\n10|intermediate|none"
    );
    assert_eq!(
        stored(
            &project,
            "training",
            "source_row, category, lessons, result, cost_vnd"
        ),
        "5|state_management|40|passed|1500000\n6|state_management|40|passed|350000\n\
         7|state_management|40|passed|2000000\n8|state_management|40|passed|450000\n\
         9|state_management|40|passed|1200000"
    );
    let rejects = rejects(&project);
    assert_eq!(rejects.len(), 1, "{rejects:#?}");
    assert_eq!(
        (rejects[0].0.as_str(), rejects[0].1.as_str()),
        ("E10", "17.5")
    );
    assert!(
        rejects[0].2.contains("Not a whole number"),
        "{:?}",
        rejects[0]
    );
    support::assert_rows_accounted(&project);
}

/// "Xuất Excel" of HR software: an HTML page named `.xls`, a two-row header
/// with the gender as x-marks under a colspan, entities, a title block.
#[test]
fn an_html_table_saved_as_xls_is_read() {
    let project = Project::new();
    let html = r#"<html xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:x="urn:schemas-microsoft-com:office:excel">
<head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"><title>DanhSach</title>
<style>.xl1 { mso-number-format:"\@"; }</style></head><body>
<table><tr><td colspan="6"><b>DANH S&Aacute;CH C&Aacute;N BỘ, C&Ocirc;NG CHỨC, VI&Ecirc;N CHỨC</b></td></tr>
<tr><td colspan=6>NĂM 2025</td></tr><tr></tr>
<tr><th rowspan="2">STT</th><th rowspan="2">Họ và tên</th><th rowspan="2">Mã định danh</th><th rowspan="2">Ngày sinh</th><th colspan="2">Giới tính</th></tr>
<tr><th>Nam</th><th>Nữ</th></tr>
<tr><td>1</td><td>Nguyễn Văn&nbsp;An</td><td class="xl1">001085000001</td><td>07/06/1985</td><td>x</td><td></td></tr>
<tr><td>2</td><td>H&#39;Linh Ml&ocirc;</td><td class="xl1">001190000002</td><td>05/03/1990</td><td></td><td>x</td></tr>
</table></body></html>"#;
    drop_bytes(&project, "SNV/DanhSach.xls", html.as_bytes());
    project.run_ok(&["ingest"]);
    assert_eq!(
        stored(
            &project,
            "staff",
            "period, source_row, person_id, full_name, birth_date, gender"
        ),
        "2025|6|001085000001|Nguyễn Văn An|1985-06-07|male\n\
         2025|7|001190000002|H'Linh Mlô|1990-03-05|female"
    );
    support::assert_rows_accounted(&project);
}

/// The other "Xuất Excel": Excel 2003 XML named `.xls`, with a hidden
/// sheet and a formula exported without its value.
#[test]
fn an_excel_2003_xml_spreadsheet_saved_as_xls_is_read() {
    let project = Project::new();
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<?mso-application progid="Excel.Sheet"?>
<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">
 <Worksheet ss:Name="DS">
  <Table>
   <Row><Cell ss:MergeAcross="3"><Data ss:Type="String">DANH SÁCH CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC NĂM 2025</Data></Cell></Row>
   <Row ss:Index="3"><Cell><Data ss:Type="String">STT</Data></Cell><Cell><Data ss:Type="String">Họ và tên</Data></Cell><Cell><Data ss:Type="String">Mã định danh</Data></Cell><Cell><Data ss:Type="String">Ngày sinh</Data></Cell></Row>
   <Row><Cell><Data ss:Type="Number">1</Data></Cell><Cell><Data ss:Type="String">Nguyễn Văn An</Data></Cell><Cell><Data ss:Type="String">001085000001</Data></Cell><Cell><Data ss:Type="DateTime">1985-06-07T00:00:00.000</Data></Cell></Row>
   <Row><Cell><Data ss:Type="Number">2</Data></Cell><Cell><Data ss:Type="String">Lò Thị Bình</Data></Cell><Cell><Data ss:Type="String">001190000002</Data></Cell><Cell ss:Formula="=DATE(1990,3,5)"/></Row>
  </Table>
 </Worksheet>
 <Worksheet ss:Name="2024"><Table><Row><Cell><Data ss:Type="String">Năm 2024</Data></Cell></Row></Table>
  <WorksheetOptions xmlns="urn:schemas-microsoft-com:office:excel"><Visible>SheetHidden</Visible></WorksheetOptions></Worksheet>
</Workbook>"#;
    drop_bytes(&project, "SNV/ds.xls", xml.as_bytes());
    project.run_ok(&["ingest"]);
    assert_eq!(
        stored(
            &project,
            "staff",
            "period, source_row, person_id, birth_date"
        ),
        "2025|4|001085000001|1985-06-07"
    );
    let rejects = rejects(&project);
    assert_eq!(rejects.len(), 1, "{rejects:#?}");
    assert_eq!(
        (rejects[0].0.as_str(), rejects[0].1.as_str()),
        ("D5", "=DATE(1990,3,5)")
    );
    assert!(rejects[0].2.starts_with("Formula without a computed value"));
    let sheets = report_sheets(&project);
    assert_eq!(sheets[1]["hidden"], true);
    assert_eq!(sheets[1]["skips"]["hidden_sheet"], 1);
    support::assert_rows_accounted(&project);
}

#[test]
fn other_files_renamed_xls_are_refused_saying_what_they_are() {
    for (bytes, vi, en) in [
        (
            "STT,Họ và tên,Ngày sinh\n1,Nguyễn Văn An,07/06/1985\n"
                .as_bytes()
                .to_vec(),
            "Tệp là văn bản thuần (CSV)",
            "plain text (CSV)",
        ),
        (
            b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n".to_vec(),
            "Tệp là tài liệu PDF",
            "a PDF document",
        ),
        (
            b"<html><body><p>Kh&ocirc;ng c&oacute; d&#7919; li&#7879;u</p></body></html>".to_vec(),
            "Tệp là trang web (HTML)",
            "a web page (HTML)",
        ),
    ] {
        let project = Project::new();
        drop_bytes(&project, "SNV/bao-cao_2025.xls", &bytes);
        project.run_ok(&["ingest"]);
        let reason = quarantine_reason(&project);
        assert!(reason.contains(vi), "{reason}");
        assert!(reason.contains(en), "{reason}");
        assert!(
            reason.contains("Save As") || reason.contains("PDF"),
            "{reason}"
        );
        let vi_line = reason
            .lines()
            .find(|l| l.starts_with("Lý do"))
            .expect("Vietnamese reason");
        assert!(
            !vi_line.contains("Cannot detect") && !vi_line.contains("format"),
            "no library English in the Vietnamese reason: {vi_line}"
        );
    }
}

/// A damaged workbook: the Vietnamese reason carries no library English.
#[test]
fn a_damaged_workbook_is_refused_in_vietnamese_only() {
    let project = Project::new();
    let mut bytes = workbook_bytes(&[(
        "DS",
        Visibility::Visible,
        staff_sheet("NĂM 2025", &[("Nguyễn Văn An", "001")]),
    )]);
    // Damaged inside, its end record whole (a file cut short would wait
    // as "still being copied").
    let middle = bytes.len() / 4;
    for byte in &mut bytes[middle..middle * 2] {
        *byte = 0x5a;
    }
    drop_bytes(&project, "SNV/ds_2025.xlsx", &bytes);
    project.run_ok(&["ingest"]);
    let reason = quarantine_reason(&project);
    let vi_line = reason
        .lines()
        .find(|l| l.starts_with("Lý do"))
        .expect("Vietnamese reason");
    assert!(vi_line.contains("Không mở được tệp"), "{vi_line}");
    assert!(
        !vi_line.contains("Zip") && !vi_line.contains("error") && !vi_line.contains("Cannot"),
        "{vi_line}"
    );
}
