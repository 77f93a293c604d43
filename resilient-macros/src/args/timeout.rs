//! `#[timeout(...)]` arguments: a fixed duration or an adaptive `"pNN*K"` rule.

use std::time::Duration;

use syn::{Expr, LitBool, LitStr};

use resilient_spec::value::RULE;
use resilient_spec::{Rule, Setting};

use super::{Arg, Keys, Per, PerKeys, duration, policy_name, setting};
use crate::duration::DurationLit;
use crate::errors::Errors;

#[derive(Clone, Copy)]
pub(crate) enum TimeoutRule {
    Fixed(Duration),
    Adaptive { percentile: f64, multiplier: f64 },
}

pub(crate) struct TimeoutArgs {
    pub(crate) rule: TimeoutRule,
    pub(crate) initial: Option<Duration>,
    pub(crate) min: Option<Duration>,
    pub(crate) max: Option<Duration>,
    pub(crate) warmup: Option<u32>,
    pub(crate) window: Option<Duration>,
    pub(crate) name: Option<LitStr>,
    /// `cancel_safe = true`: the user states that dropping the body mid-way leaves the `&mut`
    /// state it borrows consistent (silences the warning).
    pub(crate) cancel_safe: Option<LitBool>,
    /// `on_cancel = path` (or a closure): called with the receiver (or the `&mut` argument)
    /// after the timeout dropped the body, before the error goes up.
    pub(crate) on_cancel: Option<Expr>,
    /// `per = expr` (adaptive only): one latency histogram per distinct value.
    pub(crate) per: Option<Per>,
}

const VALID: &[&str] = &[
    "initial",
    "min",
    "max",
    "warmup",
    "window",
    "name",
    "cancel_safe",
    "on_cancel",
    "per",
    "max_partitions",
];
/// Keys that apply to fixed and adaptive rules alike.
const ANY_RULE: &[&str] = &["name", "cancel_safe", "on_cancel"];
const RENAMED: &[(&str, &str)] = &[
    ("duration", "give the duration as the first argument: `#[timeout(\"250ms\")]`"),
    ("after", "give the duration as the first argument: `#[timeout(\"250ms\")]`"),
    ("default", "use `initial`: the timeout used until enough samples exist"),
    ("samples", "use `warmup`: samples needed before the percentile is trusted"),
];

impl TimeoutArgs {
    pub(crate) fn parse(args: Vec<Arg>, errors: &mut Errors) -> Self {
        let mut out = TimeoutArgs {
            rule: TimeoutRule::Fixed(Duration::from_secs(1)),
            initial: None,
            min: None,
            max: None,
            warmup: None,
            window: None,
            name: None,
            cancel_safe: None,
            on_cancel: None,
            per: None,
        };
        let mut keys = Keys::new("timeout", VALID, RENAMED);
        let mut per = PerKeys::default();
        let mut args = args.into_iter().peekable();
        let rule_given = matches!(args.peek(), Some(Arg::Positional(_)));
        match args.peek() {
            Some(Arg::Positional(_)) => {
                let Some(Arg::Positional(value)) = args.next() else { unreachable!() };
                match parse_rule(&value) {
                    Ok(rule) => out.rule = rule,
                    Err(e) => errors.push(e),
                }
            }
            _ => errors.push(syn::Error::new(
                proc_macro2::Span::call_site(),
                format!("`#[timeout]` needs its rule first: {RULE}, e.g. `#[timeout(\"250ms\")]`"),
            )),
        }
        let mut adaptive_only = Vec::new();
        let (mut min, mut max) = (None::<(DurationLit, Expr)>, None::<(DurationLit, Expr)>);
        // After the rule, only `key = value` arguments.
        for (name, key, value) in keys.accepted(args.collect(), errors) {
            if !ANY_RULE.contains(&name.as_str()) {
                adaptive_only.push(key.clone());
            }
            if let Some(parsed) = per.take(&name, &key, &value) {
                if let Err(e) = parsed {
                    errors.push(e);
                }
                continue;
            }
            let parsed: syn::Result<()> = match name.as_str() {
                "initial" => duration(&value, false).map(|d| out.initial = Some(d.value)),
                "min" => duration(&value, false).map(|d| {
                    out.min = Some(d.value);
                    min = Some((d, value.clone()));
                }),
                "max" => duration(&value, false).map(|d| {
                    out.max = Some(d.value);
                    max = Some((d, value.clone()));
                }),
                "warmup" => setting(&resilient_spec::TIMEOUT, "warmup", &value)
                    .map(|v| out.warmup = v.count().map(|n| n as u32)),
                "window" => duration(&value, false).map(|d| out.window = Some(d.value)),
                "name" => policy_name(&value).map(|n| out.name = Some(n)),
                "cancel_safe" => cancel_safe(&value).map(|b| out.cancel_safe = Some(b)),
                "on_cancel" => hook_path(&value).map(|p| out.on_cancel = Some(p)),
                _ => unreachable!("every valid key is handled"),
            };
            if let Err(e) = parsed {
                errors.push(e);
            }
        }
        let fixed = matches!((out.rule, rule_given), (TimeoutRule::Fixed(_), true));
        if fixed {
            for key in adaptive_only {
                let message = match key.to_string().as_str() {
                    "per" | "max_partitions" => format!(
                        "`{key}` keeps one latency histogram per value, and a fixed timeout keeps none: remove `{key}`, or make the rule adaptive, like \"p99*2\""
                    ),
                    _ => format!(
                        "`{key}` only applies to adaptive rules like \"p99*2\"; a fixed timeout has nothing to adapt"
                    ),
                };
                errors.error(&key, message);
            }
        }
        // On a fixed timeout both keys are reported above.
        out.per = if fixed { None } else { per.finish("timeout", errors) };
        if let (Some((lo, _)), Some((hi, hi_expr))) = (&min, &max)
            && let Err(message) = resilient_spec::check_bounds(lo.value, hi.value)
        {
            errors.error(hi_expr, message);
        }
        if let (Some(safe), Some(_)) = (&out.cancel_safe, &out.on_cancel)
            && safe.value
        {
            errors.error(
                safe,
                "`cancel_safe = true` says there is nothing to repair after a cancellation, and `on_cancel` repairs it: keep one of the two",
            );
        }
        out
    }
}

fn cancel_safe(value: &Expr) -> syn::Result<LitBool> {
    match value {
        Expr::Lit(syn::ExprLit { lit: syn::Lit::Bool(b), .. }) => Ok(b.clone()),
        _ => Err(syn::Error::new_spanned(
            value,
            "expected `true` or `false`: `cancel_safe = true` states that the body may be dropped at any `.await` without leaving what it borrows half-changed",
        )),
    }
}

fn hook_path(value: &Expr) -> syn::Result<Expr> {
    match value {
        Expr::Path(_) | Expr::Closure(_) => Ok(value.clone()),
        _ => Err(syn::Error::new_spanned(
            value,
            "expected the path of a fn, like `on_cancel = Self::reset`, not a call: the hook is called with the receiver (`&mut Self`) when the timeout fires, and marks the connection broken",
        )),
    }
}

fn parse_rule(value: &Expr) -> syn::Result<TimeoutRule> {
    setting(&resilient_spec::TIMEOUT, "rule", value).map(|v| match v {
        Setting::Rule(Rule::Adaptive { percentile, multiplier }) => {
            TimeoutRule::Adaptive { percentile, multiplier }
        }
        Setting::Rule(Rule::Fixed(d)) => TimeoutRule::Fixed(d),
        _ => unreachable!("`rule` parses to a rule"),
    })
}
