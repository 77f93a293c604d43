//! GCRA (the generic cell rate algorithm, as governor and redis-cell use it) over one atomic:
//! the theoretical arrival time (TAT) of the next call, in nanoseconds on the limiter's clock.
//!
//! A call at `now` is admitted when `max(TAT, now) + interval - now <= tolerance`, where
//! `interval` is the time one call uses up (period / N) and `tolerance` is `burst · interval`;
//! admitting moves TAT to `max(TAT, now) + interval`. So after a quiet spell `burst` calls pass
//! at once, and over any span `d` at most `burst + d / interval` calls pass. Rejecting writes
//! nothing: a flood of rejected calls costs one load each.
//!
//! The word also counts admissions: TAT takes its upper 60 bits (36 years of nanoseconds from
//! the limiter's start) and a count of admissions modulo 16 the lower 4, so the compare-and-swap
//! that admits a call counts it too, and only every 16th admission adds to the total (a second
//! atomic add, one call in 16, instead of one per call).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

const COUNT_BITS: u32 = 4;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;
/// The largest TAT the word holds.
const MAX_TAT: u64 = u64::MAX >> COUNT_BITS;

/// The state of one limiter.
#[derive(Debug, Default)]
pub(crate) struct Gcra {
    word: AtomicU64,
    /// Admissions, in steps of 16 (the word holds the rest), plus those counted elsewhere.
    total: AtomicU64,
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
    /// The word after admitting a call whose TAT becomes `next`.
    #[inline]
    fn admitted(word: u64, next: u64) -> u64 {
        (next.min(MAX_TAT) << COUNT_BITS) | ((word + 1) & COUNT_MASK)
    }

    /// Carries the 16th admission into the total.
    #[inline]
    fn carry(&self, word: u64) {
        if word & COUNT_MASK == COUNT_MASK {
            self.total.fetch_add(COUNT_MASK + 1, Relaxed);
        }
    }

    /// Admits a call at `now` if the limit allows it at once; otherwise returns how long until
    /// it would (nanoseconds), writing nothing. The success path: one load and one CAS.
    #[inline]
    pub(crate) fn try_admit(&self, now: u64, interval: u64, tolerance: u64) -> Result<(), u64> {
        let mut word = self.word.load(Relaxed);
        loop {
            let next = (word >> COUNT_BITS).max(now).saturating_add(interval);
            let ahead = next - now;
            if ahead > tolerance {
                return Err(ahead - tolerance);
            }
            match self.word.compare_exchange_weak(
                word,
                Self::admitted(word, next),
                Relaxed,
                Relaxed,
            ) {
                Ok(_) => {
                    self.carry(word);
                    return Ok(());
                }
                Err(current) => word = current,
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
        let mut word = self.word.load(Relaxed);
        loop {
            let next = (word >> COUNT_BITS).max(now).saturating_add(interval);
            let ahead = next - now;
            let late = ahead.saturating_sub(tolerance);
            if late > wait {
                return Verdict::Rejected(late);
            }
            match self.word.compare_exchange_weak(
                word,
                Self::admitted(word, next),
                Relaxed,
                Relaxed,
            ) {
                Ok(_) => {
                    self.carry(word);
                    return if late == 0 { Verdict::Now } else { Verdict::After(late) };
                }
                Err(current) => word = current,
            }
        }
    }

    /// Counts a call admitted elsewhere (by a shared store).
    pub(crate) fn count(&self) {
        self.total.fetch_add(1, Relaxed);
    }

    /// Calls admitted so far (a call being admitted on another thread may be missing).
    pub(crate) fn admissions(&self) -> u64 {
        self.total.load(Relaxed) + (self.word.load(Relaxed) & COUNT_MASK)
    }

    /// How long until a call could pass (zero if one could now), and how many could pass at
    /// once now.
    pub(crate) fn state(&self, now: u64, interval: u64, tolerance: u64) -> (u64, u64) {
        let tat = (self.word.load(Relaxed) >> COUNT_BITS).max(now);
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
        assert_eq!(g.admissions(), 50);
    }

    #[test]
    fn admissions_are_counted_across_the_carry() {
        let g = Gcra::default();
        for i in 1..=100 {
            assert_eq!(g.try_admit(i * MS, MS, MS), Ok(()));
            assert_eq!(g.admissions(), i);
        }
        g.count();
        assert_eq!(g.admissions(), 101);
    }
}
