//! `#[idempotent(store = ...)]` against a real redis-server (started by `scripts/test.sh`), with
//! two independent connections standing for two instances of a service.
#![cfg(feature = "redis")]

// Reads RESILIENT_REDIS_URL; a malformed value fails once, saying what was read.
#[path = "../../resilient-runtime/tests/support/redis_url.rs"]
mod redis_url;

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use resilient::idempotent;
use resilient::runtime::idempotency::{RedisConfig, RedisStore, register_store};
use resilient_tests::AppError;
use tokio::sync::OnceCell;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Receipt {
    charge: String,
    by: char,
}

async fn stores() {
    static READY: OnceCell<()> = OnceCell::const_new();
    READY
        .get_or_init(|| async {
            let url = redis_url::redis_url().expect("the only test here reads the URL first");
            for name in ["macro-redis-a", "macro-redis-b"] {
                let store = RedisStore::connect(&url).await.unwrap_or_else(|e| {
                    panic!("Redis is not reachable at {url} ({e}); run scripts/redis.sh")
                });
                register_store(name, store);
            }
        })
        .await;
}

static RUNS: AtomicU32 = AtomicU32::new(0);

#[idempotent(key = key, store = "macro-redis-a", name = "macro-charge", ttl = "1m")]
async fn instance_a(key: String, fail: bool) -> Result<Receipt, AppError> {
    RUNS.fetch_add(1, SeqCst);
    tokio::time::sleep(Duration::from_millis(200)).await;
    if fail { Err(AppError::Transient) } else { Ok(Receipt { charge: key, by: 'a' }) }
}

#[idempotent(key = key, store = "macro-redis-b", name = "macro-charge", ttl = "1m")]
async fn instance_b(key: String) -> Result<Receipt, AppError> {
    RUNS.fetch_add(1, SeqCst);
    Ok(Receipt { charge: key, by: 'b' })
}

fn unique(tag: &str) -> String {
    format!("{tag}-{}", resilient::IdempotencyKey::new())
}

// One test, one runtime: a Redis connection lives on the runtime that opened it, so the stores
// registered for these functions must not outlive their runtime (as they would across several
// `#[tokio::test]`s, each with its own runtime).
#[tokio::test]
async fn against_redis() {
    stores().await;
    a_result_stored_by_one_instance_answers_the_other().await;
    a_duplicate_in_flight_elsewhere_is_told_so().await;
    errors_are_not_stored_in_redis_either().await;
}

async fn a_result_stored_by_one_instance_answers_the_other() {
    let key = unique("hit");
    let first = instance_a(key.clone(), false).await.unwrap();
    assert_eq!(first.by, 'a');
    assert_eq!(instance_b(key).await.unwrap(), first, "instance b got a's stored answer");
}

async fn a_duplicate_in_flight_elsewhere_is_told_so() {
    let key = unique("in-flight");
    let running = tokio::spawn(instance_a(key.clone(), false));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let err = instance_b(key.clone()).await.unwrap_err();
    assert!(matches!(err, AppError::Rejected(resilient::Error::IdempotencyInFlight(_))), "{err:?}");
    let receipt = running.await.unwrap().unwrap();
    assert_eq!(instance_b(key).await.unwrap(), receipt);
}

async fn errors_are_not_stored_in_redis_either() {
    let key = unique("error");
    assert_eq!(instance_a(key.clone(), true).await, Err(AppError::Transient));
    assert_eq!(instance_b(key).await.unwrap().by, 'b', "b ran the body after a's failure");
}

static DOWN_RUNS: AtomicU32 = AtomicU32::new(0);

#[idempotent(key = key, store = "macro-redis-down", name = "macro-down-fail")]
async fn down_fail(key: String) -> Result<u32, AppError> {
    Ok(DOWN_RUNS.fetch_add(1, SeqCst))
}

#[idempotent(key = key, store = "macro-redis-down", name = "macro-down-local", on_store_error = "local")]
async fn down_local(key: String) -> Result<u32, AppError> {
    Ok(DOWN_RUNS.fetch_add(1, SeqCst))
}

/// A store whose Redis is down (nothing listens on its port): `on_store_error` decides.
#[tokio::test]
async fn on_store_error_decides_what_a_call_gets_when_redis_is_down() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = RedisConfig::new(format!("redis://127.0.0.1:{port}/"))
        .connection_timeout(Duration::from_millis(200))
        .retries(0);
    register_store("macro-redis-down", RedisStore::connect_lazy(&config).unwrap());

    // "fail" (the default): a Store error naming the store, and the body does not run.
    let err = down_fail(unique("down")).await.unwrap_err();
    let AppError::Rejected(resilient::Error::Store(f)) = &err else { panic!("{err:?}") };
    assert!(f.message().contains("macro-redis-down"), "{}", f.message());
    assert_eq!(DOWN_RUNS.load(SeqCst), 0);

    // "local": the call runs on the in-process store, which answers its repeats.
    let key = unique("down");
    let first = down_local(key.clone()).await.unwrap();
    assert_eq!(down_local(key).await.unwrap(), first);
    assert_eq!(DOWN_RUNS.load(SeqCst), 1);
}
