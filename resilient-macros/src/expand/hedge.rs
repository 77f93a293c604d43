//! `#[hedge]`: its static, its layer (attempts built by a closure, each with its own copies of
//! the owned arguments) and the checks only the whole function allows.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{FnArg, Signature, Type};

use super::pipeline::{Ctx, duplicate_argument};
use crate::args::HedgeArgs;
use crate::duration::duration_tokens;
use crate::errors::Errors;
use crate::item::Binding;
use crate::layers::Layer;

/// Input: the parsed `#[hedge]` and the name expression. Output: the static's type and
/// initialiser, `Hedge::builder(HedgeAfter::..).name(..).max_attempts(..)...build()`.
pub(crate) fn declare(h: &HedgeArgs, name: TokenStream) -> (TokenStream, TokenStream) {
    let p = quote!(::resilient::__private);
    let after = match h.after {
        resilient_spec::After::Fixed(d) => {
            let d = duration_tokens(d);
            quote!(#p::HedgeAfter::Fixed(#d))
        }
        resilient_spec::After::Percentile(pct) => quote!(#p::HedgeAfter::Percentile(#pct)),
    };
    let max = h.max;
    let budget = match h.budget {
        None => quote!(::core::option::Option::Some(#p::default_hedge_budget())),
        Some(None) => quote!(::core::option::Option::None),
        Some(Some(ratio)) => quote!(::core::option::Option::Some(#p::BudgetSettings {
            ratio: #ratio,
            ..#p::default_hedge_budget()
        })),
    };
    let warmup = h.warmup.map(|w| quote!(.warmup(#w)));
    let window = h.window.map(|d| {
        let d = duration_tokens(d);
        quote!(.window(#d))
    });
    (
        quote!(#p::Hedge),
        quote! {
            #p::Hedge::builder(#after)
                .name(#name)
                .max_attempts(#max)
                .budget(#budget)
                #warmup
                #window
                .build()
        },
    )
}

/// Input: the hedge layer at `index` and the future expression of the layers inside it.
/// Output:
/// ```text
/// { let mut __resilient_reuse_x = Reuse::new(x);
///   L<index>.guard(move |__resilient_last| {
///       let x = __resilient_reuse_x.next(__resilient_last, <T as HedgeArgument>::duplicate);
///       <inner>
///   }) }
/// ```
/// Each attempt gets its own copy of every owned argument (the last one allowed the original);
/// references are shared by the attempts, which run in the caller's task.
pub(crate) fn layer(ctx: &Ctx<'_>, index: usize, inner: TokenStream) -> TokenStream {
    let policy = super::partition::policy(ctx.layers, index);
    let last = format_ident!("__resilient_last", span = Span::mixed_site());
    // `&mut` arguments are a compile error before generation (`check`): only owned ones remain
    // to copy, and shared ones are used by every attempt as they are.
    let (keep, rebind) =
        super::pipeline::reuse_arguments(ctx.bindings, true, argument, &quote!(#last));
    quote! {{
        #(#keep)*
        #policy.guard(move |#last: bool| {
            #(#rebind)*
            #inner
        })
    }}
}

fn argument(b: &Binding) -> TokenStream {
    duplicate_argument(b, ["HedgeReceiver", "HedgeGenericArgument", "HedgeArgument"])
}

/// What a hedged `async fn` (`boxed`: an `#[async_trait]` method, async all the same) cannot
/// be: one whose attempts would need the same `&mut` borrow at once, or one whose
/// attempts would share an idempotency key.
pub(crate) fn check(layers: &[(Layer, Span)], sig: &Signature, boxed: bool, errors: &mut Errors) {
    let Some(at) = layers.iter().position(|(l, _)| matches!(l, Layer::Hedge(_))) else {
        return;
    };
    // A sync fn is reported by `sync_pipeline::check`, with every other attribute a sync fn
    // cannot take; the `&mut` check below is about concurrent attempts, moot there.
    if sig.asyncness.is_none() && !boxed {
        return;
    }
    for input in &sig.inputs {
        let mutable = match input {
            FnArg::Receiver(r) => match (&r.reference, &*r.ty) {
                (Some(_), _) => r.mutability.map(|m| m.span()),
                (None, Type::Reference(t)) => t.mutability.map(|m| m.span()),
                _ => None,
            },
            FnArg::Typed(t) => match &*t.ty {
                Type::Reference(r) => r.mutability.map(|m| m.span()),
                _ => None,
            },
        };
        if let Some(span) = mutable {
            let what = match input {
                FnArg::Receiver(_) => "`&mut self`",
                FnArg::Typed(_) => "a `&mut` argument",
            };
            let instead = match input {
                FnArg::Receiver(_) => {
                    "take `&self` (with the mutable state behind a lock or an atomic)"
                }
                FnArg::Typed(_) => {
                    "take a shared reference `&T` (with the mutable state behind a lock) or an owned `Clone` value"
                }
            };
            errors.push(syn::Error::new(
                span,
                format!(
                    "`#[hedge]` runs attempts at the same time, and they cannot all hold {what}: one `&mut` borrow cannot be shared; {instead}, or remove `#[hedge]` (on an `impl` block, `#[resilient::skip]` on this method leaves it out)"
                ),
            ));
        }
    }
    if let Some((_, span)) =
        layers[at + 1..].iter().find(|(l, _)| matches!(l, Layer::Idempotent(_)))
    {
        errors.push(syn::Error::new(
            *span,
            "this `#[idempotent]` is below `#[hedge]`, so every attempt of a hedged call carries the same key: a hedge would only wait for the first attempt's result. Put `#[idempotent]` above `#[hedge]`",
        ));
    }
}
