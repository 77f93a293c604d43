//! `#[idempotent(...)]` arguments.

use std::time::Duration;

use syn::{Expr, LitStr};

use super::{Arg, Keys, duration, lit_int, lit_str, policy_name};
use crate::errors::Errors;

pub(crate) struct IdempotentArgs {
    pub(crate) key: Option<Expr>,
    /// `None`: the runtime's default (`DEFAULT_TTL`, 24 h).
    pub(crate) ttl: Option<Duration>,
    pub(crate) store: Option<LitStr>,
    pub(crate) fingerprint: Option<Expr>,
    pub(crate) max_entries: Option<u64>,
    pub(crate) wait_in_flight: Option<Duration>,
    pub(crate) name: Option<LitStr>,
    /// `Some(true)`: `on_store_error = "local"`; `Some(false)`: `"fail"`.
    pub(crate) on_store_error_local: Option<bool>,
}

const VALID: &[&str] = &[
    "key",
    "ttl",
    "store",
    "fingerprint",
    "max_entries",
    "wait_in_flight",
    "on_store_error",
    "name",
];
const RENAMED: &[(&str, &str)] = &[
    ("idempotency_key", "use `key = <expression>`"),
    ("expiry", "use `ttl`: how long a result is kept"),
    ("expire", "use `ttl`: how long a result is kept"),
    ("duration", "use `ttl`: how long a result is kept"),
    (
        "per",
        "`#[idempotent]` already keeps one result per `key`; `per` partitions `circuit_breaker`, adaptive `timeout` and `retry`",
    ),
    ("max_partitions", "use `max_entries`: the most results the in-process store keeps"),
];

impl IdempotentArgs {
    pub(crate) fn parse(args: Vec<Arg>, errors: &mut Errors) -> Self {
        let mut out = IdempotentArgs {
            key: None,
            ttl: None,
            store: None,
            fingerprint: None,
            max_entries: None,
            wait_in_flight: None,
            name: None,
            on_store_error_local: None,
        };
        let mut keys = Keys::new("idempotent", VALID, RENAMED);
        let (mut wait_key, mut max_key) = (None::<syn::Ident>, None::<syn::Ident>);
        let mut on_error_key = None::<syn::Ident>;
        for (name, key, value) in keys.accepted(args, errors) {
            match name.as_str() {
                "wait_in_flight" => wait_key = Some(key.clone()),
                "max_entries" => max_key = Some(key.clone()),
                "on_store_error" => on_error_key = Some(key.clone()),
                _ => {}
            }
            let parsed: syn::Result<()> = match name.as_str() {
                "key" => {
                    out.key = Some(value);
                    Ok(())
                }
                "ttl" => duration(&value, false).map(|d| out.ttl = Some(d.value)),
                "store" => lit_str(
                    &value,
                    "the name of a store registered at start-up, like `store = \"redis\"`",
                )
                .map(|s| out.store = Some(s)),
                "fingerprint" => {
                    out.fingerprint = Some(value);
                    Ok(())
                }
                "max_entries" => {
                    lit_int(&value, "the most results the in-process store keeps", 1, u64::MAX)
                        .map(|n| out.max_entries = Some(n))
                }
                "wait_in_flight" => {
                    duration(&value, false).map(|d| out.wait_in_flight = Some(d.value))
                }
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
        if let (Some(_), None) = (&out.wait_in_flight, &out.store)
            && let Some(k) = wait_key
        {
            errors.error(&k, "`wait_in_flight` applies to shared stores (`store = \"...\"`); in process, duplicates always wait for the first call");
        }
        if let (Some(_), None) = (&out.on_store_error_local, &out.store)
            && let Some(k) = on_error_key
        {
            errors.error(&k, "`on_store_error` says what a call gets when its shared store fails, and this function has none: remove it, or keep results in a shared store with `store = \"<registered name>\"`");
        }
        if let (Some(_), Some(_)) = (&out.max_entries, &out.store)
            && let Some(k) = max_key
        {
            errors.error(&k, "`max_entries` bounds the in-process store; a shared store (`store = \"...\"`) is bounded by its own configuration");
        }
        out
    }
}

/// `"fail"` (false) or `"local"` (true).
fn on_store_error(value: &Expr) -> syn::Result<bool> {
    const WHAT: &str = "`\"fail\"` (the call fails with `resilient::Error::Store`) or `\"local\"` (the call goes on with the in-process store)";
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
