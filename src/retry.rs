//! The one retry policy: exponential backoff with a first delay, a growth
//! factor, a cap and jitter. The outbox uses it to schedule a message's next
//! attempt, the alerts to space their HTTP attempts.
//!
//! Pure: [`Backoff::delay_after`] takes the jitter as a number in [0, 1), so
//! tests choose it; [`random_unit`] supplies one in production.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// How much of a delay jitter may take away: a delay lands in
/// [`(1 - JITTER) × d`, `d`], so many messages that failed together do not
/// retry in the same second, and the cap stays a cap.
pub const JITTER: f64 = 0.2;

/// Exponential backoff: `first`, then `factor` times the previous delay, never
/// more than `max`, each less up to [`JITTER`] of itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// The delay after the first failure.
    pub first: Duration,
    /// How much each further failure multiplies the delay by.
    pub factor: u32,
    /// The longest delay.
    pub max: Duration,
}

impl Backoff {
    /// The outbox's default: 2 minutes, doubling, at most 6 hours.
    pub const MAIL: Backoff = Backoff {
        first: Duration::from_secs(120),
        factor: 2,
        max: Duration::from_secs(6 * 3600),
    };

    /// Between the attempts of an alert's HTTP call, which a run waits for:
    /// half a second, doubling, at most 5 seconds.
    pub(crate) const ALERT_HTTP: Backoff = Backoff {
        first: Duration::from_millis(500),
        factor: 2,
        max: Duration::from_secs(5),
    };

    /// The delay before the next attempt after `failures` failed ones (the
    /// first failure is 1; 0 is treated as 1). `unit`, in [0, 1), says how
    /// much jitter to take: 0 none, towards 1 up to [`JITTER`] of the delay.
    pub fn delay_after(&self, failures: u32, unit: f64) -> Duration {
        let max = self.max.max(self.first);
        let mut delay = self.first;
        for _ in 1..failures.max(1) {
            if delay >= max {
                break;
            }
            delay = delay.saturating_mul(self.factor.max(1));
        }
        let delay = delay.min(max);
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            0.0
        };
        if unit == 0.0 {
            return delay;
        }
        // Within the range of `Duration`, whatever the delay (no panic at the top).
        Duration::try_from_secs_f64(delay.as_secs_f64() * (1.0 - JITTER * unit))
            .map_or(delay, |jittered| jittered.min(delay))
    }

    /// [`Backoff::delay_after`] with random jitter.
    pub(crate) fn jittered_delay_after(&self, failures: u32) -> Duration {
        self.delay_after(failures, random_unit())
    }
}

/// A number in [0, 1) that differs from call to call: enough for jitter, not
/// for anything secret. (The standard library's per-hasher random keys, so no
/// random-number crate is needed for this.)
pub fn random_unit() -> f64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    // The top 53 bits, as a double in [0, 1).
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn the_delay_grows_by_the_factor_from_the_first() {
        let b = Backoff::MAIL;
        let delays: Vec<Duration> = (1..=5).map(|n| b.delay_after(n, 0.0)).collect();
        assert_eq!(
            delays,
            [secs(120), secs(240), secs(480), secs(960), secs(1920)]
        );
        assert_eq!(b.delay_after(0, 0.0), secs(120), "0 counts as the first");
    }

    #[test]
    fn the_delay_stops_at_the_cap_even_after_many_failures() {
        let b = Backoff::MAIL;
        assert_eq!(b.delay_after(8, 0.0), secs(120 << 7), "4 h 16 min");
        assert_eq!(
            b.delay_after(9, 0.0),
            secs(6 * 3600),
            "120 s × 2⁸ is past 6 h"
        );
        assert_eq!(b.delay_after(u32::MAX, 0.0), secs(6 * 3600));
        let huge = Backoff {
            first: secs(1),
            factor: 1000,
            max: Duration::MAX,
        };
        assert_eq!(huge.delay_after(100, 0.0), Duration::MAX, "no overflow");
    }

    #[test]
    fn a_cap_below_the_first_delay_is_the_first_delay() {
        let b = Backoff {
            first: secs(10),
            factor: 2,
            max: secs(5),
        };
        assert_eq!(b.delay_after(3, 0.0), secs(10));
    }

    #[test]
    fn jitter_only_shortens_and_by_at_most_its_share() {
        let b = Backoff::MAIL;
        for failures in [1, 3, 20] {
            let full = b.delay_after(failures, 0.0);
            let least = full.mul_f64(1.0 - JITTER);
            for unit in [0.0, 0.25, 0.5, 0.999_999, 1.0, -3.0, 7.0, f64::NAN] {
                let d = b.delay_after(failures, unit);
                assert!(
                    d <= full && d >= least,
                    "{failures} failures, unit {unit}: {d:?}"
                );
            }
            assert!(b.delay_after(failures, 0.5) < full, "jitter does something");
        }
    }

    #[test]
    fn random_units_are_in_range_and_vary() {
        let units: Vec<f64> = (0..200).map(|_| random_unit()).collect();
        assert!(units.iter().all(|u| (0.0..1.0).contains(u)));
        let mut distinct = units.clone();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        assert!(distinct.len() > 150, "{} distinct of 200", distinct.len());
        for _ in 0..100 {
            let d = Backoff::MAIL.jittered_delay_after(2);
            assert!(d <= secs(240) && d >= secs(240).mul_f64(1.0 - JITTER));
        }
    }
}
