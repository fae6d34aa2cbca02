//! Hostile or absurd workbooks are refused with a clear reason, bounded in
//! memory and time, and never take the run down.

use crate::support;

use std::io::Write;
use std::path::Path;

use crate::support::{Project, staff_rows, write_xlsx};

/// A minimal xlsx written entry by entry, so a test can say what no
/// spreadsheet program would write.
fn raw_xlsx(path: &Path, sheet_xml: &str) {
    raw_xlsx_named(path, "DS", sheet_xml);
}

fn raw_xlsx_named(path: &Path, sheet_name: &str, sheet_xml: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
    let file = std::fs::File::create(path).expect("create");
    let mut zip = zip::ZipWriter::new(file);
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let entries = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.to_string(),
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_string(),
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="SHEET" sheetId="1" r:id="rId1"/></sheets></workbook>"#.replace("SHEET", sheet_name),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.to_string(),
        ),
        ("xl/worksheets/sheet1.xml", sheet_xml.to_string()),
    ];
    for (name, body) in entries {
        zip.start_file(name, options).expect("entry");
        zip.write_all(body.as_bytes()).expect("write");
    }
    zip.finish().expect("finish");
}

fn sheet_with(cells: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{cells}</sheetData></worksheet>"#
    )
}

fn inline(r: &str, text: &str) -> String {
    format!(r#"<c r="{r}" t="inlineStr"><is><t>{text}</t></is></c>"#)
}

fn reason_of(project: &Project) -> String {
    let sidecars: Vec<_> = project
        .files_under(&project.data().join("quarantine"), "txt")
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".reason.txt"))
        .collect();
    assert_eq!(sidecars.len(), 1, "{sidecars:?}");
    std::fs::read_to_string(&sidecars[0]).expect("sidecar")
}

#[test]
fn a_sheet_claiming_a_cell_beyond_the_last_column_is_refused() {
    let project = Project::new();
    let cells = format!(
        r#"<row r="1">{}{}</row><row r="2">{}</row>"#,
        inline("A1", "Họ và tên"),
        inline("B1", "Mã định danh"),
        inline("ZZZZ2", "x"),
    );
    raw_xlsx(
        &project.inbox().join("SNV/ds_2025.xlsx"),
        &sheet_with(&cells),
    );
    let out = project.run_ok(&["ingest"]);
    assert!(out.contains(" quarantined "), "{out}");
    let reason = reason_of(&project);
    assert!(
        reason.contains("too large") || reason.contains("cannot be read"),
        "{reason}"
    );
}

#[test]
fn a_far_away_cell_does_not_make_the_sheet_a_huge_grid() {
    // A1 and XFD1048576: 17 billion cells as a rectangle, two as they are.
    let project = Project::new();
    let cells = format!(
        r#"<row r="1">{}{}</row><row r="2">{}{}</row><row r="1048576">{}</row>"#,
        inline("A1", "Họ và tên"),
        inline("B1", "Mã định danh"),
        inline("A2", "Lò Văn Pọm"),
        inline("B2", "001"),
        inline("XFD1048576", "cuối"),
    );
    raw_xlsx(
        &project.inbox().join("SNV/ds_2025.xlsx"),
        &sheet_with(&cells),
    );
    let out = project.run_ok(&["ingest"]);
    assert!(out.contains("accepted"), "{out}");
    support::assert_rows_accounted(&project);
}

#[test]
fn a_zip_declaring_gigabytes_unpacked_is_refused_unopened() {
    let project = Project::new();
    let path = project.inbox().join("SNV/bom_2025.xlsx");
    write_xlsx(&path, "DS", &staff_rows("NĂM 2025", &[("A", "1", "")]));
    // Declare 3.75 GiB for each of two entries in the central directory.
    let mut bytes = std::fs::read(&path).expect("read");
    let mut patched = 0;
    let mut i = 0;
    while i + 46 <= bytes.len() {
        if bytes[i..i + 4] == [0x50, 0x4b, 0x01, 0x02] && patched < 2 {
            bytes[i + 24..i + 28].copy_from_slice(&0xF000_0000u32.to_le_bytes());
            patched += 1;
        }
        i += 1;
    }
    assert_eq!(patched, 2);
    std::fs::write(&path, bytes).expect("write");
    let out = project.run_ok(&["ingest"]);
    assert!(out.contains(" quarantined "), "{out}");
    let reason = reason_of(&project);
    assert!(
        reason.contains("zip bomb") && reason.contains("tệp nén độc hại"),
        "{reason}"
    );
}

#[test]
fn file_and_sheet_names_never_become_paths() {
    let project = Project::new();
    let sneaky = project
        .inbox()
        .join("SNV/x..%2f..%2fetc%2fpasswd ..\\x_2025.xlsx");
    let cells = format!(
        r#"<row r="1">{}{}</row>"#,
        inline("A1", "Tên"),
        inline("B1", "Tuổi")
    );
    raw_xlsx_named(&sneaky, "../../etc/x", &sheet_with(&cells));
    let out = project.run_ok(&["ingest"]);
    assert!(out.contains(" quarantined "), "{out}");
    let mut outside = Vec::new();
    support::walk(project.root(), &mut |p| {
        if !p.starts_with(project.data())
            && !p.starts_with(project.root().join("config"))
            && !p.starts_with(project.root().join("jobs"))
        {
            outside.push(p.to_path_buf());
        }
    });
    assert!(
        outside.is_empty(),
        "files written outside data/: {outside:?}"
    );
    let quarantined = project.files_under(&project.data().join("quarantine/SNV"), "xlsx");
    assert_eq!(quarantined.len(), 1);
    let name = quarantined[0]
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(
        !name.contains('/') && !name.contains('\\') && !name.starts_with('.'),
        "{name}"
    );
}
