//! Making room: the least recently used partitions go, open breakers within cooldown last.

use std::sync::atomic::Ordering::{Relaxed, Release};

use super::{Partition, Shared, read, write};

/// A partition seen by the scan: enough to find it again and to rank it.
struct Candidate {
    pinned: bool,
    used: u64,
    shard: usize,
    hash: u64,
    /// The address of its stored key: tells it apart from a partition inserted since under the
    /// same hash.
    key: *const (),
}

impl<P: Partition> Shared<P> {
    /// Partitions dropped together when the map is full: one scan pays for this many
    /// insertions.
    fn batch(&self) -> usize {
        (self.max / 32).max(1)
    }

    /// Drops the least recently used partitions (see the [module](super)); returns how many.
    pub(super) fn evict(&self) -> usize {
        let mut candidates = Vec::with_capacity(self.max);
        for (shard, lock) in self.shards.iter().enumerate() {
            for slot in read(&lock.0).iter() {
                candidates.push(Candidate {
                    pinned: slot.policy.pinned(),
                    used: slot.used.load(Relaxed),
                    shard,
                    hash: slot.hash,
                    key: std::ptr::from_ref(&*slot.key).cast(),
                });
            }
        }
        let batch = self.batch().min(candidates.len());
        if batch == 0 {
            return 0;
        }
        // Unpinned before pinned, older before newer.
        let rank = |c: &Candidate| (c.pinned, c.used);
        if batch < candidates.len() {
            candidates.select_nth_unstable_by_key(batch - 1, rank);
        }
        let mut dropped = Vec::with_capacity(batch);
        for c in &candidates[..batch] {
            let mut table = write(&self.shards[c.shard].0);
            let found = table.find_entry(c.hash, |slot| {
                std::ptr::from_ref(&*slot.key).cast::<()>() == c.key
                    && slot.used.load(Relaxed) == c.used
            });
            // Used since the scan (or already gone): it stays.
            if let Ok(entry) = found {
                dropped.push(entry.remove().0);
            }
        }
        let n = dropped.len();
        if n > 0 {
            // Every thread's cached partitions are stale from here on: an entry cached before
            // a removal names an older generation, and none cached since holds a removed slot.
            self.removals.fetch_add(1, Release);
        }
        self.live.fetch_sub(n, Relaxed);
        self.evicted.fetch_add(n as u64, Relaxed);
        #[cfg(feature = "tracing")]
        if n > 0 {
            tracing::debug!(policy = %self.name, kind = P::KIND, dropped = n, "partitions evicted");
        }
        // Instances are freed here, outside every lock.
        drop(dropped);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Partition, Partitioned};
    use crate::registry::PolicyState;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

    #[derive(Clone)]
    struct Fake(Arc<AtomicBool>);

    impl super::super::Tuned for Fake {}

    impl Partition for Fake {
        const KIND: &'static str = "retry";
        fn pinned(&self) -> bool {
            self.0.load(Relaxed)
        }
        fn partition_state(&self) -> PolicyState {
            unreachable!("not shown in these tests")
        }
    }

    fn map(max: usize) -> Partitioned<Fake> {
        Partitioned::new("partition::tests", max, || Fake(Arc::new(AtomicBool::new(false))))
    }

    #[test]
    fn the_least_recently_used_goes() {
        let m = map(3);
        let a = m.get(&"a");
        m.get(&"b");
        m.get(&"c");
        m.get(&"a"); // a is now more recent than b and c
        m.get(&"d");
        assert_eq!(m.len(), 3);
        assert!(Arc::ptr_eq(&m.get(&"a").0, &a.0), "a was used lately and stays");
        // b went: asking for it builds a fresh instance, which drops the next oldest (c).
        m.get(&"b");
        assert_eq!(m.len(), 3);
        assert_eq!(m.inner.evicted.load(Relaxed), 2);
    }

    #[test]
    fn pinned_partitions_go_last_and_the_bound_holds() {
        let m = map(2);
        m.get(&1u32).0.store(true, Relaxed);
        m.get(&2u32);
        m.get(&3u32); // 2 goes, not the older but pinned 1
        assert!(m.get(&1u32).pinned());
        m.get(&3u32).0.store(true, Relaxed);
        m.get(&4u32); // everything pinned: the oldest goes anyway
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn a_build_that_panics_gives_its_room_back() {
        // Every build but the first panics.
        let builds = std::sync::atomic::AtomicU32::new(0);
        let m = Partitioned::new("partition::tests", 1, move || {
            assert!(builds.fetch_add(1, Relaxed) == 0, "bad settings");
            Fake(Arc::new(AtomicBool::new(false)))
        });
        let mut panics = 0;
        for key in 0..4u8 {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| m.get(&key)));
            panics += usize::from(r.is_err());
        }
        assert!(panics >= 3);
        assert_eq!(m.inner.live.load(Relaxed), m.len(), "no room is lost to a panic");
    }

    #[test]
    fn a_cached_partition_is_not_handed_out_after_its_eviction() {
        let m = map(1);
        let a = m.get(&1u32);
        // Found under the lock (and cached), then from this thread's cache.
        assert!(Arc::ptr_eq(&m.get(&1u32).0, &a.0));
        assert!(Arc::ptr_eq(&m.get(&1u32).0, &a.0));
        m.get(&2u32); // 1 goes
        assert!(!Arc::ptr_eq(&m.get(&1u32).0, &a.0), "a fresh instance, not the evicted one");
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn a_cache_hit_counts_as_a_use() {
        let m = map(2);
        let a = m.get(&"a");
        m.get(&"a"); // cached from here on
        m.get(&"b");
        m.get(&"a"); // a cache hit: now more recent than b
        m.get(&"c"); // so b goes, not a
        assert!(Arc::ptr_eq(&m.get(&"a").0, &a.0), "a was used lately and stays");
        assert_eq!(m.inner.evicted.load(Relaxed), 1);
    }

    #[test]
    fn a_flood_stays_within_the_bound() {
        let m = map(64);
        for i in 0..10_000u64 {
            m.get(&i);
            assert!(m.inner.live.load(Relaxed) <= 64);
        }
        assert!(m.len() <= 64);
        assert_eq!(m.inner.created.load(Relaxed), 10_000);
    }
}
