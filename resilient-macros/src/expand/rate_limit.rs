//! `#[rate_limit]`: its static's initialiser and its layer of the pipeline.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;

use super::pipeline::{Built, reject_label};
use crate::args::RateLimitArgs;
use crate::duration::duration_tokens;
use crate::item::ReplaceSelf;

/// Input: the parsed arguments and the name expression. Output: the builder call, e.g.
/// ```text
/// RateLimiter::builder(100, Duration::new(1, 0)).name(NAME).burst(20).wait(..).build()
/// ```
pub(crate) fn init(r: &RateLimitArgs, name: TokenStream) -> TokenStream {
    let p = quote!(::resilient::__private);
    let count = r.count;
    let per = duration_tokens(r.per_period);
    let burst = r.burst.map(|b| quote!(.burst(#b)));
    let wait = r.wait.map(|d| {
        let d = duration_tokens(d);
        quote!(.wait(#d))
    });
    let store = r.store.as_ref().map(|s| quote!(.store(#s)));
    let on_error = r.on_store_error_local.map(|local| {
        let variant = if local { quote!(Local) } else { quote!(Fail) };
        quote!(.on_store_error(#p::OnStoreError::#variant))
    });
    quote!(#p::RateLimiter::builder(#count, #per).name(#name)#burst #wait #store #on_error.build())
}

/// Input: the layer's policy (its static or this call's partition) and the future of the layers
/// inside. Output: a future that runs them once the limiter admits the call:
/// ```text
/// async move { 'layer: {
///     if let Err(pending) = POLICY.try_acquire() {
///         if let Err(rejected) = pending.wait().await { break 'layer Err(rejected); }
///     }
///     INNER.await
/// } }
/// ```
/// Admitted at once, the call touches no future of the limiter's: `wait` runs only over the
/// limit (or with a shared store).
///
/// A shared limit per key (`per` with `store`) also passes the key's text to the store:
/// `let key = store_key(&(PER)); .. pending.wait_keyed(Some(&key))`.
pub(crate) fn layer(
    r: &RateLimitArgs,
    policy: &Ident,
    has_receiver: bool,
    inner: TokenStream,
    dot_await: TokenStream,
) -> Built {
    let pending = format_ident!("__resilient_pending", span = Span::mixed_site());
    let rejected = format_ident!("__resilient_rejected", span = Span::mixed_site());
    let key = format_ident!("__resilient_store_key", span = Span::mixed_site());
    let (keyed, wait) = match (&r.store, &r.per) {
        (Some(_), Some(per)) => {
            let mut expr = per.expr.clone();
            if has_receiver {
                ReplaceSelf.visit_expr_mut(&mut expr);
            }
            // Spanned on the expression: a key without `Debug` is blamed there.
            let text = quote_spanned!(expr.span()=> ::resilient::__private::store_key(&(#expr)));
            (
                Some(quote!(let #key = #text;)),
                quote!(wait_keyed(::core::option::Option::Some(&#key))),
            )
        }
        _ => (None, quote!(wait())),
    };
    let label = reject_label();
    Built::Block(quote! {
        { #label: {
            #keyed
            if let ::core::result::Result::Err(#pending) = #policy.try_acquire() {
                if let ::core::result::Result::Err(#rejected) = #pending.#wait.await {
                    break #label ::core::result::Result::Err(#rejected);
                }
            }
            #inner #dot_await
        } }
    })
}
