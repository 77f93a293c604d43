//! The `idempotent` kind: its keys, defaults, checks and metrics.

use std::time::Duration;

use crate::kind::{Key, Kind};
use crate::metrics;
use crate::value::{Setting, Type};

/// `#[idempotent]`.
pub const IDEMPOTENT: Kind = Kind {
    name: "idempotent",
    attribute: "idempotent",
    keys: &[
        Key {
            name: "ttl",
            ty: Type::Duration { allow_zero: false },
            default: Setting::Duration(Duration::from_secs(24 * 60 * 60)),
            help: "how long a result is kept (results already stored keep the ttl they were stored with)",
        },
        Key {
            name: "wait_in_flight",
            ty: Type::OptionalDuration,
            default: Setting::Unset,
            help: "shared stores: how long a duplicate waits for the first call's result, or \"off\"",
        },
        super::ENABLED,
    ],
    fixed: &[
        ("key", "it is code; change it in the source"),
        ("fingerprint", "it is code; change it in the source"),
        (
            "store",
            "the store is chosen when the policy is built, and the generated code depends on it",
        ),
        ("max_entries", "the in-process store is sized when the policy is built"),
        super::NAME,
    ],
    metrics: &[
        metrics::CALLS_TOTAL,
        metrics::IDEMPOTENCY_JOINED_TOTAL,
        metrics::IDEMPOTENCY_EVICTED_TOTAL,
    ],
};
