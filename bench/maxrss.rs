//! maxrss OUT CMD [ARG...]: runs CMD, writes the ru_maxrss (KiB) that wait4
//! reports for it (its largest process, descendants it waited for included)
//! to the file OUT, and exits with CMD's exit code (128 + signal if killed).
//!
//! ingest_bench.py starts every tool through this launcher. A process the
//! Python harness starts directly inherits the harness's RSS high-water mark
//! on exec (the kernel keeps the larger of the two in ru_maxrss), which would
//! hide any tool smaller than the harness; started from this small program,
//! the inherited mark is a megabyte or two.
//!
//! Built by bench/run.sh: rustc -O bench/maxrss.rs -o target/bench/maxrss

use std::ffi::{c_int, c_long};
use std::process::{Command, ExitCode};

#[repr(C)]
struct Timeval {
    sec: c_long,
    usec: c_long,
}

#[repr(C)]
struct Rusage {
    utime: Timeval,
    stime: Timeval,
    maxrss: c_long,
    rest: [c_long; 13],
}

unsafe extern "C" {
    fn wait4(pid: c_int, status: *mut c_int, options: c_int, usage: *mut Rusage) -> c_int;
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [out, cmd, rest @ ..] = args.as_slice() else {
        eprintln!("usage: maxrss OUT CMD [ARG...]");
        return ExitCode::from(2);
    };
    let child = match Command::new(cmd).args(rest).spawn() {
        Ok(child) => child,
        Err(e) => {
            eprintln!("maxrss: cannot start {cmd}: {e}");
            return ExitCode::from(127);
        }
    };
    let mut status: c_int = 0;
    let mut usage = Rusage {
        utime: Timeval { sec: 0, usec: 0 },
        stime: Timeval { sec: 0, usec: 0 },
        maxrss: 0,
        rest: [0; 13],
    };
    // SAFETY: status and usage are valid for writes; the child is ours and not yet reaped.
    let pid = unsafe { wait4(child.id() as c_int, &mut status, 0, &mut usage) };
    if pid < 0 {
        eprintln!("maxrss: wait4: {}", std::io::Error::last_os_error());
        return ExitCode::from(125);
    }
    if let Err(e) = std::fs::write(out, format!("{}\n", usage.maxrss)) {
        eprintln!("maxrss: cannot write {out}: {e}");
        return ExitCode::from(125);
    }
    let code = if status & 0x7f == 0 {
        (status >> 8) & 0xff // exited
    } else {
        128 + (status & 0x7f) // killed by a signal
    };
    ExitCode::from(code as u8)
}
