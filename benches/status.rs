//! `nhanluc status` on a country-scale state (not a timed test).
//!
//! ```text
//! cargo bench --bench status                     # 20,000 departments
//! cargo bench --bench status -- --quick          # 2,000 departments, for a quick look
//! NHANLUC_BENCH_DIR=/some/dir cargo bench ...    # generate there (kept, reused) instead of a temp dir
//! ```
//!
//! `cargo test --all-targets` runs it too, on 200 departments: a smoke run.
//!
//! Writes a project folder: a config whose registry has 20,000 departments
//! (100 provincial departments, 1,900 districts, 18,000 communes, with
//! Vietnamese names), the nightly job, and a state database filled directly
//! through `nhanluc::state`: two periods, ~40,000 accepted submissions of
//! two forms each (5 % of 2025 resubmitted, superseding the first file; 5 %
//! of departments missing 2025), 500 quarantined files, 300 messages waiting
//! in the outbox (each with a 40 KiB body, a failed attempt and a backoff)
//! beside 300 sent, and 200 recorded runs. Then it times, three times
//! each, the real binary's `status` and `status --json` (process start,
//! config with the 20,000-department registry, state, render), and
//! `status::gather` + render in-process, and prints the best and worst.

use std::error::Error;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use nhanluc::config::Config;
use nhanluc::model::addition::Effect;
use nhanluc::model::report::LedgerReport;
use nhanluc::model::status::{RunStatus, SubmissionStatus};
use nhanluc::model::submission::Submission;
use nhanluc::state::{NewQuarantine, NewSubmission, State};

type BoxResult<T> = Result<T, Box<dyn Error>>;

const NAMES: &[&str] = &[
    "Nà Tấu",
    "Mường Ảng",
    "Thanh Minh",
    "Điện Biên Đông",
    "Tuần Giáo",
    "Quảng Lâm",
    "Thông tin và Truyền thông",
    "Sín Thầu",
    "Mường Nhé",
    "Ẳng Nưa",
];

fn main() -> BoxResult<()> {
    let quick = std::env::args().any(|a| a == "--quick");
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this file
    // too, in a debug build, where a smoke-sized run checks it still works.
    let benching = std::env::args().any(|a| a == "--bench");
    let departments = match (benching, quick) {
        (false, _) => 200,
        (true, true) => 2_000,
        (true, false) => 20_000,
    };
    let kept = std::env::var_os("NHANLUC_BENCH_DIR").map(std::path::PathBuf::from);
    let temp = tempfile::tempdir()?;
    let root = kept.clone().unwrap_or_else(|| temp.path().to_path_buf());
    // A kept folder generated for the same size is reused.
    let marker = root.join(format!(".complete-{departments}"));
    let started = Instant::now();
    let config_file = root.join("config/nhanluc.toml");
    if !marker.exists() {
        if root.exists() && kept.is_some() {
            std::fs::remove_dir_all(&root)?;
        }
        write_project(&root, departments)?;
        fill_state(&Config::load(&config_file)?, departments)?;
        std::fs::write(&marker, "")?;
    }
    let config = Config::load(&config_file)?;
    println!(
        "generated {} departments in {:.1} s ({})",
        departments,
        started.elapsed().as_secs_f64(),
        root.display()
    );

    let binary = env!("CARGO_BIN_EXE_nhanluc");
    for args in [&["status"][..], &["status", "--json"][..]] {
        let mut times = Vec::new();
        let mut bytes = 0;
        for _ in 0..3 {
            let start = Instant::now();
            let out = Command::new(binary)
                .arg("--config")
                .arg(&config_file)
                .args(args)
                .env_remove("NHANLUC_CONFIG")
                .output()?;
            times.push(start.elapsed());
            if !out.status.success() {
                return Err(format!(
                    "nhanluc {args:?} failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                )
                .into());
            }
            bytes = out.stdout.len();
        }
        report(&format!("nhanluc {}", args.join(" ")), &times, bytes);
    }

    let mut gather_times = Vec::new();
    let mut render_times = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        let state = State::open(&config.paths.state)?;
        let snapshot = nhanluc::status::gather(&config, &state, chrono::Utc::now())?;
        gather_times.push(start.elapsed());
        let start = Instant::now();
        let text = nhanluc::status::render_text(&snapshot);
        let json = nhanluc::status::render_json(&snapshot);
        render_times.push(start.elapsed());
        std::hint::black_box((text, json));
    }
    report("in-process gather (open state + queries)", &gather_times, 0);
    let mut queries: Vec<(&str, Duration)> = Vec::new();
    let start = Instant::now();
    let state = State::open(&config.paths.state)?;
    queries.push(("State::open", start.elapsed()));
    let start = Instant::now();
    Config::load(&config_file)?;
    queries.push(("Config::load (not in gather)", start.elapsed()));
    let start = Instant::now();
    let cells = state.submission_cells()?.len();
    queries.push(("submission_cells", start.elapsed()));
    let start = Instant::now();
    let waiting = state.waiting_messages()?.len();
    queries.push(("waiting_messages", start.elapsed()));
    let start = Instant::now();
    state.outbox_counts()?;
    queries.push(("outbox_counts", start.elapsed()));
    let start = Instant::now();
    state.ledger_counts()?;
    queries.push(("ledger_counts", start.elapsed()));
    let start = Instant::now();
    state.recent_runs(10)?;
    state.last_run_per_job()?;
    state.quarantined_files(10)?;
    queries.push(("runs and quarantine", start.elapsed()));
    for (what, time) in queries {
        println!("  {what:<43} {:>7.3} s", time.as_secs_f64());
    }
    println!("  ({cells} cells, {waiting} waiting messages)");
    report("in-process render_text + render_json", &render_times, 0);
    Ok(())
}

fn report(what: &str, times: &[Duration], bytes: usize) {
    let best = times.iter().min().copied().unwrap_or_default();
    let worst = times.iter().max().copied().unwrap_or_default();
    println!(
        "{what:<45} best {:>7.3} s  worst {:>7.3} s{}",
        best.as_secs_f64(),
        worst.as_secs_f64(),
        if bytes > 0 {
            format!("  ({} KiB of output)", bytes / 1024)
        } else {
            String::new()
        }
    );
}

fn code(i: usize) -> String {
    format!("DV{i:05}")
}

fn write_project(root: &Path, departments: usize) -> BoxResult<std::path::PathBuf> {
    std::fs::create_dir_all(root.join("config"))?;
    std::fs::create_dir_all(root.join("jobs"))?;
    std::fs::create_dir_all(root.join("inbox"))?;
    let mut registry = String::new();
    for i in 0..departments {
        let (prefix, level) = match i {
            i if i < departments / 200 => ("Sở", "province"),
            i if i < departments / 10 => ("Huyện", "district"),
            _ => ("Xã", "commune"),
        };
        registry.push_str(&format!(
            "[[department]]\ncode = \"{}\"\nname = \"{prefix} {} {}\"\nlevel = \"{level}\"\ncontacts = [\"vanthu.{}@example.gov.vn\"]\n\n",
            code(i),
            NAMES[i % NAMES.len()],
            i,
            code(i).to_lowercase()
        ));
    }
    std::fs::write(root.join("config/departments.toml"), registry)?;
    std::fs::write(
        root.join("jobs/nightly.toml"),
        "schedule = \"0 0 2 * * *\"\nsteps = [\"ingest\", \"feedback\", \"indicators\", \"digest\"]\n",
    )?;
    let config = root.join("config/nhanluc.toml");
    std::fs::write(
        &config,
        r#"[paths]
inbox = "../inbox"
archive = "../data/archive"
quarantine = "../data/quarantine"
warehouse = "../data/warehouse"
outbox = "../data/outbox"
state = "../data/state.sqlite3"
departments = "departments.toml"
jobs = "../jobs"

[[recipient]]
email = "chu-tich@ubnd.example.gov.vn"
scope = "province"
"#,
    )?;
    Ok(config)
}

fn fill_state(config: &Config, departments: usize) -> BoxResult<()> {
    let mut state = State::open(&config.paths.state)?;
    let mut submissions = Vec::new();
    let mut n = 0;
    let mut submission = |department: usize, period: &str, day: u32, rows: i64| {
        n += 1;
        NewSubmission {
            submission: Submission {
                submission_id: format!("{}-{period}-{n:06}", code(department)),
                sha256: format!("{n:064x}"),
                department: code(department),
                period: period.parse().expect("a bench period"),
                source_file: format!("{}/bao-cao_{period}.xlsx", code(department)),
                stored_as: format!("{period}/{}/{n:06}.xlsx", code(department)),
                status: SubmissionStatus::Accepted,
                received_at: format!(
                    "2026-0{}-{:02}T03:{:02}:00.000Z",
                    1 + day % 9,
                    1 + day % 28,
                    n % 60
                ),
                rows_loaded: rows * 2,
                rows_rejected: (n % 7) as i64,
                rows_skipped: 3,
                templates: "staff,training".to_string(),
            },
            report: LedgerReport::default(),
            loads: vec![("staff".to_string(), rows), ("training".to_string(), rows)],
            addition: None,
            effect: Effect::First,
        }
    };
    for d in 0..departments {
        submissions.push(submission(d, "2024", d as u32, 40 + (d % 300) as i64));
    }
    for d in 0..departments {
        if d % 20 == 7 {
            continue; // 5 % have not submitted the latest period
        }
        submissions.push(submission(d, "2025", d as u32 + 3, 42 + (d % 310) as i64));
        if d % 20 == 3 {
            // A corrected file replaces the first.
            submissions.push(submission(d, "2025", d as u32 + 9, 43 + (d % 310) as i64));
        }
    }
    state.record_submissions(&submissions)?;

    state.in_transaction(|| -> BoxResult<()> {
        for i in 0..500 {
            let department = code(i * 37 % departments);
            state.record_quarantine(&NewQuarantine {
                sha256: &format!("{:064x}", 1_000_000 + i),
                department: Some(&department),
                source_file: &format!("{department}/bang-tinh-{i}.xlsx"),
                stored_as: &format!("{department}/bang-tinh-{i}.xlsx"),
                reason_vi: "Không xác định được kỳ báo cáo: đặt tệp vào thư mục năm (2025/) hoặc ghi kỳ vào tên tệp",
                reason_en: "Cannot determine the reporting period: put the file in a year folder (2025/) or name the period in the file name",
                report: &LedgerReport::default(),
            })?;
        }
        let body = vec![b'x'; 40 * 1024];
        for i in 0..600 {
            let recipient = format!("vanthu.{}@example.gov.vn", code(i % departments).to_lowercase());
            state.enqueue(
                "feedback",
                &format!("feedback:{i}"),
                &recipient,
                &format!("[Sở Nội vụ] Kết quả tiếp nhận báo cáo {i}"),
                &body,
            )?;
        }
        for item in state.pending()? {
            if item.id <= 300 {
                state.mark_sent(item.id)?;
            } else {
                state.mark_failed(
                    item.id,
                    "connecting to smtp.example.gov.vn:587: Connection refused (os error 111)",
                    "2026-12-01T22:00:00.000Z",
                )?;
            }
        }
        for _ in 0..200 {
            let run = state.start_run("nightly")?;
            state.finish_run(
                run,
                RunStatus::Succeeded,
                r#"{"files_fetched":0,"sources_failed":0,"files_accepted":1900,"files_duplicate":12,"files_quarantined":25,"files_waiting":0,"rows_loaded":152000,"rows_rejected":431,"rows_skipped":9000,"indicator_periods":2,"indicator_rows":96000,"indicator_failures":0,"messages_queued":1950,"messages_delivered":1950,"messages_failed":0}"#,
                None,
            )?;
        }
        Ok(())
    })?;
    Ok(())
}
