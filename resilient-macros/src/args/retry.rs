//! `#[retry(...)]` arguments.

use std::time::Duration;

use syn::{Expr, LitStr};

use resilient_spec::{Backoff, Jitter, RETRY, Setting};

use super::{Arg, Keys, Per, PerKeys, duration, policy_name, setting};
use crate::errors::Errors;

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum BackoffKind {
    Exponential,
    Fixed,
    Linear,
    Decorrelated,
}

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum JitterKind {
    None,
    Proportional(f64),
    Full,
    Equal,
}

pub(crate) struct RetryArgs {
    pub(crate) max: u32,
    pub(crate) backoff: BackoffKind,
    pub(crate) base: Duration,
    pub(crate) max_delay: Duration,
    pub(crate) jitter: JitterKind,
    pub(crate) when: Option<Expr>,
    /// `None`: the default budget; `Some(None)`: `"off"`; `Some(Some(ratio))`.
    pub(crate) budget: Option<Option<f64>>,
    pub(crate) name: Option<LitStr>,
    /// `per = expr`: one retry budget per distinct value.
    pub(crate) per: Option<Per>,
}

const VALID: &[&str] = &[
    "max",
    "backoff",
    "base",
    "max_delay",
    "jitter",
    "when",
    "budget",
    "name",
    "per",
    "max_partitions",
];
const RENAMED: &[(&str, &str)] = &[
    (
        "max_retries",
        "use `max`, which counts attempts in all, the first call included (`max_retries = 2` is `max = 3`)",
    ),
    ("retries", "use `max`, which counts attempts in all, the first call included"),
    ("attempts", "use `max`, which counts attempts in all, the first call included"),
    ("max_attempts", "use `max`, which counts attempts in all, the first call included"),
    ("delay", "use `base` for the first delay"),
    ("initial_delay", "use `base` for the first delay"),
    ("cap", "use `max_delay` for the cap on one delay"),
    ("max_backoff", "use `max_delay` for the cap on one delay"),
    ("retry_if", "use `when = <predicate>`"),
    ("predicate", "use `when = <predicate>`"),
    ("timeout", "put `#[timeout(...)]` on the function as its own attribute"),
];

impl RetryArgs {
    pub(crate) fn parse(args: Vec<Arg>, errors: &mut Errors) -> Self {
        let mut out = RetryArgs {
            max: 3,
            backoff: BackoffKind::Exponential,
            base: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
            jitter: JitterKind::Proportional(0.1),
            when: None,
            budget: None,
            name: None,
            per: None,
        };
        let mut keys = Keys::new("retry", VALID, RENAMED);
        let mut per = PerKeys::default();
        let mut per_key = None;
        let (mut jitter_expr, mut backoff_expr, mut base_expr, mut max_delay_expr) =
            (None, None, None, None);
        for (name, key, value) in keys.accepted(args, errors) {
            if let Some(parsed) = per.take(&name, &key, &value) {
                match parsed {
                    Ok(()) if name == "per" => per_key = Some(key),
                    Ok(()) => {}
                    Err(e) => errors.push(e),
                }
                continue;
            }
            let parsed: syn::Result<()> = match name.as_str() {
                "max" => setting(&RETRY, "max", &value)
                    .map(|v| out.max = v.count().map_or(out.max, |n| n as u32)),
                "backoff" => parse_backoff(&value).map(|b| {
                    out.backoff = b;
                    backoff_expr = Some(value.clone());
                }),
                "base" => duration(&value, true).map(|d| {
                    out.base = d.value;
                    base_expr = Some(value.clone());
                }),
                "max_delay" => duration(&value, false).map(|d| {
                    out.max_delay = d.value;
                    max_delay_expr = Some(value.clone());
                }),
                "jitter" => parse_jitter(&value).map(|j| {
                    out.jitter = j;
                    jitter_expr = Some(value.clone());
                }),
                "when" => {
                    out.when = Some(value.clone());
                    Ok(())
                }
                "budget" => parse_budget(&value).map(|b| out.budget = Some(b)),
                "name" => policy_name(&value).map(|n| out.name = Some(n)),
                _ => unreachable!("every valid key is handled"),
            };
            if let Err(e) = parsed {
                errors.push(e);
            }
        }
        if let (BackoffKind::Decorrelated, Some(j)) = (out.backoff, &jitter_expr) {
            errors.error(
                j,
                "`backoff = \"decorrelated\"` is already randomised; remove `jitter` (or pick another backoff)",
            );
        }
        if let Err(message) = resilient_spec::check_delays(out.base, out.max_delay) {
            let at = max_delay_expr.as_ref().or(base_expr.as_ref());
            if let Some(at) = at {
                errors.error(at, message);
            }
        }
        let _ = backoff_expr;
        out.per = per.finish("retry", errors);
        if let (Some(None), Some(key)) = (out.budget, &per_key) {
            errors.error(
                key,
                "`per` keeps one retry budget per value, and `budget = \"off\"` turns the budget off: remove one of them",
            );
        }
        out
    }
}

fn parse_backoff(value: &Expr) -> syn::Result<BackoffKind> {
    setting(&RETRY, "backoff", value).map(|v| match v {
        Setting::Backoff(Backoff::Fixed) => BackoffKind::Fixed,
        Setting::Backoff(Backoff::Linear) => BackoffKind::Linear,
        Setting::Backoff(Backoff::Decorrelated) => BackoffKind::Decorrelated,
        _ => BackoffKind::Exponential,
    })
}

fn parse_jitter(value: &Expr) -> syn::Result<JitterKind> {
    setting(&RETRY, "jitter", value).map(|v| match v {
        Setting::Jitter(Jitter::Proportional(f)) => JitterKind::Proportional(f),
        Setting::Jitter(Jitter::Full) => JitterKind::Full,
        Setting::Jitter(Jitter::Equal) => JitterKind::Equal,
        _ => JitterKind::None,
    })
}

fn parse_budget(value: &Expr) -> syn::Result<Option<f64>> {
    setting(&RETRY, "budget", value).map(|v| match v {
        Setting::Budget(ratio) => ratio,
        _ => None,
    })
}
