//! Reading each workbook in a child process with resource limits.
//!
//! Why a child process, and not only checks before allocating: calamine
//! sizes allocations from what a file declares (shared string counts, xls
//! DIMENSIONS, ODS repeats), and when the allocator fails it *aborts* the
//! process — no `catch_unwind`, no error value, the whole run gone and the
//! file still in the inbox for the next run to die on. No check made before
//! calling the library can cover every such path in every format, nor a bug
//! nobody has found yet; and a per-file time budget needs something that can
//! be killed. A process can: the reader runs in a child with an address-space
//! limit (`[ingest] reader_memory_mib`) and no core dumps, the parent gives it
//! `[ingest] read_seconds` per file and kills it past that. When the child
//! dies on a file, for whatever reason, that file alone is quarantined with a
//! reason the department can act on, and a fresh child reads the next one.
//! The bounds in [`super::workbook`] still give clearer reasons where a check
//! is cheap; this is the backstop that holds when they miss.
//!
//! The boundary is the [`RowSink`] event stream: the child runs the reader
//! and writes each event as a length-prefixed binary frame on its stdout; the
//! parent decodes the frames as they arrive and feeds the real sink, so
//! memory stays bounded and rows are still streamed. The last frame is Ok or
//! the [`WorkbookError`] as data (its Vietnamese and English reasons), so a
//! file is quarantined with the same words as when read in-process.
//!
//! One long-lived child per concurrent reader (a small pool: spawned once,
//! not per file — an inbox holds thousands). A request is the mode and the
//! file's bytes over stdin: the parent already holds the bytes it hashed, so
//! nothing is opened twice. A child whose parent is gone reads end-of-file
//! on stdin and exits.
//!
//! The binary registers itself as the reader program ([`isolate_with`]) and
//! enters [`child_main`] on a hidden first argument; library callers that
//! never register (unit and integration tests linking the library) read
//! in-process, exactly as before.
//!
//! The parent itself can still die while a file is read (the OOM killer may
//! pick it; a library caller reads in-process): see [`ReadingMark`], which
//! quarantines a file that was being read when two runs died.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use chrono::Datelike;

use super::sheet::Merge;
use super::workbook::{self, RowSink, WorkbookError};
use crate::error_chain::chain;
use crate::model::value::Cell;

/// The hidden first argument that makes the binary a reader child.
pub const CHILD_ARG: &str = "__reader";

/// Test-only fault hook: with this variable set, a file whose bytes contain
/// [`FAULT_MARKER`] makes the reader `abort` (a crash) or `sleep` (a hang),
/// as a hostile file would. Inert without the variable.
pub(crate) const FAULT_ENV: &str = "NHANLUC_TEST_READER_FAULT";
/// The bytes a file must contain for [`FAULT_ENV`] to act on it.
pub(crate) const FAULT_MARKER: &[u8] = b"NHANLUC-TEST-READER-FAULT";

static PROGRAM: OnceLock<PathBuf> = OnceLock::new();
static IDLE: Mutex<Vec<Worker>> = Mutex::new(Vec::new());

/// Reads every later workbook in child processes running `program` (the
/// binary itself) with [`CHILD_ARG`]. Called once at start; later calls are
/// ignored.
pub fn isolate_with(program: PathBuf) {
    let _ = PROGRAM.set(program);
}

/// The per-file budgets of a reader child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Address space of the child, in bytes.
    pub memory_bytes: u64,
    /// Wall-clock time one file may take.
    pub seconds: u64,
}

impl Limits {
    /// The budgets the configuration sets.
    pub fn of(settings: &crate::config::IngestSettings) -> Limits {
        Limits {
            memory_bytes: settings.reader_memory_bytes,
            seconds: settings.read_seconds,
        }
    }
}

/// How the child read stopped without an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// It ran out of its address space (the allocator failed).
    Memory { mib: u64 },
    /// It took longer than the budget and was killed.
    Time { seconds: u64 },
    /// It died otherwise (a signal, an exit, a garbled answer): what happened.
    Crashed(String),
}

impl Stop {
    /// Why the file is quarantined, in Vietnamese for the department: what
    /// stopped the reader and what to do.
    pub fn reason_vi(&self) -> String {
        let why = match self {
            Stop::Memory { mib } => format!("cần hơn {mib} MiB bộ nhớ"),
            Stop::Time { seconds } => format!("quá {seconds} giây"),
            Stop::Crashed(_) => "bị lỗi khi đọc".to_string(),
        };
        format!(
            "Tệp làm trình đọc dừng ({why}): tệp có thể bị hỏng; mở bằng Excel, lưu lại và gửi lại"
        )
    }
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let why = match self {
            Stop::Memory { mib } => format!("needed more than {mib} MiB"),
            Stop::Time { seconds } => format!("took more than {seconds} s"),
            Stop::Crashed(what) => format!("crashed while being read: {what}"),
        };
        write!(
            f,
            "This file stopped the reader ({why}): it may be damaged; open it in Excel, save it again and resend it"
        )
    }
}

/// Whether a read streams rows ([`workbook::stream_workbook`]) or reads
/// sheets whole first ([`workbook::read_workbook`] and [`workbook::replay`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Stream,
    Whole,
}

/// Reads `bytes` into `sink` as `mode` says: in a reader child when the
/// binary registered one, else in this process.
pub fn read(
    mode: Mode,
    bytes: &[u8],
    sink: &mut dyn RowSink,
    limits: Limits,
) -> Result<(), WorkbookError> {
    let Some(program) = PROGRAM.get() else {
        return read_here(mode, bytes, sink);
    };
    let mut reused = true;
    loop {
        let mut worker = match checkout(program, limits, &mut reused) {
            Ok(worker) => worker,
            Err(e) => {
                // No child can be started (no processes left, binary gone):
                // nothing about this file, so it is not quarantined for it.
                tracing::warn!(
                    error = %chain(&e),
                    "cannot start a reader process: reading in-process"
                );
                return read_here(mode, bytes, sink);
            }
        };
        let mut answered = false;
        match worker.request(mode, bytes, sink, limits, &mut answered) {
            Ok(result) => {
                checkin(worker);
                return result;
            }
            Err(failure) => {
                // A child reused from the pool may have died while idle (the
                // OOM killer, an operator): one fresh child gets the file
                // before it is blamed. A child that is alive but silent past
                // the budget was not idle-dead: no second wait.
                let retry = reused && !answered && !matches!(failure, Failure::Timeout);
                let stop = worker.end(failure, limits);
                if retry {
                    reused = false;
                    tracing::debug!(stop = %stop, "reader process lost before answering: retrying");
                    continue;
                }
                tracing::warn!(reason = %stop, "a file stopped the reader process");
                return Err(WorkbookError::ReaderStopped(stop));
            }
        }
    }
}

/// Ends every idle reader child and waits for it (so its resource use is
/// counted as this process's children's). Called before the binary exits.
pub fn shutdown() {
    let idle = std::mem::take(&mut *IDLE.lock().unwrap_or_else(|p| p.into_inner()));
    for worker in idle {
        worker.close();
    }
}

/// Reads in this process, as the child does.
fn read_here(mode: Mode, bytes: &[u8], sink: &mut dyn RowSink) -> Result<(), WorkbookError> {
    fault_hook(bytes);
    match mode {
        Mode::Stream => workbook::stream_workbook(bytes, sink),
        Mode::Whole => {
            workbook::replay(workbook::read_workbook(bytes)?, sink);
            Ok(())
        }
    }
}

fn fault_hook(bytes: &[u8]) {
    let Ok(fault) = std::env::var(FAULT_ENV) else {
        return;
    };
    if memchr::memmem::find(bytes, FAULT_MARKER).is_none() {
        return;
    }
    match fault.as_str() {
        "abort" => std::process::abort(),
        "sleep" => {
            // Until killed; a child whose parent died stops sleeping.
            let parent = std::os::unix::process::parent_id();
            for _ in 0..600 {
                std::thread::sleep(Duration::from_millis(100));
                if std::os::unix::process::parent_id() != parent {
                    std::process::exit(3);
                }
            }
        }
        _ => {}
    }
}

fn checkout(program: &Path, limits: Limits, reused: &mut bool) -> std::io::Result<Worker> {
    if *reused {
        let mut idle = IDLE.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(worker) = idle.pop() {
            if worker.memory_bytes == limits.memory_bytes {
                return Ok(worker);
            }
            // Spawned under another configuration.
            drop(idle);
            worker.close();
            idle = IDLE.lock().unwrap_or_else(|p| p.into_inner());
        }
    }
    *reused = false;
    Worker::spawn(program, limits.memory_bytes)
}

fn checkin(worker: Worker) {
    IDLE.lock().unwrap_or_else(|p| p.into_inner()).push(worker);
}

/// What Rust's allocation error handler writes before it aborts.
const OUT_OF_MEMORY: &[u8] = b"memory allocation of";

/// One reader child.
struct Worker {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<Timed>,
    /// The last bytes the child wrote on stderr (the allocator's message).
    stderr: Arc<Mutex<Vec<u8>>>,
    /// The thread draining stderr: it ends when the child is gone.
    drain: Option<std::thread::JoinHandle<()>>,
    memory_bytes: u64,
}

/// Why a request got no answer.
#[derive(Debug)]
enum Failure {
    Timeout,
    Io(std::io::Error),
    Garbled(&'static str),
}

impl Worker {
    fn spawn(program: &Path, memory_bytes: u64) -> std::io::Result<Worker> {
        let mut child = Command::new(program)
            .arg(CHILD_ARG)
            .arg(memory_bytes.to_string())
            // glibc reserves 64 MiB of address space per thread arena; the
            // limit is on address space, so keep the arenas few.
            .env("MALLOC_ARENA_MAX", "2")
            // The allocator's one line is what tells a memory stop; a
            // backtrace after it would only bury it.
            .env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LIB_BACKTRACE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let (Some(stdin), Some(stdout), Some(mut err)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::other("reader process without pipes"));
        };
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let tail = Arc::clone(&stderr);
        // Drained always, so the child never blocks on a full pipe; only the
        // last few KiB are kept.
        let drain = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut tail = tail.lock().unwrap_or_else(|p| p.into_inner());
                tail.extend_from_slice(&buf[..n]);
                // Whatever follows, the allocator's message is kept first.
                let keep_from = memchr::memmem::rfind(&tail, OUT_OF_MEMORY)
                    .unwrap_or(tail.len().saturating_sub(4096));
                let excess = keep_from.min(tail.len().saturating_sub(4096));
                tail.drain(..excess);
            }
        });
        Ok(Worker {
            child,
            stdin: Some(stdin),
            stdout: BufReader::with_capacity(
                256 * 1024,
                Timed {
                    inner: stdout,
                    deadline: Instant::now(),
                },
            ),
            stderr,
            drain: Some(drain),
            memory_bytes,
        })
    }

    fn request(
        &mut self,
        mode: Mode,
        bytes: &[u8],
        sink: &mut dyn RowSink,
        limits: Limits,
        answered: &mut bool,
    ) -> Result<Result<(), WorkbookError>, Failure> {
        self.stdout.get_mut().deadline = Instant::now() + Duration::from_secs(limits.seconds);
        let stdin = self
            .stdin
            .as_mut()
            .ok_or(Failure::Garbled("stdin closed"))?;
        let mut header = [0u8; 9];
        header[0] = match mode {
            Mode::Stream => 0,
            Mode::Whole => 1,
        };
        header[1..].copy_from_slice(&(bytes.len() as u64).to_le_bytes());
        stdin
            .write_all(&header)
            .and_then(|()| stdin.write_all(bytes))
            .and_then(|()| stdin.flush())
            .map_err(Failure::Io)?;
        let mut payload = Vec::new();
        loop {
            let tag = read_frame(&mut self.stdout, &mut payload)?;
            *answered = true;
            if let Some(end) = feed(tag, &payload, sink)? {
                return Ok(end);
            }
        }
    }

    /// Kills and reaps a child that failed a request, saying why it stopped.
    fn end(mut self, failure: Failure, limits: Limits) -> Stop {
        let _ = self.child.kill();
        let status = self.child.wait();
        drop(self.stdin.take());
        // The child is gone: its stderr ends, and all of it has been read.
        if let Some(drain) = self.drain.take() {
            let _ = drain.join();
        }
        // One line, safe for logs and the reason file.
        let tail: String =
            String::from_utf8_lossy(&self.stderr.lock().unwrap_or_else(|p| p.into_inner()))
                .trim()
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
        let mib = limits.memory_bytes / (1024 * 1024);
        if memchr::memmem::find(tail.as_bytes(), OUT_OF_MEMORY).is_some() {
            return Stop::Memory { mib };
        }
        if matches!(failure, Failure::Timeout) {
            return Stop::Time {
                seconds: limits.seconds,
            };
        }
        let how = match status {
            Ok(status) => {
                use std::os::unix::process::ExitStatusExt;
                match (status.signal(), status.code()) {
                    (Some(signal), _) => format!("killed by signal {signal}"),
                    (None, Some(code)) => format!("exited with code {code}"),
                    (None, None) => "ended".to_string(),
                }
            }
            Err(e) => format!("cannot be waited for: {e}"),
        };
        let what = match &failure {
            Failure::Timeout => "timed out".to_string(),
            Failure::Io(e) => e.to_string(),
            Failure::Garbled(what) => format!("garbled answer ({what})"),
        };
        let mut text = format!("{how}; {what}");
        if !tail.is_empty() {
            let last: String = tail
                .chars()
                .rev()
                .take(300)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            text.push_str(&format!("; {last}"));
        }
        Stop::Crashed(text)
    }

    /// Ends an idle child: end-of-file on its stdin, then waits for it.
    fn close(mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    }
}

/// The child's stdout, each read waiting no later than the file's deadline.
struct Timed {
    inner: ChildStdout,
    deadline: Instant,
}

impl Read for Timed {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use std::os::fd::AsRawFd;
        loop {
            let left = self.deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(std::io::ErrorKind::TimedOut.into());
            }
            let mut poll = libc::pollfd {
                fd: self.inner.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            let ms = left.as_millis().clamp(1, i32::MAX as u128) as i32;
            // SAFETY: one valid pollfd for the duration of the call.
            let ready = unsafe { libc::poll(&mut poll, 1, ms) };
            if ready < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            if ready > 0 {
                return self.inner.read(buf);
            }
        }
    }
}

// Frames: a tag byte, a u32 little-endian payload length, the payload.
const TAG_BEGIN: u8 = 1;
const TAG_ROW: u8 = 2;
const TAG_END_SHEET: u8 = 3;
const TAG_OK: u8 = 4;
const TAG_UNORDERED: u8 = 5;
const TAG_ERROR: u8 = 6;

/// A frame larger than this is taken as garbled, never allocated for: no
/// real row comes near it (a row of 16,384 cells of 1 KiB is 16 MiB).
const MAX_FRAME: usize = 256 * 1024 * 1024;

/// Gives one frame's event to `sink`; the read's end when it is the last.
fn feed(
    tag: u8,
    payload: &[u8],
    sink: &mut dyn RowSink,
) -> Result<Option<Result<(), WorkbookError>>, Failure> {
    let mut p = Decoder { bytes: payload };
    match tag {
        TAG_BEGIN => {
            let name = p.string()?;
            let origin_col = p.u32()?;
            let merges = p.merges()?;
            let hidden = p.u8()? != 0;
            sink.begin_sheet(&name, origin_col, merges, hidden);
        }
        TAG_ROW => {
            let row = p.u32()?;
            let count = p.len(1)?;
            let mut cells = Vec::with_capacity(count);
            for _ in 0..count {
                cells.push(p.cell()?);
            }
            sink.row(row, cells);
        }
        TAG_END_SHEET => sink.end_sheet(p.merges()?),
        TAG_OK => return Ok(Some(Ok(()))),
        TAG_UNORDERED => return Ok(Some(Err(WorkbookError::Unordered(p.string()?)))),
        TAG_ERROR => {
            let vi = p.string()?;
            let en = p.string()?;
            return Ok(Some(Err(WorkbookError::Relayed { vi, en })));
        }
        _ => return Err(Failure::Garbled("unknown frame")),
    }
    Ok(None)
}

fn read_frame(from: &mut impl Read, payload: &mut Vec<u8>) -> Result<u8, Failure> {
    let io = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::TimedOut {
            Failure::Timeout
        } else {
            Failure::Io(e)
        }
    };
    let mut header = [0u8; 5];
    from.read_exact(&mut header).map_err(io)?;
    let len = u32::from_le_bytes([header[1], header[2], header[3], header[4]]) as usize;
    if len > MAX_FRAME {
        return Err(Failure::Garbled("frame too large"));
    }
    payload.clear();
    payload.resize(len, 0);
    from.read_exact(payload).map_err(io)?;
    Ok(header[0])
}

struct Decoder<'a> {
    bytes: &'a [u8],
}

impl Decoder<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], Failure> {
        if self.bytes.len() < n {
            return Err(Failure::Garbled("frame cut short"));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, Failure> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, Failure> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64, Failure> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    /// A count of items of at least `item` bytes each, checked against what
    /// the frame holds before anything is allocated for them.
    fn len(&mut self, item: usize) -> Result<usize, Failure> {
        let n = self.u32()? as usize;
        if n.saturating_mul(item) > self.bytes.len() {
            return Err(Failure::Garbled("count beyond the frame"));
        }
        Ok(n)
    }
    fn string(&mut self) -> Result<String, Failure> {
        let n = self.len(1)?;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| Failure::Garbled("text not UTF-8"))
    }
    fn merges(&mut self) -> Result<Option<Vec<Merge>>, Failure> {
        if self.u8()? == 0 {
            return Ok(None);
        }
        let n = self.len(16)?;
        let mut merges = Vec::with_capacity(n);
        for _ in 0..n {
            merges.push(Merge {
                first_row: self.u32()?,
                first_col: self.u32()?,
                last_row: self.u32()?,
                last_col: self.u32()?,
            });
        }
        Ok(Some(merges))
    }
    fn cell(&mut self) -> Result<Cell, Failure> {
        Ok(match self.u8()? {
            0 => Cell::Empty,
            1 => Cell::Text(self.string()?),
            2 => Cell::Number(f64::from_bits(self.u64()?)),
            3 => Cell::Bool(self.u8()? != 0),
            4 => {
                let days = self.u32()? as i32;
                Cell::Date(
                    chrono::NaiveDate::from_num_days_from_ce_opt(days)
                        .ok_or(Failure::Garbled("date out of range"))?,
                )
            }
            5 => Cell::Error(self.string()?),
            6 => Cell::Uncomputed {
                formula: self.string()?,
            },
            7 => {
                let chars = self.u64()? as usize;
                Cell::TooLong {
                    start: self.string()?,
                    chars,
                }
            }
            _ => return Err(Failure::Garbled("unknown cell")),
        })
    }
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u32(out, s.len() as u32);
    out.extend_from_slice(s.as_bytes());
}

fn put_merges(out: &mut Vec<u8>, merges: &Option<Vec<Merge>>) {
    match merges {
        None => out.push(0),
        Some(merges) => {
            out.push(1);
            put_u32(out, merges.len() as u32);
            for m in merges {
                for v in [m.first_row, m.first_col, m.last_row, m.last_col] {
                    put_u32(out, v);
                }
            }
        }
    }
}

fn put_cell(out: &mut Vec<u8>, cell: &Cell) {
    match cell {
        Cell::Empty => out.push(0),
        Cell::Text(text) => {
            out.push(1);
            put_str(out, text);
        }
        Cell::Number(n) => {
            out.push(2);
            out.extend_from_slice(&n.to_bits().to_le_bytes());
        }
        Cell::Bool(b) => {
            out.push(3);
            out.push(u8::from(*b));
        }
        Cell::Date(d) => {
            out.push(4);
            put_u32(out, d.num_days_from_ce() as u32);
        }
        Cell::Error(code) => {
            out.push(5);
            put_str(out, code);
        }
        Cell::Uncomputed { formula } => {
            out.push(6);
            put_str(out, formula);
        }
        Cell::TooLong { start, chars } => {
            out.push(7);
            out.extend_from_slice(&(*chars as u64).to_le_bytes());
            put_str(out, start);
        }
    }
}

/// The child's side: each sink event written as a frame. A write that
/// fails means the parent is gone: the child exits.
struct FrameSink<W: Write> {
    out: W,
    payload: Vec<u8>,
}

impl<W: Write> FrameSink<W> {
    fn frame(&mut self, tag: u8) {
        let len = self.payload.len() as u32;
        let written = self
            .out
            .write_all(&[tag])
            .and_then(|()| self.out.write_all(&len.to_le_bytes()))
            .and_then(|()| self.out.write_all(&self.payload));
        self.payload.clear();
        if written.is_err() {
            std::process::exit(0);
        }
    }
}

impl<W: Write> RowSink for FrameSink<W> {
    fn begin_sheet(
        &mut self,
        name: &str,
        origin_col: u32,
        merges: Option<Vec<Merge>>,
        hidden: bool,
    ) {
        put_str(&mut self.payload, name);
        put_u32(&mut self.payload, origin_col);
        put_merges(&mut self.payload, &merges);
        self.payload.push(u8::from(hidden));
        self.frame(TAG_BEGIN);
    }

    fn row(&mut self, row: u32, cells: Vec<Cell>) {
        put_u32(&mut self.payload, row);
        put_u32(&mut self.payload, cells.len() as u32);
        for cell in &cells {
            put_cell(&mut self.payload, cell);
        }
        self.frame(TAG_ROW);
    }

    fn end_sheet(&mut self, late_merges: Option<Vec<Merge>>) {
        put_merges(&mut self.payload, &late_merges);
        self.frame(TAG_END_SHEET);
    }
}

/// The reader child: limits itself, then answers requests on stdin until
/// end-of-file. `args` are the arguments after [`CHILD_ARG`]: the memory
/// limit in bytes. Returns the process's exit code.
pub fn child_main(args: &[String]) -> i32 {
    let memory: Option<u64> = args.first().and_then(|a| a.parse().ok());
    limit(libc::RLIMIT_CORE, 0);
    if let Some(bytes) = memory {
        limit(libc::RLIMIT_AS, bytes);
    }
    // Panics are caught and become errors (see `workbook`); their default
    // message on stderr would only fill the pipe.
    std::panic::set_hook(Box::new(|_| {}));
    let mut stdin = std::io::stdin().lock();
    let stdout = std::io::stdout().lock();
    let mut sink = FrameSink {
        out: BufWriter::with_capacity(256 * 1024, stdout),
        payload: Vec::new(),
    };
    loop {
        let mut header = [0u8; 9];
        if stdin.read_exact(&mut header).is_err() {
            return 0;
        }
        let mode = if header[0] == 1 {
            Mode::Whole
        } else {
            Mode::Stream
        };
        let mut len = [0u8; 8];
        len.copy_from_slice(&header[1..]);
        let len = u64::from_le_bytes(len);
        // The parent sends a file it read and bounded by `max_file_mib`:
        // room for it at once, no doubling on the way.
        let mut bytes = Vec::new();
        if bytes.try_reserve_exact(len as usize).is_err() {
            // As the allocator says it, so the parent tells a memory stop.
            eprintln!("memory allocation of {len} bytes failed");
            return 1;
        }
        if (&mut stdin).take(len).read_to_end(&mut bytes).is_err() || bytes.len() as u64 != len {
            return 0;
        }
        match read_here(mode, &bytes, &mut sink) {
            Ok(()) => sink.frame(TAG_OK),
            Err(WorkbookError::Unordered(sheet)) => {
                put_str(&mut sink.payload, &sheet);
                sink.frame(TAG_UNORDERED);
            }
            Err(e) => {
                put_str(&mut sink.payload, &e.reason_vi());
                put_str(&mut sink.payload, &chain(&e));
                sink.frame(TAG_ERROR);
            }
        }
        drop(bytes);
        if sink.out.flush().is_err() {
            return 0;
        }
    }
}

fn limit(resource: libc::__rlimit_resource_t, bytes: u64) {
    let value = libc::rlimit {
        rlim_cur: bytes as libc::rlim_t,
        rlim_max: bytes as libc::rlim_t,
    };
    // SAFETY: a plain system call on a valid struct. A failure leaves the
    // limit unset; the parent's time budget still holds.
    unsafe {
        libc::setrlimit(resource, &value);
    }
}

/// A "being read" mark per file (its sha256 and path), for when the process
/// that reads dies anyway (the OOM killer may pick the parent; a library
/// caller reads in-process). Written before reading, removed after, as a
/// small file under the state's folder (`reading/`); it holds how many runs
/// already died reading that file. A mark found at the next reading of the
/// same file is a strike: one kill of a healthy run (an operator's kill -9,
/// a power cut) costs nothing, the second strike in a row quarantines the
/// file "it stopped the reader twice" instead of reading it again.
pub struct ReadingMark {
    path: PathBuf,
}

/// Runs that died reading a file before it is quarantined instead of read.
pub const STRIKES: u32 = 2;

impl ReadingMark {
    /// Marks `sha`/`source` as being read. `Err(strikes)`: the file stopped
    /// earlier runs that many times (at least [`STRIKES`]): quarantine it.
    /// A mark that cannot be written is logged and reading goes on.
    pub fn begin(state: &Path, sha: &str, source: &str) -> Result<ReadingMark, u32> {
        use sha2::Digest;
        let folder = state
            .parent()
            .unwrap_or_else(|| Path::new("."))
            .join("reading");
        let key = hex::encode(sha2::Sha256::digest(source.as_bytes()));
        let path = folder.join(format!("{}-{}", &sha[..sha.len().min(32)], &key[..16]));
        let died: u32 = std::fs::read_to_string(&path)
            .ok()
            .and_then(|text| text.lines().next().and_then(|l| l.trim().parse().ok()))
            .map_or(0, |earlier: u32| earlier.saturating_add(1));
        if died >= STRIKES {
            let _ = std::fs::remove_file(&path);
            return Err(died);
        }
        let written = std::fs::create_dir_all(&folder)
            .and_then(|()| std::fs::write(&path, format!("{died}\n{source}\n")));
        if let Err(e) = written {
            tracing::warn!(file = source, error = %e, "cannot write the being-read mark");
        }
        Ok(ReadingMark { path })
    }

    /// The file was read (whatever the verdict): the mark goes.
    pub fn done(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The reasons (Vietnamese, English) a file that stopped the reader twice is quarantined with.
pub(crate) fn twice_reason(strikes: u32) -> (String, String) {
    (
        format!(
            "Tệp làm trình đọc dừng {strikes} lần (chương trình bị dừng khi đang đọc tệp này): tệp có thể bị hỏng; mở bằng Excel, lưu lại và gửi lại"
        ),
        format!(
            "This file stopped the reader {strikes} times (the program died while reading it): it may be damaged; open it in Excel, save it again and resend it"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The events a sink was given, to compare.
    #[derive(Default, Debug, PartialEq)]
    struct Recorded(Vec<String>);

    impl RowSink for Recorded {
        fn begin_sheet(&mut self, name: &str, col: u32, merges: Option<Vec<Merge>>, hidden: bool) {
            self.0
                .push(format!("begin {name} {col} {merges:?} {hidden}"));
        }
        fn row(&mut self, row: u32, cells: Vec<Cell>) {
            self.0.push(format!("row {row} {cells:?}"));
        }
        fn end_sheet(&mut self, late: Option<Vec<Merge>>) {
            self.0.push(format!("end {late:?}"));
        }
    }

    fn play(sink: &mut dyn RowSink) {
        let merge = Merge {
            first_row: 1,
            first_col: 2,
            last_row: 3,
            last_col: u32::MAX,
        };
        sink.begin_sheet("Trang tính ẩn", 3, Some(vec![merge]), true);
        sink.row(
            7,
            vec![
                Cell::Empty,
                Cell::Text("Nguyễn Văn An".into()),
                Cell::Number(-0.125),
                Cell::Number(f64::NAN),
                Cell::Bool(true),
                Cell::Date(chrono::NaiveDate::from_ymd_opt(1985, 2, 28).expect("date")),
                Cell::Error("#REF!".into()),
                Cell::Uncomputed {
                    formula: "SUM(A1:A3)".into(),
                },
                Cell::TooLong {
                    start: "x".repeat(200),
                    chars: 10_485_760,
                },
            ],
        );
        sink.end_sheet(None);
        sink.begin_sheet("", 0, None, false);
        sink.end_sheet(Some(Vec::new()));
    }

    #[test]
    fn frames_give_the_parent_the_events_the_reader_gave() {
        let mut frames = FrameSink {
            out: Vec::new(),
            payload: Vec::new(),
        };
        play(&mut frames);
        frames.frame(TAG_OK);
        let mut direct = Recorded::default();
        play(&mut direct);

        let mut relayed = Recorded::default();
        let mut from = frames.out.as_slice();
        let mut payload = Vec::new();
        let end = loop {
            let tag = read_frame(&mut from, &mut payload).expect("frame");
            if let Some(end) = feed(tag, &payload, &mut relayed).expect("event") {
                break end;
            }
        };
        assert!(end.is_ok());
        // NaN is not equal to itself: compare the printed events.
        assert_eq!(relayed, direct);
        assert!(from.is_empty());
    }

    #[test]
    fn a_garbled_frame_is_a_failure_never_a_huge_allocation() {
        // A row claiming 4 billion cells in 8 bytes.
        let mut payload = Vec::new();
        put_u32(&mut payload, 5);
        put_u32(&mut payload, u32::MAX);
        let mut sink = Recorded::default();
        assert!(matches!(
            feed(TAG_ROW, &payload, &mut sink),
            Err(Failure::Garbled(_))
        ));
        assert!(matches!(feed(99, &[], &mut sink), Err(Failure::Garbled(_))));
        // A frame cut short.
        let mut from: &[u8] = &[TAG_ROW, 10, 0, 0, 0, 1, 2];
        assert!(matches!(
            read_frame(&mut from, &mut payload),
            Err(Failure::Io(_))
        ));
        assert!(sink.0.is_empty());
    }

    #[test]
    fn a_file_killed_twice_is_refused_and_one_kill_costs_nothing() {
        let dir = tempfile::tempdir().expect("tmp");
        let state = dir.path().join("state.sqlite3");
        let sha = "ab".repeat(32);
        // Read and done: no mark left, no strike.
        ReadingMark::begin(&state, &sha, "SNV/a.xlsx")
            .expect("read")
            .done();
        ReadingMark::begin(&state, &sha, "SNV/a.xlsx")
            .expect("read")
            .done();
        // Two runs die while reading it (their marks stay).
        let _died = ReadingMark::begin(&state, &sha, "SNV/a.xlsx").expect("first");
        // Another path with the same bytes is another file.
        ReadingMark::begin(&state, &sha, "SYT/a.xlsx")
            .expect("other")
            .done();
        let _died_again = ReadingMark::begin(&state, &sha, "SNV/a.xlsx").expect("second");
        assert_eq!(
            ReadingMark::begin(&state, &sha, "SNV/a.xlsx").err(),
            Some(STRIKES)
        );
        // Quarantined: the mark is gone, the same file arriving again is read.
        ReadingMark::begin(&state, &sha, "SNV/a.xlsx")
            .expect("again")
            .done();
    }
}
