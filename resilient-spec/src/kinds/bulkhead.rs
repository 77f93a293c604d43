//! The `bulkhead` kind: its keys, defaults, checks and metrics.
//!
//! `max` is a whole number or the text `"adaptive"`: one key, so an operator can switch a
//! bulkhead between a fixed and an adaptive limit from configuration. It parses into
//! [`Setting::Count`] or [`Setting::Adaptive`].

use std::time::Duration;

use crate::kind::{Key, Kind};
use crate::metrics;
use crate::value::{Setting, Type};

/// The most calls a bulkhead's limit may allow.
pub const MAX_LIMIT: u64 = 1_000_000;

/// `#[bulkhead]`.
pub const BULKHEAD: Kind = Kind {
    name: "bulkhead",
    attribute: "bulkhead",
    keys: &[
        Key {
            name: "max",
            ty: Type::Limit,
            default: Setting::Count(10),
            help: "the most calls running at once, or \"adaptive\" to follow the dependency's latency",
        },
        Key {
            name: "queue",
            ty: Type::Count {
                what: "the most calls waiting for a place (FIFO)",
                min: 0,
                max: MAX_LIMIT,
                zero: None,
            },
            default: Setting::Count(0),
            help: "calls that may wait (first come, first served) when every place is taken",
        },
        Key {
            name: "wait",
            ty: Type::Duration { allow_zero: true },
            default: Setting::Duration(Duration::ZERO),
            help: "how long a queued call waits for a place before it is rejected",
        },
        Key {
            name: "min",
            ty: Type::Count {
                what: "the lowest adaptive limit",
                min: 1,
                max: MAX_LIMIT,
                zero: Some(
                    "`min = 0` would let the adaptive limit reject every call: write at least 1",
                ),
            },
            default: Setting::Count(1),
            help: "the lowest adaptive limit (adaptive only; kept but unused while `max` is a number)",
        },
        Key {
            name: "limit",
            ty: Type::Count {
                what: "the highest adaptive limit",
                min: 1,
                max: MAX_LIMIT,
                zero: Some("`limit = 0` would reject every call: write at least 1"),
            },
            default: Setting::Count(1000),
            help: "the highest adaptive limit (adaptive only; kept but unused while `max` is a number)",
        },
        Key {
            name: "initial",
            ty: Type::Count {
                what: "the adaptive limit to start from",
                min: 1,
                max: MAX_LIMIT,
                zero: Some(
                    "`initial = 0` would reject every call until the limit moved: write at least 1",
                ),
            },
            default: Setting::Count(20),
            help: "the adaptive limit to start from, when the bulkhead first becomes adaptive (slow start grows it from there)",
        },
        super::ENABLED,
    ],
    fixed: &[super::NAME, super::PER, super::MAX_PARTITIONS],
    metrics: &[
        metrics::CALLS_TOTAL,
        metrics::BULKHEAD_IN_FLIGHT,
        metrics::BULKHEAD_QUEUED,
        metrics::BULKHEAD_LIMIT,
    ],
};

/// What `max` accepts, for messages.
pub const LIMIT: &str =
    "the most calls running at once: a whole number from 1 to 1000000, or \"adaptive\"";

/// The checks across keys, in the attribute and in configuration alike: `min <= initial <=
/// limit` for an adaptive bulkhead.
pub fn check_adaptive(min: u64, initial: u64, limit: u64) -> Result<(), String> {
    if min > limit {
        return Err(format!("`limit` ({limit}) is below `min` ({min})"));
    }
    if !(min..=limit).contains(&initial) {
        return Err(format!("`initial` ({initial}) is outside `min..=limit` ({min}..={limit})"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::value::{Setting, Value};

    #[test]
    fn max_is_a_number_or_adaptive() {
        let (_, max) = super::BULKHEAD.key("max").unwrap();
        assert_eq!(max.ty.parse(Value::Int(10)), Ok(Setting::Count(10)));
        assert_eq!(max.ty.parse(Value::Str("adaptive")), Ok(Setting::Adaptive));
        assert_eq!(max.ty.parse(Value::Str("adaptive")).unwrap().to_string(), "adaptive");
        assert!(
            max.ty.parse(Value::Int(0)).unwrap_err().contains("`max = 0` would reject every call")
        );
        assert!(max.ty.parse(Value::Int(-3)).unwrap_err().starts_with("expected the most calls"));
        assert!(max.ty.parse(Value::Str("auto")).unwrap_err().starts_with("unknown limit `auto`"));
        assert!(max.ty.parse(Value::Int(2_000_000)).is_err());
    }

    #[test]
    fn adaptive_bounds_are_checked_together() {
        assert_eq!(super::check_adaptive(1, 20, 1000), Ok(()));
        assert_eq!(
            super::check_adaptive(50, 50, 10).unwrap_err(),
            "`limit` (10) is below `min` (50)"
        );
        assert!(super::check_adaptive(5, 2, 10).unwrap_err().contains("`initial` (2) is outside"));
    }
}
