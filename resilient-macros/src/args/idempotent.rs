//! `#[idempotent(...)]` arguments.

use std::time::Duration;

use syn::{Expr, LitStr};

use super::{Arg, Keys, duration, lit_str, policy_name};
use crate::errors::Errors;

pub(crate) struct IdempotentArgs {
    pub(crate) key: Option<Expr>,
    pub(crate) ttl: Duration,
    pub(crate) store: Option<LitStr>,
    pub(crate) fingerprint: Option<Expr>,
    pub(crate) name: Option<LitStr>,
}

const VALID: &[&str] = &["key", "ttl", "store", "fingerprint", "name"];
const RENAMED: &[(&str, &str)] = &[
    ("idempotency_key", "use `key = <expression>`"),
    ("expiry", "use `ttl`: how long a result is kept"),
    ("expire", "use `ttl`: how long a result is kept"),
    ("duration", "use `ttl`: how long a result is kept"),
];

impl IdempotentArgs {
    pub(crate) fn parse(args: Vec<Arg>, errors: &mut Errors) -> Self {
        let mut out = IdempotentArgs {
            key: None,
            ttl: Duration::from_secs(24 * 3600),
            store: None,
            fingerprint: None,
            name: None,
        };
        let mut keys = Keys::new("idempotent", VALID, RENAMED);
        for arg in args {
            let (key, value) = match arg {
                Arg::KeyValue { key, value } => (key, value),
                Arg::Positional(value) => {
                    keys.positional(&value, errors);
                    continue;
                }
            };
            let Some(name) = keys.accept(&key, errors) else {
                continue;
            };
            let parsed: syn::Result<()> = match name.as_str() {
                "key" => {
                    out.key = Some(value);
                    Ok(())
                }
                "ttl" => duration(&value, false).map(|d| out.ttl = d.value),
                "store" => lit_str(
                    &value,
                    "the name of a store registered at start-up, like `store = \"redis\"`",
                )
                .map(|s| out.store = Some(s)),
                "fingerprint" => {
                    out.fingerprint = Some(value);
                    Ok(())
                }
                "name" => policy_name(&value).map(|n| out.name = Some(n)),
                _ => unreachable!("every valid key is handled"),
            };
            if let Err(e) = parsed {
                errors.push(e);
            }
        }
        out
    }
}
