//! `nhanluc status` through the real binary on a state made by real ingests
//! and runs: tables line up by display width with Vietnamese names, run
//! counts read as words, a cell per department × period × form, the outbox
//! says when it tries again and what failed, and `--json` carries the same
//! numbers.

use crate::support;

use std::net::TcpListener;

use crate::support::{Project, staff_rows, write_xlsx};
use unicode_width::UnicodeWidthStr;

/// "Phường Mường Thanh" written decomposed (NFD: base letters + combining
/// marks), to show the width is measured, not the characters counted.
const NFD_NAME: &str = "Phu\u{031b}o\u{031b}\u{0300}ng Mu\u{031b}o\u{031b}\u{0300}ng Thanh";

fn registry() -> String {
    let departments = [
        ("SNV", "Sở Nội vụ", "province"),
        ("STTTT", "Sở Thông tin và Truyền thông", "province"),
        ("SYT", "Sở Y tế", "province"),
        ("HMA", "Huyện Mường Ảng", "district"),
        ("PMT", NFD_NAME, "district"),
        ("XNT", "Xã Nà Tấu", "commune"),
        ("XAN", "Xã Ẳng Nưa", "commune"),
    ];
    departments
        .iter()
        .map(|(code, name, level)| {
            format!(
                "[[department]]\ncode = \"{code}\"\nname = \"{name}\"\nlevel = \"{level}\"\ncontacts = [\"van-thu.{}@example.gov.vn\"]\n\n",
                code.to_lowercase()
            )
        })
        .collect()
}

/// A port nothing listens on: mail to it fails at once.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// A project whose state holds: a failed nightly run (mail could not be
/// sent), two periods, two forms for one department, a superseded file, a
/// rejected row, a quarantined file and messages waiting in the outbox.
fn populated() -> Project {
    let smtp = format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\ntimeout_seconds = 5\nfrom = \"Sở Nội vụ <bao-cao@snv.example.gov.vn>\"\n",
        closed_port()
    );
    let project = Project::with_config_extra(&smtp);
    std::fs::write(project.root().join("config/departments.toml"), registry()).expect("registry");
    let inbox = project.inbox();
    write_xlsx(
        &inbox.join("SNV/ds_2024.xlsx"),
        "DS",
        &staff_rows("NĂM 2024", &[("Nguyễn Văn An", "1", "Đại học")]),
    );
    write_xlsx(
        &inbox.join("SNV/ds_2025.xlsx"),
        "DS",
        &staff_rows(
            "NĂM 2025",
            &[
                ("Nguyễn Văn An", "1", "Thạc sĩ"),
                ("Trần Thị Bình", "2", "Đại học"),
                ("Lê Văn Cường", "3", "Đại học"),
            ],
        ),
    );
    write_xlsx(
        &inbox.join("STTTT/ds_2025.xlsx"),
        "DS",
        &staff_rows(
            "NĂM 2025",
            &[
                ("Phạm Thị Dung", "4", "Đại học"),
                ("Hoàng Văn Em", "5", "không phải trình độ"),
            ],
        ),
    );
    write_xlsx(
        &inbox.join("XNT/ds_2025.xlsx"),
        "DS",
        &staff_rows(
            "NĂM 2025",
            &[
                ("Lò Văn Giàng", "6", "Trung cấp"),
                ("Quàng Thị Hoa", "7", ""),
            ],
        ),
    );
    write_xlsx(
        &inbox.join("XNT/dao-tao_2025.xlsx"),
        "Đào tạo",
        &support::training_rows("NĂM 2025", &[("Lò Văn Giàng", "6", "Bồi dưỡng kỹ năng số")]),
    );
    write_xlsx(
        &inbox.join("KHONGCO/ds_2025.xlsx"),
        "DS",
        &staff_rows("NĂM 2025", &[("A", "9", "")]),
    );
    let out = project.run(&["run", "nightly"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the run fails (the digest lacks training figures); its mail waits\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A corrected file for SNV 2025 replaces the first one's rows.
    write_xlsx(
        &inbox.join("SNV/ds-sua-lai_2025.xlsx"),
        "DS",
        &staff_rows(
            "NĂM 2025",
            &[
                ("Nguyễn Văn An", "1", "Thạc sĩ"),
                ("Trần Thị Bình", "2", "Đại học"),
            ],
        ),
    );
    project.run_ok(&["ingest"]);
    project
}

fn json_of(project: &Project) -> serde_json::Value {
    let text = project.run_ok(&["status", "--json"]);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("status --json is not JSON: {e}\n{text}"))
}

/// The tables of the text: runs of consecutive lines drawn with box characters.
fn tables(text: &str) -> Vec<Vec<&str>> {
    let mut tables = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in text.lines() {
        if line.starts_with(['┌', '│', '├', '╞', '└']) {
            current.push(line);
        } else if !current.is_empty() {
            tables.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        tables.push(current);
    }
    tables
}

/// The display columns of a line's vertical borders and junctions.
fn border_columns(line: &str) -> Vec<usize> {
    let mut columns = Vec::new();
    let mut at = 0;
    for c in line.chars() {
        if "│┆┼╪┬┴├┤╞╡┌┐└┘".contains(c) {
            columns.push(at);
        }
        at += c.to_string().width();
    }
    columns
}

fn assert_tables_line_up(text: &str) -> usize {
    let tables = tables(text);
    for table in &tables {
        let width = table[0].width();
        let borders = border_columns(table[0]);
        for line in table {
            assert_eq!(
                line.width(),
                width,
                "line {line:?} is not as wide as the table's first line\n{}",
                table.join("\n")
            );
            assert_eq!(
                border_columns(line),
                borders,
                "the column borders of {line:?} do not line up\n{}",
                table.join("\n")
            );
        }
    }
    tables.len()
}

/// The lines of the first table whose header line contains `header`.
fn table_with<'a>(text: &'a str, header: &str) -> Vec<&'a str> {
    tables(text)
        .into_iter()
        .find(|t| t.iter().take(3).any(|l| l.contains(header)))
        .unwrap_or_else(|| panic!("no table with {header:?} in\n{text}"))
}

#[test]
fn status_tables_line_up_and_say_what_the_state_holds() {
    let project = populated();
    let text = project.run_ok(&["status"]);
    let json = json_of(&project);

    // Every table lines up by display width, Vietnamese names included.
    let count = assert_tables_line_up(&text);
    assert!(
        count >= 6,
        "runs, jobs, outbox, levels, submissions, missing, quarantine: {count}\n{text}"
    );
    let submissions = table_with(&text, "Kỳ (period)");
    for name in ["Sở Thông tin và Truyền thông", "Xã Nà Tấu", "Sở Nội vụ"] {
        assert!(
            submissions.iter().any(|l| l.contains(name)),
            "{name} in the submissions table\n{text}"
        );
    }
    let config_name = json["departments"]
        .as_array()
        .expect("departments")
        .iter()
        .find(|d| d["code"] == "PMT")
        .and_then(|d| d["name"].as_str())
        .expect("PMT")
        .to_string();
    assert!(
        submissions.iter().any(|l| l.contains(&config_name)),
        "the decomposed name is in the table: {config_name:?}\n{text}"
    );

    // The failed nightly run: counts in words, only the non-zero ones.
    let run = &json["runs"][0];
    assert_eq!(run["job"], "nightly");
    assert_eq!(run["status"], "failed");
    let counts = &run["counts"];
    assert_eq!(counts["files_accepted"], 5, "{counts}");
    assert_eq!(counts["files_quarantined"], 1, "{counts}");
    assert_eq!(counts["rows_rejected"], 1, "{counts}");
    assert_eq!(counts["files_duplicate"], 0, "{counts}");
    let runs = table_with(&text, "Số liệu (counts)");
    let runs_text = runs.join("\n");
    assert!(
        runs_text.contains("5 tệp nhận, 1 tệp cách ly"),
        "{runs_text}"
    );
    let loaded = counts["rows_loaded"].as_i64().expect("rows_loaded");
    assert!(
        runs_text.contains(&format!("{loaded} dòng nạp, 1 dòng từ chối")),
        "{runs_text}"
    );
    assert!(
        !runs_text.contains("tệp trùng"),
        "zero counts are left out: {runs_text}"
    );
    assert!(runs_text.contains("thất bại (failed)"), "{runs_text}");
    assert!(!runs_text.contains("{\""), "no raw JSON: {runs_text}");

    // A cell per department × period × form, with supersessions.
    let department = |code: &str| {
        json["departments"]
            .as_array()
            .expect("departments")
            .iter()
            .find(|d| d["code"] == code)
            .unwrap_or_else(|| panic!("{code} in {json}"))
            .clone()
    };
    let xnt = department("XNT");
    let forms: Vec<(&str, &str, i64)> = xnt["submissions"]
        .as_array()
        .expect("submissions")
        .iter()
        .map(|s| {
            (
                s["period"].as_str().expect("period"),
                s["form"].as_str().expect("form"),
                s["rows"].as_i64().expect("rows"),
            )
        })
        .collect();
    assert_eq!(forms, [("2025", "staff", 2), ("2025", "training", 1)]);
    let snv = department("SNV");
    let snv_2025 = snv["submissions"]
        .as_array()
        .expect("submissions")
        .iter()
        .find(|s| s["period"] == "2025")
        .expect("SNV 2025")
        .clone();
    assert_eq!(snv_2025["rows"], 2, "the corrected file's rows");
    assert_eq!(snv_2025["files"], 1);
    assert_eq!(snv_2025["superseded"], 1);
    let xnt_row = submissions
        .iter()
        .find(|l| l.contains("Xã Nà Tấu") && l.contains("2025"))
        .expect("XNT 2025 row");
    assert!(
        xnt_row.contains("· 2 dòng") && xnt_row.contains("· 1 dòng"),
        "{xnt_row}"
    );
    assert!(
        submissions.iter().any(|l| l.contains("1 bản bị thay thế")),
        "{}",
        submissions.join("\n")
    );

    // Not submitted for the latest period, by level.
    assert_eq!(json["latest_period"], "2025");
    let missing: Vec<&str> = json["not_submitted_latest"]
        .as_array()
        .expect("missing")
        .iter()
        .map(|m| m["code"].as_str().expect("code"))
        .collect();
    assert_eq!(missing, ["SYT", "HMA", "PMT", "XAN"]);
    assert!(
        text.contains("Chưa nộp kỳ 2025: 4 đơn vị (not submitted for 2025: 4 departments)"),
        "{text}"
    );
    let missing_table = table_with(&text, "Kỳ đã nộp gần nhất");
    assert!(missing_table.iter().any(|l| l.contains("Xã Ẳng Nưa")));
    let levels = table_with(&text, "Cấp (level)");
    let province = levels
        .iter()
        .find(|l| l.contains("tỉnh"))
        .expect("province row");
    let cells: Vec<&str> = province
        .split(['│', '┆'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(&cells[..4], ["tỉnh", "3", "2", "1"], "{province}");

    // The outbox: what waits, when it is tried again, why it failed.
    let outbox = &json["outbox"];
    let waiting = outbox["waiting"].as_i64().expect("waiting");
    assert!(waiting > 0, "{outbox}");
    assert_eq!(
        outbox["messages"].as_array().expect("messages").len() as i64,
        waiting
    );
    assert!(
        text.contains(&format!(
            "Outbox: {} sent, {waiting} waiting",
            outbox["sent"]
        )),
        "{text}"
    );
    let message = &outbox["messages"][0];
    let next = message["next_attempt_at"]
        .as_str()
        .expect("a failed message has a next attempt");
    let local = chrono::DateTime::parse_from_rfc3339(next)
        .expect("rfc3339")
        .with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let outbox_table = table_with(&text, "Thử lại lúc (next attempt)").join("\n");
    assert!(
        outbox_table.contains(&local),
        "next attempt {local} in\n{outbox_table}"
    );
    let error = message["last_error"].as_str().expect("last error");
    let start: String = error
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        !start.is_empty() && outbox_table.contains(&start),
        "{start:?} in\n{outbox_table}"
    );

    // The ledger line and the quarantine carry the JSON's numbers.
    let ledger = &json["ledger"];
    assert_eq!(
        (
            ledger["accepted"].as_i64(),
            ledger["superseded"].as_i64(),
            ledger["quarantined"].as_i64()
        ),
        (Some(5), Some(1), Some(1))
    );
    assert!(
        text.contains("(ledger: 5 accepted, 1 superseded, 1 quarantined)"),
        "{text}"
    );
    assert_eq!(json["quarantined"][0]["department"], "KHONGCO");
    let quarantine = table_with(&text, "Lý do (reason)").join("\n");
    assert!(quarantine.contains("KHONGCO"), "{quarantine}");

    // Jobs with their next run.
    let jobs: Vec<&str> = json["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| j["name"].as_str().expect("name"))
        .collect();
    assert_eq!(jobs, ["nightly"]);
    assert!(json["jobs"][0]["next_run"].is_string());
    let jobs_table = table_with(&text, "Lần tới (next run)").join("\n");
    assert!(
        jobs_table.contains(&format!("#{}", run["id"])),
        "last run shown: {jobs_table}"
    );
}

#[test]
fn a_fresh_state_says_there_is_nothing_yet() {
    let project = Project::new();
    let text = project.run_ok(&["status"]);
    assert!(text.contains("no runs yet"), "{text}");
    assert!(text.contains("Outbox: 0 sent, 0 waiting"), "{text}");
    assert!(text.contains("no submissions yet"), "{text}");
    assert_tables_line_up(&text);
    let json = json_of(&project);
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["runs"].as_array().map(Vec::len), Some(0));
    assert!(json["latest_period"].is_null());
    assert_eq!(
        json["departments"].as_array().map(Vec::len),
        Some(8),
        "the registry, with no submissions"
    );
}

#[test]
fn a_long_registry_is_summarised_in_the_text_and_whole_in_json() {
    let project = Project::new();
    let mut registry: String =
        "[[department]]\ncode = \"SYT\"\nname = \"Sở Y tế\"\nlevel = \"province\"\n\n".into();
    registry += &(0..100)
        .map(|i| {
            format!(
                "[[department]]\ncode = \"X{i:03}\"\nname = \"Xã Nà Tấu số {i}\"\nlevel = \"commune\"\n\n"
            )
        })
        .collect::<String>();
    std::fs::write(project.root().join("config/departments.toml"), registry).expect("registry");
    write_xlsx(
        &project.inbox().join("X000/ds_2025.xlsx"),
        "DS",
        &staff_rows("NĂM 2025", &[("Lò Văn Giàng", "6", "Trung cấp")]),
    );
    project.run_ok(&["ingest"]);
    let text = project.run_ok(&["status"]);
    assert_tables_line_up(&text);
    let shown = nhanluc::status::TEXT_ROWS;
    assert!(
        text.contains(&format!(
            "… and {} more departments: see --json",
            101 - shown
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "… and {} more departments: see --json",
            100 - shown
        )),
        "the not-submitted list is cut too: {text}"
    );
    let levels = table_with(&text, "Cấp (level)");
    let commune = levels
        .iter()
        .find(|l| l.contains("xã"))
        .expect("commune row");
    let cells: Vec<&str> = commune
        .split(['│', '┆'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(&cells[..4], ["xã", "100", "1", "99"], "{commune}");
    let json = json_of(&project);
    assert_eq!(json["departments"].as_array().map(Vec::len), Some(101));
    assert_eq!(
        json["not_submitted_latest"].as_array().map(Vec::len),
        Some(100)
    );
}
