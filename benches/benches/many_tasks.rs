//! Each policy under many tasks: 64 tasks on a 2-worker multi-thread runtime all calling one
//! annotated fn (so one policy instance, one state word, one histogram), beside the bare call
//! and the peers in the same scenario. One iteration is one call; the time reported is the wall
//! time of all 64 tasks' calls divided by their number, so it is the per-call cost the two
//! workers sustain together. The target (BENCHMARKS.md): each resilient row at most 1.5× the
//! bare row, and no peer closer to the bare call.

use std::future::Future;
use std::hint::black_box;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use criterion::{Criterion, criterion_group, criterion_main};
use failsafe::futures::CircuitBreaker as _;
use failsafe::{Config, backoff, failure_policy};
use governor::{Quota, RateLimiter as Governor};
use resilient::{
    bulkhead, circuit_breaker, fallback, hedge, idempotent, rate_limit, retry, timeout,
};
use resilient_benches::{BenchError, bare, work};
use tokio::runtime::Runtime;

/// Tasks calling at once.
const TASKS: u64 = 64;

#[circuit_breaker]
async fn breaker(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

#[retry]
async fn retried(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

#[timeout("1s")]
async fn fixed_timeout(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

#[timeout("p99*2")]
async fn adaptive_timeout(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

#[idempotent(key = x)]
async fn idempotent_hit(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

#[retry]
#[circuit_breaker]
#[timeout("1s")]
async fn stacked(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

#[circuit_breaker(mode = "adaptive")]
async fn adaptive_breaker(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

#[bulkhead(max = 1000)]
async fn bulkheaded(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

#[rate_limit("1000000000/s")]
async fn rate_limited(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

fn answer(e: BenchError) -> Result<u64, BenchError> {
    Err(e)
}

#[fallback(answer)]
async fn with_fallback(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

#[hedge(after = "1s")]
async fn hedged(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

/// Every policy a call would meet in a service, in the recommended order.
#[fallback(answer)]
#[retry]
#[circuit_breaker]
#[timeout("1s")]
#[rate_limit("1000000000/s")]
#[bulkhead(max = 1000)]
async fn full_stack(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

/// A multi-thread runtime with two workers, the clock enabled.
fn two_workers() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a multi-thread runtime")
}

/// Runs about `iters` calls of `call`, spread over [`TASKS`] spawned tasks started together;
/// returns the wall time scaled to exactly `iters` calls.
fn run_tasks<C, F>(rt: &Runtime, iters: u64, call: C) -> Duration
where
    C: Fn() -> F + Clone + Send + 'static,
    F: Future + Send,
    F::Output: Send,
{
    let per_task = iters.div_ceil(TASKS).max(1);
    rt.block_on(async {
        let start = Instant::now();
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let call = call.clone();
                tokio::spawn(async move {
                    for _ in 0..per_task {
                        black_box(call().await);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("a benchmark task panicked");
        }
        start.elapsed().mul_f64(iters as f64 / (per_task * TASKS) as f64)
    })
}

fn many_tasks(c: &mut Criterion) {
    let rt = two_workers();
    let mut g = c.benchmark_group("many_tasks");
    g.bench_function("bare", |b| b.iter_custom(|n| run_tasks(&rt, n, || bare(black_box(1)))));
    g.bench_function("resilient/circuit_breaker", |b| {
        b.iter_custom(|n| run_tasks(&rt, n, || breaker(black_box(1))))
    });
    g.bench_function("resilient/retry", |b| {
        b.iter_custom(|n| run_tasks(&rt, n, || retried(black_box(1))))
    });
    g.bench_function("resilient/timeout_fixed", |b| {
        b.iter_custom(|n| run_tasks(&rt, n, || fixed_timeout(black_box(1))))
    });
    g.bench_function("resilient/timeout_adaptive", |b| {
        b.iter_custom(|n| run_tasks(&rt, n, || adaptive_timeout(black_box(1))))
    });
    g.bench_function("resilient/idempotent_hit", |b| {
        b.iter_custom(|n| run_tasks(&rt, n, || idempotent_hit(black_box(1))))
    });
    g.bench_function("resilient/stack", |b| {
        b.iter_custom(|n| run_tasks(&rt, n, || stacked(black_box(1))))
    });
    g.bench_function("resilient/adaptive_breaker", |b| {
        b.iter_custom(|n| run_tasks(&rt, n, || adaptive_breaker(black_box(1))))
    });
    g.bench_function("resilient/bulkhead", |b| {
        b.iter_custom(|n| run_tasks(&rt, n, || bulkheaded(black_box(1))))
    });
    g.bench_function("resilient/rate_limit", |b| {
        b.iter_custom(|n| run_tasks(&rt, n, || rate_limited(black_box(1))))
    });
    g.bench_function("resilient/fallback", |b| {
        b.iter_custom(|n| run_tasks(&rt, n, || with_fallback(black_box(1))))
    });
    g.bench_function("resilient/hedge", |b| {
        b.iter_custom(|n| run_tasks(&rt, n, || hedged(black_box(1))))
    });
    g.bench_function("resilient/full_stack", |b| {
        b.iter_custom(|n| run_tasks(&rt, n, || full_stack(black_box(1))))
    });

    let failsafe = Config::new()
        .failure_policy(failure_policy::consecutive_failures(
            5,
            backoff::constant(Duration::from_secs(10)),
        ))
        .build();
    g.bench_function("failsafe/circuit_breaker", |b| {
        b.iter_custom(|n| {
            let breaker = failsafe.clone();
            run_tasks(&rt, n, move || {
                let breaker = breaker.clone();
                async move { breaker.call(bare(black_box(1))).await }
            })
        })
    });
    g.bench_function("backon/retry", |b| {
        b.iter_custom(|n| {
            run_tasks(&rt, n, || (|| bare(black_box(1))).retry(ExponentialBuilder::default()))
        })
    });
    let governor = std::sync::Arc::new(Governor::direct(Quota::per_second(NonZeroU32::MAX)));
    g.bench_function("governor/rate_limit", |b| {
        b.iter_custom(|n| {
            let governor = governor.clone();
            run_tasks(&rt, n, move || {
                let admitted = governor.check().is_ok();
                async move {
                    match admitted {
                        true => bare(black_box(1)).await,
                        false => Err(BenchError::Failed),
                    }
                }
            })
        })
    });
    g.bench_function("tokio/timeout", |b| {
        b.iter_custom(|n| {
            run_tasks(&rt, n, || tokio::time::timeout(Duration::from_secs(1), bare(black_box(1))))
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = resilient_benches::criterion();
    targets = many_tasks
}
criterion_main!(benches);
