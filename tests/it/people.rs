//! Who of the leaders and of the planned cadres were trained, and how much
//! training fits the post: the roster's derived `leadership` / `post_group`
//! (Chức vụ through `config/posts.toml`) and `in_planning` (Quy hoạch), the
//! indicators over them, and digital coverage counting a course reported by
//! another department for the attendee's. Every figure is worked out by hand
//! from the province below, read back from the warehouse Parquet with
//! DuckDB, and the same SQL files are run in DuckDB over the same Parquet.
//!
//! Two departments, both province level, period 2025:
//!
//! SNV (Sở Nội vụ), roster of 10 with a "Quy hoạch" column:
//!
//! | id  | Chức vụ                               | leadership / group | Quy hoạch                |
//! |-----|---------------------------------------|--------------------|--------------------------|
//! | N01 | Giám đốc                              | leader / leader    |                          |
//! | N02 | Phó Giám đốc Sở                       | leader / leader    |                          |
//! | N03 | Trưởng phòng Tổ chức                  | manager / manager  | x                        |
//! | N04 | Phó Trưởng phòng Cải cách hành chính  | manager / manager  | Quy hoạch Trưởng phòng   |
//! | N05 | Chuyên viên                           | staff / specialist | Có                       |
//! | N06 | Chuyên viên                           | staff / specialist |                          |
//! | N07 | Chuyên viên chính (Lê Thị Bảy, 01/02/1980) | staff / specialist |                     |
//! | N08 | Kế toán                               | staff / accountant |                          |
//! | N09 | Thợ điện (not in the table)           | null / null        |                          |
//! | N10 | Chuyên viên công nghệ thông tin       | staff / it         |                          |
//!
//! STTTT (Sở Thông tin và Truyền thông), roster of 5, no "Quy hoạch" column:
//! T01 Giám đốc (leader), T02 Phó Giám đốc (leader), T03 Trưởng phòng
//! (manager), T04 Chuyên viên (specialist), T05 Quản trị viên hệ thống (not
//! in the table).
//!
//! Training reported by STTTT: a digital course for N01, N03, N05, N06, N08,
//! "Lê Thị Bảy" born 01/02/1980 without an id (N07 by name and birth date),
//! T01, T04, X99 (an id on no roster) and "Khách mời" (no id, no birth date).
//! Reported by SNV: N01 digital again, N02 state management, N10 foreign
//! language, N09 professional, T03 leadership (STTTT's manager). Also an
//! SNV plan and an STTTT recruitment report, so DuckDB has every table.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::LazyLock;

use crate::support::{self, Project, duckdb, save};
use nhanluc_fixtures::{self as fixtures, Cell, Department, PlanRow, StaffRow, TrainingRow};

const SNV: Department = Department {
    code: "SNV",
    name: "Sở Nội vụ",
    level: "province",
};
const STTTT: Department = Department {
    code: "STTTT",
    name: "Sở Thông tin và Truyền thông",
    level: "province",
};

fn person(id: &str, name: &str, birth: Cell, position: &str) -> StaffRow {
    StaffRow {
        person_id: id.to_string(),
        full_name: name.to_string(),
        birth_date: birth,
        gender: String::new(),
        unit: String::new(),
        position: position.to_string(),
        qualification: "Đại học".to_string(),
        political_theory: String::new(),
        state_management: String::new(),
        digital_role: String::new(),
        infosec_role: String::new(),
    }
}

/// A training row: `id` empty for a person without one.
fn attends(id: &str, name: &str, birth: Cell, category: &str) -> TrainingRow {
    TrainingRow {
        person_id: id.to_string(),
        full_name: name.to_string(),
        birth_date: birth,
        course: format!("Lớp bồi dưỡng {category}"),
        category: category.to_string(),
        mode: "Tập trung".to_string(),
        location: "Trong nước".to_string(),
        start_date: Cell::Blank,
        end_date: Cell::Blank,
        lessons: Cell::int(16),
        result: "Đạt".to_string(),
        certified: String::new(),
        cost_vnd: Cell::Blank,
    }
}

fn write_inbox(inbox: &Path) {
    let snv = [
        ("N01", "Giám đốc", ""),
        ("N02", "Phó Giám đốc Sở", ""),
        ("N03", "Trưởng phòng Tổ chức", "x"),
        (
            "N04",
            "Phó Trưởng phòng Cải cách hành chính",
            "Quy hoạch Trưởng phòng",
        ),
        ("N05", "Chuyên viên", "Có"),
        ("N06", "Chuyên viên", ""),
        ("N07", "Chuyên viên chính", ""),
        ("N08", "Kế toán", ""),
        ("N09", "Thợ điện", ""),
        ("N10", "Chuyên viên công nghệ thông tin", ""),
    ];
    let rows: Vec<StaffRow> = snv
        .iter()
        .map(|(id, position, _)| {
            if *id == "N07" {
                person(id, "Lê Thị Bảy", Cell::text("01/02/1980"), position)
            } else {
                person(id, &format!("Người {id}"), Cell::Blank, position)
            }
        })
        .collect();
    let mut form = fixtures::staff_form(&SNV, 2025, &rows);
    form.headers.push("Quy hoạch".to_string());
    for (row, (_, _, planning)) in form.rows.iter_mut().zip(snv) {
        row.push(if planning.is_empty() {
            Cell::Blank
        } else {
            Cell::text(planning)
        });
    }
    save(&form, &inbox.join("SNV/danh-sach_2025.xlsx"));

    let sttt: Vec<StaffRow> = [
        ("T01", "Giám đốc"),
        ("T02", "Phó Giám đốc"),
        ("T03", "Trưởng phòng"),
        ("T04", "Chuyên viên"),
        ("T05", "Quản trị viên hệ thống"),
    ]
    .iter()
    .map(|(id, position)| person(id, &format!("Người {id}"), Cell::Blank, position))
    .collect();
    save(
        &fixtures::staff_form(&STTTT, 2025, &sttt),
        &inbox.join("STTTT/danh-sach_2025.xlsx"),
    );

    let by_id =
        |id: &str, category: &str| attends(id, &format!("Người {id}"), Cell::Blank, category);
    let digital = "Chuyển đổi số";
    let sttt_training = [
        by_id("N01", digital),
        by_id("N03", digital),
        by_id("N05", digital),
        by_id("N06", digital),
        by_id("N08", digital),
        attends("", "Lê Thị Bảy", Cell::text("01/02/1980"), digital),
        by_id("T01", digital),
        by_id("T04", digital),
        by_id("X99", digital),
        attends("", "Khách mời", Cell::Blank, digital),
    ];
    save(
        &fixtures::training_form(&STTTT, 2025, &sttt_training),
        &inbox.join("STTTT/dao-tao_2025.xlsx"),
    );
    let snv_training = [
        by_id("N01", "Tin học"),
        by_id("N02", "Quản lý nhà nước"),
        by_id("N10", "Ngoại ngữ"),
        by_id("N09", "Chuyên môn, nghiệp vụ"),
        by_id("T03", "Kỹ năng lãnh đạo, quản lý"),
    ];
    save(
        &fixtures::training_form(&SNV, 2025, &snv_training),
        &inbox.join("SNV/dao-tao_2025.xlsx"),
    );
    // A plan and a recruitment report, so every table the SQL files read has
    // a file for DuckDB to read.
    let plan = [PlanRow {
        category: "Chung".to_string(),
        target_participants: 20,
        budget_vnd: 0,
    }];
    save(
        &fixtures::plan_form(&SNV, 2025, &plan),
        &inbox.join("SNV/ke-hoach_2025.xlsx"),
    );
    save(
        &crate::indicators::recruitment_form(&STTTT, 2025, &[("Công nghệ thông tin", 2, 1, 0)]),
        &inbox.join("STTTT/tuyen-dung_2025.xlsx"),
    );
}

#[derive(Debug, Clone, PartialEq)]
struct Row {
    value: Option<f64>,
    numerator: Option<f64>,
    denominator: Option<f64>,
    unit: String,
}

struct Scenario {
    /// (scope, indicator) → row of 2025, as DuckDB reads the indicators Parquet.
    rows: BTreeMap<(String, String), Row>,
    /// person_id → (in_planning, leadership, post_group), from the staff Parquet.
    staff: BTreeMap<String, (String, String, String)>,
    /// DuckDB running the repository's SQL files over the same warehouse.
    duckdb_check: String,
}

fn number(text: &str) -> Option<f64> {
    (text != "None").then(|| text.parse().expect("a number"))
}

static SCENARIO: LazyLock<Scenario> = LazyLock::new(|| {
    let project = Project::new();
    support::write_registry(&project, &[SNV, STTTT]);
    let config = project.config_file();
    let toml = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, toml.replace("department:SYT", "province")).expect("config");
    write_inbox(&project.inbox());
    let out = project.run_ok(&["ingest"]);
    assert!(out.contains("0 quarantined"), "{out}");
    let rejects = project.files_under(&project.warehouse().join("rejects"), "parquet");
    assert!(rejects.is_empty(), "no row may be rejected: {rejects:?}");
    project.run_ok(&["indicators"]);
    let warehouse = project.warehouse();

    let mut rows = BTreeMap::new();
    let out = duckdb(&format!(
        "SELECT scope, indicator, value, numerator, denominator, unit
         FROM read_parquet('{}/indicators/*/*.parquet', hive_partitioning = true, hive_types = {{'period': VARCHAR}})
         WHERE period = '2025' ORDER BY ALL",
        warehouse.display()
    ));
    for line in out.lines() {
        let f: Vec<&str> = line.split('|').collect();
        assert_eq!(f.len(), 6, "{line}");
        rows.insert(
            (f[0].to_string(), f[1].to_string()),
            Row {
                value: number(f[2]),
                numerator: number(f[3]),
                denominator: number(f[4]),
                unit: f[5].to_string(),
            },
        );
    }
    let out = duckdb(&format!(
        "SELECT person_id, in_planning, leadership, post_group
         FROM read_parquet('{}/staff/*/*/*.parquet', hive_partitioning = true, hive_types = {{'period': VARCHAR, 'department': VARCHAR}})
         ORDER BY person_id",
        warehouse.display()
    ));
    let staff = out
        .lines()
        .map(|line| {
            let f: Vec<&str> = line.split('|').collect();
            assert_eq!(f.len(), 4, "{line}");
            (
                f[0].to_string(),
                (f[1].to_string(), f[2].to_string(), f[3].to_string()),
            )
        })
        .collect();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let duckdb_check =
        crate::indicators::duckdb_check(&warehouse, &[&repo.join("config/indicators")]);
    Scenario {
        rows,
        staff,
        duckdb_check,
    }
});

/// Asserts a percent row: numerator / denominator, value 100 × their ratio
/// (null for a zero denominator).
fn ratio(scope: &str, id: &str, numerator: f64, denominator: f64) {
    let row = SCENARIO
        .rows
        .get(&(scope.to_string(), id.to_string()))
        .unwrap_or_else(|| panic!("no row {id} {scope}"));
    let value = (denominator != 0.0).then(|| 100.0 * numerator / denominator);
    assert_eq!(row.unit, "percent", "{id} {scope}");
    assert_eq!(row.numerator, Some(numerator), "{id} {scope}: {row:?}");
    assert_eq!(row.denominator, Some(denominator), "{id} {scope}: {row:?}");
    match (row.value, value) {
        (Some(a), Some(b)) => assert!((a - b).abs() < 1e-9, "{id} {scope}: {a} != {b}"),
        (a, b) => assert_eq!(a, b, "{id} {scope}"),
    }
}

/// Asserts a count row.
fn count(scope: &str, id: &str, expected: f64) {
    let row = SCENARIO
        .rows
        .get(&(scope.to_string(), id.to_string()))
        .unwrap_or_else(|| panic!("no row {id} {scope}"));
    assert_eq!(row.unit, "count", "{id} {scope}");
    assert_eq!(row.value, Some(expected), "{id} {scope}: {row:?}");
}

#[test]
fn the_roster_derives_leadership_and_post_group_and_reads_planning() {
    let s = |p: &str, l: &str, g: &str| (p.to_string(), l.to_string(), g.to_string());
    let expected: BTreeMap<String, (String, String, String)> = [
        ("N01", s("False", "leader", "leader")),
        ("N02", s("False", "leader", "leader")),
        ("N03", s("True", "manager", "manager")),
        // The planned title written in the cell is yes.
        ("N04", s("True", "manager", "manager")),
        ("N05", s("True", "staff", "specialist")),
        ("N06", s("False", "staff", "specialist")),
        ("N07", s("False", "staff", "specialist")),
        ("N08", s("False", "staff", "accountant")),
        // Not in the post table: unknown, not staff.
        ("N09", s("False", "None", "None")),
        ("N10", s("False", "staff", "it")),
        // No "Quy hoạch" column at STTTT: unknown, never false.
        ("T01", s("None", "leader", "leader")),
        ("T02", s("None", "leader", "leader")),
        ("T03", s("None", "manager", "manager")),
        ("T04", s("None", "staff", "specialist")),
        ("T05", s("None", "None", "None")),
    ]
    .into_iter()
    .map(|(id, v)| (id.to_string(), v))
    .collect();
    assert_eq!(SCENARIO.staff, expected);
}

#[test]
fn a_digital_course_reported_by_another_department_counts_for_the_attendees() {
    let id = "training.digital_coverage_pct";
    // SNV: N01 (twice: once), N03, N05, N06, N08 by id and N07 by name and
    // birth date, all in STTTT's record: 6 of 10. Before, 1 (N01's own).
    ratio("department:SNV", id, 6.0, 10.0);
    // STTTT: T01, T04 of 5; X99 and "Khách mời" are on no roster.
    ratio("department:STTTT", id, 2.0, 5.0);
    // Each person once: 8 of 15.
    ratio("province", id, 8.0, 15.0);
    ratio("level:province", id, 8.0, 15.0);
}

#[test]
fn leaders_and_managers_trained_and_trained_in_digital() {
    let trained = "training.leaders_trained_pct";
    let digital = "training.leaders_digital_pct";
    // SNV: N01, N02 (leaders), N03, N04 (managers); trained N01 (digital),
    // N02 (state management), N03 (digital); N04 nothing.
    ratio("department:SNV", trained, 3.0, 4.0);
    ratio("department:SNV", digital, 2.0, 4.0);
    // STTTT: T01, T02, T03; T01 digital, T03 leadership in SNV's record.
    ratio("department:STTTT", trained, 2.0, 3.0);
    ratio("department:STTTT", digital, 1.0, 3.0);
    ratio("province", trained, 5.0, 7.0);
    ratio("province", digital, 3.0, 7.0);
}

#[test]
fn planned_cadres_trained_and_no_planning_column_is_no_denominator() {
    let id = "training.planned_cadres_trained_pct";
    // N03 (x), N04 (a planned title), N05 (Có); N03 and N05 trained.
    ratio("department:SNV", id, 2.0, 3.0);
    // STTTT's roster has no Quy hoạch column: nobody known to be planned.
    ratio("department:STTTT", id, 0.0, 0.0);
    ratio("province", id, 2.0, 3.0);
}

#[test]
fn posts_not_in_the_mapping_are_counted() {
    let id = "training.leaders.unknown_post";
    count("department:SNV", id, 1.0); // Thợ điện
    count("department:STTTT", id, 1.0); // Quản trị viên hệ thống
    count("province", id, 2.0);
}

#[test]
fn training_that_fits_the_post_with_attendees_not_on_the_roster() {
    let id = "training.fits_post_pct";
    // SNV's people (whoever reported): N01 digital ×2, N03, N05, N06, N08,
    // N07 digital, N02 state management: fit (8); N10 (it) foreign language
    // does not; N09 has no post group and is left out: 8 of 9.
    ratio("department:SNV", id, 8.0, 9.0);
    // STTTT's: T01, T04 digital, T03 leadership: 3 of 3.
    ratio("department:STTTT", id, 3.0, 3.0);
    ratio("province", id, 11.0, 12.0);
    // X99 and "Khách mời" match no roster: counted where reported, not guessed.
    count("department:STTTT", "training.fits_post.unmatched", 2.0);
    count("department:SNV", "training.fits_post.unmatched", 0.0);
    count("province", "training.fits_post.unmatched", 2.0);
    count("department:SNV", "training.fits_post.no_post_group", 1.0);
    count("department:STTTT", "training.fits_post.no_post_group", 0.0);
    count("province", "training.fits_post.no_post_group", 1.0);
}

#[test]
fn the_same_sql_gives_the_same_rows_in_duckdb() {
    assert!(
        SCENARIO.duckdb_check.starts_with("ok "),
        "DuckDB disagrees:\n{}",
        SCENARIO.duckdb_check
    );
}

#[test]
fn an_overlay_post_table_replaces_the_built_in_and_a_broken_one_is_named_by_check() {
    let project = Project::new();
    let posts = project.root().join("config/posts.toml");
    std::fs::write(
        &posts,
        "[posts]\n\"Thợ điện\" = { leadership = \"staff\", group = \"technician\" }\n",
    )
    .expect("posts");
    // A group with no fitting category: refused, naming both files' problem.
    let out = project.run(&["check"]);
    assert_eq!(out.status.code(), Some(2));
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("competencies.toml") && text.contains("technician"),
        "{text}"
    );
    std::fs::write(
        project.root().join("config/competencies.toml"),
        "technician = [\"professional\"]\n",
    )
    .expect("competencies");
    let out = project.run(&["check"]);
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        !text.contains("posts.toml") && !text.contains("competencies.toml"),
        "{text}"
    );
    std::fs::write(
        &posts,
        "[posts]\n\"Thợ điện\" = { leadership = \"boss\" }\n",
    )
    .expect("posts");
    let out = project.run(&["check"]);
    assert_eq!(out.status.code(), Some(2));
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("posts.toml"), "{text}");
}
