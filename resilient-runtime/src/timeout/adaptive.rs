//! The adaptive rule's state: a windowed latency histogram and the timeout derived from it.
//!
//! Calls read the timeout with one atomic load and add their latency with one `fetch_add`. The
//! percentile is recomputed only on refresh, at most every [`refresh_period`] of tokio time, by
//! whichever recording thread first sees the period over and wins the `refreshing` flag; everyone
//! else carries on.
//!
//! The warm-up ends at the sample that completes it, not at the next periodic refresh. While
//! warming up, `next_refresh` carries the [`WARMING`] bit, which makes the test every call already
//! does ("is a refresh due?") send it to the cold path, where it is counted; the sample that
//! brings the count to `warmup` refreshes. Once warmed up the bit is clear and a call costs what
//! it did before: no extra load, no extra `fetch_add`.
//!
//! The window is two generations of histograms, each covering half of it. Calls record into the
//! active one; every half window the refresh clears the other (its samples are now older than the
//! window) and makes it active. The percentile is taken over both, so it always sees the last half
//! window and never anything older than a whole window (plus one refresh period of lag).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::*};
use std::time::Duration;

use super::histogram::{LatencyHistogram, nanos, percentile_of};
use super::rule::AdaptiveSettings;
use crate::clock::Clock;
use crate::config::Live;

/// Stands for "no percentile yet" in [`Adaptive::percentile_value`].
const NONE: u64 = u64::MAX;

/// Set in [`Adaptive::next_refresh`] while fewer than `warmup` samples are in the window. Times
/// are nanoseconds since the policy's epoch, far below 2^63, so a set bit puts `next_refresh` out
/// of any call's reach and the call takes the cold path.
const WARMING: u64 = 1 << 63;

/// The rule and settings, replaced whole by configuration; read only off the fast path.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Params {
    pub(crate) percentile: f64,
    pub(crate) multiplier: f64,
    pub(crate) settings: AdaptiveSettings,
}

#[derive(Debug)]
pub(crate) struct Adaptive {
    params: Live<Params>,
    /// The timeout a call starting now gets, in nanoseconds.
    current: AtomicU64,
    generations: [LatencyHistogram; 2],
    /// Index of the generation calls record into.
    active: AtomicUsize,
    /// Times below are nanoseconds on this clock (since the policy was built), so they fit in
    /// atomics; a cheap clock that follows tokio's paused clock (see [`crate::clock`]).
    clock: Clock,
    /// When the next periodic refresh is due, with [`WARMING`] set while warming up.
    next_refresh: AtomicU64,
    /// While warming up, the samples in the window are `warm_base + warm_count`: the count the
    /// last recompute's scan found, and the calls counted since it started (see [`Self::due`]).
    warm_base: AtomicU64,
    warm_count: AtomicU64,
    refreshing: AtomicBool,
    // Written only by the holder of `refreshing`; atomics so snapshots can read them.
    rotated_at: AtomicU64,
    percentile_value: AtomicU64,
}

/// The adaptive state as the registry reports it.
pub(crate) struct Observed {
    pub(crate) percentile: Option<Duration>,
    pub(crate) samples: u64,
    /// Fewer than `warmup` samples were in the window: the timeout is `initial`.
    pub(crate) warming_up: bool,
}

impl Adaptive {
    pub(crate) fn new(params: Params) -> Self {
        Self {
            params: Live::new(params),
            current: AtomicU64::new(nanos(params.settings.initial)),
            generations: [LatencyHistogram::new(), LatencyHistogram::new()],
            active: AtomicUsize::new(0),
            clock: Clock::new(),
            next_refresh: AtomicU64::new(WARMING),
            warm_base: AtomicU64::new(0),
            warm_count: AtomicU64::new(0),
            refreshing: AtomicBool::new(false),
            rotated_at: AtomicU64::new(0),
            percentile_value: AtomicU64::new(NONE),
        }
    }

    /// The timeout a call starting now gets.
    #[inline]
    /// Fewer than `warmup` samples are in the window: the limit is `initial`.
    pub(crate) fn warming_up(&self) -> bool {
        self.next_refresh.load(Relaxed) & WARMING != 0
    }

    pub(crate) fn current(&self) -> Duration {
        Duration::from_nanos(self.current.load(Relaxed))
    }

    /// Now on the policy's clock: a TSC read on the fast path (see [`crate::clock`]).
    #[inline]
    pub(crate) fn now(&self) -> u64 {
        self.clock.now_nanos()
    }

    /// Counts one latency observed at `now` on the policy's clock ([`now`](Self::now)): a
    /// success's, or a timed-out call's timeout; and refreshes the timeout if it is time to.
    /// Returns the limit's move (from, to), if any.
    #[inline]
    pub(crate) fn record_at(&self, latency: Duration, now: u64) -> Option<(Duration, Duration)> {
        // A recorder racing a rotation may land in the generation being cleared or just
        // activated: one sample off, which a percentile does not notice.
        self.generations[self.active.load(Relaxed) & 1].record(latency);
        let next = self.next_refresh.load(Relaxed);
        // The second test catches a clock that went back (a policy in a `static` outlives the
        // paused-clock runtime of one test and meets the next one's clock) and, through the
        // `WARMING` bit, every call made while warming up. (Against the longest period: the
        // period itself is a setting, read only off this path.)
        if now >= next || next - now > nanos(MAX_PERIOD) {
            return self.due(now, next);
        }
        None
    }

    /// Counts a latency without reading the clock, for a call that answered on its first poll
    /// (a hedge's fast path). No refresh is checked for: the next timed [`record_at`](Self::record_at)
    /// or periodic refresh sees the sample.
    #[inline]
    pub(crate) fn record_untimed(&self, latency: Duration) {
        self.generations[self.active.load(Relaxed) & 1].record(latency);
    }

    /// A call whose test in [`record_at`](Self::record_at) failed: a refresh is due, the clock went
    /// back, or the policy is warming up and this sample may be the one that ends it.
    #[cold]
    fn due(&self, now: u64, next: u64) -> Option<(Duration, Duration)> {
        if next & WARMING != 0 {
            // SeqCst (cold path only): a recompute whose `swap` sees this count also sees the
            // sample in the histogram; and if the refresh below finds `refreshing` taken, its
            // holder's check in `unlock` sees this count.
            let counted = self.warm_count.fetch_add(1, SeqCst) + 1;
            let at = next & !WARMING;
            let on_schedule = now < at && at - now <= self.period();
            if self.warm_base.load(SeqCst) + counted < self.warmup() && on_schedule {
                return None;
            }
        }
        self.try_refresh(now)
    }

    /// Refreshes now unless another thread is at it; [`Timeout::snapshot`](super::Timeout::snapshot)
    /// calls this so a snapshot of an idle function shows its old samples gone. Returns the
    /// limit's move (from, to), if any.
    pub(crate) fn refresh_now(&self) -> Option<(Duration, Duration)> {
        self.try_refresh(self.clock.now_checked())
    }

    /// Ends a warm-up that enough samples have completed but no refresh has ended yet (the call
    /// that completed it found another thread refreshing, which is still at it). Reads no clock,
    /// so the registry may call it from a runtime whose paused clock is not this policy's; and
    /// takes the `refreshing` flag only then, so reading the registry does not hold up refreshes.
    pub(crate) fn settle(&self) -> Option<(Duration, Duration)> {
        let warming = self.next_refresh.load(Relaxed) & WARMING != 0;
        if warming && self.count() >= self.warmup() && self.lock() {
            let moved = self.recompute(self.next_refresh.load(Relaxed) & !WARMING);
            let later = self.unlock();
            return joined(moved, later);
        }
        None
    }

    /// Samples in the window as of now, counted from the histograms.
    fn count(&self) -> u64 {
        self.generations.iter().map(LatencyHistogram::count).sum()
    }

    pub(crate) fn observed(&self) -> Observed {
        let p = self.percentile_value.load(Relaxed);
        Observed {
            percentile: (p != NONE).then(|| Duration::from_nanos(p)),
            // Counted now, not as of the last recompute: calls made while warming up recompute
            // nothing, nor do any between periodic refreshes.
            samples: self.count(),
            warming_up: self.next_refresh.load(Relaxed) & WARMING != 0,
        }
    }

    #[cold]
    fn try_refresh(&self, now: u64) -> Option<(Duration, Duration)> {
        if !self.lock() {
            return None;
        }
        self.rotate(now);
        let moved = self.recompute(now + self.period());
        let later = self.unlock();
        joined(moved, later)
    }

    fn lock(&self) -> bool {
        self.refreshing.compare_exchange(false, true, SeqCst, Relaxed).is_ok()
    }

    /// Releases `refreshing`; returns the limit's move if the check below ended a warm-up.
    fn unlock(&self) -> Option<(Duration, Duration)> {
        self.refreshing.store(false, SeqCst);
        // A call that completed the warm-up while we held the flag could not refresh; it relies
        // on this check. `settle` recomputes only if the histograms agree (a call counted twice
        // makes the counters run ahead of them), and then the warm-up is over, so this ends.
        if self.next_refresh.load(Relaxed) & WARMING != 0
            && self.warm_base.load(SeqCst) + self.warm_count.load(SeqCst) >= self.warmup()
        {
            return self.settle();
        }
        None
    }

    /// Derives everything from the two generations; `next` is when the next periodic refresh is
    /// due. The caller holds `refreshing`.
    fn recompute(&self, next: u64) -> Option<(Duration, Duration)> {
        // From here on `warm_count` counts the calls the scan below may miss. One the scan sees
        // as well is counted twice, which can only complete the count early, and the refresh
        // that triggers finds the window short. A call that did not see `WARMING` because this
        // very recompute sets it is not counted: the next periodic refresh sees it.
        self.warm_count.swap(0, SeqCst);
        let [a, b] = &self.generations;
        let params = self.params.get();
        let (samples, value) = percentile_of(&[a, b], params.percentile);
        let s = &params.settings;
        let warming = samples < self.warmup();
        let timeout = match value {
            Some(p) if !warming => {
                let scaled = Duration::try_from_secs_f64(p.as_secs_f64() * params.multiplier);
                scaled.unwrap_or(s.max).clamp(s.min, s.max)
            }
            _ => s.initial,
        };
        self.warm_base.store(samples, SeqCst);
        self.percentile_value.store(value.map_or(NONE, nanos), Relaxed);
        let before = self.current.swap(nanos(timeout), Relaxed);
        self.next_refresh.store(if warming { next | WARMING } else { next }, Relaxed);
        (before != nanos(timeout)).then(|| (Duration::from_nanos(before), timeout))
    }

    /// Samples needed before the percentile is trusted (at least one).
    #[inline]
    fn warmup(&self) -> u64 {
        u64::from(self.params.get().settings.warmup.max(1))
    }

    /// [`refresh_period`] of the window, in nanoseconds.
    fn period(&self) -> u64 {
        nanos(refresh_period(self.params.get().settings.window))
    }

    pub(crate) fn params(&self) -> &Params {
        self.params.get()
    }

    /// New parameters (configuration): the samples stay and the timeout is recomputed from them
    /// at once, without reading a clock (the caller's may not be the one the samples were taken
    /// on); the refresh schedule stays.
    pub(crate) fn retune(&self, params: Params) {
        if *self.params.get() == params {
            return;
        }
        self.params.set(params);
        while !self.lock() {
            std::hint::spin_loop();
        }
        let _ = self.recompute(self.next_refresh.load(Relaxed) & !WARMING);
        let _ = self.unlock();
    }

    /// Retires the older generation once per half window.
    fn rotate(&self, now: u64) {
        let half = (nanos(self.params.get().settings.window) / 2).max(1);
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
}

/// How often the percentile is recomputed: a sixteenth of the window (so rotation is at most
/// that late), between 1 ms and 250 ms (a scan of the counters takes a few microseconds).
fn refresh_period(window: Duration) -> Duration {
    (window / 16).clamp(Duration::from_millis(1), MAX_PERIOD)
}

/// The longest refresh period.
const MAX_PERIOD: Duration = Duration::from_millis(250);

/// Two moves of the limit in a row, as one (from the first's start to the second's end).
fn joined(
    first: Option<(Duration, Duration)>,
    second: Option<(Duration, Duration)>,
) -> Option<(Duration, Duration)> {
    match (first, second) {
        (Some((from, _)), Some((_, to))) => (from != to).then_some((from, to)),
        (one, None) | (None, one) => one,
    }
}
