//! Backoff schedules: how long to wait before each retry.
//!
//! A [`Schedule`] is a small `Copy` description; [`Schedule::delays`] turns it into an endless
//! iterator of delays, jitter included. The `#[retry]` attribute uses exactly these.
//!
//! ```
//! use std::time::Duration;
//! use resilient_runtime::backoff::{Jitter, Schedule};
//! let s = Schedule::exponential(Duration::from_millis(100)).jitter(Jitter::None);
//! let d: Vec<_> = s.delays().take(4).collect();
//! assert_eq!(d, [100, 200, 400, 800].map(Duration::from_millis));
//! ```

use std::time::Duration;

use rand::{Rng, RngExt};

use crate::rng::ThreadLocalRng;

/// How the base delay grows from one retry to the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Backoff {
    /// `base · 2ⁿ` before retry `n` (counting from 0).
    Exponential,
    /// `base` every time.
    Fixed,
    /// `base · (n + 1)`.
    Linear,
    /// Marc Brooker's decorrelated jitter: `min(max_delay, uniform(base, previous · 3))`.
    /// Already random, so [`Jitter`] does not apply on top.
    Decorrelated,
}

/// Randomness added to a delay `d` so clients that failed together do not retry together.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Jitter {
    /// Exactly `d`.
    None,
    /// `d + uniform(0, f · d)`, the seed's `delay + random.uniform(0, delay * 0.1)` for `f = 0.1`.
    Proportional(f64),
    /// `uniform(0, d)` ("full jitter").
    Full,
    /// `d/2 + uniform(0, d/2)` ("equal jitter").
    Equal,
}

/// A complete backoff schedule: growth, first delay, cap and jitter.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Schedule {
    /// How delays grow.
    pub backoff: Backoff,
    /// The first delay (before jitter).
    pub base: Duration,
    /// No single delay exceeds this, jitter included.
    pub max_delay: Duration,
    /// Randomness applied to each delay.
    pub jitter: Jitter,
}

/// The cap used when none is given: ten seconds.
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(10);

impl Schedule {
    /// A schedule with the given growth and first delay, the default cap ([`DEFAULT_MAX_DELAY`])
    /// and the seed's 10 % jitter.
    pub const fn new(backoff: Backoff, base: Duration) -> Self {
        Self { backoff, base, max_delay: DEFAULT_MAX_DELAY, jitter: Jitter::Proportional(0.1) }
    }

    /// `base · 2ⁿ`, 10 % jitter.
    pub const fn exponential(base: Duration) -> Self {
        Self::new(Backoff::Exponential, base)
    }

    /// `base` every time, 10 % jitter.
    pub const fn fixed(base: Duration) -> Self {
        Self::new(Backoff::Fixed, base)
    }

    /// `base · (n + 1)`, 10 % jitter.
    pub const fn linear(base: Duration) -> Self {
        Self::new(Backoff::Linear, base)
    }

    /// Decorrelated jitter starting at `base`.
    pub const fn decorrelated(base: Duration) -> Self {
        Self::new(Backoff::Decorrelated, base)
    }

    /// Caps every delay at `max_delay`.
    pub const fn max_delay(mut self, max_delay: Duration) -> Self {
        self.max_delay = max_delay;
        self
    }

    /// Sets the jitter.
    pub const fn jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// The delays before retry 0, 1, 2, ..., drawing jitter from this thread's generator
    /// (see [`crate::rng::seed`]).
    pub fn delays(&self) -> Delays<ThreadLocalRng> {
        self.delays_with(ThreadLocalRng)
    }

    /// The delays, drawing jitter from `rng`.
    pub fn delays_with<R: Rng>(&self, rng: R) -> Delays<R> {
        Delays { schedule: *self, retry: 0, previous: self.base, rng }
    }

    /// The delay before retry `n` before jitter and cap (not meaningful for
    /// [`Backoff::Decorrelated`], whose delays depend on the previous one).
    pub fn nominal(&self, n: u32) -> Duration {
        match self.backoff {
            Backoff::Exponential => {
                // Doubling saturates at Duration::MAX; after 64 doublings any non-zero base has.
                (0..n.min(64)).fold(self.base, |d, _| d.saturating_mul(2))
            }
            Backoff::Fixed | Backoff::Decorrelated => self.base,
            Backoff::Linear => self.base.saturating_mul(n.saturating_add(1)),
        }
    }
}

/// The endless iterator of a [`Schedule`]'s delays; see [`Schedule::delays`].
#[derive(Clone, Debug)]
pub struct Delays<R> {
    schedule: Schedule,
    retry: u32,
    previous: Duration,
    rng: R,
}

impl<R: Rng> Iterator for Delays<R> {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let s = &self.schedule;
        let delay = match s.backoff {
            Backoff::Decorrelated => {
                let upper = self.previous.saturating_mul(3).max(s.base);
                uniform(&mut self.rng, s.base, upper)
            }
            _ => {
                let d = s.nominal(self.retry).min(s.max_delay);
                match s.jitter {
                    Jitter::None => d,
                    Jitter::Proportional(f) => {
                        d.saturating_add(uniform(&mut self.rng, Duration::ZERO, scale(d, f)))
                    }
                    Jitter::Full => uniform(&mut self.rng, Duration::ZERO, d),
                    Jitter::Equal => d / 2 + uniform(&mut self.rng, Duration::ZERO, d - d / 2),
                }
            }
        }
        .min(s.max_delay);
        self.retry = self.retry.saturating_add(1);
        self.previous = delay;
        Some(delay)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

/// `d · f` for a jitter factor: the factor clamped to [0, 1] (NaN counts as 0, so a hand-built
/// `Jitter::Proportional` cannot panic) and the product saturating at `Duration::MAX`.
fn scale(d: Duration, f: f64) -> Duration {
    let f = if f.is_nan() { 0.0 } else { f.clamp(0.0, 1.0) };
    Duration::try_from_secs_f64(d.as_secs_f64() * f).unwrap_or(Duration::MAX)
}

/// A uniform draw from `[low, high]`, to the nanosecond.
fn uniform<R: Rng>(rng: &mut R, low: Duration, high: Duration) -> Duration {
    if high <= low {
        return low;
    }
    let span = u64::try_from((high - low).as_nanos()).unwrap_or(u64::MAX);
    low + Duration::from_nanos(rng.random_range(0..=span))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    const MS: Duration = Duration::from_millis(1);

    fn take(s: Schedule, n: usize) -> Vec<Duration> {
        s.delays_with(SmallRng::seed_from_u64(1)).take(n).collect()
    }

    #[test]
    fn nominal_growth_without_jitter() {
        let none = |s: Schedule| take(s.jitter(Jitter::None), 5);
        assert_eq!(
            none(Schedule::exponential(10 * MS)),
            [10, 20, 40, 80, 160].map(Duration::from_millis)
        );
        assert_eq!(
            none(Schedule::linear(10 * MS)),
            [10, 20, 30, 40, 50].map(Duration::from_millis)
        );
        assert_eq!(none(Schedule::fixed(10 * MS)), [10; 5].map(Duration::from_millis));
        assert_eq!(
            none(Schedule::exponential(10 * MS).max_delay(35 * MS)),
            [10, 20, 35, 35, 35].map(Duration::from_millis)
        );
    }

    #[test]
    fn exponential_saturates_instead_of_overflowing() {
        let s = Schedule::exponential(Duration::from_secs(1))
            .jitter(Jitter::None)
            .max_delay(Duration::MAX);
        assert_eq!(s.nominal(200), Duration::MAX);
        assert_eq!(s.nominal(10), Duration::from_secs(1024));
        assert!(take(s, 70).windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn jitter_stays_in_its_range() {
        for (jitter, lo, hi) in [
            (Jitter::Proportional(0.1), 1.0, 1.1),
            (Jitter::Full, 0.0, 1.0),
            (Jitter::Equal, 0.5, 1.0),
        ] {
            let s = Schedule::exponential(100 * MS).jitter(jitter).max_delay(Duration::MAX);
            let delays = take(s, 8);
            for (n, d) in delays.iter().enumerate() {
                let nominal = s.nominal(n as u32).as_secs_f64();
                let x = d.as_secs_f64() / nominal;
                assert!((lo..=hi).contains(&x), "{jitter:?}: delay {n} is {x}×nominal");
            }
            // Real randomness: not all draws land on the nominal value.
            assert!(delays.iter().enumerate().any(|(n, d)| *d != s.nominal(n as u32)));
        }
    }

    #[test]
    fn jitter_never_exceeds_the_cap() {
        let s = Schedule::fixed(100 * MS).jitter(Jitter::Proportional(1.0)).max_delay(120 * MS);
        assert!(take(s, 50).iter().all(|d| *d <= 120 * MS));
    }

    #[test]
    fn decorrelated_follows_brooker() {
        let s = Schedule::decorrelated(10 * MS).max_delay(Duration::from_secs(1));
        let delays = take(s, 40);
        let mut prev = 10 * MS;
        for d in &delays {
            assert!(
                *d >= 10 * MS && *d <= (prev * 3).min(Duration::from_secs(1)),
                "{d:?} after {prev:?}"
            );
            prev = *d;
        }
        assert!(delays.iter().any(|d| *d > 100 * MS), "grows over time: {delays:?}");
    }

    #[test]
    fn same_seed_same_delays() {
        let s = Schedule::exponential(100 * MS).jitter(Jitter::Full);
        assert_eq!(take(s, 10), take(s, 10));
        crate::rng::seed(3);
        let a: Vec<_> = s.delays().take(5).collect();
        crate::rng::seed(3);
        assert_eq!(a, s.delays().take(5).collect::<Vec<_>>());
    }
}
