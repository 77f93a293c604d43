//! A retry policy's settings as configuration sees them.

use resilient_spec::{self as spec, Setting};

use super::Inner;
use super::budget::deposit_for;
use crate::backoff::{Backoff, Jitter, Schedule};
use crate::config::{Tunable, Tuning};

/// The settings a call reads, all at once (one atomic load).
#[derive(Debug)]
pub(crate) struct Tuned {
    /// Attempts in all; 1 while the policy is disabled.
    pub(crate) max_attempts: u32,
    pub(crate) schedule: Schedule,
    /// The budget's ratio, `None` when off (or disabled).
    pub(crate) budget: Option<f64>,
    /// What a call deposits into the budget.
    pub(crate) deposit: i64,
    pub(crate) tuning: Tuning,
}

impl Tuned {
    pub(crate) fn new(tuning: Tuning) -> Self {
        let enabled = tuning.enabled();
        let budget = match tuning.get("budget") {
            Setting::Budget(ratio) if enabled => ratio,
            _ => None,
        };
        Self {
            max_attempts: if enabled {
                tuning.count("max").clamp(1, u64::from(u32::MAX)) as u32
            } else {
                1
            },
            schedule: schedule(&tuning),
            budget,
            deposit: budget.map_or(0, deposit_for),
            tuning,
        }
    }
}

/// The compiled settings as configuration keys.
pub(crate) fn tuning(max_attempts: u32, s: &Schedule, budget: Option<f64>) -> Tuning {
    Tuning::new(&spec::RETRY)
        .with("max", Setting::Count(max_attempts.into()))
        .with(
            "backoff",
            Setting::Backoff(match s.backoff {
                Backoff::Exponential => spec::Backoff::Exponential,
                Backoff::Fixed => spec::Backoff::Fixed,
                Backoff::Linear => spec::Backoff::Linear,
                Backoff::Decorrelated => spec::Backoff::Decorrelated,
            }),
        )
        .with("base", Setting::Duration(s.base))
        .with("max_delay", Setting::Duration(s.max_delay))
        .with(
            "jitter",
            Setting::Jitter(match s.jitter {
                Jitter::None => spec::Jitter::None,
                Jitter::Proportional(f) => spec::Jitter::Proportional(f),
                Jitter::Full => spec::Jitter::Full,
                Jitter::Equal => spec::Jitter::Equal,
            }),
        )
        .with("budget", Setting::Budget(budget))
}

fn schedule(t: &Tuning) -> Schedule {
    Schedule {
        backoff: match t.get("backoff") {
            Setting::Backoff(spec::Backoff::Fixed) => Backoff::Fixed,
            Setting::Backoff(spec::Backoff::Linear) => Backoff::Linear,
            Setting::Backoff(spec::Backoff::Decorrelated) => Backoff::Decorrelated,
            _ => Backoff::Exponential,
        },
        base: t.duration("base"),
        max_delay: t.duration("max_delay"),
        jitter: match t.get("jitter") {
            Setting::Jitter(spec::Jitter::Proportional(f)) => Jitter::Proportional(f),
            Setting::Jitter(spec::Jitter::Full) => Jitter::Full,
            Setting::Jitter(spec::Jitter::Equal) => Jitter::Equal,
            _ => Jitter::None,
        },
    }
}

impl Tunable for Inner {
    fn name(&self) -> &str {
        self.name.as_str()
    }

    fn inline(&self) -> &Tuning {
        &self.inline
    }

    fn check(&self, t: &Tuning) -> Result<(), String> {
        spec::check_delays(t.duration("base"), t.duration("max_delay"))
    }

    fn retune(&self, tuning: Tuning) {
        self.tuned.set(Tuned::new(tuning));
    }

    fn current(&self) -> Tuning {
        self.tuned.get().tuning.clone()
    }
}
