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
        Key {
            name: "k",
            ty: Type::Number {
                what: "the multiplier of accepted calls (adaptive mode: rejection starts when fewer than 1/k of the calls in `window` succeed)",
                min: 1.0,
                max: 1000.0,
                example: "k = 2.0",
            },
            default: Setting::Number(2.0),
            help: "adaptive mode: reject with probability (requests - k * accepts) / (requests + 1)",
        },
        Key {
            name: "min_rps",
            ty: Type::Number {
                what: "the request rate below which an adaptive breaker rejects nothing, in calls per second",
                min: 0.0,
                max: 1_000_000.0,
                example: "min_rps = 1.0",
            },
            default: Setting::Number(1.0),
            help: "adaptive mode: with fewer calls per second than this in `window`, nothing is rejected",
        },
        Key {
            name: "max_rejection",
            ty: Type::Number {
                what: "the highest rejection probability of an adaptive breaker",
                min: 0.0,
                max: 0.99,
                example: "max_rejection = 0.9",
            },
            default: Setting::Number(0.9),
            help: "adaptive mode: the rejection probability never goes above this (some calls always go through)",
        },
        Key {
            name: "timeouts",
            ty: Type::Choice {
                what: "`timeouts`, the timeouts that count as failures",
                choices: TIMEOUTS,
            },
            default: Setting::Choice("all"),
            help: "which timeouts of an inner `#[timeout]` count as failures: \"all\" (the default), or \"settled\" (not those at a learned adaptive limit below its `max`, a limit still learning a latency shift)",
        },
    ],
    fixed: &[super::WHEN, super::NAME, super::PER, super::MAX_PARTITIONS, MODE],
    metrics: &[
        metrics::CALLS_TOTAL,
        metrics::CIRCUIT_STATE,
        metrics::CIRCUIT_TRANSITIONS_TOTAL,
        metrics::THROTTLE_PROBABILITY,
    ],
};

/// The values of `timeouts`: every timeout counts as a failure (`"all"`, the default), or only
/// those at a settled limit (`"settled"`: not at a learned adaptive limit below its `max`).
pub const TIMEOUTS: &[(&str, &str)] = &[
    ("all", "every timeout, the default"),
    (
        "settled",
        "not those at a learned adaptive limit below its `max`, still learning a latency shift",
    ),
];

const MODE: (&str, &str) =
    ("mode", "a breaker's mode is fixed when it is built; change it in the source");

/// The keys only the open/closed state machine (`mode = "binary"`, the default) uses.
pub const BINARY_KEYS: &[&str] = &["threshold", "cooldown", "probes", "failure_rate", "min_calls"];

/// The keys only adaptive throttling (`mode = "adaptive"`) uses.
pub const ADAPTIVE_KEYS: &[&str] = &["k", "min_rps", "max_rejection"];

/// Why `key` cannot be set on a breaker of mode `mode` (`"binary"` or `"adaptive"`), or `None`
/// when it applies: the message configuration and the attribute both give.
pub fn breaker_key_outside_mode(key: &str, mode: &str) -> Option<String> {
    let (other, mine) = match mode {
        "adaptive" => (BINARY_KEYS, "k, window, min_rps, max_rejection, timeouts"),
        _ => (
            ADAPTIVE_KEYS,
            "threshold, window, cooldown, probes, failure_rate, min_calls, timeouts",
        ),
    };
    other.contains(&key).then(|| {
        let (this, that) = match mode {
            "adaptive" => ("adaptive (`mode = \"adaptive\"`)", "the open/closed breaker"),
            _ => ("an open/closed breaker (`mode = \"binary\"`)", "`mode = \"adaptive\"`"),
        };
        format!("`{key}` does not apply: this breaker is {this}, and `{key}` belongs to {that}; its keys are {mine}")
    })
}
