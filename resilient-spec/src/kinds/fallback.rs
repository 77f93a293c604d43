//! The `fallback` kind: its keys, defaults, checks and metrics.

use crate::kind::{Key, Kind};
use crate::metrics;

/// `#[fallback]`.
pub const FALLBACK: Kind = Kind {
    name: "fallback",
    attribute: "fallback",
    keys: &[ENABLED],
    fixed: &[
        ("f", "the fallback function is code; change it in the source"),
        ("on", "it is code; change it in the source"),
        super::NAME,
    ],
    metrics: &[metrics::CALLS_TOTAL],
};

/// `enabled` for a fallback: off, errors reach the caller as they are.
const ENABLED: Key = Key {
    help: "`false` turns the fallback off: errors reach the caller as they are",
    ..super::ENABLED
};
