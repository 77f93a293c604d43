//! The pipeline: each layer an expression of a future of `Outcome<T, E>`, nested in source order.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Block, Expr, Type};

use crate::item::{Binding, Passing};
use crate::layers::Layer;

pub(crate) struct Ctx<'a> {
    pub(crate) layers: &'a [Layer],
    pub(crate) bindings: &'a [Binding],
    pub(crate) output: &'a Type,
    pub(crate) default_key: Option<&'a proc_macro2::Ident>,
}

/// A layer as generated: a future expression, or the body of an `async move` block.
///
/// A block body never uses `return` (a rejection leaves through `break` to a label of its own),
/// so the same tokens also stand as a plain block: the outermost layer is written straight into
/// the function's own body, one state machine fewer on every call (about 1 ns; the
/// `hot_path_probe` rows "fallback" and "fallback by hand").
pub(crate) enum Built {
    /// An expression of a future of `Outcome<T, E>`.
    Future(TokenStream),
    /// A block (braces included) of type `Outcome<T, E>` that may `.await`.
    Block(TokenStream),
}

impl Built {
    /// As a future, for the layer outside to await.
    pub(crate) fn future(self) -> TokenStream {
        match self {
            Built::Future(future) => future,
            Built::Block(block) => quote!(async move #block),
        }
    }

    /// As the outcome itself, for the function's body: `dot_await` awaits a future.
    pub(crate) fn outcome(self, dot_await: TokenStream) -> TokenStream {
        match self {
            Built::Future(future) => quote!(#future #dot_await),
            Built::Block(block) => block,
        }
    }
}

/// The label a block layer's rejection breaks to, in place of `return`.
pub(crate) fn reject_label() -> syn::Lifetime {
    syn::Lifetime::new("'__resilient_layer", Span::mixed_site())
}

/// Input: the layers from `index` inward and the user's body. Output: the layer at `index`,
/// whose future or block gives the `Outcome<T, E>` of running them.
pub(crate) fn build(ctx: &Ctx<'_>, index: usize, body: &Block) -> Built {
    let p = quote!(::resilient::__private);
    let Some(layer) = ctx.layers.get(index) else {
        return Built::Future(innermost(ctx, body));
    };
    let policy = super::partition::policy(ctx.layers, index);
    let inner = || build(ctx, index + 1, body).future();
    match layer {
        Layer::Timeout(t) => {
            let inner = inner();
            let guard = match holds_idempotent(ctx, index + 1) {
                // On the return type, as an `.await` of it would be: see `dot_await`.
                true => quote_spanned! {ctx.output.span()=>
                    ::resilient::__private::Timeout::guard(&#policy, #inner)
                },
                false => quote!(#policy.guard(#inner)),
            };
            super::cancel::timeout_layer(t, &policy, ctx.bindings, guard, dot_await(ctx, index + 1))
        }
        Layer::CircuitBreaker(b) => {
            // Inline rather than `guard(inner, when)`: the inner future is built inside, after
            // the permit, and stored once (a future passed to an `async fn` is kept twice).
            let inner = inner();
            let when = when_or_every_error(b.when.as_ref());
            let permit = format_ident!("__resilient_permit", span = Span::mixed_site());
            let out = format_ident!("__resilient_out", span = Span::mixed_site());
            let dot_await = dot_await(ctx, index + 1);
            let label = reject_label();
            Built::Block(quote! {
                { #label: {
                    let #permit = match #policy.try_acquire() {
                        ::core::result::Result::Ok(#permit) => #permit,
                        ::core::result::Result::Err(rejected) => {
                            break #label ::core::result::Result::Err(rejected);
                        }
                    };
                    let #out = #inner #dot_await;
                    #permit.settle(&#out, #when);
                    #out
                } }
            })
        }
        Layer::Idempotent(i) => {
            let inner = inner();
            // The key is formatted before the arguments move into the layers inside.
            let key_ident = format_ident!("__resilient_key", span = Span::mixed_site());
            let key = match (&i.key, ctx.default_key) {
                (Some(k), _) => key_text(&policy, k.span(), quote!(#k), &key_ident),
                (None, Some(ident)) => key_text(&policy, ident.span(), quote!(#ident), &key_ident),
                (None, None) => unreachable!("a missing key is reported before generation"),
            };
            let fingerprint = match &i.fingerprint {
                Some(f) => {
                    quote_spanned!(f.span()=> ::core::option::Option::Some(#p::fingerprint(&(#f))))
                }
                None => quote!(::core::option::Option::None),
            };
            // Every token of the call on the return type, and the `Ok` type named in the
            // turbofish: an `Ok` type the store cannot keep is blamed there, once (the layers
            // outside await this future with `dot_await`, on the same tokens).
            let output = ctx.output;
            let span = output.span();
            let ok_type = (!super::contains_impl_trait(output))
                .then(|| quote_spanned!(span=> <#output as ::resilient::__private::IsResult>::Ok));
            if i.store.is_some() {
                let ok = ok_type.map(|ok| quote_spanned!(span=> ::<_, #ok, _>));
                return Built::Future(quote_spanned! {span=> {
                    #key
                    ::resilient::__private::Idempotency::guard_shared_key #ok(
                        &#policy, #key_ident, #fingerprint, #inner
                    )
                }});
            }
            // In process, the first look is made in place: a hit is answered without building
            // the future of the layers inside, or any future of the store's.
            let ok = ok_type.as_ref().map(|ok| quote_spanned!(span=> ::<#ok, _>));
            let run_ok = ok_type.map(|ok| quote_spanned!(span=> ::<_, #ok, _>));
            let (begun, out, pending) = (
                format_ident!("__resilient_begun", span = Span::mixed_site()),
                format_ident!("__resilient_out", span = Span::mixed_site()),
                format_ident!("__resilient_pending", span = Span::mixed_site()),
            );
            // The key lives only for the look: a call that goes on does not carry it.
            Built::Block(quote_spanned! {span=> {
                let #begun = {
                    #key
                    ::resilient::__private::Idempotency::begin #ok(
                        &#policy, &#key_ident, #fingerprint
                    )
                };
                match #begun {
                    ::resilient::__private::IdempotencyBegin::Answered(#out) => #out,
                    ::resilient::__private::IdempotencyBegin::Run(#pending) => {
                        ::resilient::__private::IdempotencyPending::run #run_ok(#pending, #inner)
                            .await
                    }
                }
            }})
        }
        Layer::Retry(r) => retry_loop(ctx, index, r.max, r.when.as_ref(), inner()),
        Layer::Bulkhead(_) => super::bulkhead::layer(&policy, inner(), dot_await(ctx, index + 1)),
        Layer::Fallback(f) => super::fallback::layer(ctx, index, f, inner()),
        Layer::Hedge(_) => Built::Future(super::hedge::layer(ctx, index, inner())),
        Layer::RateLimit(r) => {
            let has_receiver = ctx.bindings.iter().any(|b| b.ident == "__resilient_self");
            super::rate_limit::layer(r, &policy, has_receiver, inner(), dot_await(ctx, index + 1))
        }
    }
}

/// Statements binding `text` to the idempotency key's text, taken before the arguments move into
/// the layers inside. Keys of the common types (integers, strings, UUIDs) write their text
/// without `core::fmt`, other `Display` types through it: the runtime's `key_arg` traits pick by
/// method resolution. A key that is not `Display` is reported by `key_is_display`, on the
/// user's key.
fn key_text(policy: &syn::Ident, span: Span, key: TokenStream, text: &Ident) -> TokenStream {
    let p = quote!(::resilient::__private);
    // On the user's key, so a key that is not `Display` is blamed there. The key is evaluated
    // before this binding exists, so the name cannot capture anything of the user's.
    let arg = format_ident!("__resilient_key_arg", span = span);
    let check = quote_spanned!(span=> ::resilient::__private::key_is_display(#arg));
    // The text is written where it stays (`Key::blank`, then filled): a key built elsewhere and
    // moved here would be read back in wider pieces than it was written in, which stalls the
    // CPU's store forwarding for about as long as the hash of the key takes.
    quote! {
        let mut #text = #p::IdempotencyKeyText::blank();
        {
            let #arg = &(#key);
            #check;
            #[allow(unused_imports)]
            use #p::{KeyByDisplay as _, KeyByNothing as _, KeyByText as _};
            (&&#p::KeyArg(#arg)).idempotency_key(&#policy, &mut #text);
        }
    }
}

/// `.await` on the future of the layer at `index`. When it holds an `#[idempotent]` layer's
/// future unboxed, the `.await` is on the return type: rustc checks the `Ok` type's bound again
/// where that future is awaited, and reports it once only when both checks are on the same
/// tokens.
pub(crate) fn dot_await(ctx: &Ctx<'_>, index: usize) -> TokenStream {
    match holds_idempotent(ctx, index) {
        true => quote_spanned!(ctx.output.span()=> .await),
        false => quote!(.await),
    }
}

/// The future of the layer at `index` has an `#[idempotent]` layer's future in its type: it is
/// that layer with a shared store, or a timeout around it (a breaker's or a retry's `async`
/// block hides it, and so does the in-process layer's, a block).
fn holds_idempotent(ctx: &Ctx<'_>, index: usize) -> bool {
    match ctx.layers.get(index) {
        Some(Layer::Idempotent(i)) => i.store.is_some(),
        Some(Layer::Timeout(_)) => holds_idempotent(ctx, index + 1),
        _ => false,
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

/// How an owned argument is copied for each attempt: `RetryArgument::duplicate` (or its twins
/// for `self` and for type parameters) with every token on the argument's type, named in the
/// path when it can be, so that a missing `Clone` is reported there, once, in words about the
/// argument, and with no bound of ours for rustc to point into.
pub(crate) fn retry_argument(b: &Binding) -> TokenStream {
    duplicate_argument(b, ["RetryReceiver", "RetryGenericArgument", "RetryArgument"])
}

/// As [`retry_argument`], with another layer's traits (receiver, type parameter, other), whose
/// diagnostics say why that layer copies the argument.
pub(crate) fn duplicate_argument(b: &Binding, traits: [&str; 3]) -> TokenStream {
    let name = match (b.ident == "__resilient_self", b.type_parameter) {
        (true, _) => traits[0],
        (false, true) => traits[1],
        (false, false) => traits[2],
    };
    match &b.ty {
        Some(ty) if !super::contains_impl_trait(ty) => {
            let trait_ = Ident::new(name, ty.span());
            quote_spanned!(ty.span()=> <#ty as ::resilient::__private::#trait_>::duplicate)
        }
        // `self`, `impl Trait` and destructured arguments: the type is inferred, and the path
        // spans the argument's type from its first token to its last.
        _ => {
            let mut tokens = b.span_tokens.clone().into_iter();
            let first = tokens.next().map_or_else(Span::call_site, |t| t.span());
            let last = tokens.last().map_or(first, |t| t.span());
            let trait_ = Ident::new(name, first);
            let path = quote_spanned!(first=> ::resilient::__private::#trait_::);
            let method = quote_spanned!(last=> duplicate);
            quote!(#path #method)
        }
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
) -> Built {
    let p = quote!(::resilient::__private);
    let policy = super::partition::policy(ctx.layers, index);
    let attempts = format_ident!("__resilient_attempts", span = Span::mixed_site());
    let out = format_ident!("__resilient_out", span = Span::mixed_site());
    let delay = format_ident!("__resilient_delay", span = Span::mixed_site());
    let fut = format_ident!("__resilient_attempt", span = Span::mixed_site());
    let last = quote!(#attempts.is_last());
    let (keep, rebind) = reuse_arguments(ctx.bindings, max > 1, retry_argument, &last);
    let retryable = retry_verdict(ctx, index, when, &out);
    // Holding an `#[idempotent]` future, every token of the await on the return type: see
    // `dot_await`.
    let (traced, plain) = match holds_idempotent(ctx, index + 1) {
        true => (
            quote_spanned! {ctx.output.span()=>
                ::resilient::__private::Attempts::attempt(&#attempts, #fut).await
            },
            quote_spanned!(ctx.output.span()=> #fut.await),
        ),
        false => (quote!(#attempts.attempt(#fut).await), quote!(#fut.await)),
    };
    // The attempt is awaited in its span only when a subscriber may want the span, and each
    // await has its own check of success: the usual path then polls the attempt straight after
    // building it and takes its outcome to the check with nothing in between (`Attempts::traced`
    // says what this saves).
    let (traced, plain) =
        (settle_attempt(&out, &attempts, traced), settle_attempt(&out, &attempts, plain));
    Built::Block(quote! {
        {
            let mut #attempts = #policy.attempts();
            #(#keep)*
            loop {
                #(#rebind)*
                let #fut = #inner;
                // Each attempt in its span when one is wanted; the success counted.
                let #out = if #attempts.traced() #traced else #plain;
                // The failed outcome is dropped before sleeping and the sleep is boxed, so
                // neither weighs on the future of a call that succeeds at once.
                let #delay = match #attempts.retry_after(&#out, #retryable) {
                    ::core::result::Result::Ok(#delay) => #delay,
                    ::core::result::Result::Err(_) => break #out,
                };
                ::core::mem::drop(#out);
                #p::backoff_sleep(#delay).await;
            }
        }
    })
}

/// Input: an attempt's outcome expression `run` (awaited or called). Output: a block that
/// binds it to `out`, leaves the retry loop with it on success (counted), and otherwise yields
/// it. The async and the sync loop each build one per branch of `Attempts::traced`.
pub(crate) fn settle_attempt(out: &Ident, attempts: &Ident, run: TokenStream) -> TokenStream {
    let p = quote!(::resilient::__private);
    quote! {{
        let #out = #run;
        if #p::is_success(&#out) {
            #attempts.succeeded();
            break #out;
        }
        #out
    }}
}

/// How the arguments reach each attempt of a retry (or a hedge): owned ones, when `clone_owned`,
/// are kept before the first attempt and handed out by `Reuse` (a copy made with `duplicate`
/// for each attempt, the original once `last` is true; `duplicate` is named at each attempt, where
/// it is inlined); `&mut` ones are reborrowed per attempt.
/// Output: the statements before the attempts, and those opening each attempt.
pub(crate) fn reuse_arguments(
    bindings: &[Binding],
    clone_owned: bool,
    duplicate: impl Fn(&Binding) -> TokenStream,
    last: &TokenStream,
) -> (Vec<TokenStream>, Vec<TokenStream>) {
    let p = quote!(::resilient::__private);
    let mut keep = Vec::new();
    let mut rebind = Vec::new();
    for b in bindings {
        let ident = &b.ident;
        let mutability = b.mutable.then(|| quote!(mut));
        match b.passing {
            Passing::Owned if clone_owned => {
                let reuse =
                    format_ident!("__resilient_reuse_{}", b.ident, span = Span::mixed_site());
                let duplicate = duplicate(b);
                // A `mut` argument is now mutated through its per-attempt copies; the borrow
                // keeps `unused_mut` quiet about the original.
                let quiet = b.mutable.then(|| quote!(let _ = &mut #ident;));
                keep.push(quote!(#quiet let mut #reuse = #p::Reuse::new(#ident);));
                // Outer layers (an idempotency key) may be the only users of an argument.
                rebind.push(quote! {
                    #[allow(unused_variables)]
                    let #mutability #ident = #reuse.next(#last, #duplicate);
                });
            }
            Passing::Unique => rebind.push(quote! {
                #[allow(unused_variables)]
                let #ident = &mut *#ident;
            }),
            Passing::Owned | Passing::Shared => {}
        }
    }
    (keep, rebind)
}

/// Whether the retry at `index` tries again after the attempt's outcome `out`: `when` (every
/// error without it) on the function's errors and inner timeouts, and never while a breaker
/// below is open (no sleeping against a circuit the last attempt just opened).
pub(crate) fn retry_verdict(
    ctx: &Ctx<'_>,
    index: usize,
    when: Option<&Expr>,
    out: &Ident,
) -> TokenStream {
    let p = quote!(::resilient::__private);
    let inner_rejects = ctx.layers[index + 1..].iter().any(Layer::rejects);
    let retryable = match (inner_rejects, when) {
        (true, Some(w)) => quote_spanned!(w.span()=> #p::retryable(&#out, #w)),
        (true, None) => quote!(#p::retryable(&#out, #p::every_error)),
        (false, Some(w)) => quote_spanned!(w.span()=> #p::retryable_plain(&#out, #w)),
        (false, None) => quote!(#p::retryable_plain(&#out, #p::every_error)),
    };
    let breakers = ctx
        .layers
        .iter()
        .enumerate()
        .skip(index + 1)
        .filter(|(_, l)| matches!(l, Layer::CircuitBreaker(_)))
        .map(|(i, _)| {
            let b = super::partition::policy(ctx.layers, i);
            quote!(&& !#p::circuit_open(&#b))
        });
    quote!(#retryable #(#breakers)*)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{CircuitBreakerArgs, parse_list};
    use crate::errors::Errors;

    /// A lone `#[circuit_breaker]`'s layer.
    fn breaker() -> Built {
        let mut errors = Errors::default();
        let args = CircuitBreakerArgs::parse(parse_list(quote!()).unwrap(), &mut errors);
        assert!(errors.is_empty());
        let layers = [Layer::CircuitBreaker(args)];
        let output: Type = syn::parse_quote!(Result<u32, AppError>);
        let ctx = Ctx { layers: &layers, bindings: &[], output: &output, default_key: None };
        let body: Block = syn::parse_quote!({ Ok(1) });
        build(&ctx, 0, &body)
    }

    #[test]
    fn the_outermost_block_layer_stands_in_the_body_and_rejects_by_break() {
        let outcome = breaker().outcome(quote!(.await)).to_string();
        assert!(outcome.starts_with('{'), "a plain block: {outcome}");
        assert!(!outcome.starts_with("async"), "{outcome}");
        assert!(outcome.contains("break '__resilient_layer"), "{outcome}");
        // The body's own `async move` keeps its `return`s; the layer's code has none.
        let layer = outcome.split("lift (async move").next().unwrap();
        assert!(!layer.contains("return"), "a `return` would leave the function: {outcome}");
        let future = breaker().future().to_string();
        assert!(future.starts_with("async move {"), "inside another layer, a future: {future}");
    }
}
