//! Durable writes: a file is written beside its place, flushed and renamed
//! into place, and its folder flushed, so a reader never sees half a file and
//! a crash leaves at most a hidden temporary.

use std::path::{Path, PathBuf};

use crate::model::names::printable;

/// Why a durable write failed: what was being done, and to which path.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    // The path as a printable line: a file name may hold a newline.
    #[error("cannot {action} {}", printable(&path.display().to_string()))]
    Io {
        /// What was being done: "create the folder", "write", "move into place", …
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io_failed<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> WriteError + 'a {
    move |source| WriteError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// Writes bytes to a temporary file beside `path`, fsyncs and renames it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io_failed("create the folder", dir))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut file = std::fs::File::create(&tmp).map_err(io_failed("create", &tmp))?;
    file.write_all(bytes).map_err(io_failed("write", &tmp))?;
    file.sync_all().map_err(io_failed("flush", &tmp))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(io_failed("move into place", path))?;
    sync_dir(dir)
}

/// Flushes a folder, so the names renamed into it are durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), WriteError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_failed("flush the folder", dir))
}
