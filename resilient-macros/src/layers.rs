//! The resilient attributes stacked on one function, outermost first, fused into one pipeline.

use proc_macro2::{Span, TokenStream};
use syn::spanned::Spanned;
use syn::{Attribute, Meta};

use crate::args::BulkheadArgs;
use crate::args::FallbackArgs;
use crate::args::HedgeArgs;
use crate::args::RateLimitArgs;
use crate::args::{self, CircuitBreakerArgs, IdempotentArgs, RetryArgs, TimeoutArgs, TimeoutRule};
use crate::errors::Errors;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Retry,
    CircuitBreaker,
    Timeout,
    Idempotent,
    Bulkhead,
    Fallback,
    Hedge,
    RateLimit,
}

impl Kind {
    pub(crate) fn from_name(name: &str) -> Option<Kind> {
        [
            Kind::Retry,
            Kind::CircuitBreaker,
            Kind::Timeout,
            Kind::Idempotent,
            Kind::Bulkhead,
            Kind::Fallback,
            Kind::Hedge,
            Kind::RateLimit,
        ]
        .into_iter()
        .find(|k| k.name() == name)
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Retry => "retry",
            Kind::CircuitBreaker => "circuit_breaker",
            Kind::Timeout => "timeout",
            Kind::Idempotent => "idempotent",
            Kind::Bulkhead => "bulkhead",
            Kind::Fallback => "fallback",
            Kind::Hedge => "hedge",
            Kind::RateLimit => "rate_limit",
        }
    }

    /// Recognises `#[retry]`, `#[resilient::retry]` and `#[::resilient::retry]` (and likewise for
    /// the others). Renamed imports are not recognised; they expand on their own, nested.
    pub(crate) fn of(attr: &Attribute) -> Option<Kind> {
        let path = attr.path();
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let last = match segments.as_slice() {
            [only] if path.leading_colon.is_none() => only,
            [krate, last] if krate == "resilient" => last,
            _ => return None,
        };
        Kind::from_name(last)
    }
}

pub(crate) enum Layer {
    Retry(RetryArgs),
    CircuitBreaker(CircuitBreakerArgs),
    Timeout(TimeoutArgs),
    Idempotent(IdempotentArgs),
    Bulkhead(BulkheadArgs),
    Fallback(FallbackArgs),
    Hedge(HedgeArgs),
    RateLimit(RateLimitArgs),
}

impl Layer {
    pub(crate) fn parse(kind: Kind, tokens: TokenStream, errors: &mut Errors) -> Option<Layer> {
        let list = match args::parse_list(tokens) {
            Ok(list) => list,
            Err(e) => {
                errors.push(e);
                return None;
            }
        };
        Some(match kind {
            Kind::Retry => Layer::Retry(RetryArgs::parse(list, errors)),
            Kind::CircuitBreaker => Layer::CircuitBreaker(CircuitBreakerArgs::parse(list, errors)),
            Kind::Timeout => Layer::Timeout(TimeoutArgs::parse(list, errors)),
            Kind::Idempotent => Layer::Idempotent(IdempotentArgs::parse(list, errors)),
            Kind::Bulkhead => Layer::Bulkhead(BulkheadArgs::parse(list, errors)),
            Kind::Fallback => Layer::Fallback(FallbackArgs::parse(list, errors)),
            Kind::Hedge => Layer::Hedge(HedgeArgs::parse(list, errors)),
            Kind::RateLimit => Layer::RateLimit(RateLimitArgs::parse(list, errors)),
        })
    }

    /// Layers that can turn a call away with a `resilient::Error`, which needs `E: From<Error>`.
    pub(crate) fn rejects(&self) -> bool {
        if matches!(self, Layer::Fallback(_)) {
            return false;
        }
        !matches!(self, Layer::Retry(_) | Layer::Hedge(_))
    }
}

/// The resilient attributes below the one being expanded, in source order, all fused into one
/// pipeline (an attribute macro of another crate among them ends up wrapping the whole pipeline).
/// They stay on the function with their arguments replaced by [`CONSUMED`], so their imports
/// count as used and they expand to nothing. The same kind twice is an error at the second,
/// which is removed.
pub(crate) fn stacked_run(
    seen: &mut Vec<Kind>,
    attrs: &mut Vec<Attribute>,
    errors: &mut Errors,
) -> Vec<(Kind, TokenStream, Span)> {
    let mut run = Vec::new();
    attrs.retain_mut(|attr| {
        let Some(kind) = Kind::of(attr) else { return true };
        let tokens = match &attr.meta {
            Meta::Path(_) => TokenStream::new(),
            Meta::List(list) => list.tokens.clone(),
            Meta::NameValue(nv) => {
                let message = format!("write `#[{}(...)]`, with the arguments in parentheses", kind.name());
                errors.error(nv, message);
                return false;
            }
        };
        if seen.contains(&kind) {
            errors.error(
                attr,
                format!(
                    "`#[{}]` is already on this function; one layer of each kind is enough: merge the arguments into one attribute",
                    kind.name()
                ),
            );
            return false;
        }
        seen.push(kind);
        run.push((kind, tokens, attr.span()));
        let path = attr.path().clone();
        attr.meta = syn::parse_quote!(#path(__resilient_consumed));
        true
    });
    run
}

/// The arguments a fused attribute is left with: it has been applied already.
pub(crate) fn is_consumed(args: &TokenStream) -> bool {
    let mut tokens = args.clone().into_iter();
    matches!((tokens.next(), tokens.next()), (Some(proc_macro2::TokenTree::Ident(i)), None) if i == "__resilient_consumed")
}

/// Built-in and tool attributes that do not touch the body.
pub(crate) fn is_inert(attr: &Attribute) -> bool {
    const INERT: &[&str] = &[
        "doc",
        "must_use",
        "allow",
        "warn",
        "deny",
        "forbid",
        "expect",
        "inline",
        "cold",
        "track_caller",
        "deprecated",
        "cfg",
        "no_mangle",
        "export_name",
        "link_section",
    ];
    let path = attr.path();
    match path.segments.first() {
        Some(first) if path.segments.len() > 1 => {
            ["rustfmt", "clippy", "diagnostic"].iter().any(|t| first.ident == t)
        }
        Some(only) => INERT.iter().any(|n| only.ident == n),
        None => true,
    }
}

/// Settings of neighbouring layers that contradict each other.
pub(crate) fn check_combination(layers: &[(Layer, proc_macro2::Span)], errors: &mut Errors) {
    for (i, (outer, span)) in layers.iter().enumerate() {
        let Layer::Timeout(TimeoutArgs { rule: TimeoutRule::Fixed(limit), .. }) = outer else {
            continue;
        };
        let retry = layers[i + 1..].iter().find_map(|(l, _)| match l {
            Layer::Retry(r) => Some(r),
            _ => None,
        });
        if let Some(r) = retry
            && r.max > 1
            && r.base >= *limit
        {
            errors.push(syn::Error::new(
                    *span,
                    format!(
                        "this timeout ({limit:?}) bounds all attempts of the `#[retry]` below it, whose first delay is {:?}: \
                         no retry could ever start. Put `#[timeout]` below `#[retry]` to bound each attempt, raise the timeout, or lower `base`",
                        r.base
                    ),
                ));
        }
    }
}
