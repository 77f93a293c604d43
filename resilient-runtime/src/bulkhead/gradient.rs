//! The adaptive limit's controller: a gradient on latency, in the family of Netflix's
//! concurrency-limits (`Gradient2`) and Envoy's adaptive concurrency filter. Pure arithmetic on
//! what one measurement interval saw; [`adaptive`](super::adaptive) feeds it.
//!
//! Each interval (a few round trips long) it compares the interval's mean latency `rtt` with
//! the dependency's latency when it is not loaded, `min_rtt`:
//!
//! ```text
//! gradient = clamp(min_rtt × (1 + TOLERANCE) / rtt, 0.5, 1 + TOLERANCE)
//! limit    ← limit + SMOOTHING × (limit × gradient + HEADROOM − limit)
//! ```
//!
//! While latency stays within the tolerance the limit grows by about `SMOOTHING × TOLERANCE`
//! per interval (plus the headroom); past the dependency's capacity C, where calls queue and
//! `rtt` grows as `min_rtt × limit / C`, the target `limit × gradient` is
//! `(1 + TOLERANCE) × C`, so the limit settles at about `1.05 × C + 1` whatever C is.
//!
//! - **Slow start**: from `initial`, the limit doubles each interval until latency first rises
//!   past the tolerance (as TCP's slow start), then the gradient takes over.
//! - **Application-limited**: when the calls running never reached half the limit during an
//!   interval, the limit does not grow (nothing showed the dependency could take more).
//! - **min_rtt** is the lowest interval mean seen since the last probe. Every [`PROBE_EVERY`]
//!   the controller probes it again, as Envoy does: for two intervals the limit drops to a
//!   quarter (at least `min`), the first to drain the calls already running, the second to
//!   measure; then the limit returns to where it was. Without it, a dependency whose unloaded
//!   latency rose for good (a new query plan, a farther replica) would drag the limit to `min`
//!   and keep it there.

/// Latency rise over `min_rtt` taken as "not loaded yet".
pub(crate) const TOLERANCE: f64 = 0.05;
/// Share of the way to the new target the limit moves each interval.
pub(crate) const SMOOTHING: f64 = 0.5;
/// Calls added beyond the gradient's target: lets the limit grow off a flat latency.
pub(crate) const HEADROOM: f64 = 1.0;
/// Seconds between two measurements of `min_rtt`.
pub(crate) const PROBE_EVERY: f64 = 60.0;

/// What one interval saw.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Sample {
    /// Mean latency of the calls that finished in it, in seconds.
    pub(crate) rtt: f64,
    /// The most calls running at once in it.
    pub(crate) peak: u32,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Probe {
    Idle,
    /// The limit is down; calls started before still finish in this interval.
    Draining {
        saved: f64,
    },
    /// This interval's mean is the new `min_rtt`.
    Measuring {
        saved: f64,
    },
}

/// The controller's state.
#[derive(Clone, Debug)]
pub(crate) struct Gradient {
    limit: f64,
    min: f64,
    max: f64,
    min_rtt: Option<f64>,
    slow_start: bool,
    probe: Probe,
    /// Controller time (seconds) of the next probe.
    next_probe: f64,
}

impl Gradient {
    pub(crate) fn new(initial: u32, min: u32, max: u32) -> Self {
        Self {
            limit: f64::from(initial.clamp(min, max)),
            min: f64::from(min),
            max: f64::from(max),
            min_rtt: None,
            slow_start: true,
            probe: Probe::Idle,
            next_probe: PROBE_EVERY,
        }
    }

    /// New bounds (configuration); the limit is clamped into them, the rest kept.
    pub(crate) fn retune(&mut self, min: u32, max: u32) {
        (self.min, self.max) = (f64::from(min), f64::from(max));
        self.limit = self.limit.clamp(self.min, self.max);
        if let Probe::Draining { saved } | Probe::Measuring { saved } = &mut self.probe {
            *saved = saved.clamp(self.min, self.max);
        }
    }

    /// The limit callers get now.
    pub(crate) fn limit(&self) -> u32 {
        self.limit.round() as u32
    }

    /// The unloaded latency, once measured (seconds).
    pub(crate) fn min_rtt(&self) -> Option<f64> {
        self.min_rtt
    }

    pub(crate) fn slow_start(&self) -> bool {
        self.slow_start
    }

    pub(crate) fn probing(&self) -> bool {
        self.probe != Probe::Idle
    }

    /// One interval ended at controller time `now` (seconds) having seen `s`.
    pub(crate) fn update(&mut self, s: Sample, now: f64) {
        match self.probe {
            Probe::Draining { saved } => {
                self.probe = Probe::Measuring { saved };
                return;
            }
            Probe::Measuring { saved } => {
                // A dependency that got slower for good: find its capacity again quickly.
                if self.min_rtt.is_some_and(|m| s.rtt > m * (1.0 + TOLERANCE)) {
                    self.slow_start = true;
                }
                self.min_rtt = Some(s.rtt);
                self.limit = saved;
                self.probe = Probe::Idle;
                self.next_probe = now + PROBE_EVERY;
                return;
            }
            Probe::Idle => {}
        }
        let min_rtt = match self.min_rtt {
            Some(m) if m <= s.rtt => m,
            _ => {
                self.min_rtt = Some(s.rtt);
                s.rtt
            }
        };
        if now >= self.next_probe {
            let saved = self.limit;
            self.limit = (self.limit / 4.0).max(self.min);
            self.probe = Probe::Draining { saved };
            return;
        }
        let target = min_rtt * (1.0 + TOLERANCE);
        let app_limited = f64::from(s.peak) < self.limit / 2.0;
        if self.slow_start {
            if s.rtt <= target {
                if !app_limited {
                    self.limit = (self.limit * 2.0).min(self.max);
                }
                return;
            }
            self.slow_start = false;
        }
        let gradient = (target / s.rtt).clamp(0.5, 1.0 + TOLERANCE);
        if gradient >= 1.0 && app_limited {
            return;
        }
        let next = self.limit * gradient + HEADROOM;
        self.limit = (self.limit + SMOOTHING * (next - self.limit)).clamp(self.min, self.max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dependency of capacity `c` calls and unloaded latency `base`: beyond `c`, calls queue.
    fn rtt(limit: u32, c: u32, base: f64) -> f64 {
        base * (f64::from(limit) / f64::from(c)).max(1.0)
    }

    /// Runs `n` intervals at full load; returns the limits.
    fn run(g: &mut Gradient, c: u32, base: f64, from: f64, n: usize) -> Vec<u32> {
        (0..n)
            .map(|i| {
                let l = g.limit();
                g.update(Sample { rtt: rtt(l, c, base), peak: l }, from + i as f64 * 0.1);
                g.limit()
            })
            .collect()
    }

    fn near(limit: u32, c: u32) -> bool {
        (f64::from(limit) - f64::from(c)).abs() <= 0.1 * f64::from(c)
    }

    #[test]
    fn slow_start_doubles_then_the_gradient_settles_near_capacity() {
        let mut g = Gradient::new(20, 1, 1000);
        let limits = run(&mut g, 100, 0.02, 0.0, 40);
        assert_eq!(&limits[..3], [40, 80, 160], "doubling while latency is flat");
        assert!(!g.slow_start());
        assert!(limits[20..].iter().all(|&l| near(l, 100)), "{limits:?}");
    }

    #[test]
    fn follows_capacity_up_and_down() {
        for (from, to) in [(100, 200), (200, 100), (100, 50), (40, 400)] {
            let mut g = Gradient::new(20, 1, 1000);
            run(&mut g, from, 0.02, 0.0, 40);
            let limits = run(&mut g, to, 0.02, 4.0, 100);
            assert!(near(*limits.last().unwrap(), to), "{from} -> {to}: {limits:?}");
        }
    }

    #[test]
    fn an_idle_caller_does_not_grow_the_limit() {
        let mut g = Gradient::new(20, 1, 1000);
        for i in 0..50 {
            g.update(Sample { rtt: 0.02, peak: 3 }, f64::from(i) * 0.1);
        }
        assert_eq!(g.limit(), 20);
    }

    #[test]
    fn a_probe_relearns_a_higher_unloaded_latency() {
        let mut g = Gradient::new(20, 1, 1000);
        run(&mut g, 100, 0.02, 0.0, 40);
        // The dependency got slower for good (same capacity, twice the latency): without a
        // probe, min_rtt would stay 20 ms and the gradient would drive the limit to `min`.
        let limits = run(&mut g, 100, 0.04, 4.0, 620);
        assert!(limits.iter().any(|&l| l < 10), "the limit fell first: {limits:?}");
        assert!(near(*limits.last().unwrap(), 100), "{:?}", &limits[580..]);
        assert!((g.min_rtt().unwrap() - 0.04).abs() < 1e-9);
    }

    #[test]
    fn bounds_hold() {
        let mut g = Gradient::new(20, 5, 30);
        let limits = run(&mut g, 1000, 0.02, 0.0, 20);
        assert!(limits.iter().all(|&l| l <= 30));
        let limits = run(&mut g, 1, 0.02, 2.0, 20);
        assert!(limits.iter().all(|&l| l >= 5));
        g.retune(1, 10);
        assert!(g.limit() <= 10);
    }
}
