//! A bulkhead's settings and its builder.

use std::time::Duration;

use serde::Serialize;

use super::Bulkhead;
use crate::error::PolicyName;
use crate::registry;

/// How many calls may run at once: a fixed number, or a limit that follows the dependency's
/// latency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    /// At most this many (`max = 10`).
    Fixed(u32),
    /// A gradient controller moves the limit between `min` and `limit` (`max = "adaptive"`).
    Adaptive,
}

/// A bulkhead's settings, as `#[bulkhead]`'s keys name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct BulkheadSettings {
    /// The most calls running at once, or [`Limit::Adaptive`] (default 10).
    pub max: Limit,
    /// Calls that may wait for a place, first come first served (default 0: none waits).
    pub queue: u32,
    /// How long a queued call waits before it is rejected (default zero: none waits).
    pub wait: Duration,
    /// The lowest adaptive limit (default 1).
    pub min: u32,
    /// The highest adaptive limit (default 1000).
    pub limit: u32,
    /// The adaptive limit to start from, before slow start grows it (default 20).
    pub initial: u32,
}

impl Default for BulkheadSettings {
    /// The defaults of `#[bulkhead]`.
    fn default() -> Self {
        Self {
            max: Limit::Fixed(10),
            queue: 0,
            wait: Duration::ZERO,
            min: 1,
            limit: 1000,
            initial: 20,
        }
    }
}

impl BulkheadSettings {
    /// Why these settings cannot make a bulkhead, if they cannot: a limit of zero, or adaptive
    /// bounds out of order. The attributes check the same at compile time.
    pub fn check(&self) -> Result<(), String> {
        let max = resilient_spec::MAX_LIMIT;
        if let Limit::Fixed(n) = self.max
            && !(1..=max).contains(&u64::from(n))
        {
            return Err(format!("`max` is {n}; it must be from 1 to {max}"));
        }
        for (key, n) in [("min", self.min), ("limit", self.limit), ("initial", self.initial)] {
            if !(1..=max).contains(&u64::from(n)) {
                return Err(format!("`{key}` is {n}; it must be from 1 to {max}"));
            }
        }
        resilient_spec::check_adaptive(self.min.into(), self.initial.into(), self.limit.into())
    }
}

/// Builds a [`Bulkhead`]; see [`Bulkhead::builder`].
///
/// It is `PartialEq`, so it can serve as the settings of [`registry::named`].
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct BulkheadBuilder {
    pub(super) name: PolicyName,
    pub(super) settings: BulkheadSettings,
}

impl BulkheadBuilder {
    pub(super) fn new() -> Self {
        Self { name: PolicyName::from("bulkhead"), settings: BulkheadSettings::default() }
    }

    /// The name the registry, errors, events and metrics use (default `"bulkhead"`).
    pub fn name(mut self, name: impl Into<PolicyName>) -> Self {
        self.name = name.into();
        self
    }

    /// At most `max` calls at once (a fixed limit).
    pub fn max(mut self, max: u32) -> Self {
        self.settings.max = Limit::Fixed(max);
        self
    }

    /// An adaptive limit (`max = "adaptive"`): see the [module](super) docs.
    pub fn adaptive(mut self) -> Self {
        self.settings.max = Limit::Adaptive;
        self
    }

    /// Up to `queue` calls wait for a place (first come, first served) for at most
    /// [`wait`](Self::wait).
    pub fn queue(mut self, queue: u32) -> Self {
        self.settings.queue = queue;
        self
    }

    /// How long a queued call waits for a place.
    pub fn wait(mut self, wait: Duration) -> Self {
        self.settings.wait = wait;
        self
    }

    /// The lowest adaptive limit.
    pub fn min(mut self, min: u32) -> Self {
        self.settings.min = min;
        self
    }

    /// The highest adaptive limit.
    pub fn limit(mut self, limit: u32) -> Self {
        self.settings.limit = limit;
        self
    }

    /// The adaptive limit to start from.
    pub fn initial(mut self, initial: u32) -> Self {
        self.settings.initial = initial;
        self
    }

    /// All settings at once.
    pub fn settings(mut self, settings: BulkheadSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Builds the bulkhead and lists it in the [registry].
    ///
    /// # Panics
    ///
    /// If the settings fail [`BulkheadSettings::check`]; the attributes check the same at
    /// compile time.
    pub fn build(self) -> Bulkhead {
        if let Err(why) = self.settings.check() {
            panic!("bulkhead `{}`: {why}", self.name);
        }
        Bulkhead::from_builder(self)
    }

    /// Returns the bulkhead registered under this builder's name, building it the first time:
    /// every builder with the same name shares one bulkhead (one count of calls). A later
    /// builder whose settings differ still gets the first one; the disagreement is listed in
    /// [`registry::snapshot`]`().conflicts`.
    pub fn build_shared(self) -> Bulkhead {
        let name = self.name.clone();
        registry::named(name.as_str(), self.settings, |_| self.build())
    }
}
