//! Shared stores: one limit for every instance of a service.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use super::Inner;
use crate::Error;
use crate::error::{PolicyName, StoreFailure};
use crate::idempotency::{OnStoreError, StoreError, StoreFuture};
use crate::observe::events;

/// What a shared store answers for one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreVerdict {
    /// Admitted: go after this delay (zero: at once). The slot is taken.
    Admitted(Duration),
    /// Over the limit for longer than the call may wait: a slot frees after this.
    Rejected(Duration),
}

/// A store that keeps GCRA state for every instance: the Redis store
/// ([`RedisRateStore`](super::RedisRateStore), feature `redis`) or your own.
pub trait RateStore: Send + Sync + 'static {
    /// Admits one call on `key` (atomically, on the store's clock), reserves a slot within
    /// `wait`, or rejects it. `interval` is the time one call uses up, `tolerance` is
    /// `burst · interval`: a call is admitted when `max(tat, now) + interval - now` is at most
    /// `tolerance` (plus `wait` to reserve), and then `tat` becomes `max(tat, now) + interval`.
    fn acquire<'a>(
        &'a self,
        key: &'a str,
        interval: Duration,
        tolerance: Duration,
        wait: Duration,
    ) -> StoreFuture<'a, StoreVerdict>;
}

type Stores = RwLock<HashMap<String, Arc<dyn RateStore>>>;

fn stores() -> &'static Stores {
    static STORES: OnceLock<Stores> = OnceLock::new();
    STORES.get_or_init(Default::default)
}

/// Registers a shared store under `name`, for `#[rate_limit(store = "name")]` and
/// [`RateLimiterBuilder::store`](super::RateLimiterBuilder::store). Register it at start-up,
/// before the first call; registering a name again replaces the store for calls made after.
pub fn register_store(name: &str, store: impl RateStore) {
    let store: Arc<dyn RateStore> = Arc::new(store);
    stores().write().unwrap_or_else(PoisonError::into_inner).insert(name.to_owned(), store);
}

fn lookup(name: &str) -> Option<Arc<dyn RateStore>> {
    stores().read().unwrap_or_else(PoisonError::into_inner).get(name).cloned()
}

/// A limiter's link to its shared store.
pub(crate) struct Remote {
    store: String,
    /// `resilient:rl:{<policy name>}`: one key, so one cluster slot.
    key: String,
    /// Set while the store fails and calls fall back to the in-process limiter, so the change
    /// is reported once each way.
    degraded: AtomicBool,
}

impl Remote {
    pub(crate) fn new(store: String, name: &PolicyName) -> Self {
        Self { store, key: format!("resilient:rl:{{{name}}}"), degraded: AtomicBool::new(false) }
    }

    pub(crate) fn store_name(&self) -> &str {
        &self.store
    }

    /// Asks the store; on its failure, fails or falls back to the in-process limiter as
    /// `on_store_error` says. `None`: admitted now; `Some(d)`: admitted after `d`.
    pub(crate) async fn acquire(
        &self,
        inner: &Inner,
        wait: Duration,
        partition: Option<&str>,
    ) -> Result<Option<Duration>, Error> {
        let tuned = inner.tuned.get();
        let keyed;
        let key = match partition {
            Some(p) => {
                keyed = format!("resilient:rl:{{{}:{p}}}", inner.name);
                &keyed
            }
            None => &self.key,
        };
        let asked = match lookup(&self.store) {
            Some(store) => {
                let interval = Duration::from_nanos(tuned.interval);
                let tolerance = Duration::from_nanos(tuned.tolerance);
                let asked = store.acquire(key, interval, tolerance, wait);
                // A store slower than the call's deadline is a failing store: the call gets what
                // `on_store_error` says while it still has time, rather than the timeout's error.
                match crate::deadline::remaining() {
                    Some(left) => match tokio::time::timeout(left, asked).await {
                        Ok(asked) => asked,
                        Err(_) => Err(StoreError::new(format!(
                            "rate limit store `{}` did not answer within the call's deadline ({left:?})",
                            self.store
                        ))),
                    },
                    None => asked.await,
                }
            }
            None => Err(StoreError::new(format!(
                "no rate limit store is registered under `{}`: call `resilient::runtime::rate_limit::register_store` at start-up",
                self.store
            ))),
        };
        match asked {
            Ok(verdict) => {
                if self.degraded.swap(false, Relaxed) {
                    events::rate_limit_store_recovered(&inner.name, &self.store);
                }
                match verdict {
                    StoreVerdict::Admitted(d) => {
                        inner.gcra.count();
                        Ok((!d.is_zero()).then_some(d))
                    }
                    StoreVerdict::Rejected(retry_after) => Err(inner.rejected(retry_after)),
                }
            }
            Err(e) => match inner.on_store_error {
                OnStoreError::Fail => {
                    inner.metrics.store_failed();
                    events::rate_limit_store_failed(&inner.name, &self.store, e.message(), false);
                    Err(Error::Store(StoreFailure::new(
                        inner.name.clone(),
                        format!("rate limit store `{}`: {}", self.store, e.message()),
                    )))
                }
                OnStoreError::Local => {
                    if !self.degraded.swap(true, Relaxed) {
                        events::rate_limit_store_failed(
                            &inner.name,
                            &self.store,
                            e.message(),
                            true,
                        );
                    }
                    inner.local(wait)
                }
            },
        }
    }
}

/// The text a per-key shared limit (`per` with `store`) keys the store by: the key's `Debug`
/// text, cut to 512 bytes (at a character boundary). Called by the generated code of
/// `#[rate_limit(per = .., store = ..)]`.
pub fn store_key<K: std::fmt::Debug + ?Sized>(key: &K) -> String {
    let mut text = format!("{key:?}");
    if text.len() > 512 {
        let mut end = 512;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}
