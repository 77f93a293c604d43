//! Typed attribute arguments: parsed with `syn`, checked while parsing, every error spanned on
//! the offending token and collected so one expansion reports them all.

mod breaker;
mod bulkhead;
mod fallback;
mod hedge;
mod idempotent;
mod per;
mod rate_limit;
mod retry;
mod timeout;
mod values;

pub(crate) use breaker::CircuitBreakerArgs;
pub(crate) use bulkhead::{BulkheadArgs, BulkheadMax};
pub(crate) use fallback::{FallbackArgs, FallbackFn};
pub(crate) use hedge::HedgeArgs;
pub(crate) use idempotent::IdempotentArgs;
pub(crate) use per::{Per, PerKeys};
pub(crate) use rate_limit::RateLimitArgs;
pub(crate) use retry::{BackoffKind, JitterKind, RetryArgs};
pub(crate) use timeout::{TimeoutArgs, TimeoutRule};

use proc_macro2::TokenStream;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitStr, Token};

use crate::errors::Errors;

/// One argument: `key = value`, or a bare value (the first argument of `#[timeout]`).
pub(crate) enum Arg {
    KeyValue { key: Ident, value: Expr },
    Positional(Expr),
}

impl Parse for Arg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(Ident::peek_any) && input.peek2(Token![=]) && !input.peek2(Token![==]) {
            let key = Ident::parse_any(input)?;
            input.parse::<Token![=]>()?;
            let value = input.parse()?;
            Ok(Arg::KeyValue { key, value })
        } else {
            Ok(Arg::Positional(input.parse()?))
        }
    }
}

/// Parses the attribute's argument list.
pub(crate) fn parse_list(tokens: TokenStream) -> syn::Result<Vec<Arg>> {
    let list = Punctuated::<Arg, Token![,]>::parse_terminated.parse2(tokens)?;
    Ok(list.into_iter().collect())
}

/// The keys one attribute accepts, and which were seen: rejects unknown and duplicate keys at
/// the offending token, listing the valid ones.
pub(crate) struct Keys {
    attr: &'static str,
    valid: &'static [&'static str],
    renamed: &'static [(&'static str, &'static str)],
    seen: Vec<Ident>,
}

impl Keys {
    pub(crate) fn new(
        attr: &'static str,
        valid: &'static [&'static str],
        renamed: &'static [(&'static str, &'static str)],
    ) -> Self {
        Self { attr, valid, renamed, seen: Vec::new() }
    }

    /// The key's name when it is valid and new; otherwise records why not.
    pub(crate) fn accept(&mut self, key: &Ident, errors: &mut Errors) -> Option<String> {
        let name = key.unraw().to_string();
        if !self.valid.contains(&name.as_str()) {
            let valid = self.valid.join(", ");
            let run_time_only = resilient_spec::kind(self.attr)
                .is_ok_and(|kind| kind.keys.iter().any(|k| k.name == name));
            let hint = match self.renamed.iter().find(|(old, _)| *old == name) {
                Some((_, advice)) => format!("; {advice}"),
                None if run_time_only => format!(
                    "; `{name}` is an operator's setting: set it at run time with a configuration \
                     table `[\"<policy name>\".{}]` (see `resilient::config`), not in source",
                    self.attr
                ),
                None => match closest(&name, self.valid) {
                    Some(near) => format!("; did you mean `{near}`?"),
                    None => String::new(),
                },
            };
            errors.error(
                key,
                format!(
                    "unknown `#[{}]` argument `{name}`{hint}\nvalid arguments: {valid}",
                    self.attr
                ),
            );
            return None;
        }
        if let Some(first) = self.seen.iter().find(|k| k.unraw() == name) {
            let mut e = syn::Error::new(
                key.span(),
                format!("`{name}` is given twice in `#[{}]`", self.attr),
            );
            e.combine(syn::Error::new(first.span(), format!("first `{name}` is here")));
            errors.push(e);
            return None;
        }
        self.seen.push(key.clone());
        Some(name)
    }

    /// The `key = value` arguments whose keys are valid and new, with their names; every other
    /// argument is reported.
    pub(crate) fn accepted(
        &mut self,
        args: Vec<Arg>,
        errors: &mut Errors,
    ) -> Vec<(String, Ident, Expr)> {
        let mut out = Vec::new();
        for arg in args {
            match arg {
                Arg::KeyValue { key, value } => {
                    if let Some(name) = self.accept(&key, errors) {
                        out.push((name, key, value));
                    }
                }
                Arg::Positional(value) => self.positional(&value, errors),
            }
        }
        out
    }

    /// A positional argument where only `key = value` is accepted.
    pub(crate) fn positional(&self, value: &Expr, errors: &mut Errors) {
        errors.error(
            value,
            format!(
                "`#[{}]` takes `key = value` arguments; valid keys: {}",
                self.attr,
                self.valid.join(", ")
            ),
        );
    }
}

/// The valid key nearest to a misspelt one, if it is near enough to be the likely intent (the
/// rule configuration files get too).
fn closest<'a>(name: &str, valid: &[&'a str]) -> Option<&'a str> {
    resilient_spec::suggest::closest(name, valid.iter().copied())
}

/// A `name = "..."` value: a non-empty string.
pub(crate) fn policy_name(value: &Expr) -> syn::Result<LitStr> {
    let lit = values::lit_str(value, "a policy name in quotes, like `name = \"payments-db\"`")?;
    if lit.value().trim().is_empty() {
        return Err(syn::Error::new(lit.span(), "the policy name must not be empty"));
    }
    Ok(lit)
}

pub(crate) use values::{duration, lit_int, lit_str, setting};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_near_misses_only() {
        let valid = &["max", "backoff", "base", "max_delay", "jitter", "when", "budget"];
        assert_eq!(closest("maxx", valid), Some("max"));
        assert_eq!(closest("jiter", valid), Some("jitter"));
        assert_eq!(closest("bakoff", valid), Some("backoff"));
        assert_eq!(closest("colour", valid), None);
    }
}
