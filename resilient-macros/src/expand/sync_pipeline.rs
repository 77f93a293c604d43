//! The pipeline around a sync fn: each layer an expression of type `Outcome<T, E>`, evaluated
//! in place, nested in source order. Same statics, names and runtime calls as the async pipeline
//! (`pipeline.rs`); a retry waits with a blocking sleep.
//!
//! Input:
//! ```text
//! #[retry(max = 3)] #[circuit_breaker]
//! fn get(&self, id: u64) -> Result<User, E> { BODY }
//! ```
//! Output (sketch; the statics and `finish` as for an `async fn`):
//! ```text
//! fn get(&self, id: u64) -> Result<User, E> {
//!     ...statics...
//!     let __resilient_self = self;
//!     finish({
//!         let mut attempts = L0.attempts();
//!         loop {
//!             let out = { let _scope = attempts.enter();
//!                 match L1.try_acquire() {
//!                     Ok(permit) => { let out = blocking::lift(move || { BODY }); permit.settle(&out, when); out }
//!                     Err(rejected) => Err(rejected),
//!                 } };
//!             if is_success(&out) { attempts.succeeded(); break out; }
//!             let delay = match attempts.retry_after(&out, retryable(..) && !circuit_open(&L1)) { .. break out };
//!             blocking::backoff_sleep(delay);
//!         }
//!     }, convert)
//! }
//! ```
//!
//! A new layer kind on sync fns is one arm in [`supports`] and one in [`build`].

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Block, Expr};

use super::pipeline::{Ctx, retry_argument, retry_verdict, reuse_arguments, settle_attempt};
use crate::errors::Errors;
use crate::layers::{Kind, Layer};

/// Whether a layer of `kind` can stand on a sync fn; if not, why, and what to write instead.
pub(crate) fn supports(kind: Kind) -> Result<(), &'static str> {
    match kind {
        Kind::Retry | Kind::CircuitBreaker | Kind::Bulkhead | Kind::Fallback | Kind::RateLimit => {
            Ok(())
        }
        Kind::Timeout => Err(
            "`#[timeout]` cannot bound a sync fn: a blocking call cannot be interrupted, so the caller would wait for it anyway. \
             Make it an `async fn` (running the blocking work in `tokio::task::spawn_blocking`, which the timeout stops waiting for; \
             the blocking work itself runs to its end) and put `#[timeout]` on that",
        ),
        Kind::Hedge => Err(
            "`#[hedge]` runs attempts at the same time, which a blocking `fn` cannot do: make this function an `async fn` \
             (running the blocking work in `tokio::task::spawn_blocking`) and put `#[hedge]` on that",
        ),
        Kind::Idempotent => Err(
            "`#[idempotent]` needs an `async fn`: its stores are async (a call with a key already in flight waits for that call's result, \
             and a shared store answers over the network), and a sync fn would block its thread on them. \
             Make it an `async fn` (running the blocking work in `tokio::task::spawn_blocking`) and put `#[idempotent]` on that",
        ),
    }
}

/// Reports the layers a sync fn cannot take: the attribute being expanded (`kind`) at itself,
/// the ones stacked below it (fused, still on the fn) at their paths.
pub(crate) fn check(kind: Kind, attrs: &[syn::Attribute], errors: &mut Errors) {
    if let Err(why) = supports(kind) {
        errors.push(syn::Error::new(Span::call_site(), why));
    }
    for attr in attrs {
        if let Some(Err(why)) = Kind::of(attr).map(supports) {
            errors.error(attr.path(), why);
        }
    }
}

/// Input: the layers from `index` inward and the user's body. Output: an expression of type
/// `Outcome<T, E>` that runs them.
pub(crate) fn build(ctx: &Ctx<'_>, index: usize, body: &Block) -> TokenStream {
    let Some(layer) = ctx.layers.get(index) else {
        return innermost(ctx, body);
    };
    let policy = super::partition::policy(ctx.layers, index);
    match layer {
        Layer::CircuitBreaker(b) => {
            let inner = build(ctx, index + 1, body);
            let when = when_or_every_error(b.when.as_ref());
            let permit = format_ident!("__resilient_permit", span = Span::mixed_site());
            let out = format_ident!("__resilient_out", span = Span::mixed_site());
            quote! {
                match #policy.try_acquire() {
                    ::core::result::Result::Ok(#permit) => {
                        let #out = #inner;
                        #permit.settle(&#out, #when);
                        #out
                    }
                    ::core::result::Result::Err(rejected) => ::core::result::Result::Err(rejected),
                }
            }
        }
        Layer::Retry(r) => retry_loop(ctx, index, r.max, r.when.as_ref(), body),
        Layer::Bulkhead(_) => {
            // A place taken (waiting on the thread, FIFO with async callers, for at most
            // `wait`), the body run, the place given back by the permit.
            let inner = build(ctx, index + 1, body);
            let permit = format_ident!("__resilient_permit", span = Span::mixed_site());
            let out = format_ident!("__resilient_out", span = Span::mixed_site());
            quote! {
                match #policy.acquire_blocking() {
                    ::core::result::Result::Ok(#permit) => {
                        let #out = #inner;
                        #permit.settle(&#out);
                        #out
                    }
                    ::core::result::Result::Err(rejected) => ::core::result::Result::Err(rejected),
                }
            }
        }
        Layer::Fallback(f) => {
            super::fallback::sync_layer(ctx, index, f, build(ctx, index + 1, body))
        }
        Layer::RateLimit(r) => {
            // A slot taken now, or after sleeping on the thread for at most `wait`.
            let inner = build(ctx, index + 1, body);
            if let Some(store) = &r.store {
                return syn::Error::new(
                    store.span(),
                    "a sync fn's `#[rate_limit]` counts in this process only: a shared `store` is asked over the network, \
                     which a blocking `fn` cannot await. Remove `store`, or make the function an `async fn`",
                )
                .to_compile_error();
            }
            quote! {
                match #policy.acquire_blocking() {
                    ::core::result::Result::Ok(()) => #inner,
                    ::core::result::Result::Err(rejected) => ::core::result::Result::Err(rejected),
                }
            }
        }
        Layer::Timeout(_) | Layer::Idempotent(_) | Layer::Hedge(_) => {
            unreachable!("`check` reports the layers a sync fn cannot take before generation")
        }
    }
}

/// The user's body in a closure `lift` calls at once, so `return` and `?` keep their meaning;
/// its type pinned to the declared return type as in the async pipeline.
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
    let lift = quote_spanned!(output.span()=> ::resilient::__private::blocking::lift);
    quote! {
        #lift(move || {
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

/// Input: the retry layer at `index` and the body. Output: a loop over attempts, each in its
/// span; owned arguments cloned for every attempt but the last, `&mut` arguments reborrowed,
/// the inner layers run again each time, and a blocking sleep between attempts.
fn retry_loop(
    ctx: &Ctx<'_>,
    index: usize,
    max: u32,
    when: Option<&Expr>,
    body: &Block,
) -> TokenStream {
    let p = quote!(::resilient::__private);
    let policy = super::partition::policy(ctx.layers, index);
    let attempts = format_ident!("__resilient_attempts", span = Span::mixed_site());
    let out = format_ident!("__resilient_out", span = Span::mixed_site());
    let delay = format_ident!("__resilient_delay", span = Span::mixed_site());
    let scope = format_ident!("__resilient_scope", span = Span::mixed_site());
    let last = quote!(#attempts.is_last());
    let (keep, rebind) = reuse_arguments(ctx.bindings, max > 1, retry_argument, &last);
    let inner = build(ctx, index + 1, body);
    let retryable = retry_verdict(ctx, index, when, &out);
    let attempt = format_ident!("__resilient_attempt", span = Span::mixed_site());
    // As in the async loop (`pipeline::retry_loop`): the attempt runs in its span only when a
    // subscriber may want the span, and each branch checks its own success, so that the usual
    // one has no span guard to drop between the outcome and the check.
    let traced = quote!({
        let #scope = #p::Attempts::enter(&#attempts);
        #attempt()
    });
    let traced = settle_attempt(&out, &attempts, traced);
    let plain = settle_attempt(&out, &attempts, quote!(#attempt()));
    quote! {{
        let mut #attempts = #policy.attempts();
        #(#keep)*
        loop {
            #(#rebind)*
            let #attempt = move || #inner;
            let #out = if #attempts.traced() #traced else #plain;
            let #delay = match #attempts.retry_after(&#out, #retryable) {
                ::core::result::Result::Ok(#delay) => #delay,
                ::core::result::Result::Err(_) => break #out,
            };
            ::core::mem::drop(#out);
            #p::blocking::backoff_sleep(#delay);
        }
    }}
}
