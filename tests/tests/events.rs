//! `tracing` events of every policy (feature `tracing`, on by default), each with the fields
//! `policy` and `kind`; retry attempts in spans with their `attempt` number.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use resilient::{circuit_breaker, idempotent, retry, timeout};
use resilient_tests::AppError;
use resilient_tests::events::Recorder;
use tracing::Level;

#[circuit_breaker(threshold = 1, cooldown = "1s", name = "traced")]
async fn call(fail: bool) -> Result<(), AppError> {
    if fail { Err(AppError::Transient) } else { Ok(()) }
}

#[tokio::test(start_paused = true)]
async fn every_transition_and_rejection_is_an_event() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());
    call(true).await.unwrap_err(); // closed -> open
    call(false).await.unwrap_err(); // rejected
    tokio::time::advance(Duration::from_secs(1)).await;
    call(false).await.unwrap(); // open -> half-open -> closed
    let events = recorder.events();
    let levels: Vec<Level> = events.iter().map(|e| e.level).collect();
    assert_eq!(levels, [Level::WARN, Level::DEBUG, Level::INFO, Level::INFO], "{events:?}");
    assert!(events[0].message().contains("open"), "{events:?}");
    assert!(events[1].message().contains("rejected"), "{events:?}");
    let moves: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| e.level != Level::DEBUG)
        .map(|e| (e.field("from"), e.field("to")))
        .collect();
    assert_eq!(moves, [("closed", "open"), ("open", "half-open"), ("half-open", "closed")]);
    for e in &events {
        assert_eq!((e.field("policy"), e.field("kind")), ("traced", "circuit_breaker"), "{e:?}");
    }
}

static TRIES: AtomicU32 = AtomicU32::new(0);

/// Fails twice, then succeeds; logs each attempt from the body.
#[retry(max = 3, base = "100ms", jitter = 0, name = "traced::retry")]
async fn flaky() -> Result<u32, AppError> {
    let n = TRIES.fetch_add(1, SeqCst);
    tracing::info!("body running");
    if n < 2 { Err(AppError::Transient) } else { Ok(n) }
}

#[tokio::test(start_paused = true)]
async fn each_attempt_runs_in_a_span_and_each_retry_is_an_event() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());
    assert_eq!(flaky().await, Ok(2));
    let bodies: Vec<Option<String>> =
        recorder.with_message("body running").into_iter().map(|e| e.attempt).collect();
    assert_eq!(bodies, [Some("1".into()), Some("2".into()), Some("3".into())]);
    let scheduled = recorder.with_message("retrying");
    assert_eq!(scheduled.len(), 2, "{scheduled:?}");
    for (e, (attempt, delay)) in scheduled.iter().zip([("1", "100ms"), ("2", "200ms")]) {
        assert_eq!(e.level, Level::DEBUG);
        assert_eq!((e.field("policy"), e.field("kind")), ("traced::retry", "retry"));
        assert_eq!((e.field("attempt"), e.field("delay")), (attempt, delay), "{e:?}");
        assert_eq!(e.field("error"), "the function returned an error");
    }
}

#[retry(max = 2, base = "10ms", name = "traced::gives_up")]
#[timeout("50ms", name = "traced::gives_up")]
async fn hangs() -> Result<(), AppError> {
    tokio::time::sleep(Duration::from_secs(10)).await;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn timeouts_and_giving_up_are_events() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());
    hangs().await.unwrap_err();
    let fired = recorder.with_message("timed out");
    assert_eq!(fired.len(), 2, "{:?}", recorder.events());
    for e in &fired {
        assert_eq!((e.level, e.field("kind"), e.field("limit")), (Level::DEBUG, "timeout", "50ms"));
    }
    // The retry names the rejection it retried.
    let scheduled = recorder.with_message("retrying");
    assert!(scheduled[0].field("error").contains("timed out after 50ms"), "{scheduled:?}");
    let gave_up = recorder.with_message("giving up");
    assert_eq!(gave_up.len(), 1);
    assert_eq!((gave_up[0].field("kind"), gave_up[0].field("reason")), ("retry", "Exhausted"));
}

#[retry(max = 5, base = "1ms", budget = "1%", name = "traced::budget")]
async fn always_fails() -> Result<(), AppError> {
    Err(AppError::Transient)
}

#[tokio::test(start_paused = true)]
async fn a_spent_budget_is_an_event() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());
    // The floor allows 10 retries a second, the share of 5 calls nothing more: 20 retries wanted.
    for _ in 0..5 {
        always_fails().await.unwrap_err();
    }
    let spent = recorder.with_message("budget exhausted");
    assert!(!spent.is_empty(), "{:?}", recorder.events());
    assert_eq!((spent[0].field("policy"), spent[0].field("kind")), ("traced::budget", "retry"));
}

#[timeout("p50*2", initial = "1s", warmup = 5, window = "1s", name = "traced::adaptive")]
async fn takes_10ms() -> Result<(), AppError> {
    tokio::time::sleep(Duration::from_millis(10)).await;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn an_adaptive_limit_that_moves_is_an_event() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());
    for _ in 0..20 {
        takes_10ms().await.unwrap();
    }
    let moved = recorder.with_message("adaptive limit moved");
    assert!(!moved.is_empty(), "{:?}", recorder.events());
    // From the initial 1 s to about 20 ms: a large move, at info.
    assert_eq!((moved[0].level, moved[0].field("from")), (Level::INFO, "1s"), "{moved:?}");
    assert_eq!(moved[0].field("kind"), "timeout");
}

static CHARGED: AtomicU32 = AtomicU32::new(0);

#[idempotent(key = key, max_entries = 1, name = "traced::idem")]
async fn charge(key: u64) -> Result<u64, AppError> {
    CHARGED.fetch_add(1, SeqCst);
    tokio::time::sleep(Duration::from_millis(10)).await;
    Ok(key)
}

#[tokio::test(start_paused = true)]
async fn idempotency_hits_misses_joins_and_evictions_are_events() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());
    let _ = tokio::join!(charge(1), charge(1)); // a miss, and a duplicate joining it
    charge(1).await.unwrap(); // a hit
    charge(2).await.unwrap(); // a miss evicting key 1
    let count = |part| recorder.with_message(part).len();
    assert_eq!(
        (count("miss"), count("hit"), count("joined"), count("evicted")),
        (2, 1, 1, 1),
        "{:?}",
        recorder.events()
    );
    for e in recorder.events() {
        assert_eq!(
            (e.level, e.field("policy"), e.field("kind")),
            (Level::DEBUG, "traced::idem", "idempotency")
        );
    }
}

static SYNC_TRIES: AtomicU32 = AtomicU32::new(0);

/// A sync fn: fails twice, then succeeds; logs each attempt from the body.
#[retry(max = 3, base = "1ms", jitter = 0, name = "traced::sync")]
fn flaky_sync() -> Result<u32, AppError> {
    let n = SYNC_TRIES.fetch_add(1, SeqCst);
    tracing::info!("sync body running");
    if n < 2 { Err(AppError::Transient) } else { Ok(n) }
}

#[test]
fn a_sync_fns_attempts_run_in_spans_and_retries_are_events() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());
    assert_eq!(flaky_sync(), Ok(2));
    let bodies: Vec<Option<String>> =
        recorder.with_message("sync body running").into_iter().map(|e| e.attempt).collect();
    assert_eq!(bodies, [Some("1".into()), Some("2".into()), Some("3".into())]);
    let scheduled = recorder.with_message("retrying");
    assert_eq!(scheduled.len(), 2, "{scheduled:?}");
    for (e, (attempt, delay)) in scheduled.iter().zip([("1", "1ms"), ("2", "2ms")]) {
        assert_eq!((e.field("policy"), e.field("kind")), ("traced::sync", "retry"));
        assert_eq!((e.field("attempt"), e.field("delay")), (attempt, delay), "{e:?}");
    }
}

#[resilient::bulkhead(max = 1, name = "traced-bulkhead")]
async fn one_at_a_time() -> Result<(), AppError> {
    tokio::time::sleep(Duration::from_millis(10)).await;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_full_bulkhead_and_an_adaptive_limit_that_moves_are_events() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());
    let (first, second) = tokio::join!(one_at_a_time(), one_at_a_time());
    first.unwrap();
    second.unwrap_err();
    let rejected = recorder.with_message("bulkhead: full");
    assert_eq!(rejected.len(), 1, "{:?}", recorder.events());
    assert_eq!(rejected[0].level, Level::DEBUG);
    assert_eq!(
        (rejected[0].field("policy"), rejected[0].field("kind"), rejected[0].field("limit")),
        ("traced-bulkhead", "bulkhead", "1")
    );

    // Slow start: calls as many as the limit allows, at a flat 10 ms, for a little over a second.
    let b: &'static resilient::runtime::bulkhead::Bulkhead = Box::leak(Box::new(
        resilient::runtime::bulkhead::Bulkhead::builder()
            .name("traced-adaptive")
            .adaptive()
            .build(),
    ));
    for _ in 0..120 {
        let mut calls = Vec::new();
        while let Ok(place) = b.try_acquire() {
            calls.push(tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                place.done();
            }));
        }
        for c in calls {
            c.await.unwrap();
        }
    }
    let moved = recorder.with_message("bulkhead: adaptive limit moved");
    assert!(!moved.is_empty(), "{:?}", recorder.events());
    assert_eq!(moved[0].level, Level::INFO, "doubling is a large move");
    assert_eq!((moved[0].field("from"), moved[0].field("to")), ("20", "40"));
    assert_eq!(moved[0].field("policy"), "traced-adaptive");
}

fn answer_fallback(_e: AppError) -> Result<(), AppError> {
    Ok(())
}

#[resilient::fallback(answer_fallback, name = "traced::fallback")]
#[circuit_breaker(threshold = 1, cooldown = "10s")]
async fn answered() -> Result<(), AppError> {
    Err(AppError::Permanent)
}

#[tokio::test(start_paused = true)]
async fn a_fallback_answer_is_an_event_that_hides_the_error() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());
    answered().await.unwrap(); // the function's error: not shown
    answered().await.unwrap(); // the open breaker's rejection: named
    let used = recorder.with_message("answered by the fallback");
    assert_eq!(used.len(), 2, "{:?}", recorder.events());
    for e in &used {
        assert_eq!(
            (e.level, e.field("policy"), e.field("kind")),
            (Level::DEBUG, "traced::fallback", "fallback")
        );
    }
    assert_eq!(used[0].field("error"), "the function returned an error");
    assert!(used[1].field("error").contains("circuit"), "{:?}", used[1]);
    assert!(!used[0].field("error").contains("Permanent"));
}

#[circuit_breaker(mode = "adaptive", window = "10s", min_rps = 0.0, name = "ev::throttle")]
async fn throttled(fail: bool) -> Result<(), AppError> {
    if fail { Err(AppError::Transient) } else { Ok(()) }
}

#[tokio::test(start_paused = true)]
async fn an_adaptive_breaker_reports_rejections_and_probability_crossings() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());
    resilient::rng::seed(8);
    for _ in 0..40 {
        let _ = throttled(true).await;
    }
    let started = recorder.with_message("circuit breaker (adaptive): rejecting");
    assert!(!started.is_empty(), "{:#?}", recorder.events());
    assert_eq!(started[0].level, Level::WARN);
    assert_eq!(started[0].field("kind"), "circuit_breaker");
    assert_eq!(started[0].field("policy"), "ev::throttle");
    let rejected = recorder.with_message("circuit breaker (adaptive): call rejected");
    assert!(!rejected.is_empty() && rejected.iter().all(|e| e.level == Level::DEBUG));
    // Back: the probability falls to zero, an `info` event.
    for _ in 0..400 {
        let _ = throttled(false).await;
    }
    let stopped = recorder.with_message("rejecting 0 % of calls");
    assert!(stopped.iter().any(|e| e.level == Level::INFO), "{:#?}", recorder.events());
}
