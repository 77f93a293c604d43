//! `#[hedge]`'s events (`debug`, with `policy` and `kind`), metrics and registry entry.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusBuilder;
use resilient::{hedge, registry};
use resilient_tests::AppError;
use resilient_tests::events::Recorder;
use tracing::Level;

const MS: Duration = Duration::from_millis(1);

static N: AtomicU32 = AtomicU32::new(0);

/// The first attempt takes 1 s, the hedge (sent at 20 ms) 10 ms: it wins at 30 ms, before a
/// third attempt would start.
#[hedge(after = "20ms", max = 3, name = "observed")]
async fn observed() -> Result<u32, AppError> {
    let n = N.fetch_add(1, SeqCst);
    tokio::time::sleep(if n == 0 { 1000 * MS } else { 10 * MS }).await;
    Ok(n)
}

#[tokio::test(start_paused = true)]
async fn a_hedge_sent_and_won_is_an_event_a_counter_and_a_registry_count() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let _local = metrics::set_default_local_recorder(&recorder);
    let events = Recorder::default();
    let _guard = tracing::subscriber::set_default(events.clone());

    assert_eq!(observed().await, Ok(1));

    let seen = events.events();
    let messages: Vec<(Level, &str)> = seen
        .iter()
        .map(|e| (e.level, e.message()))
        .filter(|(_, m)| m.starts_with("hedge:"))
        .collect();
    assert_eq!(
        messages,
        [
            (Level::DEBUG, "hedge: no answer yet, another attempt started alongside"),
            (Level::DEBUG, "hedge: a hedge answered first; the other attempts are dropped"),
        ],
        "{seen:?}"
    );
    for e in seen.iter().filter(|e| e.field("kind") == "hedge") {
        assert_eq!(e.field("policy"), "observed", "{e:?}");
    }
    let sent = seen.iter().find(|e| e.fields.contains_key("attempt")).unwrap();
    assert_eq!((sent.field("attempt"), sent.field("after")), ("2", "20ms"));

    let text = recorder.handle().render();
    for line in [
        r#"resilient_hedges_total{policy="observed"} 1"#,
        r#"resilient_hedges_won_total{policy="observed"} 1"#,
        r#"resilient_calls_total{policy="observed",kind="hedge",outcome="success"} 1"#,
    ] {
        assert!(text.lines().any(|l| l == line), "no {line} in\n{text}");
    }

    let snap = registry::snapshot();
    let p = snap.policy("observed", "hedge").unwrap();
    assert_eq!(p.state.kind(), "hedge");
    let json = serde_json::to_value(&p.state).unwrap();
    assert_eq!(json["kind"], "hedge");
    assert_eq!(json["hedges_sent"], 1);
    assert_eq!(json["after"], serde_json::json!({ "fixed": { "secs": 0, "nanos": 20_000_000 } }));
    assert_eq!(p.setting("max").unwrap().value, "3");
    assert_eq!(p.setting("budget").unwrap().value, "10%");
}

static SPENT: AtomicU32 = AtomicU32::new(0);

#[hedge(after = "10ms", budget = "1%", name = "observed::spent")]
async fn always_slow() -> Result<u32, AppError> {
    SPENT.fetch_add(1, SeqCst);
    tokio::time::sleep(100 * MS).await;
    Ok(0)
}

#[tokio::test(start_paused = true)]
async fn a_spent_budget_is_an_event() {
    let events = Recorder::default();
    let _guard = tracing::subscriber::set_default(events.clone());
    // Twelve slow calls at once: the floor pays for ten hedges, nothing for the other two.
    let calls: Vec<_> = (0..12).map(|_| tokio::spawn(always_slow())).collect();
    for c in calls {
        c.await.unwrap().unwrap();
    }
    let seen = events.events();
    let exhausted = seen.iter().filter(|e| e.message().contains("budget exhausted")).count();
    assert_eq!(exhausted, 2, "{seen:?}");
    assert_eq!(SPENT.load(SeqCst), 22);
}

#[hedge(after = "p50", warmup = 3, name = "observed::learning")]
async fn learning() -> Result<u32, AppError> {
    tokio::time::sleep(10 * MS).await;
    Ok(0)
}

#[tokio::test(start_paused = true)]
async fn the_end_of_the_warm_up_is_an_event() {
    let events = Recorder::default();
    let _guard = tracing::subscriber::set_default(events.clone());
    for _ in 0..3 {
        learning().await.unwrap();
    }
    let seen = events.events();
    let moved: Vec<_> = seen.iter().filter(|e| e.message() == "hedge: delay moved").collect();
    assert_eq!(moved.len(), 1, "{seen:?}");
    // From no hedge at all to the median of 10 ms latencies (the histogram's bucket midpoint,
    // within 1.6 %).
    let (from, to) = (moved[0].field("from"), moved[0].field("to"));
    assert_eq!(from, "None");
    assert!(to == "10ms" || to.starts_with("10.0") || to.starts_with("9.9"), "{to}");
}
