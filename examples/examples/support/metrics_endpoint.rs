//! The live observability endpoint: a Prometheus recorder installed as the global `metrics`
//! recorder, and a small HTTP/1.1 server on loopback serving
//!
//! - `GET /metrics`: every resilient metric, in Prometheus' text format;
//! - `GET /registry`: `resilient::registry::snapshot()` as JSON (every live policy's state).
//!
//! Start it before the first annotated call: a policy resolves its metric handles when it is
//! built, on its function's first call, and one built before the recorder records nothing.
//! Used by the demo (`cargo run -p resilient-examples --example demo`) and, the same code, by
//! the scrape test (`tests/tests/metrics_endpoint.rs`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use resilient::observe::names;

/// Buckets of `resilient_call_duration_seconds`, from 1 ms to 30 s.
const DURATION_BUCKETS: &[f64] =
    &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// A running endpoint.
pub struct Endpoint {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The recorder's handle (renders what `/metrics` serves).
    pub handle: PrometheusHandle,
}

impl Endpoint {
    /// The Prometheus scrape URL.
    pub fn metrics_url(&self) -> String {
        format!("http://{}/metrics", self.addr)
    }

    /// The registry snapshot's URL.
    pub fn registry_url(&self) -> String {
        format!("http://{}/registry", self.addr)
    }
}

/// Installs the Prometheus recorder globally and serves it on `addr` (`127.0.0.1:0` for a port
/// the OS picks), on the current tokio runtime. Fails if a global recorder is already installed.
pub async fn start(addr: SocketAddr) -> std::io::Result<Endpoint> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(names::CALL_DURATION_SECONDS.into()),
            DURATION_BUCKETS,
        )
        .and_then(PrometheusBuilder::install_recorder)
        .map_err(std::io::Error::other)?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    // Histogram samples are kept until upkeep folds them in: run it between scrapes too.
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(5));
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    let served = handle.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let handle = served.clone();
            let service = service_fn(move |request| {
                let handle = handle.clone();
                async move { Ok::<_, Infallible>(respond(&request, &handle)) }
            });
            tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        }
    });
    Ok(Endpoint { addr, handle })
}

fn respond<B>(request: &Request<B>, handle: &PrometheusHandle) -> Response<Full<Bytes>> {
    let (status, content_type, body) = match (request.method(), request.uri().path()) {
        (&Method::GET, "/metrics") => {
            (StatusCode::OK, "text/plain; version=0.0.4; charset=utf-8", handle.render())
        }
        (&Method::GET, "/registry") => {
            let snapshot = resilient::registry::snapshot();
            let json = serde_json::to_string_pretty(&snapshot)
                .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
            (StatusCode::OK, "application/json", json)
        }
        _ => (StatusCode::NOT_FOUND, "text/plain", "try /metrics or /registry\n".to_owned()),
    };
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .expect("a valid response")
}
