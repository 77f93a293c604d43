//! The `retry` kind: its keys, defaults, checks and metrics.

use std::time::Duration;

use crate::kind::{Key, Kind};
use crate::metrics;
use crate::value::{Jitter, Setting, Type};

/// `#[retry]`.
pub const RETRY: Kind = Kind {
    name: "retry",
    attribute: "retry",
    keys: &[
        Key {
            name: "max",
            ty: Type::Count {
                what: "the number of attempts in all, the first call included",
                min: 1,
                max: 1000,
                zero: Some(
                    "`max = 0` would never call the function: `max` counts attempts in all, the first call included; write `max = 1` for no retries",
                ),
            },
            default: Setting::Count(3),
            help: "attempts in all, the first call included",
        },
        Key {
            name: "backoff",
            ty: Type::Backoff,
            default: Setting::Backoff(crate::value::Backoff::Exponential),
            help: "\"exp\", \"fixed\", \"linear\" or \"decorrelated\"",
        },
        Key {
            name: "base",
            ty: Type::Duration { allow_zero: true },
            default: Setting::Duration(Duration::from_millis(100)),
            help: "the first delay",
        },
        Key {
            name: "max_delay",
            ty: Type::Duration { allow_zero: false },
            default: Setting::Duration(Duration::from_secs(10)),
            help: "the cap on one delay",
        },
        Key {
            name: "jitter",
            ty: Type::Jitter,
            default: Setting::Jitter(Jitter::Proportional(0.1)),
            help: "a fraction from 0 to 1, or \"full\", \"equal\" or \"none\"",
        },
        Key {
            name: "budget",
            ty: Type::Budget,
            default: Setting::Budget(Some(0.2)),
            help: "the share of calls retries may add, like \"20%\", or \"off\"",
        },
        super::ENABLED,
    ],
    fixed: &[super::WHEN, super::NAME, super::PER, super::MAX_PARTITIONS],
    metrics: &[metrics::CALLS_TOTAL, metrics::RETRIES_TOTAL, metrics::RETRY_GAVE_UP_TOTAL],
};

/// The check across `base` and `max_delay`, in the attribute and in configuration alike.
pub fn check_delays(base: Duration, max_delay: Duration) -> Result<(), String> {
    if max_delay < base {
        return Err(format!(
            "`max_delay` ({max_delay:?}) is shorter than `base` ({base:?}): every delay would be cut to `max_delay`"
        ));
    }
    Ok(())
}
