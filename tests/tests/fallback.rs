//! `#[fallback(f)]`: what the caller gets when the layers inside fail, for sync and async
//! fallbacks, paths and methods, with `on`, rejections of inner layers, configuration, the
//! registry and metrics.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusBuilder;
use resilient::{circuit_breaker, fallback, retry, timeout};
use resilient_tests::AppError;

fn cached_sync(e: AppError) -> Result<u32, AppError> {
    match e {
        AppError::Transient => Ok(1),
        other => Err(other),
    }
}

async fn cached_async(e: AppError) -> Result<u32, AppError> {
    tokio::task::yield_now().await;
    match e {
        AppError::Rejected(r) if r.is_circuit_open() => Ok(20),
        AppError::Rejected(r) if r.is_timeout() => Ok(30),
        _ => Ok(2),
    }
}

fn is_transient(e: &AppError) -> bool {
    matches!(e, AppError::Transient | AppError::Rejected(_))
}

mod shapes {
    use super::*;

    static RUNS: AtomicU32 = AtomicU32::new(0);

    #[fallback(cached_sync)]
    async fn sync_fallback(fail: Option<AppError>) -> Result<u32, AppError> {
        RUNS.fetch_add(1, SeqCst);
        match fail {
            Some(e) => Err(e),
            None => Ok(0),
        }
    }

    #[fallback(cached_async)]
    async fn async_fallback(fail: bool) -> Result<u32, AppError> {
        if fail { Err(AppError::Permanent) } else { Ok(0) }
    }

    #[tokio::test]
    async fn a_sync_fallback_answers_errors_and_successes_pass() {
        assert_eq!(sync_fallback(None).await, Ok(0));
        assert_eq!(sync_fallback(Some(AppError::Transient)).await, Ok(1));
        // The fallback's own `Err` is what the caller gets.
        assert_eq!(sync_fallback(Some(AppError::Permanent)).await, Err(AppError::Permanent));
        assert_eq!(RUNS.load(SeqCst), 3, "the body runs once per call");
    }

    #[tokio::test]
    async fn an_async_fallback_is_awaited() {
        assert_eq!(async_fallback(false).await, Ok(0));
        assert_eq!(async_fallback(true).await, Ok(2));
    }
}

mod on {
    use super::*;

    #[fallback(cached_async, on = |e| matches!(e, AppError::Transient))]
    async fn only_transient(e: AppError) -> Result<u32, AppError> {
        Err(e)
    }

    #[tokio::test]
    async fn on_limits_the_errors_answered() {
        assert_eq!(only_transient(AppError::Transient).await, Ok(2));
        assert_eq!(only_transient(AppError::Permanent).await, Err(AppError::Permanent));
        let snap = resilient::registry::snapshot();
        let f = snap.fallback("fallback::on::only_transient").expect("listed");
        assert_eq!((f.used, f.passed, f.enabled), (1, 1, true));
        let p = snap.policy("fallback::on::only_transient", "fallback").unwrap();
        assert_eq!(p.setting("enabled").unwrap().value, "true");
    }
}

mod rejections {
    use super::*;

    static RUNS: AtomicU32 = AtomicU32::new(0);

    #[fallback(cached_async, on = is_transient)]
    #[circuit_breaker(threshold = 2, cooldown = "10s")]
    async fn guarded(fail: bool) -> Result<u32, AppError> {
        RUNS.fetch_add(1, SeqCst);
        if fail { Err(AppError::Transient) } else { Ok(0) }
    }

    #[fallback(cached_async)]
    #[timeout("100ms")]
    async fn slow() -> Result<u32, AppError> {
        tokio::time::sleep(Duration::from_secs(1)).await;
        Ok(0)
    }

    #[tokio::test(start_paused = true)]
    async fn an_open_circuit_reaches_the_fallback_as_e() {
        assert_eq!(guarded(true).await, Ok(2));
        assert_eq!(guarded(true).await, Ok(2));
        // Open now: the body does not run, the fallback answers the rejection.
        assert_eq!(guarded(false).await, Ok(20));
        assert_eq!(RUNS.load(SeqCst), 2);
        // The breaker saw the failures: the fallback is outside it.
        let snap = resilient::registry::snapshot();
        let b =
            serde_json::to_value(snap.breaker("fallback::rejections::guarded").unwrap()).unwrap();
        assert_eq!(b["state"], "open");
    }

    #[tokio::test(start_paused = true)]
    async fn a_timeout_reaches_the_fallback_as_e() {
        assert_eq!(slow().await, Ok(30));
    }

    #[fallback(cached_sync, on = |e| *e == AppError::Transient)]
    #[circuit_breaker(threshold = 1, cooldown = "10s")]
    async fn not_picked() -> Result<u32, AppError> {
        Err(AppError::Permanent)
    }

    #[tokio::test(start_paused = true)]
    async fn a_rejection_on_does_not_pick_reaches_the_caller() {
        assert_eq!(not_picked().await, Err(AppError::Permanent));
        let r = not_picked().await;
        assert!(matches!(&r, Err(AppError::Rejected(e)) if e.is_circuit_open()), "{r:?}");
    }
}

mod order {
    use super::*;

    static OUTER_RUNS: AtomicU32 = AtomicU32::new(0);
    static INNER_RUNS: AtomicU32 = AtomicU32::new(0);

    // Recommended: the fallback answers only once every retry failed.
    #[fallback(cached_sync)]
    #[retry(max = 3, base = "10ms", jitter = "none", budget = "off")]
    async fn fallback_outside() -> Result<u32, AppError> {
        OUTER_RUNS.fetch_add(1, SeqCst);
        Err(AppError::Transient)
    }

    // The other way round the fallback answers the first failure: the retry never retries.
    #[retry(max = 3, base = "10ms", jitter = "none", budget = "off")]
    #[fallback(cached_sync)]
    async fn fallback_inside() -> Result<u32, AppError> {
        INNER_RUNS.fetch_add(1, SeqCst);
        Err(AppError::Transient)
    }

    #[tokio::test(start_paused = true)]
    async fn outermost_fallback_answers_after_the_retries() {
        assert_eq!(fallback_outside().await, Ok(1));
        assert_eq!(OUTER_RUNS.load(SeqCst), 3);
        assert_eq!(fallback_inside().await, Ok(1));
        assert_eq!(INNER_RUNS.load(SeqCst), 1);
    }
}

mod methods {
    use super::*;

    struct Cache {
        last: u32,
        misses: u32,
    }

    impl Cache {
        fn stale(&self, _e: AppError) -> Result<u32, AppError> {
            Ok(self.last)
        }

        async fn count_miss(&mut self, _e: AppError) -> Result<u32, AppError> {
            self.misses += 1;
            Ok(self.last)
        }

        fn fixed(_e: AppError) -> Result<u32, AppError> {
            Ok(7)
        }

        #[fallback(self.stale)]
        #[retry(max = 2, base = "10ms")]
        async fn get(&self, fail: bool) -> Result<u32, AppError> {
            if fail { Err(AppError::Transient) } else { Ok(self.last + 1) }
        }

        // `&mut self` is reborrowed by the layers inside and whole again for the fallback.
        #[fallback(self.count_miss)]
        #[retry(max = 2, base = "10ms")]
        async fn refresh(&mut self, fail: bool) -> Result<u32, AppError> {
            self.last += 1;
            if fail { Err(AppError::Transient) } else { Ok(self.last) }
        }

        #[fallback(Self::fixed)]
        async fn assoc(&self) -> Result<u32, AppError> {
            Err(AppError::Permanent)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn methods_of_the_receiver_and_associated_fns() {
        let mut c = Cache { last: 10, misses: 0 };
        assert_eq!(c.get(false).await, Ok(11));
        assert_eq!(c.get(true).await, Ok(10));
        assert_eq!(c.refresh(false).await, Ok(11));
        assert_eq!(c.refresh(true).await, Ok(13), "two attempts ran, then the fallback");
        assert_eq!(c.misses, 1);
        assert_eq!(c.assoc().await, Ok(7));
        // Methods get `module::Type::method` names.
        assert!(
            resilient::registry::snapshot().fallback("fallback::methods::Cache::get").is_some()
        );
    }
}

mod configuration {
    use super::*;

    #[fallback(cached_sync, name = "fallback.cfg")]
    async fn switchable() -> Result<u32, AppError> {
        Err(AppError::Transient)
    }

    #[tokio::test]
    async fn enabled_false_turns_it_off() {
        assert_eq!(switchable().await, Ok(1));
        resilient::config::apply("[\"fallback.cfg\".fallback]\nenabled = false").unwrap();
        assert_eq!(switchable().await, Err(AppError::Transient));
        let snap = resilient::registry::snapshot();
        assert!(!snap.fallback("fallback.cfg").unwrap().enabled);
        resilient::config::apply("[\"fallback.cfg\".fallback]\nenabled = true").unwrap();
        assert_eq!(switchable().await, Ok(1));
        let err = resilient::config::apply("[\"fallback.cfg\".fallback]\non = 1").unwrap_err();
        assert!(err.to_string().contains("it is code"), "{err}");
    }
}

mod metrics {
    use super::*;

    #[fallback(cached_sync, on = |e| *e == AppError::Transient, name = "fallback.metrics")]
    async fn counted(e: Option<AppError>) -> Result<u32, AppError> {
        e.map_or(Ok(0), Err)
    }

    #[tokio::test]
    async fn calls_total_counts_fallbacks_and_failures() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let _local = ::metrics::set_default_local_recorder(&recorder);
        counted(Some(AppError::Transient)).await.unwrap();
        counted(Some(AppError::Transient)).await.unwrap();
        counted(Some(AppError::Permanent)).await.unwrap_err();
        counted(None).await.unwrap();
        let text = recorder.handle().render();
        let series = |outcome: &str| {
            format!(
                r#"resilient_calls_total{{policy="fallback.metrics",kind="fallback",outcome="{outcome}"}}"#
            )
        };
        assert!(text.contains(&format!("{} 2", series("fallback"))), "{text}");
        assert!(text.contains(&format!("{} 1", series("failure"))), "{text}");
        assert!(!text.contains(&series("success")), "successes are not counted: {text}");
    }
}
