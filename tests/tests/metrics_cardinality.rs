//! Thousands of distinct policy names: calls keep working and the series stay bounded. A binary
//! of its own: the cap on names is per process.

use std::collections::HashSet;

use metrics_exporter_prometheus::PrometheusBuilder;
use resilient::observe::MAX_POLICY_NAMES;
use resilient::runtime::retry::Retry;
use resilient_tests::AppError;

#[tokio::test]
async fn names_beyond_the_cap_record_nothing_and_calls_go_on() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let _local = metrics::set_default_local_recorder(&recorder);
    let total = MAX_POLICY_NAMES + 500;
    for i in 0..total {
        let retry = Retry::builder().name(format!("many::p{i}")).build();
        assert_eq!(retry.run(|| async { Ok::<_, AppError>(i) }).await, Ok(i));
    }
    // A policy built again under a name that has series keeps recording into them.
    let again = Retry::builder().name("many::p0").build();
    again.run(|| async { Ok::<_, AppError>(0) }).await.unwrap();

    let scrape = recorder.handle().render();
    let names: HashSet<&str> = scrape
        .lines()
        .filter(|l| l.starts_with("resilient_calls_total{"))
        .filter_map(|l| l.split("policy=\"").nth(1)?.split('"').next())
        .collect();
    assert_eq!(names.len(), MAX_POLICY_NAMES);
    assert!(!names.contains(format!("many::p{}", total - 1).as_str()));
    assert!(
        scrape.contains(
            r#"resilient_calls_total{policy="many::p0",kind="retry",outcome="success"} 2"#
        ),
        "{scrape}"
    );
}
