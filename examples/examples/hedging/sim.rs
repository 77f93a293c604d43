//! The model: a client calling a service whose latency has a heavy tail, once per millisecond,
//! in tokio's paused (virtual) time, through the real `#[hedge]` code.
//!
//! - **Latency of one attempt**: `median · exp(σ·Z)` with `Z` standard normal (a log-normal
//!   body: median 10 ms, σ = 0.25, so p95 ≈ 15 ms), and with probability 2 % ten times that
//!   (a replica pausing for garbage collection, a cold cache, a queue behind a big request).
//!   Attempts are independent: a hedge goes to another replica, whose hiccups are its own.
//! - **Arrivals**: one call every millisecond (open loop: a slow call does not hold back the
//!   next), `calls` calls in all.
//! - **Work**: every attempt counts as one request sent; the time attempts spend running
//!   (until they answer or a winner drops them) is the server time. Dropping an attempt is
//!   taken to cancel it on the server too (as gRPC's cancellation does).
//! - **Determinism**: one seeded [`SmallRng`] per run, drawn from in the order attempts start;
//!   the runtime is single-threaded with the clock paused, so the order is the same every run.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use tokio::time::Instant;

/// Median latency of an attempt.
pub const MEDIAN_MS: f64 = 10.0;
/// Spread of the log-normal body.
pub const SIGMA: f64 = 0.25;
/// Share of attempts that are slow.
pub const SLOW_SHARE: f64 = 0.02;
/// How much slower they are.
pub const SLOW_FACTOR: f64 = 10.0;
/// Time between two calls.
pub const INTERVAL: Duration = Duration::from_millis(1);

// Per thread: a run's runtime is single-threaded, so its tasks all run on the thread that
// started it, and runs on other threads (tests in parallel) keep their own counts.
thread_local! {
    static RNG: RefCell<SmallRng> = RefCell::new(SmallRng::seed_from_u64(0));
    static REQUESTS: Cell<u64> = const { Cell::new(0) };
    static BUSY_NANOS: Cell<u64> = const { Cell::new(0) };
}

/// The latency of one attempt, drawn from the model.
fn draw() -> Duration {
    RNG.with(|rng| {
        let rng = &mut *rng.borrow_mut();
        // Box–Muller: one standard normal from two uniforms.
        let u1: f64 = 1.0 - rng.random::<f64>();
        let u2: f64 = rng.random();
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        let mut ms = MEDIAN_MS * (SIGMA * z).exp();
        if rng.random::<f64>() < SLOW_SHARE {
            ms *= SLOW_FACTOR;
        }
        Duration::from_secs_f64(ms / 1000.0)
    })
}

/// Counts an attempt's running time when it ends, answered or dropped.
struct Running(Instant);

impl Drop for Running {
    fn drop(&mut self) {
        let ran = self.0.elapsed().as_nanos() as u64;
        BUSY_NANOS.with(|b| b.set(b.get() + ran));
    }
}

/// One attempt against the service.
pub async fn attempt() -> Result<(), std::io::Error> {
    REQUESTS.with(|r| r.set(r.get() + 1));
    let _running = Running(Instant::now());
    tokio::time::sleep(draw()).await;
    Ok(())
}

/// What one run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// Every call's latency, sorted.
    pub latencies: Vec<Duration>,
    /// Requests sent (attempts started), all calls together.
    pub requests: u64,
    /// Time attempts spent running, all together.
    pub busy: Duration,
}

impl Outcome {
    /// The `p`-th percentile by nearest rank.
    pub fn percentile(&self, p: f64) -> Duration {
        let n = self.latencies.len();
        let rank = ((p / 100.0 * n as f64).ceil() as usize).clamp(1, n);
        self.latencies[rank - 1]
    }

    /// Requests per call.
    pub fn requests_per_call(&self) -> f64 {
        self.requests as f64 / self.latencies.len() as f64
    }

    /// The share of calls slower than `d`.
    pub fn slower_than(&self, d: Duration) -> f64 {
        let at = self.latencies.partition_point(|l| *l <= d);
        (self.latencies.len() - at) as f64 / self.latencies.len() as f64
    }
}

/// Runs `calls` calls of `call`, one per [`INTERVAL`], on a fresh paused runtime seeded with
/// `seed`, and measures them.
pub fn run<F, Fut>(seed: u64, calls: usize, call: F) -> Outcome
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), std::io::Error>> + Send + 'static,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime");
    RNG.with(|rng| *rng.borrow_mut() = SmallRng::seed_from_u64(seed));
    REQUESTS.with(|r| r.set(0));
    BUSY_NANOS.with(|b| b.set(0));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(calls)));
    rt.block_on(async {
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..calls {
            tokio::time::sleep_until(start + INTERVAL * i as u32).await;
            let (fut, latencies) = (call(), latencies.clone());
            tasks.spawn(async move {
                let began = Instant::now();
                fut.await.expect("the model never fails");
                latencies.lock().unwrap().push(began.elapsed());
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.expect("a call panicked");
        }
    });
    let mut latencies = std::mem::take(&mut *latencies.lock().unwrap());
    latencies.sort();
    Outcome {
        latencies,
        requests: REQUESTS.with(Cell::get),
        busy: Duration::from_nanos(BUSY_NANOS.with(Cell::get)),
    }
}
