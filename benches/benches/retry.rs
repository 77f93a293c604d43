//! `#[retry]`, success the first time, against the bare call, the no-macro `Retry`, and the
//! peers: tower-resilience's `RetryLayer` (through `ready().await?.call()`) and backon.

use std::hint::black_box;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use criterion::{Criterion, criterion_group, criterion_main};
use resilient::retry;
use resilient::runtime::retry::Retry;
use resilient_benches::{BenchError, bare, iter_mut, runtime, work};
use tower::{Layer, Service, ServiceExt, service_fn};
use tower_resilience::retry::RetryLayer;

#[retry]
async fn with_retry(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

#[retry]
async fn with_retry_ref(x: &u64) -> Result<u64, BenchError> {
    Ok(work(*x))
}

#[retry(max = 1)]
async fn with_retry_once(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

#[retry(name = "bench::configured_retry")]
async fn with_configured_retry(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

fn retry_success(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("retry");
    g.bench_function("bare", |b| b.to_async(&rt).iter(|| bare(black_box(1))));
    g.bench_function("resilient/macro", |b| b.to_async(&rt).iter(|| with_retry(black_box(1))));
    // Settings from a configuration instead of the attribute: the same single load.
    resilient::config::apply("[\"bench::configured_retry\".retry]\nmax = 5\njitter = \"full\"")
        .expect("valid configuration");
    g.bench_function("resilient/macro-configured", |b| {
        b.to_async(&rt).iter(|| with_configured_retry(black_box(1)))
    });

    g.bench_function("resilient/macro-ref-arg", |b| {
        b.to_async(&rt).iter(|| with_retry_ref(black_box(&1)))
    });
    g.bench_function("resilient/macro-max1", |b| {
        b.to_async(&rt).iter(|| with_retry_once(black_box(1)))
    });

    let policy = Retry::builder().build();
    g.bench_function("resilient/api", |b| {
        b.to_async(&rt).iter(|| policy.run(|| bare(black_box(1))))
    });

    let mut svc = RetryLayer::<u64, u64, BenchError>::builder()
        .max_attempts(3)
        .exponential_backoff(Duration::from_millis(100))
        .build()
        .layer(service_fn(bare));
    g.bench_function("tower-resilience", |b| {
        iter_mut(b, &rt, async || svc.ready().await?.call(black_box(1)).await)
    });

    g.bench_function("backon", |b| {
        b.to_async(&rt).iter(|| (|| bare(black_box(1))).retry(ExponentialBuilder::default()))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = resilient_benches::criterion();
    targets = retry_success
}
criterion_main!(benches);
