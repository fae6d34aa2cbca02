//! The digest and the mail to departments, delivered through a real SMTP
//! server (Python's aiosmtpd on 127.0.0.1) or written as .eml files.

use crate::support;

use std::path::{Path, PathBuf};

use crate::support::{Eml, Project, duckdb, free_port, read_eml, received, start_smtp_on};
use calamine::{Data, Reader, Xlsx, open_workbook};
use nhanluc_fixtures as fixtures;

fn smtp_config(port: u16) -> String {
    format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\ntimeout_seconds = 5\nfrom = \"Sở Nội vụ <bao-cao@snv.example.gov.vn>\"\n"
    )
}

fn decode_all(files: &[PathBuf], save: &Path) -> Vec<Eml> {
    files
        .iter()
        .enumerate()
        .map(|(i, f)| read_eml(f, &save.join(i.to_string())))
        .collect()
}

#[test]
fn digest_over_smtp_has_inline_charts_and_an_attachment_with_the_figures() {
    let scratch = tempfile::tempdir().expect("tmp");
    let smtp = start_smtp_on(scratch.path(), free_port());
    let project = Project::with_config_extra(&smtp_config(smtp.port));
    // An analyst indicator whose id looks like a formula must stay text in Excel.
    let dir = project.root().join("config/indicators");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("formula_like.sql"),
        "SELECT period, scope, '=HYPERLINK(\"http://example.org\",\"x\")' AS indicator, CAST(COUNT(*) AS DOUBLE) AS value, 'count' AS unit FROM staff_scoped GROUP BY period, scope",
    )
    .expect("write");
    let written = fixtures::write_province(&project.inbox()).expect("fixtures");
    project.run_ok(&["run", "nightly"]);

    let messages = decode_all(&received(&smtp), scratch.path());
    assert_eq!(
        messages.len(),
        3 + written.len(),
        "3 digests and one feedback per file"
    );
    let digests: Vec<&Eml> = messages
        .iter()
        .filter(|m| m.subject.contains("Báo cáo") || m.subject.contains("report"))
        .collect();
    assert_eq!(digests.len(), 3);
    let province = digests
        .iter()
        .find(|m| m.to.contains("chu-tich"))
        .expect("province digest");
    assert_eq!(
        province.subject,
        "[Sở Nội vụ] Báo cáo đào tạo, bồi dưỡng — năm 2025"
    );
    let cids: Vec<&str> = province
        .html
        .match_indices("cid:")
        .map(|(i, _)| province.html[i + 4..].split('"').next().unwrap_or(""))
        .collect();
    assert_eq!(cids.len(), 3, "two bar charts and the trend chart");
    for cid in &cids {
        assert!(
            province.inline_png.iter().any(|c| c == cid),
            "{cid} has no inline PNG part: {:?}",
            province.inline_png
        );
    }
    assert!(
        !province.html.contains("http://") && !province.html.contains("https://"),
        "no remote content"
    );
    assert!(province.text.contains("Xã Nà Tấu"), "who has not submitted");

    // The attachment opens and holds the figures DuckDB counts.
    assert_eq!(province.attachments.len(), 1);
    let (name, path) = &province.attachments[0];
    assert_eq!(name, "nhanluc-2025-province.xlsx");
    let mut workbook: Xlsx<_> = open_workbook(path).expect("attachment opens");
    let sheet = workbook
        .worksheet_range("Chỉ tiêu")
        .expect("indicator sheet");
    let headcount = sheet
        .rows()
        .find(|r| {
            r.first() == Some(&Data::String("province".into()))
                && r.get(1) == Some(&Data::String("staff.headcount".into()))
        })
        .and_then(|r| r.get(3).cloned());
    let counted: f64 = duckdb(&format!(
        "SELECT count(*) FROM read_parquet('{}/staff/**/*.parquet', hive_partitioning = true) WHERE period = 2025",
        project.warehouse().display()
    ))
    .parse()
    .expect("count");
    assert_eq!(headcount, Some(Data::Float(counted)));
    let formula_like = sheet
        .rows()
        .find(|r| matches!(r.get(1), Some(Data::String(s)) if s.starts_with("=HYPERLINK")));
    assert!(
        formula_like.is_some(),
        "the formula-like id is a string cell"
    );
    let formulas = workbook.worksheet_formula("Chỉ tiêu").expect("formulas");
    assert!(
        formulas.used_cells().next().is_none(),
        "no formula in the attachment"
    );

    // The department head sees the province beside the department.
    let syt = digests
        .iter()
        .find(|m| m.to.contains("syt"))
        .expect("SYT digest");
    assert!(
        syt.text.contains("Sở Y tế") && syt.text.contains("Toàn tỉnh:"),
        "{}",
        syt.text
    );

    project.run_ok(&["digest"]);
    assert_eq!(
        received(&smtp).len(),
        messages.len(),
        "nothing is sent twice"
    );
}

#[test]
fn smtp_down_keeps_messages_waiting_and_a_later_run_sends_each_once() {
    let port = free_port();
    let project = Project::with_config_extra(&smtp_config(port));
    let written = fixtures::write_province(&project.inbox()).expect("fixtures");
    let out = project.run(&["run", "nightly"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "mail that waits is retried: it does not fail the run"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("wait in the outbox"), "{stderr}");
    let total = 3 + written.len();
    let status = project.run_ok(&["status"]);
    assert!(
        status.contains(&format!("Outbox: 0 sent, {total} waiting")),
        "feedback and the digests wait: {status}"
    );

    let scratch = tempfile::tempdir().expect("tmp");
    let smtp = start_smtp_on(scratch.path(), port);
    project.run_ok(&["run", "nightly"]);
    let messages = decode_all(&received(&smtp), scratch.path());
    assert_eq!(messages.len(), total);
    let mut ids: Vec<&str> = messages.iter().map(|m| m.message_id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), total, "each message once");
    project.run_ok(&["run", "nightly"]);
    assert_eq!(received(&smtp).len(), total, "a third run sends nothing");
    let status = project.run_ok(&["status"]);
    assert!(
        status.contains(&format!("Outbox: {total} sent, 0 waiting")),
        "{status}"
    );
}

fn outbox_messages(project: &Project, save: &Path) -> Vec<Eml> {
    decode_all(&project.files_under(&project.outbox(), "eml"), save)
}

#[test]
fn feedback_tells_a_department_its_rejected_cells_and_nothing_of_others() {
    let project = Project::new();
    fixtures::write_province(&project.inbox()).expect("fixtures");
    std::fs::write(
        project.inbox().join("HTG/ghi-chu_2025.docx"),
        b"not a workbook",
    )
    .expect("write");
    project.run_ok(&["run", "nightly"]);
    let scratch = tempfile::tempdir().expect("tmp");
    let messages = outbox_messages(&project, scratch.path());
    let syt: Vec<&Eml> = messages
        .iter()
        .filter(|m| m.to.contains("tccb.syt") && m.subject.contains("Kết quả tiếp nhận"))
        .collect();
    assert_eq!(syt.len(), 4, "SYT sent four files");
    let with_reject = syt
        .iter()
        .find(|m| m.subject.contains("1 dòng bị từ chối"))
        .expect("the roster with a bad birth date");
    assert!(
        with_reject.text.contains("31/02/1985") && with_reject.text.contains("Ngày không hợp lệ"),
        "{}",
        with_reject.text
    );
    assert!(with_reject.text.contains("Ngày sinh"), "names the column");
    let others = [
        "Huyện Tuần Giáo",
        "Thành phố Điện Biên Phủ",
        "Xã Thanh Minh",
    ];
    for m in &syt {
        for other in others {
            assert!(
                !m.text.contains(other) && !m.html.contains(other),
                "SYT's feedback mentions {other}"
            );
        }
    }
    let refused = messages
        .iter()
        .find(|m| m.to.contains("noivu.htg") && m.subject.contains("Không tiếp nhận"))
        .expect("feedback on the refused file");
    assert!(
        refused.text.contains("ghi-chu_2025.docx")
            && refused.text.contains("Không phải tệp bảng tính"),
        "{}",
        refused.text
    );
}

/// The feedback lists skipped rows by kind with their numbers, and the
/// form's columns the sheet lacked, so a wrong skip is seen by the officer
/// who can fix it (issue 13).
#[test]
fn feedback_lists_skipped_rows_by_kind_and_the_columns_not_found() {
    let project = Project::new();
    let rows = vec![
        vec![support::C::T("DANH SÁCH CÁN BỘ NĂM 2025")],
        vec![],
        vec![
            support::C::T("STT"),
            support::C::T("Họ và tên"),
            support::C::T("Mã định danh"),
            support::C::T("Ghi chú"),
        ],
        vec![
            support::C::T("(1)"),
            support::C::T("(2)"),
            support::C::T("(3)"),
            support::C::T("(4)"),
        ],
        vec![
            support::C::N(1.0),
            support::C::T("Lò Văn An"),
            support::C::T("001085000001"),
        ],
        vec![
            support::C::N(2.0),
            support::C::T("Lò Thị Bình"),
            support::C::T("001085000002"),
            support::C::T("Nghỉ hưu từ ngày 01 tháng 7 năm 2026"),
        ],
        vec![
            support::C::N(3.0),
            support::C::T("Vi Thị Mai"),
            support::C::T("001085000003"),
        ],
        vec![],
        vec![
            support::C::Blank,
            support::C::T("Điện Biên, ngày 15 tháng 01 năm 2026"),
        ],
        vec![
            support::C::Blank,
            support::C::T("NGƯỜI LẬP BIỂU"),
            support::C::Blank,
            support::C::T("KT. GIÁM ĐỐC"),
        ],
        vec![
            support::C::Blank,
            support::C::T("Quàng Văn Hùng"),
            support::C::Blank,
            support::C::T("Lò Văn Phóng"),
        ],
    ];
    support::write_xlsx(&project.inbox().join("SYT/ds_2025.xlsx"), "DS", &rows);
    // Only the department's answer: one roster is no province's digest.
    std::fs::write(
        project.root().join("jobs/answer.toml"),
        "schedule = \"0 0 8 * * *\"\nsteps = [\"ingest\", \"feedback\"]\ncatch_up = \"skip\"\n",
    )
    .expect("job");
    project.run_ok(&["run", "answer"]);
    let scratch = tempfile::tempdir().expect("tmp");
    let messages = outbox_messages(&project, scratch.path());
    let feedback = messages
        .iter()
        .find(|m| m.to.contains("tccb.syt") && m.subject.contains("Kết quả tiếp nhận"))
        .expect("feedback to SYT");
    assert!(
        feedback.text.contains("3 dòng được ghi nhận"),
        "{}",
        feedback.text
    );
    for line in [
        "Bỏ qua dòng 4: dòng đánh số cột",
        "Bỏ qua dòng 9–11: khối chữ ký",
        "Không tìm thấy cột (để trống trong dữ liệu): Ngày sinh, Giới tính",
    ] {
        assert!(feedback.text.contains(line), "{line}:\n{}", feedback.text);
    }
    assert!(feedback.html.contains("Bỏ qua dòng 9–11: khối chữ ký"));
}

#[test]
fn digests_carry_no_personal_data() {
    let project = Project::new();
    fixtures::write_province(&project.inbox()).expect("fixtures");
    project.run_ok(&["run", "nightly"]);
    let people = duckdb(&format!(
        "SELECT DISTINCT full_name FROM read_parquet('{w}/staff/**/*.parquet') UNION SELECT DISTINCT person_id FROM read_parquet('{w}/staff/**/*.parquet')",
        w = project.warehouse().display()
    ));
    let people: Vec<&str> = people.lines().filter(|p| p.len() > 3).collect();
    assert!(people.len() > 500);
    let scratch = tempfile::tempdir().expect("tmp");
    let digests: Vec<Eml> = outbox_messages(&project, scratch.path())
        .into_iter()
        .filter(|m| m.subject.contains("Báo cáo đào tạo") || m.subject.contains("report"))
        .collect();
    assert_eq!(digests.len(), 3);
    for digest in &digests {
        let mut everything = format!("{}\n{}", digest.text, digest.html);
        for (_, path) in &digest.attachments {
            let mut workbook: Xlsx<_> = open_workbook(path).expect("xlsx");
            for (_, range) in workbook.worksheets() {
                for cell in range.used_cells() {
                    everything.push_str(&format!("{}\n", cell.2));
                }
            }
        }
        for person in &people {
            assert!(
                !everything.contains(person),
                "{person} appears in the digest to {}",
                digest.to
            );
        }
    }
}

#[test]
fn reminders_go_once_to_departments_that_have_not_submitted() {
    let project =
        Project::with_config_extra("[reminders]\nperiod = \"year\"\ndays_after_period_end = 0\n");
    std::fs::write(
        project.root().join("jobs/reminders.toml"),
        "schedule = \"0 0 8 * * Mon\"\nsteps = [\"reminders\"]\ncatch_up = \"skip\"\n",
    )
    .expect("job");
    fixtures::write_province(&project.inbox()).expect("fixtures");
    project.run_ok(&["ingest"]);
    project.run_ok(&["run", "reminders"]);
    project.run_ok(&["run", "reminders"]);
    let scratch = tempfile::tempdir().expect("tmp");
    let reminders: Vec<Eml> = outbox_messages(&project, scratch.path())
        .into_iter()
        .filter(|m| m.subject.contains("Nhắc nộp"))
        .collect();
    // The fixtures' last full year is 2025, when only XNT sent nothing (today
    // is after 2025, whatever the date the test runs).
    assert_eq!(
        reminders.len(),
        1,
        "{:?}",
        reminders.iter().map(|m| &m.to).collect::<Vec<_>>()
    );
    assert!(reminders[0].to.contains("ubnd.xnt"));
    assert!(
        reminders[0].text.contains("Xã Nà Tấu") && reminders[0].text.contains("inbox/XNT/"),
        "{}",
        reminders[0].text
    );
}
