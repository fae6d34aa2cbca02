//! The indicator catalogue on a small hand-made province whose every figure
//! is worked out by hand below: one test per indicator id, the edge cases
//! (zero denominators, a department with no roster, a period with a plan but
//! no training, people with no person_id), an analyst's own `.sql` file, and
//! the same SQL run by DuckDB over the same Parquet.
//!
//! The province (registry written by the test, not the repository's):
//!
//! | code | level    | 2024                                        | 2025        |
//! |------|----------|---------------------------------------------|-------------|
//! | P1   | province | roster 10, training 8, plan by category 20, | plan "Chung" 30, |
//! |      |          | recruitment                                 | nothing else |
//! | P2   | province | roster 5, training 4 (a corrected file      |             |
//! |      |          | superseding a first one), plan "Chung" 8 + a |             |
//! |      |          | "digital" line 3                            |             |
//! | D1   | district | roster 6 (one row at commune level), training 3 |         |
//! | D2   | district | training 2, no roster                       |             |
//! | C1   | commune  | roster 4, training 2, recruitment (no IT)   |             |
//! | C2   | commune  | nothing                                     |             |

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::LazyLock;

use crate::support::{self, Project, duckdb, save};
use nhanluc_fixtures::{
    self as fixtures, Cell, Department, Form, PlanRow, StaffRow, TrainingRow, Ymd,
};

const P1: Department = Department {
    code: "P1",
    name: "Sở Alpha",
    level: "province",
};
const P2: Department = Department {
    code: "P2",
    name: "Sở Beta",
    level: "province",
};
const D1: Department = Department {
    code: "D1",
    name: "Huyện Gamma",
    level: "district",
};
const D2: Department = Department {
    code: "D2",
    name: "Huyện Delta",
    level: "district",
};
const C1: Department = Department {
    code: "C1",
    name: "Xã Epsilon",
    level: "commune",
};
const C2: Department = Department {
    code: "C2",
    name: "Xã Zeta",
    level: "commune",
};
const REGISTRY: &[Department] = &[P1, P2, D1, D2, C1, C2];

/// Writes `config/departments.toml` of a test project with these departments.
fn write_registry(project: &Project, departments: &[Department]) {
    support::write_registry(project, departments);
    // The test project's recipients name SYT, which this registry lacks.
    let config = project.config_file();
    let toml = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, toml.replace("department:SYT", "province")).expect("config");
}

/// A roster row: id, qualification, political theory, digital role, infosec role.
pub(crate) fn staff(
    id: &str,
    qualification: &str,
    theory: &str,
    digital: &str,
    infosec: &str,
) -> StaffRow {
    StaffRow {
        person_id: id.to_string(),
        full_name: format!("Người {id}"),
        birth_date: Cell::Blank,
        gender: String::new(),
        unit: String::new(),
        position: "Chuyên viên".to_string(),
        qualification: qualification.to_string(),
        political_theory: theory.to_string(),
        state_management: String::new(),
        digital_role: digital.to_string(),
        infosec_role: infosec.to_string(),
    }
}

/// A training row. `who` is a person id, or "name|dd/mm/yyyy" (birth date
/// optional) for a person without one; `lessons` and `cost` of -1 are blank.
fn course(
    who: &str,
    category: &str,
    mode: &str,
    lessons: i64,
    result: &str,
    cost: i64,
) -> TrainingRow {
    let (person_id, full_name, birth_date) = match who.split_once('|') {
        Some((name, birth)) => (
            String::new(),
            name.to_string(),
            if birth.is_empty() {
                Cell::Blank
            } else {
                Cell::text(birth)
            },
        ),
        None => (who.to_string(), format!("Người {who}"), Cell::Blank),
    };
    let number = |n: i64| if n < 0 { Cell::Blank } else { Cell::int(n) };
    TrainingRow {
        person_id,
        full_name,
        birth_date,
        course: format!("Lớp bồi dưỡng {category}"),
        category: category.to_string(),
        mode: mode.to_string(),
        location: "Trong nước".to_string(),
        start_date: Cell::Blank,
        end_date: Cell::Blank,
        lessons: number(lessons),
        result: result.to_string(),
        certified: String::new(),
        cost_vnd: number(cost),
    }
}

fn plan(lines: &[(&str, i64)]) -> Vec<PlanRow> {
    lines
        .iter()
        .map(|(category, target)| PlanRow {
            category: category.to_string(),
            target_participants: *target,
            budget_vnd: target * 1_000_000,
        })
        .collect()
}

/// An IT recruitment form (no fixture builder exists for it): field, target,
/// recruited, resigned.
pub(crate) fn recruitment_form(
    department: &Department,
    year: u16,
    lines: &[(&str, i64, i64, i64)],
) -> Form {
    Form {
        sheet_name: "Tuyen dung".to_string(),
        agency: department.name.to_string(),
        title: "BÁO CÁO TUYỂN DỤNG CÔNG CHỨC, VIÊN CHỨC".to_string(),
        period_line: format!("NĂM {year}"),
        headers: ["STT", "Lĩnh vực", "Chỉ tiêu", "Đã tuyển", "Thôi việc"]
            .iter()
            .map(|h| h.to_string())
            .collect(),
        number_row: false,
        rows: lines
            .iter()
            .enumerate()
            .map(|(i, (field, target, recruited, resigned))| {
                vec![
                    Cell::int(i as i64 + 1),
                    Cell::text(*field),
                    Cell::int(*target),
                    Cell::int(*recruited),
                    Cell::int(*resigned),
                ]
            })
            .collect(),
        signed_on: Ymd::new(year + 1, 1, 15),
    }
}

/// An analyst's own indicator, dropped into `config/indicators/`.
const ANALYST_SQL: &str = "-- training.certified: rows with a certificate (an analyst's addition).
SELECT period, scope, 'training.certified' AS indicator,
       CAST(SUM(CASE WHEN certified THEN 1 ELSE 0 END) AS DOUBLE) AS value,
       CAST(NULL AS DOUBLE) AS numerator, CAST(NULL AS DOUBLE) AS denominator,
       'count' AS unit
FROM training_scoped
GROUP BY period, scope
";

fn write_2024(inbox: &Path) {
    // P1: 10 people. Qualification: doctorate 1, master 2, university 4,
    // college 1, intermediate 1, blank 1. Theory: advanced 2 (Cao cấp,
    // Cử nhân), intermediate 3. Digital: dedicated 1, part-time 2. Infosec 2.
    let p1 = [
        staff(
            "P1-01",
            "Tiến sĩ",
            "Cao cấp",
            "Chuyên trách",
            "Chuyên trách",
        ),
        staff("P1-02", "Thạc sĩ", "Cử nhân", "Kiêm nhiệm", ""),
        staff("P1-03", "Thạc sĩ", "Trung cấp", "Kiêm nhiệm", "Kiêm nhiệm"),
        staff("P1-04", "Đại học", "Trung cấp", "", ""),
        staff("P1-05", "Đại học", "Trung cấp", "", ""),
        staff("P1-06", "Đại học", "Sơ cấp", "", ""),
        staff("P1-07", "Đại học", "", "", ""),
        staff("P1-08", "Cao đẳng", "", "", ""),
        staff("P1-09", "Trung cấp", "", "", ""),
        staff("P1-10", "", "", "", ""),
    ];
    save(
        &fixtures::staff_form(&P1, 2024, &p1),
        &inbox.join("P1/danh-sach_2024.xlsx"),
    );
    // P2: 5 people, no dedicated digital officer.
    let p2 = [
        staff("P2-01", "Đại học", "Trung cấp", "", ""),
        staff("P2-02", "Đại học", "", "Kiêm nhiệm", ""),
        staff("P2-03", "Sơ cấp", "", "", ""),
        staff("P2-04", "Trung cấp", "", "", ""),
        staff("P2-05", "Thạc sĩ", "Cao cấp", "", "Chuyên trách"),
    ];
    save(
        &fixtures::staff_form(&P2, 2024, &p2),
        &inbox.join("P2/danh-sach_2024.xlsx"),
    );
    // D1: 6 people with a "Cấp" column: D1-06 works at commune level.
    let d1 = [
        staff("D1-01", "Thạc sĩ", "Cao cấp", "Chuyên trách", ""),
        staff("D1-02", "Đại học", "Trung cấp", "", ""),
        staff("D1-03", "Đại học", "Trung cấp", "", ""),
        staff("D1-04", "Cao đẳng", "Sơ cấp", "", ""),
        staff("D1-05", "Đại học", "", "", ""),
        staff(
            "D1-06",
            "Trung cấp",
            "Trung cấp",
            "Kiêm nhiệm",
            "Kiêm nhiệm",
        ),
    ];
    let mut form = fixtures::staff_form(&D1, 2024, &d1);
    form.headers.push("Cấp".to_string());
    for (i, row) in form.rows.iter_mut().enumerate() {
        row.push(if i == 5 {
            Cell::text("Xã")
        } else {
            Cell::Blank
        });
    }
    save(&form, &inbox.join("D1/danh-sach_2024.xlsx"));
    // C1: 4 people.
    let c1 = [
        staff("C1-01", "Đại học", "Trung cấp", "", ""),
        staff("C1-02", "Trung cấp", "Sơ cấp", "", ""),
        staff("C1-03", "Trung cấp", "", "", ""),
        staff("C1-04", "Chưa qua đào tạo", "", "", "Kiêm nhiệm"),
    ];
    save(
        &fixtures::staff_form(&C1, 2024, &c1),
        &inbox.join("C1/danh-sach_2024.xlsx"),
    );

    // P1 training: 8 rows, 6 people (P1-01 twice; Lò Văn An born 1990 twice
    // without an id; another Lò Văn An born 1992; P9-99, not on the roster).
    let mut p1_training = vec![
        course("P1-01", "Chuyển đổi số", "Trực tuyến", 40, "Đạt", 1_000_000),
        course(
            "P1-01",
            "Lý luận chính trị",
            "Tập trung",
            200,
            "Đạt",
            5_000_000,
        ),
        course("P1-02", "Tin học", "Kết hợp", 24, "Không đạt", 500_000),
        course(
            "P1-04",
            "Quản lý nhà nước",
            "Tập trung",
            80,
            "Đạt",
            50_000_000,
        ),
        course(
            "Lò Văn An|01/01/1990",
            "Ngoại ngữ",
            "Trực tuyến",
            -1,
            "Đang học",
            -1,
        ),
        course(
            "Lò Văn An|01/01/1990",
            "Tin học",
            "Trực tuyến",
            16,
            "Đạt",
            0,
        ),
        course(
            "Lò Văn An|02/02/1992",
            "Chuyên môn, nghiệp vụ",
            "Tập trung",
            40,
            "Hoàn thành",
            2_000_000,
        ),
        course(
            "P9-99",
            "Kỹ năng lãnh đạo, quản lý",
            "Tập trung",
            40,
            "Không đạt",
            3_000_000,
        ),
    ];
    p1_training[3].location = "Nước ngoài".to_string();
    p1_training[0].certified = "x".to_string();
    p1_training[3].certified = "x".to_string();
    save(
        &fixtures::training_form(&P1, 2024, &p1_training),
        &inbox.join("P1/dao-tao_2024.xlsx"),
    );
    // D1 training: D1-06 (commune-level staff) takes a digital course too.
    let d1_training = [
        course("D1-01", "Chuyển đổi số", "Trực tuyến", 16, "Đạt", 500_000),
        course("D1-06", "Chuyển đổi số", "Trực tuyến", 16, "Đạt", 500_000),
        course("D1-02", "Khác", "Tập trung", 24, "", -1),
    ];
    save(
        &fixtures::training_form(&D1, 2024, &d1_training),
        &inbox.join("D1/dao-tao_2024.xlsx"),
    );
    // D2: training without a roster; one person without id or birth date, twice,
    // both still in progress.
    let d2_training = [
        course(
            "Quàng Thị Bích|",
            "Quản lý nhà nước",
            "Trực tuyến",
            8,
            "Đang học",
            0,
        ),
        course("Quàng Thị Bích|", "Tin học", "Trực tuyến", 8, "Đang học", 0),
    ];
    save(
        &fixtures::training_form(&D2, 2024, &d2_training),
        &inbox.join("D2/dao-tao_2024.xlsx"),
    );
    let c1_training = [
        course(
            "C1-01",
            "Lý luận chính trị",
            "Tập trung",
            40,
            "Đạt",
            1_000_000,
        ),
        course(
            "C1-02",
            "Lý luận chính trị",
            "Tập trung",
            40,
            "Không đạt",
            1_000_000,
        ),
    ];
    save(
        &fixtures::training_form(&C1, 2024, &c1_training),
        &inbox.join("C1/dao-tao_2024.xlsx"),
    );

    // Plans: P1 by category (20 in all), P2 an overall line of 8 and a
    // digital line of 3 (the overall line is the target).
    save(
        &fixtures::plan_form(
            &P1,
            2024,
            &plan(&[("Chuyển đổi số", 10), ("Lý luận chính trị", 5), ("Khác", 5)]),
        ),
        &inbox.join("P1/ke-hoach_2024.xlsx"),
    );
    save(
        &fixtures::plan_form(&P2, 2024, &plan(&[("Chung", 8), ("Chuyển đổi số", 3)])),
        &inbox.join("P2/ke-hoach_2024.xlsx"),
    );

    // Recruitment: P1 has two IT lines (5 posts, 3 filled, 1 resigned) and
    // another field; C1 has no IT line at all.
    save(
        &recruitment_form(
            &P1,
            2024,
            &[
                ("Công nghệ thông tin", 4, 3, 1),
                ("An toàn thông tin", 1, 0, 0),
                ("Khác", 10, 10, 2),
            ],
        ),
        &inbox.join("P1/tuyen-dung_2024.xlsx"),
    );
    save(
        &recruitment_form(&C1, 2024, &[("Khác", 2, 1, 0)]),
        &inbox.join("C1/tuyen-dung_2024.xlsx"),
    );

    // P2's first training file, superseded by the corrected one in the
    // second run: none of these rows may count.
    let first = [
        course("P2-01", "Chuyển đổi số", "Trực tuyến", 8, "Đạt", 0),
        course("P2-03", "Ngoại ngữ", "Trực tuyến", 8, "Đạt", 9_000_000),
        course("P2-04", "Ngoại ngữ", "Trực tuyến", 8, "Đạt", 9_000_000),
    ];
    save(
        &fixtures::training_form(&P2, 2024, &first),
        &inbox.join("P2/dao-tao_2024.xlsx"),
    );
}

/// P2's corrected training record: P1-03 (another department's staff) takes a
/// digital course here, P1-01 a defence course.
fn write_2024_correction(inbox: &Path) {
    let p2_training = [
        course("P2-01", "Chuyển đổi số", "Trực tuyến", 8, "Đạt", 0),
        course(
            "P1-03",
            "Công nghệ thông tin",
            "Trực tuyến",
            40,
            "Đạt",
            1_000_000,
        ),
        course("P2-02", "Tiếng dân tộc", "Tập trung", 60, "Đạt", 2_000_000),
        course(
            "P1-01",
            "Quốc phòng và an ninh",
            "Tập trung",
            40,
            "Đạt",
            1_000_000,
        ),
    ];
    save(
        &fixtures::training_form(&P2, 2024, &p2_training),
        &inbox.join("P2/dao-tao-sua-lai_2024.xlsx"),
    );
}

fn write_2025(inbox: &Path) {
    // A plan and nothing else: no training yet.
    save(
        &fixtures::plan_form(&P1, 2025, &plan(&[("Chung", 30)])),
        &inbox.join("P1/ke-hoach_2025.xlsx"),
    );
}

/// One indicator row as DuckDB reads it back from the indicators Parquet.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub(crate) value: Option<f64>,
    pub(crate) numerator: Option<f64>,
    pub(crate) denominator: Option<f64>,
    pub(crate) unit: String,
}

struct Scenario {
    /// (period, scope, indicator) → row, as DuckDB reads the indicators Parquet.
    rows: BTreeMap<(String, String, String), Row>,
    /// What `nhanluc indicators` printed.
    printed: String,
    /// DuckDB running the same SQL files over the same warehouse: "ok <rows>" or the differences.
    duckdb_check: String,
}

fn parse_number(text: &str) -> Option<f64> {
    (text != "None").then(|| text.parse().expect("a number"))
}

/// Every indicator row of the warehouse, by (period, scope, indicator).
pub(crate) fn read_indicators(warehouse: &Path) -> BTreeMap<(String, String, String), Row> {
    let out = duckdb(&format!(
        "SELECT period, scope, indicator, value, numerator, denominator, unit
         FROM read_parquet('{}/indicators/*/*.parquet', hive_partitioning = true, hive_types = {{'period': VARCHAR}})
         ORDER BY ALL",
        warehouse.display()
    ));
    let mut rows = BTreeMap::new();
    for line in out.lines() {
        let f: Vec<&str> = line.split('|').collect();
        assert_eq!(f.len(), 7, "{line}");
        let key = (f[0].to_string(), f[1].to_string(), f[2].to_string());
        let row = Row {
            value: parse_number(f[3]),
            numerator: parse_number(f[4]),
            denominator: parse_number(f[5]),
            unit: f[6].to_string(),
        };
        assert!(
            rows.insert(key.clone(), row).is_none(),
            "duplicate row {key:?}"
        );
    }
    rows
}

/// Runs every `.sql` file of `sql_dirs` in DuckDB over the warehouse, with
/// everything defined from the warehouse alone as docs/indicators.md says (the
/// registry, the competency table, empty tables from `_schemas/`, and the
/// scopes from `_schemas/scopes.sql`, the text nhanluc runs), and compares
/// the rows with the indicators Parquet.
const DUCKDB_CHECK: &str = r#"
import sys, glob, os, math, duckdb
warehouse = sys.argv[1]
con = duckdb.connect()
for t in ['departments', 'competencies']:
    con.execute(f"CREATE TABLE {t} AS SELECT * FROM read_parquet('{warehouse}/{t}/part-0.parquet')")
tables = sorted(os.path.basename(f)[:-len('.parquet')] for f in glob.glob(f'{warehouse}/_schemas/*.parquet'))
tables = [t for t in tables if t not in ('indicators', 'departments', 'competencies')]
found = set()
for t in tables:
    parts = glob.glob(f'{warehouse}/{t}/*/*/*.parquet')
    if parts:
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{warehouse}/{t}/*/*/*.parquet', hive_partitioning = true, hive_types = {{'period': VARCHAR, 'department': VARCHAR}}, union_by_name = true)")
        found |= {p.split('department=')[1].split('/')[0] for p in parts}
    else:
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{warehouse}/_schemas/{t}.parquet')")
con.execute("CREATE TABLE department_codes AS SELECT code, level FROM departments")
registered = {r[0] for r in con.execute("SELECT code FROM departments").fetchall()}
for code in sorted(found - registered):
    con.execute("INSERT INTO department_codes VALUES (?, NULL)", [code])
sections, current = {}, None
for line in open(f'{warehouse}/_schemas/scopes.sql', encoding='utf-8').read().splitlines():
    if line.startswith('-- view:'):
        current = line[len('-- view:'):].strip()
        sections[current] = ''
    elif current:
        sections[current] += line + '\n'
con.execute(f"CREATE TABLE department_scopes AS {sections['department_scopes']}")
for t in tables:
    view = sections.get(f'{t}_scoped') or sections['{table}_scoped'].replace('{table}', t)
    con.execute(f"CREATE VIEW {t}_scoped AS {view}")
ours = {}
for r in con.execute(f"SELECT period, scope, indicator, value, numerator, denominator, unit FROM read_parquet('{warehouse}/indicators/*/*.parquet', hive_partitioning = true, hive_types = {{'period': VARCHAR}})").fetchall():
    ours[r[:3]] = r[3:]
theirs = {}
problems = []
files = {}
for d in sys.argv[2:]:
    for f in sorted(glob.glob(os.path.join(d, '*.sql'))):
        files[os.path.basename(f)] = f
for name, f in sorted(files.items()):
    try:
        for r in con.execute(open(f, encoding='utf-8').read()).fetchall():
            theirs[tuple(r[:3])] = tuple(r[3:])
    except Exception as e:
        problems.append(f"{name}: {e}")
def same(a, b):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)
for k in sorted(set(ours) | set(theirs)):
    a, b = ours.get(k), theirs.get(k)
    if a is None or b is None or not all(same(x, y) for x, y in zip(a, b)):
        problems.append(f"{k}: nhanluc {a} duckdb {b}")
print("\n".join(problems) if problems else f"ok {len(ours)}")
"#;

pub(crate) fn duckdb_check(warehouse: &Path, sql_dirs: &[&Path]) -> String {
    let mut args = vec![warehouse];
    args.extend_from_slice(sql_dirs);
    support::python(DUCKDB_CHECK, &args)
}

static SCENARIO: LazyLock<Scenario> = LazyLock::new(|| {
    let project = Project::new();
    write_registry(&project, REGISTRY);
    let analyst = project.root().join("config/indicators");
    std::fs::create_dir_all(&analyst).expect("dir");
    std::fs::write(analyst.join("training_certified.sql"), ANALYST_SQL).expect("sql");

    write_2024(&project.inbox());
    let out = project.run_ok(&["ingest"]);
    assert!(out.contains("0 quarantined"), "{out}");
    write_2024_correction(&project.inbox());
    write_2025(&project.inbox());
    let out = project.run_ok(&["ingest"]);
    assert!(out.contains("0 quarantined"), "{out}");
    let rejects = project.files_under(&project.warehouse().join("rejects"), "parquet");
    assert!(rejects.is_empty(), "no row may be rejected: {rejects:?}");

    let printed = project.run_ok(&["indicators"]);
    let rows = read_indicators(&project.warehouse());
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let duckdb_check = duckdb_check(
        &project.warehouse(),
        &[&repo.join("config/indicators"), &analyst],
    );
    Scenario {
        rows,
        printed,
        duckdb_check,
    }
});

fn row(period: &str, scope: &str, indicator: &str) -> Option<&'static Row> {
    SCENARIO
        .rows
        .get(&(period.to_string(), scope.to_string(), indicator.to_string()))
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() < 1e-9,
        (None, None) => true,
        _ => false,
    }
}

/// Asserts the value of `indicator` for each (scope, expected value) in 2024.
#[track_caller]
fn values(indicator: &str, unit: &str, expected: &[(&str, Option<f64>)]) {
    values_in("2024", indicator, unit, expected);
}

#[track_caller]
fn values_in(period: &str, indicator: &str, unit: &str, expected: &[(&str, Option<f64>)]) {
    for (scope, value) in expected {
        let found = row(period, scope, indicator)
            .unwrap_or_else(|| panic!("no {indicator} for {scope} in {period}"));
        assert!(
            close(found.value, *value),
            "{indicator} {scope} {period}: {:?}, expected {value:?}",
            found.value
        );
        assert_eq!(found.unit, unit, "{indicator}");
    }
}

/// Asserts a ratio: value = 100 × numerator / denominator (percent) or
/// numerator / denominator (other units), all three as given.
#[track_caller]
fn ratio(period: &str, scope: &str, indicator: &str, numerator: f64, denominator: Option<f64>) {
    let found =
        row(period, scope, indicator).unwrap_or_else(|| panic!("no {indicator} for {scope}"));
    let scale = if found.unit == "percent" { 100.0 } else { 1.0 };
    let expected = denominator
        .filter(|d| *d != 0.0)
        .map(|d| scale * numerator / d);
    assert!(
        close(found.value, expected)
            && close(found.numerator, Some(numerator))
            && close(found.denominator, denominator),
        "{indicator} {scope} {period}: {found:?}, expected {expected:?} = {numerator} / {denominator:?}"
    );
}

#[track_caller]
fn absent(period: &str, scope: &str, indicator: &str) {
    assert!(
        row(period, scope, indicator).is_none(),
        "{indicator} {scope} {period} should have no row: {:?}",
        row(period, scope, indicator)
    );
}

// ---------------------------------------------------------------------------
// staff.* (scopes by the staff row's own level: D1-06 is level:commune)
// ---------------------------------------------------------------------------

#[test]
fn staff_headcount() {
    values(
        "staff.headcount",
        "count",
        &[
            ("province", Some(25.0)),
            ("level:province", Some(15.0)),
            ("level:district", Some(5.0)),
            ("level:commune", Some(5.0)),
            ("department:P1", Some(10.0)),
            ("department:P2", Some(5.0)),
            ("department:D1", Some(6.0)),
            ("department:C1", Some(4.0)),
        ],
    );
    // No roster, no staff row: D2 (training only), C2 (nothing), 2025 (plan only).
    absent("2024", "department:D2", "staff.headcount");
    absent("2024", "department:C2", "staff.headcount");
    absent("2025", "province", "staff.headcount");
}

#[test]
fn staff_qualification_postgraduate_pct() {
    ratio(
        "2024",
        "province",
        "staff.qualification.postgraduate_pct",
        5.0,
        Some(25.0),
    );
    ratio(
        "2024",
        "level:province",
        "staff.qualification.postgraduate_pct",
        4.0,
        Some(15.0),
    );
    ratio(
        "2024",
        "level:district",
        "staff.qualification.postgraduate_pct",
        1.0,
        Some(5.0),
    );
    ratio(
        "2024",
        "level:commune",
        "staff.qualification.postgraduate_pct",
        0.0,
        Some(5.0),
    );
    ratio(
        "2024",
        "department:P1",
        "staff.qualification.postgraduate_pct",
        3.0,
        Some(10.0),
    );
}

#[test]
fn staff_qualification_university_pct() {
    for (scope, n, d) in [
        ("province", 10.0, 25.0),
        ("level:province", 6.0, 15.0),
        ("level:district", 3.0, 5.0),
        ("level:commune", 1.0, 5.0),
        ("department:P1", 4.0, 10.0),
        ("department:D1", 3.0, 6.0),
    ] {
        ratio(
            "2024",
            scope,
            "staff.qualification.university_pct",
            n,
            Some(d),
        );
    }
}

#[test]
fn staff_qualification_college_vocational_pct() {
    for (scope, n, d) in [
        ("province", 7.0, 25.0),
        ("level:province", 3.0, 15.0),
        ("level:district", 1.0, 5.0),
        ("level:commune", 3.0, 5.0),
        ("department:D1", 2.0, 6.0),
        ("department:C1", 2.0, 4.0),
    ] {
        ratio(
            "2024",
            scope,
            "staff.qualification.college_vocational_pct",
            n,
            Some(d),
        );
    }
}

#[test]
fn staff_qualification_other_pct() {
    // Elementary (Sơ cấp), "Chưa qua đào tạo" and a blank cell.
    for (scope, n, d) in [
        ("province", 3.0, 25.0),
        ("level:province", 2.0, 15.0),
        ("level:district", 0.0, 5.0),
        ("level:commune", 1.0, 5.0),
        ("department:P1", 1.0, 10.0),
        ("department:P2", 1.0, 5.0),
    ] {
        ratio("2024", scope, "staff.qualification.other_pct", n, Some(d));
    }
}

#[test]
fn staff_political_theory_advanced_pct() {
    // "Cao cấp" and "Cử nhân" are both advanced.
    for (scope, n, d) in [
        ("province", 4.0, 25.0),
        ("level:province", 3.0, 15.0),
        ("level:district", 1.0, 5.0),
        ("level:commune", 0.0, 5.0),
        ("department:P1", 2.0, 10.0),
    ] {
        ratio(
            "2024",
            scope,
            "staff.political_theory.advanced_pct",
            n,
            Some(d),
        );
    }
}

#[test]
fn staff_political_theory_intermediate_pct() {
    for (scope, n, d) in [
        ("province", 8.0, 25.0),
        ("level:province", 4.0, 15.0),
        ("level:district", 2.0, 5.0),
        ("level:commune", 2.0, 5.0),
        ("department:D1", 3.0, 6.0),
    ] {
        ratio(
            "2024",
            scope,
            "staff.political_theory.intermediate_pct",
            n,
            Some(d),
        );
    }
}

#[test]
fn staff_digital_dedicated() {
    values(
        "staff.digital.dedicated",
        "count",
        &[
            ("province", Some(2.0)),
            ("level:province", Some(1.0)),
            ("level:district", Some(1.0)),
            ("level:commune", Some(0.0)),
            ("department:P2", Some(0.0)),
        ],
    );
}

#[test]
fn staff_digital_part_time() {
    values(
        "staff.digital.part_time",
        "count",
        &[
            ("province", Some(4.0)),
            ("level:province", Some(3.0)),
            ("level:district", Some(0.0)),
            ("level:commune", Some(1.0)),
            ("department:D1", Some(1.0)),
        ],
    );
}

#[test]
fn staff_infosec_total() {
    values(
        "staff.infosec.total",
        "count",
        &[
            ("province", Some(5.0)),
            ("level:province", Some(3.0)),
            ("level:district", Some(0.0)),
            ("level:commune", Some(2.0)),
            ("department:C1", Some(1.0)),
        ],
    );
}

#[test]
fn staff_units_with_dedicated_it_pct() {
    // Rosters: P1 (dedicated), P2, D1 (dedicated), C1. D2 has no roster and
    // counts nowhere. Units count at their registry level.
    let id = "staff.units_with_dedicated_it_pct";
    ratio("2024", "province", id, 2.0, Some(4.0));
    ratio("2024", "level:province", id, 1.0, Some(2.0));
    ratio("2024", "level:district", id, 1.0, Some(1.0));
    ratio("2024", "level:commune", id, 0.0, Some(1.0));
    ratio("2024", "department:P1", id, 1.0, Some(1.0));
    ratio("2024", "department:P2", id, 0.0, Some(1.0));
    absent("2024", "department:D2", id);
}

// ---------------------------------------------------------------------------
// training.* (scopes by the department's level)
// ---------------------------------------------------------------------------

#[test]
fn training_participants_counts_only_the_latest_submission() {
    values(
        "training.participants",
        "count",
        &[
            ("province", Some(19.0)),
            ("level:province", Some(12.0)),
            ("level:district", Some(5.0)),
            ("level:commune", Some(2.0)),
            ("department:P1", Some(8.0)),
            // The corrected file (4 rows), not the superseded one (3 rows).
            ("department:P2", Some(4.0)),
            ("department:D2", Some(2.0)),
        ],
    );
}

#[test]
fn training_people_without_person_id_are_told_apart_by_name_and_birth_date() {
    // P1: P1-01 ×2, P1-02, P1-04, Lò Văn An 1990 ×2, Lò Văn An 1992, P9-99 = 6.
    // Level province adds P2-01, P1-03, P2-02 (P1-01 again) = 9.
    // D2: Quàng Thị Bích twice, no id, no birth date = 1 person.
    values(
        "training.people",
        "count",
        &[
            ("province", Some(15.0)),
            ("level:province", Some(9.0)),
            ("level:district", Some(4.0)),
            ("level:commune", Some(2.0)),
            ("department:P1", Some(6.0)),
            ("department:P2", Some(4.0)),
            ("department:D2", Some(1.0)),
        ],
    );
}

#[test]
fn training_plan_attainment_pct() {
    let id = "training.plan_attainment_pct";
    // P1's plan is the sum of its category lines (10 + 5 + 5); P2's is its
    // overall line (8), not 8 + 3.
    ratio("2024", "province", id, 19.0, Some(28.0));
    ratio("2024", "level:province", id, 12.0, Some(28.0));
    ratio("2024", "department:P1", id, 8.0, Some(20.0));
    ratio("2024", "department:P2", id, 4.0, Some(8.0));
    // Training but no plan: no target, null.
    ratio("2024", "level:district", id, 5.0, None);
    ratio("2024", "department:D1", id, 3.0, None);
}

#[test]
fn a_period_with_a_plan_but_no_training_has_zero_participants_and_zero_attainment() {
    let id = "training.plan_attainment_pct";
    ratio("2025", "province", id, 0.0, Some(30.0));
    ratio("2025", "level:province", id, 0.0, Some(30.0));
    ratio("2025", "department:P1", id, 0.0, Some(30.0));
    values_in(
        "2025",
        "training.participants",
        "count",
        &[
            ("province", Some(0.0)),
            ("level:province", Some(0.0)),
            ("department:P1", Some(0.0)),
        ],
    );
    // The other training figures need training rows: none for 2025.
    for id in [
        "training.people",
        "training.online_pct",
        "training.pass_rate_pct",
        "training.cost_vnd",
        "training.category.digital",
    ] {
        absent("2025", "province", id);
    }
    absent("2025", "level:district", "training.participants");
}

#[test]
fn training_online_pct() {
    // Online and blended ("Kết hợp") over participants.
    let id = "training.online_pct";
    ratio("2024", "province", id, 10.0, Some(19.0));
    ratio("2024", "level:province", id, 6.0, Some(12.0));
    ratio("2024", "level:district", id, 4.0, Some(5.0));
    ratio("2024", "level:commune", id, 0.0, Some(2.0));
    ratio("2024", "department:P1", id, 4.0, Some(8.0));
}

#[test]
fn training_abroad() {
    values(
        "training.abroad",
        "count",
        &[
            ("province", Some(1.0)),
            ("level:province", Some(1.0)),
            ("level:district", Some(0.0)),
            ("department:P1", Some(1.0)),
            ("department:P2", Some(0.0)),
        ],
    );
}

#[test]
fn training_pass_rate_pct_with_a_zero_denominator() {
    let id = "training.pass_rate_pct";
    // In progress and blank results are left out.
    ratio("2024", "province", id, 12.0, Some(15.0));
    ratio("2024", "level:province", id, 9.0, Some(11.0));
    ratio("2024", "department:P1", id, 5.0, Some(7.0));
    ratio("2024", "department:D1", id, 2.0, Some(2.0));
    ratio("2024", "department:C1", id, 1.0, Some(2.0));
    // D2: both rows in progress, 0 / 0 is null (not NaN, not an error).
    ratio("2024", "department:D2", id, 0.0, Some(0.0));
    assert_eq!(row("2024", "department:D2", id).and_then(|r| r.value), None);
}

fn category(name: &str, expected: &[(&str, f64)]) {
    let expected: Vec<(&str, Option<f64>)> = expected.iter().map(|(s, v)| (*s, Some(*v))).collect();
    values(&format!("training.category.{name}"), "count", &expected);
}

#[test]
fn training_category_professional() {
    category(
        "professional",
        &[
            ("province", 1.0),
            ("department:P1", 1.0),
            ("department:P2", 0.0),
        ],
    );
}

#[test]
fn training_category_political_theory() {
    category(
        "political_theory",
        &[
            ("province", 3.0),
            ("level:province", 1.0),
            ("level:commune", 2.0),
            ("department:C1", 2.0),
        ],
    );
}

#[test]
fn training_category_state_management() {
    category(
        "state_management",
        &[
            ("province", 2.0),
            ("level:province", 1.0),
            ("level:district", 1.0),
            ("department:D2", 1.0),
        ],
    );
}

#[test]
fn training_category_leadership() {
    category("leadership", &[("province", 1.0), ("department:P1", 1.0)]);
}

#[test]
fn training_category_defense_security() {
    category(
        "defense_security",
        &[
            ("province", 1.0),
            ("department:P2", 1.0),
            ("department:P1", 0.0),
        ],
    );
}

#[test]
fn training_category_foreign_language() {
    category(
        "foreign_language",
        &[
            ("province", 1.0),
            ("department:P1", 1.0),
            ("department:P2", 0.0),
        ],
    );
}

#[test]
fn training_category_digital() {
    // "Chuyển đổi số", "Tin học" and "Công nghệ thông tin" are all digital.
    category(
        "digital",
        &[
            ("province", 8.0),
            ("level:province", 5.0),
            ("level:district", 3.0),
            ("level:commune", 0.0),
            ("department:P1", 3.0),
            ("department:P2", 2.0),
        ],
    );
}

#[test]
fn training_category_ethnic_language() {
    category(
        "ethnic_language",
        &[("province", 1.0), ("department:P2", 1.0)],
    );
}

#[test]
fn training_category_other() {
    category(
        "other",
        &[
            ("province", 1.0),
            ("level:district", 1.0),
            ("department:D1", 1.0),
        ],
    );
}

#[test]
fn training_categories_add_up_to_the_participants() {
    for ((period, scope, indicator), participants) in &SCENARIO.rows {
        if indicator != "training.participants" || period != "2024" {
            continue;
        }
        let sum: f64 = SCENARIO
            .rows
            .iter()
            .filter(|((p, s, i), _)| {
                p == period && s == scope && i.starts_with("training.category.")
            })
            .map(|(_, r)| r.value.unwrap_or(0.0))
            .sum();
        assert_eq!(Some(sum), participants.value, "{scope}");
        let ids = SCENARIO
            .rows
            .keys()
            .filter(|(p, s, i)| p == period && s == scope && i.starts_with("training.category."))
            .count();
        assert_eq!(ids, 9, "{scope}: every category id, zeros included");
    }
}

#[test]
fn training_digital_coverage_pct_with_a_department_without_roster() {
    let id = "training.digital_coverage_pct";
    // Roster rows with a digital course anywhere in the province (a course
    // counts for the attendee's department, whoever reported it): P1-01,
    // P1-02 and P1-03 (P1; P1-03's course is in P2's record); P2-01 (P2);
    // D1-01 and D1-06 (D1). Lò Văn An has no id and no birth date: nobody.
    ratio("2024", "province", id, 6.0, Some(25.0));
    ratio("2024", "level:province", id, 4.0, Some(15.0));
    ratio("2024", "level:district", id, 1.0, Some(5.0));
    ratio("2024", "level:commune", id, 1.0, Some(5.0));
    ratio("2024", "department:P1", id, 3.0, Some(10.0));
    ratio("2024", "department:P2", id, 1.0, Some(5.0));
    ratio("2024", "department:D1", id, 2.0, Some(6.0));
    ratio("2024", "department:C1", id, 0.0, Some(4.0));
    // D2 trained people but sent no roster: 0 of 0, null.
    ratio("2024", "department:D2", id, 0.0, Some(0.0));
    assert_eq!(row("2024", "department:D2", id).and_then(|r| r.value), None);
}

#[test]
fn training_cost_vnd() {
    values(
        "training.cost_vnd",
        "vnd",
        &[
            ("province", Some(68_500_000.0)),
            ("level:province", Some(65_500_000.0)),
            ("level:district", Some(1_000_000.0)),
            ("department:P1", Some(61_500_000.0)),
            ("department:P2", Some(4_000_000.0)),
            ("department:D2", Some(0.0)),
        ],
    );
}

#[test]
fn training_lessons_per_participant() {
    // Mean over the rows that state a lesson count.
    let id = "training.lessons_per_participant";
    ratio("2024", "province", id, 740.0, Some(18.0));
    ratio("2024", "level:province", id, 588.0, Some(11.0));
    ratio("2024", "level:district", id, 72.0, Some(5.0));
    ratio("2024", "department:P1", id, 440.0, Some(7.0));
    ratio("2024", "department:P2", id, 148.0, Some(4.0));
    assert_eq!(
        row("2024", "province", id).map(|r| r.unit.as_str()),
        Some("lessons")
    );
}

// ---------------------------------------------------------------------------
// recruitment.* and compliance.*
// ---------------------------------------------------------------------------

#[test]
fn recruitment_it_fill_rate_pct() {
    let id = "recruitment.it.fill_rate_pct";
    // Both IT lines of P1 (CNTT 3 of 4, ATTT 0 of 1); "Khác" is not IT.
    ratio("2024", "province", id, 3.0, Some(5.0));
    ratio("2024", "level:province", id, 3.0, Some(5.0));
    ratio("2024", "department:P1", id, 3.0, Some(5.0));
    // C1 recruited, but for no IT post: 0 of 0, null.
    ratio("2024", "department:C1", id, 0.0, Some(0.0));
    ratio("2024", "level:commune", id, 0.0, Some(0.0));
    absent("2024", "department:P2", id);
}

#[test]
fn recruitment_it_resigned() {
    values(
        "recruitment.it.resigned",
        "count",
        &[
            ("province", Some(1.0)),
            ("department:P1", Some(1.0)),
            ("department:C1", Some(0.0)),
        ],
    );
}

#[test]
fn recruitment_it_target_and_recruited() {
    // P1's IT lines: CNTT 4 posts (3 filled) + ATTT 1 (0 filled); "Khác"
    // (10 of 10) is not IT. C1 has no IT line: 0 and 0.
    values(
        "recruitment.it.target",
        "count",
        &[
            ("province", Some(5.0)),
            ("department:P1", Some(5.0)),
            ("department:C1", Some(0.0)),
        ],
    );
    values(
        "recruitment.it.recruited",
        "count",
        &[
            ("province", Some(3.0)),
            ("department:P1", Some(3.0)),
            ("department:C1", Some(0.0)),
        ],
    );
    absent("2024", "department:P2", "recruitment.it.target");
}

#[test]
fn compliance_submission_rate_pct() {
    let id = "compliance.submission_rate_pct";
    // 2024: everyone but C2.
    ratio("2024", "province", id, 5.0, Some(6.0));
    ratio("2024", "level:province", id, 2.0, Some(2.0));
    ratio("2024", "level:district", id, 2.0, Some(2.0));
    ratio("2024", "level:commune", id, 1.0, Some(2.0));
    ratio("2024", "department:P2", id, 1.0, Some(1.0));
    ratio("2024", "department:C2", id, 0.0, Some(1.0));
    // 2025: only P1's plan.
    ratio("2025", "province", id, 1.0, Some(6.0));
    ratio("2025", "level:province", id, 1.0, Some(2.0));
    ratio("2025", "level:district", id, 0.0, Some(2.0));
    ratio("2025", "department:P1", id, 1.0, Some(1.0));
    ratio("2025", "department:C1", id, 0.0, Some(1.0));
}

// ---------------------------------------------------------------------------
// The catalogue as a whole
// ---------------------------------------------------------------------------

#[test]
fn every_indicator_of_the_catalogue_is_computed() {
    let ids: std::collections::BTreeSet<&str> = SCENARIO
        .rows
        .keys()
        .map(|(_, _, indicator)| indicator.as_str())
        .collect();
    let expected = [
        "compliance.submission_rate_pct",
        "recruitment.it.fill_rate_pct",
        "recruitment.it.recruited",
        "recruitment.it.resigned",
        "recruitment.it.target",
        "staff.digital.dedicated",
        "staff.digital.part_time",
        "staff.headcount",
        "staff.infosec.total",
        "staff.political_theory.advanced_pct",
        "staff.political_theory.intermediate_pct",
        "staff.qualification.college_vocational_pct",
        "staff.qualification.other_pct",
        "staff.qualification.postgraduate_pct",
        "staff.qualification.university_pct",
        "staff.units_with_dedicated_it_pct",
        "training.abroad",
        "training.category.defense_security",
        "training.category.digital",
        "training.category.ethnic_language",
        "training.category.foreign_language",
        "training.category.leadership",
        "training.category.other",
        "training.category.political_theory",
        "training.category.professional",
        "training.category.state_management",
        "training.certified",
        "training.cost_vnd",
        "training.digital_coverage_pct",
        "training.fits_post.no_post_group",
        "training.fits_post.unmatched",
        "training.fits_post_pct",
        "training.leaders.unknown_post",
        "training.leaders_digital_pct",
        "training.leaders_trained_pct",
        "training.lessons_per_participant",
        "training.online_pct",
        "training.participants",
        "training.pass_rate_pct",
        "training.people",
        "training.plan_attainment_pct",
        "training.planned_cadres_trained_pct",
    ];
    assert_eq!(ids.into_iter().collect::<Vec<_>>(), expected);
}

#[test]
fn no_value_is_nan_or_infinite_and_percentages_stay_in_range() {
    for (key, row) in &SCENARIO.rows {
        for v in [row.value, row.numerator, row.denominator]
            .into_iter()
            .flatten()
        {
            assert!(v.is_finite(), "{key:?}: {row:?}");
        }
        if row.unit == "percent" && !key.2.contains("attainment") && !key.2.contains("fill_rate") {
            let v = row.value.unwrap_or(0.0);
            assert!((0.0..=100.0).contains(&v), "{key:?}: {v}");
        }
    }
}

#[test]
fn an_analysts_sql_file_is_a_new_indicator_in_the_output() {
    values(
        "training.certified",
        "count",
        &[
            ("province", Some(2.0)),
            ("department:P1", Some(2.0)),
            ("department:P2", Some(0.0)),
        ],
    );
    assert!(
        SCENARIO.printed.contains("training.certified"),
        "{}",
        SCENARIO.printed
    );
}

#[test]
fn the_same_sql_gives_the_same_figures_in_duckdb() {
    assert!(
        SCENARIO.duckdb_check.starts_with("ok "),
        "DuckDB disagrees:\n{}",
        SCENARIO.duckdb_check
    );
}

#[test]
fn a_same_named_file_replaces_a_built_in_and_an_empty_one_disables_it() {
    let project = Project::new();
    write_registry(&project, &[P1]);
    save(
        &fixtures::staff_form(
            &P1,
            2024,
            &[
                staff("A", "Thạc sĩ", "", "", ""),
                staff("B", "", "", "", ""),
            ],
        ),
        &project.inbox().join("P1/ds_2024.xlsx"),
    );
    let dir = project.root().join("config/indicators");
    std::fs::create_dir_all(&dir).expect("dir");
    // Headcount counted in people's hundreds, and no qualification shares.
    std::fs::write(
        dir.join("staff_headcount.sql"),
        "SELECT period, scope, 'staff.headcount' AS indicator, COUNT(*) / 100.0 AS value, 'count' AS unit FROM staff_scoped GROUP BY period, scope",
    )
    .expect("write");
    std::fs::write(
        dir.join("staff_qualification.sql"),
        "-- disabled by the analyst\n",
    )
    .expect("write");
    project.run_ok(&["ingest"]);
    project.run_ok(&["indicators"]);
    let rows = read_indicators(&project.warehouse());
    let get = |indicator: &str| {
        rows.get(&(
            "2024".to_string(),
            "province".to_string(),
            indicator.to_string(),
        ))
    };
    assert_eq!(get("staff.headcount").and_then(|r| r.value), Some(0.02));
    assert!(get("staff.qualification.postgraduate_pct").is_none());
    assert!(get("staff.political_theory.advanced_pct").is_some());
}

#[test]
fn a_department_removed_from_the_registry_keeps_its_province_and_department_scopes() {
    let project = Project::new();
    write_registry(&project, &[P1, P2]);
    for (department, ids) in [(&P1, ["A", "B"]), (&P2, ["C", "D"])] {
        let rows: Vec<StaffRow> = ids
            .iter()
            .map(|id| staff(id, "Đại học", "", "", ""))
            .collect();
        save(
            &fixtures::staff_form(department, 2024, &rows),
            &project.inbox().join(department.code).join("ds_2024.xlsx"),
        );
    }
    project.run_ok(&["ingest"]);
    // P2 leaves the registry (merged away); its rows stay in the warehouse.
    write_registry(&project, &[P1]);
    project.run_ok(&["indicators"]);
    let rows = read_indicators(&project.warehouse());
    let headcount = |scope: &str| {
        rows.get(&(
            "2024".to_string(),
            scope.to_string(),
            "staff.headcount".to_string(),
        ))
        .and_then(|r| r.value)
    };
    assert_eq!(headcount("province"), Some(4.0));
    assert_eq!(headcount("department:P2"), Some(2.0));
    assert_eq!(
        headcount("level:province"),
        Some(2.0),
        "P2 has no level now"
    );
}
