//! The adaptive bulkhead against a dependency whose capacity changes: the limit over time, and
//! the latency callers see, beside a fixed bulkhead sized for the healthy capacity.
//!
//! ```sh
//! cargo run --release -p resilient-examples --example adaptive_bulkhead [-- --out DIR]
//! ```
//!
//! Prints when the limit settled in each phase and the latencies, and writes
//! `adaptive-bulkhead-limit.svg` and `adaptive-bulkhead-latency.svg` (default: `docs/`). The
//! model is in [`sim`]; it runs on a paused tokio clock, so it takes a few seconds and gives the
//! same numbers on any machine. See `docs/adaptive-bulkhead.md`.

mod sim;
#[path = "../retry_storm/svg.rs"]
#[allow(dead_code)] // the log scale is the retry storm's
mod svg;

use std::path::PathBuf;
use std::time::Duration;

use resilient::runtime::bulkhead::Bulkhead;
use sim::{Phase, Point, between};
use svg::{Chart, Scale, Series};

const BASE: Duration = Duration::from_millis(50);
const PHASES: [Phase; 3] = [
    Phase { until: Duration::from_secs(15), capacity: 50 },
    Phase { until: Duration::from_secs(30), capacity: 100 },
    Phase { until: Duration::from_secs(45), capacity: 50 },
];

/// When the limit entered ±10 % of the capacity for good, in seconds after the phase began.
fn settled_after(points: &[Point], from: f64, to: f64, c: u32) -> Option<f64> {
    let phase: Vec<&Point> = between(points, from, to).collect();
    let off = |p: &&Point| (f64::from(p.limit) - f64::from(c)).abs() > 0.1 * f64::from(c);
    match phase.iter().rposition(off) {
        None => Some(0.0),
        Some(i) if i + 1 < phase.len() => Some(phase[i + 1].t - from),
        Some(_) => None,
    }
}

fn mean_latency(points: &[Point], from: f64, to: f64) -> f64 {
    let l: Vec<f64> = between(points, from, to).map(|p| p.latency_ms).collect();
    l.iter().sum::<f64>() / l.len() as f64
}

fn series<'a>(name: &'a str, points: &[Point], y: impl Fn(&Point) -> f64) -> Series<'a> {
    Series { name, points: points.iter().map(|p| (p.t, y(p))).collect() }
}

#[tokio::main(flavor = "current_thread", start_paused = true)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mut out = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs"));
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--out", Some(dir)) => out = dir.into(),
            _ => {
                println!("usage: adaptive_bulkhead [--out DIR]");
                return;
            }
        }
    }
    let adaptive = Bulkhead::builder().name("sim.adaptive").adaptive().build();
    let fixed = Bulkhead::builder().name("sim.fixed").max(100).build();
    let a = sim::run(adaptive, &PHASES, BASE, 3).await;
    let f = sim::run(fixed, &PHASES, BASE, 3).await;

    println!(
        "phase         capacity  settled after  latency adaptive  latency fixed (max = 100)  rejected/s adaptive  fixed"
    );
    let mut from = 0.0;
    for phase in PHASES {
        let to = phase.until.as_secs_f64();
        let settled = settled_after(&a, from, to, phase.capacity)
            .map_or("never".to_owned(), |s| format!("{s:.1} s"));
        let (la, lf) = (mean_latency(&a, from + 5.0, to), mean_latency(&f, from + 5.0, to));
        let rejected = |points: &[Point]| {
            between(points, from, to).map(|p| p.rejected).sum::<u64>() as f64 / (to - from)
        };
        let (ra, rf) = (rejected(&a), rejected(&f));
        println!(
            "{from:>4.0}-{to:<4.0} s    {:>8}  {settled:>13}  {la:>13.1} ms  {lf:>22.1} ms  {ra:>19.0}  {rf:>5.0}",
            phase.capacity
        );
        from = to;
    }

    let subtitle =
        "server of capacity C, unloaded latency 50 ms; 3000 calls/s offered; virtual time";
    let charts = [
        (
            "adaptive-bulkhead-limit.svg",
            Chart {
                title: "Adaptive bulkhead: the limit follows the dependency's capacity",
                subtitle,
                x_label: "time (s)",
                y_label: "calls at once",
                y_scale: Scale::Linear,
            },
            vec![
                series("adaptive limit", &a, |p| f64::from(p.limit)),
                series("capacity C", &a, |p| f64::from(p.capacity)),
                series("fixed limit (max = 100)", &f, |p| f64::from(p.limit)),
            ],
        ),
        (
            "adaptive-bulkhead-latency.svg",
            Chart {
                title: "Latency of admitted calls",
                subtitle,
                x_label: "time (s)",
                y_label: "mean latency per 100 ms (ms)",
                y_scale: Scale::Linear,
            },
            vec![
                series("adaptive bulkhead", &a, |p| p.latency_ms),
                series("fixed bulkhead (max = 100)", &f, |p| p.latency_ms),
            ],
        ),
    ];
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("adaptive_bulkhead: cannot create {}: {e}", out.display());
        std::process::exit(1);
    }
    for (file, chart, series) in &charts {
        let path = out.join(file);
        match std::fs::write(&path, svg::render(chart, series)) {
            Ok(()) => println!("wrote {}", path.display()),
            Err(e) => {
                eprintln!("adaptive_bulkhead: cannot write {}: {e}", path.display());
                std::process::exit(1);
            }
        }
    }
}
