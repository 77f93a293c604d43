//! The counts behind adaptive throttling: requests and accepts in a sliding window of 16
//! buckets, and the rejection probability they give.
//!
//! Successes while nothing is rejected are only counted (one relaxed add, no clock read) and
//! folded into the buckets by the next call that takes the lock: a failure, a rejection, or any
//! call while throttling. They are spread evenly over the time since the previous fold, so a
//! long run of successes weighs as much as the window holds of it, no more.

use super::window::BUCKETS;

/// Requests and accepts, bucket by bucket.
#[derive(Debug)]
pub(crate) struct Window {
    /// Bucket `i` holds bucket number `stamp[i]` (time / bucket width); stale ones count zero.
    stamp: [u64; BUCKETS],
    requests: [u64; BUCKETS],
    accepts: [u64; BUCKETS],
    /// The bucket number of the last fold.
    folded: u64,
}

/// The rule's parameters, in the window's units.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rule {
    pub(crate) k: f64,
    /// Requests in the window below which nothing is rejected (`min_rps` x window).
    pub(crate) min_requests: f64,
    pub(crate) max_rejection: f64,
}

impl Window {
    pub(crate) fn new() -> Self {
        Self { stamp: [0; BUCKETS], requests: [0; BUCKETS], accepts: [0; BUCKETS], folded: 0 }
    }

    fn slot(&mut self, bucket: u64) -> usize {
        let i = (bucket % BUCKETS as u64) as usize;
        if self.stamp[i] != bucket {
            self.stamp[i] = bucket;
            self.requests[i] = 0;
            self.accepts[i] = 0;
        }
        i
    }

    /// Adds `successes` counted without the clock since the last fold, spread evenly over the
    /// buckets from then to `now` (those still in the window).
    pub(crate) fn fold(&mut self, successes: u64, now: u64) {
        let from = self.folded.min(now);
        self.folded = now;
        if successes == 0 {
            return;
        }
        let span = now - from + 1;
        let first = from.max((now + 1).saturating_sub(BUCKETS as u64));
        let (each, mut rest) = (successes / span, successes % span);
        for bucket in (first..=now).rev() {
            // The remainder goes to the most recent buckets.
            let n = each + u64::from(rest > 0);
            rest = rest.saturating_sub(1);
            let i = self.slot(bucket);
            self.requests[i] += n;
            self.accepts[i] += n;
        }
    }

    /// One call the dependency answered: `accepted` if it succeeded.
    pub(crate) fn record(&mut self, accepted: bool, now: u64) {
        let i = self.slot(now);
        self.requests[i] += 1;
        self.accepts[i] += u64::from(accepted);
    }

    /// Requests and accepts in the window ending in bucket `now`.
    pub(crate) fn totals(&self, now: u64) -> (u64, u64) {
        let oldest = (now + 1).saturating_sub(BUCKETS as u64);
        (0..BUCKETS)
            .filter(|&i| self.stamp[i] >= oldest && self.stamp[i] <= now)
            .fold((0, 0), |(r, a), i| (r + self.requests[i], a + self.accepts[i]))
    }

    /// The rejection probability in the window ending in bucket `now`.
    pub(crate) fn probability(&self, now: u64, rule: Rule) -> f64 {
        let (requests, accepts) = self.totals(now);
        probability(requests, accepts, rule)
    }
}

/// max(0, (requests − k·accepts) / (requests + 1)), zero below `min_requests`, at most
/// `max_rejection`.
pub(crate) fn probability(requests: u64, accepts: u64, rule: Rule) -> f64 {
    let (r, a) = (requests as f64, accepts as f64);
    if r < rule.min_requests || r == 0.0 {
        return 0.0;
    }
    ((r - rule.k * a) / (r + 1.0)).clamp(0.0, rule.max_rejection)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: Rule = Rule { k: 2.0, min_requests: 0.0, max_rejection: 0.9 };

    #[test]
    fn the_sre_rule() {
        assert_eq!(probability(10, 10, RULE), 0.0);
        assert_eq!(probability(10, 5, RULE), 0.0, "half succeed: k = 2 still admits all");
        assert!((probability(10, 2, RULE) - 6.0 / 11.0).abs() < 1e-9);
        assert_eq!(probability(1000, 0, RULE), 0.9, "capped: never every call");
        let few = Rule { min_requests: 20.0, ..RULE };
        assert_eq!(probability(19, 0, few), 0.0, "below the minimum rate nothing is rejected");
    }

    #[test]
    fn old_buckets_leave_the_window() {
        let mut w = Window::new();
        w.record(false, 0);
        w.record(true, 3);
        assert_eq!(w.totals(3), (2, 1));
        assert_eq!(w.totals(16), (1, 1), "bucket 0 left the window");
        assert_eq!(w.totals(19), (0, 0));
    }

    #[test]
    fn folded_successes_spread_over_the_time_since_the_last_fold() {
        let mut w = Window::new();
        w.fold(0, 0);
        // 320 successes over 32 buckets: only the 16 still in the window count.
        w.fold(320, 31);
        assert_eq!(w.totals(31), (160, 160));
        w.fold(5, 31);
        assert_eq!(w.totals(31), (165, 165), "no time passed: all in the current bucket");
    }
}
