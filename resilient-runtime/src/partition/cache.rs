//! A per-thread cache of the partitions a thread found last, so that finding an existing
//! partition again takes no lock: a thread-local lookup, a generation check and the key
//! comparison, then the handle's clone.
//!
//! An entry holds the partition's slot (an `Arc`, so it stays valid whatever the map does) and
//! the map's *removal generation*, read before the locked lookup that found it. Every eviction
//! bumps the generation once it has removed its partitions, so an entry whose generation is
//! still current names a slot that is still in the map (or one being evicted right now, as a
//! locked lookup just before the eviction would have): a hit is what the locked lookup would
//! return, and it stamps the slot's recency as the locked lookup does. Any eviction
//! invalidates every thread's entries at once; they refill on the next locked lookups.
//!
//! Bounded: [`SETS`] × [`WAYS`] entries per thread and partitioned policy, made on the thread's
//! first repeated lookup (a flood of new keys, which only inserts, fills nothing). A slot the
//! map has evicted stays alive while an entry still holds it, until that entry is replaced or
//! the policy is dropped: at most that many instances per thread beyond `max_partitions`.

use std::cell::RefCell;
use std::sync::Arc;

use thread_local::ThreadLocal;

use super::{PartitionKey, Slot};

/// Sets of the cache, indexed by the key's hash. 256 sets of 4 (16 KiB a thread and policy):
/// 64 keys used in turn all stay cached but for about one chance in 600 that five share a set
/// (with 64 sets it was one in four, and those five then missed on every call, in turn).
const SETS: usize = 256;
/// Entries per set: up to four keys whose hashes share a set do not evict each other.
const WAYS: usize = 4;

pub(super) struct Caches<P: Send + Sync> {
    threads: ThreadLocal<RefCell<Cache<P>>>,
}

struct Cache<P> {
    entries: Box<[Option<Entry<P>>]>,
}

struct Entry<P> {
    /// The removal generation's low half, and the hash's high half (checked before the slot
    /// is dereferenced): 16 bytes an entry.
    check: u64,
    slot: Arc<Slot<P>>,
}

/// What an entry for `hash` cached at `generation` holds in [`Entry::check`]. A generation
/// seen again after 2^32 evictions could pass for the current one; a thread would have to keep
/// an entry untouched through all of them.
#[inline]
fn check(hash: u64, generation: u64) -> u64 {
    (hash & !0xFFFF_FFFF) | (generation & 0xFFFF_FFFF)
}

impl<P: Send + Sync> Caches<P> {
    pub(super) fn new() -> Self {
        Self { threads: ThreadLocal::new() }
    }

    /// The policy cached for `key` by this thread, if the map has removed nothing since it was
    /// cached (`generation` is the map's current one); stamps the slot's recency with `now`
    /// as the locked lookup does.
    #[inline]
    pub(super) fn policy<K: PartitionKey + ?Sized>(
        &self,
        hash: u64,
        key: &K,
        generation: u64,
        now: u64,
    ) -> Option<P>
    where
        P: Clone,
    {
        let cache = self.threads.get()?.try_borrow().ok()?;
        let set = &cache.entries[set_of(hash)..set_of(hash) + WAYS];
        let check = check(hash, generation);
        set.iter().flatten().find_map(|e| {
            let hit = e.check == check && e.slot.hash == hash && key.same_as(&*e.slot.key);
            hit.then(|| {
                e.slot.touch(now);
                e.slot.policy.clone()
            })
        })
    }

    /// Caches `slot`, found in the map at `generation`, for this thread: in a free or stale
    /// entry of its set, else first in the set with the least recently cached one dropped.
    #[cold]
    pub(super) fn remember(&self, slot: &Arc<Slot<P>>, generation: u64) {
        let cache = self
            .threads
            .get_or(|| RefCell::new(Cache { entries: (0..SETS * WAYS).map(|_| None).collect() }));
        let Ok(mut cache) = cache.try_borrow_mut() else { return };
        let at = set_of(slot.hash);
        let set = &mut cache.entries[at..at + WAYS];
        let free = set.iter().position(|e| match e {
            None => true,
            Some(e) => {
                e.check & 0xFFFF_FFFF != generation & 0xFFFF_FFFF || Arc::ptr_eq(&e.slot, slot)
            }
        });
        let i = free.unwrap_or_else(|| {
            set.rotate_right(1);
            0
        });
        // What falls out is dropped after the borrow ends (it may hold the last handle).
        let old =
            set[i].replace(Entry { check: check(slot.hash, generation), slot: Arc::clone(slot) });
        drop(cache);
        drop(old);
    }
}

#[inline]
fn set_of(hash: u64) -> usize {
    (hash as usize % SETS) * WAYS
}
