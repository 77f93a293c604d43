//! An adaptive breaker's settings, its builder, and how configuration tunes it.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use resilient_spec::{Force, Setting};

use super::super::adaptive_window::{Rule, Window};
use super::super::settings::Timeouts;
use super::super::window::BUCKETS;
use super::{AdaptiveBreaker, AdaptiveInner, Override, Tuned};
use crate::config::{self, Live, Tunable, Tuning};
use crate::error::PolicyName;
use crate::registry::{self, Inspect};

/// The settings of an [`AdaptiveBreaker`], as `#[circuit_breaker(mode = "adaptive", ...)]`
/// spells them.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct AdaptiveSettings {
    /// Rejection starts when fewer than `1/k` of the calls in `window` succeed (at least 1).
    pub k: f64,
    /// The sliding window requests and accepts are counted in (16 buckets of `window / 16`).
    pub window: Duration,
    /// Below this many calls a second in `window`, nothing is rejected.
    pub min_rps: f64,
    /// The rejection probability never goes above this (below 1: some calls always go through).
    pub max_rejection: f64,
    /// Which timeouts of an inner `#[timeout]` count as failures (default: all of them).
    pub timeouts: Timeouts,
}

impl Default for AdaptiveSettings {
    /// `k = 2.0` over 30 s, nothing rejected below 1 call a second, at most 90 % rejected;
    /// every timeout counts as a failure.
    fn default() -> Self {
        Self {
            k: 2.0,
            window: Duration::from_secs(30),
            min_rps: 1.0,
            max_rejection: 0.9,
            timeouts: Timeouts::All,
        }
    }
}

impl AdaptiveSettings {
    pub(super) fn bucket_nanos(&self) -> u64 {
        (self.window.as_nanos() / BUCKETS as u128).clamp(1, u128::from(u64::MAX)) as u64
    }

    pub(super) fn rule(&self) -> Rule {
        Rule {
            k: self.k.max(1.0),
            min_requests: self.min_rps.max(0.0) * self.window.as_secs_f64(),
            max_rejection: self.max_rejection.clamp(0.0, 0.99),
        }
    }

    pub(super) fn tuning(&self) -> Tuning {
        Tuning::new(&resilient_spec::CIRCUIT_BREAKER)
            .with("window", Setting::Duration(self.window))
            .with("k", Setting::Number(self.k))
            .with("min_rps", Setting::Number(self.min_rps))
            .with("max_rejection", Setting::Number(self.max_rejection))
            .with("timeouts", self.timeouts.setting())
    }

    pub(super) fn from_tuning(t: &Tuning) -> (Self, Override) {
        let number = |key| t.get(key).number().unwrap_or_default();
        let settings = Self {
            k: number("k"),
            window: t.duration("window"),
            min_rps: number("min_rps"),
            max_rejection: number("max_rejection"),
            timeouts: Timeouts::from_setting(t.get("timeouts")),
        };
        let over = match (t.enabled(), t.get("force")) {
            (false, _) | (true, Setting::Force(Force::Closed)) => Override::Bypass,
            (true, Setting::Force(Force::Open)) => Override::Reject,
            _ => Override::None,
        };
        (settings, over)
    }
}

/// Builds an [`AdaptiveBreaker`]; see [`AdaptiveBreaker::builder`].
#[derive(Clone, Debug)]
#[must_use]
pub struct AdaptiveBreakerBuilder {
    name: PolicyName,
    settings: AdaptiveSettings,
}

impl AdaptiveBreakerBuilder {
    pub(super) fn new() -> Self {
        Self { name: PolicyName::from("circuit_breaker"), settings: AdaptiveSettings::default() }
    }

    /// The name the registry and [`Error::CircuitOpen`](crate::Error::CircuitOpen) use (default `"circuit_breaker"`).
    pub fn name(mut self, name: impl Into<PolicyName>) -> Self {
        self.name = name.into();
        self
    }

    /// Rejection starts when fewer than `1/k` of the calls succeed (default 2; at least 1).
    pub fn k(mut self, k: f64) -> Self {
        self.settings.k = k;
        self
    }

    /// The sliding window requests and accepts are counted in (default 30 s).
    pub fn window(mut self, window: Duration) -> Self {
        self.settings.window = window;
        self
    }

    /// Below this many calls a second in the window nothing is rejected (default 1).
    pub fn min_rps(mut self, min_rps: f64) -> Self {
        self.settings.min_rps = min_rps;
        self
    }

    /// The highest rejection probability (default 0.9; at most 0.99).
    pub fn max_rejection(mut self, max_rejection: f64) -> Self {
        self.settings.max_rejection = max_rejection;
        self
    }

    /// Which timeouts of an inner timeout count as failures (default [`Timeouts::All`]).
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.settings.timeouts = timeouts;
        self
    }

    /// Replaces every setting at once.
    pub fn settings(mut self, settings: AdaptiveSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Builds a breaker of its own and lists it in the [registry](crate::registry).
    pub fn build(self) -> AdaptiveBreaker {
        let inline = self.settings.tuning();
        let inner = Arc::new(AdaptiveInner {
            metrics: crate::observe::AdaptiveMetrics::new(&self.name),
            name: self.name,
            tuned: Live::new(Tuned {
                settings: self.settings,
                over: Override::None,
                tuning: inline.clone(),
            }),
            inline,
            gate: AtomicU64::new(0),
            fresh: AtomicU64::new(0),
            window: Mutex::new(Window::new()),
            rejections: AtomicU64::new(0),
            epoch: Instant::now(),
        });
        config::attach(&inner);
        let weak: std::sync::Weak<dyn Inspect> = Arc::downgrade(&inner) as _;
        registry::register(weak);
        AdaptiveBreaker { inner }
    }

    /// Returns the breaker registered under this builder's name, building it the first time
    /// (see [`CircuitBreakerBuilder::build_shared`](crate::breaker::CircuitBreakerBuilder::build_shared)).
    pub fn build_shared(self) -> AdaptiveBreaker {
        let name = self.name.clone();
        registry::named(name.as_str(), self.settings, |settings| self.settings(settings).build())
    }
}

impl Tunable for AdaptiveInner {
    fn name(&self) -> &str {
        self.name.as_str()
    }

    fn inline(&self) -> &Tuning {
        &self.inline
    }

    /// The open/closed breaker's keys do not apply: an error naming the mode.
    fn check(&self, tuning: &Tuning) -> Result<(), String> {
        refuse_keys(tuning, resilient_spec::BINARY_KEYS, "adaptive")
    }

    fn retune(&self, tuning: Tuning) {
        let (settings, over) = AdaptiveSettings::from_tuning(&tuning);
        self.tuned.set(Tuned { settings, over, tuning });
        self.apply(settings, over);
    }

    fn current(&self) -> Tuning {
        self.tuned.get().tuning.clone()
    }
}

/// Refuses configuration that sets one of `keys` (the other mode's) on a breaker of `mode`.
pub(in crate::breaker) fn refuse_keys(
    tuning: &Tuning,
    keys: &[&str],
    mode: &str,
) -> Result<(), String> {
    match keys.iter().find(|key| tuning.source(key) != config::Source::Inline) {
        Some(key) => Err(resilient_spec::breaker_key_outside_mode(key, mode).unwrap_or_default()),
        None => Ok(()),
    }
}

/// The settings as the registry shows them, without `other` (the other mode's keys).
pub(in crate::breaker) fn view(tuning: &Tuning, other: &[&str]) -> Vec<config::SettingView> {
    let mut settings = tuning.view();
    settings.retain(|s| !other.contains(&s.key));
    settings
}
