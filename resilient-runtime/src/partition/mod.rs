//! Partitioned policies: one instance per endpoint, per user, per any key (`per = expr`).
//!
//! A [`Partitioned`] keeps one policy instance (a [`CircuitBreaker`], an adaptive [`Timeout`],
//! a [`Retry`] and its budget) per distinct key, built on the key's first call. It is bounded:
//! at most `max_partitions` instances live; making room for a new one drops the least recently
//! used, skipping open breakers still within their cooldown (a dead host must stay shed).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! use resilient_runtime::{Error, breaker::{CircuitBreaker, CircuitState}, partition::Partitioned};
//!
//! let breakers = Partitioned::new("docs::hosts", 1024, || {
//!     CircuitBreaker::builder().name("docs::hosts").threshold(1).build()
//! });
//! let down: Result<(), Error> = breakers.get("db-1").call(async {
//!     Err(Error::Store(resilient_runtime::error::StoreFailure::new("db-1", "refused")))
//! }).await;
//! assert!(down.is_err());
//! assert_eq!(breakers.get("db-1").state(), CircuitState::Open);
//! assert_eq!(breakers.get("db-2").state(), CircuitState::Closed, "another host, another breaker");
//! # }
//! ```
//!
//! # Cost
//!
//! Finding an existing partition hashes the key (without cloning it), looks in the calling
//! thread's cache of the partitions it found before (see `cache.rs`: no lock, valid until the
//! next eviction), compares the key, stores the recency stamp when it changed and clones the
//! instance's handle (one atomic increment): no allocation. The first lookup of a partition on
//! a thread, and the first after an eviction, takes its shard's read lock instead (16 shards,
//! each on its own cache line) and caches it. Only a new key allocates: its copy and its
//! instance (and a thread's cache, once, on its first repeated lookup).
//!
//! # Bound and eviction
//!
//! Recency is counted in insertions: every new partition advances a counter, and a call stamps
//! its partition with the counter's value, so partitions used since the last insertion all rank
//! as most recent. When the map is full, an insertion scans it and drops the least recently
//! used `max(1, max_partitions / 32)` partitions at once (so a flood of new keys costs one scan
//! per 32 insertions, not one each). Open breakers within their cooldown are passed over; if
//! nothing else is left, the least recently used of them go too: the bound is hard, and a flood
//! of distinct dead hosts cannot grow memory. A call still running on a dropped partition
//! finishes on it; the instance is freed when that call ends.
//!
//! # Configuration
//!
//! Partitions are not listed in [configuration](crate::config) one by one either: the
//! [`Partitioned`] is, under the policy's name; applying configuration retunes every live
//! partition, and a partition created later starts with the settings in force.
//!
//! # Registry
//!
//! Partitions are not listed one by one: the [`Partitioned`] is listed once, under the policy's
//! name, as [`PolicyState::Partitioned`] with the most recently used partitions (at most
//! [`SHOWN`]) and counts. Every partition shares the policy's name, so errors, events and
//! metrics name the policy, never the key.
//!
//! [`CircuitBreaker`]: crate::breaker::CircuitBreaker
//! [`Timeout`]: crate::timeout::Timeout
//! [`Retry`]: crate::retry::Retry

mod cache;
mod evict;
mod key;
mod label;
mod snapshot;
mod tuning;

use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Acquire, Ordering::Relaxed};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use hashbrown::HashTable;

pub use key::{PartitionKey, StoredKey, Text, text};
pub use label::{Label, NoLabel, label_of};
pub use snapshot::{PartitionSnapshot, PartitionsSnapshot, SHOWN};
pub(crate) use tuning::sealed::{Hooks, Tuned};

use crate::error::PolicyName;
use crate::registry::{self, Inspect, PolicyState};
use key::Hasher;

/// The default bound on live partitions per policy.
pub const DEFAULT_MAX_PARTITIONS: usize = 1024;

const SHARDS: usize = 16;

/// A policy that can be partitioned: its handle is cheap to clone and describes itself.
pub trait Partition: Clone + Send + Sync + tuning::sealed::Tuned + 'static {
    /// The policy's kind as the registry names it: `circuit_breaker`, `timeout`, `retry`.
    const KIND: &'static str;

    /// True while dropping the instance would lose something that must be kept: an open
    /// breaker within its cooldown. Eviction passes such partitions over while it can.
    fn pinned(&self) -> bool {
        false
    }

    /// The instance's state, as the registry shows it.
    fn partition_state(&self) -> PolicyState;
}

/// One policy instance per key, at most `max_partitions` of them; see the [module](self).
///
/// Cheap to clone; clones share the partitions.
pub struct Partitioned<P: Send + Sync> {
    inner: Arc<Shared<P>>,
}

impl<P: Send + Sync> Clone for Partitioned<P> {
    fn clone(&self) -> Self {
        Self { inner: Arc::clone(&self.inner) }
    }
}

type Build<P> = Box<dyn Fn() -> P + Send + Sync>;

struct Shared<P: Send + Sync> {
    name: PolicyName,
    max: usize,
    build: Build<P>,
    hasher: Hasher,
    shards: Box<[Shard<P>]>,
    /// Partitions in the map plus room reserved by insertions under way: never above `max`.
    live: AtomicUsize,
    /// Recency counter: +2 per insertion (see [`Slot::used`]).
    tick: AtomicU64,
    /// Removal generation: +1 after every eviction that removed something. A thread's cached
    /// partitions are valid while it is unchanged.
    removals: AtomicU64,
    caches: cache::Caches<P>,
    created: AtomicU64,
    evicted: AtomicU64,
    /// An instance that is never used for calls: it checks configuration for the partitions.
    template: P,
    tunings: tuning::Tunings,
}

/// A shard on a cache line of its own: readers of one shard do not slow down another's.
/// Slots are behind an `Arc` so that a thread's [cache](cache) can hold on to them.
#[repr(align(128))]
struct Shard<P>(RwLock<HashTable<Arc<Slot<P>>>>);

struct Slot<P> {
    hash: u64,
    key: Box<dyn StoredKey>,
    /// The key as the registry shows it, when it can be shown.
    label: Option<Box<str>>,
    policy: P,
    /// The recency counter when the partition was last used. An insertion stamps its new
    /// partition with the counter's old value + 1 and leaves it at + 2, so a partition used
    /// after an insertion ranks above every partition inserted before.
    used: AtomicU64,
}

impl<P> Slot<P> {
    #[inline]
    fn touch(&self, now: u64) {
        // Written only when it changes: steady hits on one partition only read its line.
        if self.used.load(Relaxed) != now {
            self.used.store(now, Relaxed);
        }
    }
}

impl<P: Partition> Partitioned<P> {
    /// A partitioned policy named `name`, keeping at most `max_partitions` instances (at least
    /// 1), each built by `build` on its key's first call. Listed in the
    /// [`registry`](crate::registry::snapshot) once; the instances `build` makes are not listed on their
    /// own (they should all carry `name`).
    pub fn new(
        name: impl Into<PolicyName>,
        max_partitions: usize,
        build: impl Fn() -> P + Send + Sync + 'static,
    ) -> Self {
        let shards = (0..SHARDS).map(|_| Shard(RwLock::new(HashTable::new()))).collect();
        let template = registry::unlisted(&build);
        let tunings = tuning::Tunings::of(&template);
        let inner = Arc::new(Shared {
            name: name.into(),
            max: max_partitions.max(1),
            build: Box::new(build),
            hasher: Hasher::default(),
            shards,
            live: AtomicUsize::new(0),
            tick: AtomicU64::new(0),
            removals: AtomicU64::new(0),
            caches: cache::Caches::new(),
            created: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
            template,
            tunings,
        });
        if inner.tunings.inline.is_some() {
            crate::config::attach(&inner);
        }
        let weak: std::sync::Weak<dyn Inspect> = Arc::downgrade(&inner) as _;
        registry::register(weak);
        Self { inner }
    }

    /// The partitioned policy registered under `name`, built with [`new`](Self::new) the first
    /// time: every caller naming it shares its partitions (`#[circuit_breaker(name = "..",
    /// per = ..)]` on several functions). A later caller whose `settings` or bound differ still
    /// gets the first one; the disagreement is listed in the registry's `conflicts`.
    pub fn shared<S>(
        name: &'static str,
        settings: S,
        max_partitions: usize,
        build: impl Fn() -> P + Send + Sync + 'static,
    ) -> Self
    where
        S: PartialEq + fmt::Debug + Clone + Send + Sync + 'static,
    {
        registry::named(name, (settings, max_partitions), |_| {
            Self::new(name, max_partitions, build)
        })
    }

    /// The instance for `key`, built on the key's first call (or its first since it was
    /// dropped). An existing partition costs a hash, a look in the thread's cache (or, the
    /// first time on this thread or after an eviction, a shard read lock) and a handle clone:
    /// no allocation, no clone of the key.
    #[inline]
    pub fn get<K: PartitionKey + ?Sized>(&self, key: &K) -> P {
        self.get_described(key, None)
    }

    /// [`get`](Self::get), showing a partition's key in the registry as `describe` writes it
    /// (called once, when the partition is created). The attributes pass the key's `Debug`
    /// text where its type has one; see [`Label`].
    #[inline]
    pub fn get_described<K: PartitionKey + ?Sized>(
        &self,
        key: &K,
        describe: Option<fn(&K) -> String>,
    ) -> P {
        let s = &*self.inner;
        let hash = key.partition_hash(&s.hasher);
        let generation = s.removals.load(Acquire);
        if let Some(policy) = s.caches.policy(hash, key, generation, s.tick.load(Relaxed)) {
            return policy;
        }
        s.find_locked(hash, key, generation).unwrap_or_else(|| s.insert(hash, key, describe))
    }

    /// The policy's name, shared by every partition.
    pub fn name(&self) -> &str {
        self.inner.name.as_str()
    }

    /// The bound on live partitions.
    pub fn max_partitions(&self) -> usize {
        self.inner.max
    }

    /// Partitions alive now (never above [`max_partitions`](Self::max_partitions)).
    pub fn len(&self) -> usize {
        self.inner.shards.iter().map(|s| read(&s.0).len()).sum()
    }

    /// True before the first call.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What the registry shows of this policy.
    pub fn snapshot(&self) -> PartitionsSnapshot {
        self.inner.partitions_snapshot()
    }
}

impl<P: Partition> Shared<P> {
    /// An existing partition, found under its shard's read lock, and cached for this thread.
    #[inline(never)]
    fn find_locked<K: PartitionKey + ?Sized>(
        &self,
        hash: u64,
        key: &K,
        generation: u64,
    ) -> Option<P> {
        let table = read(self.shard(hash));
        let slot = table.find(hash, |slot| slot.hash == hash && key.same_as(&*slot.key))?;
        slot.touch(self.tick.load(Relaxed));
        let policy = slot.policy.clone();
        let slot = Arc::clone(slot);
        drop(table);
        self.caches.remember(&slot, generation);
        Some(policy)
    }

    #[inline]
    fn shard(&self, hash: u64) -> &RwLock<HashTable<Arc<Slot<P>>>> {
        // The top bits: hashbrown uses the low ones for buckets and the next 7 for tags.
        &self.shards[(hash >> 60) as usize % SHARDS].0
    }

    #[cold]
    #[inline(never)]
    fn insert<K: PartitionKey + ?Sized>(
        &self,
        hash: u64,
        key: &K,
        describe: Option<fn(&K) -> String>,
    ) -> P {
        self.reserve();
        // The room goes back unless a partition takes it (another call's, or a panic building).
        let room = Room(&self.live);
        // Built outside the shard's lock; partitions are not listed in the registry one by one.
        let policy = registry::unlisted(&self.build);
        let applied = self.tune(&policy, None);
        let stored = key.to_stored();
        let label = match stored.label() {
            Some(text) => Some(text.into()),
            None => describe.map(|d| shorten(d(key)).into_boxed_str()),
        };
        let mut table = write(self.shard(hash));
        if let Some(slot) = table.find(hash, |slot| slot.hash == hash && key.same_as(&*slot.key)) {
            // Another call inserted it meanwhile: use theirs; `room` goes back.
            slot.touch(self.tick.load(Relaxed));
            return slot.policy.clone();
        }
        let used = self.tick.fetch_add(2, Relaxed) + 1;
        let used = AtomicU64::new(used);
        let slot = Arc::new(Slot { hash, key: stored, label, policy: policy.clone(), used });
        table.insert_unique(hash, slot, |s| s.hash);
        drop(table);
        std::mem::forget(room);
        // Configuration applied meanwhile may have missed it: bring it up to date.
        self.tune(&policy, applied.as_ref());
        self.created.fetch_add(1, Relaxed);
        policy
    }

    /// Reserves room for one partition, evicting when the map is full.
    fn reserve(&self) {
        loop {
            let live = self.live.load(Relaxed);
            if live < self.max {
                if self.live.compare_exchange_weak(live, live + 1, Relaxed, Relaxed).is_ok() {
                    return;
                }
                continue;
            }
            if self.evict() == 0 {
                // Every slot is reserved by insertions still under way: let them finish.
                std::thread::yield_now();
            }
        }
    }
}

/// The most of a key's `Debug` text the registry keeps.
const LABEL_MAX: usize = 256;

/// `text` cut to [`LABEL_MAX`] bytes (at a character boundary), with `…` when cut.
fn shorten(mut text: String) -> String {
    if text.len() > LABEL_MAX {
        let mut end = LABEL_MAX;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

/// Room reserved for a partition; given back when dropped.
struct Room<'a>(&'a AtomicUsize);

impl Drop for Room<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Relaxed);
    }
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    // Nothing panics while holding a shard's lock; a poisoned one is still consistent.
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

impl<P: Partition> fmt::Debug for Partitioned<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Partitioned")
            .field("name", &self.inner.name)
            .field("kind", &P::KIND)
            .field("max_partitions", &self.inner.max)
            .field("live", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_labels_are_cut_at_a_character() {
        let cut = super::shorten("é".repeat(200));
        assert!(cut.len() <= super::LABEL_MAX + '…'.len_utf8());
        assert!(cut.ends_with('…'));
        assert_eq!(super::shorten("short".into()), "short");
    }
}
