//! A plan over a range of years (issue 16): a province with a 2021–2025 plan
//! of 39,000 participants and its training year by year, the cumulative
//! progress against it under each ordinary period (hand-computed below), the
//! same figures from DuckDB, an annual plan beside the range left as it was,
//! and the files a range may not come with.
//!
//! The province (registry written by the test):
//!
//! | code | level    | sends |
//! |------|----------|-------|
//! | SNV  | province | roster and IT recruitment 2023 (one line each); plan 2021–2025 by category (21,000 professional + 18,000 digital = 39,000), plan 2023 "Chung" 1,000; training 2021: 300, 2022: 400, 2023: 517, and a 2023-Q1 report of 100 (its year's first quarter, held by its 2023) |
//! | HDX  | district | training 2021: 200, 2022: 250; 2023 as quarters only: 60, 70, 80, 90; 2024-H1: 40 |
//!
//! Cumulative participants of the range, province scope (worked by hand):
//!
//! | period  | SNV                     | HDX                          | total | / 39,000 | elapsed        |
//! |---------|-------------------------|------------------------------|-------|----------|----------------|
//! | 2021    | 300                     | 200                          | 500   | 1.28 %   | 1 / 5 = 20.00 % |
//! | 2022    | 300+400 = 700           | 200+250 = 450                | 1,150 | 2.95 %   | 2 / 5 = 40.00 % |
//! | 2023-Q1 | 700+100 = 800 (its year 2023 ends after Q1) | 450+60 = 510 | 1,310 | 3.36 % | 2.25 / 5 = 45.00 % |
//! | 2023    | 700+517 = 1,217 (Q1 held by the year) | 450+60+70+80+90 = 750 | 1,967 | 5.04 % | 3 / 5 = 60.00 % |
//! | 2023-Q4 | 1,217 (the year lies within the window) | 750            | 1,967 | 5.04 %   | 3 / 5 = 60.00 % |
//! | 2024-H1 | 1,217                   | 750+40 = 790                 | 2,007 | 5.15 %   | 3.5 / 5 = 70.00 % |
//!
//! 1,967 / 39,000 = 0.0504359 → 5.04 %; SNV alone in 2023: 1,217 / 39,000 =
//! 0.0312051 → 3.12 %. HDX and the district level have no range plan: no row.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::LazyLock;

use crate::indicators::{Row, duckdb_check, read_indicators, recruitment_form, staff};
use crate::support::{self, Project, duckdb, save};
use nhanluc_fixtures::{self as fixtures, Cell, Department, PlanRow, TrainingRow};

const SNV: Department = Department {
    code: "SNV",
    name: "Sở Nội vụ",
    level: "province",
};
const HDX: Department = Department {
    code: "HDX",
    name: "Huyện Đông Xuyên",
    level: "district",
};

/// Writes the registry, with the test project's recipient scoped to the province.
fn write_registry(project: &Project) {
    support::write_registry(project, &[SNV, HDX]);
    let config = project.config_file();
    let toml = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, toml.replace("department:SYT", "province")).expect("config");
}

/// `n` attendances of distinct people (ids prefixed by `tag`), on one course.
fn attendances(tag: &str, n: usize) -> Vec<TrainingRow> {
    (0..n)
        .map(|i| TrainingRow {
            person_id: format!("{tag}{i:05}"),
            full_name: format!("Người {tag} {i}"),
            birth_date: Cell::Blank,
            course: "Bồi dưỡng kỹ năng chuyển đổi số".to_string(),
            category: "Chuyển đổi số".to_string(),
            mode: "Trực tuyến".to_string(),
            location: "Trong nước".to_string(),
            start_date: Cell::Blank,
            end_date: Cell::Blank,
            lessons: Cell::int(8),
            result: "Đạt".to_string(),
            certified: String::new(),
            cost_vnd: Cell::Blank,
        })
        .collect()
}

/// A training report of `department` for `year`, its period line `line`
/// ("NĂM 2023", "QUÝ I NĂM 2023"), saved as `file` in its inbox folder.
fn training(
    project: &Project,
    department: &Department,
    year: u16,
    line: &str,
    file: &str,
    n: usize,
) {
    let mut form = fixtures::training_form(
        department,
        year,
        &attendances(&format!("{}{}", department.code, file.len()), n),
    );
    form.period_line = line.to_string();
    save(&form, &project.inbox().join(department.code).join(file));
}

fn plan_lines(lines: &[(&str, i64)]) -> Vec<PlanRow> {
    lines
        .iter()
        .map(|(category, target)| PlanRow {
            category: category.to_string(),
            target_participants: *target,
            budget_vnd: target * 500_000,
        })
        .collect()
}

/// The province of the module docs; the range plan only `with_range`.
fn province(with_range: bool) -> Project {
    let project = Project::new();
    write_registry(&project);
    if with_range {
        let mut plan = fixtures::plan_form(
            &SNV,
            2021,
            &plan_lines(&[("Chuyên môn, nghiệp vụ", 21_000), ("Chuyển đổi số", 18_000)]),
        );
        plan.period_line = "GIAI ĐOẠN 2021 - 2025".to_string();
        save(&plan, &project.inbox().join("SNV/kehoach_2021-2025.xlsx"));
    }
    // A roster and an IT recruitment report, so every table has its files.
    let roster = fixtures::staff_form(&SNV, 2023, &[staff("A1", "Đại học", "", "", "")]);
    save(&roster, &project.inbox().join("SNV/ds_2023.xlsx"));
    let recruitment = recruitment_form(&SNV, 2023, &[("Công nghệ thông tin", 4, 3, 0)]);
    save(
        &recruitment,
        &project.inbox().join("SNV/tuyen_dung_2023.xlsx"),
    );
    let annual = fixtures::plan_form(&SNV, 2023, &plan_lines(&[("Chung", 1_000)]));
    save(&annual, &project.inbox().join("SNV/ke_hoach_2023.xlsx"));
    for (year, n) in [(2021, 300), (2022, 400), (2023, 517)] {
        training(
            &project,
            &SNV,
            year,
            &format!("NĂM {year}"),
            &format!("dao_tao_{year}.xlsx"),
            n,
        );
    }
    training(
        &project,
        &SNV,
        2023,
        "QUÝ I NĂM 2023",
        "dao_tao_quy1_2023.xlsx",
        100,
    );
    for (year, n) in [(2021, 200), (2022, 250)] {
        training(
            &project,
            &HDX,
            year,
            &format!("NĂM {year}"),
            &format!("bc_dt_{year}.xlsx"),
            n,
        );
    }
    for (quarter, roman, n) in [(1, "I", 60), (2, "II", 70), (3, "III", 80), (4, "IV", 90)] {
        training(
            &project,
            &HDX,
            2023,
            &format!("QUÝ {roman} NĂM 2023"),
            &format!("bc_dt_quy{quarter}_2023.xlsx"),
            n,
        );
    }
    training(
        &project,
        &HDX,
        2024,
        "6 THÁNG ĐẦU NĂM 2024",
        "bc_dt_6thang_dau_2024.xlsx",
        40,
    );
    let out = project.run_ok(&["ingest"]);
    assert!(out.contains("0 quarantined"), "{out}");
    project.run_ok(&["indicators"]);
    project
}

struct Scenario {
    project: Project,
    rows: BTreeMap<(String, String, String), Row>,
    duckdb_check: String,
}

static WITH_RANGE: LazyLock<Scenario> = LazyLock::new(|| {
    let project = province(true);
    let rows = read_indicators(&project.warehouse());
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let duckdb_check = duckdb_check(&project.warehouse(), &[&repo.join("config/indicators")]);
    Scenario {
        project,
        rows,
        duckdb_check,
    }
});

fn get(period: &str, scope: &str, indicator: &str) -> Option<&'static Row> {
    WITH_RANGE
        .rows
        .get(&(period.into(), scope.into(), indicator.into()))
}

/// The value to two decimals, as a leader reads it.
fn two_decimals(period: &str, scope: &str, indicator: &str) -> String {
    let row = get(period, scope, indicator)
        .unwrap_or_else(|| panic!("no {indicator} for {period} {scope}"));
    format!("{:.2}", row.value.unwrap_or(f64::NAN))
}

#[test]
fn the_range_plan_is_filed_under_its_range() {
    let plan = duckdb(&format!(
        "SELECT period, department, SUM(target_participants) FROM read_parquet('{}/plan/*/*/*.parquet', hive_partitioning = true, hive_types = {{'period': VARCHAR, 'department': VARCHAR}}) GROUP BY ALL ORDER BY ALL",
        WITH_RANGE.project.warehouse().display()
    ));
    assert_eq!(plan, "2021-2025|SNV|39000\n2023|SNV|1000");
    assert!(
        WITH_RANGE
            .project
            .warehouse()
            .join("plan/period=2021-2025/department=SNV")
            .is_dir()
    );
}

/// Acceptance 1 of issue 16: the cumulative attainment and the expected
/// share for 2023, to two decimals, from the warehouse.
#[test]
fn cumulative_attainment_and_expected_share_for_2023() {
    let participants = get("2023", "province", "training.plan_range.participants").expect("row");
    assert_eq!(participants.value, Some(1967.0));
    assert_eq!(participants.unit, "count");
    let attainment = get("2023", "province", "training.plan_range.attainment_pct").expect("row");
    assert_eq!(
        (attainment.numerator, attainment.denominator),
        (Some(1967.0), Some(39000.0))
    );
    assert_eq!(
        two_decimals("2023", "province", "training.plan_range.attainment_pct"),
        "5.04"
    );
    let expected = get("2023", "province", "training.plan_range.expected_pct").expect("row");
    assert_eq!(
        (expected.numerator, expected.denominator),
        (Some(3.0), Some(5.0))
    );
    assert_eq!(
        two_decimals("2023", "province", "training.plan_range.expected_pct"),
        "60.00"
    );
    assert_eq!(expected.unit, "percent");
}

#[test]
fn every_ordinary_period_inside_the_range_reads_its_progress() {
    for (period, participants, attainment, expected) in [
        ("2021", 500.0, "1.28", "20.00"),
        ("2022", 1150.0, "2.95", "40.00"),
        ("2023-Q1", 1310.0, "3.36", "45.00"),
        ("2023-Q2", 1380.0, "3.54", "50.00"),
        ("2023", 1967.0, "5.04", "60.00"),
        ("2023-Q4", 1967.0, "5.04", "60.00"),
        ("2024-H1", 2007.0, "5.15", "70.00"),
    ] {
        let row = get(period, "province", "training.plan_range.participants").expect(period);
        assert_eq!(row.value, Some(participants), "{period}");
        assert_eq!(
            two_decimals(period, "province", "training.plan_range.attainment_pct"),
            attainment,
            "{period}"
        );
        assert_eq!(
            two_decimals(period, "province", "training.plan_range.expected_pct"),
            expected,
            "{period}"
        );
    }
}

#[test]
fn scopes_are_those_with_the_range_plan() {
    // SNV's own: 300 + 400 + 517 (its 2023-Q1 held by its year).
    for scope in ["department:SNV", "level:province"] {
        let row = get("2023", scope, "training.plan_range.participants").expect(scope);
        assert_eq!(row.value, Some(1217.0), "{scope}");
        assert_eq!(
            two_decimals("2023", scope, "training.plan_range.attainment_pct"),
            "3.12"
        );
    }
    for scope in ["department:HDX", "level:district"] {
        for id in ["participants", "attainment_pct", "expected_pct"] {
            assert!(
                get("2023", scope, &format!("training.plan_range.{id}")).is_none(),
                "{scope} has no range plan"
            );
        }
    }
}

#[test]
fn no_indicator_is_written_under_the_range() {
    assert!(
        WITH_RANGE
            .rows
            .keys()
            .all(|(period, _, _)| period != "2021-2025"),
        "{:?}",
        WITH_RANGE
            .rows
            .keys()
            .filter(|(p, _, _)| p == "2021-2025")
            .collect::<Vec<_>>()
    );
    assert!(
        !WITH_RANGE
            .project
            .warehouse()
            .join("indicators/period=2021-2025")
            .exists()
    );
    // The submission rate is for the ordinary periods only.
    let rate = get("2023", "province", "compliance.submission_rate_pct").expect("row");
    // 2023: SNV sent its year, HDX only quarters.
    assert_eq!((rate.numerator, rate.denominator), (Some(1.0), Some(2.0)));
}

/// The annual 2023 plan of SNV (1,000) is compared with 2023's participants
/// alone (517 + 0 from HDX, whose 2023 came as quarters): 51.70 %, not
/// (517) / (1,000 + 39,000).
#[test]
fn the_annual_plan_ignores_the_range_plan() {
    let attainment = get("2023", "province", "training.plan_attainment_pct").expect("row");
    assert_eq!(
        (attainment.numerator, attainment.denominator),
        (Some(517.0), Some(1000.0))
    );
    assert_eq!(
        two_decimals("2023", "province", "training.plan_attainment_pct"),
        "51.70"
    );
    // A year without an annual plan has none, the range's notwithstanding.
    let attainment = get("2022", "province", "training.plan_attainment_pct").expect("row");
    assert_eq!((attainment.value, attainment.denominator), (None, None));
}

/// Acceptance: the same province without the range plan has the same
/// annual attainment and participants, row for row.
#[test]
fn annual_figures_are_unchanged_by_a_range_plan() {
    let without = province(false);
    let rows = read_indicators(&without.warehouse());
    let annual =
        |rows: &BTreeMap<(String, String, String), Row>| -> Vec<((String, String, String), Row)> {
            rows.iter()
                .filter(|((_, _, id), _)| {
                    id == "training.plan_attainment_pct" || id == "training.participants"
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
    let theirs = annual(&rows);
    assert!(!theirs.is_empty());
    assert_eq!(annual(&WITH_RANGE.rows), theirs);
    assert!(
        rows.keys()
            .all(|(_, _, id)| !id.starts_with("training.plan_range."))
    );
}

#[test]
fn the_same_sql_gives_the_same_figures_in_duckdb() {
    assert!(
        WITH_RANGE.duckdb_check.starts_with("ok "),
        "DuckDB disagrees:\n{}",
        WITH_RANGE.duckdb_check
    );
}

fn quarantine_reasons(project: &Project) -> Vec<String> {
    project
        .files_under(&project.data().join("quarantine"), "txt")
        .iter()
        .filter(|p| p.to_string_lossy().ends_with(".reason.txt"))
        .map(|p| std::fs::read_to_string(p).expect("sidecar"))
        .collect()
}

/// Only a plan may be of a range: a training report named for one is
/// refused, in both languages; a plan whose name says 2025 and whose title
/// says 2021–2025 is refused with both shown; nothing is stored.
#[test]
fn a_range_is_refused_where_it_cannot_be_filed() {
    let project = Project::new();
    write_registry(&project);
    let mut form = fixtures::training_form(&SNV, 2023, &attendances("T", 3));
    form.period_line = "GIAI ĐOẠN 2021–2025".to_string();
    save(&form, &project.inbox().join("SNV/dao_tao_2021-2025.xlsx"));
    let mut plan = fixtures::plan_form(&SNV, 2025, &plan_lines(&[("Chung", 500)]));
    plan.period_line = "giai đoạn 2021—2025".to_string();
    save(&plan, &project.inbox().join("SNV/ke_hoach_2025.xlsx"));
    let out = project.run_ok(&["ingest"]);
    assert!(out.contains("2 quarantined"), "{out}");
    let reasons = quarantine_reasons(&project).join("\n----\n");
    for expected in [
        "chỉ kế hoạch mới được lập theo giai đoạn nhiều năm",
        "only a plan may cover a range of years",
        "giai đoạn 2021–2025",
        "trang \"Dao tao\"",
        // The plan: its name and its title, both shown.
        "tên tệp \"ke_hoach_2025.xlsx\" ghi năm 2025",
        "ghi giai đoạn 2021–2025",
        "the file name \"ke_hoach_2025.xlsx\" says year 2025",
        "says 2021–2025",
    ] {
        assert!(
            reasons.contains(expected),
            "missing {expected:?} in\n{reasons}"
        );
    }
    assert!(
        project
            .files_under(&project.warehouse().join("training"), "parquet")
            .is_empty()
    );
    assert!(
        project
            .files_under(&project.warehouse().join("plan"), "parquet")
            .is_empty()
    );
}

/// A workbook of a range holding a plan sheet and a training sheet: the
/// training cannot be filed under the range, so the file is refused, the
/// training sheet named, and the plan not stored either (no file is split
/// silently).
#[test]
fn a_plan_with_a_training_sheet_under_a_range_is_refused_whole() {
    use crate::support::{C, write_sheets};
    let project = Project::new();
    write_registry(&project);
    let plan = vec![
        vec![C::T("SỞ NỘI VỤ")],
        vec![C::T("KẾ HOẠCH ĐÀO TẠO, BỒI DƯỠNG GIAI ĐOẠN 2021 – 2025")],
        vec![],
        vec![C::T("STT"), C::T("Nội dung"), C::T("Chỉ tiêu")],
        vec![C::N(1.0), C::T("Chung"), C::N(39_000.0)],
    ];
    let training = support::training_rows(
        "GIAI ĐOẠN 2021 – 2025",
        &[("Lò Văn Chăm", "001085000123", "Bồi dưỡng kỹ năng số")],
    );
    write_sheets(
        &project.inbox().join("SNV/kh_va_dt_2021-2025.xlsx"),
        &[("KH", plan), ("Đào tạo", training)],
    );
    let out = project.run_ok(&["ingest"]);
    assert!(out.contains("1 quarantined"), "{out}");
    let reasons = quarantine_reasons(&project).join("\n");
    assert!(reasons.contains("trang \"Đào tạo\""), "{reasons}");
    assert!(
        reasons.contains("sheet \"Đào tạo\" (training)"),
        "{reasons}"
    );
    assert!(
        !reasons.contains("trang \"KH\""),
        "the plan sheet may be of a range: {reasons}"
    );
    assert!(
        project
            .files_under(&project.warehouse().join("plan"), "parquet")
            .is_empty()
    );
    assert!(
        project
            .files_under(&project.warehouse().join("training"), "parquet")
            .is_empty()
    );
}

/// `nhanluc form` makes a plan's form for a range, and no other form's.
#[test]
fn a_form_for_a_range_is_a_plans_only() {
    let project = Project::new();
    let plan = project.root().join("mau_plan_2021-2025.xlsx");
    let plan_arg = plan.to_string_lossy().to_string();
    project.run_ok(&["form", "plan", "--period", "2021-2025", "-o", &plan_arg]);
    assert!(plan.is_file());
    let out = project.run(&["form", "staff", "--period", "2021-2025"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("only a plan may cover"), "{stderr}");
}

/// The digest says where the range plan stands, in words and in counts, for
/// the province and for the department that has the plan (not for one
/// without), and its attachment has the figures: 2023 in 2021–2025, the
/// province 1,967/39,000 = 5.04 % against 3/5 = 60 % expected, SNV
/// 1,217/39,000 = 3.12 %; both more than 5 points behind.
#[test]
fn the_digest_says_whether_the_range_plan_is_on_track() {
    let project = province(true);
    project.run_ok(&["digest", "--period", "2023"]);
    let scratch = tempfile::tempdir().expect("tmp");
    let messages: Vec<support::Eml> = project
        .files_under(&project.outbox(), "eml")
        .iter()
        .enumerate()
        .map(|(i, f)| support::read_eml(f, &scratch.path().join(i.to_string())))
        .filter(|m| m.subject.contains("2023"))
        .collect();
    let vi = messages
        .iter()
        .find(|m| m.to.contains("chu-tich"))
        .expect("the province's 2023 digest");
    for line in [
        "- Toàn tỉnh: Kế hoạch giai đoạn: 1.967/39.000 lượt người, đạt 5,0% (kỳ vọng 60,0%) — chậm so với tiến độ",
        "- Sở Nội vụ: Kế hoạch giai đoạn: 1.217/39.000 lượt người, đạt 3,1% (kỳ vọng 60,0%) — chậm so với tiến độ",
    ] {
        assert!(vi.text.contains(line), "missing {line:?} in\n{}", vi.text);
    }
    assert!(
        !vi.text.contains("- Huyện Đông Xuyên: Kế hoạch"),
        "{}",
        vi.text
    );
    // minijinja escapes "/" in HTML as &#x2f;, which a mail client shows as "/".
    assert!(
        vi.html.replace("&#x2f;", "/").contains(
            "Toàn tỉnh: <span style=\"color:#b45309;\">Kế hoạch giai đoạn: 1.967/39.000 lượt người"
        ),
        "{}",
        vi.html
    );
    let en = messages
        .iter()
        .find(|m| m.to.contains("advisor"))
        .expect("the English 2023 digest");
    assert!(
        en.text.contains(
            "Multi-year plan: 1,967/39,000 attendances, 5.0% reached (60.0% expected) — behind schedule"
        ),
        "{}",
        en.text
    );

    let (_, path) = &vi.attachments[0];
    let mut workbook: calamine::Xlsx<_> = calamine::open_workbook(path).expect("attachment");
    let sheet = calamine::Reader::worksheet_range(&mut workbook, "Kế hoạch giai đoạn")
        .expect("the multi-year plan sheet");
    let province: Vec<String> = sheet
        .rows()
        .find(|r| r.first().map(|c| c.to_string()) == Some("province".into()))
        .expect("the province's row")
        .iter()
        .map(|c| match c {
            calamine::Data::Float(f) => format!("{f:.2}"),
            other => other.to_string(),
        })
        .collect();
    assert_eq!(
        province,
        [
            "province",
            "Toàn tỉnh",
            "1967.00",
            "5.04",
            "60.00",
            "chậm so với tiến độ"
        ]
    );
}
