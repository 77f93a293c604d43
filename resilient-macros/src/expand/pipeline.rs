//! The pipeline: each layer an expression of a future of `Outcome<T, E>`, nested in source order.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Block, Expr, Type};

use super::statics;
use crate::item::{Binding, Passing};
use crate::layers::Layer;

pub(crate) struct Ctx<'a> {
    pub(crate) layers: &'a [Layer],
    pub(crate) bindings: &'a [Binding],
    pub(crate) output: &'a Type,
    pub(crate) default_key: Option<&'a proc_macro2::Ident>,
}

/// Input: the layers from `index` inward and the user's body. Output: an expression evaluating
/// to a future of `Outcome<T, E>` that runs them.
pub(crate) fn build(ctx: &Ctx<'_>, index: usize, body: &Block) -> TokenStream {
    let p = quote!(::resilient::__private);
    let Some(layer) = ctx.layers.get(index) else {
        return innermost(ctx, body);
    };
    let policy = statics::ident(index);
    let inner = || build(ctx, index + 1, body);
    match layer {
        Layer::Timeout(t) => super::cancel::timeout_layer(t, &policy, ctx.bindings, inner()),
        Layer::CircuitBreaker(b) => {
            // Inline rather than `guard(inner, when)`: the inner future is built inside, after
            // the permit, and stored once (a future passed to an `async fn` is kept twice).
            let inner = inner();
            let when = when_or_every_error(b.when.as_ref());
            let permit = format_ident!("__resilient_permit", span = Span::mixed_site());
            let out = format_ident!("__resilient_out", span = Span::mixed_site());
            quote! {
                async move {
                    let #permit = match #policy.try_acquire() {
                        ::core::result::Result::Ok(#permit) => #permit,
                        ::core::result::Result::Err(rejected) => {
                            return ::core::result::Result::Err(rejected);
                        }
                    };
                    let #out = #inner.await;
                    #permit.settle(&#out, #when);
                    #out
                }
            }
        }
        Layer::Idempotent(i) => {
            let inner = inner();
            let key = match (&i.key, ctx.default_key) {
                (Some(k), _) => quote_spanned!(k.span()=> #policy.key(&(#k))),
                (None, Some(ident)) => quote!(#policy.key(&#ident)),
                (None, None) => unreachable!("a missing key is reported before generation"),
            };
            let fingerprint = match &i.fingerprint {
                Some(f) => {
                    quote_spanned!(f.span()=> ::core::option::Option::Some(#p::fingerprint(&(#f))))
                }
                None => quote!(::core::option::Option::None),
            };
            // The key is formatted before the arguments move into the layers inside.
            let guard =
                if i.store.is_some() { quote!(guard_shared_key) } else { quote!(guard_key) };
            let key_ident = format_ident!("__resilient_key", span = Span::mixed_site());
            // Spanned on the return type: an `Ok` type the store cannot keep is blamed there.
            let guard = quote_spanned!(ctx.output.span()=> #policy.#guard);
            quote! {{
                let #key_ident = #key;
                #guard(#key_ident, #fingerprint, #inner)
            }}
        }
        Layer::Retry(r) => retry_loop(ctx, index, r.max, r.when.as_ref(), inner()),
    }
}

/// The user's body, its type pinned to the declared return type so `?` and `return` keep the
/// meaning they had, lifted into an `Outcome`.
fn innermost(ctx: &Ctx<'_>, body: &Block) -> TokenStream {
    let output = ctx.output;
    let stmts = &body.stmts;
    let pin = (!super::contains_impl_trait(output)).then(|| {
        let fake = format_ident!("__resilient_fake_return", span = Span::mixed_site());
        quote_spanned! {output.span()=>
            #[allow(
                unknown_lints, unreachable_code, clippy::diverging_sub_expression,
                clippy::let_unit_value, clippy::unreachable, clippy::empty_loop,
                clippy::needless_return
            )]
            if false {
                let #fake: #output = loop {};
                return #fake;
            }
        }
    });
    let lift = quote_spanned!(output.span()=> ::resilient::__private::lift);
    quote! {
        #lift(async move {
            #pin
            #(#stmts)*
        })
    }
}

fn when_or_every_error(when: Option<&Expr>) -> TokenStream {
    match when {
        Some(w) => quote_spanned!(w.span()=> #w),
        None => quote!(::resilient::__private::every_error),
    }
}

/// Input: the retry layer at `index` and the future expression of the layers inside it.
/// Output: a future looping over attempts; owned arguments are cloned for every attempt but the
/// last, `&mut` arguments reborrowed, and the inner layers rebuilt each time.
fn retry_loop(
    ctx: &Ctx<'_>,
    index: usize,
    max: u32,
    when: Option<&Expr>,
    inner: TokenStream,
) -> TokenStream {
    let p = quote!(::resilient::__private);
    let policy = statics::ident(index);
    let attempts = format_ident!("__resilient_attempts", span = Span::mixed_site());
    let out = format_ident!("__resilient_out", span = Span::mixed_site());
    let delay = format_ident!("__resilient_delay", span = Span::mixed_site());
    let reuse_ident =
        |b: &Binding| format_ident!("__resilient_reuse_{}", b.ident, span = Span::mixed_site());
    let clone_owned = max > 1;
    let mut keep = Vec::new();
    let mut rebind = Vec::new();
    for b in ctx.bindings {
        let ident = &b.ident;
        let mutability = b.mutable.then(|| quote!(mut));
        match b.passing {
            Passing::Owned if clone_owned => {
                let reuse = reuse_ident(b);
                let ty = &b.span_tokens;
                // Spanned on the argument's type: a missing `Clone` is blamed there.
                let new = quote_spanned!(ty.span()=> #p::Reuse::new(#ident));
                // A `mut` argument is now mutated through its per-attempt copies; the borrow
                // keeps `unused_mut` quiet about the original.
                let quiet = b.mutable.then(|| quote!(let _ = &mut #ident;));
                keep.push(quote!(#quiet let mut #reuse = #new;));
                // Outer layers (an idempotency key) may be the only users of an argument.
                rebind.push(quote! {
                    #[allow(unused_variables)]
                    let #mutability #ident = #reuse.next(#attempts.is_last());
                });
            }
            Passing::Unique => rebind.push(quote! {
                #[allow(unused_variables)]
                let #ident = &mut *#ident;
            }),
            Passing::Owned | Passing::Shared => {}
        }
    }
    let inner_rejects = ctx.layers[index + 1..].iter().any(Layer::rejects);
    let retryable = match (inner_rejects, when) {
        (true, Some(w)) => quote_spanned!(w.span()=> #p::retryable(&#out, #w)),
        (true, None) => quote!(#p::retryable(&#out, #p::every_error)),
        (false, Some(w)) => quote_spanned!(w.span()=> #p::retryable_plain(&#out, #w)),
        (false, None) => quote!(#p::retryable_plain(&#out, #p::every_error)),
    };
    // No sleeping against a circuit the last attempt just opened: the breakers below are asked.
    let breakers = ctx
        .layers
        .iter()
        .enumerate()
        .skip(index + 1)
        .filter(|(_, l)| matches!(l, Layer::CircuitBreaker(_)))
        .map(|(i, _)| {
            let b = statics::ident(i);
            quote!(&& !#p::circuit_open(&#b))
        });
    let retryable = quote!(#retryable #(#breakers)*);
    quote! {
        async move {
            let mut #attempts = #policy.attempts();
            #(#keep)*
            loop {
                #(#rebind)*
                let #out = #inner.await;
                if #p::is_success(&#out) {
                    break #out;
                }
                // The failed outcome is dropped before sleeping and the sleep is boxed, so
                // neither weighs on the future of a call that succeeds at once.
                let #delay = match #attempts.next_delay(#retryable) {
                    ::core::result::Result::Ok(#delay) => #delay,
                    ::core::result::Result::Err(_) => break #out,
                };
                ::core::mem::drop(#out);
                #p::backoff_sleep(#delay).await;
            }
        }
    }
}
