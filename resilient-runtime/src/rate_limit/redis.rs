//! [`RedisRateStore`]: GCRA as one Lua script on Redis, on Redis's clock.
//!
//! Layout: one Redis string per limit, `resilient:rl:{<policy name>}` (one key: one cluster
//! slot), holding the theoretical arrival time in microseconds of Redis's `TIME`, with a `PX`
//! expiry of the time it is ahead of now (an idle limit leaves nothing behind). Every instance
//! runs the same script against the same key and Redis runs scripts one at a time, so the
//! instances together admit what one limiter would. Microseconds: a shared limit resolves rates
//! up to 1 000 000 calls per second.

use std::time::Duration;

use redis::Script;

use super::store::{RateStore, StoreVerdict};
use crate::idempotency::{RedisConnection, StoreError, StoreFuture};

/// `{1, late}`: admitted, to go after `late` µs; `{0, late}`: rejected, a slot frees after
/// `late` µs. ARGV: interval, tolerance, wait (µs).
const ACQUIRE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local wait = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then tat = now end
local nxt = tat + interval
local ahead = nxt - now
local late = ahead - tolerance
if late < 0 then late = 0 end
if late > wait then return {0, late} end
redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', math.ceil(ahead / 1000) + 1)
return {1, late}
";

/// A shared rate limit store in Redis. Cheap to clone; clones share one [`RedisConnection`]
/// (one multiplexed connection per server, however many calls run at once; TLS, ACL users and
/// clusters as [`RedisConfig`](crate::idempotency::RedisConfig) says). Register it with
/// [`register_store`](super::register_store).
#[derive(Clone)]
pub struct RedisRateStore {
    connection: RedisConnection,
    script: Script,
}

impl std::fmt::Debug for RedisRateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRateStore")
            .field("target", &self.connection.target())
            .finish_non_exhaustive()
    }
}

impl RedisRateStore {
    /// A store over `connection` (which an idempotency [`RedisStore`](crate::idempotency::RedisStore)
    /// may share: `RedisStore::connection`).
    pub fn new(connection: RedisConnection) -> Self {
        Self { connection, script: Script::new(ACQUIRE) }
    }

    /// The connection the store runs its script over.
    pub fn connection(&self) -> &RedisConnection {
        &self.connection
    }
}

fn micros(d: Duration) -> u64 {
    d.as_micros().min(u128::from(u64::MAX)) as u64
}

impl RateStore for RedisRateStore {
    fn acquire<'a>(
        &'a self,
        key: &'a str,
        interval: Duration,
        tolerance: Duration,
        wait: Duration,
    ) -> StoreFuture<'a, StoreVerdict> {
        Box::pin(async move {
            let mut con = self.connection.clone();
            let interval = micros(interval).max(1);
            let (admitted, late): (i64, i64) = self
                .script
                .key(key)
                .arg(interval)
                .arg(micros(tolerance).max(interval))
                .arg(micros(wait))
                .invoke_async(&mut con)
                .await
                .map_err(|e| {
                    StoreError::new(format!(
                        "{}: rate limit script failed: {}",
                        self.connection.target(),
                        crate::idempotency::redact(&e.to_string())
                    ))
                })?;
            let late = Duration::from_micros(late.max(0) as u64);
            Ok(match admitted {
                1 => StoreVerdict::Admitted(late),
                _ => StoreVerdict::Rejected(late),
            })
        })
    }
}
