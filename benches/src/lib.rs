//! Shared pieces of the benchmarks: the bare function every scenario is measured against, the
//! error type all variants return, the runtimes that drive them, and the multi-thread
//! throughput harness.
//!
//! Every scenario's annotated function has the same body as [`bare`]: `Ok(work(x))`. The
//! difference between the two medians in one criterion group is what the attribute costs.

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use criterion::{Bencher, Criterion};
use tokio::runtime::Runtime;

/// The error type of every benchmarked function: carries a rejection, as users' error types do.
#[derive(Clone, Debug)]
pub enum BenchError {
    /// The function's own failure (never produced on the measured success paths).
    Failed,
    /// A policy turned the call away.
    Rejected(resilient::Error),
}

impl From<resilient::Error> for BenchError {
    fn from(e: resilient::Error) -> Self {
        BenchError::Rejected(e)
    }
}

impl std::fmt::Display for BenchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BenchError::Failed => f.write_str("failed"),
            BenchError::Rejected(e) => write!(f, "rejected: {e}"),
        }
    }
}

impl std::error::Error for BenchError {}

/// The body of every benchmarked function: a couple of cycles the optimiser cannot remove.
#[inline(always)]
pub fn work(x: u64) -> u64 {
    black_box(x).wrapping_add(1)
}

/// The baseline: the same `async fn` as the annotated ones, with no attribute.
pub async fn bare(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

/// A current-thread runtime with the clock enabled (`#[timeout]` reads tokio's clock): the
/// cheapest way to drive a future to completion, so the bare call measures in nanoseconds.
pub fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime")
}

/// Criterion settings for the whole suite: short enough for the suite to finish in minutes on
/// two shared cores, long enough for stable medians of nanosecond-scale calls.
pub fn criterion() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(60)
        .noise_threshold(0.03)
        .configure_from_args()
}

/// Measures `call` the way criterion's async `iter` does (one `block_on` around the whole loop),
/// for callers that need `&mut` state across calls, such as a tower `Service`
/// (`svc.ready().await?.call(req)`), which `iter`'s `Fn` routine cannot hold.
pub fn iter_mut<C, T>(b: &mut Bencher<'_>, rt: &Runtime, mut call: C)
where
    C: AsyncFnMut() -> T,
{
    b.iter_custom(|iters| {
        rt.block_on(async {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(call().await);
            }
            start.elapsed()
        })
    });
}

/// Runs `calls` calls on each of `threads` threads, each thread driving its own current-thread
/// runtime, all released together; returns the wall time from the first start to the last
/// finish. `make` builds one thread's caller (a service clone, say) before the clock starts.
pub fn run_threads<M, C, T>(threads: usize, calls: u64, make: M) -> Duration
where
    M: Fn() -> C + Sync,
    C: AsyncFnMut() -> T,
{
    let barrier = Barrier::new(threads);
    let spans: Vec<(Instant, Instant)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (barrier, make) = (&barrier, &make);
                scope.spawn(move || {
                    let rt = runtime();
                    let mut call = make();
                    barrier.wait();
                    let start = Instant::now();
                    rt.block_on(async {
                        for _ in 0..calls {
                            black_box(call().await);
                        }
                    });
                    (start, Instant::now())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a benchmark thread panicked")).collect()
    });
    let first = spans.iter().map(|s| s.0).min().expect("at least one thread");
    let last = spans.iter().map(|s| s.1).max().expect("at least one thread");
    last - first
}
