//! An error as one line: what failed, then each cause once.
//!
//! Library errors say what failed and where in their `Display` and keep the
//! cause as their `source()`, never both. [`chain`] walks that chain and joins
//! the messages with ": ". Some third-party errors also print their source in
//! their own message (calamine's "Xlsx error: …", lettre's "network error: …");
//! a cause whose text the line already holds is not written again.
//!
//! Use it wherever an error becomes text: the command line, `runs.error`,
//! alert mails and webhooks, the outbox's `last_error`, ingest reasons, logs.
//! `e.to_string()` alone says only the outermost layer.

use std::error::Error;
use std::fmt;
use std::path::Path;

/// `error` and its causes, outermost first, joined by ": ", each said once.
pub fn chain(error: &(dyn Error + 'static)) -> String {
    Chain(error).to_string()
}

/// Displays an error like [`chain`]; for `format!` and `tracing` fields
/// (`error = %Chain(&e)`) without building the string first.
pub struct Chain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut line = String::new();
        let mut next = Some(self.0);
        while let Some(error) = next {
            let text = error.to_string();
            let text = text.trim();
            if !text.is_empty() && !line.contains(text) {
                if !line.is_empty() {
                    line.push_str(": ");
                }
                line.push_str(text);
            }
            next = if says_its_sources(error) {
                None
            } else {
                error.source()
            };
        }
        f.write_str(&line)
    }
}

/// Whether `error`'s own message already says everything its sources say.
/// SQLite's message ("unable to open database file: <path>") sits above the
/// bare result code ("Error code 14: Unable to open the database file").
fn says_its_sources(error: &(dyn Error + 'static)) -> bool {
    matches!(
        error.downcast_ref::<rusqlite::Error>(),
        Some(rusqlite::Error::SqliteFailure(_, Some(_)))
    )
}

/// `" <path>"`, or nothing when `source`'s chain already names the path (SQLite
/// puts the file in its "unable to open database file: <path>"): for error
/// messages that name their file once.
pub(crate) fn path_unless_named(path: &Path, source: &(dyn Error + 'static)) -> String {
    let path = path.display().to_string();
    if chain(source).contains(&path) {
        String::new()
    } else {
        format!(" {path}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A test error: its own message and an optional cause.
    #[derive(Debug)]
    struct Layer {
        message: String,
        cause: Option<Box<Layer>>,
    }

    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(&self.message)
        }
    }

    impl Error for Layer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.cause.as_deref().map(|c| c as &(dyn Error + 'static))
        }
    }

    /// Layers from the outermost in.
    fn layers(messages: &[&str]) -> Layer {
        let mut cause = None;
        for message in messages.iter().rev() {
            cause = Some(Box::new(Layer {
                message: message.to_string(),
                cause,
            }));
        }
        *cause.expect("at least one layer")
    }

    #[test]
    fn joins_every_cause_outermost_first() {
        let error = layers(&[
            "cannot write /w/staff/part.parquet",
            "Permission denied (os error 13)",
        ]);
        assert_eq!(
            chain(&error),
            "cannot write /w/staff/part.parquet: Permission denied (os error 13)"
        );
        let error = layers(&["ingest", "state database /s.sqlite3", "disk I/O error"]);
        assert_eq!(
            chain(&error),
            "ingest: state database /s.sqlite3: disk I/O error"
        );
    }

    #[test]
    fn a_single_error_is_its_message() {
        assert_eq!(chain(&layers(&["no indicators yet"])), "no indicators yet");
    }

    #[test]
    fn a_cause_its_parent_already_printed_is_said_once() {
        // calamine: "Xlsx error: <XlsxError>", whose source is that XlsxError.
        let error = layers(&[
            "cannot open the workbook",
            "Xlsx error: Zip error: invalid Zip archive",
            "Zip error: invalid Zip archive",
            "invalid Zip archive",
        ]);
        assert_eq!(
            chain(&error),
            "cannot open the workbook: Xlsx error: Zip error: invalid Zip archive"
        );
    }

    #[test]
    fn empty_and_blank_messages_are_skipped() {
        let error = layers(&["digest", "", "  ", "smtp refused"]);
        assert_eq!(chain(&error), "digest: smtp refused");
    }

    #[test]
    fn the_display_wrapper_says_the_same_as_the_string() {
        let error = layers(&["a failed", "because b"]);
        assert_eq!(format!("{}", Chain(&error)), chain(&error));
    }

    #[test]
    fn sqlite_s_message_is_not_followed_by_its_bare_result_code() {
        let error = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
            Some("unable to open database file: /data/state.sqlite3".into()),
        );
        assert!(error.source().is_some(), "the code is rusqlite's source");
        assert_eq!(
            chain(&error),
            "unable to open database file: /data/state.sqlite3"
        );
        // Without a message the code is all there is, and it is said.
        let bare = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        );
        assert_eq!(chain(&bare), bare.to_string());
        assert!(!chain(&bare).is_empty());
    }

    #[test]
    fn a_path_named_by_the_cause_is_not_repeated() {
        let path = Path::new("/data/state.sqlite3");
        let names_it = layers(&["unable to open database file: /data/state.sqlite3"]);
        assert_eq!(path_unless_named(path, &names_it), "");
        let silent = layers(&["disk I/O error"]);
        assert_eq!(path_unless_named(path, &silent), " /data/state.sqlite3");
    }
}
