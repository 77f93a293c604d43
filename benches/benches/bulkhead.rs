//! `#[bulkhead]` on its success path (a place free, nobody waiting), against the bare call, the
//! no-macro `Bulkhead`, and the peers: tower's `ConcurrencyLimit` and tower-resilience's
//! bulkhead (both through `ready().await?.call()`). Target: the fixed bulkhead within 10 ns of
//! the bare call.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use resilient::bulkhead;
use resilient::runtime::bulkhead::Bulkhead;
use resilient_benches::{BenchError, bare, iter_mut, runtime, work};
use tower::limit::ConcurrencyLimitLayer;
use tower::{Layer, Service, ServiceExt, service_fn};
use tower_resilience::bulkhead::BulkheadLayer;

#[bulkhead(max = 64)]
async fn with_bulkhead(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

#[bulkhead(max = "adaptive")]
async fn with_adaptive_bulkhead(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

fn bulkhead_free(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("bulkhead");
    g.bench_function("bare", |b| b.to_async(&rt).iter(|| bare(black_box(1))));
    g.bench_function("resilient/macro", |b| b.to_async(&rt).iter(|| with_bulkhead(black_box(1))));
    // Reads the clock twice per call (its latency is the controller's input).
    g.bench_function("resilient/macro-adaptive", |b| {
        b.to_async(&rt).iter(|| with_adaptive_bulkhead(black_box(1)))
    });

    let bulkhead = Bulkhead::builder().max(64).build();
    g.bench_function("resilient/api-call", |b| {
        b.to_async(&rt).iter(|| bulkhead.call(bare(black_box(1))))
    });
    g.bench_function("resilient/try_acquire+done (sync)", |b| {
        b.iter(|| {
            let place = bulkhead.try_acquire().expect("a free place");
            let out = black_box(work(black_box(1)));
            place.done();
            out
        })
    });
    // The floor of any counting bulkhead: one compare-and-swap to take a place, one atomic
    // subtraction to give it back, on a count no other thread touches.
    let count = std::sync::atomic::AtomicU64::new(0);
    g.bench_function("floor/cas+fetch_sub (sync)", |b| {
        use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};
        b.iter(|| {
            let n = count.load(Relaxed);
            let _ = count.compare_exchange_weak(n, n + 1, Acquire, Relaxed);
            let out = black_box(work(black_box(1)));
            count.fetch_sub(1, AcqRel);
            out
        })
    });

    let mut bare_svc = service_fn(bare);
    g.bench_function("tower/service_fn", |b| {
        iter_mut(b, &rt, async || bare_svc.ready().await?.call(black_box(1)).await)
    });

    let mut limited = ConcurrencyLimitLayer::new(64).layer(service_fn(bare));
    g.bench_function("tower/ConcurrencyLimit", |b| {
        iter_mut(b, &rt, async || limited.ready().await?.call(black_box(1)).await)
    });

    let mut svc = BulkheadLayer::builder()
        .max_concurrent_calls(64)
        .reject_when_full()
        .build()
        .expect("a valid bulkhead")
        .layer(service_fn(bare));
    g.bench_function("tower-resilience", |b| {
        iter_mut(b, &rt, async || svc.ready().await?.call(black_box(1)).await)
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = resilient_benches::criterion();
    targets = bulkhead_free
}
criterion_main!(benches);
