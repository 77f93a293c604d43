//! `#[timeout("p99*2", ...)]` adapting to the latency a function really sees: the limit is twice
//! the 99th percentile of its recent successful calls. A simulated dependency answers in 10–20
//! ms, then in 100–150 ms, then fast again; every 250 ms the current limit is read from
//! `resilient::registry::snapshot()`.
//!
//! Watch the limit settle near 40 ms, cut the first slow calls, climb to about 300 ms within a
//! fraction of a second (a timed-out call counts as a latency of at least the limit), and come
//! back down once the slow calls have left the 2 s window.
//!
//! Run it with `cargo run -p resilient-examples --example adaptive_timeout` (about 7 seconds).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use resilient::registry::{self, PolicyState};
use resilient::timeout;
use tokio::time::{Instant, interval, sleep};

/// The limit starts at `initial` (1 s) until 20 recent samples exist, then follows 2 × p99 of
/// the last 2 s of calls, kept within [10 ms, 2 s].
#[timeout(
    "p99*2",
    initial = "1s",
    min = "10ms",
    max = "2s",
    warmup = 20,
    window = "2s",
    name = "search"
)]
async fn search(latency: Duration) -> Result<(), resilient::Error> {
    sleep(latency).await; // the dependency, simulated
    Ok(())
}

/// The phases: (label, fastest, slowest answer in ms, how long in ms).
const PHASES: [(&str, u64, u64, u64); 3] =
    [("fast", 10, 20, 2000), ("slow (x10)", 100, 150, 2500), ("fast again", 10, 20, 2500)];

fn phase_at(t: Duration) -> Option<(&'static str, u64, u64)> {
    let mut end = 0;
    for (label, lo, hi, ms) in PHASES {
        end += ms;
        if t < Duration::from_millis(end) {
            return Some((label, lo, hi));
        }
    }
    None
}

#[derive(Default)]
struct Counts {
    ok: AtomicU64,
    timed_out: AtomicU64,
}

#[tokio::main]
async fn main() {
    let started = Instant::now();
    let counts = Arc::new(Counts::default());

    // 50 calls a second, each with a latency from the current phase's range.
    let load = {
        let counts = counts.clone();
        tokio::spawn(async move {
            let mut every = interval(Duration::from_millis(20));
            let mut calls = Vec::new();
            for n in 0u64.. {
                every.tick().await;
                let Some((_, lo, hi)) = phase_at(started.elapsed()) else { break };
                let latency = Duration::from_millis(lo + n * 7 % (hi - lo + 1));
                let counts = counts.clone();
                calls.push(tokio::spawn(async move {
                    match search(latency).await {
                        Ok(()) => counts.ok.fetch_add(1, Relaxed),
                        Err(e) if e.is_timeout() => counts.timed_out.fetch_add(1, Relaxed),
                        Err(e) => unreachable!("only a timeout rejects here: {e}"),
                    };
                }));
            }
            for call in calls {
                let _ = call.await;
            }
        })
    };

    println!(
        "{:>6}  {:<11} {:>9} {:>9} {:>8}  {:>4} {:>9}",
        "t", "phase", "timeout", "p99", "samples", "ok", "timed out"
    );
    let mut ticks = interval(Duration::from_millis(250));
    ticks.tick().await;
    while !load.is_finished() {
        ticks.tick().await;
        let t = started.elapsed();
        let label = phase_at(t - Duration::from_millis(125)).map_or("(done)", |p| p.0);
        let snapshot = registry::snapshot();
        let Some(PolicyState::Timeout(s)) = snapshot.get("search").map(|p| &p.state) else {
            continue;
        };
        let p99 = s.percentile.map_or("-".to_owned(), |p| format!("{} ms", p.as_millis()));
        let warming = if s.warming_up { " (warming up: initial)" } else { "" };
        println!(
            "{:>5.2}s  {:<11} {:>6} ms {:>9} {:>8}  {:>4} {:>9}{warming}",
            t.as_secs_f64(),
            label,
            s.current.as_millis(),
            p99,
            s.samples,
            counts.ok.swap(0, Relaxed),
            counts.timed_out.swap(0, Relaxed),
        );
    }
    let _ = load.await;
    let snapshot = registry::snapshot();
    if let Some(PolicyState::Timeout(s)) = snapshot.get("search").map(|p| &p.state) {
        println!("\nrule {}: {} calls timed out in all", s.rule, s.timeouts);
    }
}
