//! The catalogue as an analyst meets it: a query dropped into the indicators
//! folder with its label file beside it shows in the digest under its
//! Vietnamese label, without a rebuild; one without a label file shows by its
//! id; the built-in indicators keep their labels.

use crate::support::{Eml, Project, duckdb, read_eml};
use calamine::{Data, Reader, Xlsx, open_workbook};
use nhanluc_fixtures as fixtures;

const WOMEN_SQL: &str = "-- staff.women: women on the roster.
SELECT period, scope,
       'staff.women' AS indicator,
       CAST(SUM(CASE WHEN gender = 'female' THEN 1 ELSE 0 END) AS DOUBLE) AS value,
       CAST(NULL AS DOUBLE) AS numerator,
       CAST(NULL AS DOUBLE) AS denominator,
       'count' AS unit
FROM staff_scoped
GROUP BY period, scope
";

const WOMEN_LABELS: &str = r#"["staff.women"]
label_vi = "Cán bộ nữ"
label_en = "Women on the staff"
unit = "count"
"#;

const UNLABELLED_SQL: &str = "SELECT period, scope,
       'staff.unlabelled' AS indicator,
       CAST(COUNT(*) AS DOUBLE) AS value,
       CAST(NULL AS DOUBLE) AS numerator,
       CAST(NULL AS DOUBLE) AS denominator,
       'count' AS unit
FROM staff_scoped
GROUP BY period, scope
";

/// The province's value of `indicator` for 2025, as the warehouse holds it.
fn province_value(project: &Project, indicator: &str) -> f64 {
    let file = project
        .warehouse()
        .join("indicators/period=2025/part-0.parquet");
    let text = duckdb(&format!(
        "SELECT value FROM read_parquet('{}') WHERE indicator = '{indicator}' AND scope = 'province'",
        file.display()
    ));
    text.parse()
        .unwrap_or_else(|_| panic!("{indicator}: {text:?}"))
}

/// A count as the Vietnamese digest writes it: 1.234.
fn vi_count(value: f64) -> String {
    nhanluc::digest::group_thousands(value.round() as i64, true)
}

fn digest_to<'m>(messages: &'m [Eml], to: &str) -> &'m Eml {
    messages
        .iter()
        .find(|m| {
            m.to.contains(to)
                && (m.subject.contains("Báo cáo đào tạo")
                    || m.subject.contains("Training and fostering"))
        })
        .unwrap_or_else(|| panic!("no digest to {to}"))
}

#[test]
fn a_new_query_with_its_label_file_shows_in_the_digest_under_its_label() {
    let project = Project::new();
    let indicators = project.root().join("config/indicators");
    std::fs::create_dir_all(&indicators).expect("indicators folder");
    std::fs::write(indicators.join("staff_women.sql"), WOMEN_SQL).expect("sql");
    std::fs::write(indicators.join("staff_women.toml"), WOMEN_LABELS).expect("labels");
    std::fs::write(indicators.join("staff_unlabelled.sql"), UNLABELLED_SQL).expect("sql");
    fixtures::write_province(&project.inbox()).expect("fixtures");

    let check = project.run_ok(&["check"]);
    assert!(check.contains("21 indicator files"), "{check}");
    project.run_ok(&["run", "nightly"]);

    let women = province_value(&project, "staff.women");
    assert!(women > 0.0, "the fixture province has women on its rosters");
    let headcount = province_value(&project, "staff.headcount");
    let unlabelled = province_value(&project, "staff.unlabelled");

    let scratch = tempfile::tempdir().expect("tmp");
    let messages: Vec<Eml> = project
        .files_under(&project.outbox(), "eml")
        .iter()
        .enumerate()
        .map(|(i, f)| read_eml(f, &scratch.path().join(i.to_string())))
        .collect();
    let vi = digest_to(&messages, "chu-tich@");
    let line = format!("- Cán bộ nữ: {}", vi_count(women));
    assert!(vi.text.contains(&line), "{line:?} not in\n{}", vi.text);
    assert!(vi.html.contains("Cán bộ nữ"), "{}", vi.html);
    // The built-in indicators keep their labels.
    let line = format!(
        "- Tổng số cán bộ, công chức, viên chức: {}",
        vi_count(headcount)
    );
    assert!(vi.text.contains(&line), "{line:?} not in\n{}", vi.text);
    assert!(vi.text.contains("- Trình độ sau đại học: "), "{}", vi.text);
    // Without a label file: shown by its id, as any id without a label.
    let line = format!("- staff.unlabelled: {}", vi_count(unlabelled));
    assert!(vi.text.contains(&line), "{line:?} not in\n{}", vi.text);

    let en = digest_to(&messages, "advisor@");
    assert!(en.text.contains("- Women on the staff: "), "{}", en.text);
    assert!(
        en.text.contains("- Civil servants and public employees: "),
        "{}",
        en.text
    );

    // The attachment names the new id by its label too.
    let (_, saved) = vi
        .attachments
        .iter()
        .find(|(name, _)| name.ends_with(".xlsx"))
        .expect("the Excel attachment");
    let mut workbook: Xlsx<_> = open_workbook(saved).expect("xlsx");
    let sheet = workbook
        .worksheet_range_at(0)
        .expect("sheet")
        .expect("read");
    let labelled = sheet.rows().any(|row| {
        row.get(1) == Some(&Data::String("staff.women".into()))
            && row.get(2) == Some(&Data::String("Cán bộ nữ".into()))
    });
    assert!(labelled, "the attachment labels staff.women");
}

#[test]
fn a_label_file_of_the_folder_replaces_the_built_in_one_and_a_broken_one_is_named() {
    let project = Project::new();
    let indicators = project.root().join("config/indicators");
    std::fs::create_dir_all(&indicators).expect("indicators folder");
    let relabelled = r#"["staff.headcount"]
label_vi = "Tổng biên chế"
label_en = "Headcount"
unit = "count"
"#;
    std::fs::write(indicators.join("staff_headcount.toml"), relabelled).expect("labels");
    let check = project.run_ok(&["check"]);
    assert!(check.contains("is fine"), "{check}");

    // A second file labelling the same id, with a unit that is not one.
    let broken = r#"["staff.headcount"]
label_vi = "Lại"
label_en = "Again"
unit = "people"
"#;
    std::fs::write(indicators.join("extra.toml"), broken).expect("labels");
    let out = project.run(&["check"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stdout.contains("extra.toml") && stdout.contains("staff.headcount.unit"),
        "{stdout}"
    );
    std::fs::write(
        indicators.join("extra.toml"),
        broken.replace("people", "count"),
    )
    .expect("labels");
    let out = project.run(&["check"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("extra.toml") && stdout.contains("labelled in"),
        "{stdout}"
    );
    std::fs::remove_file(indicators.join("extra.toml")).expect("remove");

    fixtures::write_province(&project.inbox()).expect("fixtures");
    project.run_ok(&["run", "nightly"]);
    let scratch = tempfile::tempdir().expect("tmp");
    let messages: Vec<Eml> = project
        .files_under(&project.outbox(), "eml")
        .iter()
        .enumerate()
        .map(|(i, f)| read_eml(f, &scratch.path().join(i.to_string())))
        .collect();
    let vi = digest_to(&messages, "chu-tich@");
    assert!(vi.text.contains("- Tổng biên chế: "), "{}", vi.text);
    assert!(
        !vi.text.contains("Tổng số cán bộ, công chức, viên chức"),
        "{}",
        vi.text
    );
}

/// The key figures the digest shows first are data too: `key_figure` in a
/// label file puts an analyst's indicator among them, in that place.
#[test]
fn a_label_file_places_a_new_indicator_among_the_key_figures() {
    let project = Project::new();
    let indicators = project.root().join("config/indicators");
    std::fs::create_dir_all(&indicators).expect("indicators folder");
    std::fs::write(indicators.join("staff_women.sql"), WOMEN_SQL).expect("sql");
    let keyed = WOMEN_LABELS.replace("unit = \"count\"\n", "unit = \"count\"\nkey_figure = 2\n");
    std::fs::write(indicators.join("staff_women.toml"), keyed).expect("labels");
    fixtures::write_province(&project.inbox()).expect("fixtures");
    project.run_ok(&["run", "nightly"]);

    let scratch = tempfile::tempdir().expect("tmp");
    let messages: Vec<Eml> = project
        .files_under(&project.outbox(), "eml")
        .iter()
        .enumerate()
        .map(|(i, f)| read_eml(f, &scratch.path().join(i.to_string())))
        .collect();
    let vi = digest_to(&messages, "chu-tich@");
    let at = |label: &str| {
        vi.text
            .find(&format!("- {label}: "))
            .unwrap_or_else(|| panic!("{label:?} not in\n{}", vi.text))
    };
    // Place 2 ties with the built-in training.participants: by id, so
    // staff.women comes before it, after the headcount (place 1).
    let headcount = at("Tổng số cán bộ, công chức, viên chức");
    let women = at("Cán bộ nữ");
    let participants = at("Lượt người được đào tạo, bồi dưỡng");
    assert!(
        headcount < women && women < participants,
        "key figures out of order:\n{}",
        vi.text
    );
    // Shown once among the figures (a key figure is not repeated with the
    // details), and once more in the trend of the key figures.
    let shown: Vec<&str> = vi
        .text
        .lines()
        .filter(|l| l.starts_with("- Cán bộ nữ: "))
        .collect();
    assert_eq!(shown.len(), 2, "{}", vi.text);
    assert!(shown[1].starts_with("- Cán bộ nữ: 2024 "), "{}", vi.text);
}
