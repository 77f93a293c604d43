//! Rate limiting: at most N calls per second, minute or hour, with a burst, in process or for a
//! whole fleet.
//!
//! The in-process limiter is GCRA (the generic cell rate algorithm, as governor and redis-cell
//! use it) over one atomic word: admitting a call is a clock read, one load and one
//! compare-and-swap, with no lock and no allocation; a rejected call writes nothing. The clock is
//! [`clock::Clock`](crate::clock::Clock): cheap, and exact under a paused tokio test clock.
//!
//! Over the limit, a call waits for its slot if one frees within `wait` (and before the task's
//! [deadline](crate::deadline)), else it gets [`Error::RateLimited`] with the time until a slot
//! frees. A call that waits holds its slot: cancelling it while it waits does not give the slot
//! back (the limit errs on the side of fewer calls).
//!
//! With a shared store ([`RateLimiterBuilder::store`], `#[rate_limit(store = "...")]`) the same
//! GCRA runs as one Lua script on Redis, on Redis's clock, so all instances together stay
//! within the limit; see [`register_store`].
//!
//! ```
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! use std::time::Duration;
//! use resilient_runtime::rate_limit::RateLimiter;
//!
//! let limiter = RateLimiter::builder(2, Duration::from_secs(1)).name("docs::api").build();
//! assert!(limiter.check().is_ok());
//! assert!(limiter.check().is_ok());
//! let rejected = limiter.check().unwrap_err();
//! assert!(rejected.is_rate_limited());
//! assert_eq!(rejected.retry_after(), Some(Duration::from_millis(500)));
//!
//! tokio::time::advance(Duration::from_millis(500)).await;
//! assert!(limiter.check().is_ok());
//! # }
//! ```

mod gcra;
mod partition;
mod settings;
mod snapshot;
mod store;

#[cfg(feature = "redis")]
mod redis;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

pub use settings::{RateLimitSettings, RateLimiterBuilder};
pub use snapshot::RateLimitSnapshot;
pub use store::{RateStore, StoreVerdict, register_store, store_key};

#[cfg(feature = "redis")]
pub use self::redis::RedisRateStore;

use crate::clock::Clock;
use crate::error::{PolicyName, RateLimited};
use crate::idempotency::OnStoreError;
use crate::observe::events;
use crate::{Error, Outcome};
use gcra::{Gcra, Verdict};

/// A rate limiter. Cheap to clone; clones share the limit.
#[derive(Clone)]
pub struct RateLimiter {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    gcra: Gcra,
    limited: AtomicU64,
    clock: Clock,
    tuned: crate::config::Live<settings::Tuned>,
    inline: crate::config::Tuning,
    remote: Option<store::Remote>,
    on_store_error: OnStoreError,
    metrics: crate::observe::RateLimitMetrics,
    name: PolicyName,
}

/// A call the limiter could not admit at once; [`wait`](Self::wait) for its slot or its
/// rejection.
#[must_use = "a pending call is admitted or rejected only when `wait` is awaited"]
pub struct Pending<'a> {
    limiter: &'a RateLimiter,
}

impl RateLimiter {
    /// A builder for `count` calls per `per` (`RateLimiter::builder(100, Duration::from_secs(1))`
    /// is `"100/s"`), with a burst of `count` and no waiting.
    pub fn builder(count: u64, per: Duration) -> RateLimiterBuilder {
        RateLimiterBuilder::new(count, per)
    }

    /// The limiter's name.
    pub fn name(&self) -> &str {
        self.inner.name.as_str()
    }

    /// The settings in force: as built, with any [configuration](crate::config) applied.
    pub fn settings(&self) -> RateLimitSettings {
        self.inner.tuned.get().settings
    }

    /// Admits the call at once, or hands back a [`Pending`] to wait on (over the limit, or a
    /// shared store to ask). In process and within the limit: a clock read, one atomic load of
    /// the settings, one load and one compare-and-swap; no lock, no allocation.
    #[inline]
    pub fn try_acquire(&self) -> Result<(), Pending<'_>> {
        let inner = &*self.inner;
        let tuned = inner.tuned.get();
        if inner.remote.is_none() && tuned.enabled {
            let now = inner.clock.now_nanos();
            if inner.gcra.try_admit(now, tuned.interval, tuned.tolerance).is_ok() {
                return Ok(());
            }
        } else if !tuned.enabled {
            return Ok(());
        }
        Err(Pending { limiter: self })
    }

    /// Admits the call, waiting for its slot when one frees within `wait` (and the task's
    /// deadline); otherwise [`Error::RateLimited`].
    pub async fn acquire(&self) -> Result<(), Error> {
        match self.try_acquire() {
            Ok(()) => Ok(()),
            Err(pending) => pending.wait().await,
        }
    }

    /// Admits the call now or rejects it, never waiting (whatever `wait` says). In process
    /// only: a limiter with a shared store answers from its in-process state (use
    /// [`acquire`](Self::acquire) to ask the store).
    pub fn check(&self) -> Result<(), Error> {
        match self.try_acquire() {
            Ok(()) => Ok(()),
            Err(_) => self.inner.local(Duration::ZERO).map(|_| ()),
        }
    }

    /// [`acquire`](Self::acquire) for sync code: waits with `std::thread::sleep`. In process
    /// only (a shared store is asynchronous): a limiter with a store counts here in process, as
    /// with `on_store_error = "local"`. Do not call it on an async runtime's thread.
    pub fn acquire_blocking(&self) -> Result<(), Error> {
        match self.try_acquire() {
            Ok(()) => Ok(()),
            Err(_) => {
                let wait = self.inner.tuned.get().settings.wait;
                if let Some(delay) = self.inner.local(wait)? {
                    std::thread::sleep(delay);
                    self.inner.metrics.waited(delay);
                }
                Ok(())
            }
        }
    }

    /// Runs `fut` once the limiter admits the call; a rejection reaches the caller as
    /// `E::from(Error::RateLimited(..))` and `fut` is never polled.
    pub async fn call<F, T, E>(&self, fut: F) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>>,
        E: From<Error>,
    {
        match self.acquire().await {
            Ok(()) => fut.await,
            Err(rejected) => Err(E::from(rejected)),
        }
    }

    /// The limiter as a layer of a fused pipeline: `fut` runs once admitted; a rejection is
    /// `Err(Error::RateLimited)`.
    pub async fn guard<F, T, E>(&self, fut: F) -> Outcome<T, E>
    where
        F: Future<Output = Outcome<T, E>>,
    {
        if let Err(pending) = self.try_acquire() {
            pending.wait().await?;
        }
        fut.await
    }
}

impl Pending<'_> {
    /// Waits for the call's slot (in process: a sleep; with a shared store: its answer, then
    /// the sleep it says), or returns the rejection.
    pub async fn wait(self) -> Result<(), Error> {
        self.wait_keyed(None).await
    }

    /// [`wait`](Self::wait) for one key of a shared limit per key (`per` with `store`): the
    /// store counts the calls of `key` apart (`resilient:rl:{<name>:<key>}`), and this limiter
    /// (the key's partition) limits them in process when the store fails.
    pub async fn wait_keyed(self, key: Option<&str>) -> Result<(), Error> {
        let inner = &*self.limiter.inner;
        if !inner.tuned.get().enabled {
            return Ok(());
        }
        let wait = inner.tuned.get().settings.wait;
        let wait = match crate::deadline::remaining() {
            Some(left) => wait.min(left),
            None => wait,
        };
        let delay = match &inner.remote {
            Some(remote) => remote.acquire(inner, wait, key).await?,
            None => inner.local(wait)?,
        };
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
            inner.metrics.waited(delay);
        }
        Ok(())
    }
}

impl Inner {
    /// The in-process slow path: admitted now (`None`), after a sleep, or rejected.
    #[cold]
    fn local(&self, wait: Duration) -> Result<Option<Duration>, Error> {
        let tuned = self.tuned.get();
        if !tuned.enabled {
            return Ok(None);
        }
        let now = self.clock.now_checked();
        let wait = wait.as_nanos().min(u128::from(u64::MAX)) as u64;
        match self.gcra.admit_or_reserve(now, tuned.interval, tuned.tolerance, wait) {
            Verdict::Now => Ok(None),
            Verdict::After(nanos) => {
                let delay = Duration::from_nanos(nanos);
                events::rate_limit_waiting(&self.name, delay);
                Ok(Some(delay))
            }
            Verdict::Rejected(nanos) => Err(self.rejected(Duration::from_nanos(nanos))),
        }
    }

    #[cold]
    fn rejected(&self, retry_after: Duration) -> Error {
        self.limited.fetch_add(1, Relaxed);
        self.metrics.rejected();
        events::rate_limit_rejected(&self.name, retry_after);
        Error::RateLimited(RateLimited::new(self.name.clone(), retry_after))
    }
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("name", &self.inner.name)
            .field("settings", &self.settings())
            .field("store", &self.inner.remote.as_ref().map(|r| r.store_name()))
            .finish()
    }
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter").field("name", &self.name).finish_non_exhaustive()
    }
}
