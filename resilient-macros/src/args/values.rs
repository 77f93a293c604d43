//! Literal values inside attribute arguments, each error saying what is accepted.

use syn::{Expr, ExprLit, Lit, LitStr};

use resilient_spec::{Kind, Setting, Type, Value};

use crate::duration::DurationLit;

fn lit(expr: &Expr) -> Option<&Lit> {
    match expr {
        Expr::Lit(ExprLit { lit, .. }) => Some(lit),
        Expr::Group(g) => lit(&g.expr),
        _ => None,
    }
}

/// A string literal; `expected` describes what to write instead.
pub(crate) fn lit_str(expr: &Expr, expected: &str) -> syn::Result<LitStr> {
    match lit(expr) {
        Some(Lit::Str(s)) => Ok(s.clone()),
        _ => Err(syn::Error::new_spanned(expr, format!("expected {expected}"))),
    }
}

/// A duration string such as `"250ms"`.
pub(crate) fn duration(expr: &Expr, allow_zero: bool) -> syn::Result<DurationLit> {
    checked(expr, |v| resilient_spec::value::duration_value(v, allow_zero))
        .map(|value| DurationLit { value })
}

/// The value of `kind`'s key `key`, checked by its declaration in `resilient-spec`: the same
/// check and message as a configuration file gets for it.
pub(crate) fn setting(kind: &'static Kind, key: &str, expr: &Expr) -> syn::Result<Setting> {
    let (_, declared) = kind.key(key).unwrap_or_else(|why| panic!("{why}"));
    checked(expr, |v| declared.ty.parse(v))
}

/// Runs a `resilient-spec` parser on the literal `expr`, spanning its message on it.
fn checked<T>(expr: &Expr, parse: impl FnOnce(Value<'_>) -> Result<T, String>) -> syn::Result<T> {
    let text;
    let value = match lit(expr) {
        Some(Lit::Int(i)) => {
            i.base10_parse::<u64>().map_or(Value::Other("a huge number"), |n| Value::Int(n.into()))
        }
        Some(Lit::Float(f)) => {
            f.base10_parse::<f64>().map_or(Value::Other("a number"), Value::Float)
        }
        Some(Lit::Str(s)) => {
            text = s.value();
            Value::Str(&text)
        }
        Some(Lit::Bool(b)) => Value::Bool(b.value),
        _ => Value::Other("an expression"),
    };
    parse(value).map_err(|message| match lit(expr) {
        Some(Lit::Str(s)) => syn::Error::new(s.span(), message),
        _ => syn::Error::new_spanned(expr, message),
    })
}

/// An integer literal within `min..=max`.
pub(crate) fn lit_int(expr: &Expr, what: &'static str, min: u64, max: u64) -> syn::Result<u64> {
    let count = Type::Count { what, min, max, zero: None };
    checked(expr, |v| count.parse(v)).map(|s| s.count().unwrap_or_default())
}
