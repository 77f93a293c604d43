//! `#[timeout]` around a body that is ready at once, fixed (`"1s"`) and adaptive (`"p99*2"`),
//! against the bare call, the no-macro `Timeout`, and the peers: `tokio::time::timeout`,
//! tower's `Timeout` and tower-resilience's `TimeLimiterLayer` (through
//! `ready().await?.call()`). No peer has an adaptive timeout; the adaptive group measures the same
//! fixed-timeout peers, as what a user would use instead.

use std::hint::black_box;
use std::time::Duration;

use criterion::{
    BenchmarkGroup, Criterion, criterion_group, criterion_main, measurement::WallTime,
};
use resilient::runtime::timeout::Timeout;
use resilient::timeout;
use resilient_benches::{BenchError, bare, iter_mut, runtime, work};
use tokio::runtime::Runtime;
use tower::{Layer, Service, ServiceExt, service_fn};
use tower_resilience::timelimiter::TimeLimiterLayer;

const LIMIT: Duration = Duration::from_secs(1);

#[timeout("1s")]
async fn with_timeout(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

#[timeout("p99*2")]
async fn with_adaptive(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

/// The peers, the same in both groups.
fn peers(g: &mut BenchmarkGroup<'_, WallTime>, rt: &Runtime) {
    g.bench_function("tokio::time::timeout", |b| {
        b.to_async(rt).iter(|| tokio::time::timeout(LIMIT, bare(black_box(1))))
    });
    let mut svc = tower::timeout::Timeout::new(service_fn(bare), LIMIT);
    g.bench_function("tower::timeout", |b| {
        iter_mut(b, rt, async || svc.ready().await?.call(black_box(1)).await)
    });
    let mut svc =
        TimeLimiterLayer::builder().timeout_duration(LIMIT).build().layer(service_fn(bare));
    g.bench_function("tower-resilience", |b| {
        iter_mut(b, rt, async || svc.ready().await?.call(black_box(1)).await)
    });
}

fn fixed(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("timeout");
    g.bench_function("bare", |b| b.to_async(&rt).iter(|| bare(black_box(1))));
    g.bench_function("resilient/macro", |b| b.to_async(&rt).iter(|| with_timeout(black_box(1))));
    let policy = Timeout::fixed(LIMIT).build();
    g.bench_function("resilient/api", |b| b.to_async(&rt).iter(|| policy.run(bare(black_box(1)))));
    peers(&mut g, &rt);
    // The floor every timeout pays: one read of tokio's clock (a vDSO `clock_gettime`).
    g.bench_function("floor/clock-read", |b| b.iter(tokio::time::Instant::now));
    g.finish();
}

fn adaptive(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("adaptive_timeout");
    g.bench_function("bare", |b| b.to_async(&rt).iter(|| bare(black_box(1))));
    g.bench_function("resilient/macro", |b| b.to_async(&rt).iter(|| with_adaptive(black_box(1))));
    let policy = Timeout::adaptive(99.0, 2.0).build();
    g.bench_function("resilient/api", |b| b.to_async(&rt).iter(|| policy.run(bare(black_box(1)))));
    peers(&mut g, &rt);
    g.finish();
}

criterion_group! {
    name = benches;
    config = resilient_benches::criterion();
    targets = fixed, adaptive
}
criterion_main!(benches);
