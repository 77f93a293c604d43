//! `#[fallback(f, on = pred)]` arguments.

use proc_macro2::Span;
use syn::{Expr, ExprPath, Ident, LitStr};

use super::{Arg, Keys, policy_name};
use crate::errors::Errors;

/// The fallback function, as the attribute names it.
pub(crate) enum FallbackFn {
    /// A path to a fn: `cached_user`, `Self::cached`, `crate::cache::get::<User>`.
    Path(ExprPath),
    /// A method of the receiver: `self.cached`, called as `self.cached(e)`.
    Method { receiver: Span, method: Ident },
}

impl FallbackFn {
    /// Where errors about the fallback point.
    pub(crate) fn span(&self) -> Span {
        match self {
            FallbackFn::Path(p) => syn::spanned::Spanned::span(p),
            FallbackFn::Method { method, .. } => method.span(),
        }
    }
}

pub(crate) struct FallbackArgs {
    /// `None` only after an error was reported.
    pub(crate) f: Option<FallbackFn>,
    pub(crate) on: Option<Expr>,
    pub(crate) name: Option<LitStr>,
}

const VALID: &[&str] = &["f", "on", "name"];
const STATELESS: &str = "a fallback keeps no state between calls, so there is nothing to partition: \
                         remove it (`per` partitions `circuit_breaker`, adaptive `timeout` and `retry`)";
const RENAMED: &[(&str, &str)] = &[
    (
        "when",
        "use `on = <predicate>`: the errors the fallback answers (`when` is the retry's and the breaker's)",
    ),
    ("if_", "use `on = <predicate>`: the errors the fallback answers"),
    ("predicate", "use `on = <predicate>`: the errors the fallback answers"),
    ("fallback", "name the function first: `#[fallback(cached_user)]`"),
    (
        "method",
        "name the function first: `#[fallback(self.cached)]` or `#[fallback(Self::cached)]`",
    ),
    (
        "fallback_method",
        "name the function first: `#[fallback(self.cached)]` or `#[fallback(Self::cached)]`",
    ),
    ("per", STATELESS),
    ("max_partitions", STATELESS),
];

const SHAPES: &str = "`#[fallback(cached_user)]` (a path to a fn taking the error by value), \
                      `#[fallback(Self::cached)]`, or `#[fallback(self.cached)]` (a method called on the receiver)";

impl FallbackArgs {
    pub(crate) fn parse(args: Vec<Arg>, errors: &mut Errors) -> Self {
        let mut out = FallbackArgs { f: None, on: None, name: None };
        let mut keys = Keys::new("fallback", VALID, RENAMED);
        let mut f_given = false;
        for arg in args {
            let (name, value) = match arg {
                Arg::Positional(value) => ("f".to_owned(), value),
                Arg::KeyValue { key, value } => match keys.accept(&key, errors) {
                    Some(name) => (name, value),
                    None => continue,
                },
            };
            let parsed: syn::Result<()> = match name.as_str() {
                "f" if f_given => Err(syn::Error::new_spanned(
                    &value,
                    "`#[fallback]` takes one fallback function; to pick errors, add `on = <predicate>`",
                )),
                "f" => {
                    f_given = true;
                    function(&value).map(|f| out.f = Some(f))
                }
                "on" => {
                    out.on = Some(value);
                    Ok(())
                }
                "name" => policy_name(&value).map(|n| out.name = Some(n)),
                _ => unreachable!("every valid key is handled"),
            };
            if let Err(e) = parsed {
                errors.push(e);
            }
        }
        if !f_given {
            errors.push(syn::Error::new(
                Span::call_site(),
                format!("`#[fallback]` needs the function that answers errors: write {SHAPES}"),
            ));
        }
        out
    }
}

fn function(value: &Expr) -> syn::Result<FallbackFn> {
    match value {
        Expr::Group(g) => function(&g.expr),
        Expr::Path(p) => Ok(FallbackFn::Path(p.clone())),
        Expr::Field(field) if is_self(&field.base) => match &field.member {
            syn::Member::Named(method) => Ok(FallbackFn::Method {
                receiver: syn::spanned::Spanned::span(&field.base),
                method: method.clone(),
            }),
            syn::Member::Unnamed(_) => Err(not_a_function(value)),
        },
        Expr::Closure(c) => Err(syn::Error::new_spanned(
            c.or1_token,
            format!(
                "`#[fallback]` takes a function, not a closure: move the code into a fn and name it, as {SHAPES}"
            ),
        )),
        Expr::Call(call) => Err(syn::Error::new(
            call.paren_token.span.join(),
            "name the fallback without calling it: the attribute calls it with the error; remove the parentheses",
        )),
        Expr::MethodCall(call) if is_self(&call.receiver) => Err(syn::Error::new(
            call.paren_token.span.join(),
            format!(
                "name the method without calling it: write `self.{}`; the attribute calls it with the error",
                call.method
            ),
        )),
        _ => Err(not_a_function(value)),
    }
}

fn is_self(e: &Expr) -> bool {
    matches!(e, Expr::Path(p) if p.path.is_ident("self"))
}

fn not_a_function(value: &Expr) -> syn::Error {
    syn::Error::new_spanned(value, format!("expected the fallback function: {SHAPES}"))
}
