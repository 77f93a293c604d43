//! An idempotency policy's settings as configuration sees them.

use std::time::Duration;

use resilient_spec::{self as spec, Setting};

use super::{Inner, MAX_DURATION};
use crate::config::{Tunable, Tuning};

#[derive(Debug)]
pub(crate) struct Tuned {
    pub(crate) ttl: Duration,
    pub(crate) wait_in_flight: Option<Duration>,
    /// `false`: calls pass straight through; the store is kept for when it is turned back on.
    pub(crate) enabled: bool,
    pub(crate) tuning: Tuning,
}

impl Tuned {
    pub(crate) fn new(tuning: Tuning) -> Self {
        Self {
            ttl: tuning.duration("ttl").min(MAX_DURATION),
            wait_in_flight: tuning.optional_duration("wait_in_flight").map(|d| d.min(MAX_DURATION)),
            enabled: tuning.enabled(),
            tuning,
        }
    }
}

/// The compiled settings as configuration keys.
pub(crate) fn tuning(ttl: Duration, wait_in_flight: Option<Duration>) -> Tuning {
    Tuning::new(&spec::IDEMPOTENT)
        .with("ttl", Setting::Duration(ttl))
        .with("wait_in_flight", wait_in_flight.map_or(Setting::Unset, Setting::Duration))
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
