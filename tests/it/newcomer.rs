//! A newcomer's first runs: the bundled demo (the repository's config, jobs
//! and demo workbooks, copied just now so every file's mtime is "now", with
//! the bundled settle time) run by the already-built binary from the copy's
//! folder, as `nhanluc run nightly` right after `git clone` does; and an
//! installation with no data at all.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// Copies a folder tree; the copies are new files, modified now.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("dir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

/// Files under `dir`, relative to it, hidden ones included.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    support::walk(dir, &mut |p| {
        out.push(p.strip_prefix(dir).unwrap_or(p).to_path_buf());
    });
    out.sort();
    out
}

/// The repository's bundled demo, copied into a fresh folder.
struct Demo {
    dir: TempDir,
}

impl Demo {
    fn new() -> Demo {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        let repo = Path::new(REPO);
        copy_tree(&repo.join("config"), &root.join("config"));
        copy_tree(&repo.join("jobs"), &root.join("jobs"));
        copy_tree(&repo.join("fixtures/inbox"), &root.join("fixtures/inbox"));
        Demo { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `nhanluc <args>` run in the demo's folder with its default config
    /// (`./config/nhanluc.toml`), as a newcomer types it.
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_nhanluc"))
            .args(args)
            .current_dir(self.root())
            .env_remove("NHANLUC_CONFIG")
            .env_remove("NHANLUC_LOG")
            .output()
            .expect("run nhanluc")
    }

    fn digests(&self) -> Vec<PathBuf> {
        files(&self.root().join("data/outbox"))
            .into_iter()
            .filter(|p| p.to_string_lossy().contains("-digest-"))
            .collect()
    }

    fn edit_config(&self, edit: impl FnOnce(String) -> String) {
        let file = self.root().join("config/nhanluc.toml");
        let text = std::fs::read_to_string(&file).expect("config");
        std::fs::write(&file, edit(text)).expect("write config");
    }
}

fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn the_bundled_demo_runs_at_once_on_fresh_files_and_again_with_nothing_new() {
    let demo = Demo::new();
    let demo_workbooks = files(&demo.root().join("fixtures/inbox"));
    assert_eq!(demo_workbooks.len(), 32, "{demo_workbooks:?}");
    let before: Vec<Vec<u8>> = demo_workbooks
        .iter()
        .map(|f| std::fs::read(demo.root().join("fixtures/inbox").join(f)).expect("read"))
        .collect();
    // The bundled config waits for files to settle (the fresh copies are
    // "modified 0 s ago"), instead of leaving them all for the next run.
    let config = std::fs::read_to_string(demo.root().join("config/nhanluc.toml")).expect("cfg");
    assert!(config.contains("settle_seconds = 3"), "{config}");

    let first = demo.run(&["run", "nightly"]);
    assert!(first.status.success(), "{}", describe(&first));
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(stdout.contains("files accepted 32"), "{}", describe(&first));
    assert!(stdout.contains("waiting 0"), "{}", describe(&first));
    assert_eq!(demo.digests().len(), 3, "one digest per recipient");

    // The demo workbooks are where they were, byte for byte; the inbox the
    // run emptied is the copy under data/, where only its mark is left.
    assert_eq!(files(&demo.root().join("fixtures/inbox")), demo_workbooks);
    for (file, bytes) in demo_workbooks.iter().zip(&before) {
        let now = std::fs::read(demo.root().join("fixtures/inbox").join(file)).expect("read");
        assert!(&now == bytes, "{} changed", file.display());
    }
    assert_eq!(
        files(&demo.root().join("data/inbox")),
        [PathBuf::from(nhanluc::ingest::inbox::DEMO_MARK)]
    );

    // Nothing new: still a success, and the unchanged digests are not sent again.
    let second = demo.run(&["run", "nightly"]);
    assert!(second.status.success(), "{}", describe(&second));
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(
        stdout.contains("files accepted 0") && stdout.contains("messages queued 0"),
        "{}",
        describe(&second)
    );
    assert_eq!(demo.digests().len(), 3);

    // Starting over is deleting data/: the demo is copied in and taken again.
    std::fs::remove_dir_all(demo.root().join("data")).expect("rm data");
    let again = demo.run(&["run", "nightly"]);
    assert!(again.status.success(), "{}", describe(&again));
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("files accepted 32"),
        "{}",
        describe(&again)
    );
}

#[test]
fn a_first_night_with_no_data_at_all_warns_and_succeeds() {
    let demo = Demo::new();
    demo.edit_config(|text| {
        text.lines()
            .filter(|l| !l.starts_with("demo_inbox"))
            .collect::<Vec<_>>()
            .join("\n")
    });
    let out = demo.run(&["run", "nightly"]);
    assert!(out.status.success(), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("WARN") && stderr.contains("nothing to report yet"),
        "{}",
        describe(&out)
    );
    assert!(demo.digests().is_empty());
    // Without the key, nothing is copied from the demo workbooks.
    assert!(files(&demo.root().join("data/inbox")).is_empty());
}

#[test]
fn data_without_indicators_still_fails_the_digest() {
    let demo = Demo::new();
    std::fs::write(
        demo.root().join("jobs/no-indicators.toml"),
        "schedule = \"0 0 2 * * *\"\nsteps = [\"ingest\", \"digest\"]\n",
    )
    .expect("job");
    let out = demo.run(&["run", "no-indicators"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no indicators"),
        "{}",
        describe(&out)
    );
    assert!(demo.digests().is_empty());
}

#[test]
fn a_demo_inbox_that_is_missing_or_is_the_inbox_is_refused_at_start() {
    let demo = Demo::new();
    demo.edit_config(|text| text.replace("\"../fixtures/inbox\"", "\"../no-such-folder\""));
    let out = demo.run(&["status"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("nhanluc.toml") && stderr.contains("paths.demo_inbox"),
        "{stderr}"
    );

    demo.edit_config(|text| text.replace("\"../no-such-folder\"", "\"../data/inbox/SNV\""));
    std::fs::create_dir_all(demo.root().join("data/inbox/SNV")).expect("dir");
    let out = demo.run(&["status"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("paths.demo_inbox"),
        "{}",
        describe(&out)
    );
}

#[test]
fn a_copy_of_the_demo_interrupted_half_way_is_completed_by_the_next_run() {
    let demo = Demo::new();
    // As a run killed while copying leaves it: some workbooks there, a
    // hidden half-written one, no mark.
    let inbox = demo.root().join("data/inbox");
    std::fs::create_dir_all(inbox.join("SNV")).expect("dir");
    std::fs::copy(
        demo.root()
            .join("fixtures/inbox/SNV/danh-sach-can-bo_2024.xlsx"),
        inbox.join("SNV/danh-sach-can-bo_2024.xlsx"),
    )
    .expect("copy");
    std::fs::write(
        inbox.join("SNV/.danh-sach-can-bo_2025.xlsx.copying"),
        b"PK\x03",
    )
    .expect("tmp");
    let out = demo.run(&["ingest"]);
    assert!(out.status.success(), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("32 file(s)"), "{}", describe(&out));
    // The half-written copy was written again whole and taken.
    assert_eq!(
        files(&inbox),
        [PathBuf::from(nhanluc::ingest::inbox::DEMO_MARK)]
    );
}
