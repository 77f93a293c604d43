//! `#[retry]` and `#[circuit_breaker]` on a sync fn, success the first time, against the bare
//! sync call, the no-macro blocking API, and the peers a sync codebase would pick: failsafe's
//! sync `CircuitBreaker::call` and backon's `BlockingRetryable`.

use std::hint::black_box;
use std::time::Duration;

use backon::{BlockingRetryable, ExponentialBuilder};
use criterion::{Criterion, criterion_group, criterion_main};
use failsafe::CircuitBreaker as _;
use failsafe::{Config, backoff, failure_policy};
use resilient::runtime::breaker::CircuitBreaker;
use resilient::runtime::retry::Retry;
use resilient::{circuit_breaker, retry};
use resilient_benches::{BenchError, work};

/// The baseline: the same sync fn as the annotated ones, with no attribute.
fn bare_sync(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

#[retry]
fn with_retry(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

#[circuit_breaker]
fn with_breaker(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

#[retry]
#[circuit_breaker]
fn with_both(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

fn sync_retry(c: &mut Criterion) {
    let mut g = c.benchmark_group("sync-retry");
    g.bench_function("bare", |b| b.iter(|| bare_sync(black_box(1))));
    g.bench_function("resilient/macro", |b| b.iter(|| with_retry(black_box(1))));
    let policy = Retry::builder().build();
    g.bench_function("resilient/api", |b| {
        b.iter(|| policy.run_blocking(|| bare_sync(black_box(1))))
    });
    g.bench_function("backon", |b| {
        b.iter(|| {
            (|| bare_sync(black_box(1)))
                .retry(ExponentialBuilder::default().with_max_times(2))
                .sleep(std::thread::sleep)
                .call()
        })
    });
    g.finish();
}

fn sync_breaker(c: &mut Criterion) {
    let mut g = c.benchmark_group("sync-breaker");
    g.bench_function("bare", |b| b.iter(|| bare_sync(black_box(1))));
    g.bench_function("resilient/macro", |b| b.iter(|| with_breaker(black_box(1))));
    g.bench_function("resilient/macro-retry+breaker", |b| b.iter(|| with_both(black_box(1))));
    let breaker = CircuitBreaker::builder().build();
    g.bench_function("resilient/api", |b| {
        b.iter(|| breaker.call_blocking(|| bare_sync(black_box(1))))
    });
    let failsafe = Config::new()
        .failure_policy(failure_policy::consecutive_failures(
            5,
            backoff::constant(Duration::from_secs(10)),
        ))
        .build();
    g.bench_function("failsafe", |b| b.iter(|| failsafe.call(|| bare_sync(black_box(1)))));
    g.finish();
}

criterion_group! {
    name = benches;
    config = resilient_benches::criterion();
    targets = sync_retry, sync_breaker
}
criterion_main!(benches);
