//! The in-process store: sharded maps of finished results and running calls.
//!
//! Why not moka: its `try_get_with` has the single-flight semantics we need (concurrent inits
//! coalesce; a dropped or panicking init lets a waiter start over), but a hit cost ~300 ns and a
//! miss ~3 µs (its insert feeds eviction bookkeeping), against budgets of 200 ns and 500 ns,
//! and its clocks are not tokio's. Here a hit is one short lock, one hash lookup and a clone.
//!
//! Every result of a policy has the same ttl, so the order results are stored in is expiry
//! order: each shard keeps its results in a queue in that order, drops expired ones from the
//! front, and at the bound evicts from the front too, which removes the result closest to expiry
//! anyway. The queue holds the results themselves (key text inline when short); a small index
//! maps a key's hash to its result's place in the queue. At the bound, the slot a new result
//! takes is the one the evicted result leaves, and the index is a few bytes per result, so a
//! miss touches little memory that has gone cold since it was last used: the miss of a full
//! store of 100 000 results costs a few cache misses, not one per pointer followed.
//!
//! One hash of the key per call picks the shard (from its middle bits) and the place in the
//! index (the low bits and the top seven, as hashbrown uses them). The hasher is seeded per
//! store: crafted keys can neither crowd one shard nor degrade its index.

use std::any::Any;
use std::collections::VecDeque;
use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};
use smallbox::SmallBox;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

use super::text::KeyText;
use super::{Inner, Stats};
use crate::Outcome;
use crate::clock::Clock;
use crate::error::{Error, KeyConflict};

/// Shards are sized to hold at least this many results each, so a small bound is not split
/// into shards too small to hold an uneven share of the keys.
const MIN_PER_SHARD: u64 = 64;
/// Enough to make lock contention rare on any common core count.
const MAX_SHARDS: u64 = 64;

/// A stored value, type-erased because the per-function store is a non-generic `static` while
/// the function may be generic. Values of up to two words (a `u64`, an `Arc`, a small struct)
/// are kept inline: storing one allocates nothing, and evicting one reads no memory but its slot.
type Value = SmallBox<dyn Any + Send + Sync, smallbox::space::S2>;

/// One stored result.
struct Stored {
    hash: u64,
    key: KeyText,
    value: Value,
    fingerprint: Option<u64>,
    /// Nanoseconds on the store's clock.
    expires_at: u64,
}

/// A call running for a key; later callers wait for it.
#[derive(Default)]
struct Flight {
    done: AtomicBool,
    /// Callers waiting, so the usual case (nobody) skips `notify_waiters` and its lock.
    waiters: AtomicUsize,
    notify: Notify,
}

/// A call running for a key, by its lead's `seq`. The flight its waiters wait on is allocated
/// by the first waiter: the usual miss, which nobody waits for, allocates none.
struct Running {
    hash: u64,
    key: KeyText,
    seq: u64,
    flight: Option<Arc<Flight>>,
}

#[derive(Default)]
struct Shard {
    /// Live results by key hash: each value is a result's number, its place in `results`.
    /// Numbers are `u32`s that wrap (a queue never holds 2^32 results), so the table is four
    /// bytes a result and more of it stays in cache.
    index: HashTable<u32>,
    /// Results in the order they were stored: result number `first + i` is `results[i]`. `None`
    /// once it expired and its key was looked up again (it left the index then; its place in
    /// the queue goes when the front reaches it).
    results: VecDeque<Option<Stored>>,
    /// The number of the result at the front of `results`.
    first: u32,
    /// Calls running, by key hash. Few at a time, so this table stays small and warm.
    running: HashTable<Running>,
    /// Names each lead's running entry.
    next_seq: u64,
    /// Results answered from this shard, counted under its lock (which a hit holds anyway)
    /// rather than in a counter every hit of every shard would share.
    hits: u64,
}

/// Finished results and running calls by key.
pub(super) struct LocalStore {
    shards: Box<[Mutex<Shard>]>,
    hasher: DefaultHashBuilder,
    per_shard: usize,
    max_entries: u64,
    /// What expiry times count on: a TSC read, not `Instant::now()`, and tokio's clock once it
    /// was seen paused (see [`crate::clock`]), so TTL tests on a paused clock stay exact.
    clock: Clock,
}

impl LocalStore {
    pub(super) fn new(max_entries: u64) -> Self {
        let max_entries = max_entries.max(1);
        let shards = (max_entries / MIN_PER_SHARD).clamp(1, MAX_SHARDS);
        // Rounded down, so the shards together never hold more than `max_entries`.
        let per_shard = usize::try_from(max_entries / shards).unwrap_or(usize::MAX);
        let shards = (0..shards).map(|_| Mutex::default()).collect();
        let hasher = DefaultHashBuilder::default();
        Self { shards, hasher, per_shard, max_entries, clock: Clock::new() }
    }

    pub(super) fn max_entries(&self) -> u64 {
        self.max_entries
    }

    /// Calls answered from a stored result so far (key conflicts included).
    pub(super) fn hits(&self) -> u64 {
        (0..self.shards.len()).map(|i| self.shard(i).hits).sum()
    }

    /// Results held (expired ones not yet looked up or dropped included) plus calls running.
    pub(super) fn entry_count(&self) -> u64 {
        let held: usize = (0..self.shards.len())
            .map(|i| {
                let s = self.shard(i);
                s.index.len() + s.running.len()
            })
            .sum();
        held as u64
    }

    fn shard(&self, i: usize) -> MutexGuard<'_, Shard> {
        // No code runs under the lock that can panic halfway through an update.
        self.shards[i].lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Where `key` is kept: its hash and shard, worked out once per call. hashbrown takes a
    /// table's buckets from the hash's low bits and its tags from the top seven, so the shard
    /// comes from the 32 bits between, mapped onto the shard count by a multiply and shift
    /// rather than a division.
    #[inline]
    pub(super) fn place(&self, key: &str) -> Place {
        let hash = self.hasher.hash_one(key);
        let middle = (hash >> 25) & 0xffff_ffff;
        let shard = ((middle * self.shards.len() as u64) >> 32) as usize;
        Place { hash, shard }
    }

    /// One look at `key`, under its shard's lock: a live result answers (a hit); a call running
    /// for the key is waited for; otherwise the caller leads, and a copy of `key` goes into the
    /// store's entry for its running call. `waited` says the caller waited already (a join, if
    /// it hits).
    pub(super) fn look<T, E>(
        &self,
        call: Call<'_>,
        place: Place,
        key: &KeyText,
        waited: bool,
    ) -> Look<'_, T, E>
    where
        T: Clone + Send + Sync + 'static,
    {
        let Call { policy, fingerprint, .. } = call;
        let Place { hash, shard } = place;
        let now = self.clock.now_nanos();
        let mut guard = self.shard(shard);
        let s = &mut *guard;
        if let Some(n) = s.find_result(hash, key.as_str()) {
            let at = n.wrapping_sub(s.first) as usize;
            if let Some(stored) = &s.results[at]
                && now < stored.expires_at
            {
                // Answered under the lock: the value is cloned here, so nothing shared by every
                // caller of the key (an `Arc`'s count) is written.
                let answer = stored.answer::<T>(fingerprint);
                s.hits += 1;
                drop(guard);
                return Look::Hit(answered(policy, answer, waited, key.as_str()));
            }
            // Expired: it leaves the index now and its slot is emptied; the slot itself goes
            // when the front of the queue reaches it. The key runs again.
            s.results[at] = None;
            s.unindex(hash, n);
        }
        if let Some(running) = s.running.find_mut(hash, |r| r.key.as_str() == key.as_str()) {
            let flight = Arc::clone(running.flight.get_or_insert_default());
            return Look::Wait(Waiting { place, key: key.clone(), flight });
        }
        // We lead: the key is copied into the running entry, allocating nothing when short.
        let seq = s.next_seq;
        s.next_seq += 1;
        let running = Running { hash, key: key.clone(), seq, flight: None };
        s.running.insert_unique(hash, running, |r| r.hash);
        Look::Lead(Lead { store: self, place, seq, settled: false })
    }
}

/// What a call that goes on past its first look carries: its policy, the ttl read for it (the
/// call's one read of the settings), and the fingerprint of its other arguments.
#[derive(Clone, Copy)]
pub(super) struct Call<'a> {
    pub(super) policy: &'a Inner,
    pub(super) ttl: std::time::Duration,
    pub(super) fingerprint: Option<u64>,
}

/// A key's hash and the shard that keeps it.
#[derive(Clone, Copy)]
pub(super) struct Place {
    hash: u64,
    shard: usize,
}

/// What one look at a key found.
pub(super) enum Look<'a, T, E> {
    /// Answered from the store: the result, or the rejection of a key used with other arguments.
    Hit(Outcome<T, E>),
    /// Another call runs for the key.
    Wait(Waiting),
    /// Nothing stored or running: this call runs the body.
    Lead(Lead<'a>),
}

/// A caller waiting for the call running for its key.
pub(super) struct Waiting {
    place: Place,
    key: KeyText,
    flight: Arc<Flight>,
}

impl Waiting {
    /// Waits for the running call to end, then looks again, until the key is answered or this
    /// call leads; then runs `fut` if it leads.
    pub(super) async fn run<F, T, E>(self, call: Call<'_>, fut: F) -> Outcome<T, E>
    where
        F: Future<Output = Outcome<T, E>>,
        T: Clone + Send + Sync + 'static,
    {
        let store = &call.policy.local;
        let mut waiting = self;
        loop {
            let Waiting { place, key, flight } = waiting;
            // Counted, then registered, then checked: a finish at any point in between either
            // sees us counted (and notifies) or is seen by the check.
            flight.waiters.fetch_add(1, SeqCst);
            let notified = flight.notify.notified();
            if !flight.done.load(SeqCst) {
                notified.await;
            }
            // Finished, failed, cancelled or panicked: look again.
            match store.look(call, place, &key, true) {
                Look::Hit(outcome) => return outcome,
                Look::Wait(again) => waiting = again,
                Look::Lead(lead) => return lead.run(call, fut).await,
            }
        }
    }
}

/// A hit's outcome, once the shard's lock is released: the stored value, or the rejection of a
/// key used with other arguments.
fn answered<T, E>(policy: &Inner, answer: Option<T>, waited: bool, key: &str) -> Outcome<T, E> {
    if waited {
        Stats::add(&policy.stats.joins);
    }
    let Some(value) = answer else {
        Stats::add(&policy.stats.conflicts);
        policy.observe_rejected("key reused with other arguments");
        let conflict = KeyConflict::new(policy.name.clone(), key);
        return Err(Error::IdempotencyKeyReused(conflict));
    };
    policy.observe_hit(waited);
    Ok(Ok(value))
}

/// A lead's successful result, to store.
struct Finished {
    value: Value,
    fingerprint: Option<u64>,
    expires_at: u64,
    /// When it finished, on the store's clock: what expiry is judged against.
    now: u64,
}

/// The caller running the body for a key. Settling stores the result (or frees the key) and
/// wakes the waiters; dropping it unsettled (cancellation, panic) frees the key.
pub(super) struct Lead<'a> {
    store: &'a LocalStore,
    place: Place,
    /// Names this lead's running entry.
    seq: u64,
    settled: bool,
}

impl Lead<'_> {
    /// Runs the body and stores its `Ok(Ok(_))` for later calls with the key.
    pub(super) async fn run<F, T, E>(mut self, call: Call<'_>, fut: F) -> Outcome<T, E>
    where
        F: Future<Output = Outcome<T, E>>,
        T: Clone + Send + Sync + 'static,
    {
        let Call { policy, ttl, fingerprint } = call;
        Stats::add(&policy.stats.misses);
        policy.observe_miss();
        let outcome = fut.await;
        let result = match &outcome {
            Ok(Ok(value)) => {
                let now = self.store.clock.now_nanos();
                let ttl = u64::try_from(ttl.as_nanos()).unwrap_or(u64::MAX);
                let expires_at = now.saturating_add(ttl);
                let value: Value = smallbox::smallbox!(value.clone());
                Some(Finished { value, fingerprint, expires_at, now })
            }
            _ => None,
        };
        let evicted = self.settle(result);
        if evicted > 0 {
            policy.observe_evicted(evicted);
        }
        outcome
    }
}

impl Lead<'_> {
    /// Stores `finished` (or only frees the key, given `None`). Returns how many results the
    /// store's bound evicted to make room.
    fn settle(&mut self, finished: Option<Finished>) -> u64 {
        if std::mem::replace(&mut self.settled, true) {
            return 0;
        }
        let mut evicted = 0;
        let flight = {
            let Place { hash, shard } = self.place;
            let mut guard = self.store.shard(shard);
            let s = &mut *guard;
            let Ok(entry) = s.running.find_entry(hash, |r| r.seq == self.seq) else {
                return 0;
            };
            let (running, _) = entry.remove();
            if let Some(f) = finished {
                let Finished { value, fingerprint, expires_at, now } = f;
                // Room first, then the result: at the bound it takes the slot the evicted one
                // left, which this very look made warm.
                evicted = s.expire_and_evict(now, self.store.per_shard - 1);
                s.make_room(self.store.per_shard);
                let n = s.first.wrapping_add(s.results.len() as u32);
                let stored = Stored { hash, key: running.key, value, fingerprint, expires_at };
                s.results.push_back(Some(stored));
                // Only a lead stores a key's result, and a key has one lead at a time: unique.
                let (results, first) = (&s.results, s.first);
                s.index.insert_unique(hash, n, |&m| hash_of(results, first, m));
            }
            running.flight
        };
        // Waiters (if any came) allocated the flight; wake them to look again.
        if let Some(flight) = flight {
            flight.done.store(true, SeqCst);
            if flight.waiters.load(SeqCst) > 0 {
                flight.notify.notify_waiters();
            }
        }
        evicted
    }
}

impl Drop for Lead<'_> {
    fn drop(&mut self) {
        // Nothing is stored, so nothing is evicted.
        let _ = self.settle(None);
    }
}

impl Shard {
    /// The number of the live result stored for `key`, if any (expired or not).
    #[inline]
    fn find_result(&self, hash: u64, key: &str) -> Option<u32> {
        let (results, first) = (&self.results, self.first);
        let is_key = |&n: &u32| {
            let at = n.wrapping_sub(first) as usize;
            matches!(results.get(at), Some(Some(r)) if r.key.as_str() == key)
        };
        self.index.find(hash, is_key).copied()
    }

    /// Removes result `n` from the index, found by number, not by key: its text is not read.
    fn unindex(&mut self, hash: u64, n: u32) {
        if let Ok(entry) = self.index.find_entry(hash, |&m| m == n) {
            entry.remove();
        }
    }

    /// Grows the queue, if full, toward `bound` and never past it: at the bound its capacity is
    /// the bound itself, so the slot a new result takes is the one the evicted result left.
    ///
    /// When the queue reaches the bound, the index is sized for twice the bound. At the bound
    /// every result stored removes one from the index, which leaves tombstones; hashbrown clears
    /// them by rehashing in place only while the table is at most half full, and otherwise
    /// grows it (an allocation, at a moment the hash seed decides). Sized now, it never does.
    fn make_room(&mut self, bound: usize) {
        let (len, capacity) = (self.results.len(), self.results.capacity());
        if len == capacity {
            self.results.reserve_exact(len.max(8).min(bound.saturating_sub(len)).max(1));
            if self.results.capacity() >= bound {
                let (results, first) = (&self.results, self.first);
                let more = bound.saturating_mul(2).saturating_sub(self.index.len());
                self.index.reserve(more, |&m| hash_of(results, first, m));
            }
        }
    }

    /// Drops expired results and evicts the oldest beyond `cap`, from the front of the queue.
    /// Returns how many live results were evicted for the bound (expired ones not counted).
    fn expire_and_evict(&mut self, now: u64, cap: usize) -> u64 {
        let mut evicted = 0;
        // Expired results sit at the front, emptied slots among them, so after this loop the
        // queue holds live results only, unless a later one expired first (a shorter ttl set at
        // run time): a lookup finds those expired and empties them.
        while let Some(front) = self.results.front() {
            let expired = front.as_ref().is_none_or(|r| r.expires_at <= now);
            if !expired && self.results.len() <= cap {
                break;
            }
            let n = self.first;
            self.first = self.first.wrapping_add(1);
            if let Some(Some(r)) = self.results.pop_front() {
                self.unindex(r.hash, n);
                evicted += u64::from(!expired);
            }
        }
        evicted
    }
}

/// The hash of indexed result `m`, for the index to rehash with (an indexed result is held).
fn hash_of(results: &VecDeque<Option<Stored>>, first: u32, m: u32) -> u64 {
    results[m.wrapping_sub(first) as usize].as_ref().map_or(0, |r| r.hash)
}

impl Stored {
    /// The stored value as the caller's `T`, or `None` when it cannot be handed out: the key was
    /// used with other arguments (another fingerprint, or another `T`: generic fns share one
    /// store across instantiations).
    fn answer<T: Clone + 'static>(&self, fingerprint: Option<u64>) -> Option<T> {
        let reused = matches!((self.fingerprint, fingerprint), (Some(a), Some(b)) if a != b);
        match (*self.value).downcast_ref::<T>() {
            Some(value) if !reused => Some(value.clone()),
            _ => None,
        }
    }
}
