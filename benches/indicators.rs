//! Indicators over a country-scale warehouse (not a timed test).
//!
//! ```text
//! cargo bench --bench indicators                 # 2,000,000 staff, 3,000,000 training rows
//! cargo bench --bench indicators -- --quick      # a tenth of that, for a quick look
//! NHANLUC_BENCH_DIR=/some/dir cargo bench ...    # generate there (kept) instead of a temp dir
//! ```
//!
//! Generates a warehouse directly as Parquet, with the real layout and schemas
//! (`nhanluc::warehouse`): 700 departments (210 provincial departments, 280
//! districts, 210 communes, sizes spread ±50 % around 5 : 3 : 1), one period,
//! a roster of 2,000,000 people, 3,000,000 training rows, a plan, IT
//! recruitment and a submission record per department. Then it times
//! `nhanluc::indicators::compute` (every built-in indicator, written to
//! `indicators/`) and reports the wall time and the peak resident memory of
//! the computation (VmHWM, reset after the data is generated), and the time of
//! each indicator file run on its own.

use std::error::Error;
use std::path::Path;
use std::time::Instant;

use chrono::NaiveDate;
use nhanluc::config::Config;
use nhanluc::model::rows::ParsedRow;
use nhanluc::model::status::SubmissionStatus;
use nhanluc::model::submission::Submission;
use nhanluc::model::value::Value;
use nhanluc::warehouse;
// SplitMix64: small, fast, reproducible (the fixture generator's stream).
use nhanluc_fixtures::Rng;

type BoxResult<T> = Result<T, Box<dyn Error>>;

const PERIOD: &str = "2025";

struct Unit {
    code: String,
    level: &'static str,
    staff: usize,
    training: usize,
}

/// 700 departments; staff and training rows spread over them by level and
/// at random, adding up exactly to the totals.
fn units(rng: &mut Rng, staff_total: usize, training_total: usize) -> Vec<Unit> {
    let mut units: Vec<(String, &'static str, f64)> = (0..700)
        .map(|i| {
            let (level, prefix, weight) = match i % 10 {
                0..=2 => ("province", "SO", 5.0),
                3..=6 => ("district", "HUYEN", 3.0),
                _ => ("commune", "XA", 1.0),
            };
            let spread = 0.5 + rng.below(1001) as f64 / 1000.0;
            (format!("{prefix}{i:03}"), level, weight * spread)
        })
        .collect();
    let total_weight: f64 = units.iter().map(|u| u.2).sum();
    let share = |weight: f64, total: usize| (weight / total_weight * total as f64) as usize;
    let mut out: Vec<Unit> = units
        .drain(..)
        .map(|(code, level, weight)| Unit {
            code,
            level,
            staff: share(weight, staff_total),
            training: share(weight, training_total),
        })
        .collect();
    let staff_sum: usize = out.iter().map(|u| u.staff).sum();
    let training_sum: usize = out.iter().map(|u| u.training).sum();
    if let Some(first) = out.first_mut() {
        first.staff += staff_total - staff_sum;
        first.training += training_total - training_sum;
    }
    out
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn enumeration(s: Option<&str>) -> Value {
    s.map(|s| Value::Enum(s.to_string())).unwrap_or(Value::Null)
}

fn date(rng: &mut Rng, from_year: i32, to_year: i32) -> Value {
    let start = NaiveDate::from_ymd_opt(from_year, 1, 1).unwrap_or_default();
    let days = (to_year - from_year + 1) as u64 * 365;
    Value::Date(start + chrono::Duration::days(rng.below(days) as i64))
}

const FAMILIES: &[&str] = &[
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Lò", "Quàng", "Giàng", "Thào",
];
const MIDDLES: &[&str] = &["Văn", "Thị", "Đức", "Minh", "Ngọc", "Thu", "Hữu", "Thanh"];
const GIVEN: &[&str] = &[
    "An", "Bình", "Chi", "Cường", "Dung", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hoa", "Hùng",
    "Huy", "Lan", "Linh", "Long", "Mai", "Minh", "Nam", "Nga", "Phong", "Quân", "Sơn", "Thảo",
    "Trang", "Tuấn", "Vân", "Việt", "Yến",
];

fn name(rng: &mut Rng) -> String {
    format!(
        "{} {} {}",
        rng.pick(FAMILIES),
        rng.pick(MIDDLES),
        rng.pick(GIVEN)
    )
}

fn person_id(unit_index: usize, serial: usize) -> String {
    format!("0{:03}{:08}", unit_index, serial)
}

fn staff_row(rng: &mut Rng, fields: &[String], unit: &Unit, index: usize, row: usize) -> ParsedRow {
    let qualification: &[(Option<&str>, u32)] = match unit.level {
        "province" => &[
            (Some("doctorate"), 3),
            (Some("master"), 15),
            (Some("university"), 60),
            (Some("college"), 10),
            (Some("intermediate"), 10),
            (Some("elementary"), 1),
            (Some("none"), 1),
        ],
        "district" => &[
            (Some("master"), 3),
            (Some("university"), 75),
            (Some("college"), 10),
            (Some("intermediate"), 11),
            (Some("none"), 1),
        ],
        _ => &[
            (Some("university"), 45),
            (Some("college"), 10),
            (Some("intermediate"), 40),
            (Some("elementary"), 3),
            (Some("none"), 2),
        ],
    };
    let values = fields
        .iter()
        .map(|field| match field.as_str() {
            "person_id" => Value::Text(person_id(index, row)),
            "full_name" => Value::Text(name(rng)),
            "birth_date" => date(rng, 1965, 2002),
            "gender" => enumeration(Some(if rng.percent(52) { "female" } else { "male" })),
            "unit" => text("Phòng Tổ chức cán bộ"),
            "level" => enumeration(Some(if rng.percent(2) {
                "commune"
            } else {
                unit.level
            })),
            "position" => {
                text(rng.pick::<&str>(&["Chuyên viên", "Giáo viên", "Bác sĩ", "Kế toán"]))
            }
            "qualification" => enumeration(rng.weighted(qualification)),
            "political_theory" => enumeration(rng.weighted(&[
                (Some("advanced"), 4),
                (Some("intermediate"), 15),
                (Some("elementary"), 30),
                (Some("none"), 51),
            ])),
            "state_management" => enumeration(rng.weighted(&[
                (Some("senior"), 1),
                (Some("principal"), 15),
                (Some("specialist"), 50),
                (Some("none"), 34),
            ])),
            "digital_role" => enumeration(rng.weighted(&[
                (Some("dedicated"), 1),
                (Some("part_time"), 4),
                (Some("none"), 95),
            ])),
            "infosec_role" => enumeration(rng.weighted(&[
                (Some("dedicated"), 1),
                (Some("part_time"), 2),
                (Some("none"), 97),
            ])),
            _ => Value::Null,
        })
        .collect();
    ParsedRow {
        source_row: row as u32 + 9,
        values,
    }
}

const CATEGORIES: &[(Option<&str>, u32)] = &[
    (Some("professional"), 30),
    (Some("political_theory"), 12),
    (Some("state_management"), 12),
    (Some("leadership"), 8),
    (Some("defense_security"), 8),
    (Some("foreign_language"), 5),
    (Some("digital"), 20),
    (Some("ethnic_language"), 2),
    (Some("other"), 3),
];

fn training_row(
    rng: &mut Rng,
    fields: &[String],
    unit: &Unit,
    index: usize,
    row: usize,
) -> ParsedRow {
    // 88 % on the roster, 8 % an id not on it, 4 % no id at all.
    let draw = rng.below(100);
    let id = if draw < 88 {
        Value::Text(person_id(
            index,
            rng.below(unit.staff.max(1) as u64) as usize,
        ))
    } else if draw < 96 {
        Value::Text(person_id(index, unit.staff + rng.below(1000) as usize))
    } else {
        Value::Null
    };
    let lessons = i64::from(rng.between(8, 200));
    let start = date(rng, 2025, 2025);
    let values = fields
        .iter()
        .map(|field| match field.as_str() {
            "person_id" => id.clone(),
            "full_name" => Value::Text(name(rng)),
            "birth_date" => date(rng, 1965, 2002),
            "course" => text(rng.pick::<&str>(&[
                "Bồi dưỡng kỹ năng chuyển đổi số",
                "Lý luận chính trị trung cấp",
                "Bồi dưỡng kiến thức quản lý nhà nước ngạch chuyên viên",
                "Tin học văn phòng nâng cao",
                "Bồi dưỡng nghiệp vụ chuyên ngành",
            ])),
            "category" => enumeration(rng.weighted(CATEGORIES)),
            "mode" => enumeration(rng.weighted(&[
                (Some("in_person"), 55),
                (Some("online"), 35),
                (Some("blended"), 10),
            ])),
            "location" => enumeration(Some(if rng.percent(1) { "abroad" } else { "domestic" })),
            "start_date" | "end_date" => start.clone(),
            "lessons" => Value::Int(lessons),
            "result" => enumeration(rng.weighted(&[
                (Some("passed"), 88),
                (Some("failed"), 4),
                (Some("in_progress"), 6),
                (None, 2),
            ])),
            "certified" => Value::Bool(rng.percent(70)),
            "cost_vnd" => Value::Int(lessons * i64::from(rng.between(10, 30)) * 1_000),
            _ => Value::Null,
        })
        .collect();
    ParsedRow {
        source_row: row as u32 + 9,
        values,
    }
}

fn write_table(
    config: &Config,
    table: &str,
    department: &str,
    rows: &[ParsedRow],
) -> BoxResult<u64> {
    let template = config
        .template(table)
        .ok_or_else(|| format!("no template {table}"))?;
    let submission = format!("{department}-{table}");
    let refs: Vec<(&str, &ParsedRow)> = rows.iter().map(|r| ("Sheet1", r)).collect();
    let batch = warehouse::template_batch(template, &refs, &submission)?;
    let path = warehouse::part_path(
        &config.paths.warehouse,
        table,
        PERIOD,
        department,
        &submission,
    );
    warehouse::write_parquet_atomic(&path, &batch)?;
    Ok(std::fs::metadata(&path)?.len())
}

fn generate(config: &Config, units: &[Unit]) -> BoxResult<u64> {
    let mut rng = Rng::new(2025);
    let mut bytes = 0;
    let fields = |name: &str| -> BoxResult<Vec<String>> {
        Ok(config
            .template(name)
            .ok_or_else(|| format!("no template {name}"))?
            .fields
            .iter()
            .map(|f| f.name.clone())
            .collect())
    };
    let (staff_fields, training_fields) = (fields("staff")?, fields("training")?);
    let (plan_fields, recruitment_fields) = (fields("plan")?, fields("recruitment")?);
    for (index, unit) in units.iter().enumerate() {
        let staff: Vec<ParsedRow> = (0..unit.staff)
            .map(|row| staff_row(&mut rng, &staff_fields, unit, index, row))
            .collect();
        bytes += write_table(config, "staff", &unit.code, &staff)?;
        drop(staff);
        let training: Vec<ParsedRow> = (0..unit.training)
            .map(|row| training_row(&mut rng, &training_fields, unit, index, row))
            .collect();
        bytes += write_table(config, "training", &unit.code, &training)?;
        // A plan: by category, or (one in five) one overall line.
        let target = (unit.training as i64) * i64::from(rng.between(85, 115)) / 100;
        let plan_lines: Vec<(&str, i64)> = if rng.percent(20) {
            vec![("all", target)]
        } else {
            CATEGORIES
                .iter()
                .filter_map(|(c, w)| c.map(|c| (c, target * *w as i64 / 100)))
                .collect()
        };
        let plan: Vec<ParsedRow> = plan_lines
            .iter()
            .enumerate()
            .map(|(row, (category, target))| ParsedRow {
                source_row: row as u32 + 9,
                values: plan_fields
                    .iter()
                    .map(|f| match f.as_str() {
                        "category" => Value::Enum(category.to_string()),
                        "target_participants" => Value::Int(*target),
                        "budget_vnd" => Value::Int(target * 2_000_000),
                        _ => Value::Null,
                    })
                    .collect(),
            })
            .collect();
        bytes += write_table(config, "plan", &unit.code, &plan)?;
        let recruitment: Vec<ParsedRow> = [("it", 4, 3, 1), ("other", 20, 18, 2)]
            .iter()
            .enumerate()
            .map(|(row, (field, target, recruited, resigned))| ParsedRow {
                source_row: row as u32 + 9,
                values: recruitment_fields
                    .iter()
                    .map(|f| match f.as_str() {
                        "field" => Value::Enum(field.to_string()),
                        "target" => Value::Int(*target),
                        "recruited" => Value::Int(*recruited),
                        "resigned" => Value::Int(*resigned),
                        _ => Value::Null,
                    })
                    .collect(),
            })
            .collect();
        bytes += write_table(config, "recruitment", &unit.code, &recruitment)?;
        // Nine departments in ten have sent their forms.
        if index % 10 != 9 {
            let record = Submission {
                submission_id: format!("{}-all", unit.code),
                sha256: format!("{index:064}"),
                department: unit.code.clone(),
                period: PERIOD.parse().expect("the bench period"),
                source_file: format!("{}/bao-cao_{PERIOD}.xlsx", unit.code),
                stored_as: String::new(),
                received_at: "2026-01-15T02:00:00Z".to_string(),
                status: SubmissionStatus::Accepted,
                templates: "staff,training,plan,recruitment".to_string(),
                rows_loaded: (unit.staff + unit.training) as i64,
                rows_rejected: 0,
                rows_skipped: 0,
            };
            let path = warehouse::part_path(
                &config.paths.warehouse,
                warehouse::SUBMISSIONS,
                PERIOD,
                &unit.code,
                &record.submission_id,
            );
            warehouse::write_parquet_atomic(&path, &warehouse::submission_batch(&record)?)?;
        }
    }
    Ok(bytes)
}

fn write_config(root: &Path, units: &[Unit]) -> BoxResult<Config> {
    let config_dir = root.join("config");
    std::fs::create_dir_all(&config_dir)?;
    std::fs::create_dir_all(root.join("jobs"))?;
    let mut registry = String::new();
    for unit in units {
        registry.push_str(&format!(
            "[[department]]\ncode = \"{}\"\nname = \"Đơn vị {}\"\nlevel = \"{}\"\n\n",
            unit.code, unit.code, unit.level
        ));
    }
    std::fs::write(config_dir.join("departments.toml"), registry)?;
    std::fs::write(
        config_dir.join("nhanluc.toml"),
        "[paths]\ninbox = \"../inbox\"\narchive = \"../data/archive\"\nquarantine = \"../data/quarantine\"\n\
         warehouse = \"../data/warehouse\"\noutbox = \"../data/outbox\"\nstate = \"../data/state.sqlite3\"\n\
         departments = \"departments.toml\"\njobs = \"../jobs\"\n",
    )?;
    Ok(Config::load(&config_dir.join("nhanluc.toml"))?)
}

/// A line of /proc/self/status in MiB ("VmHWM", "VmRSS").
fn status_mib(key: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Resets VmHWM to the current resident size (Linux ≥ 4.0).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn main() -> BoxResult<()> {
    let quick = std::env::args().any(|a| a == "--quick");
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this file
    // too, in a debug build, where a smoke-sized run checks it still works.
    let benching = std::env::args().any(|a| a == "--bench");
    let (staff_total, training_total) = match (benching, quick) {
        (false, _) => (2_000, 3_000),
        (true, true) => (200_000, 300_000),
        (true, false) => (2_000_000, 3_000_000),
    };
    let temp = tempfile::tempdir()?;
    let root = std::env::var_os("NHANLUC_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| temp.path().to_path_buf());
    let mut rng = Rng::new(7);
    let units = units(&mut rng, staff_total, training_total);
    let config = write_config(&root, &units)?;

    let started = Instant::now();
    let bytes = generate(&config, &units)?;
    println!(
        "generated {} departments, {staff_total} staff rows, {training_total} training rows: {:.1} MiB of Parquet in {:.1} s",
        units.len(),
        bytes as f64 / 1048576.0,
        started.elapsed().as_secs_f64()
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    for run in 1..=2 {
        reset_peak();
        let before = status_mib("VmRSS:").unwrap_or(0.0);
        let started = Instant::now();
        let outcome = runtime.block_on(nhanluc::indicators::compute(&config, None))?;
        let seconds = started.elapsed().as_secs_f64();
        let rows: usize = outcome.periods.values().map(Vec::len).sum();
        println!(
            "indicators::compute run {run}: {seconds:.2} s wall, peak RSS {:.0} MiB (VmHWM; {:.0} MiB resident before), {rows} indicator rows, {} failure(s)",
            status_mib("VmHWM:").unwrap_or(f64::NAN),
            before,
            outcome.failures.len()
        );
        for failure in &outcome.failures {
            println!("  failed: {}: {}", failure.file, failure.message);
        }
    }

    // Each file on its own, for profiling.
    let ctx = runtime.block_on(nhanluc::indicators::session(&config))?;
    for definition in nhanluc::indicators::definitions(&config.paths.indicators)? {
        let started = Instant::now();
        let rows: usize = runtime.block_on(async {
            let batches = ctx.sql(&definition.sql).await?.collect().await?;
            Ok::<usize, datafusion::error::DataFusionError>(
                batches.iter().map(|b| b.num_rows()).sum(),
            )
        })?;
        println!(
            "  {:<36} {:>6.2} s {rows:>6} rows",
            definition.file,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
