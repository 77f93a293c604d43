//! `#[circuit_breaker(...)]` arguments.

use std::time::Duration;

use syn::{Expr, LitStr};

use resilient_spec::CIRCUIT_BREAKER;

use super::{Arg, Keys, Per, PerKeys, duration, policy_name, setting};
use crate::errors::Errors;

/// The keys given; the others keep the runtime's defaults (`BreakerSettings::default()`).
pub(crate) struct CircuitBreakerArgs {
    pub(crate) threshold: Option<u32>,
    pub(crate) window: Option<Duration>,
    pub(crate) cooldown: Option<Duration>,
    pub(crate) probes: Option<u32>,
    pub(crate) failure_rate: Option<f64>,
    pub(crate) min_calls: Option<u32>,
    pub(crate) when: Option<Expr>,
    pub(crate) name: Option<LitStr>,
    /// `per = expr`: one breaker per distinct value.
    pub(crate) per: Option<Per>,
}

const VALID: &[&str] = &[
    "threshold",
    "window",
    "cooldown",
    "probes",
    "failure_rate",
    "min_calls",
    "when",
    "name",
    "per",
    "max_partitions",
];
const RENAMED: &[(&str, &str)] = &[
    ("failure_threshold", "use `threshold`: failures within `window` that open the circuit"),
    ("failures", "use `threshold`: failures within `window` that open the circuit"),
    ("timeout", "use `cooldown`: how long the circuit stays open before letting probes through"),
    (
        "reset_timeout",
        "use `cooldown`: how long the circuit stays open before letting probes through",
    ),
    (
        "open_duration",
        "use `cooldown`: how long the circuit stays open before letting probes through",
    ),
    ("half_open_calls", "use `probes`: calls let through while half-open"),
    ("minimum_calls", "use `min_calls`"),
    ("rate", "use `failure_rate`, a fraction in (0, 1]"),
];

impl CircuitBreakerArgs {
    pub(crate) fn parse(args: Vec<Arg>, errors: &mut Errors) -> Self {
        let mut out = CircuitBreakerArgs {
            threshold: None,
            window: None,
            cooldown: None,
            probes: None,
            failure_rate: None,
            min_calls: None,
            when: None,
            name: None,
            per: None,
        };
        let mut keys = Keys::new("circuit_breaker", VALID, RENAMED);
        let mut per = PerKeys::default();
        let (mut threshold_key, mut rate_key, mut min_calls_key) = (None, None, None);
        for (name, key, value) in keys.accepted(args, errors) {
            if let Some(parsed) = per.take(&name, &key, &value) {
                if let Err(e) = parsed {
                    errors.push(e);
                }
                continue;
            }
            let parsed: syn::Result<()> = match name.as_str() {
                "threshold" => {
                    threshold_key = Some(key.clone());
                    setting(&CIRCUIT_BREAKER, "threshold", &value)
                        .map(|v| out.threshold = v.count().map(|n| n as u32))
                }
                "window" => duration(&value, false).map(|d| out.window = Some(d.value)),
                "cooldown" => duration(&value, false).map(|d| out.cooldown = Some(d.value)),
                "probes" => setting(&CIRCUIT_BREAKER, "probes", &value)
                    .map(|v| out.probes = v.count().map(|n| n as u32)),
                "failure_rate" => {
                    rate_key = Some(key.clone());
                    setting(&CIRCUIT_BREAKER, "failure_rate", &value)
                        .map(|v| out.failure_rate = v.number())
                }
                "min_calls" => {
                    min_calls_key = Some(key.clone());
                    setting(&CIRCUIT_BREAKER, "min_calls", &value)
                        .map(|v| out.min_calls = v.count().map(|n| n as u32))
                }
                "when" => {
                    out.when = Some(value.clone());
                    Ok(())
                }
                "name" => policy_name(&value).map(|n| out.name = Some(n)),
                _ => unreachable!("every valid key is handled"),
            };
            if let Err(e) = parsed {
                errors.push(e);
            }
        }
        out.per = per.finish("circuit_breaker", errors);
        if let (Some(t), Some(_)) = (&threshold_key, &rate_key) {
            errors.error(t, "choose one trip rule: `threshold` (failures in `window`) or `failure_rate` with `min_calls`, not both");
        }
        if let (Some(m), None) = (&min_calls_key, &rate_key) {
            errors.error(m, "`min_calls` only applies with `failure_rate`; add `failure_rate = 0.5` (say) or remove it");
        }
        out
    }
}
