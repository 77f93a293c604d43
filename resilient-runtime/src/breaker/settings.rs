//! A breaker's settings and its builder.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use resilient_spec::{Force, Setting};

use super::machine::{Config, MAX_PROBES, Machine, Mode};
use super::window::BUCKETS;
use super::{CircuitBreaker, Inner};
use crate::config::{self, Live, Tunable, Tuning};
use crate::error::PolicyName;
use crate::registry::{self, Inspect};

/// The settings of a [`CircuitBreaker`], as `#[circuit_breaker(...)]` spells them.
///
/// Two breakers built with [`CircuitBreakerBuilder::build_shared`] under one name must agree on
/// these; the registry reports them when they do not.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct BreakerSettings {
    /// Failures within `window` that open the circuit (ignored in failure-rate mode).
    pub threshold: u32,
    /// The sliding window failures are counted in, kept as 16 buckets of `window / 16`: a
    /// failure stops counting between 15/16 of `window` and `window` after it happened.
    pub window: Duration,
    /// How long the circuit stays open before letting probes through.
    pub cooldown: Duration,
    /// Calls let through while half-open; all must succeed to close, one failure re-opens.
    pub probes: u32,
    /// Failure-rate mode: open when this share of the calls in `window` failed (in `(0, 1]`)
    /// and there were at least `min_calls` of them. `None` (the default) counts failures
    /// against `threshold` instead.
    pub failure_rate: Option<f64>,
    /// Calls in `window` needed before `failure_rate` can open the circuit.
    pub min_calls: u32,
    /// Which timeouts of an inner `#[timeout]` count as failures (default: all of them).
    pub timeouts: Timeouts,
}

/// Which timeouts of an inner [`Timeout`](crate::timeout::Timeout) a breaker counts as
/// failures: the `timeouts` key of `#[circuit_breaker]`, in either mode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Timeouts {
    /// Every timeout is a failure (`"all"`, the default).
    #[default]
    All,
    /// A timeout at a learned adaptive limit below its `max`
    /// ([`Elapsed::is_learning`](crate::error::Elapsed::is_learning): a limit still learning a
    /// latency shift) counts as neither failure nor success; every other timeout (at `max`, at
    /// `initial` during the warm-up, of a fixed timeout) is a failure (`"settled"`).
    Settled,
}

impl Timeouts {
    /// The word `timeouts = "..."` writes.
    pub fn as_str(self) -> &'static str {
        match self {
            Timeouts::All => "all",
            Timeouts::Settled => "settled",
        }
    }

    /// Whether a timeout with these details counts as a failure.
    #[inline]
    pub fn count(self, elapsed: &crate::error::Elapsed) -> bool {
        self == Timeouts::All || !elapsed.is_learning()
    }

    pub(crate) fn setting(self) -> Setting {
        Setting::Choice(self.as_str())
    }

    pub(crate) fn from_setting(setting: Setting) -> Self {
        match setting {
            Setting::Choice("settled") => Timeouts::Settled,
            _ => Timeouts::All,
        }
    }
}

impl Default for BreakerSettings {
    /// The defaults of `#[circuit_breaker]`: 5 failures in 30 s open the circuit for 10 s, then
    /// one probe decides; failure-rate mode off (`min_calls` 10 when turned on); every timeout
    /// counts as a failure.
    fn default() -> Self {
        Self {
            threshold: 5,
            window: Duration::from_secs(30),
            cooldown: Duration::from_secs(10),
            probes: 1,
            failure_rate: None,
            min_calls: 10,
            timeouts: Timeouts::All,
        }
    }
}

impl BreakerSettings {
    /// The machine's view: checked, clamped and converted to its units.
    ///
    /// # Panics
    /// When `failure_rate` is set outside `(0, 1]`.
    pub(crate) fn config(&self) -> Config {
        if let Some(rate) = self.failure_rate {
            assert!(
                rate > 0.0 && rate <= 1.0,
                "circuit breaker failure_rate must be in (0, 1], got {rate}"
            );
        }
        let bucket_nanos = self.window.as_nanos() / BUCKETS as u128;
        // The state word keeps instants in 48 bits of microseconds and compares differences
        // below half of that (about 4.5 years): longer cooldowns are that long.
        let cooldown_us = self.cooldown.as_nanos().div_ceil(1000).min((1 << 47) - 1);
        Config {
            threshold: self.threshold.max(1),
            bucket_nanos: bucket_nanos.clamp(1, u128::from(u64::MAX)) as u64,
            cooldown_us: cooldown_us as u64,
            probes: self.probes.clamp(1, MAX_PROBES),
            rate: self.failure_rate.map(|r| (r, self.min_calls.max(1))),
            mode: Mode::Normal,
        }
    }

    /// The settings as configuration keys, all compiled in.
    pub(crate) fn tuning(&self) -> Tuning {
        Tuning::new(&resilient_spec::CIRCUIT_BREAKER)
            .with("threshold", Setting::Count(self.threshold.into()))
            .with("window", Setting::Duration(self.window))
            .with("cooldown", Setting::Duration(self.cooldown))
            .with("probes", Setting::Count(self.probes.into()))
            .with("failure_rate", self.failure_rate.map_or(Setting::Unset, Setting::Number))
            .with("min_calls", Setting::Count(self.min_calls.into()))
            .with("timeouts", self.timeouts.setting())
    }

    /// The settings configuration keys describe, and the override they ask for.
    fn from_tuning(t: &Tuning) -> (Self, Mode) {
        let settings = Self {
            threshold: t.count("threshold") as u32,
            window: t.duration("window"),
            cooldown: t.duration("cooldown"),
            probes: t.count("probes") as u32,
            failure_rate: match t.get("failure_rate") {
                Setting::Number(r) => Some(r),
                _ => None,
            },
            min_calls: t.count("min_calls") as u32,
            timeouts: Timeouts::from_setting(t.get("timeouts")),
        };
        let mode = match (t.enabled(), t.get("force")) {
            (false, _) | (true, Setting::Force(Force::Closed)) => Mode::Bypass,
            (true, Setting::Force(Force::Open)) => Mode::Reject,
            _ => Mode::Normal,
        };
        (settings, mode)
    }
}

/// A breaker's settings as configured, for [`CircuitBreaker::settings`] and snapshots.
#[derive(Debug)]
pub(crate) struct Tuned {
    pub(crate) settings: BreakerSettings,
    pub(crate) tuning: Tuning,
}

impl Tunable for Inner {
    fn name(&self) -> &str {
        self.name.as_str()
    }

    fn inline(&self) -> &Tuning {
        &self.inline
    }

    // Every key is checked on its own; `failure_rate`, when set, takes over from `threshold`.
    // Only the adaptive mode's keys are refused, naming the mode.
    fn check(&self, tuning: &Tuning) -> Result<(), String> {
        super::adaptive::refuse_keys(tuning, resilient_spec::ADAPTIVE_KEYS, "binary")
    }

    fn retune(&self, tuning: Tuning) {
        let (settings, mode) = BreakerSettings::from_tuning(&tuning);
        self.tuned.set(Tuned { settings, tuning });
        self.machine.retune(Config { mode, ..settings.config() });
    }

    fn current(&self) -> Tuning {
        self.tuned.get().tuning.clone()
    }
}

/// Builds a [`CircuitBreaker`]; see [`CircuitBreaker::builder`].
#[derive(Clone, Debug)]
#[must_use]
pub struct CircuitBreakerBuilder {
    name: PolicyName,
    settings: BreakerSettings,
}

impl CircuitBreakerBuilder {
    pub(super) fn new() -> Self {
        Self { name: PolicyName::from("circuit_breaker"), settings: BreakerSettings::default() }
    }

    /// The name the registry and [`Error::CircuitOpen`](crate::Error::CircuitOpen) use, and the
    /// key of [`build_shared`](Self::build_shared) (default `"circuit_breaker"`).
    pub fn name(mut self, name: impl Into<PolicyName>) -> Self {
        self.name = name.into();
        self
    }

    /// Failures within the window that open the circuit (default 5; at least 1).
    pub fn threshold(mut self, threshold: u32) -> Self {
        self.settings.threshold = threshold;
        self
    }

    /// The sliding window failures are counted in (default 30 s), in 16 buckets.
    pub fn window(mut self, window: Duration) -> Self {
        self.settings.window = window;
        self
    }

    /// How long the circuit stays open before probes are let through (default 10 s).
    pub fn cooldown(mut self, cooldown: Duration) -> Self {
        self.settings.cooldown = cooldown;
        self
    }

    /// Probes let through while half-open (default 1; at least 1, at most 65535).
    pub fn probes(mut self, probes: u32) -> Self {
        self.settings.probes = probes;
        self
    }

    /// Switches to failure-rate mode: open when `rate` (in `(0, 1]`) of the calls in the
    /// window failed, once there were at least `min_calls`. Counts every call (a relaxed atomic
    /// add per success) where count mode counts only failures.
    ///
    /// # Panics
    /// When `rate` is not in `(0, 1]`.
    pub fn failure_rate(mut self, rate: f64, min_calls: u32) -> Self {
        assert!(
            rate > 0.0 && rate <= 1.0,
            "circuit breaker failure_rate must be in (0, 1], got {rate}"
        );
        self.settings.failure_rate = Some(rate);
        self.settings.min_calls = min_calls;
        self
    }

    /// Which timeouts of an inner timeout count as failures (default [`Timeouts::All`]).
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.settings.timeouts = timeouts;
        self
    }

    /// Replaces every setting at once.
    pub fn settings(mut self, settings: BreakerSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Builds a breaker of its own and lists it in the [registry](crate::registry).
    ///
    /// # Panics
    /// When the settings' `failure_rate` is not in `(0, 1]`.
    pub fn build(self) -> CircuitBreaker {
        let inline = self.settings.tuning();
        let inner = Arc::new(Inner {
            metrics: crate::observe::BreakerMetrics::new(&self.name),
            machine: Machine::new(self.settings.config()),
            name: self.name,
            tuned: Live::new(Tuned { settings: self.settings, tuning: inline.clone() }),
            inline,
            epoch: tokio::time::Instant::now(),
        });
        config::attach(&inner);
        let weak: std::sync::Weak<dyn Inspect> = Arc::downgrade(&inner) as _;
        registry::register(weak);
        CircuitBreaker { inner }
    }

    /// Returns the breaker registered under this builder's name, building it the first time:
    /// every builder with the same name gets the same breaker, so they trip together. A later
    /// builder whose settings differ from the first one's still gets the first breaker; the
    /// disagreement is listed in [`registry::snapshot`]`().conflicts`.
    pub fn build_shared(self) -> CircuitBreaker {
        let name = self.name.clone();
        registry::named(name.as_str(), self.settings, |settings| self.settings(settings).build())
    }
}
