//! Literal values inside attribute arguments, each error saying what is accepted.

use syn::{Expr, ExprLit, Lit, LitStr};

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
    let s = lit_str(expr, &format!("a duration in quotes: {}", crate::duration::ACCEPTED))?;
    DurationLit::parse(&s, allow_zero)
}

/// An integer literal within `min..=max`.
pub(crate) fn lit_int(expr: &Expr, what: &str, min: u64, max: u64) -> syn::Result<u64> {
    let value = match lit(expr) {
        Some(Lit::Int(i)) => i.base10_parse::<u64>().ok(),
        _ => None,
    };
    match value {
        Some(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(syn::Error::new_spanned(
            expr,
            format!("expected {what}: a whole number from {min} to {max}"),
        )),
    }
}

/// A number literal (integer or float).
pub(crate) fn lit_float(expr: &Expr, what: &str) -> syn::Result<f64> {
    let value = match lit(expr) {
        Some(Lit::Float(f)) => f.base10_parse::<f64>().ok(),
        Some(Lit::Int(i)) => i.base10_parse::<f64>().ok(),
        _ => None,
    };
    value.ok_or_else(|| syn::Error::new_spanned(expr, format!("expected {what}")))
}
