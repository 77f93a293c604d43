//! `#[retry(...)]` arguments.

use std::time::Duration;

use syn::{Expr, LitStr};

use super::{Arg, Keys, duration, lit_float, lit_int, lit_str, policy_name};
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
}

const VALID: &[&str] = &["max", "backoff", "base", "max_delay", "jitter", "when", "budget", "name"];
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
        };
        let mut keys = Keys::new("retry", VALID, RENAMED);
        let (mut jitter_expr, mut backoff_expr, mut base_expr, mut max_delay_expr) =
            (None, None, None, None);
        for (name, _, value) in keys.accepted(args, errors) {
            let parsed: syn::Result<()> = match name.as_str() {
                "max" => lit_int(
                    &value,
                    "the number of attempts in all, the first call included",
                    1,
                    1000,
                )
                .map(|v| out.max = v as u32)
                .map_err(|e| zero_max(&value, e)),
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
        if out.max_delay < out.base {
            let at = max_delay_expr.as_ref().or(base_expr.as_ref());
            if let Some(at) = at {
                errors.error(
                    at,
                    format!(
                        "`max_delay` ({:?}) is shorter than `base` ({:?}): every delay would be cut to `max_delay`",
                        out.max_delay, out.base
                    ),
                );
            }
        }
        let _ = backoff_expr;
        out
    }
}

fn zero_max(value: &Expr, e: syn::Error) -> syn::Error {
    match lit_int(value, "", 0, 0) {
        Ok(0) => syn::Error::new_spanned(
            value,
            "`max = 0` would never call the function: `max` counts attempts in all, the first call included; write `max = 1` for no retries",
        ),
        _ => e,
    }
}

fn parse_backoff(value: &Expr) -> syn::Result<BackoffKind> {
    const EXPECTED: &str = "one of \"exp\", \"fixed\", \"linear\", \"decorrelated\"";
    let s = lit_str(value, EXPECTED)?;
    match s.value().as_str() {
        "exp" | "exponential" => Ok(BackoffKind::Exponential),
        "fixed" | "constant" => Ok(BackoffKind::Fixed),
        "linear" => Ok(BackoffKind::Linear),
        "decorrelated" => Ok(BackoffKind::Decorrelated),
        other => Err(syn::Error::new(
            s.span(),
            format!("unknown backoff `{other}`; expected {EXPECTED}"),
        )),
    }
}

fn parse_jitter(value: &Expr) -> syn::Result<JitterKind> {
    const EXPECTED: &str =
        "a fraction from 0 to 1 (delay + uniform(0, f·delay)), or \"full\", \"equal\" or \"none\"";
    if let Ok(s) = lit_str(value, EXPECTED) {
        return match s.value().as_str() {
            "full" => Ok(JitterKind::Full),
            "equal" => Ok(JitterKind::Equal),
            "none" => Ok(JitterKind::None),
            other => Err(syn::Error::new(
                s.span(),
                format!("unknown jitter `{other}`; expected {EXPECTED}"),
            )),
        };
    }
    let f = lit_float(value, EXPECTED)?;
    if !(0.0..=1.0).contains(&f) {
        return Err(syn::Error::new_spanned(
            value,
            format!("jitter {f} is outside [0, 1]; expected {EXPECTED}"),
        ));
    }
    Ok(if f == 0.0 { JitterKind::None } else { JitterKind::Proportional(f) })
}

fn parse_budget(value: &Expr) -> syn::Result<Option<f64>> {
    const EXPECTED: &str = "a share of calls like \"20%\" (from 1% to 100%), or \"off\"";
    let s = lit_str(value, EXPECTED)?;
    let text = s.value();
    if text == "off" {
        return Ok(None);
    }
    let pct = text.strip_suffix('%').and_then(|n| n.trim().parse::<f64>().ok());
    match pct {
        Some(p) if (1.0..=100.0).contains(&p) => Ok(Some(p / 100.0)),
        _ => {
            Err(syn::Error::new(s.span(), format!("invalid budget `{text}`; expected {EXPECTED}")))
        }
    }
}
