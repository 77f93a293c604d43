//! `#[hedge]` on a call that answers before `after` (the success path every call that does not
//! hedge takes), fixed (`"50ms"`) and percentile (`"p95"`), against the bare call, the no-macro
//! `Hedge`, and tower's `hedge` layer (`tower::hedge::Hedge`, p95 over a 1 s rotating histogram,
//! through `ready().await?.call()`). A second group has the body return `Pending` once
//! (`yield_now`) before it answers: the first attempt then reads the clock and arms the timer a
//! hedge would fire from.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use resilient::hedge;
use resilient::runtime::hedge::{Hedge, HedgeAfter};
use resilient_benches::{BenchError, bare, iter_mut, runtime, work};
use tower::{Service, ServiceExt, service_fn};

#[hedge(after = "50ms")]
async fn with_hedge(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

#[hedge(after = "p95")]
async fn with_p95(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

async fn bare_yield(x: u64) -> Result<u64, BenchError> {
    tokio::task::yield_now().await;
    Ok(work(x))
}

#[hedge(after = "50ms")]
async fn with_hedge_yield(x: u64) -> Result<u64, BenchError> {
    tokio::task::yield_now().await;
    Ok(work(x))
}

#[hedge(after = "p95")]
async fn with_p95_yield(x: u64) -> Result<u64, BenchError> {
    tokio::task::yield_now().await;
    Ok(work(x))
}

/// tower's hedge policy: every request may be hedged (a `u64` clones for free).
#[derive(Clone)]
struct Always;

impl tower::hedge::Policy<u64> for Always {
    fn clone_request(&self, req: &u64) -> Option<u64> {
        Some(*req)
    }
    fn can_retry(&self, _: &u64) -> bool {
        true
    }
}

fn tower_hedge<S>(svc: S) -> tower::hedge::Hedge<S, Always>
where
    S: Service<u64, Response = u64, Error = BenchError> + Clone,
{
    tower::hedge::Hedge::new(svc, Always, 10, 0.95, Duration::from_secs(1))
}

fn ready(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("hedge");
    g.bench_function("bare", |b| b.to_async(&rt).iter(|| bare(black_box(1))));
    g.bench_function("resilient/macro", |b| b.to_async(&rt).iter(|| with_hedge(black_box(1))));
    g.bench_function("resilient/macro-p95", |b| b.to_async(&rt).iter(|| with_p95(black_box(1))));
    let policy = Hedge::builder(HedgeAfter::Fixed(Duration::from_millis(50))).build();
    g.bench_function("resilient/api", |b| {
        b.to_async(&rt).iter(|| policy.run(|| bare(black_box(1))))
    });
    let mut svc = tower_hedge(service_fn(bare));
    g.bench_function("tower::hedge", |b| {
        iter_mut(b, &rt, async || svc.ready().await?.call(black_box(1)).await)
    });
    g.finish();
}

fn pending_once(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("hedge_pending_once");
    g.bench_function("bare", |b| b.to_async(&rt).iter(|| bare_yield(black_box(1))));
    g.bench_function("resilient/macro", |b| {
        b.to_async(&rt).iter(|| with_hedge_yield(black_box(1)))
    });
    g.bench_function("resilient/macro-p95", |b| {
        b.to_async(&rt).iter(|| with_p95_yield(black_box(1)))
    });
    let mut svc = tower_hedge(service_fn(bare_yield));
    g.bench_function("tower::hedge", |b| {
        iter_mut(b, &rt, async || svc.ready().await?.call(black_box(1)).await)
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = resilient_benches::criterion();
    targets = ready, pending_once
}
criterion_main!(benches);
