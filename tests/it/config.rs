//! Bad configuration is refused at start: exit code 2, the file and the key named.

use crate::support::Project;

fn stderr_of_failure(project: &Project) -> String {
    let out = project.run(&["status"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn an_unknown_key_is_refused_with_file_and_key() {
    let project = Project::with_config_extra("[digest]\norganization = \"typo\"\n");
    let err = stderr_of_failure(&project);
    assert!(err.contains("nhanluc.toml"), "{err}");
    assert!(err.contains("organization"), "{err}");
    assert!(
        err.contains("organisation"),
        "the allowed keys are listed: {err}"
    );
}

#[test]
fn a_missing_department_file_is_refused() {
    let project = Project::new();
    std::fs::remove_file(project.root().join("config/departments.toml")).expect("rm");
    let err = stderr_of_failure(&project);
    assert!(err.contains("departments.toml"), "{err}");
}

#[test]
fn a_bad_cron_expression_is_refused_with_the_job_file() {
    let project = Project::new();
    std::fs::write(
        project.root().join("jobs/nightly.toml"),
        "schedule = \"0 2 * * *\"\nsteps = [\"ingest\"]\n",
    )
    .expect("write");
    let err = stderr_of_failure(&project);
    assert!(err.contains("nightly.toml"), "{err}");
    assert!(err.contains("schedule"), "{err}");
}

#[test]
fn an_unknown_step_and_a_bad_department_level_are_refused() {
    let project = Project::new();
    std::fs::write(
        project.root().join("jobs/weekly.toml"),
        "schedule = \"0 0 3 * * 1\"\nsteps = [\"ingest\", \"publish\"]\n",
    )
    .expect("write");
    let err = stderr_of_failure(&project);
    assert!(
        err.contains("weekly.toml") && err.contains("publish"),
        "{err}"
    );

    let project = Project::new();
    std::fs::write(
        project.root().join("config/departments.toml"),
        "[[department]]\ncode = \"SNV\"\nname = \"Sở Nội vụ\"\nlevel = \"national\"\n",
    )
    .expect("write");
    let err = stderr_of_failure(&project);
    assert!(
        err.contains("departments.toml") && err.contains("national"),
        "{err}"
    );
}

#[test]
fn a_recipient_of_an_unknown_department_is_refused() {
    let project = Project::with_config_extra(
        "[[recipient]]\nemail = \"x@example.org\"\nscope = \"department:NOPE\"\n",
    );
    let err = stderr_of_failure(&project);
    assert!(
        err.contains("NOPE") && err.contains("recipient.scope"),
        "{err}"
    );
}

#[test]
fn an_unknown_job_is_bad_usage() {
    let project = Project::new();
    let out = project.run(&["run", "weekly"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nightly"));
}
