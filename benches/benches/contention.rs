//! A closed circuit breaker under contention: the same breaker called from one thread, then from
//! one thread per core (2), each thread driving its own current-thread runtime. Reported as
//! calls per second (criterion's throughput; one iteration is one call on every thread); the
//! scaling ratio is throughput(2) / throughput(1). The bare call shows what the machine itself
//! scales to.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use failsafe::futures::CircuitBreaker as _;
use failsafe::{Config, backoff, failure_policy};
use resilient::circuit_breaker;
use resilient_benches::{BenchError, bare, run_threads, work};
use tower::{Layer, Service, ServiceExt, service_fn};
use tower_resilience::circuitbreaker::CircuitBreakerLayer;

#[circuit_breaker]
async fn with_breaker(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

fn contention(c: &mut Criterion) {
    let tower = CircuitBreakerLayer::builder()
        .consecutive_failures(5)
        .build()
        .expect("a valid breaker")
        .layer(service_fn(bare));
    let failsafe = Config::new()
        .failure_policy(failure_policy::consecutive_failures(
            5,
            backoff::constant(Duration::from_secs(10)),
        ))
        .build();

    let mut g = c.benchmark_group("contention");
    for threads in [1usize, 2] {
        g.throughput(Throughput::Elements(threads as u64));
        g.bench_function(format!("bare/{threads}"), |b| {
            b.iter_custom(|iters| run_threads(threads, iters, || async || bare(black_box(1)).await))
        });
        g.bench_function(format!("resilient/{threads}"), |b| {
            b.iter_custom(|iters| {
                run_threads(threads, iters, || async || with_breaker(black_box(1)).await)
            })
        });
        g.bench_function(format!("tower-resilience/{threads}"), |b| {
            b.iter_custom(|iters| {
                run_threads(threads, iters, || {
                    let mut svc = tower.clone();
                    async move || svc.ready().await?.call(black_box(1)).await
                })
            })
        });
        g.bench_function(format!("failsafe/{threads}"), |b| {
            b.iter_custom(|iters| {
                run_threads(threads, iters, || {
                    let breaker = failsafe.clone();
                    async move || breaker.call(bare(black_box(1))).await
                })
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = resilient_benches::criterion();
    targets = contention
}
criterion_main!(benches);
