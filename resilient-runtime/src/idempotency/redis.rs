//! [`RedisStore`]: the [`SharedStore`] for services running more than one instance.
//!
//! Layout: one Redis string per key, named `resilient:idem:{<policy name>:<key>}` (the braces
//! are a cluster hash tag: everything one call touches lives in one slot). While the first call
//! runs it holds `m<marker>` with a `PX <lease>` expiry, renewed while the body runs; once it
//! succeeds, `r<json record>` with `PX <ttl>`. Every step that must not race is one Lua script,
//! so it is atomic on the server.

mod connect;

pub(crate) use connect::redact;

use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::{Script, Value};

pub use connect::{
    DEFAULT_CONNECTION_TIMEOUT, DEFAULT_RESPONSE_TIMEOUT, DEFAULT_RETRIES, RedisConfig,
    RedisConnection,
};

use super::store::{Claim, SharedStore, StoreError, StoreFuture};

/// `SET NX PX` the marker, or return what the key holds. `{2}` when the key expired between the
/// two commands (not expected: keys do not expire during a script, but cheap to handle).
const CLAIM: &str = r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1}
end
local held = redis.call('GET', KEYS[1])
if held then
  return {0, held}
end
return {2}
";

/// Replace our marker (or an empty key: our lease ran out, nobody took over) with the record.
const COMPLETE: &str = r"
local held = redis.call('GET', KEYS[1])
if held == ARGV[1] or not held then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
";

/// Extend the key's expiry to `ARGV[2]` ms only if it still holds our marker.
const RENEW: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
";

/// Delete the key only if it still holds our marker.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// An idempotency store in Redis, shared by every instance of a service.
///
/// Cheap to clone; clones share one [`RedisConnection`] (one multiplexed connection per server,
/// reconnecting by itself), however many calls run at once. Register it under a name at
/// start-up with [`register_store`](super::register_store).
#[derive(Clone)]
pub struct RedisStore {
    connection: RedisConnection,
    scripts: Arc<Scripts>,
    /// `Redis at {url}`, for error messages.
    target: Arc<str>,
}

struct Scripts {
    claim: Script,
    complete: Script,
    renew: Script,
    release: Script,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore").field("target", &self.target).finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects to the Redis at `url` (`redis://[user:password@]host:port/db`, `rediss://` with
    /// the `redis-tls` feature) with the default [`RedisConfig`].
    ///
    /// Commands time out after one second and a lost connection is retried a few times, so an
    /// unreachable Redis fails calls within a few seconds with [`crate::Error::Store`] instead
    /// of hanging them.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(&RedisConfig::new(url)).await
    }

    /// Connects as `config` says: TLS with a private CA, a cluster, other timeouts.
    pub async fn connect_with(config: &RedisConfig) -> Result<Self, StoreError> {
        Ok(Self::with_connection(RedisConnection::connect(config).await?))
    }

    /// As [`connect_with`](Self::connect_with), connecting on first use: starts while Redis is
    /// down (see [`RedisConnection::connect_lazy`]).
    pub fn connect_lazy(config: &RedisConfig) -> Result<Self, StoreError> {
        Ok(Self::with_connection(RedisConnection::connect_lazy(config)?))
    }

    /// A store over an existing [`ConnectionManager`].
    pub fn new(connection: ConnectionManager) -> Self {
        Self::with_connection(RedisConnection::from_manager(connection))
    }

    /// A store over a [`RedisConnection`] (which other Redis users, such as a rate limiter,
    /// may share).
    pub fn with_connection(connection: RedisConnection) -> Self {
        Self {
            target: connection.target().into(),
            connection,
            scripts: Arc::new(Scripts {
                claim: Script::new(CLAIM),
                complete: Script::new(COMPLETE),
                renew: Script::new(RENEW),
                release: Script::new(RELEASE),
            }),
        }
    }

    /// The connection the store runs its scripts over.
    pub fn connection(&self) -> &RedisConnection {
        &self.connection
    }
}

fn error(target: &str, what: &str, e: &redis::RedisError) -> StoreError {
    StoreError::new(format!("{target}: {what}: {}", connect::redact(&e.to_string())))
}

/// Milliseconds for `PX`, at least 1 (Redis rejects `PX 0`).
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// What a key holds: `m<marker>` while running, `r<record>` when done.
const MARKER: u8 = b'm';
const RECORD: u8 = b'r';

fn tagged(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(body.len() + 1);
    v.push(tag);
    v.extend_from_slice(body);
    v
}

impl SharedStore for RedisStore {
    fn claim<'a>(
        &'a self,
        key: &'a str,
        marker: &'a str,
        lease: Duration,
    ) -> StoreFuture<'a, Claim> {
        Box::pin(async move {
            let mut con = self.connection.clone();
            loop {
                let reply: Vec<Value> = self
                    .scripts
                    .claim
                    .key(key)
                    .arg(tagged(MARKER, marker.as_bytes()))
                    .arg(millis(lease))
                    .invoke_async(&mut con)
                    .await
                    .map_err(|e| error(&self.target, "claim failed", &e))?;
                match reply.as_slice() {
                    [Value::Int(1)] => return Ok(Claim::Claimed),
                    [Value::Int(0), Value::BulkString(held)] => {
                        return decode(&self.target, held);
                    }
                    [Value::Int(2)] => continue,
                    other => {
                        return Err(StoreError::new(format!(
                            "{}: claim: unexpected reply {other:?}",
                            self.target
                        )));
                    }
                }
            }
        })
    }

    fn complete<'a>(
        &'a self,
        key: &'a str,
        marker: &'a str,
        record: &'a [u8],
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut con = self.connection.clone();
            let stored: i64 = self
                .scripts
                .complete
                .key(key)
                .arg(tagged(MARKER, marker.as_bytes()))
                .arg(tagged(RECORD, record))
                .arg(millis(ttl))
                .invoke_async(&mut con)
                .await
                .map_err(|e| error(&self.target, "storing the result failed", &e))?;
            Ok(stored == 1)
        })
    }

    fn renew<'a>(
        &'a self,
        key: &'a str,
        marker: &'a str,
        lease: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut con = self.connection.clone();
            let renewed: i64 = self
                .scripts
                .renew
                .key(key)
                .arg(tagged(MARKER, marker.as_bytes()))
                .arg(millis(lease))
                .invoke_async(&mut con)
                .await
                .map_err(|e| error(&self.target, "renewing the lease failed", &e))?;
            Ok(renewed == 1)
        })
    }

    fn release<'a>(&'a self, key: &'a str, marker: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut con = self.connection.clone();
            let _: i64 = self
                .scripts
                .release
                .key(key)
                .arg(tagged(MARKER, marker.as_bytes()))
                .invoke_async(&mut con)
                .await
                .map_err(|e| error(&self.target, "releasing the key failed", &e))?;
            Ok(())
        })
    }
}

fn decode(target: &str, held: &[u8]) -> Result<Claim, StoreError> {
    match held.split_first() {
        Some((&MARKER, marker)) => Ok(Claim::Running(String::from_utf8_lossy(marker).into())),
        Some((&RECORD, record)) => Ok(Claim::Done(record.to_vec())),
        _ => Err(StoreError::new(format!(
            "{target}: claim: the key holds a value resilient did not write"
        ))),
    }
}
