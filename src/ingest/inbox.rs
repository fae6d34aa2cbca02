//! The inbox: which files are there, which have settled, and the demo
//! workbooks that fill it the first time the bundled configuration runs.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::{IngestError, io_error, is_transient_name};
use crate::config::Config;

/// Folders below the inbox a submission may lie in (`inbox/<DEPT>/<period>/…`):
/// a file deeper down is listed too, and refused as too deep.
pub(crate) const MAX_DEPTH: usize = 4;

/// How far below [`MAX_DEPTH`] files are still looked for, to be refused
/// as too deep: deeper still, nothing is listed (no department nests its
/// files twenty folders down; a loop of bind mounts would never end).
const LOOK_DEEPER: usize = 16;

/// Every entry under the inbox that is not a folder — files, and also
/// links, pipes, sockets and devices, which the ingest refuses with the
/// reason instead of skipping them — oldest first, so a newer resubmission
/// supersedes an older one. Hidden files and folders are not listed. Links
/// are never followed.
pub(super) fn list(inbox: &Path) -> Result<Vec<PathBuf>, IngestError> {
    let mut found = Vec::new();
    walk(inbox, 0, &mut |path, metadata| {
        found.push((metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH), path));
    })?;
    found.sort();
    Ok(found.into_iter().map(|(_, p)| p).collect())
}

/// Calls `each` for every entry under `dir` that is not a folder (a
/// missing `dir` has none), with its own metadata (a link's, not its
/// target's).
fn walk(
    dir: &Path,
    depth: usize,
    each: &mut dyn FnMut(PathBuf, &std::fs::Metadata),
) -> Result<(), IngestError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && depth == 0 => return Ok(()),
        Err(e) => return Err(io_error(dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io_error(dir))?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        // `DirEntry::metadata` does not follow links.
        let metadata = entry.metadata().map_err(io_error(&path))?;
        if metadata.is_dir() {
            if depth < MAX_DEPTH + LOOK_DEEPER {
                walk(&path, depth + 1, each)?;
            }
        } else {
            each(path, &metadata);
        }
    }
    Ok(())
}

/// A file's size and modification time at one look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Look {
    len: u64,
    modified: Option<SystemTime>,
}

impl Look {
    fn of(path: &Path) -> std::io::Result<Look> {
        let metadata = std::fs::symlink_metadata(path)?;
        Ok(Look {
            len: metadata.len(),
            modified: metadata.modified().ok(),
        })
    }
}

/// Which inbox files to leave for the next run because they may still be
/// being copied, with the reason (`None`: take it).
///
/// A file is taken once its size and modification time are the same at two
/// looks `settle` apart. A file last modified at least `settle` ago has
/// already been still that long; the younger ones are looked at again once
/// the youngest has had `settle` to settle: one wait per call, at most
/// `settle`, whatever the number of files. The clock is not trusted further
/// than that: a file modified "in the future" (another machine's clock on a
/// shared folder) is simply looked at twice. Lock and temporary files are
/// not looked at (they are never taken).
pub(super) fn unsettled(paths: &[PathBuf], settle: Duration) -> Vec<Option<String>> {
    let mut verdicts: Vec<Option<String>> = vec![None; paths.len()];
    if settle.is_zero() {
        return verdicts;
    }
    let now = SystemTime::now();
    let mut young: Vec<(usize, Look)> = Vec::new();
    let mut youngest = settle;
    for (index, path) in paths.iter().enumerate() {
        let transient = path
            .file_name()
            .is_some_and(|n| is_transient_name(&n.to_string_lossy()));
        if transient {
            continue;
        }
        match Look::of(path) {
            Ok(look) => {
                let age = look
                    .modified
                    .and_then(|m| now.duration_since(m).ok())
                    .unwrap_or(Duration::ZERO);
                if age < settle {
                    youngest = youngest.min(age);
                    young.push((index, look));
                }
            }
            Err(e) => verdicts[index] = Some(format!("cannot be looked at: {e}")),
        }
    }
    if young.is_empty() {
        return verdicts;
    }
    let wait = settle - youngest;
    tracing::info!(
        files = young.len(),
        wait_ms = wait.as_millis() as u64,
        "files modified in the last {}s: looking at them again once they settle",
        settle.as_secs_f64()
    );
    std::thread::sleep(wait);
    for (index, first) in young {
        verdicts[index] = match Look::of(&paths[index]) {
            Ok(second) if second == first => None,
            Ok(_) => Some(format!(
                "still being copied: its size or modification time changed within {}s",
                settle.as_secs_f64()
            )),
            Err(e) => Some(format!("cannot be looked at: {e}")),
        };
    }
    verdicts
}

/// The hidden file in the inbox that says it was filled from the demo
/// workbooks: they are copied once, not again after the ingest took them.
pub const DEMO_MARK: &str = ".nhanluc-demo";

/// With `[paths] demo_inbox` set (the bundled configuration), fills the
/// inbox with copies of the demo workbooks the first time it is used (no
/// [`DEMO_MARK`] in it yet), so the demo's tracked workbooks stay where they
/// are. Each copy is written under a hidden name and renamed into place, so
/// an ingest never sees half a file; the mark is written last, so a copy
/// interrupted half-way is done again. Returns the number of files copied.
pub(crate) fn fill_from_demo(config: &Config) -> Result<usize, IngestError> {
    let Some(demo) = &config.paths.demo_inbox else {
        return Ok(0);
    };
    let inbox = &config.paths.inbox;
    let mark = inbox.join(DEMO_MARK);
    if mark.exists() {
        return Ok(0);
    }
    let mut files = Vec::new();
    walk(demo, 0, &mut |path, metadata| {
        let transient = path
            .file_name()
            .is_some_and(|n| is_transient_name(&n.to_string_lossy()));
        if !transient && metadata.is_file() {
            files.push(path);
        }
    })?;
    files.sort();
    let mut folders = std::collections::BTreeSet::new();
    for from in &files {
        let relative = from.strip_prefix(demo).unwrap_or(from);
        let to = inbox.join(relative);
        copy_whole(from, &to)?;
        if let Some(dir) = to.parent() {
            folders.insert(dir.to_path_buf());
        }
    }
    for dir in &folders {
        crate::durable::sync_dir(dir)?;
    }
    super::write_atomic(
        &mark,
        format!(
            "This inbox was filled with copies of the demo workbooks in {} ({} files) at {}.\n\
             Delete this file to have them copied again by the next ingest.\n",
            demo.display(),
            files.len(),
            crate::state::now()
        )
        .as_bytes(),
    )?;
    tracing::info!(
        files = files.len(),
        from = %demo.display(),
        inbox = %inbox.display(),
        "inbox filled with the demo workbooks"
    );
    Ok(files.len())
}

/// Copies `from` to `to` through a hidden file beside `to` (never listed),
/// keeping its modification time like `cp -p`, flushed before the rename.
fn copy_whole(from: &Path, to: &Path) -> Result<(), IngestError> {
    let dir = to.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    let name = to
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.copying"));
    std::fs::copy(from, &tmp).map_err(io_error(from))?;
    let modified = std::fs::metadata(from)
        .and_then(|m| m.modified())
        .map_err(io_error(from))?;
    let file = std::fs::File::options()
        .write(true)
        .open(&tmp)
        .map_err(io_error(&tmp))?;
    file.set_modified(modified).map_err(io_error(&tmp))?;
    file.sync_all().map_err(io_error(&tmp))?;
    drop(file);
    std::fs::rename(&tmp, to).map_err(io_error(to))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, bytes: &[u8], age: Duration) {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        std::fs::write(path, bytes).expect("write");
        let file = std::fs::File::options()
            .write(true)
            .open(path)
            .expect("open");
        file.set_modified(SystemTime::now() - age).expect("mtime");
    }

    #[test]
    fn old_files_are_taken_without_a_wait_and_fresh_ones_after_one() {
        let dir = tempfile::tempdir().expect("tmp");
        let old = dir.path().join("SNV/old_2025.xlsx");
        let fresh = dir.path().join("SNV/fresh_2025.xlsx");
        let lock = dir.path().join("SNV/~$fresh_2025.xlsx");
        write(&old, b"old", Duration::from_secs(3600));
        let paths = vec![old.clone()];
        assert_eq!(unsettled(&paths, Duration::from_secs(60)), [None]);

        write(&fresh, b"fresh", Duration::ZERO);
        write(&lock, b"", Duration::ZERO);
        let paths = vec![old, fresh, lock];
        let started = std::time::Instant::now();
        assert_eq!(
            unsettled(&paths, Duration::from_millis(400)),
            [None, None, None]
        );
        // The fresh file was looked at again only after it had settled.
        assert!(started.elapsed() >= Duration::from_millis(300));
    }

    #[test]
    fn a_file_that_grows_between_the_looks_is_left_with_the_reason() {
        let dir = tempfile::tempdir().expect("tmp");
        let growing = dir.path().join("SNV/growing_2025.xlsx");
        let still = dir.path().join("SNV/still_2025.xlsx");
        write(&growing, b"PK", Duration::ZERO);
        write(&still, b"PK", Duration::ZERO);
        let writer = {
            let growing = growing.clone();
            std::thread::spawn(move || {
                use std::io::Write;
                let mut file = std::fs::File::options()
                    .append(true)
                    .open(&growing)
                    .expect("open");
                for _ in 0..10 {
                    std::thread::sleep(Duration::from_millis(100));
                    file.write_all(b"more").expect("append");
                }
            })
        };
        let verdicts = unsettled(&[growing, still], Duration::from_millis(500));
        writer.join().expect("writer");
        assert!(
            verdicts[0]
                .as_deref()
                .is_some_and(|r| r.contains("still being copied")),
            "{verdicts:?}"
        );
        assert_eq!(verdicts[1], None);
    }

    #[test]
    fn a_vanished_file_is_left_not_an_error() {
        let dir = tempfile::tempdir().expect("tmp");
        let gone = dir.path().join("SNV/gone.xlsx");
        let verdicts = unsettled(&[gone], Duration::from_secs(1));
        assert!(verdicts[0].is_some(), "{verdicts:?}");
    }
}
