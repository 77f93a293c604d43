//! A bulkhead's settings as configuration sees them.

use std::sync::Arc;

use resilient_spec::{self as spec, Setting};

use super::Inner;
use super::adaptive::Adaptive;
use super::settings::{BulkheadSettings, Limit};
use crate::config::{Tunable, Tuning};

/// What a call reads, all at once (one atomic load).
#[derive(Debug)]
pub(crate) struct Tuned {
    pub(crate) settings: BulkheadSettings,
    /// `false`: every call gets a place at once.
    pub(crate) enabled: bool,
    pub(crate) queue: u32,
    pub(crate) wait: std::time::Duration,
    /// The latency state; kept by every `Tuned` since the bulkhead was first adaptive, so
    /// reconfiguring keeps what it learnt.
    pub(crate) adaptive: Option<Arc<Adaptive>>,
    pub(crate) tuning: Tuning,
}

/// The compiled settings as configuration keys.
pub(crate) fn tuning(s: &BulkheadSettings) -> Tuning {
    let max = match s.max {
        Limit::Fixed(n) => Setting::Count(n.into()),
        Limit::Adaptive => Setting::Adaptive,
    };
    Tuning::new(&spec::BULKHEAD)
        .with("max", max)
        .with("queue", Setting::Count(s.queue.into()))
        .with("wait", Setting::Duration(s.wait))
        .with("min", Setting::Count(s.min.into()))
        .with("limit", Setting::Count(s.limit.into()))
        .with("initial", Setting::Count(s.initial.into()))
}

fn small(n: u64) -> u32 {
    n.min(u64::from(u32::MAX)) as u32
}

fn decode(t: &Tuning) -> BulkheadSettings {
    let max = match t.get("max") {
        Setting::Count(n) => Limit::Fixed(small(n)),
        Setting::Adaptive => Limit::Adaptive,
        other => unreachable!("`max` holds {other:?}"),
    };
    BulkheadSettings {
        max,
        queue: small(t.count("queue")),
        wait: t.duration("wait"),
        min: small(t.count("min")),
        limit: small(t.count("limit")),
        initial: small(t.count("initial")),
    }
}

impl Tuned {
    /// The settings `tuning` describes; `adaptive` is the state to keep, if any.
    pub(crate) fn new(tuning: Tuning, adaptive: Option<Arc<Adaptive>>) -> Self {
        let settings = decode(&tuning);
        let adaptive = match (settings.max, adaptive) {
            (Limit::Adaptive, Some(a)) => {
                a.retune(settings.min, settings.limit);
                Some(a)
            }
            (Limit::Adaptive, None) => {
                Some(Arc::new(Adaptive::new(settings.initial, settings.min, settings.limit)))
            }
            (Limit::Fixed(_), kept) => kept,
        };
        Self {
            settings,
            enabled: tuning.enabled(),
            queue: settings.queue,
            wait: settings.wait,
            adaptive,
            tuning,
        }
    }

    /// The adaptive state, when the limit in force is adaptive and the bulkhead on.
    #[inline]
    pub(crate) fn active(&self) -> Option<&Adaptive> {
        match (self.enabled, self.settings.max) {
            (true, Limit::Adaptive) => self.adaptive.as_deref(),
            _ => None,
        }
    }

    /// The limit the counts are held to.
    pub(crate) fn limit(&self) -> u32 {
        match (self.enabled, self.settings.max, &self.adaptive) {
            (false, ..) => u32::MAX,
            (true, Limit::Fixed(n), _) => n,
            (true, Limit::Adaptive, Some(a)) => a.limit(),
            (true, Limit::Adaptive, None) => unreachable!("an adaptive limit has its state"),
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
        let s = decode(t);
        match s.max {
            Limit::Adaptive => spec::check_adaptive(s.min.into(), s.initial.into(), s.limit.into()),
            Limit::Fixed(_) => Ok(()),
        }
    }

    /// New settings; the calls running and waiting keep their places (a lower limit lets no
    /// new call in until the count is below it).
    fn retune(&self, tuning: Tuning) {
        let keep = self.tuned.get().adaptive.clone();
        let tuned = Tuned::new(tuning, keep);
        let limit = tuned.limit();
        self.tuned.set(tuned);
        self.core.set_limit(limit);
        self.metrics.limit(limit);
    }

    fn current(&self) -> Tuning {
        self.tuned.get().tuning.clone()
    }
}
