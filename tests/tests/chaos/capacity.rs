//! The dependency's capacity drops by half: an adaptive bulkhead keeps the latency of the calls
//! it admits near the healthy level (it admits fewer), a fixed one sized for the healthy
//! capacity does not (every admitted call now queues in the dependency).
//!
//! Unlike the rest of the suite this runs on a paused clock against a modelled dependency (the
//! one of `examples/examples/adaptive_bulkhead/sim.rs`: up to C requests at once are served in
//! `BASE`, beyond that a request takes `BASE × n / C`), so the shape is exact and the test
//! cannot flake on a busy machine; the figures go to stdout (`--nocapture`).

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use resilient::bulkhead;

use super::*;

const BASE: Duration = Duration::from_millis(50);
const HEALTHY: u32 = 100;
/// Healthy for this long, then half the capacity for as long again and a half.
const PHASE: Duration = Duration::from_secs(10);

struct Dependency {
    in_server: AtomicU32,
    capacity: AtomicU32,
}

impl Dependency {
    const fn new() -> Self {
        Self { in_server: AtomicU32::new(0), capacity: AtomicU32::new(HEALTHY) }
    }

    async fn call(&self) -> Result<Duration, ChaosError> {
        let n = self.in_server.fetch_add(1, Relaxed) + 1;
        let took = BASE.mul_f64((f64::from(n) / f64::from(self.capacity.load(Relaxed))).max(1.0));
        sleep(took).await;
        self.in_server.fetch_sub(1, Relaxed);
        Ok(took)
    }
}

static ADAPTIVE: Dependency = Dependency::new();
static FIXED: Dependency = Dependency::new();

#[bulkhead(max = "adaptive", name = "chaos-capacity-adaptive")]
async fn adaptive_call() -> Result<Duration, ChaosError> {
    ADAPTIVE.call().await
}

/// Sized for the healthy dependency.
#[bulkhead(max = 100, name = "chaos-capacity-fixed")]
async fn fixed_call() -> Result<Duration, ChaosError> {
    FIXED.call().await
}

#[derive(Debug, Default)]
struct Seen {
    healthy_ms: f64,
    degraded_ms: f64,
    admitted_per_s: f64,
    rejected: u64,
}

/// Offers 3 calls per millisecond (1.5 times the healthy capacity) for `PHASE` healthy, then
/// `1.5 × PHASE` at half the capacity. Latencies: means over the last 5 s of each phase.
async fn drive<F, Fut>(call: F, dependency: &'static Dependency) -> Seen
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Duration, ChaosError>> + Send + 'static,
{
    let start = Instant::now();
    let healthy_until = start + PHASE;
    let end = healthy_until + PHASE.mul_f64(1.5);
    let ended: Arc<Mutex<Vec<(Instant, Duration)>>> = Arc::default();
    let rejected = Arc::new(AtomicU64::new(0));
    let mut tick = start;
    let mut calls = Vec::new();
    while tick < end {
        if tick >= healthy_until {
            dependency.capacity.store(HEALTHY / 2, Relaxed);
        }
        for _ in 0..3 {
            let (fut, ended, rejected) = (call(), ended.clone(), rejected.clone());
            calls.push(tokio::spawn(async move {
                match fut.await {
                    Ok(took) => ended.lock().unwrap().push((Instant::now(), took)),
                    Err(ChaosError::Rejected(e)) if e.is_bulkhead_full() => {
                        rejected.fetch_add(1, SeqCst);
                    }
                    Err(e) => panic!("{e:?}"),
                }
            }));
        }
        tick += MS;
        tokio::time::sleep_until(tick).await;
    }
    for c in calls {
        c.await.unwrap();
    }
    let ended = ended.lock().unwrap();
    let mean = |from: Instant, to: Instant| {
        let l: Vec<f64> = ended
            .iter()
            .filter(|(at, _)| *at >= from && *at < to)
            .map(|(_, took)| took.as_secs_f64() * 1e3)
            .collect();
        l.iter().sum::<f64>() / l.len() as f64
    };
    let last5 = Duration::from_secs(5);
    let degraded = ended.iter().filter(|(at, _)| *at >= end - last5).count();
    Seen {
        healthy_ms: mean(healthy_until - last5, healthy_until),
        degraded_ms: mean(end - last5, end + BASE * 4),
        admitted_per_s: degraded as f64 / last5.as_secs_f64(),
        rejected: rejected.load(SeqCst),
    }
}

#[tokio::test(start_paused = true)]
async fn capacity_halves_the_adaptive_bulkhead_keeps_latency_the_fixed_one_doubles_it() {
    let adaptive = drive(adaptive_call, &ADAPTIVE).await;
    let fixed = drive(fixed_call, &FIXED).await;
    println!("capacity {HEALTHY} -> {}, unloaded latency {BASE:?}", HEALTHY / 2);
    println!("adaptive: {adaptive:?}");
    println!("fixed (max = {HEALTHY}): {fixed:?}");
    let base = BASE.as_secs_f64() * 1e3;
    // Healthy, both keep latency near the unloaded level.
    assert!(adaptive.healthy_ms < base * 1.15, "{adaptive:?}");
    assert!(fixed.healthy_ms < base * 1.05, "{fixed:?}");
    // Degraded, the adaptive bulkhead stays near it and the fixed one doubles it.
    assert!(adaptive.degraded_ms < base * 1.15, "{adaptive:?}");
    assert!(fixed.degraded_ms > base * 1.8, "{fixed:?}");
    // Both serve about what the dependency can (50 calls per 50 ms: 1000 a second).
    for seen in [&adaptive, &fixed] {
        assert!((900.0..1150.0).contains(&seen.admitted_per_s), "{seen:?}");
        assert!(seen.rejected > 0, "1.5 times the capacity was offered: {seen:?}");
    }
    let snap = resilient::registry::snapshot();
    let limit = snap.bulkhead("chaos-capacity-adaptive").unwrap().limit;
    assert!((45..=55).contains(&limit), "settled near the new capacity: {limit}");
}
