//! The adaptive rule's state: a windowed latency histogram and the timeout derived from it.
//!
//! Calls read the timeout with one atomic load and add their latency with one `fetch_add`. The
//! percentile is recomputed only on refresh, at most every [`refresh_period`] of tokio time, by
//! whichever recording thread first sees the period over and wins the `refreshing` flag; everyone
//! else carries on.
//!
//! The window is two generations of histograms, each covering half of it. Calls record into the
//! active one; every half window the refresh clears the other (its samples are now older than the
//! window) and makes it active. The percentile is taken over both, so it always sees the last half
//! window and never anything older than a whole window (plus one refresh period of lag).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::*};
use std::time::Duration;

use tokio::time::Instant;

use super::histogram::{LatencyHistogram, nanos, percentile_of};
use super::rule::AdaptiveSettings;

/// Stands for "no percentile yet" in [`Adaptive::percentile_value`].
const NONE: u64 = u64::MAX;

#[derive(Debug)]
pub(crate) struct Adaptive {
    pub(crate) percentile: f64,
    pub(crate) multiplier: f64,
    pub(crate) settings: AdaptiveSettings,
    /// The timeout a call starting now gets, in nanoseconds.
    current: AtomicU64,
    generations: [LatencyHistogram; 2],
    /// Index of the generation calls record into.
    active: AtomicUsize,
    /// Times below are nanoseconds since this instant, so they fit in atomics.
    epoch: Instant,
    next_refresh: AtomicU64,
    /// [`refresh_period`] of the window, in nanoseconds.
    period: u64,
    refreshing: AtomicBool,
    // Written only by the holder of `refreshing`; atomics so snapshots can read them.
    rotated_at: AtomicU64,
    percentile_value: AtomicU64,
    samples: AtomicU64,
}

/// The adaptive state as the registry reports it.
pub(crate) struct Observed {
    pub(crate) percentile: Option<Duration>,
    pub(crate) samples: u64,
}

impl Adaptive {
    pub(crate) fn new(percentile: f64, multiplier: f64, settings: AdaptiveSettings) -> Self {
        Self {
            percentile,
            multiplier,
            settings,
            current: AtomicU64::new(nanos(settings.initial)),
            generations: [LatencyHistogram::new(), LatencyHistogram::new()],
            active: AtomicUsize::new(0),
            epoch: Instant::now(),
            next_refresh: AtomicU64::new(0),
            period: nanos(refresh_period(settings.window)),
            refreshing: AtomicBool::new(false),
            rotated_at: AtomicU64::new(0),
            percentile_value: AtomicU64::new(NONE),
            samples: AtomicU64::new(0),
        }
    }

    /// The timeout a call starting now gets.
    #[inline]
    pub(crate) fn current(&self) -> Duration {
        Duration::from_nanos(self.current.load(Relaxed))
    }

    /// Counts one latency observed at `now` (a success's, or a timed-out call's timeout), and
    /// refreshes the timeout if it is time to. Returns the limit's move (from, to), if any.
    #[inline]
    pub(crate) fn record(&self, latency: Duration, now: Instant) -> Option<(Duration, Duration)> {
        // A recorder racing a rotation may land in the generation being cleared or just
        // activated: one sample off, which a percentile does not notice.
        self.generations[self.active.load(Relaxed) & 1].record(latency);
        let now = self.since_epoch(now);
        let next = self.next_refresh.load(Relaxed);
        // The second test catches a clock that went back: a policy in a `static` outlives the
        // paused-clock runtime of one test and meets the next one's clock.
        if now >= next || next - now > self.period {
            return self.try_refresh(now);
        }
        None
    }

    /// Refreshes now unless another thread is at it; the registry calls this so a snapshot of an
    /// idle function shows its old samples gone.
    pub(crate) fn refresh_now(&self) -> Option<(Duration, Duration)> {
        self.try_refresh(self.since_epoch(Instant::now()))
    }

    pub(crate) fn observed(&self) -> Observed {
        let p = self.percentile_value.load(Relaxed);
        Observed {
            percentile: (p != NONE).then(|| Duration::from_nanos(p)),
            samples: self.samples.load(Relaxed),
        }
    }

    #[cold]
    fn try_refresh(&self, now: u64) -> Option<(Duration, Duration)> {
        if self.refreshing.compare_exchange(false, true, Acquire, Relaxed).is_err() {
            return None;
        }
        self.rotate(now);
        let [a, b] = &self.generations;
        let (samples, value) = percentile_of(&[a, b], self.percentile);
        let s = &self.settings;
        let timeout = match value {
            Some(p) if samples >= u64::from(s.warmup.max(1)) => {
                let scaled = Duration::try_from_secs_f64(p.as_secs_f64() * self.multiplier);
                scaled.unwrap_or(s.max).clamp(s.min, s.max)
            }
            _ => s.initial,
        };
        self.samples.store(samples, Relaxed);
        self.percentile_value.store(value.map_or(NONE, nanos), Relaxed);
        let before = self.current.swap(nanos(timeout), Relaxed);
        self.next_refresh.store(now + self.period, Relaxed);
        self.refreshing.store(false, Release);
        (before != nanos(timeout)).then(|| (Duration::from_nanos(before), timeout))
    }

    /// Retires the older generation once per half window.
    fn rotate(&self, now: u64) {
        let half = (nanos(self.settings.window) / 2).max(1);
        let rotated = self.rotated_at.load(Relaxed);
        if now < rotated {
            // Another runtime's clock (see `record`): restart the window's timing, keep samples.
            self.rotated_at.store(now, Relaxed);
        } else if now - rotated >= 2 * half {
            // Idle for a whole window: everything is too old.
            self.generations.iter().for_each(LatencyHistogram::clear);
            self.rotated_at.store(now, Relaxed);
        } else if now - rotated >= half {
            let older = 1 - (self.active.load(Relaxed) & 1);
            self.generations[older].clear();
            self.active.store(older, Relaxed);
            self.rotated_at.store(rotated + half, Relaxed);
        }
    }

    #[inline]
    fn since_epoch(&self, t: Instant) -> u64 {
        nanos(t.saturating_duration_since(self.epoch))
    }
}

/// How often the percentile is recomputed: a sixteenth of the window (so rotation is at most
/// that late), between 1 ms and 250 ms (a scan of the counters takes a few microseconds).
fn refresh_period(window: Duration) -> Duration {
    (window / 16).clamp(Duration::from_millis(1), Duration::from_millis(250))
}
