//! Idempotency: the first call with a key runs, later calls with that key get its stored
//! result.
//!
//! - Only `Ok` results are stored; after an `Err` (or a rejection) the next call runs again.
//! - In process, a call arriving while another with the same key runs waits for that result
//!   (single flight). With a [shared store](SharedStore) it gets
//!   [`Error::IdempotencyInFlight`] at once, or after polling for
//!   [`wait_in_flight`](IdempotencyBuilder::wait_in_flight).
//! - A first call that is cancelled (its future dropped) or panics releases the key: waiters run
//!   their own bodies instead of waiting forever.
//! - With a fingerprint of the other arguments, the same key with different arguments gets
//!   [`Error::IdempotencyKeyReused`] instead of another call's answer.
//! - Keys are any `Display` text up to [`MAX_KEY_LEN`] bytes.
//! - Expiry runs on tokio's clock, so `tokio::time::pause` controls every ttl.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! use resilient_runtime::idempotency::{Idempotency, IdempotencyKey};
//!
//! let charges = Idempotency::builder().name("billing::charge").build();
//! let key = IdempotencyKey::new();
//! let first: Result<u32, resilient_runtime::Error> = charges.run(key, async { Ok(42) }).await;
//! let again: Result<u32, resilient_runtime::Error> = charges.run(key, async { Ok(7) }).await;
//! assert_eq!((first, again), (Ok(42), Ok(42)));
//! # }
//! ```

mod key;
mod key_arg;
mod local;
mod memory;
#[cfg(feature = "redis")]
mod redis;
mod shared;
mod store;
mod text;
mod tuned;

#[cfg(test)]
pub(crate) use tuned::tuning as tuned_defaults;

use std::fmt::{self, Display};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use key::IdempotencyKey;
#[doc(hidden)]
pub use key_arg::{KeyArg, KeyByDisplay, KeyByNothing, KeyByText, TextKey, key_is_display};
#[cfg(feature = "redis")]
pub(crate) use redis::redact;
#[cfg(feature = "redis")]
pub use redis::{
    DEFAULT_CONNECTION_TIMEOUT, DEFAULT_RESPONSE_TIMEOUT, DEFAULT_RETRIES, RedisConfig,
    RedisConnection, RedisStore,
};
pub use store::{Claim, SharedStore, StoreError, StoreFuture, register_store};

use crate::Outcome;
use crate::error::{Error, PolicyName, StoreFailure};
use crate::observe::{IdempotencyMetrics, events};
use crate::registry::{self, Inspect, PolicySnapshot, PolicyState};
use local::{LocalStore, Look};
use text::{KeyError, KeyText};

/// The longest key accepted, in bytes of its `Display` text. Longer keys are rejected with
/// [`Error::Store`]: they are almost surely a whole payload passed by mistake, and would make
/// every stored entry that large.
pub const MAX_KEY_LEN: usize = 1024;

/// How long results are kept unless configured: one day, as `#[idempotent]`'s `ttl`.
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// How many results the in-process store keeps unless configured.
pub const DEFAULT_MAX_ENTRIES: u64 = 100_000;

/// How long a shared-store marker holds a key unless configured (see
/// [`IdempotencyBuilder::lease`]).
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// Durations given to the builder are capped at this (about a century), so deadlines computed
/// from them never overflow an `Instant`.
const MAX_DURATION: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// What the registry calls the in-process store.
pub const IN_PROCESS: &str = "in-process";

/// An idempotency policy. Cheap to clone; clones share the store and counters.
#[derive(Clone)]
pub struct Idempotency {
    inner: Arc<Inner>,
}

struct Inner {
    name: PolicyName,
    /// The compiled settings, as configuration keys.
    inline: crate::config::Tuning,
    tuned: crate::config::Live<tuned::Tuned>,
    lease: Duration,
    store: Option<String>,
    on_store_error: OnStoreError,
    /// Where calls go while the shared store fails, with `on_store_error = "local"`.
    fallback: Arc<dyn SharedStore>,
    local: LocalStore,
    stats: Stats,
    metrics: IdempotencyMetrics,
}

#[derive(Default)]
struct Stats {
    hits: AtomicU64,
    misses: AtomicU64,
    joins: AtomicU64,
    conflicts: AtomicU64,
    in_flight: AtomicU64,
    store_errors: AtomicU64,
    fallbacks: AtomicU64,
}

impl Stats {
    fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }
}

/// Builds an [`Idempotency`]; see [`Idempotency::builder`]. Comparable, so it can serve as the
/// settings of a [named](crate::registry::named) policy.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct IdempotencyBuilder {
    name: PolicyName,
    ttl: Duration,
    max_entries: u64,
    store: Option<String>,
    lease: Duration,
    wait_in_flight: Option<Duration>,
    on_store_error: OnStoreError,
}

/// What a call gets when its policy's shared store fails (unreachable, restarting, slower than
/// its response timeout): `#[idempotent(store = "...", on_store_error = "fail" | "local")]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnStoreError {
    /// The call fails with [`Error::Store`] without running its body (or, if the body ran and
    /// only storing its result failed, with [`Error::Store`] saying so). The default: nothing
    /// runs twice across instances because of an outage.
    #[default]
    Fail,
    /// The call goes on with the policy's in-process store (with a `warn` event): it runs, and
    /// repeats on this instance get its result, but instances no longer see each other's calls
    /// until the shared store answers again, so a repeat landing on another instance runs its
    /// body again.
    Local,
}

impl IdempotencyBuilder {
    /// The name the registry, errors and shared-store keys use (default `"idempotency"`).
    /// Instances of one service must agree on it to share results.
    pub fn name(mut self, name: impl Into<PolicyName>) -> Self {
        self.name = name.into();
        self
    }

    /// How long a result is kept (default [`DEFAULT_TTL`], 24 h), on tokio's clock.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl.min(MAX_DURATION);
        self
    }

    /// The most results the in-process store keeps (default [`DEFAULT_MAX_ENTRIES`]).
    ///
    /// At the bound the oldest results are evicted before their ttl (all results of a policy
    /// share one ttl, so the oldest is the closest to expiry anyway). A key whose result was
    /// evicted runs its body again: size the bound for the keys expected within one ttl. The
    /// store is sharded and the bound applies per shard (`max_entries` split evenly, rounded
    /// down), so with unevenly hashed keys eviction may start a little before `max_entries`.
    /// Calls still running are not counted and never evicted. Results are counted, not weighed:
    /// large results take more memory each.
    pub fn max_entries(mut self, max_entries: u64) -> Self {
        self.max_entries = max_entries;
        self
    }

    /// Keep results in the [shared store](SharedStore) registered under `name` (with
    /// [`register_store`]) instead of in process. Calls then go through
    /// [`Idempotency::guard_shared`] and results must be serde types.
    pub fn store(mut self, name: impl Into<String>) -> Self {
        self.store = Some(name.into());
        self
    }

    /// Shared store only: how long a running call's marker holds its key (default
    /// [`DEFAULT_LEASE`], 30 s). A process that dies mid-call blocks the key this long; a call
    /// that runs longer than this keeps the key: the lease is renewed every third of it while
    /// the body runs. If a renewal finds the key lost (the store lost it, or renewals failed for
    /// a whole lease), the call fails with [`Error::Store`] once its body ends, and its result is
    /// not stored: a duplicate may have run alongside it.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.min(MAX_DURATION);
        self
    }

    /// Shared store only: a duplicate arriving while the first call runs elsewhere polls for its
    /// result for up to `wait` (then runs itself if the first failed or was cancelled, or gets
    /// [`Error::IdempotencyInFlight`] if it is still running). Default: no wait, the duplicate
    /// gets [`Error::IdempotencyInFlight`] at once.
    pub fn wait_in_flight(mut self, wait: Duration) -> Self {
        self.wait_in_flight = Some(wait.min(MAX_DURATION));
        self
    }

    /// Shared store only: what a call gets while the store fails (default
    /// [`OnStoreError::Fail`]).
    pub fn on_store_error(mut self, on_store_error: OnStoreError) -> Self {
        self.on_store_error = on_store_error;
        self
    }

    /// Builds the policy and lists it in the [registry](mod@crate::registry).
    pub fn build(self) -> Idempotency {
        let inline = tuned::tuning(self.ttl, self.wait_in_flight);
        let inner = Arc::new(Inner {
            on_store_error: self.on_store_error,
            fallback: Arc::new(memory::MemoryStore::new(self.max_entries)),
            metrics: IdempotencyMetrics::new(&self.name),
            name: self.name,
            tuned: crate::config::Live::new(tuned::Tuned::new(inline.clone())),
            inline,
            lease: self.lease,
            store: self.store,
            local: LocalStore::new(self.max_entries),
            stats: Stats::default(),
        });
        crate::config::attach(&inner);
        let weak: std::sync::Weak<dyn Inspect> = Arc::downgrade(&inner) as _;
        registry::register(weak);
        Idempotency { inner }
    }

    /// Returns the policy registered under this builder's name, building it the first time:
    /// every builder with the same name gets the same policy and so the same store, as
    /// `#[idempotent(name = "...")]` on several fns does (a key answered through one fn is a hit
    /// through the other; a result of another type is [`Error::IdempotencyKeyReused`]). A later
    /// builder whose settings differ still gets the first policy; the disagreement is listed in
    /// [`registry::snapshot`]`().conflicts`.
    pub fn build_shared(self) -> Idempotency {
        let name = self.name.clone();
        registry::named(name.as_str(), self.clone(), |_| self.build())
    }
}

impl Idempotency {
    /// A builder with the defaults of `#[idempotent]`: results kept 24 h in process, at most
    /// [`DEFAULT_MAX_ENTRIES`] of them.
    pub fn builder() -> IdempotencyBuilder {
        IdempotencyBuilder {
            name: PolicyName::from("idempotency"),
            ttl: DEFAULT_TTL,
            max_entries: DEFAULT_MAX_ENTRIES,
            store: None,
            lease: DEFAULT_LEASE,
            wait_in_flight: None,
            on_store_error: OnStoreError::Fail,
        }
    }

    /// The policy's name.
    pub fn name(&self) -> &str {
        self.inner.name.as_str()
    }

    /// The name of the shared store this policy uses, or `None` for the in-process store.
    pub fn store(&self) -> Option<&str> {
        self.inner.store.as_deref()
    }

    /// Runs `fut` for the first call with `key` and hands its stored `Ok(Ok(_))` to later calls
    /// within the ttl, using the in-process store. `fingerprint` (a hash of the other arguments)
    /// turns a reuse of the key with other arguments into [`Error::IdempotencyKeyReused`].
    ///
    /// This is the layer `#[idempotent]` generates. A policy configured with a
    /// [`store`](IdempotencyBuilder::store) must go through [`guard_shared`](Self::guard_shared);
    /// here it rejects the call with [`Error::Store`] rather than silently keep results per
    /// process. The future is `Send` when `fut`, `T` and `E` are.
    pub fn guard<F, T, E>(
        &self,
        key: impl Display,
        fingerprint: Option<u64>,
        fut: F,
    ) -> impl Future<Output = Outcome<T, E>>
    where
        F: Future<Output = Outcome<T, E>>,
        T: Storable,
    {
        self.guard_key(self.key(&key), fingerprint, fut)
    }

    /// The key's text, formatted now (inline when short: a hit then allocates nothing), for
    /// [`guard_key`](Self::guard_key) and [`guard_shared_key`](Self::guard_shared_key). The
    /// attribute formats the key this way before the arguments move into the body.
    pub fn key(&self, key: &impl Display) -> Key {
        Key(self.key_text(key))
    }

    /// As [`guard`](Self::guard), with a key already formatted by [`key`](Self::key). The key is
    /// looked up when the future is first polled.
    pub async fn guard_key<F, T, E>(
        &self,
        key: Key,
        fingerprint: Option<u64>,
        fut: F,
    ) -> Outcome<T, E>
    where
        F: Future<Output = Outcome<T, E>>,
        T: Storable,
    {
        match self.begin(&key, fingerprint) {
            Begin::Answered(outcome) => outcome,
            Begin::Run(pending) => pending.run(fut).await,
        }
    }

    /// The first look at a key, made at once: a stored result (or a rejection) answers here and
    /// the call goes no further; otherwise [`Pending::run`] runs the layers inside, leading the
    /// key or waiting for the call that does. This is what `#[idempotent]` generates (with the
    /// in-process store): a hit builds no future at all. [`guard_key`](Self::guard_key) is the
    /// same as one future.
    #[doc(hidden)]
    #[inline]
    pub fn begin<T, E>(&self, key: &Key, fingerprint: Option<u64>) -> Begin<'_, T, E>
    where
        T: Storable,
    {
        let inner = &*self.inner;
        // The one read of the settings for this call.
        let tuned = inner.tuned.get();
        let ttl = tuned.ttl;
        let call = local::Call { policy: inner, ttl, fingerprint };
        let pending = |state| Begin::Run(Pending { call, state });
        if !tuned.enabled {
            return pending(PendingState::Off);
        }
        let key = match &key.0 {
            Ok(key) => key,
            Err(rejected) => return Begin::Answered(Err(rejected.clone())),
        };
        if let Some(store) = &inner.store {
            return Begin::Answered(Err(inner.not_in_process(store)));
        }
        let place = inner.local.place(key.as_str());
        match inner.local.look(call, place, key, false) {
            Look::Hit(outcome) => Begin::Answered(outcome),
            Look::Lead(lead) => pending(PendingState::Lead(lead)),
            Look::Wait(waiting) => pending(PendingState::Wait(waiting)),
        }
    }

    /// As [`guard`](Self::guard), with the [shared store](SharedStore) configured with
    /// [`store`](IdempotencyBuilder::store): results cross processes as JSON.
    ///
    /// Fails with [`Error::Store`] if the policy names no store, if no store is registered under
    /// its name, or if the store fails (a success whose result could not be stored included).
    pub fn guard_shared<F, T, E>(
        &self,
        key: impl Display,
        fingerprint: Option<u64>,
        fut: F,
    ) -> impl Future<Output = Outcome<T, E>>
    where
        F: Future<Output = Outcome<T, E>>,
        T: SharedStorable,
    {
        self.guard_shared_key(self.key(&key), fingerprint, fut)
    }

    /// As [`guard_shared`](Self::guard_shared), with a key already formatted by
    /// [`key`](Self::key).
    pub fn guard_shared_key<F, T, E>(
        &self,
        key: Key,
        fingerprint: Option<u64>,
        fut: F,
    ) -> impl Future<Output = Outcome<T, E>>
    where
        F: Future<Output = Outcome<T, E>>,
        T: SharedStorable,
    {
        let inner = &*self.inner;
        async move {
            if !inner.tuned.get().enabled {
                return fut.await;
            }
            let key = key.0?;
            let Some(store) = &inner.store else {
                return Err(inner.store_failure(
                    "the policy has no shared store: configure one with `.store(name)` \
                     (`#[idempotent(store = \"name\")]`) or call `guard`"
                        .to_owned(),
                ));
            };
            shared::guard(inner, store, key.as_str(), fingerprint, fut).await
        }
    }

    /// The API without macros: runs `fut` for the first call with `key`, in process; a
    /// rejection reaches the caller as `E`.
    pub fn run<F, T, E>(&self, key: impl Display, fut: F) -> impl Future<Output = Result<T, E>>
    where
        F: Future<Output = Result<T, E>>,
        T: Storable,
        E: From<Error>,
    {
        let guarded = self.guard(key, None, async { Ok(fut.await) });
        async { guarded.await.unwrap_or_else(|rejected| Err(rejected.into())) }
    }

    /// As [`run`](Self::run), with the configured shared store.
    pub fn run_shared<F, T, E>(
        &self,
        key: impl Display,
        fut: F,
    ) -> impl Future<Output = Result<T, E>>
    where
        F: Future<Output = Result<T, E>>,
        T: SharedStorable,
        E: From<Error>,
    {
        let guarded = self.guard_shared(key, None, async { Ok(fut.await) });
        async { guarded.await.unwrap_or_else(|rejected| Err(rejected.into())) }
    }

    /// A key that is text already, written into `out` (a [`Key::blank`]).
    fn key_from_str(&self, text: &str, out: &mut Key) {
        if let Ok(key) = &mut out.0
            && let Err(e) = key.set_str(text)
        {
            out.0 = Err(self.key_error(e));
        }
    }

    fn key_text(&self, key: &impl Display) -> Result<KeyText, Error> {
        KeyText::format(key).map_err(|e| self.key_error(e))
    }

    #[cold]
    fn key_error(&self, e: KeyError) -> Error {
        self.inner.store_failure(match e {
            KeyError::TooLong => format!("idempotency key longer than {MAX_KEY_LEN} bytes"),
            KeyError::Display => "the idempotency key's `Display` returned an error".to_owned(),
        })
    }
}

impl Inner {
    /// A policy with a shared store, called through the in-process path.
    #[cold]
    fn not_in_process(&self, store: &str) -> Error {
        self.store_failure(format!(
            "the policy keeps results in store `{store}`, which needs serde results: \
             call `guard_shared`, not `guard`"
        ))
    }

    fn store_failure(&self, message: String) -> Error {
        Stats::add(&self.stats.store_errors);
        self.observe_failure();
        Error::Store(StoreFailure::new(self.name.clone(), message))
    }
}

impl fmt::Debug for Idempotency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Idempotency")
            .field("name", &i.name)
            .field("ttl", &i.tuned.get().ttl)
            .field("store", &i.store.as_deref().unwrap_or(IN_PROCESS))
            .finish_non_exhaustive()
    }
}

/// Metrics and events (`crate::observe`), one line at each place a call's fate is known.
impl Inner {
    #[inline]
    fn observe_hit(&self, joined: bool) {
        self.metrics.hit(joined);
        events::idempotency_hit(&self.name, joined);
    }

    #[inline]
    fn observe_miss(&self) {
        self.metrics.miss();
        events::idempotency_miss(&self.name);
    }

    #[cold]
    fn observe_rejected(&self, why: &'static str) {
        self.metrics.rejected();
        events::idempotency_rejected(&self.name, why);
    }

    #[cold]
    fn observe_failure(&self) {
        self.metrics.failure();
    }

    #[cold]
    fn observe_evicted(&self, evicted: u64) {
        self.metrics.evicted(evicted);
        events::idempotency_evicted(&self.name, evicted);
    }
}

/// An idempotency policy's state as the registry reports it.
#[derive(Clone, Debug, Serialize)]
pub struct IdempotencySnapshot {
    /// How long results are kept.
    pub ttl: Duration,
    /// `"in-process"` or the name of the shared store.
    pub store: String,
    /// The in-process store's bound (`None` with a shared store).
    pub max_entries: Option<u64>,
    /// Keys held in process: results (expired ones not yet dropped included) and running calls
    /// (`None` with a shared store).
    pub entries: Option<u64>,
    /// Calls answered from the store without running the body.
    pub hits: u64,
    /// Calls not answered from the store: they went on to the layers inside (which may still
    /// have turned them away, e.g. an open circuit breaker) and the body.
    pub misses: u64,
    /// Calls that waited for a concurrent call with the same key and took its result (in
    /// process; counted in `hits` too).
    pub joins: u64,
    /// Calls rejected because the key was used with other arguments.
    pub conflicts: u64,
    /// Calls rejected because a call with the same key was running elsewhere.
    pub in_flight: u64,
    /// Store failures (unreachable, unregistered, key too long, ...), those a call fell back
    /// from included.
    pub store_errors: u64,
    /// Calls that went on with the in-process store because the shared store failed
    /// (`on_store_error = "local"`).
    pub fallbacks: u64,
}

impl Inspect for Inner {
    fn snapshot(&self) -> PolicySnapshot {
        let s = &self.stats;
        let local = self.store.is_none();
        let tuned = self.tuned.get();
        PolicySnapshot {
            name: self.name.to_string(),
            settings: tuned.tuning.view(),
            state: PolicyState::Idempotency(IdempotencySnapshot {
                ttl: tuned.ttl,
                store: self.store.clone().unwrap_or_else(|| IN_PROCESS.to_owned()),
                max_entries: local.then(|| self.local.max_entries()),
                entries: local.then(|| self.local.entry_count()),
                // The in-process store counts its hits per shard, the shared one here.
                hits: s.hits.load(Relaxed) + self.local.hits(),
                misses: s.misses.load(Relaxed),
                joins: s.joins.load(Relaxed),
                conflicts: s.conflicts.load(Relaxed),
                in_flight: s.in_flight.load(Relaxed),
                store_errors: s.store_errors.load(Relaxed),
                fallbacks: s.fallbacks.load(Relaxed),
            }),
        }
    }
}

/// An idempotency key's text, formatted by [`Idempotency::key`] (or why it has none: longer
/// than [`MAX_KEY_LEN`], or its `Display` failed).
pub struct Key(Result<KeyText, Error>);

impl Key {
    /// The empty text, for the attribute to write a key's text into where it stays.
    #[doc(hidden)]
    #[inline]
    pub fn blank() -> Key {
        Key(Ok(KeyText::blank()))
    }

    /// Writes `text`, short enough to be kept inline (48 bytes), into a blank key.
    #[inline]
    fn set_short(&mut self, text: &str) {
        if let Ok(key) = &mut self.0 {
            key.set_short(text);
        }
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Ok(text) => f.debug_tuple("Key").field(&text.as_str()).finish(),
            Err(e) => f.debug_tuple("Key").field(e).finish(),
        }
    }
}

/// What [`Idempotency::begin`] found.
#[doc(hidden)]
pub enum Begin<'a, T, E> {
    /// The call's outcome, without running anything: a stored result, or a rejection.
    Answered(Outcome<T, E>),
    /// The call goes on: [`Pending::run`] with the layers inside.
    Run(Pending<'a>),
}

/// A call [`Idempotency::begin`] did not answer: it leads its key, waits for the call that
/// does, or finds the policy disabled. Dropped without running, it frees the key it leads.
#[doc(hidden)]
pub struct Pending<'a> {
    call: local::Call<'a>,
    state: PendingState<'a>,
}

enum PendingState<'a> {
    /// `enabled = false`: the body runs as if the attribute were absent.
    Off,
    Lead(local::Lead<'a>),
    Wait(local::Waiting),
}

impl Pending<'_> {
    /// Runs `fut` (the layers inside) as the call's lead, or after waiting for the running call
    /// with its key, if that one leaves no result to answer with.
    pub async fn run<F, T, E>(self, fut: F) -> Outcome<T, E>
    where
        F: Future<Output = Outcome<T, E>>,
        T: Storable,
    {
        let Pending { call, state } = self;
        match state {
            PendingState::Off => fut.await,
            PendingState::Lead(lead) => lead.run(call, fut).await,
            PendingState::Wait(waiting) => waiting.run(call, fut).await,
        }
    }
}

/// A result the in-process store can keep and hand to later calls: `Clone + Send + Sync + 'static`.
#[diagnostic::on_unimplemented(
    message = "`#[idempotent]` keeps `{Self}` to answer repeated calls, so it must be `Clone + Send + Sync + 'static`",
    label = "the `Ok` type of this function is stored and cloned for every repeated call",
    note = "derive `Clone` for `{Self}`, or return an `Arc` of it"
)]
pub trait Storable: Clone + Send + Sync + 'static {}

impl<T: Clone + Send + Sync + 'static> Storable for T {}

/// A result a shared store (`store = "..."`) can keep: serialized with serde.
#[diagnostic::on_unimplemented(
    message = "`#[idempotent(store = ...)]` stores `{Self}` in a shared store, so it must be `Serialize + DeserializeOwned + Send + 'static`",
    label = "the `Ok` type of this function is serialized into the store",
    note = "derive `serde::Serialize` and `serde::Deserialize` for `{Self}`"
)]
pub trait SharedStorable: Serialize + DeserializeOwned + Send + 'static {}

impl<T: Serialize + DeserializeOwned + Send + 'static> SharedStorable for T {}
