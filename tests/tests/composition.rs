//! Stacked attributes nest in source order and fuse into one pipeline, however they are named.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use resilient_tests::{AppError, Timeline};
use tokio::time::{Instant, sleep};

const MS: Duration = Duration::from_millis(1);

mod renamed_imports {
    use super::*;
    use resilient::retry as again;
    use resilient::timeout as limit;

    static ATTEMPTS: Timeline = Timeline::new();

    // A renamed `timeout` is not recognised by `again` when it fuses; it expands afterwards, finds
    // the marker and re-fuses: retry stays outermost, each attempt gets its own 100 ms.
    #[again(max = 3, base = "10ms", jitter = "none", budget = "off")]
    #[limit("100ms")]
    async fn per_attempt() -> Result<usize, AppError> {
        let n = ATTEMPTS.mark();
        sleep(if n < 2 { Duration::from_secs(1) } else { MS }).await;
        Ok(n)
    }

    #[tokio::test(start_paused = true)]
    async fn renamed_layers_keep_source_order() {
        let start = Instant::now();
        assert_eq!(per_attempt().await, Ok(2));
        assert_eq!(ATTEMPTS.gaps(), [110 * MS, 120 * MS]);
        assert_eq!(start.elapsed(), 231 * MS);
    }

    static OUTER: Timeline = Timeline::new();

    // The other way round: one deadline for all attempts.
    #[limit("250ms")]
    #[again(max = 10, base = "100ms", jitter = "none", budget = "off")]
    async fn one_deadline() -> Result<usize, AppError> {
        OUTER.mark();
        Err(AppError::Transient)
    }

    #[tokio::test(start_paused = true)]
    async fn timeout_above_retry_bounds_all_attempts() {
        let start = Instant::now();
        assert_eq!(one_deadline().await, Err(AppError::Transient));
        assert_eq!(
            OUTER.count(),
            2,
            "attempts at 0 and 100 ms; a 200 ms sleep would pass the deadline"
        );
        assert_eq!(start.elapsed(), 100 * MS);
    }
}

mod qualified_paths {
    use super::*;

    static CALLS: AtomicU32 = AtomicU32::new(0);

    #[::resilient::retry(max = 2, base = "1ms", budget = "off")]
    #[resilient::circuit_breaker(threshold = 10, name = "qualified")]
    #[resilient::timeout("1s")]
    async fn call() -> Result<u32, AppError> {
        Ok(CALLS.fetch_add(1, SeqCst))
    }

    #[tokio::test(start_paused = true)]
    async fn fully_qualified_attributes_fuse() {
        assert_eq!(call().await, Ok(0));
        let snap = resilient::registry::snapshot();
        // One function, three layers, one name: each layer is found by kind.
        assert_eq!(
            snap.breaker("qualified").unwrap().state,
            resilient::runtime::breaker::CircuitState::Closed
        );
        let fn_name = "composition::qualified_paths::call";
        assert_eq!(snap.retry(fn_name).unwrap().max_attempts, 2);
        assert_eq!(snap.timeout(fn_name).unwrap().current, Duration::from_secs(1));
        assert!(snap.idempotency(fn_name).is_none());
    }
}

mod foreign_attribute_between {
    use super::*;
    use resilient::{retry, timeout};

    static ATTEMPTS: Timeline = Timeline::new();

    // `#[tracing::instrument]` between two resilient attributes: both fuse in source order, and
    // the foreign attribute wraps the whole pipeline.
    #[retry(max = 3, base = "10ms", jitter = "none", budget = "off")]
    #[tracing::instrument]
    #[timeout("100ms")]
    async fn call() -> Result<usize, AppError> {
        let n = ATTEMPTS.mark();
        sleep(if n < 2 { Duration::from_secs(1) } else { MS }).await;
        Ok(n)
    }

    #[tokio::test(start_paused = true)]
    async fn still_correct() {
        assert_eq!(call().await, Ok(2));
        assert_eq!(ATTEMPTS.count(), 3);
    }
}
