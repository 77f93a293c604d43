//! Metrics (feature `metrics`): what each policy kind records, and faults of the recorder that
//! must not break calls. Recorders are installed per test thread (`set_default_local_recorder`)
//! before the functions' first calls, when their policies resolve their handles.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::SeqCst};
use std::time::Duration;

use metrics::{
    Counter, CounterFn, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};
use resilient::{circuit_breaker, idempotent, retry, timeout};
use resilient_tests::AppError;

/// The samples of a Prometheus text rendering: `name{labels}` → value.
fn samples(recorder: &PrometheusRecorder) -> HashMap<String, f64> {
    resilient_tests::prometheus_samples(&recorder.handle().render())
}

fn calls(s: &HashMap<String, f64>, policy: &str, kind: &str, outcome: &str) -> f64 {
    let series =
        format!(r#"resilient_calls_total{{policy="{policy}",kind="{kind}",outcome="{outcome}"}}"#);
    s.get(&series).copied().unwrap_or_else(|| panic!("no {series} in {s:#?}"))
}

fn one(s: &HashMap<String, f64>, series: &str) -> f64 {
    resilient_tests::sample(s, series)
}

static ATTEMPTS: AtomicU32 = AtomicU32::new(0);

#[retry(max = 3, base = "10ms", name = "m::retry")]
async fn always_fails(fail: bool) -> Result<(), AppError> {
    ATTEMPTS.fetch_add(1, SeqCst);
    if fail { Err(AppError::Transient) } else { Ok(()) }
}

#[tokio::test(start_paused = true)]
async fn retry_counts_retries_outcomes_and_why_it_gave_up() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let _local = metrics::set_default_local_recorder(&recorder);
    always_fails(true).await.unwrap_err();
    always_fails(false).await.unwrap();
    let s = samples(&recorder);
    assert_eq!(one(&s, r#"resilient_retries_total{policy="m::retry"}"#), 2.0);
    assert_eq!(calls(&s, "m::retry", "retry", "failure"), 1.0);
    assert_eq!(calls(&s, "m::retry", "retry", "success"), 1.0);
    assert_eq!(
        one(&s, r#"resilient_retry_gave_up_total{policy="m::retry",reason="exhausted"}"#),
        1.0
    );
    assert_eq!(one(&s, r#"resilient_retry_gave_up_total{policy="m::retry",reason="budget"}"#), 0.0);
}

#[circuit_breaker(threshold = 1, cooldown = "1s", name = "m::breaker")]
async fn guarded(fail: bool) -> Result<(), AppError> {
    if fail { Err(AppError::Transient) } else { Ok(()) }
}

#[tokio::test(start_paused = true)]
async fn the_breaker_gauge_follows_transitions() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let _local = metrics::set_default_local_recorder(&recorder);
    guarded(false).await.unwrap();
    let state = |r: &PrometheusRecorder| {
        one(&samples(r), r#"resilient_circuit_state{policy="m::breaker"}"#)
    };
    assert_eq!(state(&recorder), 0.0);
    guarded(true).await.unwrap_err(); // closed -> open
    assert_eq!(state(&recorder), 1.0);
    guarded(false).await.unwrap_err(); // rejected
    tokio::time::advance(Duration::from_secs(1)).await;
    guarded(false).await.unwrap(); // open -> half-open -> closed
    assert_eq!(state(&recorder), 0.0);
    let s = samples(&recorder);
    assert_eq!(one(&s, r#"resilient_circuit_transitions_total{policy="m::breaker"}"#), 3.0);
    let outcome = |o| calls(&s, "m::breaker", "circuit_breaker", o);
    assert_eq!((outcome("success"), outcome("failure"), outcome("rejected")), (2.0, 1.0, 1.0));
}

#[timeout("p50*2", initial = "1s", warmup = 5, window = "1s", name = "m::adaptive")]
async fn sleeps(ms: u64) -> Result<(), AppError> {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn the_timeout_gauge_follows_the_adaptive_limit() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let _local = metrics::set_default_local_recorder(&recorder);
    sleeps(10).await.unwrap();
    let limit = |r: &PrometheusRecorder| {
        one(&samples(r), r#"resilient_timeout_limit_seconds{policy="m::adaptive"}"#)
    };
    assert_eq!(limit(&recorder), 1.0, "the initial limit");
    for _ in 0..20 {
        sleeps(10).await.unwrap();
    }
    let current = resilient::registry::snapshot().timeout("m::adaptive").unwrap().current;
    assert!(current < Duration::from_millis(100), "{current:?}");
    assert_eq!(limit(&recorder), current.as_secs_f64(), "the gauge shows the limit applied");
    // Every call waited (slept), so every one is in the histogram.
    let s = samples(&recorder);
    assert_eq!(calls(&s, "m::adaptive", "timeout", "success"), 21.0);
    let count = r#"resilient_call_duration_seconds_count{policy="m::adaptive",kind="timeout"}"#;
    assert_eq!(one(&s, count), 21.0);
}

#[timeout("1s", name = "m::fixed")]
async fn instant() -> Result<(), AppError> {
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_call_done_at_its_first_poll_is_counted_but_not_timed() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let _local = metrics::set_default_local_recorder(&recorder);
    instant().await.unwrap();
    let s = samples(&recorder);
    assert_eq!(calls(&s, "m::fixed", "timeout", "success"), 1.0);
    let count = r#"resilient_call_duration_seconds_count{policy="m::fixed",kind="timeout"}"#;
    assert_eq!(one(&s, count), 0.0);
}

static BODIES: AtomicU32 = AtomicU32::new(0);

#[idempotent(key = key, max_entries = 2, name = "m::idem")]
async fn charge(key: u64) -> Result<u64, AppError> {
    BODIES.fetch_add(1, SeqCst);
    tokio::time::sleep(Duration::from_millis(10)).await;
    Ok(key)
}

#[tokio::test(start_paused = true)]
async fn idempotency_counts_hits_misses_joins_and_evictions() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let _local = metrics::set_default_local_recorder(&recorder);
    let (a, b) = tokio::join!(charge(1), charge(1)); // one runs, the other joins it
    assert_eq!((a, b), (Ok(1), Ok(1)));
    charge(1).await.unwrap(); // hit
    charge(2).await.unwrap();
    charge(3).await.unwrap(); // the store holds 2: key 1 is evicted
    let s = samples(&recorder);
    assert_eq!(calls(&s, "m::idem", "idempotency", "miss"), 3.0);
    assert_eq!(calls(&s, "m::idem", "idempotency", "hit"), 2.0);
    assert_eq!(one(&s, r#"resilient_idempotency_joined_total{policy="m::idem"}"#), 1.0);
    assert_eq!(one(&s, r#"resilient_idempotency_evicted_total{policy="m::idem"}"#), 1.0);
    assert_eq!(BODIES.load(SeqCst), 3);
}

// Bad input and faults.

#[retry(name = "m::late")]
async fn late() -> Result<(), AppError> {
    Ok(())
}

#[retry(name = "m::after")]
async fn after() -> Result<(), AppError> {
    Ok(())
}

#[tokio::test]
async fn a_recorder_installed_after_the_first_call_sees_only_policies_built_later() {
    late().await.unwrap(); // built with no recorder: no-op handles, kept
    let recorder = PrometheusBuilder::new().build_recorder();
    let _local = metrics::set_default_local_recorder(&recorder);
    late().await.unwrap();
    after().await.unwrap();
    let s = samples(&recorder);
    assert!(!s.keys().any(|k| k.contains("m::late")), "{s:#?}");
    assert_eq!(calls(&s, "m::after", "retry", "success"), 1.0);
}

/// A recorder that panics when asked for a handle.
struct PanicsOnRegister;

impl Recorder for PanicsOnRegister {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, _: &Key, _: &Metadata<'_>) -> Counter {
        panic!("recorder bug: register_counter")
    }
    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        panic!("recorder bug: register_gauge")
    }
    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        panic!("recorder bug: register_histogram")
    }
}

/// A recorder whose counters panic on every increment, counting how often they were asked.
#[derive(Default)]
struct PanicsOnIncrement(Arc<PanickyCounter>);

#[derive(Default)]
struct PanickyCounter(AtomicU64);

impl CounterFn for PanickyCounter {
    fn increment(&self, _: u64) {
        self.0.fetch_add(1, SeqCst);
        panic!("recorder bug: increment");
    }
    fn absolute(&self, _: u64) {}
}

impl Recorder for PanicsOnIncrement {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, _: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(Arc::clone(&self.0))
    }
    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }
    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

#[retry(name = "m::panicky_register")]
#[circuit_breaker(name = "m::panicky_register")]
#[timeout("1s", name = "m::panicky_register")]
async fn under_a_recorder_that_panics_registering() -> Result<u32, AppError> {
    Ok(1)
}

#[tokio::test]
async fn a_recorder_panicking_at_registration_leaves_calls_working() {
    let recorder = PanicsOnRegister;
    let _local = metrics::set_default_local_recorder(&recorder);
    for _ in 0..3 {
        assert_eq!(under_a_recorder_that_panics_registering().await, Ok(1));
    }
}

#[circuit_breaker(name = "m::panicky_increment")]
async fn under_a_recorder_that_panics_recording() -> Result<u32, AppError> {
    Ok(2)
}

#[tokio::test]
async fn a_recorder_panicking_when_recording_is_switched_off_for_the_policy() {
    let recorder = PanicsOnIncrement::default();
    let _local = metrics::set_default_local_recorder(&recorder);
    for _ in 0..5 {
        assert_eq!(under_a_recorder_that_panics_recording().await, Ok(2));
    }
    assert_eq!(recorder.0.0.load(SeqCst), 1, "asked once, then no more");
}

#[resilient::rate_limit("2/s", burst = 1, wait = "500ms", name = "m::rate_limit")]
async fn limited() -> Result<(), AppError> {
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_rate_limit_counts_rejections_and_times_waits() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let _local = metrics::set_default_local_recorder(&recorder);
    limited().await.unwrap(); // at once
    limited().await.unwrap(); // waits 500 ms
    let (a, b) = tokio::join!(limited(), limited()); // the first waits 500 ms, the second would wait 1 s
    assert!(a.is_ok() && b.is_err());
    let s = samples(&recorder);
    assert_eq!(calls(&s, "m::rate_limit", "rate_limit", "rejected"), 1.0);
    assert_eq!(one(&s, r#"resilient_rate_limit_wait_seconds_count{policy="m::rate_limit"}"#), 2.0);
    assert_eq!(one(&s, r#"resilient_rate_limit_wait_seconds_sum{policy="m::rate_limit"}"#), 1.0);
}
