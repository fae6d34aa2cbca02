//! The file-system side of ingest: what an inbox entry is (transient names,
//! regular files only, how it looked when read), where an archived or a
//! quarantined copy goes and its sidecar, and moving files durably.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::config::Config;
use crate::model::names::{NAME_MAX, fit_name, printable, safe_file_name};

use super::{IngestError, inbox, io_error, io_failed, write_atomic};

/// Office lock files, editor backups and partial downloads: never someone's submission.
pub fn is_transient_name(name: &str) -> bool {
    let lower = name.to_lowercase();
    name.starts_with("~$")
        || name.starts_with('.')
        || name.ends_with('~')
        || [".tmp", ".part", ".crdownload", ".partial", ".download"]
            .iter()
            .any(|s| lower.ends_with(s))
}

pub(super) fn archive_name(sha: &str, extension: &str) -> String {
    format!("{}/{sha}.{extension}", &sha[..2])
}

pub(super) fn archive_bytes(path: &Path, bytes: &[u8]) -> Result<(), IngestError> {
    Ok(write_atomic(path, bytes)?)
}

/// A file's size and modification time, as compared between two looks.
pub type FileLook = (u64, Option<SystemTime>);

pub(super) fn look_of(metadata: &std::fs::Metadata) -> FileLook {
    (metadata.len(), metadata.modified().ok())
}

/// Whether the inbox entry at `path` is as it was looked at (`None`: it
/// was never looked at, nothing to compare).
pub(super) fn unchanged_since(path: &Path, read_as: Option<FileLook>) -> bool {
    match read_as {
        None => true,
        Some(read_as) => std::fs::symlink_metadata(path).is_ok_and(|m| look_of(&m) == read_as),
    }
}

pub(super) fn mtime_ns(time: SystemTime) -> i64 {
    match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_nanos()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_nanos()).map_or(i64::MIN, |n| -n),
    }
}

/// Opens `path` for reading only if it is a regular file: never through a
/// link, and never blocking on a pipe or a device (`O_NONBLOCK` opens a
/// FIFO at once; the `fstat` after the open then refuses it). Returns the
/// bytes and the size and modification time the open file had before
/// reading. Anything not a regular file is `InvalidInput`.
pub fn read_regular(path: &Path) -> std::io::Result<(Vec<u8>, FileLook)> {
    use std::io::Read;
    let mut options = std::fs::File::options();
    options.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW);
    }
    let file = options.open(path).map_err(|e| {
        // ELOOP: O_NOFOLLOW met a link.
        #[cfg(target_os = "linux")]
        if e.raw_os_error() == Some(libc::ELOOP) {
            return std::io::Error::new(std::io::ErrorKind::InvalidInput, "a link, not a file");
        }
        e
    })?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let look = look_of(&metadata);
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0).min(1 << 30));
    // One byte more than it had: a file still growing is seen to have
    // changed, and is not read on without end.
    file.take(metadata.len().saturating_add(1))
        .read_to_end(&mut bytes)?;
    Ok((bytes, look))
}

/// Why an inbox entry is refused for what it is rather than what it holds
/// (Vietnamese, English): a link, a pipe, a socket or a device, or a file
/// more than [`inbox::MAX_DEPTH`] folders below the inbox (`folders`:
/// how many it is below, for an inbox entry).
pub(super) fn entry_refusal(
    metadata: &std::fs::Metadata,
    folders: Option<usize>,
) -> Option<(String, String)> {
    use std::os::unix::fs::FileTypeExt;
    let kind = metadata.file_type();
    let (what_vi, what_en) = if kind.is_symlink() {
        ("một liên kết (link)", "a link")
    } else if kind.is_fifo() {
        ("một đường ống (FIFO)", "a FIFO (named pipe)")
    } else if kind.is_socket() {
        ("một socket", "a socket")
    } else if kind.is_block_device() || kind.is_char_device() {
        ("một thiết bị", "a device")
    } else {
        let below = inbox::MAX_DEPTH - 1;
        return folders.filter(|&f| f > inbox::MAX_DEPTH).map(|_| {
            (
                format!("Tệp nằm quá sâu: tối đa {below} thư mục bên dưới thư mục của đơn vị; hãy đặt tệp gần hơn"),
                format!("Too deep: at most {below} folders below the department folder; put the file higher up"),
            )
        });
    };
    Some((
        format!("Đây là {what_vi}, không phải một tệp: hãy đặt chính tệp bảng tính vào thư mục"),
        format!("This is {what_en}, not a file: put the file itself in the folder"),
    ))
}

/// Test-only faults, in debug builds only: with `NHANLUC_TEST_CRASH_AT=<point>`
/// the process aborts at that point, as a kill -9 there would stop it; with
/// `NHANLUC_TEST_CHANGE_AT=<point>` the file at `path` is appended to there,
/// as a writer still at work would.
pub(super) fn crash_point(point: &str) {
    #[cfg(debug_assertions)]
    if std::env::var("NHANLUC_TEST_CRASH_AT").is_ok_and(|p| p == point) {
        std::process::abort();
    }
    let _ = point;
}

pub(super) fn change_point(point: &str, path: &Path) {
    #[cfg(debug_assertions)]
    if std::env::var("NHANLUC_TEST_CHANGE_AT").is_ok_and(|p| p == point) {
        use std::io::Write;
        if let Ok(mut file) = std::fs::File::options().append(true).open(path) {
            let _ = file.write_all(b"\n");
        }
    }
    let _ = (point, path);
}

/// The sidecar beside each quarantined file.
const SIDECAR_SUFFIX: &str = ".reason.txt";

/// Where a refused file goes, relative to the quarantine folder:
/// `<DEPT>/<stamp>-<sha prefix>-<name>`, the last component short enough
/// (in bytes) that its sidecar's name fits a file system's 255 too.
pub(super) fn quarantine_name(
    config: &Config,
    path: &Path,
    department: Option<&str>,
    sha: &str,
) -> String {
    let folder = department
        .filter(|d| config.department(d).is_some())
        .map(safe_file_name)
        .unwrap_or_else(|| "_unknown".to_string());
    let name = safe_file_name(
        &path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    );
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let short = sha.get(..8).unwrap_or("nohash");
    let prefix = format!("{stamp}-{short}-");
    let room = NAME_MAX - SIDECAR_SUFFIX.len() - prefix.len();
    format!("{folder}/{prefix}{}", fit_name(&name, room))
}

/// The `.reason.txt` beside a quarantined file.
pub(super) fn sidecar_of(target: &Path) -> PathBuf {
    target.with_file_name(format!(
        "{}{SIDECAR_SUFFIX}",
        target.file_name().unwrap_or_default().to_string_lossy()
    ))
}

/// Writes the sidecar saying why the file at `path` goes to `target`, one
/// line per field whatever the name or the reason holds.
pub(super) fn write_sidecar(
    target: &Path,
    path: &Path,
    sha: &str,
    reason_vi: &str,
    reason_en: &str,
) -> Result<(), IngestError> {
    let sidecar = format!(
        "Tệp / file: {}\nLý do: {}\nReason: {}\nsha256: {sha}\n",
        printable(&path.display().to_string()),
        printable(reason_vi),
        printable(reason_en),
    );
    Ok(write_atomic(&sidecar_of(target), sidecar.as_bytes())?)
}

/// Moves (or, for a file outside the inbox, copies) a refused file to
/// `relative` under the quarantine folder, where its sidecar already is.
/// An entry that is no regular file (a link, a pipe) outside the inbox is
/// not copied: the sidecar says what it was.
pub(super) fn quarantine_file(
    config: &Config,
    path: &Path,
    relative: &str,
    in_inbox: bool,
) -> Result<(), IngestError> {
    let target = config.paths.quarantine.join(relative);
    if in_inbox {
        move_file(path, &target)?;
    } else {
        match read_regular(path) {
            Ok((bytes, _)) => write_atomic(&target, &bytes)?,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {}
            Err(e) => return Err(io_error(path)(e)),
        }
    }
    Ok(())
}

pub(super) fn move_file(from: &Path, to: &Path) -> Result<(), IngestError> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(io_failed("create the folder", dir))?;
    }
    if std::fs::rename(from, to).is_ok() {
        return Ok(());
    }
    // Another file system: copy durably, then remove the original.
    let (bytes, _) = read_regular(from).map_err(io_error(from))?;
    write_atomic(to, &bytes)?;
    std::fs::remove_file(from).map_err(io_failed("remove", from))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::names::submission_id;

    #[test]
    fn names_are_cut_to_bytes_at_a_char_boundary_keeping_the_extension() {
        let name = format!("{}_2025.xlsx", "ệ".repeat(78));
        for max in [10, 50, 100, 218, 255] {
            let fitted = fit_name(&name, max);
            assert!(fitted.len() <= max, "{max}: {}", fitted.len());
            assert!(fitted.ends_with(".xlsx"), "{fitted}");
        }
        assert_eq!(fit_name("ngắn.xlsx", 100), "ngắn.xlsx");
        assert!(safe_file_name(&"ệ".repeat(200)).len() <= crate::model::names::SAFE_NAME_BYTES);
        // No extension worth keeping: cut whole.
        assert_eq!(fit_name("ệệệệ", 7), "ệệ");
    }

    #[test]
    fn control_characters_are_escaped_for_logs() {
        assert_eq!(printable("a\nb\tc\u{1b}[31m"), "a\\nb\\tc\\u{1b}[31m");
        assert_eq!(printable("Danh sách ệ.xlsx"), "Danh sách ệ.xlsx");
    }

    #[test]
    fn submission_ids_differ_by_department_and_are_stable() {
        let sha = "ab".repeat(32);
        let snv = submission_id("SNV", &sha);
        assert_eq!(snv, submission_id("SNV", &sha));
        assert_ne!(snv, submission_id("SYT", &sha));
        assert_eq!(snv.len(), 16);
        assert!(snv.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
