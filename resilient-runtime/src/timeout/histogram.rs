//! A lock-free latency histogram with bounded relative error.
//!
//! The layout is HdrHistogram's log-linear one, in nanoseconds: values below 64 ns get a bucket
//! each; above that, every power-of-two range `[2^k, 2^(k+1))` is cut into 32 equal buckets.
//! A bucket is therefore at most 1/32 (3.1 %) of its lower bound wide, and a percentile reported
//! as its bucket's midpoint is within 1/64 (1.6 %) of every sample in that bucket, the exact
//! percentile included. Values from 2^45 ns (about 9.8 hours) up share the last bucket.
//!
//! Recording is a leading-zero count, two shifts and one relaxed `fetch_add`: no lock, no clock,
//! no allocation. Reading a percentile scans the 1 312 counters, which is why the adaptive timeout
//! does it periodically and never per call.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Sub-buckets per power of two, as a power of two: 2^5 = 32 keeps bucket width ≤ 3.1 %.
const SUB_BITS: u32 = 5;
const SUB: u64 = 1 << SUB_BITS;
/// Values at or above 2^45 ns (~9.8 h) are counted in the last bucket.
const MAX_BITS: u32 = 45;
const MAX_VALUE: u64 = (1 << MAX_BITS) - 1;
/// One linear stretch of `2·SUB` unit buckets, then `SUB` buckets per further power of two.
pub(crate) const BUCKETS: usize = ((MAX_BITS - SUB_BITS + 1) as usize) << SUB_BITS;

/// Counts of latencies in log-linear buckets; see the module docs for the layout and error bound.
///
/// Every method takes `&self` and is safe to call from any number of threads at once.
///
/// ```
/// use std::time::Duration;
/// use resilient_runtime::timeout::LatencyHistogram;
/// let h = LatencyHistogram::new();
/// for ms in 1..=100 {
///     h.record(Duration::from_millis(ms));
/// }
/// let p90 = h.percentile(90.0).unwrap().as_secs_f64();
/// assert!((p90 / 0.090 - 1.0).abs() < 0.016);
/// ```
pub struct LatencyHistogram {
    buckets: Box<[AtomicU64]>,
}

impl LatencyHistogram {
    /// An empty histogram (about 10 KiB of counters).
    pub fn new() -> Self {
        Self { buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect() }
    }

    /// Counts one latency.
    #[inline]
    pub fn record(&self, latency: Duration) {
        self.record_nanos(nanos(latency));
    }

    /// Counts one latency given in nanoseconds.
    #[inline]
    pub fn record_nanos(&self, nanos: u64) {
        // Relaxed: counters are independent tallies; readers only need each one eventually.
        self.buckets[index(nanos)].fetch_add(1, Relaxed);
    }

    /// Samples counted so far.
    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Relaxed)).sum()
    }

    /// The `p`-th percentile (`0 < p ≤ 100`) of the samples, by nearest rank (the smallest sample
    /// with at least `p` % of the samples at or below it), within 1.6 %; `None` when empty.
    pub fn percentile(&self, p: f64) -> Option<Duration> {
        percentile_of(&[self], p).1
    }

    /// Forgets every sample. Samples recorded concurrently may or may not survive.
    pub fn clear(&self) {
        for b in self.buckets.iter() {
            b.store(0, Relaxed);
        }
    }
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for LatencyHistogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Thirteen hundred counters help nobody reading a log line.
        f.debug_struct("LatencyHistogram").field("count", &self.count()).finish_non_exhaustive()
    }
}

/// The sample count of `hists` together and the `p`-th percentile of their union.
///
/// Counts are copied first so the rank and the scan agree even while other threads record.
pub(crate) fn percentile_of(hists: &[&LatencyHistogram], p: f64) -> (u64, Option<Duration>) {
    let mut counts = [0u64; BUCKETS];
    for h in hists {
        for (sum, b) in counts.iter_mut().zip(h.buckets.iter()) {
            *sum += b.load(Relaxed);
        }
    }
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return (0, None);
    }
    let rank = rank(p, total);
    let mut seen = 0;
    for (i, &c) in counts.iter().enumerate() {
        seen += c;
        if seen >= rank {
            return (total, Some(Duration::from_nanos(midpoint(i))));
        }
    }
    unreachable!("rank {rank} is at most the total {total}")
}

/// The 1-based nearest rank of the `p`-th percentile among `n` samples.
#[inline]
fn rank(p: f64, n: u64) -> u64 {
    ((p / 100.0 * n as f64).ceil() as u64).clamp(1, n)
}

/// A duration in whole nanoseconds, saturating (the last bucket takes anything that large).
#[inline]
pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The bucket of `v` nanoseconds.
#[inline]
fn index(v: u64) -> usize {
    let v = v.min(MAX_VALUE);
    // `| SUB` makes values below 2·SUB land in the linear stretch with shift 0, without a branch.
    let shift = (u64::BITS - 1 - (v | SUB).leading_zeros()) - SUB_BITS;
    (((shift as u64) << SUB_BITS) + (v >> shift)) as usize
}

/// The lowest value of bucket `i` and its width.
#[inline]
fn bounds(i: usize) -> (u64, u64) {
    let i = i as u64;
    if i < 2 * SUB {
        return (i, 1);
    }
    let shift = (i >> SUB_BITS) - 1;
    ((SUB + (i & (SUB - 1))) << shift, 1 << shift)
}

/// The value reported for bucket `i`: its middle, which halves the worst-case error.
#[inline]
fn midpoint(i: usize) -> u64 {
    let (low, width) = bounds(i);
    low + width / 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_tile_the_range_with_bounded_width() {
        let mut next = 0;
        for i in 0..BUCKETS {
            let (low, width) = bounds(i);
            assert_eq!(low, next, "bucket {i} starts where the previous one ended");
            assert_eq!(index(low), i);
            assert_eq!(index(low + width - 1), i);
            assert!(width == 1 || width as f64 / low as f64 <= 1.0 / 32.0);
            next = low + width;
        }
        assert_eq!(next, MAX_VALUE + 1);
        assert_eq!(index(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let h = LatencyHistogram::new();
        assert_eq!(h.percentile(50.0), None);
        for v in 1..=10 {
            h.record_nanos(v);
        }
        assert_eq!(h.count(), 10);
        assert_eq!(h.percentile(50.0), Some(Duration::from_nanos(5)));
        assert_eq!(h.percentile(91.0), Some(Duration::from_nanos(10)));
        assert_eq!(h.percentile(100.0), Some(Duration::from_nanos(10)));
        h.clear();
        assert_eq!(h.count(), 0);
    }

    #[test]
    fn concurrent_records_are_all_counted() {
        let h = LatencyHistogram::new();
        std::thread::scope(|s| {
            for t in 0..4u64 {
                let h = &h;
                s.spawn(move || {
                    for i in 0..50_000u64 {
                        h.record_nanos(i * 997 + t);
                    }
                });
            }
        });
        assert_eq!(h.count(), 200_000);
    }
}
