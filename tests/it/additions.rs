//! Supplements ("bổ sung") and batches ("đợt N"): an addition adds its rows
//! to what its department sent; a whole list replaces them; a small
//! undeclared list that shares nobody is refused as ambiguous (DESIGN,
//! Warehouse). Each case read back from the warehouse (DuckDB) and from the
//! feedback the department gets (.eml).

use std::path::Path;

use crate::support::{self, C, Eml, Project, duckdb, read_eml, write_sheets, write_xlsx};

/// A project with a job that ingests, answers the departments and computes
/// the indicators (no digest: these inboxes do not fill every indicator).
fn project() -> Project {
    let project = Project::new();
    std::fs::write(
        project.root().join("jobs/answer.toml"),
        "schedule = \"0 0 2 * * *\"\nsteps = [\"ingest\", \"feedback\", \"indicators\"]\n",
    )
    .expect("job");
    project
}

fn people(prefix: &str, from: usize, n: usize) -> Vec<(String, String)> {
    (from..from + n)
        .map(|i| (format!("{prefix} Văn {i}"), format!("{prefix}{i:04}")))
        .collect()
}

/// A roster of `people` under `title` (a title line above the header),
/// everyone with a university degree.
fn roster(path: &Path, title: &'static str, people: &[(String, String)]) {
    write_xlsx(path, "DS", &roster_rows(title, people));
}

fn roster_rows(title: &'static str, people: &[(String, String)]) -> Vec<Vec<C>> {
    let people: Vec<(&str, &str, &str)> = people
        .iter()
        .map(|(name, id)| (name.as_str(), id.as_str(), "Đại học"))
        .collect();
    support::staff_rows(title, &people)
}

/// A training list of (name, ID, course) under `title`, its year on the
/// line below.
fn training(path: &Path, title: &'static str, rows_of: &[(String, String, &str)]) {
    write_xlsx(path, "DS", &training_rows(title, rows_of));
}

fn training_rows(title: &'static str, rows_of: &[(String, String, &str)]) -> Vec<Vec<C>> {
    let attendances: Vec<(&str, &str, &str)> = rows_of
        .iter()
        .map(|(name, id, course)| (name.as_str(), id.as_str(), *course))
        .collect();
    let mut rows = support::training_rows(title, &attendances);
    rows.insert(2, vec![C::T("NĂM 2025")]);
    rows
}

fn attending(
    people: &[(String, String)],
    course: &'static str,
) -> Vec<(String, String, &'static str)> {
    people
        .iter()
        .map(|(name, id)| (name.clone(), id.clone(), course))
        .collect()
}

/// The IDs the warehouse holds for `table`, sorted, one per line.
fn held_ids(project: &Project, table: &str) -> Vec<String> {
    let text = duckdb(&format!(
        "SELECT person_id FROM read_parquet('{}/{table}/**/*.parquet', hive_partitioning = true) ORDER BY person_id",
        project.warehouse().display()
    ));
    text.lines().map(str::to_string).collect()
}

/// `columns` of every reject the warehouse holds, one per line.
fn rejects(project: &Project, columns: &str) -> String {
    duckdb(&format!(
        "SELECT {columns} FROM read_parquet('{}/rejects/**/*.parquet', hive_partitioning = true)",
        project.warehouse().display()
    ))
}

fn ids(people: &[(String, String)]) -> Vec<String> {
    let mut ids: Vec<String> = people.iter().map(|(_, id)| id.clone()).collect();
    ids.sort();
    ids
}

/// The feedback about `file_name` in the outbox.
fn feedback_about(project: &Project, file_name: &str) -> Eml {
    let scratch = tempfile::tempdir().expect("tmp");
    project
        .files_under(&project.outbox(), "eml")
        .iter()
        .enumerate()
        .map(|(i, f)| read_eml(f, &scratch.path().join(i.to_string())))
        .find(|m| m.subject.contains("Kết quả tiếp nhận") && m.subject.contains(file_name))
        .unwrap_or_else(|| panic!("no feedback about {file_name}"))
}

fn province_headcount(project: &Project) -> String {
    duckdb(&format!(
        "SELECT value FROM read_parquet('{}/indicators/period=2025/part-0.parquet') WHERE indicator = 'staff.headcount' AND scope = 'province'",
        project.warehouse().display()
    ))
}

#[test]
fn a_supplement_adds_its_people_to_the_roster_and_the_feedback_says_so() {
    let project = project();
    let original = people("Lò", 1, 18);
    let hired = people("Quàng", 1, 3);
    roster(
        &project.inbox().join("XTM/danh-sach-can-bo_2025.xlsx"),
        "DANH SÁCH CÁN BỘ, CÔNG CHỨC",
        &original,
    );
    project.run_ok(&["run", "answer"]);
    let supplement = project.inbox().join("XTM/ds-moi-tuyen_2025.xlsx");
    roster(&supplement, "DANH SÁCH BỔ SUNG CÁN BỘ, CÔNG CHỨC", &hired);
    let inspected = project.run_ok(&["inspect", &supplement.to_string_lossy()]);
    assert!(
        inspected.contains("as a supplement: its rows are added"),
        "{inspected}"
    );
    let json = project.run_ok(&["inspect", "--json", &supplement.to_string_lossy()]);
    assert!(json.contains("\"addition\": \"supplement\""), "{json}");
    let out = project.run_ok(&["ingest"]);
    assert!(
        !out.contains("supersedes")
            && out.contains("supplement added to XTM/danh-sach-can-bo_2025.xlsx"),
        "{out}"
    );
    project.run_ok(&["run", "answer"]);

    let both: Vec<String> = ids(&[original.clone(), hired.clone()].concat());
    assert_eq!(held_ids(&project, "staff"), both);
    let headcount: f64 = province_headcount(&project).parse().expect("headcount");
    assert_eq!(headcount, 21.0);
    let ledger = duckdb(&format!(
        "SELECT status, count(*) FROM read_parquet('{}/submissions/**/*.parquet', hive_partitioning = true) GROUP BY status",
        project.warehouse().display()
    ));
    assert_eq!(ledger, "accepted|2", "neither file is superseded");

    let mail = feedback_about(&project, "ds-moi-tuyen_2025.xlsx");
    assert!(mail.subject.contains("Đã bổ sung"), "{}", mail.subject);
    assert!(
        mail.text.contains("Đã bổ sung 3 người vào danh sách")
            && mail.text.contains("danh-sach-can-bo_2025.xlsx")
            && mail.text.contains("18 dòng"),
        "{}",
        mail.text
    );
    assert!(mail.html.contains("Đã bổ sung 3 người"), "{}", mail.html);
    let status = project.run_ok(&["status"]);
    assert!(status.contains("+1 tệp bổ sung"), "{status}");
    support::assert_rows_accounted(&project);
}

#[test]
fn two_training_batches_are_both_held_and_a_repeated_attendance_is_rejected_naming_the_first() {
    let project = project();
    let first = people("Tòng", 1, 8);
    let second = people("Lường", 1, 6);
    training(
        &project.inbox().join("HTG/dao-tao-dot-1_2025.xlsx"),
        "KẾT QUẢ BỒI DƯỠNG ĐỢT 1",
        &attending(&first, "Kỹ năng số cơ bản"),
    );
    project.run_ok(&["ingest"]);
    // Batch 2 lists one of batch 1's attendances again, and the same
    // person of batch 1 on another course (a new attendance).
    let mut batch_two = attending(&second, "Kỹ năng số cơ bản");
    batch_two.push((first[2].0.clone(), first[2].1.clone(), "Kỹ năng số cơ bản"));
    batch_two.push((first[4].0.clone(), first[4].1.clone(), "An toàn thông tin"));
    training(
        &project.inbox().join("HTG/dao-tao_2025.xlsx"),
        "KẾT QUẢ BỒI DƯỠNG ĐỢT 2",
        &batch_two,
    );
    project.run_ok(&["run", "answer"]);

    let held = held_ids(&project, "training");
    assert_eq!(held.len(), 8 + 6 + 1, "{held:?}");
    let rejects = rejects(&project, "source_row, reason_vi");
    // Row 12 of the second file: the header is row 5, batch 2's six first.
    assert!(
        rejects.starts_with(
            "12|Lượt học này (Tòng Văn 3) đã có trong tệp \"HTG/dao-tao-dot-1_2025.xlsx\""
        ) && rejects.contains("dòng 8 của trang \"DS\""),
        "{rejects}"
    );
    assert_eq!(rejects.lines().count(), 1, "{rejects}");
    let mail = feedback_about(&project, "dao-tao_2025.xlsx");
    assert!(
        mail.subject.contains("Đã bổ sung, 1 dòng bị từ chối"),
        "{}",
        mail.subject
    );
    assert!(
        mail.text.contains("Đã bổ sung 7 lượt học vào danh sách")
            && mail.text.contains("dao-tao-dot-1_2025.xlsx")
            && mail.text.contains("tệp bổ sung chỉ gồm các dòng đã sửa"),
        "{}",
        mail.text
    );
    support::assert_rows_accounted(&project);
}

#[test]
fn a_batch_sent_again_replaces_that_batch_only() {
    let project = project();
    training(
        &project.inbox().join("HTG/dot-1_2025.xlsx"),
        "KẾT QUẢ BỒI DƯỠNG",
        &attending(&people("Tòng", 1, 8), "Kỹ năng số"),
    );
    project.run_ok(&["ingest"]);
    training(
        &project.inbox().join("HTG/dot-2_2025.xlsx"),
        "KẾT QUẢ BỒI DƯỠNG",
        &attending(&people("Lường", 1, 6), "Kỹ năng số"),
    );
    project.run_ok(&["ingest"]);
    // Batch 2 corrected: five of its six, one name changed.
    let mut corrected = people("Lường", 1, 5);
    corrected[0].0 = "Lường Thị 1".into();
    training(
        &project.inbox().join("HTG/dot-2-sua_2025.xlsx"),
        "KẾT QUẢ BỒI DƯỠNG",
        &attending(&corrected, "Kỹ năng số"),
    );
    let out = project.run_ok(&["ingest"]);
    assert!(out.contains("supersedes training:"), "{out}");
    project.run_ok(&["run", "answer"]);
    assert_eq!(
        held_ids(&project, "training"),
        ids(&[people("Tòng", 1, 8), corrected].concat())
    );
    let mail = feedback_about(&project, "dot-2-sua_2025.xlsx");
    assert!(
        mail.text
            .contains("Tệp này thay thế đợt 2 đã gửi trước (tệp \"dot-2_2025.xlsx\""),
        "{}",
        mail.text
    );
}

#[test]
fn a_full_list_after_an_original_and_its_supplement_replaces_both() {
    let project = project();
    roster(
        &project.inbox().join("XTM/ds_2025.xlsx"),
        "DANH SÁCH CÁN BỘ",
        &people("Lò", 1, 10),
    );
    project.run_ok(&["ingest"]);
    roster(
        &project.inbox().join("XTM/ds bo sung_2025.xlsx"),
        "DANH SÁCH CÁN BỘ",
        &people("Quàng", 1, 2),
    );
    project.run_ok(&["ingest"]);
    assert_eq!(held_ids(&project, "staff").len(), 12);
    let corrected = [people("Lò", 1, 9), people("Quàng", 1, 2)].concat();
    roster(
        &project.inbox().join("XTM/ds-chinh-thuc_2025.xlsx"),
        "DANH SÁCH CÁN BỘ",
        &corrected,
    );
    project.run_ok(&["run", "answer"]);
    assert_eq!(held_ids(&project, "staff"), ids(&corrected));
    let ledger = duckdb(&format!(
        "SELECT source_file, status FROM read_parquet('{}/submissions/**/*.parquet', hive_partitioning = true) ORDER BY received_at, source_file",
        project.warehouse().display()
    ));
    assert_eq!(
        ledger,
        "XTM/ds_2025.xlsx|superseded\nXTM/ds bo sung_2025.xlsx|superseded\nXTM/ds-chinh-thuc_2025.xlsx|accepted"
    );
    let mail = feedback_about(&project, "ds-chinh-thuc_2025.xlsx");
    assert!(
        mail.text.contains("Tệp này THAY THẾ danh sách")
            && mail.text.contains("\"ds_2025.xlsx\"")
            && mail.text.contains("\"ds bo sung_2025.xlsx\""),
        "{}",
        mail.text
    );
    support::assert_rows_accounted(&project);
}

#[test]
fn a_small_undeclared_list_sharing_nobody_is_refused_as_ambiguous_and_nothing_is_replaced() {
    let project = project();
    let original = people("Lò", 1, 18);
    roster(
        &project.inbox().join("XTM/ds_2025.xlsx"),
        "DANH SÁCH CÁN BỘ",
        &original,
    );
    project.run_ok(&["ingest"]);
    roster(
        &project.inbox().join("XTM/ds-tong-hop_2025.xlsx"),
        "DANH SÁCH CÁN BỘ",
        &people("Quàng", 1, 3),
    );
    let out = project.run_ok(&["run", "answer"]);
    assert!(out.contains("quarantined"), "{out}");
    assert_eq!(
        held_ids(&project, "staff"),
        ids(&original),
        "nothing superseded"
    );
    let quarantined = project.files_under(&project.data().join("quarantine"), "xlsx");
    assert_eq!(quarantined.len(), 1, "{quarantined:?}");
    let mail = feedback_about(&project, "ds-tong-hop_2025.xlsx");
    assert!(mail.subject.contains("Không tiếp nhận"), "{}", mail.subject);
    assert!(
        mail.text.contains("chưa bằng một nửa 18 dòng")
            && mail.text.contains("không rõ tệp này thay thế hay bổ sung")
            && mail.text.contains("ghi \"bổ sung\"")
            && mail
                .text
                .contains("cannot be told whether it replaces or adds"),
        "{}",
        mail.text
    );
    // The same small list that shares one person is a replacement.
    let mut smaller = people("Quàng", 1, 3);
    smaller.push(original[0].clone());
    roster(
        &project.inbox().join("XTM/ds-moi_2025.xlsx"),
        "DANH SÁCH CÁN BỘ",
        &smaller,
    );
    project.run_ok(&["ingest"]);
    assert_eq!(held_ids(&project, "staff"), ids(&smaller));
}

#[test]
fn an_addition_that_mostly_repeats_the_held_list_is_refused() {
    let project = project();
    let original = people("Lò", 1, 10);
    roster(
        &project.inbox().join("XTM/ds_2025.xlsx"),
        "DANH SÁCH CÁN BỘ",
        &original,
    );
    project.run_ok(&["ingest"]);
    let mut again = original[..8].to_vec();
    again.extend(people("Quàng", 1, 2));
    roster(
        &project.inbox().join("XTM/ds_2025 (bổ sung).xlsx"),
        "DANH SÁCH CÁN BỘ",
        &again,
    );
    project.run_ok(&["run", "answer"]);
    assert_eq!(held_ids(&project, "staff"), ids(&original));
    let mail = feedback_about(&project, "bổ sung).xlsx");
    assert!(
        mail.text.contains("8 trong 10 dòng") && mail.text.contains("bỏ chữ \"bổ sung\""),
        "{}",
        mail.text
    );
}

#[test]
fn a_file_naming_two_batches_is_refused_with_both() {
    let project = project();
    training(
        &project.inbox().join("HTG/dot 2_2025.xlsx"),
        "KẾT QUẢ BỒI DƯỠNG ĐỢT 3",
        &attending(&people("Tòng", 1, 3), "Kỹ năng số"),
    );
    project.run_ok(&["run", "answer"]);
    assert_eq!(
        support::count_files(&project.data().join("quarantine"), "xlsx"),
        1
    );
    let mail = feedback_about(&project, "dot 2_2025.xlsx");
    assert!(
        mail.text.contains("đợt 2") && mail.text.contains("đợt 3"),
        "{}",
        mail.text
    );
}

#[test]
fn rebuild_replays_additions_to_the_same_rows() {
    let project = project();
    training(
        &project.inbox().join("HTG/dot-1_2025.xlsx"),
        "KẾT QUẢ BỒI DƯỠNG",
        &attending(&people("Tòng", 1, 4), "Kỹ năng số"),
    );
    project.run_ok(&["ingest"]);
    let mut batch_two = attending(&people("Lường", 1, 3), "Kỹ năng số");
    batch_two.push(attending(&people("Tòng", 1, 1), "Kỹ năng số").remove(0));
    training(
        &project.inbox().join("HTG/dot-2_2025.xlsx"),
        "KẾT QUẢ BỒI DƯỠNG",
        &batch_two,
    );
    project.run_ok(&["ingest"]);
    let before = held_ids(&project, "training");
    assert_eq!(before.len(), 7);
    let rejected = rejects(&project, "source_row, reason_en");
    std::fs::remove_file(project.data().join("state.sqlite3")).expect("lose the state");
    project.run_ok(&["rebuild"]);
    assert_eq!(held_ids(&project, "training"), before);
    assert_eq!(rejects(&project, "source_row, reason_en"), rejected);
    assert!(
        rejected.contains("already in \"HTG/dot-1_2025.xlsx\""),
        "{rejected}"
    );
}

/// Runs `nhanluc ingest` made to abort (as `kill -9` would stop it) at `point`.
fn ingest_killed_at(project: &Project, point: &str) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nhanluc"))
        .arg("--config")
        .arg(project.config_file())
        .arg("ingest")
        .env("NHANLUC_TEST_CRASH_AT", point)
        .output()
        .expect("run nhanluc");
    assert!(
        !out.status.success() && out.status.code().is_none(),
        "ingest was to be killed at {point}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_addition_killed_at_any_step_of_its_commit_is_repaired_by_the_next_run() {
    let first = people("Tòng", 1, 6);
    let second = people("Lường", 1, 4);
    let mut batch_two = attending(&second, "Kỹ năng số");
    batch_two.push((first[1].0.clone(), first[1].1.clone(), "Kỹ năng số"));
    let expected_ids = ids(&[first.clone(), second.clone()].concat());
    for point in ["parts-in-place", "submissions-recorded", "part-lost-later"] {
        let project = project();
        training(
            &project.inbox().join("HTG/dot-1_2025.xlsx"),
            "KẾT QUẢ BỒI DƯỠNG",
            &attending(&first, "Kỹ năng số"),
        );
        project.run_ok(&["ingest"]);
        training(
            &project.inbox().join("HTG/dot-2_2025.xlsx"),
            "KẾT QUẢ BỒI DƯỠNG",
            &batch_two,
        );
        if point == "part-lost-later" {
            // Taken whole, then its part file lost (a disk, an operator):
            // the next run writes it again from the archive, knowing the
            // rows of batch 1 as when it was taken.
            project.run_ok(&["ingest"]);
            let parts = project.files_under(&project.warehouse().join("training"), "parquet");
            let newest = parts
                .iter()
                .max_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
                .expect("a part");
            std::fs::remove_file(newest).expect("lose the part");
        } else {
            ingest_killed_at(&project, point);
        }
        project.run_ok(&["ingest"]);
        // Checks every held part against the ledger, as a job's indicators
        // step does, and writes a lost one again.
        project.run_ok(&["indicators"]);
        assert_eq!(
            held_ids(&project, "training"),
            expected_ids,
            "killed at {point}"
        );
        let rejects = rejects(&project, "source_row, reason_en");
        assert!(
            rejects.starts_with(
                "10|This attendance (Tòng Văn 2) is already in \"HTG/dot-1_2025.xlsx\""
            ) && rejects.lines().count() == 1,
            "killed at {point}: {rejects}"
        );
        assert_eq!(support::count_files(&project.inbox(), "xlsx"), 0);
        assert_eq!(
            support::count_files(&project.data().join("archive"), "xlsx"),
            2
        );
        support::assert_rows_accounted(&project);
        project.run_ok(&["run", "answer"]);
        let mail = feedback_about(&project, "dot-2_2025.xlsx");
        assert!(
            mail.text.contains("Đã bổ sung 4 lượt học vào danh sách"),
            "killed at {point}: {}",
            mail.text
        );
    }
}

#[test]
fn an_addition_whose_held_rows_cannot_be_read_waits_until_they_are_written_again() {
    let project = project();
    let first = people("Tòng", 1, 5);
    training(
        &project.inbox().join("HTG/dot-1_2025.xlsx"),
        "KẾT QUẢ BỒI DƯỠNG",
        &attending(&first, "Kỹ năng số"),
    );
    project.run_ok(&["ingest"]);
    let parts = project.files_under(&project.warehouse().join("training"), "parquet");
    assert_eq!(parts.len(), 1, "{parts:?}");
    std::fs::remove_file(&parts[0]).expect("lose batch 1's part");
    let mut batch_two = attending(&people("Lường", 1, 3), "Kỹ năng số");
    batch_two.push((first[0].0.clone(), first[0].1.clone(), "Kỹ năng số"));
    training(
        &project.inbox().join("HTG/dot-2_2025.xlsx"),
        "KẾT QUẢ BỒI DƯỠNG",
        &batch_two,
    );
    // Another department's file is not held up by it.
    training(
        &project.inbox().join("XTM/dao-tao_2025.xlsx"),
        "KẾT QUẢ BỒI DƯỠNG",
        &attending(&people("Quàng", 1, 2), "Kỹ năng số"),
    );
    let out = project.run_ok(&["ingest"]);
    assert!(
        out.lines().any(|l| l.contains("HTG/dot-2_2025.xlsx")
            && l.contains("waiting")
            && l.contains("cannot be read")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains("XTM/dao-tao_2025.xlsx") && l.contains("accepted")),
        "{out}"
    );
    assert_eq!(support::count_files(&project.inbox(), "xlsx"), 1);
    // The next job writes batch 1's part again; then batch 2 is weighed as usual.
    project.run_ok(&["indicators"]);
    project.run_ok(&["ingest"]);
    let mut expected = ids(&[first, people("Lường", 1, 3), people("Quàng", 1, 2)].concat());
    expected.sort();
    assert_eq!(held_ids(&project, "training"), expected);
    let rejects = rejects(&project, "reason_en");
    assert!(
        rejects.contains("already in \"HTG/dot-1_2025.xlsx\""),
        "{rejects}"
    );
    support::assert_rows_accounted(&project);
}

#[test]
fn a_supplement_of_two_forms_tells_what_it_added_to_each() {
    let project = project();
    let staff = people("Lò", 1, 5);
    write_sheets(
        &project.inbox().join("XTM/bao-cao_2025.xlsx"),
        &[
            ("Can bo", roster_rows("DANH SÁCH CÁN BỘ", &staff)),
            (
                "Dao tao",
                training_rows("KẾT QUẢ BỒI DƯỠNG", &attending(&staff[..3], "Kỹ năng số")),
            ),
        ],
    );
    project.run_ok(&["ingest"]);
    let hired = people("Quàng", 1, 2);
    write_sheets(
        &project.inbox().join("XTM/bao-cao bo sung_2025.xlsx"),
        &[
            ("Can bo", roster_rows("DANH SÁCH CÁN BỘ", &hired)),
            (
                "Dao tao",
                training_rows("KẾT QUẢ BỒI DƯỠNG", &attending(&hired[..1], "Kỹ năng số")),
            ),
        ],
    );
    project.run_ok(&["run", "answer"]);
    assert_eq!(held_ids(&project, "staff").len(), 7);
    assert_eq!(held_ids(&project, "training").len(), 4);
    let mail = feedback_about(&project, "bao-cao bo sung_2025.xlsx");
    assert!(
        mail.text
            .contains("Đã bổ sung 2 người vào danh sách \"Danh sách cán bộ")
            && mail.text.contains("Đã bổ sung 1 lượt học vào danh sách")
            && mail.text.contains("Added 2 people to the list"),
        "{}",
        mail.text
    );
}
