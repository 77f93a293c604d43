//! The `timeout` kind: its keys, defaults, checks and metrics.

use std::time::Duration;

use crate::kind::{Key, Kind};
use crate::metrics;
use crate::value::{Rule, Setting, Type};

/// `#[timeout]`.
pub const TIMEOUT: Kind = Kind {
    name: "timeout",
    attribute: "timeout",
    keys: &[
        Key {
            name: "rule",
            ty: Type::Rule,
            default: Setting::Rule(Rule::Fixed(Duration::from_secs(1))),
            help: "the attribute's first argument: a duration like \"250ms\" or a rule like \"p99*2\"",
        },
        Key {
            name: "initial",
            ty: Type::Duration { allow_zero: false },
            default: Setting::Duration(Duration::from_secs(1)),
            help: "the timeout used until enough samples exist (adaptive only)",
        },
        Key {
            name: "min",
            ty: Type::Duration { allow_zero: false },
            default: Setting::Duration(Duration::from_millis(20)),
            help: "the lowest adaptive value",
        },
        Key {
            name: "max",
            ty: Type::Duration { allow_zero: false },
            default: Setting::Duration(Duration::from_secs(30)),
            help: "the highest adaptive value",
        },
        Key {
            name: "warmup",
            ty: Type::Count {
                what: "the samples needed before the percentile is trusted",
                min: 1,
                max: 1_000_000,
                zero: None,
            },
            default: Setting::Count(100),
            help: "samples needed before the percentile is trusted",
        },
        Key {
            name: "window",
            ty: Type::Duration { allow_zero: false },
            default: Setting::Duration(Duration::from_secs(60)),
            help: "how far back latencies count",
        },
        super::ENABLED,
    ],
    fixed: &[super::NAME, super::PER, super::MAX_PARTITIONS],
    metrics: &[
        metrics::CALLS_TOTAL,
        metrics::TIMEOUT_LIMIT_SECONDS,
        metrics::CALL_DURATION_SECONDS,
    ],
};

/// The check across `min` and `max`, in the attribute and in configuration alike.
pub fn check_bounds(min: Duration, max: Duration) -> Result<(), String> {
    if min > max {
        return Err(format!("`max` ({max:?}) is below `min` ({min:?})"));
    }
    Ok(())
}
