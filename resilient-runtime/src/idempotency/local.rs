//! The in-process store: sharded maps of finished results and running calls.
//!
//! Why not moka: its `try_get_with` has the single-flight semantics we need (concurrent inits
//! coalesce; a dropped or panicking init lets a waiter start over), but a hit cost ~300 ns and a
//! miss ~3 µs (its insert feeds eviction bookkeeping), against budgets of 200 ns and 500 ns,
//! and its clocks are not tokio's. Here a hit is one short lock, one hash lookup and a clone.
//!
//! Every entry of a policy has the same ttl, so insertion order is expiry order: each shard
//! keeps its results in a queue in that order, drops expired ones from the front, and at the
//! bound evicts from the front too, which removes the result closest to expiry anyway.

use std::any::Any;
use std::collections::VecDeque;

use hashbrown::HashMap;
use hashbrown::hash_map::EntryRef;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

use super::{Inner, Stats};
use crate::Outcome;
use crate::clock::Clock;
use crate::error::{Error, KeyConflict};

/// Shards are sized to hold at least this many results each, so a small bound is not split
/// into shards too small to hold an uneven share of the keys.
const MIN_PER_SHARD: u64 = 64;
/// Enough to make lock contention rare on any common core count.
const MAX_SHARDS: u64 = 64;

/// One stored result: an `Arc<T>`, type-erased because the per-function store is a
/// non-generic `static` while the function may be generic.
#[derive(Clone)]
struct Slot {
    value: Arc<dyn Any + Send + Sync>,
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

enum Entry {
    Done {
        slot: Slot,
        seq: u64,
    },
    /// A call running for the key, by its lead's `seq`. The flight its waiters wait on is
    /// allocated by the first waiter: the usual miss, which nobody waits for, allocates none.
    Running {
        seq: u64,
        flight: Option<Arc<Flight>>,
    },
}

impl Entry {
    /// The flight waiters wait on, if a running call's entry has one.
    fn into_flight(self) -> Option<Arc<Flight>> {
        match self {
            Entry::Running { flight, .. } => flight,
            Entry::Done { .. } => None,
        }
    }
}

/// A result in expiry order. `seq` tells whether the map still holds this very result (a key
/// that expired and ran again has a newer one).
struct Queued {
    key: Arc<str>,
    seq: u64,
    expires_at: u64,
}

#[derive(Default)]
struct Shard {
    /// hashbrown's default hasher (foldhash) is seeded per map: crafted keys can crowd one
    /// shard's lock but not degrade its map.
    map: HashMap<Arc<str>, Entry>,
    order: VecDeque<Queued>,
    next_seq: u64,
    /// Results answered from this shard, counted under its lock (which a hit holds anyway)
    /// rather than in a counter every hit of every shard would share.
    hits: u64,
}

/// Finished results and running calls by key.
pub(super) struct LocalStore {
    shards: Box<[Mutex<Shard>]>,
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
        Self { shards, per_shard, max_entries, clock: Clock::new() }
    }

    pub(super) fn max_entries(&self) -> u64 {
        self.max_entries
    }

    /// Calls answered from a stored result so far (key conflicts included).
    pub(super) fn hits(&self) -> u64 {
        (0..self.shards.len()).map(|i| self.shard(i).hits).sum()
    }

    /// Results held (expired ones not yet dropped included) plus calls running.
    pub(super) fn entry_count(&self) -> u64 {
        let held: usize = (0..self.shards.len()).map(|i| self.shard(i).map.len()).sum();
        held as u64
    }

    fn shard(&self, i: usize) -> MutexGuard<'_, Shard> {
        // No code runs under the lock that can panic halfway through an update.
        self.shards[i].lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A multiply-rotate mix of the key, eight bytes at a time: only picks the shard. The map
    /// itself hashes with `RandomState`, so crafted keys can crowd one shard's lock but not
    /// degrade its map.
    fn shard_of(&self, key: &str) -> usize {
        const K: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut h = key.len() as u64;
        let mut chunks = key.as_bytes().chunks_exact(8);
        for c in &mut chunks {
            let word = u64::from_le_bytes(c.try_into().unwrap_or_default());
            h = (h ^ word).wrapping_mul(K).rotate_left(29);
        }
        for &b in chunks.remainder() {
            h = (h ^ u64::from(b)).wrapping_mul(K).rotate_left(29);
        }
        ((h ^ (h >> 32)) % self.shards.len() as u64) as usize
    }

    /// Runs `fut` unless `key` has a live result, sharing one execution between concurrent
    /// callers of the same key.
    pub(super) async fn guard<F, T, E>(
        &self,
        policy: &Inner,
        ttl: std::time::Duration,
        key: &str,
        fingerprint: Option<u64>,
        fut: F,
    ) -> Outcome<T, E>
    where
        F: Future<Output = Outcome<T, E>>,
        T: Clone + Send + Sync + 'static,
    {
        let stats = &policy.stats;
        let shard = self.shard_of(key);
        let mut waited = false;
        let (owned, seq) = loop {
            let now = self.clock.now_nanos();
            let step = {
                let mut s = self.shard(shard);
                // One hash: the key is looked up once, and allocated only if inserted. Every look
                // takes a fresh `seq`, which names a lead's entry (and later its result).
                let seq = s.next_seq;
                s.next_seq += 1;
                let step = match s.map.entry_ref(key) {
                    EntryRef::Occupied(mut o) => {
                        let live = match o.get_mut() {
                            // Answered under the lock: the value is cloned, not the slot's
                            // `Arc` (an increment and a decrement shared by every caller).
                            Entry::Done { slot, .. } if now < slot.expires_at => {
                                Some(Step::Hit(slot.answer(fingerprint)))
                            }
                            Entry::Running { flight, .. } => {
                                Some(Step::Wait(Arc::clone(flight.get_or_insert_default())))
                            }
                            // An expired result (its queue entry goes stale): run again.
                            Entry::Done { .. } => None,
                        };
                        live.unwrap_or_else(|| {
                            o.insert(Entry::Running { seq, flight: None });
                            Step::Lead(Arc::clone(o.key()), seq)
                        })
                    }
                    EntryRef::Vacant(v) => {
                        let owned: Arc<str> = Arc::from(key);
                        v.insert_with_key(Arc::clone(&owned), Entry::Running { seq, flight: None });
                        Step::Lead(owned, seq)
                    }
                };
                if let Step::Hit(_) = step {
                    s.hits += 1;
                }
                step
            };
            match step {
                Step::Lead(owned, seq) => break (owned, seq),
                Step::Hit(answer) => {
                    if waited {
                        Stats::add(&stats.joins);
                    }
                    let Some(value) = answer else {
                        Stats::add(&policy.stats.conflicts);
                        policy.observe_rejected("key reused with other arguments");
                        let conflict = KeyConflict::new(policy.name.clone(), key);
                        return Err(Error::IdempotencyKeyReused(conflict));
                    };
                    policy.observe_hit(waited);
                    return Ok(Ok(value));
                }
                Step::Wait(flight) => {
                    // Counted, then registered, then checked: a finish at any point in between
                    // either sees us counted (and notifies) or is seen by the check.
                    flight.waiters.fetch_add(1, SeqCst);
                    let notified = flight.notify.notified();
                    if !flight.done.load(SeqCst) {
                        notified.await;
                    }
                    // Finished, failed, cancelled or panicked: look again.
                    waited = true;
                }
            }
        };

        // We run the body. `lead` settles the key even if we are cancelled or the body panics.
        let mut lead = Lead { store: self, shard, key: owned, seq, settled: false };
        Stats::add(&stats.misses);
        policy.observe_miss();
        let outcome = fut.await;
        let slot = match &outcome {
            Ok(Ok(value)) => {
                let now = self.clock.now_nanos();
                let ttl = u64::try_from(ttl.as_nanos()).unwrap_or(u64::MAX);
                let expires_at = now.saturating_add(ttl);
                Some((Slot { value: Arc::new(value.clone()), fingerprint, expires_at }, now))
            }
            _ => None,
        };
        let evicted = lead.settle(slot);
        if evicted > 0 {
            policy.observe_evicted(evicted);
        }
        outcome
    }
}

/// What one look at a key found.
enum Step<T> {
    /// A live result: the caller's value, or `None` when the key was used with other arguments.
    Hit(Option<T>),
    Wait(Arc<Flight>),
    Lead(Arc<str>, u64),
}

/// The caller running the body for a key. Settling stores the result (or frees the key) and
/// wakes the waiters; dropping it unsettled (cancellation, panic) frees the key.
struct Lead<'a> {
    store: &'a LocalStore,
    shard: usize,
    key: Arc<str>,
    /// Names this lead's entry, and its result once stored.
    seq: u64,
    settled: bool,
}

impl Lead<'_> {
    /// `slot` is the result to store, with the time it was made. Returns how many results the
    /// store's bound evicted to make room.
    fn settle(&mut self, slot: Option<(Slot, u64)>) -> u64 {
        if std::mem::replace(&mut self.settled, true) {
            return 0;
        }
        let mut evicted = 0;
        let flight = {
            let mut s = self.store.shard(self.shard);
            let s = &mut *s;
            // One lookup: the entry is ours only while it is still our running call.
            match s.map.get_mut(&*self.key) {
                Some(entry) if matches!(&*entry, Entry::Running { seq, .. } if *seq == self.seq) => {
                    match slot {
                        Some((slot, now)) => {
                            let expires_at = slot.expires_at;
                            let running =
                                std::mem::replace(entry, Entry::Done { slot, seq: self.seq });
                            let key = Arc::clone(&self.key);
                            s.order.push_back(Queued { key, seq: self.seq, expires_at });
                            evicted = s.expire_and_evict(now, self.store.per_shard);
                            running.into_flight()
                        }
                        None => s.map.remove(&*self.key).and_then(Entry::into_flight),
                    }
                }
                _ => None,
            }
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
    /// Drops expired results and evicts the oldest beyond `cap`, from the front of the queue.
    /// Returns how many live results were evicted for the bound (expired ones not counted).
    fn expire_and_evict(&mut self, now: u64, cap: usize) -> u64 {
        let mut evicted = 0;
        // Expired results sit at the front, stale queue entries (results that expired and ran
        // again) among them, so after this loop the queue holds exactly the live results.
        while let Some(front) = self.order.front() {
            let expired = front.expires_at <= now;
            if !expired && self.order.len() <= cap {
                break;
            }
            let Some(q) = self.order.pop_front() else { break };
            // One lookup in the usual case: remove, and put back the rare newer entry.
            match self.map.remove(&q.key) {
                Some(Entry::Done { seq, .. }) if seq == q.seq => evicted += u64::from(!expired),
                Some(newer) => {
                    self.map.insert(q.key, newer);
                }
                None => {}
            }
        }
        evicted
    }
}

impl Slot {
    /// The stored value as the caller's `T`, or `None` when it cannot be handed out: the key was
    /// used with other arguments (another fingerprint, or another `T`: generic fns share one
    /// store across instantiations).
    fn answer<T: Clone + 'static>(&self, fingerprint: Option<u64>) -> Option<T> {
        let reused = matches!((self.fingerprint, fingerprint), (Some(a), Some(b)) if a != b);
        match self.value.downcast_ref::<T>() {
            Some(value) if !reused => Some(value.clone()),
            _ => None,
        }
    }
}
