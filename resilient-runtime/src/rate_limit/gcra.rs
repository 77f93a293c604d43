//! GCRA (the generic cell rate algorithm, as governor and redis-cell use it) over one atomic:
//! the theoretical arrival time (TAT) of the next call, in nanoseconds on the limiter's clock.
//!
//! A call at `now` is admitted when `max(TAT, now) + interval - now <= tolerance`, where
//! `interval` is the time one call uses up (period / N) and `tolerance` is `burst · interval`;
//! admitting moves TAT to `max(TAT, now) + interval`. So after a quiet spell `burst` calls pass
//! at once, and over any span `d` at most `burst + d / interval` calls pass. Rejecting writes
//! nothing: a flood of rejected calls costs one load each.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// The state of one limiter.
#[derive(Debug, Default)]
pub(crate) struct Gcra {
    tat: AtomicU64,
}

/// The verdict of the slow path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Admitted now.
    Now,
    /// A slot is reserved this many nanoseconds from now: sleep, then go.
    After(u64),
    /// Over the limit for longer than the call may wait: a slot frees this many nanoseconds
    /// from now.
    Rejected(u64),
}

impl Gcra {
    /// Admits a call at `now` if the limit allows it at once; otherwise returns how long until
    /// it would (nanoseconds), writing nothing. The success path: one load and one CAS.
    #[inline]
    pub(crate) fn try_admit(&self, now: u64, interval: u64, tolerance: u64) -> Result<(), u64> {
        let mut tat = self.tat.load(Relaxed);
        loop {
            let next = tat.max(now).saturating_add(interval);
            let ahead = next - now;
            if ahead > tolerance {
                return Err(ahead - tolerance);
            }
            match self.tat.compare_exchange_weak(tat, next, Relaxed, Relaxed) {
                Ok(_) => return Ok(()),
                Err(current) => tat = current,
            }
        }
    }

    /// Admits a call at `now`, or reserves the first slot within `wait` nanoseconds, or
    /// rejects it.
    pub(crate) fn admit_or_reserve(
        &self,
        now: u64,
        interval: u64,
        tolerance: u64,
        wait: u64,
    ) -> Verdict {
        let mut tat = self.tat.load(Relaxed);
        loop {
            let next = tat.max(now).saturating_add(interval);
            let ahead = next - now;
            let late = ahead.saturating_sub(tolerance);
            if late > wait {
                return Verdict::Rejected(late);
            }
            match self.tat.compare_exchange_weak(tat, next, Relaxed, Relaxed) {
                Ok(_) if late == 0 => return Verdict::Now,
                Ok(_) => return Verdict::After(late),
                Err(current) => tat = current,
            }
        }
    }

    /// How long until a call could pass (zero if one could now), and how many could pass at
    /// once now.
    pub(crate) fn state(&self, now: u64, interval: u64, tolerance: u64) -> (u64, u64) {
        let tat = self.tat.load(Relaxed).max(now);
        let used = tat - now;
        let next_in = (used + interval).saturating_sub(tolerance);
        let available = tolerance.saturating_sub(used) / interval.max(1);
        (next_in, available)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn a_burst_then_one_per_interval() {
        let g = Gcra::default();
        // 10/s, burst 3.
        let (interval, tolerance) = (100 * MS, 300 * MS);
        let now = 1_000 * MS;
        for _ in 0..3 {
            assert_eq!(g.try_admit(now, interval, tolerance), Ok(()));
        }
        assert_eq!(g.try_admit(now, interval, tolerance), Err(100 * MS));
        assert_eq!(g.try_admit(now + 99 * MS, interval, tolerance), Err(MS));
        assert_eq!(g.try_admit(now + 100 * MS, interval, tolerance), Ok(()));
        assert_eq!(g.try_admit(now + 100 * MS, interval, tolerance), Err(100 * MS));
    }

    #[test]
    fn reservations_queue_up_within_wait() {
        let g = Gcra::default();
        let (interval, tolerance) = (100 * MS, 100 * MS);
        assert_eq!(g.admit_or_reserve(0, interval, tolerance, 250 * MS), Verdict::Now);
        assert_eq!(g.admit_or_reserve(0, interval, tolerance, 250 * MS), Verdict::After(100 * MS));
        assert_eq!(g.admit_or_reserve(0, interval, tolerance, 250 * MS), Verdict::After(200 * MS));
        assert_eq!(
            g.admit_or_reserve(0, interval, tolerance, 250 * MS),
            Verdict::Rejected(300 * MS)
        );
        assert_eq!(g.state(0, interval, tolerance), (300 * MS, 0));
    }

    #[test]
    fn threads_together_never_pass_more_than_the_limit() {
        let g = std::sync::Arc::new(Gcra::default());
        let (interval, tolerance) = (MS, 50 * MS);
        let admitted: u64 = (0..4)
            .map(|_| {
                let g = g.clone();
                std::thread::spawn(move || {
                    (0..10_000).filter(|_| g.try_admit(0, interval, tolerance).is_ok()).count()
                        as u64
                })
            })
            .map(|h| h.join().unwrap())
            .sum();
        assert_eq!(admitted, 50);
    }
}
