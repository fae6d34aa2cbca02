//! The digest's figures across periods (issue 16): the key figures' trend
//! over the last periods of the same kind and IT recruitment by year, read
//! back from the .eml and from its Excel attachment.
//!
//! Quang Ninh's IT recruitment as the province quotes it: "in 2020 only 4/19
//! IT targets were recruited; in 2022, 8 (66.67 %); in 2024, 3/6". The
//! Department of Home Affairs sends a recruitment workbook for each of the
//! three years (2020 split over two IT fields and a field that is not IT);
//! the fixture province supplies the 2024 and 2025 rosters and training.

use std::path::Path;

use calamine::{Data, Reader, Xlsx, open_workbook};
use nhanluc_fixtures::{self as fixtures, Department};

use crate::indicators::recruitment_form;
use crate::support::{Eml, Project, read_eml, save};

const SNV: Department = Department {
    code: "SNV",
    name: "Sở Nội vụ",
    level: "province",
};

/// One line of a recruitment form: field, target, recruited, resigned.
type Line<'a> = (&'a str, i64, i64, i64);

/// 2020: 15 + 4 IT posts, 3 + 1 filled (4/19), one resigned; "Khác" is not
/// IT. 2022: 8 of 12. 2024: 3 of 6, two resigned.
fn write_recruitment(inbox: &Path) {
    let lines: [(u16, &[Line<'_>]); 3] = [
        (
            2020,
            &[
                ("Công nghệ thông tin", 15, 3, 1),
                ("An toàn thông tin", 4, 1, 0),
                ("Khác", 10, 9, 3),
            ],
        ),
        (2022, &[("Chuyển đổi số", 12, 8, 0)]),
        (2024, &[("Công nghệ thông tin", 6, 3, 2)]),
    ];
    for (year, lines) in lines {
        save(
            &recruitment_form(&SNV, year, lines),
            &inbox.join(format!("SNV/tuyen-dung_{year}.xlsx")),
        );
    }
}

/// The digests of the year `year` in the outbox, in either language.
fn digests(project: &Project, save_dir: &Path, year: &str) -> Vec<Eml> {
    project
        .files_under(&project.outbox(), "eml")
        .iter()
        .enumerate()
        .map(|(i, f)| read_eml(f, &save_dir.join(i.to_string())))
        .filter(|m| {
            m.subject.ends_with(&format!("năm {year}"))
                || m.subject.ends_with(&format!("year {year}"))
        })
        .collect()
}

/// The rows of a sheet of the attachment of `eml`, cells as text.
fn sheet(eml: &Eml, name: &str) -> Vec<Vec<Data>> {
    let (_, path) = &eml.attachments[0];
    let mut workbook: Xlsx<_> = open_workbook(path).expect("attachment opens");
    let range = workbook
        .worksheet_range(name)
        .unwrap_or_else(|e| panic!("sheet {name}: {e}"));
    range.rows().map(|r| r.to_vec()).collect()
}

fn number(cell: Option<&Data>) -> Option<f64> {
    match cell {
        Some(Data::Float(f)) => Some(*f),
        Some(Data::Int(i)) => Some(*i as f64),
        _ => None,
    }
}

#[test]
fn quang_ninh_it_recruitment_is_a_three_year_table_in_the_digest_and_its_attachment() {
    let project = Project::new();
    fixtures::write_province(&project.inbox()).expect("fixtures");
    write_recruitment(&project.inbox());
    project.run_ok(&["run", "nightly"]);
    project.run_ok(&["digest", "--period", "2024"]);

    let scratch = tempfile::tempdir().expect("tmp");
    let messages = digests(&project, scratch.path(), "2024");
    let province = messages
        .iter()
        .find(|m| m.to.contains("chu-tich"))
        .expect("the province's 2024 digest");

    // The body: 4/19 = 21.0526…%, 8/12 = 66.666…%, 3/6 = 50 %.
    for line in [
        "Tuyển dụng nhân lực CNTT theo năm (Chỉ tiêu / Đã tuyển / Tỷ lệ đạt / Thôi việc):",
        "- 2020: 19 / 4 / 21,05% / 1",
        "- 2022: 12 / 8 / 66,67% / 0",
        "- 2024: 6 / 3 / 50,00% / 2",
    ] {
        assert!(province.text.contains(line), "{line}:\n{}", province.text);
    }
    assert!(!province.text.contains("- 2021:"), "{}", province.text);
    // The HTML table: one row per year, its cells in order.
    let html_rows: Vec<&str> = province
        .html
        .split("<tr")
        .filter(|r| {
            ["2020", "2021", "2022", "2023", "2024"]
                .iter()
                .any(|y| r.contains(&format!("<td>{y}</td>")))
        })
        .collect();
    assert_eq!(html_rows.len(), 3, "{}", province.html);
    for (row, cells) in html_rows.iter().zip([
        ["2020", "19", "4", "21,05%", "1"],
        ["2022", "12", "8", "66,67%", "0"],
        ["2024", "6", "3", "50,00%", "2"],
    ]) {
        let mut at = 0;
        for cell in cells {
            let found = row[at..]
                .find(&format!(">{cell}</td>"))
                .unwrap_or_else(|| panic!("{cell} in {row}"));
            at += found + 1;
        }
    }

    // The attachment: the same three years as numbers.
    let table = sheet(province, "Tuyển dụng CNTT");
    let years: Vec<(String, [Option<f64>; 4])> = table
        .iter()
        .filter_map(|r| match r.first() {
            Some(Data::String(y)) if y.len() == 4 && y.starts_with("20") => {
                Some((y.clone(), [1, 2, 3, 4].map(|c| number(r.get(c)))))
            }
            _ => None,
        })
        .collect();
    assert_eq!(years.len(), 3, "{table:?}");
    let expected = [
        ("2020", 19.0, 4.0, 21.05, 1.0),
        ("2022", 12.0, 8.0, 66.67, 0.0),
        ("2024", 6.0, 3.0, 50.00, 2.0),
    ];
    for ((year, got), (want_year, target, recruited, rate, resigned)) in years.iter().zip(expected)
    {
        assert_eq!(year, want_year);
        assert_eq!(got[0], Some(target), "{year} target");
        assert_eq!(got[1], Some(recruited), "{year} recruited");
        let shown = got[2].map(|r| (r * 100.0).round() / 100.0);
        assert_eq!(shown, Some(rate), "{year} fill rate");
        assert_eq!(got[3], Some(resigned), "{year} resigned");
    }

    // The English reader's digest says the same in English.
    let english = messages
        .iter()
        .find(|m| m.to.contains("advisor"))
        .expect("the English digest");
    assert!(
        english.text.contains("IT recruitment by year")
            && english.text.contains("- 2020: 19 / 4 / 21.05% / 1"),
        "{}",
        english.text
    );
    assert!(sheet(english, "IT recruitment").len() >= 5);

    // The trend of the 2024 digest covers the years with indicators: 2020,
    // 2022 (recruitment only) and 2024, drawn as an inline chart.
    let trend = sheet(province, "Xu hướng");
    let header: Vec<String> = trend[1].iter().map(|c| c.to_string()).collect();
    assert_eq!(header[3..], ["2020", "2022", "2024"], "{header:?}");
    assert!(
        province.html.contains("cid:trends@nhanluc")
            && province.inline_png.iter().any(|c| c == "trends@nhanluc"),
        "{:?}",
        province.inline_png
    );
}

#[test]
fn the_trend_follows_the_years_and_its_sheet_matches_each_years_figures() {
    let project = Project::new();
    fixtures::write_province(&project.inbox()).expect("fixtures");
    project.run_ok(&["run", "nightly"]);
    let scratch = tempfile::tempdir().expect("tmp");
    let messages = digests(&project, scratch.path(), "2025");
    let province = messages
        .iter()
        .find(|m| m.to.contains("chu-tich"))
        .expect("the province's 2025 digest");
    assert!(
        province.text.contains("Xu hướng các kỳ gần nhất:"),
        "{}",
        province.text
    );
    // No recruitment workbook: no recruitment table.
    assert!(!province.text.contains("Tuyển dụng nhân lực CNTT"));

    // Each year's headcount in the trend sheet is the one of that year's
    // indicators, as the "Chỉ tiêu" sheet gives this year's and the previous.
    let indicators = sheet(province, "Chỉ tiêu");
    let headcount = indicators
        .iter()
        .find(|r| {
            r.first() == Some(&Data::String("province".into()))
                && r.get(1) == Some(&Data::String("staff.headcount".into()))
        })
        .expect("headcount row");
    let (now, before) = (number(headcount.get(3)), number(headcount.get(7)));
    assert!(now.is_some() && before.is_some());
    let trend = sheet(province, "Xu hướng");
    assert_eq!(
        trend[1][3..5],
        [Data::String("2024".into()), Data::String("2025".into())]
    );
    let row = trend
        .iter()
        .find(|r| r.first() == Some(&Data::String("staff.headcount".into())))
        .expect("trend of the headcount");
    assert_eq!((number(row.get(3)), number(row.get(4))), (before, now));
    let shown = |v: Option<f64>| {
        v.map(|v| nhanluc::digest::group_thousands(v as i64, true))
            .unwrap_or_default()
    };
    assert!(
        province
            .text
            .contains(&format!("2024 {} · 2025 {}", shown(before), shown(now))),
        "{}",
        province.text
    );
    // The department head's trend is the department's own.
    let syt = messages
        .iter()
        .find(|m| m.to.contains("syt"))
        .expect("SYT digest");
    let syt_trend = sheet(syt, "Xu hướng");
    let syt_row = syt_trend
        .iter()
        .find(|r| r.first() == Some(&Data::String("staff.headcount".into())))
        .expect("SYT trend");
    assert_ne!(
        number(syt_row.get(4)),
        now,
        "SYT's own headcount, not the province's"
    );
    assert!(syt.inline_png.iter().any(|c| c == "trends@nhanluc"));
}
