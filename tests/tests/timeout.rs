//! `#[timeout]` behaviour under paused tokio time: fixed and adaptive limits, and the deadline
//! they hand to nested calls and retries.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use resilient::{deadline, retry, timeout};
use resilient_tests::{AppError, Timeline};
use tokio::time::{Instant, sleep};

const MS: Duration = Duration::from_millis(1);

struct DropFlag<'a>(&'a AtomicU32);
impl Drop for DropFlag<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

static DROPPED: AtomicU32 = AtomicU32::new(0);

#[timeout("250ms")]
async fn slow(work: Duration) -> Result<&'static str, AppError> {
    let _flag = DropFlag(&DROPPED);
    sleep(work).await;
    Ok("done")
}

#[tokio::test(start_paused = true)]
async fn fixed_timeout_expires_at_the_exact_instant_and_drops_the_body() {
    let start = Instant::now();
    assert_eq!(slow(100 * MS).await, Ok("done"));
    assert_eq!(start.elapsed(), 100 * MS);

    let start = Instant::now();
    let err = slow(Duration::from_secs(10)).await.unwrap_err();
    assert_eq!(start.elapsed(), 250 * MS);
    let AppError::Rejected(e) = err else { panic!("expected a rejection, got {err:?}") };
    assert!(e.is_timeout());
    assert!(e.policy().ends_with("timeout::slow"), "{}", e.policy());
    assert_eq!(e.to_string(), format!("`{}` timed out after 250ms", e.policy()));
    assert_eq!(DROPPED.load(SeqCst), 2, "both bodies dropped; the second at expiry");
}

#[timeout("1s")]
async fn io_call() -> std::io::Result<()> {
    sleep(Duration::from_secs(5)).await;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn io_result_functions_get_timed_out() {
    assert_eq!(io_call().await.unwrap_err().kind(), std::io::ErrorKind::TimedOut);
}

#[timeout("100ms")]
async fn anyhow_call() -> anyhow::Result<()> {
    sleep(Duration::from_secs(5)).await;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn anyhow_functions_need_no_from_impl() {
    let err = anyhow_call().await.unwrap_err();
    assert!(err.downcast_ref::<resilient::Error>().unwrap().is_timeout());
}

mod adaptive {
    use super::*;

    #[timeout(
        "p99*2",
        initial = "1s",
        min = "10ms",
        max = "2s",
        warmup = 20,
        name = "adaptive-demo"
    )]
    async fn call(latency: Duration) -> Result<(), AppError> {
        sleep(latency).await;
        Ok(())
    }

    fn current() -> Duration {
        let snap = resilient::registry::snapshot();
        let json = serde_json::to_value(snap.get("adaptive-demo").expect("listed")).unwrap();
        let current = &json["state"]["current"];
        Duration::new(current["secs"].as_u64().unwrap(), current["nanos"].as_u64().unwrap() as u32)
    }

    #[tokio::test(start_paused = true)]
    async fn warms_up_then_converges_to_k_times_the_percentile() {
        // Warm-up: `initial` (1s) applies, so a 600 ms call succeeds.
        call(600 * MS).await.unwrap();
        assert_eq!(current(), Duration::from_secs(1));
        // Steady latencies of 1..=50 ms: p99 ≈ 50 ms, so the limit converges to ≈ 100 ms.
        for i in 0..2000u64 {
            call(Duration::from_millis(i % 50 + 1)).await.unwrap();
        }
        let limit = current();
        assert!(limit >= 95 * MS && limit <= 105 * MS, "limit {limit:?}");
        // A call slower than 2 × p99 is now cut at the adapted limit.
        let start = Instant::now();
        let err = call(Duration::from_millis(500)).await.unwrap_err();
        assert!(matches!(err, AppError::Rejected(ref e) if e.is_timeout()));
        // The timer fires at the next whole millisecond.
        assert_eq!(
            start.elapsed(),
            Duration::from_millis(limit.as_nanos().div_ceil(1_000_000) as u64)
        );
    }

    /// Only the rule: every adaptive setting at its default.
    #[timeout("p99*3", name = "adaptive-defaults")]
    async fn local(latency: Duration, hiccup: Duration) -> Result<(), AppError> {
        // A local server: faster than tokio's 1 ms timer, so the body moves the clock itself.
        tokio::time::advance(latency).await;
        // A stall on a timer, which races the timeout's own.
        if !hiccup.is_zero() {
            sleep(hiccup).await;
        }
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn a_fast_function_warms_up_at_its_100th_call_onto_the_20ms_floor() {
        let listed = || resilient::registry::snapshot().timeout("adaptive-defaults").cloned();
        for i in 1..=150u64 {
            local(Duration::from_micros(150), Duration::ZERO).await.unwrap();
            let snap = listed().expect("listed");
            assert_eq!((snap.samples, snap.warming_up), (i, i < 100), "after {i} calls");
            let expected = if i < 100 { Duration::from_secs(1) } else { 20 * MS };
            assert_eq!(snap.current, expected, "after {i} calls");
        }
        // 3 × p99 is 0.45 ms; the floor keeps a 12 ms stall from failing the call.
        local(Duration::from_micros(150), 12 * MS).await.unwrap();
        let err = local(Duration::from_micros(150), 25 * MS).await.unwrap_err();
        assert!(matches!(err, AppError::Rejected(ref e) if e.is_timeout()));
    }
}

mod deadlines {
    use super::*;

    #[timeout("5s")]
    async fn inner(seen: &AtomicU32) -> Result<(), AppError> {
        seen.store(deadline::remaining().unwrap().as_millis() as u32, SeqCst);
        sleep(Duration::from_secs(3)).await;
        Ok(())
    }

    #[timeout("100ms")]
    async fn outer(seen: &AtomicU32) -> Result<(), AppError> {
        sleep(20 * MS).await;
        inner(seen).await
    }

    #[tokio::test(start_paused = true)]
    async fn inner_timeouts_never_wait_past_the_callers_deadline() {
        let seen = AtomicU32::new(0);
        let start = Instant::now();
        let err = outer(&seen).await.unwrap_err();
        assert_eq!(start.elapsed(), 100 * MS, "the inner 5 s limit was cut to the outer 100 ms");
        assert_eq!(seen.load(SeqCst), 80, "the body saw 80 ms remaining");
        let AppError::Rejected(e) = err else { panic!() };
        let resilient::Error::Timeout(details) = &e else { panic!("{e:?}") };
        assert_eq!(details.after(), 80 * MS, "the inner call reports the 80 ms that applied");
        assert!(e.policy().ends_with("deadlines::inner"));
    }

    static READ: std::sync::Mutex<Option<Instant>> = std::sync::Mutex::new(None);

    #[timeout("100ms")]
    async fn reads_then_waits() -> Result<(), AppError> {
        *READ.lock().unwrap() = deadline::current();
        sleep(Duration::from_secs(1)).await;
        Ok(())
    }

    // A fixed limit's deadline is fixed when first needed (here: read by the body); the one the
    // body read is the one that fires, exactly, on the paused clock.
    #[tokio::test(start_paused = true)]
    async fn the_deadline_the_body_reads_is_the_one_that_fires() {
        let start = Instant::now();
        let err = reads_then_waits().await.unwrap_err();
        assert_eq!(*READ.lock().unwrap(), Some(start + 100 * MS));
        assert_eq!(start.elapsed(), 100 * MS);
        let AppError::Rejected(resilient::Error::Timeout(details)) = err else { panic!("{err:?}") };
        assert_eq!(details.after(), 100 * MS);
        assert_eq!(deadline::current(), None, "the caller's deadline is restored");
    }

    static ATTEMPTS: Timeline = Timeline::new();

    // `timeout` above `retry`: one deadline for all attempts.
    #[timeout("1s")]
    #[retry(max = 10, base = "200ms", jitter = "none", budget = "off")]
    async fn fused(fail: bool) -> Result<usize, AppError> {
        ATTEMPTS.mark();
        sleep(50 * MS).await;
        if fail { Err(AppError::Transient) } else { Ok(1) }
    }

    #[tokio::test(start_paused = true)]
    async fn retry_never_sleeps_past_the_deadline() {
        let start = Instant::now();
        assert_eq!(fused(true).await, Err(AppError::Transient), "the last error, not a timeout");
        // Attempts at 0, 250, 700; the next sleep (800 ms) would end past 1 s.
        assert_eq!(ATTEMPTS.gaps(), [250 * MS, 450 * MS]);
        assert_eq!(start.elapsed(), 750 * MS);
    }

    static PER_ATTEMPT: Timeline = Timeline::new();

    // `retry` above `timeout`: each attempt gets its own limit, and timeouts are retried.
    #[retry(max = 3, base = "10ms", jitter = "none", budget = "off")]
    #[timeout("100ms")]
    async fn per_attempt() -> Result<usize, AppError> {
        let n = PER_ATTEMPT.mark();
        sleep(if n < 2 { Duration::from_secs(1) } else { MS }).await;
        Ok(n)
    }

    #[tokio::test(start_paused = true)]
    async fn each_attempt_gets_its_own_timeout() {
        let start = Instant::now();
        assert_eq!(per_attempt().await, Ok(2));
        assert_eq!(PER_ATTEMPT.gaps(), [110 * MS, 120 * MS]);
        assert_eq!(start.elapsed(), 231 * MS);
    }

    static NOT_RETRIED: AtomicU32 = AtomicU32::new(0);

    #[retry(max = 3, base = "10ms", when = |e| matches!(e, AppError::Transient), budget = "off")]
    #[timeout("100ms")]
    async fn timeouts_not_transient() -> Result<(), AppError> {
        NOT_RETRIED.fetch_add(1, SeqCst);
        sleep(Duration::from_secs(1)).await;
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn when_decides_on_timeouts_as_the_caller_would_see_them() {
        let err = timeouts_not_transient().await.unwrap_err();
        assert!(matches!(err, AppError::Rejected(ref e) if e.is_timeout()));
        assert_eq!(NOT_RETRIED.load(SeqCst), 1);
    }
}
