//! A timeout's settings as configuration sees them.

use std::sync::Arc;

use resilient_spec::{self as spec, Setting};

use super::Inner;
use super::adaptive::{Adaptive, Params};
use super::rule::{AdaptiveSettings, TimeoutRule};
use crate::config::{Source, Tunable, Tuning};

/// What a call reads, all at once (one atomic load).
#[derive(Debug)]
pub(crate) struct Tuned {
    pub(crate) rule: TimeoutRule,
    pub(crate) settings: AdaptiveSettings,
    /// `false`: calls pass straight through, with no limit of their own.
    pub(crate) enabled: bool,
    /// The latency state of an adaptive rule; shared by every `Tuned` since it was first
    /// adaptive, so reconfiguring keeps the samples.
    pub(crate) adaptive: Option<Arc<Adaptive>>,
    pub(crate) tuning: Tuning,
}

/// The compiled settings as configuration keys.
pub(crate) fn tuning(rule: TimeoutRule, s: &AdaptiveSettings) -> Tuning {
    let rule = match rule {
        TimeoutRule::Fixed(d) => spec::Rule::Fixed(d),
        TimeoutRule::Adaptive { percentile, multiplier } => {
            spec::Rule::Adaptive { percentile, multiplier }
        }
    };
    Tuning::new(&spec::TIMEOUT)
        .with("rule", Setting::Rule(rule))
        .with("initial", Setting::Duration(s.initial))
        .with("min", Setting::Duration(s.min))
        .with("max", Setting::Duration(s.max))
        .with("warmup", Setting::Count(s.warmup.into()))
        .with("window", Setting::Duration(s.window))
}

fn decode(t: &Tuning) -> (TimeoutRule, AdaptiveSettings) {
    let rule = match t.get("rule") {
        Setting::Rule(spec::Rule::Adaptive { percentile, multiplier }) => {
            TimeoutRule::Adaptive { percentile, multiplier }
        }
        Setting::Rule(spec::Rule::Fixed(d)) => TimeoutRule::Fixed(d),
        other => unreachable!("`rule` holds {other:?}"),
    };
    let max = t.duration("max");
    let mut min = t.duration("min");
    // As the builder's `max`: a configured ceiling below the compiled floor lowers the floor.
    if max < min && t.source("min") == Source::Inline {
        min = max;
    }
    let settings = AdaptiveSettings {
        initial: t.duration("initial"),
        min,
        max,
        warmup: t.count("warmup").min(u64::from(u32::MAX)) as u32,
        window: t.duration("window"),
    };
    (rule, settings)
}

impl Tuned {
    /// The settings `tuning` describes; `adaptive` is the state to keep, if any.
    pub(crate) fn new(tuning: Tuning, adaptive: Option<Arc<Adaptive>>) -> Self {
        let (rule, settings) = decode(&tuning);
        let adaptive = match rule {
            TimeoutRule::Fixed(_) => adaptive,
            TimeoutRule::Adaptive { percentile, multiplier } => {
                let params = Params { percentile, multiplier, settings };
                Some(match adaptive {
                    Some(a) => {
                        a.retune(params);
                        a
                    }
                    None => Arc::new(Adaptive::new(params)),
                })
            }
        };
        Self { rule, settings, enabled: tuning.enabled(), adaptive, tuning }
    }

    /// The adaptive state, when the rule in force is adaptive.
    #[inline]
    pub(crate) fn active(&self) -> Option<&Adaptive> {
        match self.rule {
            TimeoutRule::Fixed(_) => None,
            TimeoutRule::Adaptive { .. } => self.adaptive.as_deref(),
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

    fn check(&self, t: &Tuning) -> Result<(), String> {
        let (rule, s) = decode(t);
        match rule {
            TimeoutRule::Adaptive { .. } => spec::check_bounds(s.min, s.max),
            TimeoutRule::Fixed(_) => Ok(()),
        }
    }

    fn retune(&self, tuning: Tuning) {
        let keep = self.tuned.get().adaptive.clone();
        self.tuned.set(Tuned::new(tuning, keep));
        self.metrics.limit(self.current());
    }

    fn current(&self) -> Tuning {
        self.tuned.get().tuning.clone()
    }
}
