//! A hedge's settings as configuration sees them.

use std::sync::Arc;
use std::time::Duration;

use resilient_spec::{self as spec, Setting};

use super::{HedgeAfter, Inner};
use crate::config::{Tunable, Tuning};
use crate::retry::deposit_for;
use crate::timeout::AdaptiveSettings;
use crate::timeout::adaptive::{Adaptive, Params};

/// The adaptive delay while warming up: no hedge.
pub(crate) const NEVER: Duration = Duration::from_nanos(u64::MAX);

/// What a call reads, all at once (one atomic load).
#[derive(Debug)]
pub(crate) struct Tuned {
    pub(crate) after: HedgeAfter,
    /// Attempts in all, the first included, as set (the call uses 1 while disabled).
    pub(crate) max: u32,
    pub(crate) enabled: bool,
    /// The budget's ratio, `None` when off (or disabled).
    pub(crate) budget: Option<f64>,
    /// What a call deposits into the budget.
    pub(crate) deposit: i64,
    /// The latency state of a percentile `after`; shared by every `Tuned` since it was first
    /// a percentile, so reconfiguring keeps the samples.
    pub(crate) adaptive: Option<Arc<Adaptive>>,
    pub(crate) tuning: Tuning,
}

pub(crate) fn to_spec(after: HedgeAfter) -> spec::After {
    match after {
        HedgeAfter::Fixed(d) => spec::After::Fixed(d),
        HedgeAfter::Percentile(p) => spec::After::Percentile(p),
    }
}

/// The checks the attribute makes at compile time, for hand-built policies.
pub(crate) fn check_after(after: HedgeAfter) -> Result<(), String> {
    match after {
        HedgeAfter::Fixed(d) if d.is_zero() => {
            Err("a hedge after zero sends every attempt at once".into())
        }
        HedgeAfter::Percentile(p) if !(p > 0.0 && p < 100.0) => {
            Err(format!("the percentile {p} is not between 0 and 100"))
        }
        _ => Ok(()),
    }
}

/// The compiled settings as configuration keys.
pub(crate) fn tuning(
    after: HedgeAfter,
    max: u32,
    budget: Option<f64>,
    warmup: u32,
    window: Duration,
) -> Tuning {
    Tuning::new(&spec::HEDGE)
        .with("after", Setting::After(to_spec(after)))
        .with("max", Setting::Count(max.into()))
        .with("budget", Setting::Budget(budget))
        .with("warmup", Setting::Count(warmup.into()))
        .with("window", Setting::Duration(window))
}

/// The adaptive settings of a percentile `after`: no hedge until warmed up, and a floor at
/// tokio's timer resolution.
fn adaptive_settings(t: &Tuning) -> AdaptiveSettings {
    AdaptiveSettings {
        initial: NEVER,
        min: Duration::from_millis(1),
        max: Duration::from_secs(3600),
        warmup: t.count("warmup").min(u64::from(u32::MAX)) as u32,
        window: t.duration("window"),
    }
}

impl Tuned {
    /// The settings `tuning` describes; `adaptive` is the state to keep, if any.
    pub(crate) fn new(tuning: Tuning, adaptive: Option<Arc<Adaptive>>) -> Self {
        let after = match tuning.get("after") {
            Setting::After(spec::After::Fixed(d)) => HedgeAfter::Fixed(d),
            Setting::After(spec::After::Percentile(p)) => HedgeAfter::Percentile(p),
            other => unreachable!("`after` holds {other:?}"),
        };
        let adaptive = match after {
            HedgeAfter::Fixed(_) => adaptive,
            HedgeAfter::Percentile(percentile) => {
                let params =
                    Params { percentile, multiplier: 1.0, settings: adaptive_settings(&tuning) };
                Some(match adaptive {
                    Some(a) => {
                        a.retune(params);
                        a
                    }
                    None => Arc::new(Adaptive::new(params)),
                })
            }
        };
        let enabled = tuning.enabled();
        let budget = match tuning.get("budget") {
            Setting::Budget(ratio) if enabled => ratio,
            _ => None,
        };
        Self {
            after,
            max: tuning.count("max").clamp(1, 10) as u32,
            enabled,
            budget,
            deposit: budget.map_or(0, deposit_for),
            adaptive,
            tuning,
        }
    }

    /// The latency state, when `after` is a percentile.
    #[inline]
    pub(crate) fn active(&self) -> Option<&Adaptive> {
        match self.after {
            HedgeAfter::Fixed(_) => None,
            HedgeAfter::Percentile(_) => self.adaptive.as_deref(),
        }
    }

    /// Attempts a call starting now may make: 1 while disabled.
    #[inline]
    pub(crate) fn attempts(&self) -> u32 {
        if self.enabled { self.max } else { 1 }
    }

    /// The delay before a hedge for a call starting now; `None`: no hedge (disabled, or a
    /// percentile still warming up).
    #[inline]
    pub(crate) fn delay(&self) -> Option<Duration> {
        if !self.enabled {
            return None;
        }
        match (self.after, self.active()) {
            (HedgeAfter::Fixed(d), _) => Some(d),
            (HedgeAfter::Percentile(_), Some(a)) => Some(a.current()).filter(|d| *d != NEVER),
            (HedgeAfter::Percentile(_), None) => None,
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
        let keep = self.tuned.get().adaptive.clone();
        self.tuned.set(Tuned::new(tuning, keep));
    }

    fn current(&self) -> Tuning {
        self.tuned.get().tuning.clone()
    }
}
