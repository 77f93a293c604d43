//! `#[hedge(...)]` arguments.

use std::time::Duration;

use syn::{Expr, Ident, LitStr};

use resilient_spec::{After, HEDGE, Setting};

use super::{Arg, Keys, Per, PerKeys, duration, policy_name, setting};
use crate::errors::Errors;

pub(crate) struct HedgeArgs {
    pub(crate) after: After,
    pub(crate) max: u32,
    /// `None`: the default budget; `Some(None)`: `"off"`; `Some(Some(ratio))`.
    pub(crate) budget: Option<Option<f64>>,
    pub(crate) warmup: Option<u32>,
    pub(crate) window: Option<Duration>,
    pub(crate) name: Option<LitStr>,
    /// `per = expr`: one latency histogram and budget per distinct value.
    pub(crate) per: Option<Per>,
}

const VALID: &[&str] =
    &["after", "max", "budget", "warmup", "window", "name", "per", "max_partitions"];
/// Keys that only a percentile `after` uses.
const PERCENTILE_ONLY: &[&str] = &["warmup", "window"];
const RENAMED: &[(&str, &str)] = &[
    ("delay", "use `after`: a duration like \"50ms\" or a percentile like \"p95\""),
    ("percentile", "write it in `after`, like `after = \"p95\"`"),
    (
        "hedges",
        "use `max`, which counts attempts in all, the first included (`hedges = 1` is `max = 2`)",
    ),
    ("attempts", "use `max`, which counts attempts in all, the first included"),
    ("max_attempts", "use `max`, which counts attempts in all, the first included"),
    (
        "when",
        "a hedge starts on slowness, not on an error; for errors put `#[retry(when = ...)]` on the function",
    ),
    ("timeout", "put `#[timeout(...)]` on the function as its own attribute"),
];

impl HedgeArgs {
    pub(crate) fn parse(args: Vec<Arg>, errors: &mut Errors) -> Self {
        let mut out = HedgeArgs {
            after: After::Percentile(95.0),
            max: 2,
            budget: None,
            warmup: None,
            window: None,
            name: None,
            per: None,
        };
        let mut keys = Keys::new("hedge", VALID, RENAMED);
        let mut per = PerKeys::default();
        let mut percentile_only: Vec<Ident> = Vec::new();
        for (name, key, value) in keys.accepted(args, errors) {
            if PERCENTILE_ONLY.contains(&name.as_str()) {
                percentile_only.push(key.clone());
            }
            if let Some(parsed) = per.take(&name, &key, &value) {
                if let Err(e) = parsed {
                    errors.push(e);
                }
                continue;
            }
            let parsed: syn::Result<()> = match name.as_str() {
                "after" => setting(&HEDGE, "after", &value).map(|v| {
                    if let Setting::After(a) = v {
                        out.after = a;
                    }
                }),
                "max" => max(&value).map(|n| out.max = n),
                "budget" => setting(&HEDGE, "budget", &value).map(|v| {
                    if let Setting::Budget(ratio) = v {
                        out.budget = Some(ratio);
                    }
                }),
                "warmup" => setting(&HEDGE, "warmup", &value)
                    .map(|v| out.warmup = v.count().map(|n| n as u32)),
                "window" => duration(&value, false).map(|d| out.window = Some(d.value)),
                "name" => policy_name(&value).map(|n| out.name = Some(n)),
                _ => unreachable!("every valid key is handled"),
            };
            if let Err(e) = parsed {
                errors.push(e);
            }
        }
        if let After::Fixed(d) = out.after {
            for key in percentile_only {
                errors.error(
                    &key,
                    format!(
                        "`{key}` only applies to a percentile `after` like \"p95\"; a fixed `after = \"{}\"` learns nothing from latencies",
                        resilient_spec::duration::display(d)
                    ),
                );
            }
        }
        out.per = per.finish("hedge", errors);
        out
    }
}

/// `max = 1` gets its own message: one attempt is no hedging at all.
fn max(value: &Expr) -> syn::Result<u32> {
    if let Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. }) = value
        && i.base10_parse::<u64>().ok() == Some(1)
    {
        return Err(syn::Error::new_spanned(
            value,
            "`max = 1` would never hedge: `max` counts attempts in all, the first included; write `max = 2` for one hedge, or remove `#[hedge]`",
        ));
    }
    setting(&HEDGE, "max", value).map(|v| v.count().map_or(2, |n| n as u32))
}
