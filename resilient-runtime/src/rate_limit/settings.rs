//! A rate limiter's settings, their configuration keys, and its builder.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use resilient_spec::Setting;

use super::{Inner, RateLimiter};
use crate::clock::Clock;
use crate::config::{self, Live, Tunable, Tuning};
use crate::error::PolicyName;
use crate::idempotency::OnStoreError;
use crate::registry::{self, Inspect};

/// The settings of a [`RateLimiter`], as `#[rate_limit(...)]` spells them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RateLimitSettings {
    /// N of `"N/s"`: calls per `per`.
    pub count: u64,
    /// The period: a second, a minute or an hour.
    pub per: Duration,
    /// Calls admitted at once after a quiet spell (at least 1).
    pub burst: u64,
    /// How long a call over the limit may wait for its slot; zero rejects at once.
    pub wait: Duration,
}

impl RateLimitSettings {
    /// `count` calls per `per`, a burst of `count`, no waiting.
    pub fn new(count: u64, per: Duration) -> Self {
        Self { count, per, burst: count, wait: Duration::ZERO }
    }

    /// The time one call uses up, rounded up: the limiter never admits faster than the rate.
    pub fn interval(&self) -> Duration {
        let nanos = self.per.as_nanos().div_ceil(u128::from(self.count.max(1)));
        Duration::from_nanos(nanos.min(u128::from(u64::MAX)) as u64)
    }

    pub(crate) fn tuning(&self) -> Tuning {
        Tuning::new(&resilient_spec::RATE_LIMIT)
            .with("rate", Setting::Rate { count: self.count, per: self.per })
            .with("burst", Setting::Count(self.burst))
            .with("wait", Setting::Duration(self.wait))
    }

    fn from_tuning(t: &Tuning) -> Self {
        let (count, per) = match t.get("rate") {
            Setting::Rate { count, per } => (count, per),
            other => unreachable!("`rate` holds {other:?}"),
        };
        let burst = match t.get("burst") {
            Setting::Count(n) => n,
            _ => count,
        };
        Self { count, per, burst, wait: t.duration("wait") }
    }
}

/// What a call reads, all at once (one atomic load).
#[derive(Debug)]
pub(crate) struct Tuned {
    pub(crate) enabled: bool,
    /// Nanoseconds one call uses up.
    pub(crate) interval: u64,
    /// `burst · interval`, nanoseconds.
    pub(crate) tolerance: u64,
    pub(crate) settings: RateLimitSettings,
    pub(crate) tuning: Tuning,
}

impl Tuned {
    pub(crate) fn new(tuning: Tuning) -> Self {
        let settings = RateLimitSettings::from_tuning(&tuning);
        let interval = settings.interval().as_nanos() as u64;
        Self {
            enabled: tuning.enabled(),
            interval,
            tolerance: interval.saturating_mul(settings.burst.max(1)),
            settings,
            tuning,
        }
    }
}

impl Tunable for Inner {
    fn name(&self) -> &str {
        self.name.as_str()
    }

    fn inline(&self) -> &Tuning {
        &self.inline
    }

    fn retune(&self, tuning: Tuning) {
        self.tuned.set(Tuned::new(tuning));
    }

    fn current(&self) -> Tuning {
        self.tuned.get().tuning.clone()
    }
}

/// Builds a [`RateLimiter`]; see [`RateLimiter::builder`].
#[derive(Clone, Debug)]
#[must_use]
pub struct RateLimiterBuilder {
    name: PolicyName,
    settings: RateLimitSettings,
    store: Option<String>,
    on_store_error: OnStoreError,
}

impl RateLimiterBuilder {
    pub(super) fn new(count: u64, per: Duration) -> Self {
        Self {
            name: PolicyName::from("rate_limit"),
            settings: RateLimitSettings::new(count, per),
            store: None,
            on_store_error: OnStoreError::Fail,
        }
    }

    /// The name the registry, [`Error::RateLimited`](crate::Error::RateLimited) and a shared
    /// store's key use (default `"rate_limit"`). Instances of a service must agree on it to
    /// share a limit.
    pub fn name(mut self, name: impl Into<PolicyName>) -> Self {
        self.name = name.into();
        self
    }

    /// Calls admitted at once after a quiet spell (default: N of the rate; at least 1).
    pub fn burst(mut self, burst: u64) -> Self {
        self.settings.burst = burst.max(1);
        self
    }

    /// How long a call over the limit may wait for its slot (default zero: rejected at once).
    pub fn wait(mut self, wait: Duration) -> Self {
        self.settings.wait = wait;
        self
    }

    /// Counts calls in the shared store registered under `name`
    /// ([`register_store`](super::register_store)): one limit for every instance of the
    /// service.
    pub fn store(mut self, name: impl Into<String>) -> Self {
        self.store = Some(name.into());
        self
    }

    /// What a call gets when the shared store fails (default [`OnStoreError::Fail`]).
    pub fn on_store_error(mut self, on_store_error: OnStoreError) -> Self {
        self.on_store_error = on_store_error;
        self
    }

    /// Builds the limiter and lists it in the [registry](crate::registry).
    pub fn build(self) -> RateLimiter {
        let inline = self.settings.tuning();
        let inner = Arc::new(Inner {
            gcra: Default::default(),
            limited: Default::default(),
            clock: Clock::new(),
            metrics: crate::observe::RateLimitMetrics::new(&self.name),
            tuned: Live::new(Tuned::new(inline.clone())),
            inline,
            remote: self.store.map(|store| super::store::Remote::new(store, &self.name)),
            on_store_error: self.on_store_error,
            name: self.name,
        });
        config::attach(&inner);
        let weak: std::sync::Weak<dyn Inspect> = Arc::downgrade(&inner) as _;
        registry::register(weak);
        RateLimiter { inner }
    }
}
