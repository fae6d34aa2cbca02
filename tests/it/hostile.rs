//! Hostile workbooks, generated here byte by byte: each costs its own
//! department one quarantine with a reason (or its bad cells rejected,
//! bounded), a valid file of another department beside it is accepted in
//! the same run, the run is never killed by a signal, and no process of the
//! run (reader children included) grows past 1 GiB.

use crate::support;

use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Project, staff_rows, write_xlsx};

/// Peak resident memory, in KiB, of the largest process this test process
/// (and the runs it waited for, and their reader children) ran.
fn peak_children_kib() -> i64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid rusage to fill.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    usage.ru_maxrss
}

const GIB_KIB: i64 = 1024 * 1024;

/// A valid roster of another department, to be accepted beside the hostile file.
fn valid_beside(project: &Project) {
    write_xlsx(
        &project.inbox().join("SYT/ds_2025.xlsx"),
        "DS",
        &staff_rows(
            "NĂM 2025",
            &[
                ("Nguyễn Văn An", "1", "Đại học"),
                ("Trần Thị Bình", "2", "Thạc sĩ"),
            ],
        ),
    );
}

fn run_ingest(project: &Project, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_nhanluc"));
    command
        .arg("--config")
        .arg(project.config_file())
        .arg("ingest")
        .env_remove("NHANLUC_CONFIG");
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().expect("run nhanluc");
    assert_eq!(
        out.status.signal(),
        None,
        "killed by a signal\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The reasons of every quarantined file.
fn reasons(project: &Project) -> String {
    project
        .files_under(&project.data().join("quarantine"), "txt")
        .iter()
        .filter(|p| p.to_string_lossy().ends_with(".reason.txt"))
        .map(|p| std::fs::read_to_string(p).expect("sidecar"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The valid file was accepted: archived, no longer in the inbox.
fn assert_valid_accepted(project: &Project, out: &Output) {
    assert!(
        !project.inbox().join("SYT/ds_2025.xlsx").exists(),
        "the valid file left the inbox\n{}",
        text(out)
    );
    assert_eq!(
        project
            .files_under(&project.data().join("archive"), "xlsx")
            .len(),
        1,
        "the valid file is archived\n{}\n{:#?}",
        text(out),
        {
            let mut files = Vec::new();
            support::walk(project.root(), &mut |p| files.push(p.display().to_string()));
            files
        }
    );
}

/// A zip of `parts`, stored uncompressed (the test's markers stay visible in
/// the bytes) or deflated.
fn zip_of(parts: &[(&str, Vec<u8>)], deflate: bool) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        for (name, bytes) in parts {
            let method = if deflate && *name != "mimetype" {
                zip::CompressionMethod::Deflated
            } else {
                zip::CompressionMethod::Stored
            };
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(method)
                .large_file(bytes.len() > (1 << 31));
            zip.start_file(*name, options).expect("zip entry");
            zip.write_all(bytes).expect("zip write");
        }
        zip.finish().expect("zip finish");
    }
    out.into_inner()
}

/// An xlsx of raw parts: `sheets` are (name, part target under xl/), the
/// parts their XML; `shared` the sharedStrings part, if any.
fn raw_xlsx(sheets: &[(&str, &str)], parts: &[(&str, String)], shared: Option<String>) -> Vec<u8> {
    raw_xlsx_as(sheets, parts, shared, true)
}

fn raw_xlsx_as(
    sheets: &[(&str, &str)],
    parts: &[(&str, String)],
    shared: Option<String>,
    deflate: bool,
) -> Vec<u8> {
    let mut types = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>"#,
    );
    for (path, _) in parts {
        types.push_str(&format!(r#"<Override PartName="/xl/{path}" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#));
    }
    if shared.is_some() {
        types.push_str(r#"<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>"#);
    }
    types.push_str("</Types>");
    let mut workbook = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>"#,
    );
    let mut rels = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
    );
    for (i, (name, target)) in sheets.iter().enumerate() {
        workbook.push_str(&format!(
            r#"<sheet name="{name}" sheetId="{}" r:id="rId{}"/>"#,
            i + 1,
            i + 1
        ));
        rels.push_str(&format!(r#"<Relationship Id="rId{}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="{target}"/>"#, i + 1));
    }
    workbook.push_str("</sheets></workbook>");
    if shared.is_some() {
        rels.push_str(r#"<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>"#);
    }
    rels.push_str("</Relationships>");
    let mut entries: Vec<(&str, Vec<u8>)> = vec![
        ("[Content_Types].xml", types.into_bytes()),
        ("_rels/.rels", br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_vec()),
        ("xl/workbook.xml", workbook.into_bytes()),
        ("xl/_rels/workbook.xml.rels", rels.into_bytes()),
    ];
    let names: Vec<String> = parts.iter().map(|(p, _)| format!("xl/{p}")).collect();
    for ((_, xml), name) in parts.iter().zip(&names) {
        entries.push((name.as_str(), xml.clone().into_bytes()));
    }
    if let Some(shared) = shared {
        entries.push(("xl/sharedStrings.xml", shared.into_bytes()));
    }
    zip_of(&entries, deflate)
}

fn inline(reference: &str, text: &str) -> String {
    format!(r#"<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>"#)
}

/// A roster sheet (title, period, header) whose data rows are `rows` of
/// (STT, name, ID, qualification cell XML).
fn roster_sheet(rows: &[String]) -> String {
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    xml.push_str(&format!(
        r#"<row r="1">{}</row><row r="2">{}</row><row r="4">{}{}{}{}</row>"#,
        inline("A1", "DANH SÁCH CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC"),
        inline("A2", "NĂM 2025"),
        inline("A4", "STT"),
        inline("B4", "Họ và tên"),
        inline("C4", "Mã định danh"),
        inline("D4", "Trình độ chuyên môn"),
    ));
    for (i, qualification) in rows.iter().enumerate() {
        let r = i + 5;
        xml.push_str(&format!(
            r#"<row r="{r}"><c r="A{r}"><v>{}</v></c>{}{}{qualification}</row>"#,
            i + 1,
            inline(&format!("B{r}"), &format!("Người {i}")),
            inline(&format!("C{r}"), &format!("{}", 1000 + i)),
        ));
    }
    xml.push_str("</sheetData></worksheet>");
    xml
}

fn hostile_run(name: &str, bytes: &[u8]) -> (Project, Output) {
    let project = Project::new();
    valid_beside(&project);
    let path = project.inbox().join("HTG").join(name);
    std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
    std::fs::write(&path, bytes).expect("write hostile");
    let out = run_ingest(&project, &[]);
    (project, out)
}

fn assert_quarantined(project: &Project, out: &Output, name: &str, expected: &[&str]) {
    assert!(
        !project.inbox().join("HTG").join(name).exists(),
        "the hostile file left the inbox\n{}",
        text(out)
    );
    let all = reasons(project);
    for e in expected {
        assert!(
            all.contains(e),
            "missing {e:?} in the reasons:\n{all}\n{}",
            text(out)
        );
    }
    assert_valid_accepted(project, out);
    let peak = peak_children_kib();
    // The largest of all the runs this test process has waited for so far
    // (their reader children included): `--nocapture` shows it.
    eprintln!("{name}: peak RSS so far {} MiB", peak / 1024);
    assert!(peak < GIB_KIB, "peak RSS {peak} KiB");
}

#[test]
fn a_shared_strings_count_bomb_is_quarantined() {
    let sheet = roster_sheet(&[r#"<c r="D5" t="s"><v>0</v></c>"#.to_string()]);
    let shared = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="999999999999" uniqueCount="999999999999"><si><t>Đại học</t></si></sst>"#;
    let bytes = raw_xlsx(
        &[("DS", "worksheets/sheet1.xml")],
        &[("worksheets/sheet1.xml", sheet)],
        Some(shared.to_string()),
    );
    let (project, out) = hostile_run("bom_2025.xlsx", &bytes);
    assert_quarantined(&project, &out, "bom_2025.xlsx", &["999999999999"]);
}

#[test]
fn ods_repeats_over_the_cap_are_quarantined() {
    let content = r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="DS"><table:table-row table:number-rows-repeated="6000"><table:table-cell table:number-columns-repeated="16384" office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"#;
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;
    let bytes = zip_of(
        &[
            (
                "mimetype",
                b"application/vnd.oasis.opendocument.spreadsheet".to_vec(),
            ),
            ("META-INF/manifest.xml", manifest.as_bytes().to_vec()),
            ("content.xml", content.as_bytes().to_vec()),
        ],
        true,
    );
    assert!(bytes.len() < 4096, "a tiny file: {} bytes", bytes.len());
    let (project, out) = hostile_run("lap_2025.ods", &bytes);
    assert_quarantined(
        &project,
        &out,
        "lap_2025.ods",
        &["sheet \"DS\" is too large"],
    );
}

#[test]
fn a_huge_shared_string_in_rejected_cells_is_bounded_in_every_report() {
    let huge = "x".repeat(10 * 1024 * 1024);
    let rows: Vec<String> = (0..40)
        .map(|i| format!(r#"<c r="D{}" t="s"><v>0</v></c>"#, i + 5))
        .collect();
    let shared = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="40" uniqueCount="1"><si><t>{huge}</t></si></sst>"#
    );
    let bytes = raw_xlsx(
        &[("DS", "worksheets/sheet1.xml")],
        &[("worksheets/sheet1.xml", roster_sheet(&rows))],
        Some(shared),
    );
    let (project, out) = hostile_run("dai_2025.xlsx", &bytes);
    assert!(out.status.success(), "{}", text(&out));
    assert_valid_accepted_beside_hostile(&project, &out);
    // Every copy of the value in the state's ledger report is cut.
    let db = rusqlite::Connection::open(project.data().join("state.sqlite3")).expect("state");
    let longest: i64 = db
        .query_row("SELECT max(length(report)) FROM submissions", [], |r| {
            r.get(0)
        })
        .expect("report");
    assert!(longest < 200_000, "the ledger report holds {longest} bytes");
    // The 40 cells rejected saying why, each value cut to 200 characters.
    let rejects = support::duckdb(&format!(
        "SELECT count(*), max(length(value)), min(reason_en LIKE '%10485760 characters, more than Excel''s 32767%') FROM read_parquet('{}/rejects/**/*.parquet', hive_partitioning = true) WHERE department = 'HTG'",
        project.warehouse().display()
    ));
    assert_eq!(rejects.trim(), "40|201|True", "{}", text(&out));
    assert!(
        peak_children_kib() < GIB_KIB,
        "peak RSS {} KiB",
        peak_children_kib()
    );
}

/// Both files left the inbox: the hostile one taken with its cells
/// rejected (or quarantined), the valid one archived.
fn assert_valid_accepted_beside_hostile(project: &Project, out: &Output) {
    assert!(
        !project.inbox().join("SYT/ds_2025.xlsx").exists()
            && !project.inbox().join("HTG/dai_2025.xlsx").exists(),
        "{}",
        text(out)
    );
}

#[test]
fn sheets_sharing_one_part_are_refused() {
    let rows: Vec<String> = (0..40)
        .map(|i| inline(&format!("D{}", i + 5), "Đại học"))
        .collect();
    let sheets: Vec<(String, &str)> = (0..10)
        .map(|i| (format!("DS{i}"), "worksheets/sheet1.xml"))
        .collect();
    let sheets: Vec<(&str, &str)> = sheets.iter().map(|(n, t)| (n.as_str(), *t)).collect();
    let bytes = raw_xlsx(
        &sheets,
        &[("worksheets/sheet1.xml", roster_sheet(&rows))],
        None,
    );
    let (project, out) = hostile_run("chung_2025.xlsx", &bytes);
    assert_quarantined(&project, &out, "chung_2025.xlsx", &["DS0", "DS1"]);
}

/// A workbook of `count` empty sheets, none of them a form.
fn empty_sheets_workbook(count: usize) -> Vec<u8> {
    let empty = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>"#;
    let names: Vec<(String, String)> = (0..count)
        .map(|i| (format!("S{i}"), format!("worksheets/sheet{i}.xml")))
        .collect();
    let sheets: Vec<(&str, &str)> = names
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let parts: Vec<(&str, String)> = names
        .iter()
        .map(|(_, t)| (t.as_str(), empty.to_string()))
        .collect();
    raw_xlsx(&sheets, &parts, None)
}

#[test]
fn ten_thousand_empty_sheets_are_read_in_linear_time() {
    // Compared with a fifth of the sheets rather than against a clock, so a
    // loaded machine slows both alike: linear reading is about 5 times
    // slower (less, with the run's fixed cost); the quadratic reader this
    // guards against was 25 times slower (92 s for 10,000 on 2 cores).
    let started = Instant::now();
    let (project, out) = hostile_run("it_2025.xlsx", &empty_sheets_workbook(2_000));
    let fifth = started.elapsed();
    assert_quarantined(&project, &out, "it_2025.xlsx", &["known form"]);
    let started = Instant::now();
    let (project, out) = hostile_run("nhieu_2025.xlsx", &empty_sheets_workbook(10_000));
    let whole = started.elapsed();
    assert_quarantined(&project, &out, "nhieu_2025.xlsx", &["known form"]);
    assert!(
        whole < fifth * 10,
        "10,000 sheets took {whole:?}, 2,000 took {fifth:?}: not linear"
    );
}

/// A roster whose bytes hold the fault hook's marker (stored, not deflated,
/// so the marker is in the file's bytes): the hook acts on it.
fn fault_workbook() -> Vec<u8> {
    let rows = vec![inline("D5", "NHANLUC-TEST-READER-FAULT")];
    raw_xlsx_as(
        &[("DS", "worksheets/sheet1.xml")],
        &[("worksheets/sheet1.xml", roster_sheet(&rows))],
        None,
        false,
    )
}

/// A file that crashes the reader (the test-only fault hook aborts on it)
/// costs only itself: quarantined, the other files ingested.
#[test]
fn a_file_that_crashes_the_reader_is_quarantined_and_the_rest_ingested() {
    let project = Project::new();
    valid_beside(&project);
    let stored = fault_workbook();
    std::fs::create_dir_all(project.inbox().join("HTG")).expect("mkdir");
    std::fs::write(project.inbox().join("HTG/hong_2025.xlsx"), &stored).expect("write");
    // A third file after it, of the same department, read by the fresh reader.
    write_xlsx(
        &project.inbox().join("XTM/ds_2025.xlsx"),
        "DS",
        &staff_rows("NĂM 2025", &[("Lê Văn Cường", "3", "Đại học")]),
    );
    let out = run_ingest(&project, &[("NHANLUC_TEST_READER_FAULT", "abort")]);
    assert!(
        !project.inbox().join("HTG/hong_2025.xlsx").exists(),
        "{}",
        text(&out)
    );
    let all = reasons(&project);
    assert!(
        all.contains("This file stopped the reader"),
        "{all}\n{}",
        text(&out)
    );
    assert!(all.contains("Tệp làm trình đọc dừng"), "{all}");
    assert_eq!(
        project
            .files_under(&project.data().join("archive"), "xlsx")
            .len(),
        2,
        "{}",
        text(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("stopped the reader"),
        "the analyst sees it: {}",
        text(&out)
    );

    // Without the hook, the same bytes read like any file: the hook is inert.
    let plain = Project::new();
    std::fs::create_dir_all(plain.inbox().join("HTG")).expect("mkdir");
    std::fs::write(plain.inbox().join("HTG/hong_2025.xlsx"), &stored).expect("write");
    let out = run_ingest(&plain, &[]);
    assert!(
        !reasons(&plain).contains("stopped the reader"),
        "{}",
        text(&out)
    );
}

/// The process itself killed while it reads a file (the OOM killer picking
/// the parent), twice: the next run quarantines that file and ingests the rest.
#[test]
fn a_file_that_was_being_read_when_two_runs_died_is_quarantined() {
    let project = Project::new();
    let rows = vec![inline("D5", "NHANLUC-TEST-READER-FAULT")];
    let sheet = roster_sheet(&rows);
    let parts = [
        ("[Content_Types].xml", Vec::new()),
        ("xl/worksheets/sheet1.xml", sheet.into_bytes()),
    ];
    // Any bytes holding the marker: the hook sleeps before they are parsed.
    let bytes = zip_of(&parts, false);
    std::fs::create_dir_all(project.inbox().join("HTG")).expect("mkdir");
    std::fs::write(project.inbox().join("HTG/treo_2025.xlsx"), &bytes).expect("write");
    let marks = project.data().join("reading");
    // The number of earlier deaths the mark holds, once this run wrote it.
    let mark = mark_path(&marks, &bytes, "HTG/treo_2025.xlsx");
    let mark_says = |_: &std::path::Path| -> Option<String> {
        let text = std::fs::read_to_string(&mark).ok()?;
        text.lines().next().map(str::to_string)
    };
    for run in 0..2 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_nhanluc"))
            .arg("--config")
            .arg(project.config_file())
            .arg("ingest")
            .env_remove("NHANLUC_CONFIG")
            .env("NHANLUC_TEST_READER_FAULT", "sleep")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let deadline = Instant::now() + Duration::from_secs(60);
        // Killed once the file is marked as being read.
        while mark_says(&marks) != Some(run.to_string()) {
            assert!(Instant::now() < deadline, "the file was never read");
            assert!(
                child.try_wait().expect("wait").is_none(),
                "ended before the kill"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(100));
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        assert!(project.inbox().join("HTG/treo_2025.xlsx").exists());
    }
    // The next run, still with the hook: the file is not read again, and a
    // file of another department that arrived meanwhile is taken.
    valid_beside(&project);
    let out = run_ingest(&project, &[("NHANLUC_TEST_READER_FAULT", "sleep")]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        !project.inbox().join("HTG/treo_2025.xlsx").exists(),
        "{}",
        text(&out)
    );
    let all = reasons(&project);
    assert!(
        all.contains("stopped the reader 2 times"),
        "{all}\n{}",
        text(&out)
    );
    assert_valid_accepted(&project, &out);
    assert_eq!(
        std::fs::read_dir(&marks).map_or(0, |d| d.count()),
        0,
        "no mark left"
    );
}

/// One kill of a healthy run costs nothing: the file read at the kill is
/// read again and accepted.
#[test]
fn one_kill_while_reading_costs_nothing() {
    let project = Project::new();
    valid_beside(&project);
    let marks = project.data().join("reading");
    // As a killed run leaves it: the file marked as being read once.
    std::fs::create_dir_all(&marks).expect("mkdir");
    let bytes = std::fs::read(project.inbox().join("SYT/ds_2025.xlsx")).expect("read");
    std::fs::write(
        mark_path(&marks, &bytes, "SYT/ds_2025.xlsx"),
        "0\nSYT/ds_2025.xlsx\n",
    )
    .expect("mark");
    let out = run_ingest(&project, &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_valid_accepted(&project, &out);
    assert_eq!(std::fs::read_dir(&marks).map_or(0, |d| d.count()), 0);
}

/// Where a run marks `source` (these bytes) as being read.
fn mark_path(marks: &std::path::Path, bytes: &[u8], source: &str) -> std::path::PathBuf {
    use sha2::Digest;
    let sha = hex::encode(sha2::Sha256::digest(bytes));
    let key = hex::encode(sha2::Sha256::digest(source.as_bytes()));
    marks.join(format!("{}-{}", &sha[..32], &key[..16]))
}

/// A file that hangs the reader is killed at `read_seconds` and quarantined
/// saying so; the reader after it reads the rest.
#[test]
fn a_file_that_hangs_the_reader_is_stopped_at_the_time_budget() {
    let project = Project::new();
    let config = std::fs::read_to_string(project.config_file()).expect("config");
    std::fs::write(
        project.config_file(),
        config.replace(
            "settle_seconds = 0",
            "settle_seconds = 0\nread_seconds = 2\nreader_memory_mib = 512",
        ),
    )
    .expect("config");
    valid_beside(&project);
    let stored = fault_workbook();
    std::fs::create_dir_all(project.inbox().join("HTG")).expect("mkdir");
    std::fs::write(project.inbox().join("HTG/treo_2025.xlsx"), &stored).expect("write");
    let started = Instant::now();
    let out = run_ingest(&project, &[("NHANLUC_TEST_READER_FAULT", "sleep")]);
    assert!(
        started.elapsed() < Duration::from_secs(50),
        "{:?}",
        started.elapsed()
    );
    assert!(out.status.success(), "{}", text(&out));
    let all = reasons(&project);
    assert!(all.contains("took more than 2 s"), "{all}\n{}", text(&out));
    assert!(all.contains("quá 2 giây"), "{all}");
    assert_valid_accepted(&project, &out);
}

fn biff_record(out: &mut Vec<u8>, typ: u16, data: &[u8]) {
    out.extend_from_slice(&typ.to_le_bytes());
    out.extend_from_slice(&(data.len() as u16).to_le_bytes());
    out.extend_from_slice(data);
}

/// An Excel 97 workbook (BIFF8 in a compound file) of one sheet whose
/// DIMENSIONS record claims 4 billion rows × 65,535 columns: calamine
/// reserves a cell for each before reading one.
fn dimensions_bomb_xls() -> Vec<u8> {
    let bof = |dt: u16| {
        let mut data = vec![0x00, 0x06];
        data.extend_from_slice(&dt.to_le_bytes());
        data.extend_from_slice(&[0; 12]);
        data
    };
    let mut stream = Vec::new();
    biff_record(&mut stream, 0x0809, &bof(0x0005));
    let bound_at = stream.len() + 4;
    biff_record(&mut stream, 0x0085, &[0, 0, 0, 0, 0, 0, 2, 0, b'D', b'S']);
    biff_record(&mut stream, 0x000A, &[]);
    let sheet_at = stream.len() as u32;
    stream[bound_at..bound_at + 4].copy_from_slice(&sheet_at.to_le_bytes());
    biff_record(&mut stream, 0x0809, &bof(0x0010));
    let mut dims = Vec::new();
    dims.extend_from_slice(&0u32.to_le_bytes());
    dims.extend_from_slice(&u32::MAX.to_le_bytes());
    dims.extend_from_slice(&0u16.to_le_bytes());
    dims.extend_from_slice(&u16::MAX.to_le_bytes());
    dims.extend_from_slice(&0u16.to_le_bytes());
    biff_record(&mut stream, 0x0200, &dims);
    biff_record(&mut stream, 0x000A, &[]);
    // At least 4096 bytes: stored in regular sectors, no mini stream.
    stream.resize(4096, 0);

    const FREE: u32 = 0xFFFF_FFFF;
    const END: u32 = 0xFFFF_FFFE;
    const FAT: u32 = 0xFFFF_FFFD;
    let mut header = vec![0u8; 512];
    header[..8].copy_from_slice(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1");
    header[24..26].copy_from_slice(&0x003Eu16.to_le_bytes());
    header[26..28].copy_from_slice(&3u16.to_le_bytes());
    header[28..30].copy_from_slice(&0xFFFEu16.to_le_bytes());
    header[30..32].copy_from_slice(&9u16.to_le_bytes());
    header[32..34].copy_from_slice(&6u16.to_le_bytes());
    header[44..48].copy_from_slice(&1u32.to_le_bytes()); // one FAT sector
    header[48..52].copy_from_slice(&1u32.to_le_bytes()); // directory at sector 1
    header[56..60].copy_from_slice(&4096u32.to_le_bytes());
    header[60..64].copy_from_slice(&END.to_le_bytes());
    header[68..72].copy_from_slice(&END.to_le_bytes());
    header[76..80].copy_from_slice(&0u32.to_le_bytes()); // the FAT is sector 0
    for i in 1..109 {
        header[76 + 4 * i..80 + 4 * i].copy_from_slice(&FREE.to_le_bytes());
    }
    // Sector 0: the FAT; 1: the directory; 2..=9: the Workbook stream.
    let mut fat = vec![FAT, END];
    fat.extend(3..=9);
    fat.push(END);
    fat.resize(128, FREE);
    let mut directory = vec![0u8; 512];
    let entry = |directory: &mut Vec<u8>, at: usize, name: &str, kind: u8, start: u32, len: u32| {
        let utf16: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
        directory[at..at + utf16.len()].copy_from_slice(&utf16);
        directory[at + 64..at + 66].copy_from_slice(&((utf16.len() + 2) as u16).to_le_bytes());
        directory[at + 66] = kind;
        directory[at + 68..at + 80].copy_from_slice(&[0xFF; 12]);
        directory[at + 116..at + 120].copy_from_slice(&start.to_le_bytes());
        directory[at + 120..at + 124].copy_from_slice(&len.to_le_bytes());
    };
    entry(&mut directory, 0, "Root Entry", 5, END, 0);
    entry(&mut directory, 128, "Workbook", 2, 2, 4096);
    let mut out = header;
    out.extend(fat.iter().flat_map(|v| v.to_le_bytes()));
    out.extend_from_slice(&directory);
    out.extend_from_slice(&stream);
    out
}

#[test]
fn an_xls_whose_dimensions_claim_billions_of_cells_is_quarantined() {
    let bytes = dimensions_bomb_xls();
    assert!(bytes.len() < 8 * 1024, "a tiny file: {}", bytes.len());
    let (project, out) = hostile_run("kichthuoc_2025.xls", &bytes);
    assert_quarantined(
        &project,
        &out,
        "kichthuoc_2025.xls",
        &[
            "stopped the reader (needed more than 1024 MiB)",
            "cần hơn 1024 MiB",
        ],
    );
}

#[test]
fn reader_budgets_out_of_range_are_refused_at_start() {
    for (line, key) in [
        ("reader_memory_mib = 0", "ingest.reader_memory_mib"),
        (
            "reader_memory_mib = 18446744073709551615",
            "ingest.reader_memory_mib",
        ),
        ("read_seconds = 0", "ingest.read_seconds"),
        ("read_seconds = 18446744073709551615", "ingest.read_seconds"),
    ] {
        let project = Project::new();
        let config = std::fs::read_to_string(project.config_file()).expect("config");
        std::fs::write(
            project.config_file(),
            config.replace("settle_seconds = 0", &format!("settle_seconds = 0\n{line}")),
        )
        .expect("config");
        let out = project.run(&["ingest"]);
        assert_eq!(out.status.code(), Some(2), "{line}: {}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(key), "{line}: {stderr}");
    }
}

/// A file that stops the reader during a job is the analyst's to look at too:
/// the run goes on (the valid file is accepted, the departments answered) and the
/// operator gets one alert naming the file and the limits.
#[test]
fn a_job_whose_file_stopped_the_reader_alerts_the_operator_once() {
    let project = Project::with_config_extra("[alerts]\nemail = \"ops@example.gov.vn\"\n");
    valid_beside(&project);
    let stored = fault_workbook();
    std::fs::create_dir_all(project.inbox().join("HTG")).expect("mkdir");
    std::fs::write(project.inbox().join("HTG/hong_2025.xlsx"), &stored).expect("write");
    // No digest: one roster alone has no training figures, which fails closed.
    std::fs::write(
        project.root().join("jobs/arrivals.toml"),
        "schedule = \"0 0 2 * * *\"\nsteps = [\"ingest\", \"feedback\"]\n",
    )
    .expect("job");
    let job = |project: &Project| {
        Command::new(env!("CARGO_BIN_EXE_nhanluc"))
            .arg("--config")
            .arg(project.config_file())
            .args(["run", "arrivals"])
            .env_remove("NHANLUC_CONFIG")
            .env("NHANLUC_TEST_READER_FAULT", "abort")
            .output()
            .expect("run nhanluc")
    };
    let out = job(&project);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let alerts = |project: &Project| -> Vec<String> {
        let saved = project.root().join("eml");
        project
            .files_under(&project.outbox(), "eml")
            .iter()
            .map(|p| support::read_eml(p, &saved))
            .filter(|m| m.to.contains("ops@example.gov.vn"))
            .map(|m| format!("{}\n{}", m.subject, m.text))
            .collect()
    };
    let sent = alerts(&project);
    assert_eq!(sent.len(), 1, "one alert: {sent:?}\n{}", text(&out));
    assert!(
        sent[0].contains("stopped the reader") && sent[0].contains("hong_2025.xlsx"),
        "{}",
        sent[0]
    );
    assert!(sent[0].contains("reader_memory_mib"), "{}", sent[0]);
    // The next night has nothing new to say.
    let again = job(&project);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert_eq!(alerts(&project).len(), 1);
}
