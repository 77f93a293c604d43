//! `#[circuit_breaker(mode = "adaptive")]` while nothing is rejected (the success path: one
//! atomic load to let the call through, one relaxed add to count its success), against the bare
//! call and the binary breaker's closed circuit.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use resilient::circuit_breaker;
use resilient::runtime::breaker::{AdaptiveBreaker, CircuitBreaker};
use resilient_benches::{BenchError, bare, runtime, work};

#[circuit_breaker(mode = "adaptive")]
async fn with_adaptive(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

#[circuit_breaker]
async fn with_binary(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

fn adaptive_success(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("adaptive_breaker");
    g.bench_function("bare", |b| b.to_async(&rt).iter(|| bare(black_box(1))));
    g.bench_function("resilient/macro", |b| b.to_async(&rt).iter(|| with_adaptive(black_box(1))));
    g.bench_function("resilient/binary-macro", |b| {
        b.to_async(&rt).iter(|| with_binary(black_box(1)))
    });

    let adaptive = rt.block_on(async { AdaptiveBreaker::builder().build() });
    g.bench_function("resilient/api-call", |b| {
        b.to_async(&rt).iter(|| adaptive.call(bare(black_box(1))))
    });
    g.bench_function("resilient/try_acquire+success (sync)", |b| {
        b.iter(|| {
            let permit = adaptive.try_acquire().expect("nothing rejected");
            let out = black_box(work(black_box(1)));
            permit.success();
            out
        })
    });
    // The floor of counting each success in a count shared by threads: one atomic add.
    let count = std::sync::atomic::AtomicU64::new(0);
    g.bench_function("floor/fetch_add (sync)", |b| {
        b.iter(|| {
            let out = black_box(work(black_box(1)));
            count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            out
        })
    });
    let binary = CircuitBreaker::builder().build();
    g.bench_function("resilient/binary try_acquire+success (sync)", |b| {
        b.iter(|| {
            let permit = binary.try_acquire().expect("closed");
            let out = black_box(work(black_box(1)));
            permit.success();
            out
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = resilient_benches::criterion();
    targets = adaptive_success
}
criterion_main!(benches);
