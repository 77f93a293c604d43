//! Cancellation of a body that holds `&mut` state: the warning, and the `on_cancel` hook.
//!
//! A timeout drops the body at whatever `.await` it reached. When the body borrows a stateful
//! connection mutably, that can be between sending a request and reading its answer, and the next
//! call on the connection reads the late answer as its own. The macros cannot see whether a body
//! is cancel-safe, so a `#[timeout]` on a function with a `&mut` receiver or argument warns,
//! until the user either states `cancel_safe = true` or names an `on_cancel` hook that repairs
//! the state (marks the connection broken, so the next call reconnects).

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::pipeline::Built;
use crate::args::TimeoutArgs;
use crate::errors::Errors;
use crate::item::{Binding, Passing};
use crate::layers::Layer;

/// What the warning's fn is called; rustc prints the name before the note.
const WARNING_NAME: &str = "timeout_may_cancel_this_mid_request";

const WARNING: &str = "`#[timeout]` drops the body at whatever `.await` it has reached, \
and this `&mut` may then be left mid-request: on a connection, the next call reads the late \
answer to this one as its own. Add `on_cancel = <fn taking it>` to the `#[timeout]` to repair \
it (mark it broken, reconnect), or `cancel_safe = true` if the body leaves nothing half-done";

fn is_receiver(b: &Binding) -> bool {
    b.ident == "__resilient_self"
}

/// The binding an `on_cancel` hook is called with: a `&mut` receiver, else the one `&mut`
/// argument, else a `&self` receiver (whose state may sit behind a lock).
fn hook_target(bindings: &[Binding]) -> Result<&Binding, String> {
    if let Some(r) = bindings.iter().find(|b| is_receiver(b) && b.passing == Passing::Unique) {
        return Ok(r);
    }
    let unique: Vec<&Binding> = bindings.iter().filter(|b| b.passing == Passing::Unique).collect();
    match unique.as_slice() {
        [one] => return Ok(one),
        [_, _, ..] => {
            let names: Vec<String> = unique.iter().map(|b| format!("`{}`", b.ident)).collect();
            return Err(format!(
                "`on_cancel` is called with the `&mut` argument the body may leave half-changed, and this function has several ({}); \
                 take them in one struct, or make the method take `&mut self`",
                names.join(", ")
            ));
        }
        [] => {}
    }
    match bindings.iter().find(|b| is_receiver(b) && b.passing == Passing::Shared) {
        Some(r) => Ok(r),
        None => Err("`on_cancel` is called with the receiver (`&mut self` or `&self`) or the one `&mut` argument, \
             and this function has neither: there is nothing to repair after a cancellation; remove `on_cancel`"
            .to_owned()),
    }
}

/// Reports an `on_cancel` that has nothing to be called with, or whose target the `Ok` value
/// borrows: the hook would need the `&mut` while the value returned still holds it.
pub(crate) fn check(
    layers: &[(Layer, Span)],
    bindings: &[Binding],
    output: &syn::Type,
    errors: &mut Errors,
) {
    for (layer, _) in layers {
        let Layer::Timeout(TimeoutArgs { on_cancel: Some(hook), .. }) = layer else { continue };
        match hook_target(bindings) {
            Err(why) => errors.error(hook, why),
            Ok(target)
                if target.passing == Passing::Unique
                    && borrows_elided(output.to_token_stream()) =>
            {
                let name =
                    if is_receiver(target) { "self".to_owned() } else { target.ident.to_string() };
                errors.error(
                    hook,
                    format!(
                        "`on_cancel` is called with `{name}` once the body is dropped, but the value this function returns borrows `{name}`, \
                         so the two would overlap; return an owned value (`String` rather than `&str`), or drop `on_cancel` and state `cancel_safe = true` if that is true"
                    ),
                );
            }
            Ok(_) => {}
        }
    }
}

/// True when the type holds an elided lifetime (`&T`, `'_`): in a function with a `&mut`
/// receiver, or one `&mut` argument, that is a borrow of it.
fn borrows_elided(tokens: TokenStream) -> bool {
    let mut iter = tokens.into_iter().peekable();
    while let Some(t) = iter.next() {
        let next = iter.peek();
        let elided = match &t {
            // `&T`, not `&'a T`.
            TokenTree::Punct(p) if p.as_char() == '&' => {
                !matches!(next, Some(TokenTree::Punct(q)) if q.as_char() == '\'')
            }
            TokenTree::Punct(p) if p.as_char() == '\'' => {
                matches!(next, Some(TokenTree::Ident(i)) if i == "_")
            }
            TokenTree::Group(g) => borrows_elided(g.stream()),
            _ => false,
        };
        if elided {
            return true;
        }
    }
    false
}

/// Input: the layers and the arguments. Output: nothing, or, when a `#[timeout]` neither states
/// `cancel_safe = true` nor names `on_cancel` and a `&mut` receiver or argument exists, a block
/// using a deprecated constant, spanned on that `mut`: stable Rust's one way for a macro to warn.
pub(crate) fn warning(layers: &[Layer], bindings: &[Binding]) -> Option<TokenStream> {
    let unprotected = layers.iter().any(|l| match l {
        Layer::Timeout(t) => {
            t.on_cancel.is_none() && !t.cancel_safe.as_ref().is_some_and(|b| b.value)
        }
        _ => false,
    });
    if !unprotected {
        return None;
    }
    let borrowed = bindings.iter().find(|b| b.passing == Passing::Unique)?;
    let span = borrowed
        .span_tokens
        .clone()
        .into_iter()
        .find_map(|t| match t {
            TokenTree::Ident(i) if i == "mut" => Some(i.span()),
            _ => None,
        })
        .unwrap_or_else(|| borrowed.span_tokens.span());
    // The user's span, not the macro's: lints are silenced inside macro expansions.
    let name = syn::Ident::new(WARNING_NAME, span);
    Some(quote_spanned! {span=>
        {
            #[deprecated(note = #WARNING)]
            fn #name() {}
            #name();
        }
    })
}

/// Input: a `#[timeout]` layer's arguments, its static, the guarded future of the layers inside
/// it and the `.await` to await it with (see `pipeline::dot_await`).
/// Output: the guarded future; with `on_cancel`, the hook is called with its target once the
/// timeout has dropped the body, before the error goes up.
pub(crate) fn timeout_layer(
    args: &TimeoutArgs,
    policy: &syn::Ident,
    bindings: &[Binding],
    guard: TokenStream,
    dot_await: TokenStream,
) -> Built {
    let Some(hook) = &args.on_cancel else {
        return Built::Future(guard);
    };
    let target = hook_target(bindings).expect("a missing target is reported before generation");
    let p = quote!(::resilient::__private);
    let out = format_ident!("__resilient_out", span = Span::mixed_site());
    let ident = &target.ident;
    // Spanned on the hook: a wrong signature is reported there.
    let call = |receiver: TokenStream| quote_spanned!(hook.span()=> #p::on_cancel(#policy.name(), #receiver, #hook));
    match target.passing {
        Passing::Unique => {
            let call = call(quote!(&mut *#ident));
            // The body gets a reborrow, which ends with the guard's future: the hook then has
            // the `&mut` back.
            Built::Block(quote! {
                {
                    let #out = {
                        #[allow(unused_variables)]
                        let #ident = &mut *#ident;
                        #guard #dot_await
                    };
                    if #p::timed_out(&#out) {
                        #call;
                    }
                    #out
                }
            })
        }
        _ => {
            let call = call(quote!(#ident));
            Built::Block(quote! {
                {
                    let #out = #guard #dot_await;
                    if #p::timed_out(&#out) {
                        #call;
                    }
                    #out
                }
            })
        }
    }
}
