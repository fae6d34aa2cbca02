//! Names that go into paths, logs and messages: safe as one path component,
//! with control characters escaped, and the id of a submission.

use sha2::{Digest, Sha256};

/// A file name that is safe as one path component: no separators, no leading dot.
pub(crate) fn safe_file_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.() ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let trimmed = cleaned.trim_start_matches('.').trim();
    if trimmed.is_empty() {
        "file".to_string()
    } else {
        fit_name(trimmed, SAFE_NAME_BYTES)
    }
}

/// The longest name [`safe_file_name`] returns, in bytes: a path component
/// is at most 255 bytes, and a name is often given a prefix or a suffix.
pub(crate) const SAFE_NAME_BYTES: usize = 200;

/// The most a file system takes as one path component, in bytes.
pub(crate) const NAME_MAX: usize = 255;

/// `name` cut to at most `max` bytes at a character boundary, keeping its
/// extension (up to 16 bytes) so the kind of file still shows.
pub(crate) fn fit_name(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_string();
    }
    let cut = |text: &str, max: usize| -> String {
        let mut end = max.min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text[..end].to_string()
    };
    match name.rsplit_once('.') {
        Some((stem, extension))
            if !stem.is_empty() && extension.len() <= 16 && extension.len() + 2 <= max =>
        {
            format!("{}.{extension}", cut(stem, max - extension.len() - 1))
        }
        _ => cut(name, max),
    }
}

/// `text` with its control characters (newline, tab, escape, …) written
/// as escapes (`\n`, `\u{1b}`): how a file name or a reason quoting one
/// goes into a log line, a sidecar line or a message, so a name cannot
/// forge a line.
pub fn printable(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A submission's id: derived from its department and its bytes alone, so
/// the same bytes from two departments are two submissions, and re-ingesting
/// the archive (`rebuild`) gives every submission the id it had.
pub fn submission_id(department: &str, sha256: &str) -> String {
    let digest = Sha256::digest(format!("{department}\n{sha256}").as_bytes());
    hex::encode(&digest[..8])
}
