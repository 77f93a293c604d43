//! `#[circuit_breaker]` behaviour under paused tokio time: the seed's state machine, driven
//! through annotated functions.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use resilient::runtime::breaker::CircuitState;
use resilient::{circuit_breaker, retry, timeout};

use resilient_tests::{AppError, Timeline, is_transient};
use tokio::time::{Instant, advance, sleep};

const MS: Duration = Duration::from_millis(1);

fn state_of(name: &str) -> serde_json::Value {
    let snap = resilient::registry::snapshot();
    serde_json::to_value(snap.get(name).unwrap_or_else(|| panic!("{name} not listed"))).unwrap()["state"].clone()
}

fn rejected(r: &Result<(), AppError>) -> bool {
    matches!(r, Err(AppError::Rejected(e)) if e.is_circuit_open())
}

mod transitions {
    use super::*;

    static RUNS: AtomicU32 = AtomicU32::new(0);
    static HEALTHY: AtomicBool = AtomicBool::new(false);

    #[circuit_breaker(threshold = 3, window = "30s", cooldown = "10s", name = "transitions")]
    async fn call() -> Result<(), AppError> {
        RUNS.fetch_add(1, SeqCst);
        if HEALTHY.load(SeqCst) { Ok(()) } else { Err(AppError::Transient) }
    }

    #[tokio::test(start_paused = true)]
    async fn closed_open_half_open_closed_and_back_open() {
        // closed → open: the third failure within the window opens it.
        for _ in 0..3 {
            assert_eq!(call().await, Err(AppError::Transient));
        }
        assert_eq!(state_of("transitions")["state"], "open");
        // While open the body does not run; the error says when probes are let through.
        let r = call().await;
        assert!(rejected(&r), "{r:?}");
        let Err(AppError::Rejected(resilient::Error::CircuitOpen(d))) = r else { unreachable!() };
        assert_eq!(d.retry_after(), Duration::from_secs(10));
        assert_eq!(RUNS.load(SeqCst), 3);

        // open → half-open after the cooldown; a failing probe re-opens it for a full cooldown.
        advance(Duration::from_secs(10)).await;
        assert_eq!(call().await, Err(AppError::Transient), "the probe ran");
        assert_eq!(RUNS.load(SeqCst), 4);
        assert!(rejected(&call().await));
        advance(Duration::from_secs(9)).await;
        assert!(rejected(&call().await), "still open 9 s into the new cooldown");

        // half-open → closed when the probe succeeds.
        advance(Duration::from_secs(1)).await;
        HEALTHY.store(true, SeqCst);
        assert_eq!(call().await, Ok(()));
        assert_eq!(state_of("transitions")["state"], "closed");
        assert_eq!(call().await, Ok(()));
        assert_eq!(RUNS.load(SeqCst), 6);
    }

    static OLD: AtomicU32 = AtomicU32::new(0);

    #[circuit_breaker(threshold = 3, window = "16s", name = "window-expiry")]
    async fn sporadic() -> Result<(), AppError> {
        OLD.fetch_add(1, SeqCst);
        Err(AppError::Transient)
    }

    #[tokio::test(start_paused = true)]
    async fn failures_older_than_the_window_stop_counting() {
        sporadic().await.unwrap_err();
        sporadic().await.unwrap_err();
        advance(Duration::from_secs(17)).await;
        sporadic().await.unwrap_err();
        sporadic().await.unwrap_err();
        assert_eq!(
            state_of("window-expiry")["state"],
            "closed",
            "only 2 failures in the last 16 s"
        );
        sporadic().await.unwrap_err();
        assert_eq!(state_of("window-expiry")["state"], "open");
    }
}

mod rules {
    use super::*;

    static N: AtomicU32 = AtomicU32::new(0);

    #[circuit_breaker(failure_rate = 0.5, min_calls = 10, window = "10s", name = "rate")]
    async fn half_fail() -> Result<(), AppError> {
        if N.fetch_add(1, SeqCst).is_multiple_of(2) { Err(AppError::Transient) } else { Ok(()) }
    }

    #[tokio::test(start_paused = true)]
    async fn failure_rate_trips_after_min_calls() {
        for i in 0..9 {
            let _ = half_fail().await;
            assert_eq!(state_of("rate")["state"], "closed", "call {i}: fewer than min_calls");
        }
        let _ = half_fail().await; // 10th call: 5 of 10 failed = 50 %
        let _ = half_fail().await;
        assert_eq!(state_of("rate")["state"], "open");
    }

    static PERM: AtomicU32 = AtomicU32::new(0);

    #[circuit_breaker(threshold = 2, when = is_transient, name = "when")]
    async fn permanent() -> Result<(), AppError> {
        PERM.fetch_add(1, SeqCst);
        Err(AppError::Permanent)
    }

    #[tokio::test(start_paused = true)]
    async fn when_decides_which_errors_count() {
        for _ in 0..10 {
            assert_eq!(permanent().await, Err(AppError::Permanent));
        }
        assert_eq!(
            state_of("when")["state"],
            "closed",
            "permanent errors are the caller's, not the dependency's"
        );
        assert_eq!(PERM.load(SeqCst), 10);
    }
}

mod sharing {
    use super::*;

    #[circuit_breaker(threshold = 2, cooldown = "5s", name = "payments-db")]
    async fn read() -> Result<(), AppError> {
        Err(AppError::Transient)
    }

    static WRITES: AtomicU32 = AtomicU32::new(0);

    #[circuit_breaker(threshold = 2, cooldown = "5s", name = "payments-db")]
    async fn write() -> Result<(), AppError> {
        WRITES.fetch_add(1, SeqCst);
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn functions_naming_one_breaker_trip_together() {
        read().await.unwrap_err();
        read().await.unwrap_err();
        assert!(rejected(&write().await), "write shares the open breaker");
        assert_eq!(WRITES.load(SeqCst), 0);
        let snap = resilient::registry::snapshot();
        assert_eq!(snap.policies.iter().filter(|p| p.name == "payments-db").count(), 1);
    }
}

mod probes {
    use super::*;

    static PROBES: AtomicU32 = AtomicU32::new(0);

    #[circuit_breaker(threshold = 1, cooldown = "1s", probes = 2, name = "probe-allowance")]
    async fn call(fail: bool) -> Result<(), AppError> {
        if !fail {
            PROBES.fetch_add(1, SeqCst);
            sleep(100 * MS).await;
        }
        if fail { Err(AppError::Transient) } else { Ok(()) }
    }

    #[tokio::test(start_paused = true)]
    async fn only_probes_run_while_half_open() {
        call(true).await.unwrap_err();
        advance(Duration::from_secs(1)).await;
        let results: Vec<_> = futures_join(10).await;
        assert_eq!(PROBES.load(SeqCst), 2, "exactly `probes` calls ran");
        assert_eq!(results.iter().filter(|r| rejected(r)).count(), 8);
        assert_eq!(state_of("probe-allowance")["state"], "closed");
    }

    async fn futures_join(n: usize) -> Vec<Result<(), AppError>> {
        let handles: Vec<_> = (0..n).map(|_| tokio::spawn(call(false))).collect();
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.unwrap());
        }
        out
    }

    static CANCELLED_RUNS: AtomicU32 = AtomicU32::new(0);

    #[circuit_breaker(threshold = 1, cooldown = "1s", name = "cancelled-probe")]
    async fn hangs(fail: bool) -> Result<(), AppError> {
        CANCELLED_RUNS.fetch_add(1, SeqCst);
        if fail {
            return Err(AppError::Transient);
        }
        sleep(Duration::from_secs(3600)).await;
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_probe_releases_its_slot() {
        hangs(true).await.unwrap_err();
        advance(Duration::from_secs(1)).await;
        // The probe is dropped mid-flight by the caller's own timeout.
        assert!(tokio::time::timeout(Duration::from_secs(1), hangs(false)).await.is_err());
        // Never stuck half-open: the next call is let through as a probe.
        let r = tokio::time::timeout(Duration::from_millis(10), hangs(false)).await;
        assert!(r.is_err(), "it ran (and hung) rather than being rejected");
        assert_eq!(CANCELLED_RUNS.load(SeqCst), 3);
    }
}

mod composition {
    use super::*;

    static ATTEMPTS: Timeline = Timeline::new();

    #[retry(max = 5, base = "100ms", jitter = "none", budget = "off")]
    #[circuit_breaker(threshold = 3, cooldown = "30s", name = "retry-stops-at-open")]
    async fn flaky() -> Result<(), AppError> {
        ATTEMPTS.mark();
        Err(AppError::Transient)
    }

    #[tokio::test(start_paused = true)]
    async fn retry_stops_at_once_when_the_breaker_opens() {
        let start = Instant::now();
        // Three attempts reached the dependency and the third opened the breaker: the retry
        // gives up at once with the last error instead of sleeping against the open circuit.
        assert_eq!(flaky().await, Err(AppError::Transient));
        assert_eq!(ATTEMPTS.count(), 3);
        assert_eq!(
            start.elapsed(),
            300 * MS,
            "100 + 200 ms of backoff, nothing after the breaker opened"
        );
        // The next call is rejected without running or sleeping.
        let start = Instant::now();
        assert!(rejected(&flaky().await));
        assert_eq!(ATTEMPTS.count(), 3);
        assert_eq!(start.elapsed(), Duration::ZERO);
        // Each attempt counted once; the rejection not at all.
        assert_eq!(state_of("retry-stops-at-open")["failures"], 3);
    }

    static SLOW: AtomicU32 = AtomicU32::new(0);

    #[circuit_breaker(threshold = 2, name = "timeouts-count")]
    #[timeout("50ms")]
    async fn slow() -> Result<(), AppError> {
        SLOW.fetch_add(1, SeqCst);
        sleep(Duration::from_secs(1)).await;
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn inner_timeouts_count_as_failures() {
        for _ in 0..2 {
            let r = slow().await;
            assert!(matches!(r, Err(AppError::Rejected(ref e)) if e.is_timeout()), "{r:?}");
        }
        assert!(rejected(&slow().await));
        assert_eq!(SLOW.load(SeqCst), 2);
    }
}

#[tokio::test(start_paused = true)]
async fn no_macro_breaker_around_a_closure() {
    use resilient::runtime::breaker::CircuitBreaker;
    let breaker = CircuitBreaker::builder().name("by-hand").threshold(1).build();
    let r: Result<(), AppError> = breaker.call(async { Err(AppError::Transient) }).await;
    assert_eq!(r, Err(AppError::Transient));
    assert_eq!(breaker.state(), CircuitState::Open);
    let r: Result<(), AppError> = breaker.call(async { Ok(()) }).await;
    assert!(rejected(&r));
}
