//! Metrics of partitioned policies carry the policy's name, never the partition's value: the
//! series stay as few as without `per`, however many values come.

use metrics_exporter_prometheus::PrometheusBuilder;
use resilient::{circuit_breaker, retry, timeout};
use resilient_tests::AppError;

#[retry(max = 2, per = host, name = "per-metrics")]
#[circuit_breaker(per = host, name = "per-metrics")]
#[timeout("p99*2", per = host, name = "per-metrics")]
async fn call(host: &str) -> Result<usize, AppError> {
    Ok(host.len())
}

#[tokio::test]
async fn series_carry_the_policy_never_the_value() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let _local = metrics::set_default_local_recorder(&recorder);
    for i in 0..200 {
        let host = format!("host-{i}.example");
        assert_eq!(call(&host).await, Ok(host.len()));
    }
    let scrape = recorder.handle().render();
    let series: Vec<&str> = scrape.lines().filter(|l| l.starts_with("resilient_")).collect();
    assert!(!series.is_empty(), "{scrape}");
    assert!(!scrape.contains("host-"), "a partition's value reached a label:\n{scrape}");
    for line in &series {
        assert!(line.contains(r#"policy="per-metrics""#), "{line}");
    }
    // Every partition counts into the policy's one series.
    let successes: f64 = series
        .iter()
        .filter(|l| l.starts_with("resilient_calls_total{") && l.contains(r#"outcome="success""#))
        .filter(|l| l.contains(r#"kind="circuit_breaker""#))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(successes, 200.0, "{scrape}");
}
