//! What a bulkhead tells the outside: `resilient_calls_total` by outcome, the in-flight, queued
//! and limit gauges, and its `tracing` events.

use std::collections::HashMap;
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};
use resilient::bulkhead;
use resilient_tests::AppError;
use tokio::task::yield_now;
use tokio::time::sleep;

fn samples(recorder: &PrometheusRecorder) -> HashMap<String, f64> {
    resilient_tests::prometheus_samples(&recorder.handle().render())
}

fn one(s: &HashMap<String, f64>, series: &str) -> f64 {
    resilient_tests::sample(s, series)
}

#[bulkhead(max = 1, queue = 1, wait = "1s", name = "m::bulkhead")]
async fn held(ms: u64, fail: bool) -> Result<(), AppError> {
    sleep(Duration::from_millis(ms)).await;
    if fail { Err(AppError::Permanent) } else { Ok(()) }
}

#[tokio::test(start_paused = true)]
async fn a_bulkhead_counts_outcomes_and_shows_its_gauges() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let _local = metrics::set_default_local_recorder(&recorder);
    let (a, b, c, s) = tokio::join!(held(100, false), held(10, true), held(10, false), async {
        for _ in 0..10 {
            yield_now().await;
        }
        samples(&recorder)
    });
    assert_eq!(a, Ok(()));
    assert_eq!(b, Err(AppError::Permanent));
    assert!(matches!(c, Err(AppError::Rejected(ref e)) if e.is_bulkhead_full()));
    assert_eq!(one(&s, r#"resilient_bulkhead_in_flight{policy="m::bulkhead"}"#), 1.0);
    assert_eq!(one(&s, r#"resilient_bulkhead_queued{policy="m::bulkhead"}"#), 1.0);
    let s = samples(&recorder);
    let calls = |outcome: &str| {
        one(
            &s,
            &format!(
                r#"resilient_calls_total{{policy="m::bulkhead",kind="bulkhead",outcome="{outcome}"}}"#
            ),
        )
    };
    assert_eq!((calls("success"), calls("failure"), calls("rejected")), (1.0, 1.0, 1.0));
    assert_eq!(one(&s, r#"resilient_bulkhead_limit{policy="m::bulkhead"}"#), 1.0);
    assert_eq!(one(&s, r#"resilient_bulkhead_in_flight{policy="m::bulkhead"}"#), 0.0);
    assert_eq!(one(&s, r#"resilient_bulkhead_queued{policy="m::bulkhead"}"#), 0.0);
}
