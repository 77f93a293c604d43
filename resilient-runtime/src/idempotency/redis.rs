//! [`RedisStore`]: the [`SharedStore`] for services running more than one instance.
//!
//! Layout: one Redis string per key, named `resilient:idem:<policy name>:<key>`. While the first
//! call runs it holds `m<marker>` with a `PX <lease>` expiry; once it succeeds, `r<json record>`
//! with `PX <ttl>`. Every step that must not race is one Lua script, so it is atomic on the
//! server.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Script, Value};

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

/// Delete the key only if it still holds our marker.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// An idempotency store in Redis, shared by every instance of a service.
///
/// Cheap to clone; clones share one multiplexed connection that reconnects by itself. Register
/// it under a name at start-up with [`register_store`](super::register_store).
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    scripts: Arc<Scripts>,
    /// `Redis at {url}`, for error messages.
    target: Arc<str>,
}

struct Scripts {
    claim: Script,
    complete: Script,
    release: Script,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore").field("target", &self.target).finish_non_exhaustive()
    }
}

/// How long one command may take before the call fails with [`crate::Error::Store`].
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);
/// How long connecting may take.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(1);

impl RedisStore {
    /// Connects to the Redis at `url` (`redis://host:port/db`).
    ///
    /// Commands time out after one second and a lost connection is retried a few times, so an
    /// unreachable Redis fails calls within a few seconds with [`crate::Error::Store`] instead
    /// of hanging them. For other settings build the [`ConnectionManager`] yourself and use
    /// [`RedisStore::new`].
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let target = format!("Redis at {url}");
        let client = Client::open(url).map_err(|e| error(&target, "bad URL", &e))?;
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_connection_timeout(Some(CONNECTION_TIMEOUT))
            .set_number_of_retries(2);
        let connection = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| error(&target, "connecting failed", &e))?;
        let mut store = Self::new(connection);
        store.target = target.into();
        Ok(store)
    }

    /// A store over an existing connection.
    pub fn new(connection: ConnectionManager) -> Self {
        Self {
            connection,
            scripts: Arc::new(Scripts {
                claim: Script::new(CLAIM),
                complete: Script::new(COMPLETE),
                release: Script::new(RELEASE),
            }),
            target: "Redis".into(),
        }
    }
}

fn error(target: &str, what: &str, e: &redis::RedisError) -> StoreError {
    StoreError::new(format!("{target}: {what}: {e}"))
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
