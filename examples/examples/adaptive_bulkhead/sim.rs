//! A dependency whose latency rises past its capacity, called through a bulkhead, in virtual
//! time (a paused tokio clock: no sleeping, same numbers on any machine).
//!
//! The model: a server of capacity C with unloaded latency `base`. A request arriving when `n`
//! requests are in the server (itself included) takes `base × max(1, n / C)`: up to C at once it
//! is served at once; beyond, it shares the server, as Little's law has it for a saturated
//! server of C workers. Requests arrive open-loop, `per_ms` every millisecond (more than the
//! server can take), each through the bulkhead: a rejected one is counted and dropped.
//!
//! Shared by the example (which draws the chart), `tests/tests/bulkhead_adaptive.rs` (which
//! asserts the convergence) and the chaos suite's capacity scenario.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use resilient::runtime::bulkhead::Bulkhead;
use tokio::time::{Instant, sleep, sleep_until};

/// From the previous phase's end (or 0) to `until`, the server has this capacity.
#[derive(Clone, Copy, Debug)]
pub struct Phase {
    pub until: Duration,
    pub capacity: u32,
}

/// One sample, every [`STEP`].
#[derive(Clone, Copy, Debug)]
pub struct Point {
    /// Seconds since the start.
    pub t: f64,
    pub capacity: u32,
    /// The bulkhead's limit.
    pub limit: u32,
    /// Mean latency of the calls that ended in the last step, in milliseconds (the previous
    /// value when none did).
    pub latency_ms: f64,
    /// Calls rejected in the last step.
    pub rejected: u64,
}

/// How often the run is sampled.
pub const STEP: Duration = Duration::from_millis(100);

#[derive(Default)]
struct Ended {
    sum: Duration,
    count: u32,
}

/// Runs the phases against `bulkhead`; must run on a paused clock.
pub async fn run(bulkhead: Bulkhead, phases: &[Phase], base: Duration, per_ms: u32) -> Vec<Point> {
    let capacity = Arc::new(AtomicU32::new(phases[0].capacity));
    let in_server = Arc::new(AtomicU32::new(0));
    let rejected = Arc::new(AtomicU64::new(0));
    let ended = Arc::new(Mutex::new(Ended::default()));
    let start = Instant::now();
    let end = start + phases.last().expect("a phase").until;

    let sampler = {
        let (bulkhead, capacity, rejected, ended) =
            (bulkhead.clone(), capacity.clone(), rejected.clone(), ended.clone());
        tokio::spawn(async move {
            let mut points = Vec::new();
            let mut latency_ms = base.as_secs_f64() * 1e3;
            let mut at = start;
            while at < end {
                at += STEP;
                sleep_until(at).await;
                let step = std::mem::take(&mut *ended.lock().unwrap());
                if step.count > 0 {
                    latency_ms = (step.sum / step.count).as_secs_f64() * 1e3;
                }
                points.push(Point {
                    t: (at - start).as_secs_f64(),
                    capacity: capacity.load(Relaxed),
                    limit: bulkhead.limit(),
                    latency_ms,
                    rejected: rejected.swap(0, Relaxed),
                });
            }
            points
        })
    };

    let mut tick = start;
    for phase in phases {
        capacity.store(phase.capacity, Relaxed);
        while tick < start + phase.until {
            for _ in 0..per_ms {
                let (bulkhead, capacity, in_server, rejected, ended) = (
                    bulkhead.clone(),
                    capacity.clone(),
                    in_server.clone(),
                    rejected.clone(),
                    ended.clone(),
                );
                tokio::spawn(async move {
                    let Ok(place) = bulkhead.acquire().await else {
                        rejected.fetch_add(1, Relaxed);
                        return;
                    };
                    let n = in_server.fetch_add(1, Relaxed) + 1;
                    let load = f64::from(n) / f64::from(capacity.load(Relaxed));
                    let took = base.mul_f64(load.max(1.0));
                    sleep(took).await;
                    in_server.fetch_sub(1, Relaxed);
                    place.done();
                    let mut e = ended.lock().unwrap();
                    e.sum += took;
                    e.count += 1;
                });
            }
            tick += Duration::from_millis(1);
            sleep_until(tick).await;
        }
    }
    sampler.await.expect("the sampler does not panic")
}

/// The points with `from <= t < to`.
pub fn between(points: &[Point], from: f64, to: f64) -> impl Iterator<Item = &Point> {
    points.iter().filter(move |p| p.t >= from && p.t < to)
}
