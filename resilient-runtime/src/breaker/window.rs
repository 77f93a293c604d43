//! The sliding window failures (and, in failure-rate mode, calls) are counted in.
//!
//! The window is a ring of [`BUCKETS`] buckets, each `window / BUCKETS` wide, aligned on the
//! breaker's own clock. An event lands in the bucket of the moment it happened and is counted
//! while its bucket is one of the last [`BUCKETS`] (the current one included). So an event
//! counts for at least `window - window / BUCKETS` and never for longer than `window`: with the
//! default 30 s window, a failure stops counting between 28.125 s and 30 s after it happened.
//!
//! Each bucket is one `AtomicU64`: the bucket's epoch (its index since the clock's start, low 32
//! bits) in the high half and its count in the low half, so reading or rolling a bucket over
//! to a new epoch is a single atomic operation and a stale count is never mixed into a fresh one.
//! Epochs wrap after 2^32 buckets; only the distance between epochs is ever compared.

use super::sync::{AtomicU64, Ordering::Relaxed};

/// Buckets per window: the window's granularity is `window / BUCKETS`.
pub(crate) const BUCKETS: usize = 16;

/// One ring of per-bucket counters.
#[derive(Debug)]
pub(crate) struct Ring {
    buckets: [AtomicU64; BUCKETS],
}

/// Which bucket an instant (nanoseconds on the breaker's clock) falls in, for a bucket width.
#[inline]
pub(crate) fn epoch(now: u64, bucket_nanos: u64) -> u32 {
    // Truncation is the wrap the module docs describe.
    (now / bucket_nanos) as u32
}

#[inline]
fn pack(epoch: u32, count: u32) -> u64 {
    (u64::from(epoch) << 32) | u64::from(count)
}

#[inline]
fn unpack(word: u64) -> (u32, u32) {
    ((word >> 32) as u32, word as u32)
}

impl Ring {
    pub(crate) fn new() -> Self {
        Self { buckets: std::array::from_fn(|_| AtomicU64::new(0)) }
    }

    /// Counts one event in bucket `epoch`.
    ///
    /// The common case (the bucket already is the current one) is a single relaxed `fetch_add`.
    /// Relaxed is enough: the counts are statistics read with relaxed loads, and nothing else is
    /// published through them.
    #[inline]
    pub(crate) fn add(&self, epoch: u32) {
        let bucket = &self.buckets[epoch as usize % BUCKETS];
        let (seen, _) = unpack(bucket.fetch_add(1, Relaxed));
        if seen == epoch {
            return;
        }
        // The bucket held another lap's epoch (an expired one: clock reads race by far less
        // than a window, so never a later lap), or it was never used or was cleared. Our
        // increment went to a count nobody reads. Roll the bucket over to this epoch with our
        // event as its first, unless someone else has already.
        let mut word = bucket.load(Relaxed);
        loop {
            if unpack(word).0 == epoch {
                bucket.fetch_add(1, Relaxed);
                return;
            }
            match bucket.compare_exchange_weak(word, pack(epoch, 1), Relaxed, Relaxed) {
                Ok(_) => return,
                Err(actual) => word = actual,
            }
        }
    }

    /// Events in the window ending with bucket `epoch` (the last [`BUCKETS`] buckets).
    pub(crate) fn sum(&self, epoch: u32) -> u32 {
        self.buckets
            .iter()
            .enumerate()
            .map(|(slot, b)| (slot, unpack(b.load(Relaxed))))
            // A word whose epoch does not belong to its slot is a bucket never used yet (all
            // start as epoch 0) that an `add` is about to roll over: skip it.
            .filter(|&(slot, (seen, _))| {
                seen as usize % BUCKETS == slot && epoch.wrapping_sub(seen) < BUCKETS as u32
            })
            .fold(0u32, |acc, (_, (_, count))| acc.saturating_add(count))
    }

    /// Forgets every event. Called by the one thread that closes the circuit, before it
    /// publishes the closed state with a release store (see [`machine`](super::machine)).
    pub(crate) fn clear(&self) {
        for b in &self.buckets {
            b.store(0, Relaxed);
        }
    }
}

#[cfg(all(test, not(resilient_loom)))]
mod tests {
    use super::*;

    #[test]
    fn events_count_for_exactly_buckets_epochs() {
        let ring = Ring::new();
        ring.add(100);
        ring.add(100);
        ring.add(103);
        assert_eq!(ring.sum(103), 3);
        assert_eq!(ring.sum(100 + BUCKETS as u32 - 1), 3);
        // Bucket 100 expires; 103 is still in.
        assert_eq!(ring.sum(100 + BUCKETS as u32), 1);
        assert_eq!(ring.sum(103 + BUCKETS as u32), 0);
    }

    #[test]
    fn a_reused_bucket_starts_from_zero() {
        let ring = Ring::new();
        for _ in 0..5 {
            ring.add(7);
        }
        let later = 7 + BUCKETS as u32; // same slot, next lap
        ring.add(later);
        assert_eq!(ring.sum(later), 1);
    }

    #[test]
    fn epochs_wrap() {
        let ring = Ring::new();
        ring.add(u32::MAX);
        ring.add(0);
        assert_eq!(ring.sum(1), 2);
        ring.clear();
        assert_eq!(ring.sum(1), 0);
    }
}
