//! The latency histogram's percentiles against the exact percentiles of the same samples.
//!
//! The layout bounds the relative error by 1/64 (half a bucket of at most 1/32 of its lower
//! bound); this checks that bound, well inside the 5 % the adaptive timeout needs, over several
//! shapes of distribution and the percentiles timeouts use. Run with `--nocapture` for the table.

use std::f64::consts::TAU;
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use resilient_runtime::timeout::LatencyHistogram;

const SAMPLES: usize = 200_000;
const PERCENTILES: [f64; 4] = [50.0, 90.0, 99.0, 99.9];
const MS: f64 = 1e6;

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut SmallRng) -> f64 {
    let u: f64 = 1.0 - rng.random::<f64>(); // (0, 1]: ln is finite
    let v: f64 = rng.random();
    (-2.0 * u.ln()).sqrt() * (TAU * v).cos()
}

fn log_normal(rng: &mut SmallRng, median_ns: f64, sigma: f64) -> u64 {
    (median_ns * (sigma * normal(rng)).exp()).round().max(1.0) as u64
}

/// Draws one latency in nanoseconds.
type Draw = fn(&mut SmallRng) -> u64;

/// Named generators of latencies.
fn distributions() -> Vec<(&'static str, Draw)> {
    vec![
        ("uniform 1..100 ms", |r| r.random_range(1_000_000..100_000_000)),
        ("log-normal median 20 ms, sigma 1", |r| log_normal(r, 20.0 * MS, 1.0)),
        ("bimodal 90% ~5 ms, 10% ~200 ms", |r| {
            if r.random::<f64>() < 0.9 {
                r.random_range(4_000_000..6_000_000)
            } else {
                log_normal(r, 200.0 * MS, 0.3)
            }
        }),
        ("exponential mean 10 ms", |r| {
            (-(1.0 - r.random::<f64>()).ln() * 10.0 * MS).round().max(1.0) as u64
        }),
        ("pareto alpha 1.5 from 1 ms", |r| {
            (MS * (1.0 - r.random::<f64>()).powf(-1.0 / 1.5)).round() as u64
        }),
        ("uniform 1..2000 ns (unit buckets)", |r| r.random_range(1..2000)),
    ]
}

/// The nearest-rank percentile, as the histogram defines it.
fn exact(sorted: &[u64], p: f64) -> u64 {
    let n = sorted.len() as u64;
    let rank = ((p / 100.0 * n as f64).ceil() as u64).clamp(1, n);
    sorted[rank as usize - 1]
}

#[test]
fn percentiles_are_within_1_6_percent_of_exact() {
    let mut worst: f64 = 0.0;
    for (seed, (name, draw)) in distributions().into_iter().enumerate() {
        let mut rng = SmallRng::seed_from_u64(seed as u64 + 1);
        let h = LatencyHistogram::new();
        let mut samples: Vec<u64> = (0..SAMPLES).map(|_| draw(&mut rng)).collect();
        for &s in &samples {
            h.record(Duration::from_nanos(s));
        }
        samples.sort_unstable();
        assert_eq!(h.count(), SAMPLES as u64);
        let mut row = format!("{name:>36}:");
        for p in PERCENTILES {
            let want = exact(&samples, p) as f64;
            let got = h.percentile(p).unwrap().as_nanos() as f64;
            let error = got / want - 1.0;
            row += &format!(
                "  p{p}={:.3?} ({:+.2}%)",
                Duration::from_nanos(want as u64),
                error * 100.0
            );
            assert!(
                error.abs() <= 1.0 / 64.0,
                "{name}: p{p} is {got} ns, exact {want} ns ({:+.2} %)",
                error * 100.0
            );
            worst = worst.max(error.abs());
        }
        println!("{row}");
    }
    println!("worst relative error: {:.3} %", worst * 100.0);
    assert!(worst < 0.05);
}

#[test]
fn extreme_values_saturate_instead_of_panicking() {
    let h = LatencyHistogram::new();
    h.record(Duration::ZERO);
    h.record(Duration::MAX);
    assert_eq!(h.count(), 2);
    assert_eq!(h.percentile(50.0), Some(Duration::ZERO));
    // Beyond ~9.8 h everything shares the last bucket.
    let top = h.percentile(100.0).unwrap();
    assert!(top > Duration::from_secs(9 * 3600) && top < Duration::from_secs(10 * 3600));
}
