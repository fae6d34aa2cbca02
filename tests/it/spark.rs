//! The Spark job (`deploy/spark/indicators.py`) over warehouses nhanluc wrote,
//! in Spark's local mode: for one province it writes exactly nhanluc's rows,
//! an analyst's own SQL file included; over two provinces (Dien Bien and a
//! small one with the same department codes) the roll-up keeps each
//! province's rows and recomputes the country from the rows, checked against
//! figures counted by hand.
//!
//! Needs `spark-submit` (PyPI pyspark) and `java` on PATH, which
//! `scripts/test.sh` installs when missing. The tests are skipped only when
//! `NHANLUC_SPARK_UNAVAILABLE` says why (test.sh sets it when neither could be
//! installed); otherwise a missing Spark fails them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Project, duckdb, save, write_registry};
use nhanluc_fixtures::{Cell, Department, PlanRow, StaffRow, TrainingRow};

/// (period, province, scope, indicator) → (value, numerator, denominator, unit).
type Rows = BTreeMap<(String, String, String, String), Figure>;

#[derive(Debug, Clone, PartialEq)]
struct Figure {
    value: Option<f64>,
    numerator: Option<f64>,
    denominator: Option<f64>,
    unit: String,
}

fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// `spark-submit`, or None (the test is skipped, saying why) when
/// `NHANLUC_SPARK_UNAVAILABLE` is set.
fn spark_submit() -> Option<PathBuf> {
    if let Ok(reason) = std::env::var("NHANLUC_SPARK_UNAVAILABLE") {
        eprintln!("SKIPPED: the Spark job is not tested: {reason}");
        return None;
    }
    let (Some(submit), Some(_)) = (on_path("spark-submit"), on_path("java")) else {
        panic!(
            "spark-submit (pyspark) and java must be on PATH: scripts/test.sh installs them \
             (pip install -r .ci/requirements-spark.txt, apt-get install openjdk-17-jre-headless); \
             set NHANLUC_SPARK_UNAVAILABLE=<why> to skip this test"
        );
    };
    Some(submit)
}

/// Runs the job in `local[2]` with `args`, in `dir` (Spark leaves nothing in
/// the repository), asserts it succeeded, and returns what it printed.
fn run_job(submit: &Path, dir: &Path, args: &[String]) -> String {
    let job = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/spark/indicators.py");
    let out = Command::new(submit)
        .args(["--master", "local[2]", "--conf", "spark.ui.enabled=false"])
        .arg(job)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run spark-submit");
    // The driver's lines may come on either stream.
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "the Spark job failed ({:?}):\n{}",
        out.status.code(),
        log.lines()
            .filter(|l| !l.trim_start().starts_with("at "))
            .collect::<Vec<_>>()
            .join("\n")
    );
    log
}

/// The job's own lines of its log (Spark's are left out).
fn job_lines(log: &str) -> String {
    log.lines()
        .filter(|l| l.starts_with("indicators.py"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every indicator row under `root/indicators/`, read with DuckDB; the
/// province is "" where the files have no province column (or it is null).
fn read_rows(root: &Path) -> Rows {
    let glob = format!("{}/indicators/*/*.parquet", root.display());
    let columns = duckdb(&format!(
        "SELECT string_agg(DISTINCT name, ',') FROM parquet_schema('{glob}')"
    ));
    let province = if columns.split(',').any(|c| c == "province") {
        "COALESCE(province, '')"
    } else {
        "''"
    };
    let out = duckdb(&format!(
        "SELECT period, {province}, scope, indicator, value, numerator, denominator, unit
         FROM read_parquet('{glob}', hive_partitioning = true, hive_types = {{'period': VARCHAR}})"
    ));
    let number = |s: &str| if s == "None" { None } else { s.parse().ok() };
    out.lines()
        .map(|line| {
            let f: Vec<&str> = line.split('|').collect();
            assert_eq!(f.len(), 8, "{line}");
            (
                (f[0].into(), f[1].into(), f[2].into(), f[3].into()),
                Figure {
                    value: number(f[4]),
                    numerator: number(f[5]),
                    denominator: number(f[6]),
                    unit: f[7].into(),
                },
            )
        })
        .collect()
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(1.0),
        _ => false,
    }
}

/// Asserts the two sets of rows are the same rows with the same figures (to 1e-9).
fn assert_same_rows(nhanluc: &Rows, spark: &Rows, what: &str) {
    let left: BTreeSet<_> = nhanluc.keys().collect();
    let right: BTreeSet<_> = spark.keys().collect();
    let only_nhanluc: Vec<_> = left.difference(&right).take(10).collect();
    let only_spark: Vec<_> = right.difference(&left).take(10).collect();
    assert!(
        only_nhanluc.is_empty() && only_spark.is_empty(),
        "{what}: rows only nhanluc wrote: {only_nhanluc:?}; rows only Spark wrote: {only_spark:?}"
    );
    let differ: Vec<String> = nhanluc
        .iter()
        .filter(|(key, a)| {
            let b = &spark[*key];
            !(close(a.value, b.value)
                && close(a.numerator, b.numerator)
                && close(a.denominator, b.denominator)
                && a.unit == b.unit)
        })
        .take(10)
        .map(|(key, a)| format!("{key:?}: nhanluc {a:?}, Spark {:?}", spark[key]))
        .collect();
    assert!(differ.is_empty(), "{what}:\n{}", differ.join("\n"));
}

/// The catalogue folder both engines run: the built-in files plus one an
/// analyst wrote, which DataFusion and Spark run unchanged.
const ANALYST_FILE: &str = "analyst_lessons_per_attendance.sql";
const ANALYST_SQL: &str = "\
-- training.analyst.lessons_per_attendance: mean lessons of the attendances
-- that record them, and how many departments of the registry reported them.
WITH reported AS (
    SELECT t.period, t.scope, t.lessons, d.code
    FROM training_scoped t JOIN departments d ON d.code = t.department
    WHERE t.lessons IS NOT NULL
)
SELECT period, scope, 'training.analyst.lessons_per_attendance' AS indicator,
       CAST(SUM(lessons) AS DOUBLE) / COUNT(*) AS value,
       CAST(SUM(lessons) AS DOUBLE) AS numerator,
       CAST(COUNT(*) AS DOUBLE) AS denominator,
       'lessons' AS unit
FROM reported
GROUP BY period, scope
UNION ALL
SELECT period, scope, 'training.analyst.reporting_departments' AS indicator,
       CAST(COUNT(DISTINCT code) AS DOUBLE) AS value,
       CAST(NULL AS DOUBLE) AS numerator, CAST(NULL AS DOUBLE) AS denominator,
       'count' AS unit
FROM reported
GROUP BY period, scope
";

/// Writes the repository's indicator files and the analyst's into `dir`.
fn write_catalogue(dir: &Path) {
    std::fs::create_dir_all(dir).expect("catalogue folder");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/indicators");
    for entry in std::fs::read_dir(&repo).expect("config/indicators") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "sql" || e == "toml") {
            std::fs::copy(&path, dir.join(path.file_name().expect("name"))).expect("copy");
        }
    }
    std::fs::write(dir.join(ANALYST_FILE), ANALYST_SQL).expect("analyst file");
}

fn arg(path: &Path) -> String {
    path.display().to_string()
}

#[test]
fn spark_writes_nhanluc_s_rows_for_a_province_and_runs_an_analyst_s_own_file() {
    let Some(submit) = spark_submit() else { return };
    let project = Project::new();
    nhanluc_fixtures::write_province(&project.inbox()).expect("demo province");
    // The default indicators folder of the project's config: the folder both engines run.
    let catalogue = project.root().join("config/indicators");
    write_catalogue(&catalogue);
    project.run_ok(&["ingest"]);
    project.run_ok(&["indicators"]);
    let nhanluc = read_rows(&project.warehouse());
    let analyst = |rows: &Rows| {
        rows.keys()
            .filter(|k| k.3.starts_with("training.analyst."))
            .count()
    };
    assert!(analyst(&nhanluc) > 0, "nhanluc ran the analyst's file");

    let output = project.root().join("spark");
    let log = run_job(
        &submit,
        project.root(),
        &[
            "--warehouse".into(),
            arg(&project.warehouse()),
            "--sql".into(),
            arg(&catalogue),
            "--output".into(),
            arg(&output),
        ],
    );
    let spark = read_rows(&output);
    assert!(log.contains("; 0 failed"), "{}", job_lines(&log));
    assert_eq!(analyst(&spark), analyst(&nhanluc));
    assert!(
        nhanluc.keys().all(|k| k.1.is_empty()),
        "one warehouse: no province column"
    );
    assert_same_rows(&nhanluc, &spark, "one province");
    // The analyst's figure at the province, by hand from the same rows.
    let lessons = duckdb(&format!(
        "SELECT SUM(lessons), COUNT(lessons) FROM read_parquet('{}/training/*/*/*.parquet', hive_partitioning = true, hive_types = {{'period': VARCHAR, 'department': VARCHAR}}) WHERE period = '2025'",
        project.warehouse().display()
    ));
    let (sum, count) = lessons.split_once('|').expect("sum|count");
    let key = (
        "2025".to_string(),
        String::new(),
        "province".to_string(),
        "training.analyst.lessons_per_attendance".to_string(),
    );
    let figure = &spark[&key];
    assert_eq!(figure.numerator, sum.parse().ok(), "{figure:?}");
    assert_eq!(figure.denominator, count.parse().ok(), "{figure:?}");
}

const LC_SNV: Department = Department {
    code: "SNV",
    name: "Sở Nội vụ tỉnh Lai Châu",
    level: "province",
};
const LC_SYT: Department = Department {
    code: "SYT",
    name: "Sở Y tế tỉnh Lai Châu",
    level: "province",
};
const LC_HTG: Department = Department {
    code: "HTG",
    name: "Huyện Than Uyên",
    level: "district",
};
const LC_XTM: Department = Department {
    code: "XTM",
    name: "Xã Tà Mung",
    level: "commune",
};

fn staff(id: &str, qualification: &str) -> StaffRow {
    StaffRow {
        person_id: id.into(),
        full_name: format!("Công chức {id}"),
        birth_date: Cell::Blank,
        gender: String::new(),
        unit: String::new(),
        position: String::new(),
        qualification: qualification.into(),
        political_theory: String::new(),
        state_management: String::new(),
        digital_role: String::new(),
        infosec_role: String::new(),
    }
}

fn attendance(id: &str) -> TrainingRow {
    TrainingRow {
        person_id: id.into(),
        full_name: format!("Công chức {id}"),
        birth_date: Cell::Blank,
        course: "Bồi dưỡng kỹ năng số".into(),
        category: "Chuyển đổi số".into(),
        mode: "Trực tuyến".into(),
        location: String::new(),
        start_date: Cell::Blank,
        end_date: Cell::Blank,
        lessons: Cell::int(16),
        result: "Hoàn thành".into(),
        certified: String::new(),
        cost_vnd: Cell::Blank,
    }
}

/// Lai Chau, small enough to count by hand: SNV 4 staff (1 master's, 2
/// university, 1 college) and 3 attendances against a plan of 10; HTG 2
/// staff (1 university, 1 intermediate) and 1 attendance; SYT and XTM send
/// nothing. Its codes SNV and HTG are Dien Bien's too.
fn write_lai_chau(project: &Project) {
    write_registry(project, &[LC_SNV, LC_SYT, LC_HTG, LC_XTM]);
    let inbox = project.inbox();
    let snv = [
        staff("012000000001", "Thạc sĩ"),
        staff("012000000002", "Đại học"),
        staff("012000000003", "Đại học"),
        staff("012000000004", "Cao đẳng"),
    ];
    let htg = [
        staff("012000000101", "Đại học"),
        staff("012000000102", "Trung cấp"),
    ];
    save(
        &nhanluc_fixtures::staff_form(&LC_SNV, 2022, &snv),
        &inbox.join("SNV/danh-sach-can-bo_2022.xlsx"),
    );
    save(
        &nhanluc_fixtures::staff_form(&LC_HTG, 2022, &htg),
        &inbox.join("HTG/danh-sach-can-bo_2022.xlsx"),
    );
    save(
        &nhanluc_fixtures::training_form(
            &LC_SNV,
            2022,
            &[
                attendance("012000000001"),
                attendance("012000000002"),
                attendance("012000000003"),
            ],
        ),
        &inbox.join("SNV/ket-qua-dao-tao-boi-duong_2022.xlsx"),
    );
    save(
        &nhanluc_fixtures::training_form(&LC_HTG, 2022, &[attendance("012000000101")]),
        &inbox.join("HTG/ket-qua-dao-tao-boi-duong_2022.xlsx"),
    );
    save(
        &nhanluc_fixtures::plan_form(
            &LC_SNV,
            2022,
            &[PlanRow {
                category: "Chuyển đổi số".into(),
                target_participants: 10,
                budget_vnd: 15_000_000,
            }],
        ),
        &inbox.join("SNV/ke-hoach-dao-tao_2022.xlsx"),
    );
}

/// A province's rows as the roll-up names them: its `province` scope is
/// `province:<CODE>` and every row carries the province.
fn as_rolled_up(rows: &Rows, province: &str) -> Rows {
    rows.iter()
        .map(|((period, _, scope, indicator), figure)| {
            let scope = if scope == "province" {
                format!("province:{province}")
            } else {
                scope.clone()
            };
            (
                (
                    period.clone(),
                    province.to_string(),
                    scope,
                    indicator.clone(),
                ),
                figure.clone(),
            )
        })
        .collect()
}

#[test]
fn the_roll_up_keeps_each_province_and_recomputes_the_country_from_the_rows() {
    let Some(submit) = spark_submit() else { return };
    let dien_bien = Project::new();
    crate::dien_bien::write_province(&dien_bien);
    let lai_chau = Project::new();
    write_lai_chau(&lai_chau);
    for project in [&dien_bien, &lai_chau] {
        project.run_ok(&["ingest"]);
        project.run_ok(&["indicators"]);
    }
    let output = lai_chau.root().join("country");
    let log = run_job(
        &submit,
        lai_chau.root(),
        &[
            "--warehouse".into(),
            format!("DB={}", arg(&dien_bien.warehouse())),
            "--warehouse".into(),
            format!("LC={}", arg(&lai_chau.warehouse())),
            // The other way to read the tables (the one-province test reads them per query).
            "--cache-tables".into(),
            "--sql".into(),
            arg(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config/indicators")),
            "--output".into(),
            arg(&output),
        ],
    );
    assert!(log.contains("; 0 failed"), "{}", job_lines(&log));
    let rolled = read_rows(&output);

    // Each province's rows are nhanluc's own, under province:<CODE>.
    for (code, project) in [("DB", &dien_bien), ("LC", &lai_chau)] {
        let own: Rows = rolled
            .iter()
            .filter(|(k, _)| k.1 == code)
            .map(|(k, f)| (k.clone(), f.clone()))
            .collect();
        assert_same_rows(
            &as_rolled_up(&read_rows(&project.warehouse()), code),
            &own,
            code,
        );
    }
    // The country's rows carry no province and only the country scope.
    let country: BTreeMap<&str, &Figure> = rolled
        .iter()
        .filter(|(k, _)| k.0 == "2022" && k.1.is_empty())
        .map(|(k, f)| {
            assert_eq!(k.2, "country", "{k:?}");
            (k.3.as_str(), f)
        })
        .collect();
    assert!(
        rolled.keys().all(|k| k.2 != "province"),
        "no bare province scope"
    );

    let figure = |indicator: &str| -> (f64, Option<f64>, Option<f64>) {
        let f = country
            .get(indicator)
            .unwrap_or_else(|| panic!("no country row for {indicator}"));
        (f.value.expect("value"), f.numerator, f.denominator)
    };
    // By hand: Dien Bien 24,088 staff (postgraduate 1,266 + 358 + 5 = 1,629,
    // university 4,005 + 10,842 + 1,200 = 16,047), 26,236 attendances against
    // a plan of 24,635, 10 of 10 departments submitted; Lai Chau 6 staff
    // (postgraduate 1, university 3), 4 attendances against 10, 2 of 4.
    let staff = 24_088.0 + 6.0;
    assert_eq!(figure("staff.headcount").0, staff);
    let (value, numerator, denominator) = figure("staff.qualification.postgraduate_pct");
    assert_eq!((numerator, denominator), (Some(1_630.0), Some(staff)));
    assert!((value - 100.0 * 1_630.0 / staff).abs() < 1e-9, "{value}");
    let (value, numerator, denominator) = figure("staff.qualification.university_pct");
    assert_eq!((numerator, denominator), (Some(16_050.0), Some(staff)));
    assert!((value - 100.0 * 16_050.0 / staff).abs() < 1e-9, "{value}");
    assert_eq!(figure("training.participants").0, 26_240.0);
    let (value, numerator, denominator) = figure("training.plan_attainment_pct");
    assert_eq!((numerator, denominator), (Some(26_240.0), Some(24_645.0)));
    assert!(
        (value - 100.0 * 26_240.0 / 24_645.0).abs() < 1e-9,
        "{value}"
    );
    // Recomputed, not averaged: the two provinces' 106.50 % and 40 % average 73.25 %.
    let attainment = |province: &str| {
        rolled[&(
            "2022".to_string(),
            province.to_string(),
            format!("province:{province}"),
            "training.plan_attainment_pct".to_string(),
        )]
            .value
            .expect("attainment")
    };
    assert!((attainment("LC") - 40.0).abs() < 1e-9);
    assert!((attainment("DB") - 100.0 * 26_236.0 / 24_635.0).abs() < 1e-9);
    assert!((value - (attainment("DB") + attainment("LC")) / 2.0).abs() > 30.0);
    let (value, numerator, denominator) = figure("compliance.submission_rate_pct");
    assert_eq!(
        (numerator, denominator),
        (Some(12.0), Some(14.0)),
        "{value}"
    );

    // Within a province, its own levels and departments: the two SNVs stay apart.
    let headcount = |province: &str, scope: &str| {
        rolled[&(
            "2022".to_string(),
            province.to_string(),
            scope.to_string(),
            "staff.headcount".to_string(),
        )]
            .value
    };
    assert_eq!(headcount("LC", "department:SNV"), Some(4.0));
    assert_eq!(headcount("DB", "department:SNV"), Some(1_000.0));
    assert_eq!(headcount("LC", "level:district"), Some(2.0));
    assert_eq!(headcount("LC", "province:LC"), Some(6.0));
}
