//! [`SharedStore`]: the interface of stores shared between processes, and the start-up
//! registration that lets policies find them by name.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::Duration;

/// The future a [`SharedStore`] method returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// An idempotency store shared by every instance of a service (for example `RedisStore`, with
/// the `redis` feature).
///
/// A key holds either an in-flight marker (a call is running) or a finished record. Policies
/// choose the key (already namespaced per policy), the marker (unique per call) and the record
/// bytes (JSON); a store only keeps them, with the atomicity each method states. The trait is
/// object-safe so stores of any kind can be [registered](register_store) behind one name.
pub trait SharedStore: Send + Sync + 'static {
    /// Atomically: if `key` holds nothing, stores `marker` there for at most `lease` and returns
    /// [`Claim::Claimed`]; otherwise returns what it holds, unchanged.
    fn claim<'a>(
        &'a self,
        key: &'a str,
        marker: &'a str,
        lease: Duration,
    ) -> StoreFuture<'a, Claim>;

    /// Replaces `marker` with `record`, kept for `ttl`, if `key` still holds that marker or
    /// nothing (the lease ran out but nobody else took over). Returns whether it stored.
    fn complete<'a>(
        &'a self,
        key: &'a str,
        marker: &'a str,
        record: &'a [u8],
        ttl: Duration,
    ) -> StoreFuture<'a, bool>;

    /// Atomically: if `key` still holds `marker`, makes it expire `lease` from now and returns
    /// `true`; otherwise (the lease ran out, another call took the key) returns `false`.
    ///
    /// Called every third of the lease while a body runs. The default cannot renew and says so
    /// with an error: a body that outlives the lease then fails (it never loses exclusivity
    /// silently).
    fn renew<'a>(
        &'a self,
        key: &'a str,
        marker: &'a str,
        lease: Duration,
    ) -> StoreFuture<'a, bool> {
        let _ = (key, marker, lease);
        Box::pin(async { Err(StoreError::new("this store cannot renew leases")) })
    }

    /// Deletes `key` if it still holds `marker`, so that the next call runs the body.
    fn release<'a>(&'a self, key: &'a str, marker: &'a str) -> StoreFuture<'a, ()>;
}

/// What [`SharedStore::claim`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The key was free; it now holds the caller's marker.
    Claimed,
    /// Another call holds the key: its marker.
    Running(String),
    /// A call with this key finished: its record.
    Done(Vec<u8>),
}

/// A store operation that failed, as the store describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreError {
    message: String,
}

impl StoreError {
    /// A failure described by `message` (say what was attempted and against what).
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into() }
    }

    /// The description.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StoreError {}

type Stores = RwLock<HashMap<String, Arc<dyn SharedStore>>>;

fn stores() -> &'static Stores {
    static STORES: OnceLock<Stores> = OnceLock::new();
    STORES.get_or_init(Default::default)
}

/// Makes `store` available to policies built with
/// [`.store(name)`](super::IdempotencyBuilder::store) (and to `#[idempotent(store = "name")]`).
/// Call it at start-up, before the first call through such a policy. Registering a name again
/// replaces the store for calls that start afterwards.
///
/// ```no_run
/// # #[cfg(feature = "redis")]
/// # async fn start() -> Result<(), Box<dyn std::error::Error>> {
/// use resilient_runtime::idempotency::{RedisStore, register_store};
///
/// register_store("redis", RedisStore::connect("redis://127.0.0.1:6379/").await?);
/// # Ok(()) }
/// ```
pub fn register_store(name: &str, store: impl SharedStore) {
    let store: Arc<dyn SharedStore> = Arc::new(store);
    stores().write().unwrap_or_else(PoisonError::into_inner).insert(name.to_owned(), store);
}

/// The store registered under `name`.
pub(super) fn lookup(name: &str) -> Option<Arc<dyn SharedStore>> {
    stores().read().unwrap_or_else(PoisonError::into_inner).get(name).cloned()
}
