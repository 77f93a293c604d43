//! `#[circuit_breaker]` on a closed circuit, against the bare call, the no-macro
//! `CircuitBreaker`, and the peers: tower-resilience's `CircuitBreakerLayer` (through
//! `ready().await?.call()`) and failsafe's futures API.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use failsafe::futures::CircuitBreaker as _;
use failsafe::{Config, backoff, failure_policy};
use resilient::circuit_breaker;
use resilient::runtime::breaker::CircuitBreaker;
use resilient_benches::{BenchError, bare, iter_mut, runtime, work};
use tower::{Layer, Service, ServiceExt, service_fn};
use tower_resilience::circuitbreaker::CircuitBreakerLayer;

#[circuit_breaker]
async fn with_breaker(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

#[circuit_breaker(name = "bench::configured_breaker")]
async fn with_configured_breaker(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

fn breaker_closed(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("breaker");
    g.bench_function("bare", |b| b.to_async(&rt).iter(|| bare(black_box(1))));
    g.bench_function("resilient/macro", |b| b.to_async(&rt).iter(|| with_breaker(black_box(1))));
    // Settings from a configuration instead of the attribute: the same single load.
    resilient::config::apply("[\"bench::configured_breaker\".circuit_breaker]\nthreshold = 7")
        .expect("valid configuration");
    g.bench_function("resilient/macro-configured", |b| {
        b.to_async(&rt).iter(|| with_configured_breaker(black_box(1)))
    });

    let breaker = CircuitBreaker::builder().build();
    g.bench_function("resilient/api-call", |b| {
        b.to_async(&rt).iter(|| breaker.call(bare(black_box(1))))
    });
    g.bench_function("resilient/try_acquire+success (sync)", |b| {
        b.iter(|| {
            let permit = breaker.try_acquire().expect("closed");
            let out = black_box(work(black_box(1)));
            permit.success();
            out
        })
    });

    let mut bare_svc = service_fn(bare);
    g.bench_function("tower/service_fn", |b| {
        iter_mut(b, &rt, async || bare_svc.ready().await?.call(black_box(1)).await)
    });

    let mut svc = CircuitBreakerLayer::builder()
        .consecutive_failures(5)
        .build()
        .expect("a valid breaker")
        .layer(service_fn(bare));
    g.bench_function("tower-resilience", |b| {
        iter_mut(b, &rt, async || svc.ready().await?.call(black_box(1)).await)
    });

    let failsafe = Config::new()
        .failure_policy(failure_policy::consecutive_failures(
            5,
            backoff::constant(Duration::from_secs(10)),
        ))
        .build();
    g.bench_function("failsafe", |b| b.to_async(&rt).iter(|| failsafe.call(bare(black_box(1)))));
    g.finish();
}

criterion_group! {
    name = benches;
    config = resilient_benches::criterion();
    targets = breaker_closed
}
criterion_main!(benches);
