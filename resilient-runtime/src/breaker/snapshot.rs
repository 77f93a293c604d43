//! What the registry shows of a breaker.

use std::time::Duration;

use serde::Serialize;

use super::machine::Mode;
use super::{BreakerSettings, CircuitState, Inner};
use crate::registry::{Inspect, PolicySnapshot, PolicyState};

/// A circuit breaker's state as the registry reports it.
#[derive(Clone, Debug, Serialize)]
pub struct BreakerSnapshot {
    /// The settings in force (as built, with configuration applied).
    pub settings: BreakerSettings,
    /// The state configuration imposes over the one stored (`force`, `enabled = false`), if
    /// any: the stored state resumes when it is lifted.
    pub forced: Option<CircuitState>,
    /// The state as stored: an open circuit whose cooldown is over still shows as open here
    /// until the next call (see `retry_after`, then zero).
    pub state: CircuitState,
    /// Failures in the current window.
    pub failures: u32,
    /// Calls in the current window, in failure-rate mode (`None` when only failures count).
    pub calls: Option<u32>,
    /// While open: how long it has been open.
    pub open_for: Option<Duration>,
    /// While open: how long until probes are let through (zero once the cooldown is over).
    pub retry_after: Option<Duration>,
    /// While half-open: probes running now.
    pub probes_running: Option<u32>,
    /// While half-open: probes that succeeded so far.
    pub probes_succeeded: Option<u32>,
    /// Calls rejected since the breaker was built.
    pub rejections: u64,
    /// Times the circuit opened (from closed or, after a failed probe, from half-open).
    pub opened: u64,
    /// State changes of any kind.
    pub transitions: u64,
}

impl Inspect for Inner {
    fn snapshot(&self) -> PolicySnapshot {
        let stats = self.machine.stats(self.now());
        let tuned = self.tuned.get();
        PolicySnapshot {
            name: self.name.to_string(),
            settings: super::adaptive::view(&tuned.tuning, resilient_spec::ADAPTIVE_KEYS),
            state: PolicyState::CircuitBreaker(BreakerSnapshot {
                settings: tuned.settings,
                forced: match self.machine.mode() {
                    Mode::Normal => None,
                    Mode::Bypass => Some(CircuitState::Closed),
                    Mode::Reject => Some(CircuitState::Open),
                },
                state: stats.kind.into(),
                failures: stats.failures,
                calls: stats.calls,
                open_for: stats.open_for_us.map(Duration::from_micros),
                retry_after: stats.retry_after_us.map(Duration::from_micros),
                probes_running: stats.probes.map(|p| p.0),
                probes_succeeded: stats.probes.map(|p| p.1),
                rejections: stats.rejections,
                opened: stats.opened,
                transitions: stats.transitions,
            }),
        }
    }
}
