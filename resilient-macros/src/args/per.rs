//! `per = expr` and `max_partitions = N`: one policy instance per distinct value of `expr`.

use syn::{Expr, Ident};

use super::lit_int;
use crate::errors::Errors;

/// A partitioned layer's key expression and bound.
pub(crate) struct Per {
    pub(crate) expr: Expr,
    /// `None`: the runtime's default (`DEFAULT_MAX_PARTITIONS`, 1024).
    pub(crate) max: Option<u64>,
}

/// Collects the two keys while an attribute's arguments are parsed.
#[derive(Default)]
pub(crate) struct PerKeys {
    per: Option<Expr>,
    max: Option<(u64, Ident)>,
}

impl PerKeys {
    /// Takes `per` or `max_partitions`; `None` for any other key.
    pub(crate) fn take(
        &mut self,
        name: &str,
        key: &Ident,
        value: &Expr,
    ) -> Option<syn::Result<()>> {
        match name {
            "per" => Some(per_expr(value).map(|e| self.per = Some(e))),
            "max_partitions" => Some(match lit_int(value, "", 0, 0) {
                Ok(_) => Err(syn::Error::new_spanned(
                    value,
                    "`max_partitions = 0` would keep no partition at all: write at least 1 (the default is 1024)",
                )),
                Err(_) => lit_int(
                    value,
                    "the most partitions kept alive at once (default 1024)",
                    1,
                    1 << 32,
                )
                .map(|n| self.max = Some((n, key.clone()))),
            }),
            _ => None,
        }
    }

    /// The keys as a whole: `max_partitions` needs `per`.
    pub(crate) fn finish(self, attr: &str, errors: &mut Errors) -> Option<Per> {
        match (self.per, self.max) {
            (Some(expr), max) => Some(Per { expr, max: max.map(|(n, _)| n) }),
            (None, Some((_, key))) => {
                errors.error(
                    &key,
                    format!("`max_partitions` bounds the partitions of `per`, which this `#[{attr}]` lacks; add `per = <expression>` (like `per = self.addr`) or remove it"),
                );
                None
            }
            (None, None) => None,
        }
    }
}

/// The key expression; a literal would put every call in one partition.
fn per_expr(value: &Expr) -> syn::Result<Expr> {
    let mut inner = value;
    loop {
        inner = match inner {
            Expr::Group(g) => &g.expr,
            Expr::Paren(p) => &p.expr,
            _ => break,
        };
    }
    match inner {
        Expr::Lit(_) => Err(syn::Error::new_spanned(
            value,
            "`per` takes an expression over the arguments (like `per = self.addr` or `per = user_id`); a literal would put every call in the same partition",
        )),
        _ => Ok(value.clone()),
    }
}
