//! Feeds the [gradient](super::gradient) controller: calls record their latency into a few
//! atomics; the call that ends an interval takes the controller's lock, once per interval, and
//! moves the limit.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use tokio::time::Instant;

use super::gradient::{Gradient, Sample};

/// Fewest calls an interval needs before its mean latency is trusted.
const MIN_SAMPLES: u64 = 8;
/// An interval lasts this many unloaded round trips...
const ROUND_TRIPS: u32 = 4;
/// ...within these bounds (and before `min_rtt` is known, the longest).
const SHORTEST: Duration = Duration::from_millis(10);
const LONGEST: Duration = Duration::from_secs(1);

/// An adaptive bulkhead's latency state. Shared by every settings value since the bulkhead was
/// first adaptive, so reconfiguring keeps what it learnt.
#[derive(Debug)]
pub(crate) struct Adaptive {
    epoch: Instant,
    sum_nanos: AtomicU64,
    count: AtomicU64,
    peak: AtomicU32,
    /// Nanoseconds since `epoch` when the interval ends; `u64::MAX` while one call updates.
    ends: AtomicU64,
    controller: Mutex<Gradient>,
}

/// What the registry shows of the controller.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Seen {
    pub(crate) min_rtt: Option<Duration>,
    pub(crate) slow_start: bool,
    pub(crate) probing: bool,
}

impl Adaptive {
    pub(crate) fn new(initial: u32, min: u32, max: u32) -> Self {
        Self {
            epoch: Instant::now(),
            sum_nanos: AtomicU64::new(0),
            count: AtomicU64::new(0),
            peak: AtomicU32::new(0),
            ends: AtomicU64::new(LONGEST.as_nanos() as u64),
            controller: Mutex::new(Gradient::new(initial, min, max)),
        }
    }

    fn controller(&self) -> std::sync::MutexGuard<'_, Gradient> {
        self.controller.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn retune(&self, min: u32, max: u32) -> u32 {
        let mut c = self.controller();
        c.retune(min, max);
        c.limit()
    }

    pub(crate) fn limit(&self) -> u32 {
        self.controller().limit()
    }

    pub(crate) fn seen(&self) -> Seen {
        let c = self.controller();
        Seen {
            min_rtt: c.min_rtt().map(Duration::from_secs_f64),
            slow_start: c.slow_start(),
            probing: c.probing(),
        }
    }

    /// A call got a place with `running` calls running (itself included).
    #[inline]
    pub(crate) fn entered(&self, running: u32) {
        if self.peak.load(Relaxed) < running {
            self.peak.fetch_max(running, Relaxed);
        }
    }

    /// A call that started at `started` ended now; returns the limit's move, when this call
    /// ended an interval and the limit moved.
    pub(crate) fn ended(&self, started: Instant) -> Option<(u32, u32)> {
        let now = Instant::now();
        let took = now.saturating_duration_since(started).as_nanos() as u64;
        self.sum_nanos.fetch_add(took, Relaxed);
        let count = self.count.fetch_add(1, Relaxed) + 1;
        let at = now.saturating_duration_since(self.epoch).as_nanos() as u64;
        let ends = self.ends.load(Relaxed);
        if at < ends || count < MIN_SAMPLES {
            return None;
        }
        // One call per interval updates; the others go on.
        if self.ends.compare_exchange(ends, u64::MAX, Relaxed, Relaxed).is_err() {
            return None;
        }
        let mut c = self.controller();
        let count = self.count.swap(0, Relaxed).max(1);
        let sum = self.sum_nanos.swap(0, Relaxed);
        // The next interval's peak starts from the calls running now.
        let peak = self.peak.swap(0, Relaxed);
        let from = c.limit();
        let rtt = sum as f64 / count as f64 / 1e9;
        c.update(Sample { rtt, peak }, at as f64 / 1e9);
        let to = c.limit();
        let interval = c
            .min_rtt()
            .map_or(LONGEST, |m| Duration::from_secs_f64(m) * ROUND_TRIPS)
            .clamp(SHORTEST, LONGEST);
        self.ends.store(at + interval.as_nanos() as u64, Relaxed);
        (from != to).then_some((from, to))
    }
}
