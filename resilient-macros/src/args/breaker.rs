//! `#[circuit_breaker(...)]` arguments.

use std::time::Duration;

use syn::{Expr, LitStr};

use resilient_spec::{CIRCUIT_BREAKER, Setting};

use super::{Arg, Keys, Per, PerKeys, duration, lit_str, policy_name, setting};
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
    /// `mode = "adaptive"`: client-side throttling instead of the open/closed state machine.
    pub(crate) adaptive: bool,
    pub(crate) k: Option<f64>,
    pub(crate) min_rps: Option<f64>,
    pub(crate) max_rejection: Option<f64>,
    /// `timeouts = "settled"`: timeouts at a limit still learning are not failures.
    pub(crate) settled_timeouts: Option<bool>,
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
    "mode",
    "k",
    "min_rps",
    "max_rejection",
    "timeouts",
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
    (
        "sr_threshold",
        "use `k` (= 1 / the success rate below which calls are rejected) with `mode = \"adaptive\"`",
    ),
    ("rps_threshold", "use `min_rps` with `mode = \"adaptive\"`"),
    ("max_rejection_probability", "use `max_rejection` with `mode = \"adaptive\"`"),
    ("max_reject_probability", "use `max_rejection` with `mode = \"adaptive\"`"),
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
            adaptive: false,
            k: None,
            min_rps: None,
            max_rejection: None,
            settled_timeouts: None,
        };
        let mut keys = Keys::new("circuit_breaker", VALID, RENAMED);
        let mut per = PerKeys::default();
        let (mut threshold_key, mut rate_key, mut min_calls_key) = (None, None, None);
        let accepted = keys.accepted(args, errors);
        // The mode first: it decides which keys apply.
        let mut mode_key = None;
        for (name, key, value) in &accepted {
            if name == "mode" {
                match mode(value) {
                    Ok(adaptive) => out.adaptive = adaptive,
                    Err(e) => errors.push(e),
                }
                mode_key = Some(key.clone());
            }
        }
        let this_mode = if out.adaptive { "adaptive" } else { "binary" };
        for (name, key, value) in accepted {
            if name == "mode" {
                continue;
            }
            if let Some(why) = resilient_spec::breaker_key_outside_mode(&name, this_mode) {
                let advice = match (&mode_key, out.adaptive) {
                    (_, true) => "; remove it",
                    (Some(_), false) => "; remove it, or write `mode = \"adaptive\"`",
                    (None, false) => {
                        "; add `mode = \"adaptive\"` to throttle adaptively, or remove it"
                    }
                };
                errors.error(&key, format!("{why}{advice}"));
                continue;
            }
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
                "k" => setting(&CIRCUIT_BREAKER, "k", &value).map(|v| out.k = v.number()),
                "min_rps" => {
                    setting(&CIRCUIT_BREAKER, "min_rps", &value).map(|v| out.min_rps = v.number())
                }
                "max_rejection" => setting(&CIRCUIT_BREAKER, "max_rejection", &value)
                    .map(|v| out.max_rejection = v.number()),
                "timeouts" => setting(&CIRCUIT_BREAKER, "timeouts", &value)
                    .map(|v| out.settled_timeouts = Some(v == Setting::Choice("settled"))),
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

/// `mode = "binary"` (the open/closed state machine, the default) or `"adaptive"`: true for
/// adaptive.
fn mode(value: &Expr) -> syn::Result<bool> {
    const EXPECTED: &str = "`mode = \"adaptive\"` (client-side throttling) or `mode = \"binary\"` (open/closed, the default)";
    let lit = lit_str(value, EXPECTED)?;
    match lit.value().as_str() {
        "adaptive" => Ok(true),
        "binary" => Ok(false),
        other => {
            Err(syn::Error::new(lit.span(), format!("unknown mode `{other}`; write {EXPECTED}")))
        }
    }
}
