//! What the registry shows of a bulkhead.

use std::time::Duration;

use serde::Serialize;

use super::{BulkheadSettings, Inner};
use crate::registry::{Inspect, PolicySnapshot, PolicyState};

/// A bulkhead's state as the registry reports it.
#[derive(Clone, Debug, Serialize)]
pub struct BulkheadSnapshot {
    /// The settings in force (as built, with configuration applied).
    pub settings: BulkheadSettings,
    /// False while configuration turns the bulkhead off (`enabled = false`).
    pub enabled: bool,
    /// The most calls let run at once now (the adaptive value, when adaptive; `u32::MAX` while
    /// disabled).
    pub limit: u32,
    /// Calls running now.
    pub in_flight: u32,
    /// Calls waiting for a place now.
    pub queued: u32,
    /// Calls rejected since the bulkhead was built.
    pub rejected: u64,
    /// What an adaptive limit has learnt (`None` when fixed).
    pub adaptive: Option<AdaptiveSnapshot>,
}

/// The adaptive controller's state.
#[derive(Clone, Debug, Serialize)]
pub struct AdaptiveSnapshot {
    /// The dependency's latency when not loaded, as last measured (`None` before the first
    /// measurement interval ends).
    pub min_rtt: Option<Duration>,
    /// True until latency first rose: the limit doubles each interval.
    pub slow_start: bool,
    /// True while the limit is lowered to measure `min_rtt` again.
    pub probing: bool,
}

impl Inner {
    pub(crate) fn bulkhead_snapshot(&self) -> BulkheadSnapshot {
        let tuned = self.tuned.get();
        let (in_flight, queued) = self.core.counts();
        BulkheadSnapshot {
            settings: tuned.settings,
            enabled: tuned.enabled,
            limit: self.core.limit(),
            in_flight,
            queued,
            rejected: self.rejected.load(std::sync::atomic::Ordering::Relaxed),
            adaptive: tuned.active().map(|a| {
                let seen = a.seen();
                AdaptiveSnapshot {
                    min_rtt: seen.min_rtt,
                    slow_start: seen.slow_start,
                    probing: seen.probing,
                }
            }),
        }
    }
}

impl Inspect for Inner {
    fn snapshot(&self) -> PolicySnapshot {
        PolicySnapshot {
            name: self.name.to_string(),
            settings: self.tuned.get().tuning.view(),
            state: PolicyState::Bulkhead(self.bulkhead_snapshot()),
        }
    }
}
