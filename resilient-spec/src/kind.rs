//! A policy kind, declared once: its keys (with defaults, checks and help), the attribute keys
//! that only source code can set, and its metric names. The attribute parser, the configuration
//! loader and the registry all read these declarations.

use std::time::Duration;

use crate::suggest;
use crate::value::{Force, Jitter, Rule, Setting, Type};

/// One policy kind.
#[derive(Debug)]
pub struct Kind {
    /// The kind as configuration tables and the registry name it: `retry`, `circuit_breaker`.
    pub name: &'static str,
    /// The attribute: `retry`, `circuit_breaker`, `timeout`, `idempotent`.
    pub attribute: &'static str,
    /// The keys configuration may set, in the order the registry shows them.
    pub keys: &'static [Key],
    /// Attribute keys configuration cannot set (code, or fixed when the policy is built), each
    /// with why.
    pub fixed: &'static [(&'static str, &'static str)],
    /// The names of the metrics the kind records (see [`metrics`](crate::metrics)).
    pub metrics: &'static [&'static str],
}

/// One key of a kind.
#[derive(Debug)]
pub struct Key {
    /// As written in the attribute and in configuration.
    pub name: &'static str,
    /// What it accepts.
    pub ty: Type,
    /// The value when neither the attribute nor configuration sets it.
    pub default: Setting,
    /// What it means.
    pub help: &'static str,
}

impl Kind {
    /// The key named `name`, or a message that lists the valid keys and, for a near miss, says
    /// which was likely meant.
    pub fn key(&self, name: &str) -> Result<(usize, &'static Key), String> {
        if let Some(found) = self.keys.iter().position(|k| k.name == name) {
            return Ok((found, &self.keys[found]));
        }
        let valid = self.keys.iter().map(|k| k.name).collect::<Vec<_>>().join(", ");
        if let Some((_, why)) = self.fixed.iter().find(|(k, _)| *k == name) {
            return Err(format!(
                "`{name}` cannot be set from configuration: {why}\nvalid keys for `{}`: {valid}",
                self.name
            ));
        }
        let hint = suggest::closest(name, self.keys.iter().map(|k| k.name))
            .map(|near| format!("; did you mean `{near}`?"))
            .unwrap_or_default();
        Err(format!(
            "unknown `{}` key `{name}`{hint}\nvalid keys for `{}`: {valid}",
            self.name, self.name
        ))
    }

    /// The index of key `name`.
    ///
    /// # Panics
    /// When the kind has no such key: a bug in the policy that asks.
    pub fn index(&self, name: &str) -> usize {
        self.keys
            .iter()
            .position(|k| k.name == name)
            .unwrap_or_else(|| panic!("`{}` has no key `{name}`", self.name))
    }

    /// Every key's default, in key order.
    pub fn defaults(&self) -> Vec<Setting> {
        self.keys.iter().map(|k| k.default).collect()
    }
}

/// Every kind, for lookups by name.
pub const KINDS: &[&Kind] = &[&RETRY, &CIRCUIT_BREAKER, &TIMEOUT, &IDEMPOTENT];

/// The kind named `name` (as configuration writes it), or a message listing them.
pub fn kind(name: &str) -> Result<&'static Kind, String> {
    if let Some(k) = KINDS.iter().find(|k| k.name == name || k.attribute == name) {
        return Ok(k);
    }
    let valid = KINDS.iter().map(|k| k.name).collect::<Vec<_>>().join(", ");
    let hint = suggest::closest(name, KINDS.iter().map(|k| k.name))
        .map(|near| format!("; did you mean `{near}`?"))
        .unwrap_or_default();
    Err(format!("unknown policy kind `{name}`{hint}\nvalid kinds: {valid}"))
}

const ENABLED: Key = Key {
    name: "enabled",
    ty: Type::Bool,
    default: Setting::Bool(true),
    help: "`false` turns the policy off: calls pass straight through, its state is kept",
};

const WHEN: (&str, &str) = ("when", "it is code; change it in the source");
const NAME: (&str, &str) =
    ("name", "configuration addresses policies by name; it cannot rename one");

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
        ENABLED,
    ],
    fixed: &[WHEN, NAME],
    metrics: &[crate::metrics::CALLS, crate::metrics::RETRIES, crate::metrics::DURATION],
};

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
            help: "open on this share of failures in `window` (with `min_calls`) instead of `threshold`",
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
        ENABLED,
        Key {
            name: "force",
            ty: Type::Force,
            default: Setting::Force(Force::None),
            help: "operator override: \"open\" rejects every call, \"closed\" lets every call through, \"none\" lets the breaker decide",
        },
    ],
    fixed: &[WHEN, NAME],
    metrics: &[crate::metrics::CALLS, crate::metrics::CIRCUIT_STATE, crate::metrics::DURATION],
};

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
            default: Setting::Duration(Duration::from_millis(1)),
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
        ENABLED,
    ],
    fixed: &[NAME],
    metrics: &[crate::metrics::CALLS, crate::metrics::TIMEOUT_LIMIT, crate::metrics::DURATION],
};

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
        ENABLED,
    ],
    fixed: &[
        ("key", "it is code; change it in the source"),
        ("fingerprint", "it is code; change it in the source"),
        (
            "store",
            "the store is chosen when the policy is built, and the generated code depends on it",
        ),
        ("max_entries", "the in-process store is sized when the policy is built"),
        NAME,
    ],
    metrics: &[crate::metrics::CALLS, crate::metrics::DURATION],
};
