//! The circuit breaker's transitions, window and trip rules, on tokio's paused clock.

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::time::Duration;

use resilient_runtime::Error;
use resilient_runtime::breaker::{CircuitBreaker, CircuitState};
use tokio::time::advance;

#[derive(Clone, Debug, PartialEq)]
enum AppError {
    Down,
    NotFound,
    Resilience(Error),
}

impl From<Error> for AppError {
    fn from(e: Error) -> Self {
        AppError::Resilience(e)
    }
}

const SEC: Duration = Duration::from_secs(1);

/// Runs one call that fails (`ok == false`) or succeeds; counts the bodies that ran.
async fn call(b: &CircuitBreaker, ran: &AtomicU32, ok: bool) -> Result<(), AppError> {
    b.call(async {
        ran.fetch_add(1, Relaxed);
        if ok { Ok(()) } else { Err(AppError::Down) }
    })
    .await
}

fn retry_after(result: Result<(), AppError>) -> Duration {
    match result {
        Err(AppError::Resilience(Error::CircuitOpen(open))) => open.retry_after(),
        other => panic!("expected a CircuitOpen rejection, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn threshold_failures_open_the_circuit_and_reject_without_running() {
    let b = CircuitBreaker::builder().name("states::trip").threshold(3).cooldown(10 * SEC).build();
    let ran = AtomicU32::new(0);
    assert_eq!(call(&b, &ran, false).await, Err(AppError::Down));
    // Successes in between neither reset nor add to the count.
    call(&b, &ran, true).await.unwrap();
    assert_eq!(call(&b, &ran, false).await, Err(AppError::Down));
    assert_eq!(b.state(), CircuitState::Closed);
    assert_eq!(call(&b, &ran, false).await, Err(AppError::Down));
    assert_eq!(b.state(), CircuitState::Open);
    assert_eq!(ran.load(Relaxed), 4);

    let rejected = call(&b, &ran, true).await;
    assert_eq!(ran.load(Relaxed), 4, "the body must not run while open");
    let Err(AppError::Resilience(e)) = &rejected else { panic!("{rejected:?}") };
    assert!(e.is_circuit_open());
    assert_eq!(e.policy(), "states::trip");
    assert_eq!(retry_after(rejected), 10 * SEC);
}

#[tokio::test(start_paused = true)]
async fn cooldown_counts_down_then_lets_a_probe_through() {
    let b =
        CircuitBreaker::builder().name("states::cooldown").threshold(1).cooldown(10 * SEC).build();
    let ran = AtomicU32::new(0);
    call(&b, &ran, false).await.unwrap_err();
    advance(4 * SEC).await;
    assert_eq!(retry_after(call(&b, &ran, true).await), 6 * SEC);
    advance(6 * SEC - Duration::from_millis(1)).await;
    assert_eq!(b.state(), CircuitState::Open);
    assert_eq!(retry_after(call(&b, &ran, true).await), Duration::from_millis(1));
    advance(Duration::from_millis(1)).await;
    // Cooldown over: shown as half-open, and the next call runs as the probe.
    assert_eq!(b.state(), CircuitState::HalfOpen);
    let permit = b.try_acquire().unwrap();
    assert!(permit.is_probe());
    assert_eq!(b.state(), CircuitState::HalfOpen);
    // probes = 1 and it is taken: others are rejected with nothing to wait for but the probe.
    assert_eq!(retry_after(call(&b, &ran, true).await), Duration::ZERO);
    permit.success();
    assert_eq!(b.state(), CircuitState::Closed);
    assert_eq!(ran.load(Relaxed), 1);
}

#[tokio::test(start_paused = true)]
async fn successful_probes_close_with_a_fresh_window() {
    let b = CircuitBreaker::builder()
        .name("states::close")
        .threshold(2)
        .probes(2)
        .cooldown(SEC)
        .build();
    let ran = AtomicU32::new(0);
    for _ in 0..2 {
        call(&b, &ran, false).await.unwrap_err();
    }
    advance(SEC).await;
    call(&b, &ran, true).await.unwrap();
    // One of two probes succeeded: still half-open.
    assert_eq!(b.state(), CircuitState::HalfOpen);
    call(&b, &ran, true).await.unwrap();
    assert_eq!(b.state(), CircuitState::Closed);
    // The failures that opened it were forgotten: one new failure does not re-open it.
    call(&b, &ran, false).await.unwrap_err();
    assert_eq!(b.state(), CircuitState::Closed);
    call(&b, &ran, false).await.unwrap_err();
    assert_eq!(b.state(), CircuitState::Open);
}

#[tokio::test(start_paused = true)]
async fn a_failed_probe_reopens_for_a_full_cooldown() {
    let b = CircuitBreaker::builder()
        .name("states::reopen")
        .threshold(1)
        .probes(3)
        .cooldown(10 * SEC)
        .build();
    let ran = AtomicU32::new(0);
    call(&b, &ran, false).await.unwrap_err();
    advance(10 * SEC).await;
    call(&b, &ran, true).await.unwrap();
    assert_eq!(b.state(), CircuitState::HalfOpen);
    assert_eq!(call(&b, &ran, false).await, Err(AppError::Down));
    assert_eq!(b.state(), CircuitState::Open);
    assert_eq!(retry_after(call(&b, &ran, true).await), 10 * SEC);
    assert_eq!(ran.load(Relaxed), 3);
    // The next half-open period starts with all three probes again.
    advance(10 * SEC).await;
    for _ in 0..3 {
        call(&b, &ran, true).await.unwrap();
    }
    assert_eq!(b.state(), CircuitState::Closed);
}

/// The window is 16 buckets of `window / 16`; here 16 s, so 1 s buckets aligned on the moment the
/// breaker was built. A failure counts until the end of the 16th bucket from its own.
#[tokio::test(start_paused = true)]
async fn failures_older_than_the_window_stop_counting() {
    let b = CircuitBreaker::builder().name("states::window").threshold(3).window(16 * SEC).build();
    let ran = AtomicU32::new(0);
    advance(Duration::from_millis(500)).await;
    call(&b, &ran, false).await.unwrap_err(); // t = 0.5 s, bucket 0
    advance(SEC).await;
    call(&b, &ran, false).await.unwrap_err(); // t = 1.5 s, bucket 1
    // t = 16.0 s: bucket 0 has left the window (15.5 s after its failure: the 1/16 granularity),
    // bucket 1 has not.
    advance(Duration::from_millis(14_500)).await;
    call(&b, &ran, false).await.unwrap_err();
    assert_eq!(b.state(), CircuitState::Closed);
    // t = 16.9 s: the failure of t = 1.5 s still counts, so this third one trips it.
    advance(Duration::from_millis(900)).await;
    call(&b, &ran, false).await.unwrap_err();
    assert_eq!(b.state(), CircuitState::Open);
}

#[tokio::test(start_paused = true)]
async fn a_failure_counts_for_the_whole_window_up_to_its_last_bucket() {
    let b =
        CircuitBreaker::builder().name("states::window_edge").threshold(2).window(16 * SEC).build();
    let ran = AtomicU32::new(0);
    call(&b, &ran, false).await.unwrap_err(); // t = 0, bucket 0
    advance(16 * SEC - Duration::from_nanos(1)).await; // still bucket 15
    call(&b, &ran, false).await.unwrap_err();
    assert_eq!(b.state(), CircuitState::Open);
}

#[tokio::test(start_paused = true)]
async fn failure_rate_opens_on_the_share_of_failures() {
    let b = CircuitBreaker::builder().name("states::rate").failure_rate(0.5, 4).build();
    let ran = AtomicU32::new(0);
    for _ in 0..3 {
        call(&b, &ran, true).await.unwrap();
    }
    call(&b, &ran, false).await.unwrap_err(); // 1 / 4
    call(&b, &ran, false).await.unwrap_err(); // 2 / 5
    assert_eq!(b.state(), CircuitState::Closed);
    call(&b, &ran, false).await.unwrap_err(); // 3 / 6 = 50 %
    assert_eq!(b.state(), CircuitState::Open);
}

#[tokio::test(start_paused = true)]
async fn failure_rate_waits_for_min_calls_and_ignores_the_threshold() {
    let b = CircuitBreaker::builder()
        .name("states::rate_min")
        .threshold(1)
        .failure_rate(0.5, 4)
        .build();
    let ran = AtomicU32::new(0);
    for _ in 0..3 {
        call(&b, &ran, false).await.unwrap_err();
    }
    // 100 % failures, but only 3 calls.
    assert_eq!(b.state(), CircuitState::Closed);
    call(&b, &ran, false).await.unwrap_err();
    assert_eq!(b.state(), CircuitState::Open);
}

#[tokio::test(start_paused = true)]
async fn failure_rate_forgets_calls_older_than_the_window() {
    let b = CircuitBreaker::builder()
        .name("states::rate_window")
        .window(16 * SEC)
        .failure_rate(0.5, 2)
        .build();
    let ran = AtomicU32::new(0);
    for _ in 0..10 {
        call(&b, &ran, true).await.unwrap();
    }
    call(&b, &ran, false).await.unwrap_err(); // 1 / 11
    advance(16 * SEC).await;
    // The old successes are gone: 1 failure of 1 call, below min_calls; then 2 of 2.
    call(&b, &ran, false).await.unwrap_err();
    assert_eq!(b.state(), CircuitState::Closed);
    call(&b, &ran, false).await.unwrap_err();
    assert_eq!(b.state(), CircuitState::Open);
}

#[tokio::test(start_paused = true)]
async fn only_errors_matching_when_count() {
    let b = CircuitBreaker::builder().name("states::when").threshold(2).cooldown(SEC).build();
    let is_down = |e: &AppError| *e == AppError::Down;
    for _ in 0..10 {
        let r: Result<(), _> = b.call_when(is_down, async { Err(AppError::NotFound) }).await;
        assert_eq!(r, Err(AppError::NotFound));
    }
    assert_eq!(b.state(), CircuitState::Closed);
    for _ in 0..2 {
        let r: Result<(), _> = b.call_when(is_down, async { Err(AppError::Down) }).await;
        assert_eq!(r, Err(AppError::Down));
    }
    assert_eq!(b.state(), CircuitState::Open);
    // A probe ending in an error that does not count frees its slot without deciding anything.
    advance(SEC).await;
    let r: Result<(), _> = b.call_when(is_down, async { Err(AppError::NotFound) }).await;
    assert_eq!(r, Err(AppError::NotFound));
    assert_eq!(b.state(), CircuitState::HalfOpen);
    let r: Result<u8, AppError> = b.call_when(is_down, async { Ok(1) }).await;
    assert_eq!(r, Ok(1));
    assert_eq!(b.state(), CircuitState::Closed);
}

#[test]
fn defaults_match_the_contract() {
    let s = resilient_runtime::breaker::BreakerSettings::default();
    assert_eq!(
        (s.threshold, s.window, s.cooldown, s.probes, s.failure_rate, s.min_calls),
        (5, 30 * SEC, 10 * SEC, 1, None, 10)
    );
    let b = CircuitBreaker::builder().name("states::defaults").build();
    assert_eq!(*b.settings(), s);
    assert_eq!(b.state(), CircuitState::Closed);
}

#[test]
#[should_panic(expected = "failure_rate must be in (0, 1]")]
fn failure_rate_out_of_range_is_refused() {
    let _ = CircuitBreaker::builder().failure_rate(1.5, 10);
}
