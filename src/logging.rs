//! Where the log and the progress of a command go: stderr, as text or JSON,
//! with progress bars when a person watches.
//!
//! [`init`] installs the log (tracing) and a [`progress::Reporter`]:
//! - stderr a terminal, text format, not `--quiet`: a bar per running step
//!   (indicatif), and log lines printed above the bars, which are cleared
//!   while a line is written so neither garbles the other;
//! - otherwise (a pipe, journald, cron, or `--log-format json`): no bar; a
//!   step that runs long writes a line at info every [`HEARTBEAT`] saying how
//!   far it is;
//! - `--quiet`: neither; only warnings and errors.
//!
//! The pipeline itself only counts on [`progress::Task`]s and logs; this
//! module is the one place that knows about terminals.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use tracing_subscriber::fmt::MakeWriter;

use crate::progress::{self, Meter, Reporter, Step};

/// The environment variable that overrides the log filter (`tracing`'s
/// `EnvFilter` syntax, e.g. `info,nhanluc::ingest=debug`).
pub(crate) const FILTER_VARIABLE: &str = "NHANLUC_LOG";

/// How often a step writes how far it is when no bar is drawn.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// The shape of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// `2026-01-01T02:00:00Z  INFO message key=value`, for people.
    #[default]
    Text,
    /// One JSON object per line with `timestamp`, `level`, `message` and the
    /// event's fields at the top level, for journald or Kubernetes collectors.
    Json,
}

/// A log format name that is neither `text` nor `json`.
#[derive(Debug, thiserror::Error)]
#[error("unknown log format {0:?}: expected text or json")]
pub struct UnknownLogFormat(String);

impl std::str::FromStr for LogFormat {
    type Err = UnknownLogFormat;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(UnknownLogFormat(text.to_string())),
        }
    }
}

/// What the command line asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogOptions {
    /// Only warnings and errors, and no progress.
    pub quiet: bool,
    /// 1: debug (one line per file and message), 2 or more: trace.
    pub verbose: u8,
    pub format: LogFormat,
}

/// Installs the log and the progress reporter for the process (once; later
/// calls change nothing).
pub fn init(options: LogOptions) {
    let default = match (options.quiet, options.verbose) {
        (true, _) => "warn",
        (false, 0) => "info",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env(FILTER_VARIABLE)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let terminal = std::io::stderr().is_terminal();
    let draw_bars = terminal && !options.quiet && options.format == LogFormat::Text;
    let bars = draw_bars.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
    let writer = Console { bars: bars.clone() };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_target(false);
    let installed = match options.format {
        LogFormat::Text => builder.with_ansi(terminal).try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
    };
    if installed.is_err() {
        return;
    }
    if let Some(bars) = bars {
        progress::set_reporter(Box::new(Bars { bars }));
    } else if !options.quiet {
        progress::set_reporter(Box::new(LogLines { every: HEARTBEAT }));
    }
}

/// Log lines to stderr, each written whole while the bars (if any) are
/// cleared, then redrawn below it.
#[derive(Clone)]
struct Console {
    bars: Option<MultiProgress>,
}

/// One log line being formatted; written out when dropped.
struct ConsoleLine<'a> {
    bars: Option<&'a MultiProgress>,
    line: Vec<u8>,
}

impl<'a> MakeWriter<'a> for Console {
    type Writer = ConsoleLine<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        ConsoleLine {
            bars: self.bars.as_ref(),
            line: Vec::new(),
        }
    }
}

impl Write for ConsoleLine<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.line.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for ConsoleLine<'_> {
    fn drop(&mut self) {
        if self.line.is_empty() {
            return;
        }
        // Nothing sensible to do when stderr itself fails.
        let write = || {
            let _ = std::io::stderr().lock().write_all(&self.line);
        };
        match self.bars {
            Some(bars) => bars.suspend(write),
            None => write(),
        }
    }
}

/// A bar per running step.
struct Bars {
    bars: MultiProgress,
}

impl Reporter for Bars {
    fn start(&self, step: Step, total: u64) -> Box<dyn Meter> {
        if total == 0 {
            return Box::new(Silent);
        }
        // Rows are a key of the template, read when the bar is drawn: one
        // draw per update, not one for the count and one for a message.
        let rows = Arc::new(AtomicU64::new(0));
        let detail = if step.counts_rows() {
            "{rows} rows, {rows_per_sec} rows/s"
        } else {
            "{msg}"
        };
        let template = format!(
            "{{prefix:>10.bold}} [{{bar:32.cyan/blue}}] {{pos}}/{{len}} {}  {detail}  ETA {{eta}}",
            step.unit()
        );
        let (shown, rated) = (rows.clone(), rows.clone());
        let style = ProgressStyle::with_template(&template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .with_key(
                "rows",
                move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{}", shown.load(Ordering::Relaxed));
                },
            )
            .with_key(
                "rows_per_sec",
                move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let rate = per_second(rated.load(Ordering::Relaxed), state.elapsed());
                    let _ = write!(w, "{rate}");
                },
            )
            .progress_chars("=> ");
        let bar = self.bars.add(
            ProgressBar::new(total)
                .with_style(style)
                .with_prefix(step.label()),
        );
        Box::new(BarMeter { bar, total, rows })
    }
}

struct BarMeter {
    bar: ProgressBar,
    total: u64,
    rows: Arc<AtomicU64>,
}

impl Meter for BarMeter {
    fn update(&mut self, done: u64, rows: u64) {
        self.rows.store(rows, Ordering::Relaxed);
        self.bar.set_position(done.min(self.total));
    }

    fn note(&mut self, text: &str) {
        self.bar.set_message(text.to_string());
    }

    fn finish(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// For a step with nothing to do.
struct Silent;

impl Meter for Silent {
    fn update(&mut self, _done: u64, _rows: u64) {}
    fn finish(&mut self) {}
}

/// No bar: a line at info now and then while a step runs.
struct LogLines {
    every: Duration,
}

impl Reporter for LogLines {
    fn start(&self, step: Step, total: u64) -> Box<dyn Meter> {
        let now = Instant::now();
        Box::new(LineMeter {
            step,
            total,
            started: now,
            last_line: now,
            every: self.every,
        })
    }
}

struct LineMeter {
    step: Step,
    total: u64,
    started: Instant,
    last_line: Instant,
    every: Duration,
}

impl Meter for LineMeter {
    fn update(&mut self, done: u64, rows: u64) {
        if self.last_line.elapsed() < self.every || done >= self.total {
            return;
        }
        self.last_line = Instant::now();
        let elapsed = self.started.elapsed();
        tracing::info!(
            step = self.step.label(),
            done,
            total = self.total,
            rows,
            "{}",
            progress_line(self.step, done, self.total, rows, elapsed)
        );
    }

    fn finish(&mut self) {}
}

/// `ingest: 5000/20000 files (25%), 1200000 rows, 40000 rows/s, about 3m left`.
fn progress_line(step: Step, done: u64, total: u64, rows: u64, elapsed: Duration) -> String {
    let percent = (done * 100).checked_div(total).unwrap_or(100);
    let mut line = format!(
        "{}: {done}/{total} {} ({percent}%)",
        step.label(),
        step.unit()
    );
    if step.counts_rows() {
        line += &format!(", {rows} rows, {} rows/s", per_second(rows, elapsed));
    }
    if done > 0 && done < total {
        let left = elapsed.mul_f64((total - done) as f64 / done as f64);
        line += &format!(", about {} left", short_duration(left));
    }
    line
}

fn per_second(count: u64, elapsed: Duration) -> u64 {
    let seconds = elapsed.as_secs_f64();
    if seconds > 0.0 {
        (count as f64 / seconds).round() as u64
    } else {
        0
    }
}

/// `45s`, `3m`, `1h05m`.
fn short_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s.div_ceil(60)),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_formats_parse_by_name() {
        assert_eq!("text".parse::<LogFormat>().unwrap(), LogFormat::Text);
        assert_eq!("JSON".parse::<LogFormat>().unwrap(), LogFormat::Json);
        let error = "xml".parse::<LogFormat>().unwrap_err().to_string();
        assert!(
            error.contains("\"xml\"") && error.contains("text or json"),
            "{error}"
        );
    }

    #[test]
    fn a_progress_line_says_how_far_and_how_long_is_left() {
        let line = progress_line(
            Step::Ingest,
            5_000,
            20_000,
            1_000_000,
            Duration::from_secs(60),
        );
        assert_eq!(
            line,
            "ingest: 5000/20000 files (25%), 1000000 rows, 16667 rows/s, about 3m left"
        );
        let line = progress_line(Step::Delivery, 3, 4, 0, Duration::from_secs(30));
        assert_eq!(line, "delivery: 3/4 messages (75%), about 10s left");
    }

    #[test]
    fn durations_are_short() {
        assert_eq!(short_duration(Duration::from_secs(45)), "45s");
        assert_eq!(short_duration(Duration::from_secs(125)), "3m");
        assert_eq!(short_duration(Duration::from_secs(3_900)), "1h05m");
    }
}
