//! `#[rate_limit(store = ...)]` against a real redis-server (started by `scripts/test.sh`): two
//! functions standing for two instances share one limit, per key too.
#![cfg(feature = "redis")]

#[path = "../../resilient-runtime/tests/support/redis_url.rs"]
mod redis_url;

use resilient::rate_limit;
use resilient::runtime::idempotency::{RedisConfig, RedisConnection};
use resilient::runtime::rate_limit::{RedisRateStore, register_store};
use resilient_tests::AppError;

/// The name both instances use, unique to this run (an earlier run's slots may still be held).
fn run() -> &'static str {
    static RUN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    RUN.get_or_init(|| {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        format!("{nanos}")
    })
}

#[rate_limit("3/m", store = "macro-rl-a", name = "macro::rl")]
async fn instance_a(run: &str) -> Result<(), AppError> {
    let _ = run;
    Ok(())
}

#[rate_limit("3/m", store = "macro-rl-b", name = "macro::rl")]
async fn instance_b(run: &str) -> Result<(), AppError> {
    let _ = run;
    Ok(())
}

#[rate_limit("2/m", per = (run, user), store = "macro-rl-a", name = "macro::rl-user")]
async fn per_user_a(run: &'static str, user: &'static str) -> Result<(), AppError> {
    Ok(())
}

#[rate_limit("2/m", per = (run, user), store = "macro-rl-b", name = "macro::rl-user")]
async fn per_user_b(run: &'static str, user: &'static str) -> Result<(), AppError> {
    Ok(())
}

fn limited(r: &Result<(), AppError>) -> bool {
    matches!(r, Err(AppError::Rejected(e)) if e.is_rate_limited())
}

#[tokio::test]
async fn instances_share_one_limit_per_key_too() {
    let Some(url) = redis_url::redis_url() else { return };
    for name in ["macro-rl-a", "macro-rl-b"] {
        let c = RedisConnection::connect(&RedisConfig::new(&url)).await.unwrap_or_else(|e| {
            panic!("Redis is not reachable at {url} ({e}); run scripts/redis.sh")
        });
        register_store(name, RedisRateStore::new(c));
    }
    // The shared limit is keyed by the policy's name, so a run's calls meet earlier runs' slots
    // for a minute: count what this run gets rather than assume a fresh limit.
    let mut admitted = 0;
    for i in 0..8 {
        let r = if i % 2 == 0 { instance_a(run()).await } else { instance_b(run()).await };
        assert!(r.is_ok() || limited(&r), "{r:?}");
        admitted += u32::from(r.is_ok());
    }
    assert!(admitted <= 3, "two instances admitted {admitted} calls at 3/m");

    // Per key: each user gets 2 across both instances; the key holds this run's id.
    for user in ["alice", "bob"] {
        let mut admitted = 0;
        for i in 0..6 {
            let r = if i % 2 == 0 {
                per_user_a(run(), user).await
            } else {
                per_user_b(run(), user).await
            };
            assert!(r.is_ok() || limited(&r), "{r:?}");
            admitted += u32::from(r.is_ok());
        }
        assert_eq!(admitted, 2, "{user} got {admitted} calls at 2/m across two instances");
    }
}
