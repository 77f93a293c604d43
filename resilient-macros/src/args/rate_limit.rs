//! `#[rate_limit("N/s", ...)]` arguments.

use std::time::Duration;

use syn::{Expr, LitStr};

use resilient_spec::{RATE_LIMIT, Setting};

use super::{Arg, Keys, Per, PerKeys, duration, lit_str, policy_name, setting};
use crate::errors::Errors;

pub(crate) struct RateLimitArgs {
    /// N calls per `per`.
    pub(crate) count: u64,
    pub(crate) per_period: Duration,
    pub(crate) burst: Option<u64>,
    pub(crate) wait: Option<Duration>,
    pub(crate) store: Option<LitStr>,
    /// `Some(true)`: `on_store_error = "local"`; `Some(false)`: `"fail"`.
    pub(crate) on_store_error_local: Option<bool>,
    pub(crate) name: Option<LitStr>,
    /// `per = expr`: one limit per distinct value (per user, per tenant).
    pub(crate) per: Option<Per>,
}

const VALID: &[&str] =
    &["burst", "wait", "store", "on_store_error", "name", "per", "max_partitions"];
const RENAMED: &[(&str, &str)] = &[
    ("rate", "give the rate as the first argument: `#[rate_limit(\"100/s\")]`"),
    ("limit", "give the rate as the first argument: `#[rate_limit(\"100/s\")]`"),
    ("per_second", "give the rate as the first argument: `#[rate_limit(\"100/s\")]`"),
    ("capacity", "use `burst`: the calls admitted at once after a quiet spell"),
    ("max_burst", "use `burst`: the calls admitted at once after a quiet spell"),
    ("burst_size", "use `burst`: the calls admitted at once after a quiet spell"),
    ("timeout", "use `wait`: how long a call over the limit may wait for its slot"),
    ("max_wait", "use `wait`: how long a call over the limit may wait for its slot"),
    ("key", "use `per = <expression>` for one limit per value, like `per = user.id`"),
];

impl RateLimitArgs {
    pub(crate) fn parse(args: Vec<Arg>, errors: &mut Errors) -> Self {
        let mut out = RateLimitArgs {
            count: 1,
            per_period: Duration::from_secs(1),
            burst: None,
            wait: None,
            store: None,
            on_store_error_local: None,
            name: None,
            per: None,
        };
        let mut keys = Keys::new("rate_limit", VALID, RENAMED);
        let mut per = PerKeys::default();
        let mut args = args.into_iter().peekable();
        match args.peek() {
            Some(Arg::Positional(_)) => {
                let Some(Arg::Positional(value)) = args.next() else { unreachable!() };
                match setting(&RATE_LIMIT, "rate", &value) {
                    Ok(Setting::Rate { count, per }) => (out.count, out.per_period) = (count, per),
                    Ok(_) => unreachable!("`rate` parses to a rate"),
                    Err(e) => errors.push(e),
                }
            }
            // `rate = "..."` as a key: reported as a renamed key, which says the same.
            Some(Arg::KeyValue { key, .. }) if RENAMED[..3].iter().any(|(k, _)| key == k) => {}
            _ => errors.push(syn::Error::new(
                proc_macro2::Span::call_site(),
                format!(
                    "`#[rate_limit]` needs its rate first: {}, e.g. `#[rate_limit(\"100/s\")]`",
                    resilient_spec::value::RATE
                ),
            )),
        }
        let mut on_error_key = None::<syn::Ident>;
        for (name, key, value) in keys.accepted(args.collect(), errors) {
            if let Some(parsed) = per.take(&name, &key, &value) {
                if let Err(e) = parsed {
                    errors.push(e);
                }
                continue;
            }
            if name == "on_store_error" {
                on_error_key = Some(key.clone());
            }
            let parsed: syn::Result<()> = match name.as_str() {
                "burst" => setting(&RATE_LIMIT, "burst", &value).map(|v| out.burst = v.count()),
                "wait" => duration(&value, true).map(|d| out.wait = Some(d.value)),
                "store" => lit_str(
                    &value,
                    "the name of a rate limit store registered at start-up, like `store = \"redis\"`",
                )
                .and_then(|s| match s.value().trim().is_empty() {
                    true => Err(syn::Error::new(s.span(), "the store name must not be empty: write the name a store was registered under with `resilient::runtime::rate_limit::register_store`")),
                    false => Ok(s),
                })
                .map(|s| out.store = Some(s)),
                "on_store_error" => {
                    on_store_error(&value).map(|l| out.on_store_error_local = Some(l))
                }
                "name" => policy_name(&value).map(|n| out.name = Some(n)),
                _ => unreachable!("every valid key is handled"),
            };
            if let Err(e) = parsed {
                errors.push(e);
            }
        }
        out.per = per.finish("rate_limit", errors);
        if let (Some(_), None) = (&out.on_store_error_local, &out.store)
            && let Some(k) = on_error_key
        {
            errors.error(&k, "`on_store_error` says what a call gets when its shared store fails, and this limit has none: remove it, or share the limit with `store = \"<registered name>\"`");
        }
        out
    }
}

/// `"fail"` (false) or `"local"` (true).
fn on_store_error(value: &Expr) -> syn::Result<bool> {
    const WHAT: &str = "`\"fail\"` (the call fails with `resilient::Error::Store`) or `\"local\"` (the call is limited by the in-process limiter until the store answers again)";
    let s = lit_str(value, WHAT)?;
    match s.value().as_str() {
        "fail" => Ok(false),
        "local" => Ok(true),
        other => Err(syn::Error::new(
            s.span(),
            format!("`on_store_error = \"{other}\"`: expected {WHAT}"),
        )),
    }
}
