//! The adaptive bulkhead converges: against a server whose latency rises past its capacity C
//! (see `examples/examples/adaptive_bulkhead/sim.rs`), the limit settles within ±10 % of C
//! within 5 s, and again within 10 s after C doubles and after it halves. Virtual time.

#[path = "../../examples/examples/adaptive_bulkhead/sim.rs"]
#[allow(dead_code)]
mod sim;

use std::time::Duration;

use resilient::runtime::bulkhead::Bulkhead;
use sim::{Phase, between};

const BASE: Duration = Duration::from_millis(50);

fn settled(points: &[sim::Point], from: f64, to: f64, c: u32) {
    let off: Vec<_> = between(points, from, to)
        .filter(|p| (f64::from(p.limit) - f64::from(c)).abs() > 0.1 * f64::from(c))
        .map(|p| (p.t, p.limit))
        .collect();
    assert!(off.is_empty(), "C = {c}: limit off by more than 10 % at {off:?}");
}

#[tokio::test(start_paused = true)]
async fn the_limit_settles_near_capacity_and_follows_it() {
    let bulkhead = Bulkhead::builder().name("sim.adaptive").adaptive().build();
    let phases = [
        Phase { until: Duration::from_secs(15), capacity: 50 },
        Phase { until: Duration::from_secs(30), capacity: 100 },
        Phase { until: Duration::from_secs(45), capacity: 50 },
    ];
    let points = sim::run(bulkhead.clone(), &phases, BASE, 3).await;
    settled(&points, 5.0, 15.0, 50);
    settled(&points, 25.0, 30.0, 100);
    settled(&points, 40.0, 45.0, 50);
    // Settled, it keeps the dependency near its unloaded latency.
    let latency: Vec<f64> = between(&points, 10.0, 15.0).map(|p| p.latency_ms).collect();
    assert!(latency.iter().all(|&l| l < 50.0 * 1.2), "{latency:?}");
    let snap = bulkhead.snapshot();
    let adaptive = snap.adaptive.expect("adaptive");
    assert_eq!(adaptive.min_rtt, Some(BASE));
    assert!(!adaptive.slow_start);
}
