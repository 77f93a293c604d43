//! What the registry shows of an adaptive breaker, and its partitions (`per = ...`).

use std::sync::atomic::Ordering;

use serde::Serialize;

use super::super::CircuitState;
use super::{AdaptiveBreaker, AdaptiveInner, AdaptiveSettings, Override, view};
use crate::registry::{Inspect, PolicySnapshot, PolicyState};

/// An adaptive breaker's state as the registry reports it.
#[derive(Clone, Debug, Serialize)]
pub struct AdaptiveSnapshot {
    /// Always `"adaptive"`: tells this breaker from an open/closed one in serialised snapshots.
    pub mode: &'static str,
    /// The settings in force.
    pub settings: AdaptiveSettings,
    /// The state configuration imposes (`force`, `enabled = false`), if any.
    pub forced: Option<CircuitState>,
    /// The probability that a call starting now is rejected.
    pub rejection_probability: f64,
    /// Calls let through to the dependency in the current window.
    pub requests: u64,
    /// Of those, the ones that succeeded.
    pub accepts: u64,
    /// Calls rejected since the breaker was built.
    pub rejections: u64,
}

impl Inspect for AdaptiveInner {
    fn snapshot(&self) -> PolicySnapshot {
        let tuned = self.tuned.get();
        let bucket = self.now() / tuned.settings.bucket_nanos();
        let (requests, accepts, p) = {
            let mut window = self.lock();
            window.fold(self.fresh.swap(0, Ordering::Relaxed), bucket);
            let (r, a) = window.totals(bucket);
            (r, a, window.probability(bucket, tuned.settings.rule()))
        };
        let forced = match tuned.over {
            Override::None => None,
            Override::Bypass => Some(CircuitState::Closed),
            Override::Reject => Some(CircuitState::Open),
        };
        PolicySnapshot {
            name: self.name.to_string(),
            settings: view(&tuned.tuning, resilient_spec::BINARY_KEYS),
            state: PolicyState::AdaptiveBreaker(AdaptiveSnapshot {
                mode: "adaptive",
                settings: tuned.settings,
                forced,
                rejection_probability: p,
                requests,
                accepts,
                rejections: self.rejections.load(Ordering::Relaxed),
            }),
        }
    }
}

impl crate::partition::Partition for AdaptiveBreaker {
    const KIND: &'static str = "circuit_breaker";

    /// While throttling: dropping it would let every call through to a failing dependency.
    fn pinned(&self) -> bool {
        self.is_throttling()
    }

    fn partition_state(&self) -> PolicyState {
        self.inner.snapshot().state
    }
}

impl crate::partition::Tuned for AdaptiveBreaker {
    fn hooks(&self) -> Option<crate::partition::Hooks<'_>> {
        Some(crate::partition::Hooks(&*self.inner))
    }
}
