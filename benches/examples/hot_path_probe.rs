//! A quick, load-tolerant timing of the hot paths the 2026-12-01 findings are about, for a
//! machine too busy for criterion: each row is the **minimum** over many short batches (a batch
//! that a neighbour's process interrupted is slower, never faster), beside the bare call, in
//! one run. Rows are interleaved round by round so drifts in the machine's speed hit every row.
//!
//! ```text
//! cargo run --release -p resilient-benches --example hot_path_probe
//! cargo run --release -p resilient-benches --example hot_path_probe --features metrics     # + metrics rows
//! ```
//!
//! The same file builds against older revisions (before `per` existed) with
//! `--cfg probe_no_per`, which is how the figures beside the pre-round code were taken.

#![allow(unexpected_cfgs)] // `probe_no_per`, set by hand for older revisions

use std::future::Future;
use std::hint::black_box;
use std::time::Instant;

use resilient::{
    bulkhead, circuit_breaker, fallback, hedge, idempotent, rate_limit, retry, timeout,
};

#[derive(Clone, Debug)]
enum ProbeError {
    #[allow(dead_code)]
    Rejected(resilient::Error),
}

impl From<resilient::Error> for ProbeError {
    fn from(e: resilient::Error) -> Self {
        ProbeError::Rejected(e)
    }
}

#[inline(always)]
fn work(x: u64) -> u64 {
    black_box(x).wrapping_add(1)
}

async fn bare(x: u64) -> Result<u64, ProbeError> {
    Ok(work(x))
}

#[retry]
async fn retried(x: u64) -> Result<u64, ProbeError> {
    Ok(work(x))
}

#[retry(budget = "off")]
async fn retried_no_budget(x: u64) -> Result<u64, ProbeError> {
    Ok(work(x))
}

#[circuit_breaker]
async fn guarded(x: u64) -> Result<u64, ProbeError> {
    Ok(work(x))
}

#[cfg(not(probe_no_per))]
#[circuit_breaker(per = host)]
async fn per_host(host: u64) -> Result<u64, ProbeError> {
    Ok(work(host))
}

#[cfg(not(probe_no_per))]
#[circuit_breaker(per = addr)]
async fn per_addr(addr: &str) -> Result<u64, ProbeError> {
    Ok(work(addr.len() as u64))
}

fn cached(_e: ProbeError) -> Result<u64, ProbeError> {
    Ok(0)
}

#[fallback(cached)]
async fn with_fallback(x: u64) -> Result<u64, ProbeError> {
    Ok(work(x))
}

/// What a user writes instead of `#[fallback(cached)]`.
async fn fallback_by_hand(x: u64) -> Result<u64, ProbeError> {
    match bare(x).await {
        Ok(v) => Ok(v),
        Err(e) => cached(e),
    }
}

/// The machine's floors: the bare call plus only the atomic read-modify-writes and clock reads
/// a policy's success path cannot do without, on the clock the policies use. What these cost
/// differs by machine far more than the rest does (a `lock`ed instruction about 2 ns on the Zen 4
/// host of 2026-12-02, about 7 on the Xeon host of 2026-12-03).
mod floor {
    use std::sync::LazyLock;
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

    use resilient::runtime::clock::Clock;

    use super::{ProbeError, bare, black_box};

    static WORD: AtomicU64 = AtomicU64::new(0);
    static CLOCK: LazyLock<Clock> = LazyLock::new(Clock::new);

    /// An adaptive breaker's success: one `fetch_add`.
    pub async fn fetch_add(x: u64) -> Result<u64, ProbeError> {
        WORD.fetch_add(1, Relaxed);
        bare(x).await
    }

    /// A bulkhead's free place: a CAS to take it, a `fetch_sub` to give it back.
    pub async fn cas_fetch_sub(x: u64) -> Result<u64, ProbeError> {
        let n = WORD.load(Relaxed);
        let _ = WORD.compare_exchange(n, n + 1, Relaxed, Relaxed);
        let out = bare(x).await;
        WORD.fetch_sub(1, Relaxed);
        out
    }

    /// A rate limit within its limit: a clock read and a CAS.
    pub async fn clock_cas(x: u64) -> Result<u64, ProbeError> {
        let now = CLOCK.now_nanos();
        let n = WORD.load(Relaxed);
        let _ = WORD.compare_exchange(n, black_box(now), Relaxed, Relaxed);
        bare(x).await
    }

    /// An adaptive timeout's success: the clock read before and after, the latency counted with
    /// one `fetch_add`.
    pub async fn two_clocks_fetch_add(x: u64) -> Result<u64, ProbeError> {
        let t0 = CLOCK.now_nanos();
        let out = bare(x).await;
        let took = CLOCK.now_nanos().saturating_sub(t0);
        WORD.fetch_add(black_box(took) & 1, Relaxed);
        out
    }
}

#[bulkhead(max = 64)]
async fn bulkheaded(x: u64) -> Result<u64, ProbeError> {
    Ok(work(x))
}

#[rate_limit("1000000000/s")]
async fn limited(x: u64) -> Result<u64, ProbeError> {
    Ok(work(x))
}

#[circuit_breaker(mode = "adaptive")]
async fn throttled(x: u64) -> Result<u64, ProbeError> {
    Ok(work(x))
}

#[hedge(after = "50ms")]
async fn hedged_fixed(x: u64) -> Result<u64, ProbeError> {
    Ok(work(x))
}

#[hedge(after = "p95")]
async fn hedged_p95(x: u64) -> Result<u64, ProbeError> {
    Ok(work(x))
}

#[timeout("1s")]
async fn timed(x: u64) -> Result<u64, ProbeError> {
    Ok(work(x))
}

#[timeout("p99*2")]
async fn timed_adaptive(x: u64) -> Result<u64, ProbeError> {
    Ok(work(x))
}

#[retry]
#[circuit_breaker]
#[timeout("1s")]
async fn stacked(x: u64) -> Result<u64, ProbeError> {
    Ok(work(x))
}

#[idempotent(key = key)]
async fn once(key: u64) -> Result<u64, ProbeError> {
    Ok(work(key))
}

/// Called with a fresh key every time: each call is a miss, and once the store holds its
/// default bound of 100 000 results, each miss evicts the oldest.
#[idempotent(key = key)]
async fn fresh(key: u64) -> Result<u64, ProbeError> {
    Ok(work(key))
}

#[fallback(cached)]
#[rate_limit("1000000000/s")]
#[circuit_breaker]
#[bulkhead(max = 64)]
async fn fused_straight(x: u64) -> Result<u64, ProbeError> {
    Ok(work(x))
}

#[cfg(feature = "metrics")]
#[retry]
async fn retried_prom(x: u64) -> Result<u64, ProbeError> {
    Ok(work(x))
}

#[cfg(feature = "metrics")]
#[circuit_breaker]
async fn guarded_prom(x: u64) -> Result<u64, ProbeError> {
    Ok(work(x))
}

mod hand {
    //! Hand-written expansions, to see what nesting costs.
    use super::*;
    use resilient::__private as p;
    static B: p::LazyLock<p::CircuitBreaker> =
        p::LazyLock::new(|| p::CircuitBreaker::builder().name("probe::hand").build());

    pub async fn nested(x: u64) -> Result<u64, ProbeError> {
        p::finish(
            async move {
                let permit = match B.try_acquire() {
                    Ok(permit) => permit,
                    Err(r) => return Err(r),
                };
                let out = p::lift(async move { Ok(work(x)) }).await;
                permit.settle(&out, p::every_error);
                out
            }
            .await,
            p::rejection_into::<ProbeError>(),
        )
    }

    pub async fn fused(x: u64) -> Result<u64, ProbeError> {
        let out = 'l: {
            let permit = match B.try_acquire() {
                Ok(permit) => permit,
                Err(r) => break 'l Err(r),
            };
            let out = p::lift(async move { Ok(work(x)) }).await;
            permit.settle(&out, p::every_error);
            out
        };
        p::finish(out, p::rejection_into::<ProbeError>())
    }

    pub async fn flat(x: u64) -> Result<u64, ProbeError> {
        let out = 'l: {
            let permit = match B.try_acquire() {
                Ok(permit) => permit,
                Err(r) => break 'l Err(r),
            };
            let out: resilient::runtime::Outcome<u64, ProbeError> =
                Ok(async move { Ok(work(x)) }.await);
            permit.settle(&out, p::every_error);
            out
        };
        p::finish(out, p::rejection_into::<ProbeError>())
    }
}

const BATCH: u64 = 20_000;

/// One batch of calls, in ns per call.
fn batch<F, Fut>(rt: &tokio::runtime::Runtime, f: &mut F) -> f64
where
    F: FnMut(u64) -> Fut,
    Fut: Future<Output = Result<u64, ProbeError>>,
{
    rt.block_on(async {
        let start = Instant::now();
        for i in 0..BATCH {
            black_box(f(black_box(i)).await).expect("success");
        }
        start.elapsed().as_nanos() as f64 / BATCH as f64
    })
}

type Row<'a> = (&'static str, Box<dyn FnMut(&tokio::runtime::Runtime) -> f64 + 'a>);

fn row<'a, F, Fut>(name: &'static str, mut f: F) -> Row<'a>
where
    F: FnMut(u64) -> Fut + 'a,
    Fut: Future<Output = Result<u64, ProbeError>>,
{
    (name, Box::new(move |rt| batch(rt, &mut f)))
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let rounds: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(300);
    let filter = std::env::args().nth(2).unwrap_or_default();
    // The miss row starts with its store at the bound, so every call it times evicts.
    let mut next_key = 0u64;
    if filter.is_empty() || "idempotent miss".contains(filter.trim_start_matches('=')) {
        rt.block_on(async {
            while next_key < 100_000 {
                next_key += 1;
                fresh(next_key).await.expect("success");
            }
        });
    }
    let mut rows: Vec<Row<'_>> = vec![
        row("bare", bare),
        row("retry", retried),
        row("retry, budget off", retried_no_budget),
        row("breaker", guarded),
        row("hand breaker nested", hand::nested),
        row("hand breaker fused", hand::fused),
        row("hand breaker flat", hand::flat),
        row("fallback", with_fallback),
        row("fallback by hand", fallback_by_hand),
        row("bulkhead", bulkheaded),
        row("rate limit", limited),
        row("adaptive breaker", throttled),
        row("hedge fixed", hedged_fixed),
        row("hedge p95", hedged_p95),
        row("timeout fixed", timed),
        row("timeout adaptive", timed_adaptive),
        row("retry+breaker+timeout", stacked),
        row("idempotent hit", |_| once(7)),
        row("idempotent miss", move |_| {
            next_key += 1;
            fresh(next_key)
        }),
        row("fallback+rate+breaker+bulkhead", fused_straight),
        row("floor: fetch_add", floor::fetch_add),
        row("floor: cas + fetch_sub", floor::cas_fetch_sub),
        row("floor: clock + cas", floor::clock_cas),
        row("floor: 2 clocks + fetch_add", floor::two_clocks_fetch_add),
    ];
    #[cfg(not(probe_no_per))]
    {
        rows.push(row("breaker per u64 (64 keys)", |i| per_host(i % 64)));
        rows.push(row("breaker per &str", |_| per_addr("10.0.0.1:6379")));
    }
    #[cfg(feature = "metrics")]
    {
        // The rows above resolve their handles with no recorder; these with Prometheus's.
        for (_, f) in rows.iter_mut() {
            f(&rt);
        }
        let _handle = metrics_exporter_prometheus::PrometheusBuilder::new()
            .install_recorder()
            .expect("no recorder yet");
        rows.push(row("retry, prometheus", retried_prom));
        rows.push(row("breaker, prometheus", guarded_prom));
        std::mem::forget(_handle);
    }
    // `=name` keeps exactly that row (beside `bare`), `part` every row whose name holds it.
    rows.retain(|(name, _)| match filter.strip_prefix('=') {
        Some(exact) => *name == "bare" || *name == exact,
        None => filter.is_empty() || *name == "bare" || name.contains(&*filter),
    });
    let mut best = vec![f64::INFINITY; rows.len()];
    let mut all: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); rows.len()];
    for _ in 0..rounds {
        for (i, (_, f)) in rows.iter_mut().enumerate() {
            let ns = f(&rt);
            best[i] = best[i].min(ns);
            all[i].push(ns);
        }
    }
    println!("{:32} {:>8} {:>8} {:>9}", "row", "min ns", "p10 ns", "min-bare");
    for (i, (name, _)) in rows.iter().enumerate() {
        all[i].sort_by(f64::total_cmp);
        let p10 = all[i][all[i].len() / 10];
        println!("{name:32} {:8.2} {p10:8.2} {:9.2}", best[i], best[i] - best[0]);
    }
}
