//! What the registry shows of a rate limiter.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use serde::Serialize;

use super::{Inner, RateLimitSettings};
use crate::registry::{Inspect, PolicySnapshot, PolicyState};

/// A rate limiter's state as the registry reports it.
#[derive(Clone, Debug, Serialize)]
pub struct RateLimitSnapshot {
    /// The settings in force (as built, with configuration applied).
    pub settings: RateLimitSettings,
    /// The rate as the attribute writes it: `"100/s"`.
    pub rate: String,
    /// Calls admitted at once after a quiet spell.
    pub burst: u64,
    /// Calls admitted since the limiter was built (at once or after waiting); with a shared
    /// store, the calls this instance had admitted.
    pub admitted: u64,
    /// Calls rejected since the limiter was built.
    pub limited: u64,
    /// Calls that could pass at once now (in process).
    pub available: u64,
    /// How long until the next call could pass (zero when one could now; in process).
    pub next_in: Duration,
    /// The shared store's name, if the limit is shared.
    pub store: Option<String>,
}

impl Inner {
    pub(crate) fn rate_limit_snapshot(&self) -> RateLimitSnapshot {
        let tuned = self.tuned.get();
        let (next_in, available) =
            self.gcra.state(self.clock.now_nanos(), tuned.interval, tuned.tolerance);
        RateLimitSnapshot {
            settings: tuned.settings,
            rate: tuned.tuning.get("rate").to_string(),
            burst: tuned.settings.burst,
            admitted: self.gcra.admissions(),
            limited: self.limited.load(Relaxed),
            available,
            next_in: Duration::from_nanos(next_in),
            store: self.remote.as_ref().map(|r| r.store_name().to_owned()),
        }
    }
}

impl Inspect for Inner {
    fn snapshot(&self) -> PolicySnapshot {
        PolicySnapshot {
            name: self.name.to_string(),
            settings: self.tuned.get().tuning.view(),
            state: PolicyState::RateLimit(self.rate_limit_snapshot()),
        }
    }
}
