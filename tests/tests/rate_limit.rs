//! `#[rate_limit]`: GCRA in process, waiting, per-key limits, the registry, configuration.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use resilient::rate_limit;
use resilient::runtime::rate_limit::RateLimiter;
use resilient_tests::AppError;
use tokio::time::{Instant, advance};

fn limited(r: &Result<u32, AppError>) -> Option<Duration> {
    match r {
        Err(AppError::Rejected(e)) if e.is_rate_limited() => e.retry_after(),
        _ => None,
    }
}

static RAN: AtomicU32 = AtomicU32::new(0);

#[rate_limit("10/s", burst = 3)]
async fn ten_per_second() -> Result<u32, AppError> {
    Ok(RAN.fetch_add(1, SeqCst))
}

#[tokio::test(start_paused = true)]
async fn a_burst_then_one_call_per_interval() {
    for _ in 0..3 {
        assert!(ten_per_second().await.is_ok());
    }
    let rejected = ten_per_second().await;
    assert_eq!(limited(&rejected), Some(Duration::from_millis(100)), "{rejected:?}");
    assert_eq!(RAN.load(SeqCst), 3, "a rejected call does not run its body");

    advance(Duration::from_millis(99)).await;
    assert_eq!(limited(&ten_per_second().await), Some(Duration::from_millis(1)));
    advance(Duration::from_millis(1)).await;
    assert!(ten_per_second().await.is_ok());
    assert_eq!(limited(&ten_per_second().await), Some(Duration::from_millis(100)));

    // A second is 10 calls, however they are spread.
    let mut admitted = 0;
    for _ in 0..100 {
        advance(Duration::from_millis(10)).await;
        admitted += u32::from(ten_per_second().await.is_ok());
    }
    assert_eq!(admitted, 10);

    let e = match ten_per_second().await {
        Err(AppError::Rejected(e)) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!(e.policy(), "rate_limit::ten_per_second");
    assert!(e.to_string().contains("over its rate limit"), "{e}");
}

#[rate_limit("2/s", burst = 1, wait = "1s")]
async fn waits_for_its_slot() -> Result<u32, AppError> {
    Ok(0)
}

#[tokio::test(start_paused = true)]
async fn a_call_over_the_limit_waits_for_its_slot_within_wait() {
    let start = Instant::now();
    assert!(waits_for_its_slot().await.is_ok());
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert!(waits_for_its_slot().await.is_ok());
    assert_eq!(start.elapsed(), Duration::from_millis(500));

    // Four at once, the next slot 500 ms away (the second call reserved up to then): 500 ms,
    // 1 s, and the third and fourth would wait 1.5 s, more than `wait`.
    let start = Instant::now();
    let (a, b, c, d) = tokio::join!(
        waits_for_its_slot(),
        waits_for_its_slot(),
        waits_for_its_slot(),
        waits_for_its_slot()
    );
    assert!(a.is_ok() && b.is_ok(), "{a:?} {b:?}");
    assert_eq!(limited(&c), Some(Duration::from_millis(1500)));
    assert_eq!(limited(&d), Some(Duration::from_millis(1500)));
    assert_eq!(start.elapsed(), Duration::from_secs(1));
}

#[resilient::timeout("200ms")]
#[rate_limit("1/s", burst = 1, wait = "5s")]
async fn under_a_deadline() -> Result<u32, AppError> {
    Ok(0)
}

#[tokio::test(start_paused = true)]
async fn a_call_never_waits_past_its_deadline() {
    assert!(under_a_deadline().await.is_ok());
    let start = Instant::now();
    let r = under_a_deadline().await;
    assert_eq!(limited(&r), Some(Duration::from_secs(1)), "{r:?}");
    assert_eq!(start.elapsed(), Duration::ZERO, "rejected at once, not after the deadline");
}

#[rate_limit("1/m", per = user, name = "rate_limit::per_user")]
async fn per_user(user: u64) -> Result<u32, AppError> {
    Ok(user as u32)
}

#[tokio::test(start_paused = true)]
async fn each_user_has_a_limit_of_their_own() {
    assert!(per_user(1).await.is_ok());
    assert_eq!(limited(&per_user(1).await), Some(Duration::from_secs(60)));
    assert!(per_user(2).await.is_ok(), "user 2 is not held back by user 1");
    advance(Duration::from_secs(60)).await;
    assert!(per_user(1).await.is_ok());

    let snap = resilient::registry::snapshot();
    let parts = snap.partitions("rate_limit::per_user", "rate_limit").expect("listed once");
    assert_eq!(parts.live, 2);
}

#[rate_limit("5/s", name = "rate_limit::listed")]
async fn listed() -> Result<u32, AppError> {
    Ok(0)
}

#[tokio::test(start_paused = true)]
async fn the_registry_shows_rate_burst_admitted_and_limited() {
    for _ in 0..7 {
        let _ = listed().await;
    }
    let snap = resilient::registry::snapshot();
    let r = snap.rate_limit("rate_limit::listed").expect("listed");
    assert_eq!((r.rate.as_str(), r.burst, r.admitted, r.limited), ("5/s", 5, 5, 2));
    assert_eq!((r.available, r.next_in), (0, Duration::from_millis(200)));
    let policy = snap.policy("rate_limit::listed", "rate_limit").unwrap();
    assert_eq!(policy.setting("rate").unwrap().value, "5/s");
    assert_eq!(policy.setting("burst").unwrap().value, "5");
}

#[rate_limit("1/s", burst = 1, name = "rate_limit::tuned")]
async fn tuned() -> Result<u32, AppError> {
    Ok(0)
}

#[tokio::test(start_paused = true)]
async fn configuration_changes_the_rate_and_keeps_the_state() {
    assert!(tuned().await.is_ok());
    assert!(limited(&tuned().await).is_some());
    resilient::config::apply(
        r#"
        ["rate_limit::tuned".rate_limit]
        rate = "10/s"
        burst = 2
        "#,
    )
    .unwrap();
    // The state is kept: the slot taken at 1/s reaches 1 s ahead, so at 10/s with a burst
    // of 2 the next call fits at 900 ms, and one call per 100 ms after it.
    assert_eq!(limited(&tuned().await), Some(Duration::from_millis(900)));
    advance(Duration::from_millis(900)).await;
    assert!(tuned().await.is_ok());
    assert_eq!(limited(&tuned().await), Some(Duration::from_millis(100)));
    let snap = resilient::registry::snapshot();
    let policy = snap.policy("rate_limit::tuned", "rate_limit").unwrap();
    assert_eq!(policy.setting("rate").unwrap().value, "10/s");
    assert_eq!(policy.setting("rate").unwrap().source, resilient::config::Source::Api);

    resilient::config::apply(
        r#"
        ["rate_limit::tuned".rate_limit]
        enabled = false
        "#,
    )
    .unwrap();
    for _ in 0..100 {
        assert!(tuned().await.is_ok(), "disabled: calls pass straight through");
    }

    let err = resilient::config::apply(
        r#"
        ["rate_limit::tuned".rate_limit]
        rate = "0/s"
        "#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("reject every call"), "{err}");
    let err = resilient::config::apply(
        r#"
        ["rate_limit::tuned".rate_limit]
        store = "redis"
        "#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("cannot be set from configuration"), "{err}");
}

struct Api;

#[rate_limit("1/s", burst = 1)]
impl Api {
    async fn get(&self) -> Result<u32, AppError> {
        Ok(1)
    }

    async fn put(&self) -> Result<u32, AppError> {
        Ok(2)
    }
}

#[tokio::test(start_paused = true)]
async fn on_an_impl_block_each_method_has_its_own_limit() {
    let api = Api;
    assert_eq!(api.get().await, Ok(1));
    assert!(limited(&api.get().await).is_some());
    assert_eq!(api.put().await, Ok(2), "put is limited apart from get");
    let snap = resilient::registry::snapshot();
    assert!(snap.rate_limit("rate_limit::Api::get").is_some());
}

#[test]
fn blocking_acquire_waits_with_a_thread_sleep() {
    let limiter = RateLimiter::builder(1000, Duration::from_secs(1))
        .name("rate_limit::blocking")
        .burst(1)
        .wait(Duration::from_millis(50))
        .build();
    std::thread::spawn(move || {
        for _ in 0..5 {
            limiter.acquire_blocking().unwrap();
        }
        let strict = RateLimiter::builder(1, Duration::from_secs(3600)).burst(1).build();
        strict.acquire_blocking().unwrap();
        let e = strict.acquire_blocking().unwrap_err();
        assert!(e.is_rate_limited());
        assert!(e.retry_after().unwrap() > Duration::from_secs(3590));
    })
    .join()
    .unwrap();
}

static RETRIED: AtomicU32 = AtomicU32::new(0);

#[resilient::retry(max = 3, base = "100ms", jitter = "none", budget = "off")]
#[rate_limit("1/s", burst = 1)]
async fn retried() -> Result<u32, AppError> {
    Ok(RETRIED.fetch_add(1, SeqCst))
}

#[tokio::test(start_paused = true)]
async fn a_retry_above_a_limit_gives_up_on_its_rejection_at_once() {
    assert!(retried().await.is_ok());
    // Retrying within the backoff would only be turned away again: the rejection goes up at
    // once, with the time until the next slot.
    let start = Instant::now();
    assert_eq!(limited(&retried().await), Some(Duration::from_secs(1)));
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(RETRIED.load(SeqCst), 1);
}

#[rate_limit("100/s", burst = 10, per = client, name = "rate_limit::flooded")]
async fn api(client: u32) -> Result<u32, AppError> {
    Ok(client)
}

/// One client floods (10 000 calls in a second from 50 tasks) while another calls at 20/s:
/// the flooder gets its burst and 100/s, no more; the other is never turned away.
#[tokio::test(start_paused = true)]
async fn a_flooding_client_gets_its_rate_and_starves_no_one() {
    let start = Instant::now();
    let flood = (0..50).map(|_| {
        tokio::spawn(async move {
            let mut admitted = 0u32;
            for _ in 0..200 {
                admitted += u32::from(api(1).await.is_ok());
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            admitted
        })
    });
    let flood: Vec<_> = flood.collect();
    let polite = tokio::spawn(async move {
        let mut rejected = 0;
        for _ in 0..20 {
            rejected += u32::from(api(2).await.is_err());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        rejected
    });
    let mut admitted = 0;
    for task in flood {
        admitted += task.await.unwrap();
    }
    assert_eq!(start.elapsed(), Duration::from_millis(1000));
    // A burst of 10, then one per 10 ms over the remaining ~995 ms.
    assert!((105..=110).contains(&admitted), "the flooder got {admitted} calls in 1 s");
    assert_eq!(polite.await.unwrap(), 0, "the polite client was turned away");
    let snap = resilient::registry::snapshot();
    let parts = snap.partitions("rate_limit::flooded", "rate_limit").unwrap();
    assert_eq!(parts.live, 2);
}
