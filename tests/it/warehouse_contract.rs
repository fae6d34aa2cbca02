//! The warehouse as a contract for other engines: the registry as the
//! `departments` table, the competency table, every table's schema under
//! `_schemas/` and the scopes' SQL (`_schemas/scopes.sql`), readable with
//! nothing but the warehouse, after any ingest or indicators step.

use std::path::Path;

use crate::support::{Project, duckdb, python, write_registry};
use nhanluc_fixtures::{self as fixtures, Department};

/// `departments.toml` of the project as `code|name|level` lines, read by
/// Python's own TOML parser (not by nhanluc), in file order.
fn registry_lines(project: &Project) -> Vec<String> {
    python(
        "import sys, tomllib\n\
         for d in tomllib.load(open(sys.argv[1], 'rb'))['department']:\n\
         \x20   print(d['code'] + '|' + d['name'] + '|' + d['level'])",
        &[project.root().join("config/departments.toml")],
    )
    .lines()
    .map(str::to_string)
    .collect()
}

fn departments_file(project: &Project) -> std::path::PathBuf {
    project.warehouse().join("departments/part-0.parquet")
}

fn departments_in_duckdb(project: &Project) -> Vec<String> {
    let sql = format!(
        "SELECT code, name, level FROM read_parquet('{}')",
        departments_file(project).display()
    );
    duckdb(&sql).lines().map(str::to_string).collect()
}

#[test]
fn duckdb_reads_the_registry_from_the_warehouse_after_a_nightly_run() {
    let project = Project::new();
    fixtures::write_province(&project.inbox()).expect("fixtures");
    project.run_ok(&["run", "nightly"]);
    let expected = registry_lines(&project);
    // The repository's registry: 14 departments (first SNV, Sở Nội vụ, province).
    assert!(expected.len() > 1, "{expected:?}");
    assert_eq!(expected[0], "SNV|Sở Nội vụ|province");
    assert_eq!(departments_in_duckdb(&project), expected);
    // Its columns are strings, none null.
    let types = duckdb(&format!(
        "SELECT typeof(code), typeof(name), typeof(level), count(*) FILTER (WHERE code IS NULL OR name IS NULL OR level IS NULL) FROM read_parquet('{}') GROUP BY ALL",
        departments_file(&project).display()
    ));
    assert_eq!(types, "VARCHAR|VARCHAR|VARCHAR|0");
    // Joined with the data by the staff rows' Hive `department` column: every
    // department that sent staff is in the registry.
    let orphans = duckdb(&format!(
        "SELECT count(*) FROM read_parquet('{}/staff/*/*/*.parquet', hive_partitioning = true) s \
         ANTI JOIN read_parquet('{}') d ON d.code = s.department",
        project.warehouse().display(),
        departments_file(&project).display()
    ));
    assert_eq!(orphans, "0");
    // The schema files are not data: the staff table read as a Hive dataset
    // is the same with or without them.
    let with_glob = duckdb(&format!(
        "SELECT count(*) FROM read_parquet('{}/staff/**/*.parquet', hive_partitioning = true)",
        project.warehouse().display()
    ));
    let partitioned = duckdb(&format!(
        "SELECT count(*) FROM read_parquet('{}/staff/period=*/department=*/*.parquet', hive_partitioning = true)",
        project.warehouse().display()
    ));
    assert_eq!(with_glob, partitioned);
}

/// Every table's expected columns and Arrow types, as pyarrow names them.
const EXPECTED_SCHEMAS: &[(&str, &[(&str, &str)])] = &[
    (
        "rejects",
        &[
            ("submission_id", "string"),
            ("source_file", "string"),
            ("source_sheet", "string"),
            ("source_row", "int64"),
            ("column", "string"),
            ("cell", "string"),
            ("value", "string"),
            ("reason_vi", "string"),
            ("reason_en", "string"),
            ("period", "string"),
            ("department", "string"),
        ],
    ),
    (
        "submissions",
        &[
            ("submission_id", "string"),
            ("sha256", "string"),
            ("source_file", "string"),
            ("received_at", "string"),
            (
                "status",
                "dictionary<values=string, indices=int32, ordered=0>",
            ),
            ("templates", "string"),
            ("rows_loaded", "int64"),
            ("rows_rejected", "int64"),
            ("rows_skipped", "int64"),
            ("period", "string"),
            ("department", "string"),
        ],
    ),
    (
        "indicators",
        &[
            ("scope", "string"),
            ("indicator", "string"),
            ("value", "double"),
            ("numerator", "double"),
            ("denominator", "double"),
            (
                "unit",
                "dictionary<values=string, indices=int32, ordered=0>",
            ),
            ("period", "string"),
        ],
    ),
    (
        "departments",
        &[("code", "string"), ("name", "string"), ("level", "string")],
    ),
    (
        "competencies",
        &[("post_group", "string"), ("category", "string")],
    ),
];

/// `name:type` of every column of every `_schemas/*.parquet`, and its row
/// count, as pyarrow reads them: `table rows name:type;name:type;…` per line.
fn schemas_by_pyarrow(project: &Project) -> Vec<String> {
    python(
        "import sys, pathlib, pyarrow.parquet as pq\n\
         for p in sorted(pathlib.Path(sys.argv[1]).glob('*.parquet')):\n\
         \x20   t = pq.read_table(p)\n\
         \x20   print(p.stem, t.num_rows, ';'.join(f'{f.name}:{f.type}' for f in t.schema))",
        &[project.warehouse().join("_schemas")],
    )
    .lines()
    .map(str::to_string)
    .collect()
}

#[test]
fn an_empty_inbox_still_leaves_every_table_schema_readable() {
    let project = Project::new();
    project.run_ok(&["run", "nightly"]);
    let lines = schemas_by_pyarrow(&project);
    let tables: Vec<&str> = lines.iter().filter_map(|l| l.split(' ').next()).collect();
    assert_eq!(
        tables,
        [
            "competencies",
            "departments",
            "indicators",
            "plan",
            "recruitment",
            "rejects",
            "staff",
            "submissions",
            "training"
        ]
    );
    for line in &lines {
        let mut fields = line.splitn(3, ' ');
        let (table, rows, columns) = (
            fields.next().unwrap_or_default(),
            fields.next().unwrap_or_default(),
            fields.next().unwrap_or_default(),
        );
        assert_eq!(rows, "0", "{table} holds rows");
        let columns: Vec<&str> = columns.split(';').collect();
        if let Some((_, expected)) = EXPECTED_SCHEMAS.iter().find(|(t, _)| *t == table) {
            let expected: Vec<String> = expected.iter().map(|(n, t)| format!("{n}:{t}")).collect();
            assert_eq!(columns, expected, "{table}");
        } else {
            // A template table: its fields, the three source columns, then the
            // two Hive columns, as strings.
            assert_eq!(
                columns[columns.len() - 5..],
                [
                    "submission_id:string",
                    "source_sheet:string",
                    "source_row:int64",
                    "period:string",
                    "department:string"
                ],
                "{table}"
            );
        }
    }
    // staff: the roster's typed columns (text, a date, an enumeration).
    let staff = lines
        .iter()
        .find(|l| l.starts_with("staff "))
        .cloned()
        .unwrap_or_default();
    for column in [
        "person_id:string",
        "birth_date:date32[day]",
        "gender:dictionary<values=string, indices=int32, ordered=0>",
    ] {
        assert!(staff.contains(column), "{column} missing from {staff}");
    }
    // No data part appeared: the warehouse holds only the contract files.
    assert!(!project.warehouse().join("staff").exists());
}

/// The competency table as `group|category` lines, read by DuckDB.
fn competencies_in_duckdb(project: &Project) -> Vec<String> {
    duckdb(&format!(
        "SELECT post_group, category FROM read_parquet('{}') ORDER BY ALL",
        project
            .warehouse()
            .join("competencies/part-0.parquet")
            .display()
    ))
    .lines()
    .map(str::to_string)
    .collect()
}

#[test]
fn an_ingest_alone_leaves_the_contract_and_the_competencies_follow_the_config() {
    let project = Project::new();
    fixtures::write_province(&project.inbox()).expect("demo province");
    project.run_ok(&["ingest"]);
    assert!(
        !project.warehouse().join("indicators").exists(),
        "no indicators step ran"
    );
    assert!(departments_file(&project).is_file());
    let scopes = std::fs::read_to_string(project.warehouse().join("_schemas/scopes.sql"))
        .expect("_schemas/scopes.sql after an ingest");
    assert_eq!(
        scopes,
        nhanluc::indicators::SCOPES_SQL,
        "the text nhanluc runs"
    );
    for view in [
        "-- view: department_scopes",
        "-- view: staff_scoped",
        "-- view: {table}_scoped",
    ] {
        assert!(scopes.contains(view), "{view}");
    }
    // The built-in table, then an overlay of config/competencies.toml.
    let built_in = competencies_in_duckdb(&project);
    for pair in ["it|digital", "it|professional"] {
        assert!(built_in.contains(&pair.to_string()), "{pair}: {built_in:?}");
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/competencies.toml");
    let text = std::fs::read_to_string(repo).expect("config/competencies.toml");
    let narrowed = text.replace("it = [\"digital\", \"professional\"]", "it = [\"digital\"]");
    assert_ne!(
        narrowed, text,
        "the built-in file names it = [digital, professional]"
    );
    std::fs::write(project.root().join("config/competencies.toml"), narrowed)
        .expect("competencies overlay");
    project.run_ok(&["ingest"]);
    let overlaid = competencies_in_duckdb(&project);
    assert!(overlaid.contains(&"it|digital".to_string()), "{overlaid:?}");
    assert!(
        !overlaid.contains(&"it|professional".to_string()),
        "{overlaid:?}"
    );
    assert_eq!(overlaid.len(), built_in.len() - 1);
}

#[test]
fn the_registry_file_is_unchanged_by_a_second_run_and_replaced_when_the_registry_changes() {
    let project = Project::new();
    // The fixture province's first two departments: SNV and SYT.
    let (snv, syt) = (fixtures::DEPARTMENTS[0], fixtures::DEPARTMENTS[1]);
    write_registry(&project, &[snv, syt]);
    project.run_ok(&["run", "nightly"]);
    let first = std::fs::read(departments_file(&project)).expect("departments file");
    let modified = std::fs::metadata(departments_file(&project))
        .and_then(|m| m.modified())
        .expect("mtime");
    let schemas_before =
        std::fs::read(project.warehouse().join("_schemas/staff.parquet")).expect("staff schema");

    project.run_ok(&["run", "nightly"]);
    assert_eq!(
        std::fs::read(departments_file(&project)).expect("departments file"),
        first
    );
    // Not rewritten at all (same bytes and the same modification time).
    assert_eq!(
        std::fs::metadata(departments_file(&project))
            .and_then(|m| m.modified())
            .expect("mtime"),
        modified
    );
    assert_eq!(
        std::fs::read(project.warehouse().join("_schemas/staff.parquet")).expect("staff schema"),
        schemas_before
    );
    assert_eq!(
        departments_in_duckdb(&project),
        ["SNV|Sở Nội vụ|province", "SYT|Sở Y tế|province"]
    );

    let hdb = Department {
        code: "HDB",
        name: "UBND huyện Điện Biên",
        level: "district",
    };
    write_registry(&project, &[snv, syt, hdb]);
    project.run_ok(&["run", "nightly"]);
    assert_ne!(
        std::fs::read(departments_file(&project)).expect("departments file"),
        first
    );
    assert_eq!(
        departments_in_duckdb(&project),
        [
            "SNV|Sở Nội vụ|province",
            "SYT|Sở Y tế|province",
            "HDB|UBND huyện Điện Biên|district"
        ]
    );
}

#[test]
fn rebuild_writes_the_registry_and_the_schemas_again() {
    let project = Project::new();
    fixtures::write_province(&project.inbox()).expect("fixtures");
    project.run_ok(&["run", "nightly"]);
    let registry = std::fs::read(departments_file(&project)).expect("departments file");
    let schema = std::fs::read(project.warehouse().join("_schemas/training.parquet"))
        .expect("training schema");
    // The state lost: `rebuild` moves the warehouse aside and writes it anew.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(project.data().join(format!("state.sqlite3{suffix}")));
    }
    let out = project.run_ok(&["rebuild"]);
    assert!(out.contains("old warehouse kept as"), "{out}");
    assert_eq!(
        std::fs::read(departments_file(&project)).expect("rebuilt departments file"),
        registry
    );
    assert_eq!(
        std::fs::read(project.warehouse().join("_schemas/training.parquet"))
            .expect("rebuilt training schema"),
        schema
    );
}
