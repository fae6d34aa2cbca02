//! Dien Bien province's published figures for 31 Dec 2022, reproduced end to
//! end: workbooks with exactly the published distributions, spread over ten
//! departments of three levels, go through `ingest` and `indicators`, and every
//! published figure is read back from the indicators Parquet with DuckDB and
//! compared to two decimals.
//!
//! Published: 24,088 civil servants and public employees. Provincial level
//! 7,229: postgraduate 1,266 (17.51%), university 4,005 (55.40%),
//! college/vocational 1,821 (25.19%), other 137 (1.90%); political theory
//! advanced 346 (4.79%), intermediate 1,161 (16.06%). District level 14,274:
//! postgraduate 358 (2.51%), university 10,842 (75.96%), college/intermediate
//! 3,038 (21.28%), elementary/other 36 (0.25%); advanced 221 (1.55%),
//! intermediate 2,043 (14.31%). Commune level: the rest, 2,585. In 2022 the
//! province trained 26,236 people (lượt người) against a plan of 24,635:
//! 106.50%.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use crate::support::{Project, duckdb, save, write_registry};
// Rng: a small reproducible stream (SplitMix64), so departments get different mixes.
use nhanluc_fixtures::{Cell, Department, PlanRow, Rng, StaffRow, TrainingRow};

const fn department(code: &'static str, name: &'static str, level: &'static str) -> Department {
    Department { code, name, level }
}

const SNV: Department = department("SNV", "Sở Nội vụ", "province");
const SYT: Department = department("SYT", "Sở Y tế", "province");
const SGDDT: Department = department("SGDDT", "Sở Giáo dục và Đào tạo", "province");
const STC: Department = department("STC", "Sở Tài chính", "province");
const TPDBP: Department = department("TPDBP", "Thành phố Điện Biên Phủ", "district");
const HTG: Department = department("HTG", "Huyện Tuần Giáo", "district");
const HDB: Department = department("HDB", "Huyện Điện Biên", "district");
const XTM: Department = department("XTM", "Xã Thanh Minh", "commune");
const XNT: Department = department("XNT", "Xã Nà Tấu", "commune");
const XMP: Department = department("XMP", "Xã Mường Phăng", "commune");
const REGISTRY: [Department; 10] = [SNV, SYT, SGDDT, STC, TPDBP, HTG, HDB, XTM, XNT, XMP];

/// How many people of a level hold each qualification and political theory
/// level (as departments write them); blank = no qualification / none.
struct LevelMix {
    qualification: &'static [(&'static str, usize)],
    theory: &'static [(&'static str, usize)],
}

/// Provincial level, 7,229: postgraduate 1,266 = 66 + 1,200; university
/// 4,005; college/vocational 1,821 = 700 + 1,121; other 137 = 100 + 37.
/// Advanced 346 = 300 "Cao cấp" + 46 "Cử nhân"; intermediate 1,161.
const PROVINCE: LevelMix = LevelMix {
    qualification: &[
        ("Tiến sĩ", 66),
        ("Thạc sĩ", 1_200),
        ("Đại học", 4_005),
        ("Cao đẳng", 700),
        ("Trung cấp", 1_121),
        ("Sơ cấp", 100),
        ("", 37),
    ],
    theory: &[
        ("Cao cấp", 300),
        ("Cử nhân", 46),
        ("Trung cấp", 1_161),
        ("Sơ cấp", 2_000),
        ("", 3_722),
    ],
};

/// District level, 14,274: postgraduate 358 = 8 + 350; university 10,842;
/// college/intermediate 3,038 = 1,000 + 2,038; elementary/other 36 = 20 + 16.
/// Advanced 221; intermediate 2,043.
const DISTRICT: LevelMix = LevelMix {
    qualification: &[
        ("Tiến sĩ", 8),
        ("Thạc sĩ", 350),
        ("Đại học", 10_842),
        ("Cao đẳng", 1_000),
        ("Trung cấp", 2_038),
        ("Sơ cấp", 20),
        ("Chưa qua đào tạo", 16),
    ],
    theory: &[
        ("Cao cấp", 221),
        ("Trung cấp", 2_043),
        ("Sơ cấp", 5_000),
        ("", 7_010),
    ],
};

/// Commune level, 2,585 (not broken down in the report).
const COMMUNE: LevelMix = LevelMix {
    qualification: &[
        ("Thạc sĩ", 5),
        ("Đại học", 1_200),
        ("Cao đẳng", 300),
        ("Trung cấp", 1_000),
        ("Sơ cấp", 50),
        ("", 30),
    ],
    theory: &[
        ("Cao cấp", 10),
        ("Trung cấp", 1_200),
        ("Sơ cấp", 800),
        ("", 575),
    ],
};

/// Commune-level staff on a district's roster ("Cấp: Xã"): they count at
/// commune level, where the staff row's own level puts them.
const HTG_COMMUNE_STAFF: usize = 85;

fn expand(mix: &[(&'static str, usize)], rng: &mut Rng) -> Vec<&'static str> {
    let mut values: Vec<&'static str> = mix
        .iter()
        .flat_map(|(value, n)| std::iter::repeat_n(*value, *n))
        .collect();
    rng.shuffle(&mut values);
    values
}

/// A level's people, shuffled, with the published totals.
fn level_staff(mix: &LevelMix, prefix: &str, rng: &mut Rng) -> Vec<StaffRow> {
    let qualification = expand(mix.qualification, rng);
    let theory = expand(mix.theory, rng);
    assert_eq!(qualification.len(), theory.len(), "{prefix}");
    qualification
        .iter()
        .zip(&theory)
        .enumerate()
        .map(|(i, (q, t))| StaffRow {
            person_id: format!("011{prefix}{i:06}"),
            full_name: format!("Cán bộ {prefix} {i}"),
            birth_date: Cell::Blank,
            gender: String::new(),
            unit: String::new(),
            position: String::new(),
            qualification: q.to_string(),
            political_theory: t.to_string(),
            state_management: String::new(),
            digital_role: String::new(),
            infosec_role: String::new(),
        })
        .collect()
}

/// Every roster, as "tính đến ngày 31/12/2022" in the title block; half of the
/// files carry no year in their name. Returns each department's people ids.
fn write_rosters(inbox: &Path) -> BTreeMap<&'static str, Vec<String>> {
    let mut rng = Rng::new(2022);
    let province = level_staff(&PROVINCE, "1", &mut rng);
    let district = level_staff(&DISTRICT, "2", &mut rng);
    let commune = level_staff(&COMMUNE, "3", &mut rng);
    assert_eq!(province.len(), 7_229);
    assert_eq!(district.len(), 14_274);
    assert_eq!(
        province.len() + district.len() + commune.len(),
        24_088,
        "the province's total"
    );

    let (htg_commune, commune) = commune.split_at(HTG_COMMUNE_STAFF);
    let mut ids = BTreeMap::new();
    let mut write = |department: &'static Department, rows: &[StaffRow], extra: &[StaffRow]| {
        let mut all = rows.to_vec();
        all.extend_from_slice(extra);
        let mut form = nhanluc_fixtures::staff_form(department, 2022, &all);
        form.period_line = "(Số liệu tính đến ngày 31/12/2022)".to_string();
        if !extra.is_empty() {
            form.headers.push("Cấp".to_string());
            for (i, row) in form.rows.iter_mut().enumerate() {
                row.push(if i < rows.len() {
                    Cell::text("Huyện")
                } else {
                    Cell::text("Xã")
                });
            }
        }
        let name = if ids.len() % 2 == 0 {
            "danh-sach-can-bo.xlsx".to_string()
        } else {
            "danh-sach-can-bo_2022.xlsx".to_string()
        };
        save(&form, &inbox.join(department.code).join(name));
        ids.insert(
            department.code,
            all.iter().map(|r| r.person_id.clone()).collect::<Vec<_>>(),
        );
    };
    let (snv, rest) = province.split_at(1_000);
    let (syt, rest) = rest.split_at(2_500);
    let (sgddt, stc) = rest.split_at(2_229);
    write(&SNV, snv, &[]);
    write(&SYT, syt, &[]);
    write(&SGDDT, sgddt, &[]);
    write(&STC, stc, &[]);
    let (tpdbp, rest) = district.split_at(6_000);
    let (htg, hdb) = rest.split_at(3_000);
    write(&TPDBP, tpdbp, &[]);
    write(&HTG, htg, htg_commune);
    write(&HDB, hdb, &[]);
    let (xtm, rest) = commune.split_at(1_000);
    let (xnt, xmp) = rest.split_at(800);
    write(&XTM, xtm, &[]);
    write(&XNT, xnt, &[]);
    write(&XMP, xmp, &[]);
    ids
}

/// 26,236 training rows over every department: mostly people of the roster
/// (some twice), one in twenty without a person id.
const PARTICIPANTS: [(&Department, usize); 10] = [
    (&SNV, 1_236),
    (&SYT, 4_000),
    (&SGDDT, 5_000),
    (&STC, 1_000),
    (&TPDBP, 5_000),
    (&HTG, 3_500),
    (&HDB, 3_000),
    (&XTM, 1_500),
    (&XNT, 1_000),
    (&XMP, 1_000),
];

const CATEGORIES: [&str; 8] = [
    "Chuyên môn, nghiệp vụ",
    "Lý luận chính trị",
    "Quản lý nhà nước",
    "Kỹ năng lãnh đạo, quản lý",
    "Quốc phòng và an ninh",
    "Ngoại ngữ",
    "Chuyển đổi số",
    "Tin học",
];

fn write_training(inbox: &Path, ids: &BTreeMap<&'static str, Vec<String>>) {
    let mut rng = Rng::new(26_236);
    for (department, count) in PARTICIPANTS {
        let roster = &ids[department.code];
        let rows: Vec<TrainingRow> = (0..count)
            .map(|i| {
                let (person_id, full_name) = if i % 20 == 19 {
                    (String::new(), format!("Hợp đồng {} {i}", department.code))
                } else {
                    let id = roster[rng.below(roster.len() as u64) as usize].clone();
                    let name = format!("Cán bộ {id}");
                    (id, name)
                };
                TrainingRow {
                    person_id,
                    full_name,
                    birth_date: Cell::Blank,
                    course: "Bồi dưỡng cán bộ, công chức năm 2022".to_string(),
                    category: CATEGORIES[rng.below(CATEGORIES.len() as u64) as usize].to_string(),
                    mode: if i % 3 == 0 {
                        "Trực tuyến"
                    } else {
                        "Tập trung"
                    }
                    .to_string(),
                    location: String::new(),
                    start_date: Cell::Blank,
                    end_date: Cell::Blank,
                    lessons: Cell::int(40),
                    result: "Hoàn thành".to_string(),
                    certified: String::new(),
                    cost_vnd: Cell::Blank,
                }
            })
            .collect();
        save(
            &nhanluc_fixtures::training_form(department, 2022, &rows),
            &inbox
                .join(department.code)
                .join("ket-qua-dao-tao-boi-duong_2022.xlsx"),
        );
    }
    // The province's plan, by category: 24,635 in all.
    let plan: Vec<PlanRow> = [
        ("Chuyên môn, nghiệp vụ", 9_000),
        ("Lý luận chính trị", 3_500),
        ("Quản lý nhà nước", 3_000),
        ("Kỹ năng lãnh đạo, quản lý", 1_500),
        ("Quốc phòng và an ninh", 2_135),
        ("Ngoại ngữ", 1_000),
        ("Chuyển đổi số", 4_500),
    ]
    .iter()
    .map(|(category, target)| PlanRow {
        category: category.to_string(),
        target_participants: *target,
        budget_vnd: target * 1_500_000,
    })
    .collect();
    assert_eq!(
        plan.iter().map(|p| p.target_participants).sum::<i64>(),
        24_635
    );
    save(
        &nhanluc_fixtures::plan_form(&SNV, 2022, &plan),
        &inbox.join("SNV/ke-hoach-dao-tao_2022.xlsx"),
    );
}

/// The province's registry and its 2022 workbooks (rosters, training, plan)
/// in the project's inbox; also the Spark job's first province (`spark.rs`).
pub(crate) fn write_province(project: &Project) {
    write_registry(project, &REGISTRY);
    // The test project's recipients name SYT; this registry has it.
    let ids = write_rosters(&project.inbox());
    write_training(&project.inbox(), &ids);
}

#[test]
fn dien_bien_2022_published_figures_are_reproduced_end_to_end() {
    let started = Instant::now();
    let project = Project::new();
    write_province(&project);
    let written = started.elapsed();

    let out = project.run_ok(&["ingest"]);
    assert!(out.contains("21 accepted, 0 quarantined"), "{out}");
    let ingested = started.elapsed();
    project.run_ok(&["indicators"]);
    let computed = started.elapsed();
    eprintln!(
        "workbooks written in {:.1} s, ingested in {:.1} s, indicators in {:.1} s",
        written.as_secs_f64(),
        (ingested - written).as_secs_f64(),
        (computed - ingested).as_secs_f64()
    );

    let out = duckdb(&format!(
        "SELECT scope, indicator, value, numerator, denominator
         FROM read_parquet('{}/indicators/*/*.parquet', hive_partitioning = true, hive_types = {{'period': VARCHAR}})
         WHERE period = '2022' ORDER BY ALL",
        project.warehouse().display()
    ));
    let mut figures: BTreeMap<(String, String), (f64, String, String)> = BTreeMap::new();
    for line in out.lines() {
        let f: Vec<&str> = line.split('|').collect();
        let value: f64 = f[2].parse().unwrap_or(f64::NAN);
        figures.insert(
            (f[0].to_string(), f[1].to_string()),
            (value, f[3].to_string(), f[4].to_string()),
        );
    }
    let figure = |scope: &str, indicator: &str| -> &(f64, String, String) {
        figures
            .get(&(scope.to_string(), indicator.to_string()))
            .unwrap_or_else(|| panic!("no {indicator} for {scope}: {out}"))
    };
    // (scope, indicator, published value to two decimals, numerator, denominator)
    let published = [
        ("province", "staff.headcount", "24088.00", "None", "None"),
        (
            "level:province",
            "staff.headcount",
            "7229.00",
            "None",
            "None",
        ),
        (
            "level:district",
            "staff.headcount",
            "14274.00",
            "None",
            "None",
        ),
        (
            "level:commune",
            "staff.headcount",
            "2585.00",
            "None",
            "None",
        ),
        (
            "level:province",
            "staff.qualification.postgraduate_pct",
            "17.51",
            "1266.0",
            "7229.0",
        ),
        (
            "level:province",
            "staff.qualification.university_pct",
            "55.40",
            "4005.0",
            "7229.0",
        ),
        (
            "level:province",
            "staff.qualification.college_vocational_pct",
            "25.19",
            "1821.0",
            "7229.0",
        ),
        (
            "level:province",
            "staff.qualification.other_pct",
            "1.90",
            "137.0",
            "7229.0",
        ),
        (
            "level:province",
            "staff.political_theory.advanced_pct",
            "4.79",
            "346.0",
            "7229.0",
        ),
        (
            "level:province",
            "staff.political_theory.intermediate_pct",
            "16.06",
            "1161.0",
            "7229.0",
        ),
        (
            "level:district",
            "staff.qualification.postgraduate_pct",
            "2.51",
            "358.0",
            "14274.0",
        ),
        (
            "level:district",
            "staff.qualification.university_pct",
            "75.96",
            "10842.0",
            "14274.0",
        ),
        (
            "level:district",
            "staff.qualification.college_vocational_pct",
            "21.28",
            "3038.0",
            "14274.0",
        ),
        (
            "level:district",
            "staff.qualification.other_pct",
            "0.25",
            "36.0",
            "14274.0",
        ),
        (
            "level:district",
            "staff.political_theory.advanced_pct",
            "1.55",
            "221.0",
            "14274.0",
        ),
        (
            "level:district",
            "staff.political_theory.intermediate_pct",
            "14.31",
            "2043.0",
            "14274.0",
        ),
        (
            "province",
            "training.participants",
            "26236.00",
            "None",
            "None",
        ),
        (
            "province",
            "training.plan_attainment_pct",
            "106.50",
            "26236.0",
            "24635.0",
        ),
    ];
    let mut mismatches = Vec::new();
    for (scope, indicator, value, numerator, denominator) in published {
        let (v, n, d) = figure(scope, indicator);
        let got = (format!("{v:.2}"), n.as_str(), d.as_str());
        if got != (value.to_string(), numerator, denominator) {
            mismatches.push(format!(
                "{scope} {indicator}: {got:?}, published {value} = {numerator} / {denominator}"
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    // "6.5% over plan".
    let attainment = figure("province", "training.plan_attainment_pct").0;
    assert_eq!(format!("{:.1}", attainment - 100.0), "6.5");
    // The shares of a level add up to 100.
    for level in ["level:province", "level:district", "level:commune"] {
        let sum: f64 = [
            "postgraduate_pct",
            "university_pct",
            "college_vocational_pct",
            "other_pct",
        ]
        .iter()
        .map(|s| figure(level, &format!("staff.qualification.{s}")).0)
        .sum();
        assert!((sum - 100.0).abs() < 1e-9, "{level}: {sum}");
    }
}
