//! The floor nhanluc's ingest is measured against: calamine alone reading
//! every cell of every worksheet of the workbooks in a folder, nothing else.
//!
//!     cargo run --release --example calamine_floor -- [--threads N] [--grid] DIR
//!
//! Files are shared out over N threads (default: the cores). `--grid` reads
//! each sheet into calamine's full grid (`worksheet_range`) instead of
//! streaming its cells. Prints `calamine-floor files=F cells=C` last.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use calamine::{Reader, Xlsx, open_workbook};

fn main() {
    let mut threads = std::thread::available_parallelism().map_or(2, usize::from);
    let mut grid = false;
    let mut dir = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--threads" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) if n > 0 => threads = n,
                _ => usage("--threads needs a positive number"),
            },
            "--grid" => grid = true,
            _ if dir.is_none() => dir = Some(PathBuf::from(arg)),
            _ => usage("one folder only"),
        }
    }
    let Some(dir) = dir else { usage("no folder") };
    let mut files = Vec::new();
    collect(&dir, &mut files);
    files.sort();
    let queue = Mutex::new(files.iter());
    let cells = AtomicU64::new(0);
    let failed = AtomicU64::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().ok().and_then(|mut q| q.next());
                    let Some(path) = next else { break };
                    match read_all(path, grid) {
                        Ok(n) => cells.fetch_add(n, Ordering::Relaxed),
                        Err(e) => {
                            eprintln!("{}: {e}", path.display());
                            failed.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                }
            });
        }
    });
    println!(
        "calamine-floor files={} cells={} failed={}",
        files.len(),
        cells.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed)
    );
}

fn usage(why: &str) -> ! {
    eprintln!("{why}\nusage: calamine_floor [--threads N] [--grid] DIR");
    std::process::exit(2)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "xlsx") {
            out.push(path);
        }
    }
}

/// Every non-empty cell of every worksheet, counted so the reads cannot be
/// optimised away.
fn read_all(path: &Path, grid: bool) -> Result<u64, calamine::XlsxError> {
    let mut workbook: Xlsx<_> = open_workbook(path)?;
    let mut cells = 0;
    for name in workbook.sheet_names() {
        if grid {
            cells += workbook.worksheet_range(&name)?.used_cells().count() as u64;
        } else {
            let mut reader = workbook.worksheet_cells_reader(&name)?;
            while let Some(cell) = reader.next_cell()? {
                cells += u64::from(!matches!(cell.get_value(), calamine::DataRef::Empty));
            }
        }
    }
    Ok(cells)
}
