//! The live endpoint the demo serves, started the same way (the same file), scraped over real
//! HTTP: what `/metrics` and `/registry` say must match what the calls did.

#[path = "../../examples/examples/support/metrics_endpoint.rs"]
mod metrics_endpoint;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use resilient::{circuit_breaker, retry, timeout};
use resilient_tests::AppError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

static FLAKY: AtomicU32 = AtomicU32::new(0);

/// Fails twice, then succeeds: two retries.
#[retry(max = 5, base = "1ms", name = "scrape::flaky")]
async fn flaky() -> Result<u32, AppError> {
    match FLAKY.fetch_add(1, SeqCst) {
        0 | 1 => Err(AppError::Transient),
        n => Ok(n),
    }
}

#[circuit_breaker(threshold = 2, cooldown = "60s", name = "scrape::breaker")]
async fn broken() -> Result<(), AppError> {
    Err(AppError::Transient)
}

#[timeout("250ms", name = "scrape::fast")]
async fn fast() -> Result<(), AppError> {
    Ok(())
}

#[timeout("20ms", name = "scrape::slow")]
async fn slow() -> Result<(), AppError> {
    tokio::time::sleep(Duration::from_secs(5)).await;
    Ok(())
}

/// `GET path` over a fresh TCP connection; the body of a 200 answer.
async fn get(addr: SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("read");
    let (head, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body.to_owned()
}

/// The samples of a Prometheus text scrape: `name{labels}` → value.
fn samples(scrape: &str) -> HashMap<String, f64> {
    resilient_tests::prometheus_samples(scrape)
}

#[tokio::test]
async fn the_scrape_matches_what_the_calls_did() {
    let endpoint = metrics_endpoint::start(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
    assert!(endpoint.metrics_url().starts_with("http://127.0.0.1:"));

    assert_eq!(flaky().await, Ok(2));
    for _ in 0..2 {
        assert_eq!(broken().await, Err(AppError::Transient));
    }
    assert!(matches!(broken().await, Err(AppError::Rejected(e)) if e.is_circuit_open()));
    fast().await.unwrap();
    assert!(matches!(slow().await, Err(AppError::Rejected(e)) if e.is_timeout()));

    let scrape = get(endpoint.addr, "/metrics").await;
    let s = samples(&scrape);
    let value = |series: &str| *s.get(series).unwrap_or_else(|| panic!("no {series} in\n{scrape}"));

    assert_eq!(value(r#"resilient_retries_total{policy="scrape::flaky"}"#), 2.0);
    assert_eq!(
        value(r#"resilient_calls_total{policy="scrape::flaky",kind="retry",outcome="success"}"#),
        1.0
    );
    assert_eq!(value(r#"resilient_circuit_state{policy="scrape::breaker"}"#), 1.0);
    let breaker = |outcome: &str| {
        value(&format!(
            r#"resilient_calls_total{{policy="scrape::breaker",kind="circuit_breaker",outcome="{outcome}"}}"#
        ))
    };
    assert_eq!((breaker("failure"), breaker("rejected"), breaker("success")), (2.0, 1.0, 0.0));
    assert_eq!(value(r#"resilient_timeout_limit_seconds{policy="scrape::fast"}"#), 0.25);
    assert_eq!(value(r#"resilient_timeout_limit_seconds{policy="scrape::slow"}"#), 0.02);
    assert_eq!(
        value(r#"resilient_calls_total{policy="scrape::slow",kind="timeout",outcome="timeout"}"#),
        1.0
    );
    assert_eq!(
        value(r#"resilient_calls_total{policy="scrape::fast",kind="timeout",outcome="success"}"#),
        1.0
    );
    // The timed-out call is in the duration histogram, at its limit.
    assert_eq!(
        value(r#"resilient_call_duration_seconds_count{policy="scrape::slow",kind="timeout"}"#),
        1.0
    );
    assert!(scrape.contains("# HELP resilient_calls_total"), "{scrape}");

    // The handle renders what the endpoint serves.
    assert!(
        endpoint.handle.render().contains(r#"resilient_retries_total{policy="scrape::flaky"} 2"#)
    );

    assert_eq!(endpoint.registry_url(), format!("http://{}/registry", endpoint.addr));
    let registry: serde_json::Value =
        serde_json::from_str(&get(endpoint.addr, "/registry").await).expect("JSON");
    let policies = registry["policies"].as_array().expect("a list of policies");
    let find = |name: &str, kind: &str| {
        policies
            .iter()
            .find(|p| p["name"] == name && p["state"]["kind"] == kind)
            .unwrap_or_else(|| panic!("{name} ({kind}) not in {registry:#}"))
    };
    assert_eq!(find("scrape::flaky", "retry")["state"]["retries"], 2);
    assert_eq!(find("scrape::breaker", "circuit_breaker")["state"]["state"], "open");
}
