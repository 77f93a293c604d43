//! The `circuit_breaker` kind: its keys, defaults, checks and metrics.

use std::time::Duration;

use crate::kind::{Key, Kind};
use crate::metrics;
use crate::value::{Force, Setting, Type};

/// `#[circuit_breaker]`.
pub const CIRCUIT_BREAKER: Kind = Kind {
    name: "circuit_breaker",
    attribute: "circuit_breaker",
    keys: &[
        Key {
            name: "threshold",
            ty: Type::Count {
                what: "the number of failures within `window` that opens the circuit",
                min: 1,
                max: 1_000_000,
                zero: None,
            },
            default: Setting::Count(5),
            help: "failures within `window` that open the circuit",
        },
        Key {
            name: "window",
            ty: Type::Duration { allow_zero: false },
            default: Setting::Duration(Duration::from_secs(30)),
            help: "the sliding window failures are counted in",
        },
        Key {
            name: "cooldown",
            ty: Type::Duration { allow_zero: false },
            default: Setting::Duration(Duration::from_secs(10)),
            help: "how long the circuit stays open before letting probes through",
        },
        Key {
            name: "probes",
            ty: Type::Count {
                what: "the number of calls let through while half-open",
                min: 1,
                max: 10_000,
                zero: None,
            },
            default: Setting::Count(1),
            help: "calls let through while half-open",
        },
        Key {
            name: "failure_rate",
            ty: Type::FailureRate,
            default: Setting::Unset,
            help: "open on this share of failures in `window` (with `min_calls`) instead of `threshold`; \"off\" goes back to `threshold`",
        },
        Key {
            name: "min_calls",
            ty: Type::Count {
                what: "the fewest calls in `window` before `failure_rate` can open the circuit",
                min: 1,
                max: 1_000_000,
                zero: None,
            },
            default: Setting::Count(10),
            help: "calls in `window` needed before `failure_rate` can open the circuit",
        },
        super::ENABLED,
        Key {
            name: "force",
            ty: Type::Force,
            default: Setting::Force(Force::None),
            help: "operator override: \"open\" rejects every call, \"closed\" lets every call through, \"none\" lets the breaker decide",
        },
    ],
    fixed: &[super::WHEN, super::NAME, super::PER, super::MAX_PARTITIONS],
    metrics: &[metrics::CALLS_TOTAL, metrics::CIRCUIT_STATE, metrics::CIRCUIT_TRANSITIONS_TOTAL],
};
