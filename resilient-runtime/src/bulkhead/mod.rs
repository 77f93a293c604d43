//! Bulkheads: at most so many calls at once, so one slow dependency cannot take every task,
//! thread or connection of the caller.
//!
//! A [`Bulkhead`] lets `max` calls run at once. When every place is taken, up to `queue` more
//! calls wait, first come first served, for at most `wait` (a timeout above the bulkhead bounds
//! the wait too); the rest are rejected at once with [`Error::BulkheadFull`]. A
//! call that ends, fails, panics or is cancelled (running or waiting) gives its place back; a
//! place given back while calls wait goes to the first of them, never to a newcomer.
//!
//! With an adaptive limit (`max = "adaptive"`), a gradient controller moves the limit between
//! `min` and `limit` by the latency the dependency shows: it grows while latency stays flat and
//! shrinks when calls start queueing in the dependency, settling near the concurrency the
//! dependency can serve (see [`gradient`](self#the-adaptive-limit) below and
//! `docs/adaptive-bulkhead.md`).
//!
//! Taking a place is one compare-and-swap on one atomic word when nobody waits, giving it back
//! one atomic subtraction (no lock, no allocation, no clock read for a fixed limit); queueing,
//! leaving the queue and handing places over happen in one short critical section.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! use resilient_runtime::{Error, bulkhead::Bulkhead};
//!
//! let bulkhead = Bulkhead::builder().name("docs::db").max(1).build();
//! let first = bulkhead.acquire().await.unwrap();
//! let second = bulkhead.acquire().await.unwrap_err();
//! assert!(second.is_bulkhead_full());
//! assert_eq!(second.to_string(), "bulkhead `docs::db` is full (1 call at once)");
//! drop(first);
//! let out: Result<u32, Error> = bulkhead.call(async { Ok(7) }).await;
//! assert_eq!(out, Ok(7));
//! # }
//! ```
//!
//! # The adaptive limit
//!
//! Every few round trips the controller compares the mean latency of the calls that ended with
//! the latency of the dependency unloaded (`min_rtt`), and moves the limit by the gradient
//! `min_rtt × 1.05 / latency`: a dependency past its capacity C queues calls, its latency grows
//! as `min_rtt × limit / C`, and the limit settles at about `1.05 × C + 1`. It starts at
//! `initial` and doubles each interval until latency first rises (slow start); it does not
//! grow while the caller uses less than half of it; every 60 s it drops to a quarter for two
//! intervals to measure `min_rtt` afresh (as Envoy's adaptive concurrency filter does).

mod acquire;
mod adaptive;
mod blocking;
mod core;
mod gradient;
mod partition;
mod permit;
mod settings;
mod snapshot;
mod sync;
#[cfg(test)]
mod tests;
mod tuned;

#[cfg(all(test, resilient_loom))]
mod loom;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use tokio::time::Instant;

pub use acquire::Acquire;
pub use permit::Permit;
pub use settings::{BulkheadBuilder, BulkheadSettings, Limit};
pub use snapshot::{AdaptiveSnapshot, BulkheadSnapshot};

use crate::error::{BulkheadFull, PolicyName};
use crate::observe::{BulkheadMetrics, events};
use crate::registry::{self, Inspect};
use crate::{Error, Outcome};
use adaptive::Adaptive;

/// A bulkhead. Cheap to clone; clones share the count of calls.
#[derive(Clone)]
pub struct Bulkhead {
    inner: Arc<Inner>,
}

/// The shared state behind a [`Bulkhead`] and its clones.
pub(crate) struct Inner {
    name: PolicyName,
    core: core::Core,
    /// The compiled settings, as configuration keys.
    inline: crate::config::Tuning,
    tuned: crate::config::Live<tuned::Tuned>,
    rejected: AtomicU64,
    pub(crate) metrics: BulkheadMetrics,
    /// What an adaptive permit's start is counted from (see [`Permit`]).
    epoch: Instant,
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bulkhead").field("name", &self.name).finish_non_exhaustive()
    }
}

impl Bulkhead {
    /// A builder with the defaults of `#[bulkhead]`: see [`BulkheadSettings::default`].
    pub fn builder() -> BulkheadBuilder {
        BulkheadBuilder::new()
    }

    fn from_builder(b: BulkheadBuilder) -> Self {
        let inline = tuned::tuning(&b.settings);
        let tuned = tuned::Tuned::new(inline.clone(), None);
        let limit = tuned.limit();
        let inner = Arc::new(Inner {
            metrics: BulkheadMetrics::new(&b.name, limit),
            name: b.name,
            core: core::Core::new(limit),
            tuned: crate::config::Live::new(tuned),
            inline,
            epoch: Instant::now(),
            rejected: AtomicU64::new(0),
        });
        crate::config::attach(&inner);
        let weak: std::sync::Weak<dyn Inspect> = Arc::downgrade(&inner) as _;
        registry::register(weak);
        Bulkhead { inner }
    }

    /// The bulkhead's name.
    pub fn name(&self) -> &str {
        self.inner.name.as_str()
    }

    /// The settings in force: as built, with any [configuration](crate::config) applied.
    pub fn settings(&self) -> BulkheadSettings {
        self.inner.tuned.get().settings
    }

    /// The most calls let run at once now (the adaptive value, when adaptive).
    pub fn limit(&self) -> u32 {
        self.inner.core.limit()
    }

    /// Calls running now.
    pub fn in_flight(&self) -> u32 {
        self.inner.core.counts().0
    }

    /// Calls waiting for a place now.
    pub fn queued(&self) -> u32 {
        self.inner.core.counts().1
    }

    /// The bulkhead's state, as the registry shows it.
    pub fn snapshot(&self) -> BulkheadSnapshot {
        self.inner.bulkhead_snapshot()
    }

    /// A place if one is free now, without waiting; [`Error::BulkheadFull`] otherwise.
    #[inline]
    pub fn try_acquire(&self) -> Result<Permit<'_>, Error> {
        self.inner.try_enter().ok_or_else(|| self.inner.rejected(Duration::ZERO))
    }

    /// A place: at once if one is free, else after waiting in the queue (see [`Acquire`]).
    #[inline]
    pub fn acquire(&self) -> Acquire<'_> {
        Acquire::new(&self.inner)
    }

    /// A place if one is free now and nobody waits for one, else `None` (then
    /// [`acquire`](Self::acquire) queues for one): the same as `acquire` with no future to build,
    /// poll and drop when a place is free. What `#[bulkhead]` generates.
    /// ```
    /// # use resilient_runtime::bulkhead::Bulkhead;
    /// # async fn demo(bulkhead: &Bulkhead) -> Result<(), resilient_runtime::Error> {
    /// let permit = match bulkhead.enter() {
    ///     Some(permit) => permit,
    ///     None => bulkhead.acquire().await?,
    /// };
    /// // ... the call ...
    /// permit.done();
    /// # Ok(()) }
    /// ```
    #[inline(always)]
    pub fn enter(&self) -> Option<Permit<'_>> {
        self.inner.try_enter()
    }

    /// A place for a blocking (sync) caller: at once if one is free, else the thread waits in
    /// the queue, parked, for at most `wait` on std's clock, FIFO with async waiters.
    pub fn acquire_blocking(&self) -> Result<Permit<'_>, Error> {
        blocking::acquire(&self.inner)
    }

    /// Runs `fut` in the bulkhead; a rejection reaches the caller as
    /// `E::from(Error::BulkheadFull(..))`, and `fut` is then never polled.
    pub async fn call<F, T, E>(&self, fut: F) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>>,
        E: From<Error>,
    {
        let permit = self.acquire().await.map_err(E::from)?;
        let out = fut.await;
        self.inner.metrics.finished(out.is_ok());
        permit.done();
        out
    }

    /// The bulkhead as a layer of a fused pipeline (what `#[bulkhead]` generates, written
    /// inline there): waits for a place, then runs `fut`; a rejection is the outcome
    /// `Err(Error::BulkheadFull(..))`.
    pub async fn guard<F, T, E>(&self, fut: F) -> Outcome<T, E>
    where
        F: Future<Output = Outcome<T, E>>,
    {
        let permit = match self.enter() {
            Some(permit) => permit,
            None => self.acquire().await?,
        };
        let out = fut.await;
        permit.settle(&out);
        out
    }
}

impl fmt::Debug for Bulkhead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (in_flight, queued) = self.inner.core.counts();
        f.debug_struct("Bulkhead")
            .field("name", &self.inner.name)
            .field("limit", &self.limit())
            .field("in_flight", &in_flight)
            .field("queued", &queued)
            .finish_non_exhaustive()
    }
}

impl Inner {
    /// A place if one is free and nobody waits.
    #[inline(always)]
    fn try_enter(&self) -> Option<Permit<'_>> {
        let tuned = self.tuned.get();
        let running = self.core.try_acquire().ok()?;
        Some(self.permit(tuned.active(), running))
    }

    #[inline(always)]
    fn permit<'a>(&'a self, adaptive: Option<&'a Adaptive>, running: u32) -> Permit<'a> {
        self.metrics.in_flight(running);
        let started = match adaptive {
            None => 0,
            Some(a) => {
                a.entered(running);
                // Never 0, which stands for "not adaptive".
                (Instant::now().saturating_duration_since(self.epoch).as_nanos() as u64).max(1)
            }
        };
        Permit { inner: self, started }
    }

    /// A waiter was handed a place.
    #[cold]
    fn granted(&self) -> Permit<'_> {
        let (running, waiting) = self.core.counts();
        self.metrics.queued(waiting);
        self.permit(self.tuned.get().active(), running)
    }

    #[inline(always)]
    fn release(&self) {
        self.core.release();
        self.metrics.released(|| self.core.counts().0);
    }

    /// An adaptive call that got its place `started` ns after the epoch ended: the limit may
    /// move. Configuration may have made the limit fixed (or the bulkhead off) meanwhile.
    fn ended(&self, started: u64) {
        let Some(adaptive) = self.tuned.get().active() else { return };
        let started = self.epoch + Duration::from_nanos(started);
        let Some((from, to)) = adaptive.ended(started) else { return };
        if self.tuned.get().active().is_some() {
            self.core.set_limit(to);
            self.metrics.limit(to);
            events::bulkhead_limit_moved(&self.name, from, to);
        }
    }

    #[cold]
    fn rejected(&self, waited: Duration) -> Error {
        self.rejected.fetch_add(1, Relaxed);
        let limit = self.core.limit();
        self.metrics.rejected();
        events::bulkhead_rejected(&self.name, limit, waited);
        Error::BulkheadFull(BulkheadFull::new(self.name.clone(), limit, waited))
    }
}
