//! `#[idempotent]` behaviour under paused tokio time: stored answers, single flight, release on
//! cancellation, fingerprints and the bound.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use resilient::{IdempotencyKey, idempotent, retry};
use resilient_tests::AppError;
use tokio::time::{advance, sleep};

#[derive(Clone, Debug, PartialEq)]
struct Receipt {
    id: u64,
    amount: u64,
}

#[derive(Clone, Debug)]
struct ChargeRequest {
    id: String,
    amount: u64,
}

mod answers {
    use super::*;

    static RUNS: AtomicU32 = AtomicU32::new(0);

    #[idempotent(key = request.id, ttl = "1h")]
    async fn charge(request: ChargeRequest) -> Result<Receipt, AppError> {
        let n = RUNS.fetch_add(1, SeqCst);
        Ok(Receipt { id: u64::from(n), amount: request.amount })
    }

    fn req(id: &str) -> ChargeRequest {
        ChargeRequest { id: id.into(), amount: 100 }
    }

    #[tokio::test(start_paused = true)]
    async fn same_key_answered_once_until_the_ttl() {
        let first = charge(req("a")).await.unwrap();
        assert_eq!(charge(req("a")).await.unwrap(), first, "the stored answer, body not run");
        assert_eq!(RUNS.load(SeqCst), 1);
        let other = charge(req("b")).await.unwrap();
        assert_ne!(other, first);
        assert_eq!(RUNS.load(SeqCst), 2);
        advance(Duration::from_secs(3600)).await;
        let again = charge(req("a")).await.unwrap();
        assert_ne!(again, first, "after the ttl the key runs again");
        assert_eq!(RUNS.load(SeqCst), 3);
    }

    static FAILS: AtomicU32 = AtomicU32::new(0);

    #[idempotent(key = id)]
    async fn flaky(id: u64) -> Result<u32, AppError> {
        let n = FAILS.fetch_add(1, SeqCst);
        if n == 0 { Err(AppError::Transient) } else { Ok(n) }
    }

    #[tokio::test(start_paused = true)]
    async fn errors_are_not_stored() {
        assert_eq!(flaky(1).await, Err(AppError::Transient));
        assert_eq!(flaky(1).await, Ok(1), "the retry ran the body again");
        assert_eq!(flaky(1).await, Ok(1), "and its success was stored");
    }
}

mod single_flight {
    use super::*;

    static RUNS: AtomicU32 = AtomicU32::new(0);

    #[idempotent]
    async fn slow(idempotency_key: IdempotencyKey) -> Result<u32, AppError> {
        let _ = idempotency_key;
        RUNS.fetch_add(1, SeqCst);
        sleep(Duration::from_millis(100)).await;
        Ok(7)
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_duplicates_run_once() {
        let key = IdempotencyKey::new();
        let handles: Vec<_> = (0..20).map(|_| tokio::spawn(slow(key))).collect();
        for h in handles {
            assert_eq!(h.await.unwrap(), Ok(7));
        }
        assert_eq!(RUNS.load(SeqCst), 1);
    }

    static HANGS: AtomicU32 = AtomicU32::new(0);

    #[idempotent]
    async fn cancellable(key: IdempotencyKey, hang: bool) -> Result<u32, AppError> {
        let _ = key;
        HANGS.fetch_add(1, SeqCst);
        if hang {
            sleep(Duration::from_secs(3600)).await;
        }
        Ok(1)
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_first_call_releases_the_key() {
        let key = IdempotencyKey::new();
        let first = tokio::spawn(cancellable(key, true));
        tokio::task::yield_now().await;
        let waiter = tokio::spawn(cancellable(key, false));
        tokio::task::yield_now().await;
        first.abort();
        assert_eq!(waiter.await.unwrap(), Ok(1), "the waiter ran the body itself");
        assert_eq!(HANGS.load(SeqCst), 2);
    }
}

mod fingerprints {
    use super::*;

    static RUNS: AtomicU32 = AtomicU32::new(0);

    #[idempotent(key = request.id, fingerprint = request.amount)]
    async fn charge(request: ChargeRequest) -> Result<u64, AppError> {
        RUNS.fetch_add(1, SeqCst);
        Ok(request.amount)
    }

    #[tokio::test(start_paused = true)]
    async fn same_key_other_arguments_is_an_error_not_a_wrong_answer() {
        assert_eq!(charge(ChargeRequest { id: "k".into(), amount: 5 }).await, Ok(5));
        let err = charge(ChargeRequest { id: "k".into(), amount: 6 }).await.unwrap_err();
        let AppError::Rejected(resilient::Error::IdempotencyKeyReused(d)) = err else {
            panic!("{err:?}")
        };
        assert_eq!(d.key(), "k");
        assert_eq!(RUNS.load(SeqCst), 1);
    }
}

mod bound {
    use super::*;

    static RUNS: AtomicU32 = AtomicU32::new(0);

    #[idempotent(key = n, max_entries = 64, name = "bounded")]
    async fn call(n: u32) -> Result<u32, AppError> {
        RUNS.fetch_add(1, SeqCst);
        Ok(n)
    }

    #[tokio::test(start_paused = true)]
    async fn a_flood_of_unique_keys_stays_within_the_bound() {
        for n in 0..10_000 {
            call(n).await.unwrap();
        }
        let snap = resilient::registry::snapshot();
        let json = serde_json::to_value(snap.get("bounded").unwrap()).unwrap();
        let entries = json["state"]["entries"].as_u64().unwrap();
        assert!(entries <= 64, "{entries} entries");
        // The oldest were evicted: they run again; the newest are still answered.
        let before = RUNS.load(SeqCst);
        call(9_999).await.unwrap();
        assert_eq!(RUNS.load(SeqCst), before);
        call(0).await.unwrap();
        assert_eq!(RUNS.load(SeqCst), before + 1);
    }
}

mod composition {
    use super::*;

    static ATTEMPTS: AtomicU32 = AtomicU32::new(0);

    #[idempotent(key = id)]
    #[retry(max = 3, base = "10ms", budget = "off")]
    async fn charge(id: u64, flaky: Arc<AtomicU32>) -> Result<u32, AppError> {
        ATTEMPTS.fetch_add(1, SeqCst);
        if flaky.fetch_add(1, SeqCst) < 2 { Err(AppError::Transient) } else { Ok(42) }
    }

    #[tokio::test(start_paused = true)]
    async fn a_stored_key_is_answered_before_any_other_layer_runs() {
        let flaky = Arc::new(AtomicU32::new(0));
        assert_eq!(charge(9, flaky.clone()).await, Ok(42));
        assert_eq!(ATTEMPTS.load(SeqCst), 3, "retried inside the idempotency layer");
        assert_eq!(charge(9, flaky).await, Ok(42));
        assert_eq!(ATTEMPTS.load(SeqCst), 3, "answered from the store: no attempt, no retry");
    }
}

mod key_text {
    //! A key is its `Display` text, whichever way the attribute writes it: integers, strings and
    //! UUIDs without `core::fmt`, other types through it. Three fns sharing one store (one
    //! `name`) see one key in `7`, `"7"` and a type displaying `7`.
    use super::*;

    static RUNS: AtomicU32 = AtomicU32::new(0);

    struct Seven;

    impl std::fmt::Display for Seven {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{}", 7)
        }
    }

    #[idempotent(key = id, name = "tests::key_text")]
    async fn by_integer(id: u64) -> Result<u32, AppError> {
        let _ = id;
        Ok(RUNS.fetch_add(1, SeqCst))
    }

    #[idempotent(key = id, name = "tests::key_text")]
    async fn by_str(id: &str) -> Result<u32, AppError> {
        let _ = id;
        Ok(RUNS.fetch_add(1, SeqCst))
    }

    #[idempotent(key = Seven, name = "tests::key_text")]
    async fn by_display(flag: bool) -> Result<u32, AppError> {
        let _ = flag;
        Ok(RUNS.fetch_add(1, SeqCst))
    }

    #[idempotent(key = key, name = "tests::key_text")]
    async fn by_uuid(key: IdempotencyKey) -> Result<u32, AppError> {
        let _ = key;
        Ok(RUNS.fetch_add(1, SeqCst))
    }

    #[tokio::test(start_paused = true)]
    async fn every_way_of_writing_a_key_finds_the_same_result() {
        let first = by_integer(7).await.unwrap();
        assert_eq!(by_str("7").await, Ok(first));
        assert_eq!(by_display(true).await, Ok(first));
        assert_eq!(by_integer(7).await, Ok(first));
        assert_eq!(RUNS.load(SeqCst), 1);
        // Another text is another key.
        assert_ne!(by_str("07").await, Ok(first));
        assert_eq!(RUNS.load(SeqCst), 2);
        // A UUID key and its text.
        let key = IdempotencyKey::new();
        let stored = by_uuid(key).await.unwrap();
        assert_eq!(by_str(&key.to_string()).await, Ok(stored));
        assert_eq!(RUNS.load(SeqCst), 3);
    }
}

#[test]
fn keys_are_uuids_that_round_trip() {
    let key = IdempotencyKey::new();
    let text = key.to_string();
    assert_eq!(text.parse::<IdempotencyKey>().unwrap(), key);
    assert_eq!(serde_json::to_string(&key).unwrap(), format!("\"{text}\""));
}
