//! Work spread over threads, results taken in order.
//!
//! Ingest prepares files and the indicator snapshots read part files on every
//! core, but both must hand their results on in input order (the ledger
//! commits files in inbox order; a snapshot's rows follow the part order, so
//! the same parts give the same file). Workers never run more than `ahead`
//! items past the oldest one not yet taken, so memory stays bounded by a few
//! items even when one item is slow.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex};

/// Runs `work(i)` for every `i` in `0..count` on up to `workers` threads and
/// passes the results to `take` in index order. Stops handing out work at the
/// first error `take` returns, and returns it.
pub(crate) fn map_in_order<T, E>(
    count: usize,
    workers: usize,
    ahead: usize,
    work: impl Fn(usize) -> T + Sync,
    mut take: impl FnMut(T) -> Result<(), E>,
) -> Result<(), E>
where
    T: Send,
{
    let gate = Gate::new(ahead);
    std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::channel();
        for _ in 0..workers.clamp(1, count.max(1)) {
            let sender = sender.clone();
            let (gate, work) = (&gate, &work);
            scope.spawn(move || {
                while let Some(index) = gate.next(count) {
                    if sender.send((index, work(index))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let mut arrived = BTreeMap::new();
        let mut next = 0;
        let mut result = Ok(());
        'receive: for (index, item) in &receiver {
            arrived.insert(index, item);
            while let Some(item) = arrived.remove(&next) {
                if let Err(e) = take(item) {
                    result = Err(e);
                    break 'receive;
                }
                next += 1;
                gate.taken(next);
            }
        }
        // Workers waiting for their turn must not outlive a failed `take`.
        gate.abort();
        result
    })
}

/// Hands out indexes to workers, never more than `ahead` past the oldest
/// item not yet taken.
struct Gate {
    ahead: usize,
    progress: Mutex<Progress>,
    moved: Condvar,
}

#[derive(Default)]
struct Progress {
    next: usize,
    taken: usize,
    aborted: bool,
}

impl Gate {
    fn new(ahead: usize) -> Self {
        Gate {
            ahead: ahead.max(1),
            progress: Mutex::new(Progress::default()),
            moved: Condvar::new(),
        }
    }

    fn next(&self, total: usize) -> Option<usize> {
        let mut progress = self.progress.lock().ok()?;
        loop {
            if progress.aborted || progress.next >= total {
                return None;
            }
            if progress.next < progress.taken + self.ahead {
                progress.next += 1;
                return Some(progress.next - 1);
            }
            progress = self.moved.wait(progress).ok()?;
        }
    }

    fn taken(&self, count: usize) {
        if let Ok(mut progress) = self.progress.lock() {
            progress.taken = count;
        }
        self.moved.notify_all();
    }

    fn abort(&self) {
        if let Ok(mut progress) = self.progress.lock() {
            progress.aborted = true;
        }
        self.moved.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn results_arrive_in_order_and_workers_stay_within_the_window() {
        let running_ahead = AtomicUsize::new(0);
        let taken = AtomicUsize::new(0);
        let mut seen = Vec::new();
        map_in_order(
            200,
            4,
            3,
            |i| {
                // Later items finish first, so order must come from the reassembly.
                std::thread::sleep(std::time::Duration::from_micros(
                    ((200 - i) % 7) as u64 * 50,
                ));
                let lead = i.saturating_sub(taken.load(Ordering::SeqCst));
                running_ahead.fetch_max(lead, Ordering::SeqCst);
                i * 2
            },
            |v: usize| {
                seen.push(v);
                taken.fetch_add(1, Ordering::SeqCst);
                Ok::<(), ()>(())
            },
        )
        .unwrap();
        assert_eq!(seen, (0..200).map(|i| i * 2).collect::<Vec<_>>());
        assert!(
            running_ahead.load(Ordering::SeqCst) < 3,
            "a worker ran past the window"
        );
    }

    #[test]
    fn the_first_error_stops_the_work_and_is_returned() {
        let started = AtomicUsize::new(0);
        let result = map_in_order(
            10_000,
            2,
            4,
            |i| {
                started.fetch_add(1, Ordering::SeqCst);
                i
            },
            |i| {
                if i == 5 {
                    Err(format!("item {i}"))
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(result, Err("item 5".to_string()));
        assert!(started.load(Ordering::SeqCst) < 20);
    }
}
