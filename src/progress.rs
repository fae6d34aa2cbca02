//! Progress of the long steps, told to whoever shows it.
//!
//! The pipeline counts what it has done (files read, snapshots refreshed,
//! indicator files run, messages delivered) on a [`Task`]; how that is shown
//! is not its business. A program installs one [`Reporter`] at start-up (the
//! command line draws a bar on a terminal and writes a line now and then to a
//! log, see [`crate::logging`]); without one, counting costs next to nothing
//! and shows nothing.
//!
//! The steps still log their own one-line summaries when they end, so what a
//! run did is in the log whatever the reporter.

use std::sync::OnceLock;

/// A long step whose progress is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Inbox files read and decided (accepted, quarantined, …); rows counted too.
    Ingest,
    /// (table, period) snapshots brought up to date before the queries.
    Snapshots,
    /// Indicator SQL files run.
    Queries,
    /// Outbox messages handed to the SMTP server or written as `.eml` files.
    Delivery,
}

impl Step {
    /// A short name for the step, as shown beside its bar or in its log lines.
    pub fn label(self) -> &'static str {
        match self {
            Step::Ingest => "ingest",
            Step::Snapshots => "snapshots",
            Step::Queries => "indicators",
            Step::Delivery => "delivery",
        }
    }

    /// What one item of the step is, plural.
    pub fn unit(self) -> &'static str {
        match self {
            Step::Ingest => "files",
            Step::Snapshots => "snapshots",
            Step::Queries => "queries",
            Step::Delivery => "messages",
        }
    }

    /// Whether the step counts rows besides items (and a rate of rows is worth showing).
    pub(crate) fn counts_rows(self) -> bool {
        matches!(self, Step::Ingest)
    }
}

/// Shows progress: makes a [`Meter`] for each step that starts.
pub trait Reporter: Send + Sync {
    /// A step starts with `total` items to do.
    fn start(&self, step: Step, total: u64) -> Box<dyn Meter>;
}

/// The progress of one running step, as a [`Reporter`] shows it.
pub trait Meter: Send {
    /// `done` of the step's items are done so far, with `rows` rows among them
    /// (both count from the start of the step).
    fn update(&mut self, done: u64, rows: u64);
    /// What the step works on now (a table and period, an indicator file).
    fn note(&mut self, _text: &str) {}
    /// The step ended (done, failed or abandoned).
    fn finish(&mut self);
}

static REPORTER: OnceLock<Box<dyn Reporter>> = OnceLock::new();

/// Installs the reporter for the life of the process. Returns `false` (and
/// keeps the first one) if one was installed already.
pub(crate) fn set_reporter(reporter: Box<dyn Reporter>) -> bool {
    REPORTER.set(reporter).is_ok()
}

/// Starts counting a step of `total` items.
pub fn start(step: Step, total: usize) -> Task {
    let total = total as u64;
    Task {
        meter: REPORTER.get().map(|r| r.start(step, total)),
        done: 0,
        rows: 0,
    }
}

/// A step being counted. Dropping it ends the step for the reporter, so a
/// step that fails half-way leaves no bar behind.
pub struct Task {
    meter: Option<Box<dyn Meter>>,
    done: u64,
    rows: u64,
}

impl Task {
    /// `items` more items done, holding `rows` rows.
    pub(crate) fn advance(&mut self, items: usize, rows: usize) {
        self.done += items as u64;
        self.rows += rows as u64;
        if let Some(meter) = &mut self.meter {
            meter.update(self.done, self.rows);
        }
    }

    /// Says what the step works on now.
    pub fn note(&mut self, text: &str) {
        if let Some(meter) = &mut self.meter {
            meter.note(text);
        }
    }

    /// Items done so far.
    pub fn done(&self) -> u64 {
        self.done
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        if let Some(meter) = &mut self.meter {
            meter.finish();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_without_a_reporter_still_counts() {
        let mut task = start(Step::Ingest, 3);
        task.advance(1, 10);
        task.advance(2, 5);
        assert_eq!(task.done(), 3);
    }
}
