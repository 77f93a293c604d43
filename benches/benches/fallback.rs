//! `#[fallback]` on a success (the fallback never runs) against the bare call, the no-macro
//! `Fallback`, a hand-written `match` (what a user would write instead) and the peer:
//! tower-resilience's `FallbackLayer` (through `ready().await?.call()`).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use resilient::fallback;
use resilient::runtime::fallback::Fallback;
use resilient_benches::{BenchError, bare, iter_mut, runtime, work};
use tower::{Layer, Service, ServiceExt, service_fn};
use tower_resilience::fallback::FallbackLayer;

fn cached(_e: BenchError) -> Result<u64, BenchError> {
    Ok(0)
}

async fn cached_async(_e: BenchError) -> Result<u64, BenchError> {
    Ok(0)
}

#[fallback(cached)]
async fn with_fallback(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

#[fallback(cached_async)]
async fn with_async_fallback(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

/// What a user writes without the attribute.
async fn hand_written(x: u64) -> Result<u64, BenchError> {
    match bare(x).await {
        Ok(v) => Ok(v),
        Err(e) => cached(e),
    }
}

fn fallback_success(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("fallback");
    g.bench_function("bare", |b| b.to_async(&rt).iter(|| bare(black_box(1))));
    g.bench_function("resilient/macro", |b| b.to_async(&rt).iter(|| with_fallback(black_box(1))));
    g.bench_function("resilient/macro-async-fallback", |b| {
        b.to_async(&rt).iter(|| with_async_fallback(black_box(1)))
    });
    let policy = Fallback::builder().name("bench::fallback_api").build();
    g.bench_function("resilient/api", |b| {
        b.to_async(&rt).iter(|| policy.run(bare(black_box(1)), cached))
    });
    g.bench_function("hand-written-match", |b| b.to_async(&rt).iter(|| hand_written(black_box(1))));

    let mut svc = FallbackLayer::<u64, u64, BenchError>::from_error(|_e: &BenchError| 0)
        .layer(service_fn(bare));
    g.bench_function("tower-resilience", |b| {
        iter_mut(b, &rt, async || svc.ready().await?.call(black_box(1)).await)
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = resilient_benches::criterion();
    targets = fallback_success
}
criterion_main!(benches);
