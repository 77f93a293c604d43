//! `#[rate_limit]` within its limit (every call admitted), against the bare call, the no-macro
//! `RateLimiter`, and governor, the peer a user would pick: `RateLimiter::direct(..).check()`
//! (GCRA on one atomic, quanta's clock), alone and in front of the same `async fn`.

use std::hint::black_box;
use std::num::NonZeroU32;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use governor::{Quota, RateLimiter as Governor};
use resilient::rate_limit;
use resilient::runtime::rate_limit::RateLimiter;
use resilient_benches::{BenchError, bare, runtime, work};

/// A limit no benchmark reaches: every call takes the success path.
#[rate_limit("1000000000/s")]
async fn limited(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

fn within_the_limit(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("rate_limit");
    g.bench_function("bare", |b| b.to_async(&rt).iter(|| bare(black_box(1))));
    g.bench_function("resilient/macro", |b| b.to_async(&rt).iter(|| limited(black_box(1))));

    let limiter = RateLimiter::builder(1_000_000_000, Duration::from_secs(1)).build();
    g.bench_function("resilient/try_acquire (sync)", |b| {
        b.iter(|| limiter.try_acquire().is_ok() && black_box(work(black_box(1))) > 0)
    });

    let governor = Governor::direct(Quota::per_second(NonZeroU32::MAX));
    g.bench_function("governor/check (sync)", |b| {
        b.iter(|| governor.check().is_ok() && black_box(work(black_box(1))) > 0)
    });
    g.bench_function("governor/check+call", |b| {
        b.to_async(&rt).iter(|| async {
            match governor.check() {
                Ok(()) => bare(black_box(1)).await,
                Err(_) => Err(BenchError::Failed),
            }
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = resilient_benches::criterion();
    targets = within_the_limit
}
criterion_main!(benches);
