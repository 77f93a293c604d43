//! `#[fallback(f)]`: the layer that answers the errors of the layers inside with `f(e)`.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::pipeline::{Ctx, dot_await};
use crate::args::{FallbackArgs, FallbackFn};
use crate::errors::Errors;
use crate::item::{Binding, Passing};
use crate::layers::Layer;

/// The static's type and initialiser.
pub(crate) fn declare(name: TokenStream) -> (TokenStream, TokenStream) {
    let p = quote!(::resilient::__private);
    (quote!(#p::Fallback), quote!(#p::Fallback::builder().name(#name).build()))
}

/// `self.method` needs a receiver that is still there after the body ran.
pub(crate) fn check(layers: &[(Layer, Span)], bindings: &[Binding], errors: &mut Errors) {
    for (layer, _) in layers {
        let Layer::Fallback(FallbackArgs {
            f: Some(FallbackFn::Method { receiver, method }), ..
        }) = layer
        else {
            continue;
        };
        match bindings.iter().find(|b| b.ident == "__resilient_self") {
            None => errors.push(syn::Error::new(
                *receiver,
                format!(
                    "`self.{method}` calls a method on the receiver, but this function takes no `self`: \
                     name a fn instead, like `#[fallback({method})]` or `#[fallback(Self::{method})]`"
                ),
            )),
            Some(b) if b.passing == Passing::Owned => errors.push(syn::Error::new(
                *receiver,
                format!(
                    "`self.{method}` needs the receiver after the body ran, but this method takes `self` by value \
                     and gives it to the body: take `&self` or `&mut self`, or name a fn that needs no receiver \
                     (like `#[fallback(Self::{method})]` with `fn {method}(e: E) -> Result<T, E>`)"
                ),
            )),
            Some(_) => {}
        }
    }
}

/// Input: the fallback layer at `index` and the future expression of the layers inside.
/// Output:
/// ```text
/// async move {
///     let out = { let self_ = &mut *self_; /* `&mut self` method form only */ INNER.await };
///     match Fallback::take(&L<i>, out, on, convert) {
///         Taken::Pass(out) => out,
///         Taken::Answer(e) => Ok(FallbackOutput::<T, E, _>::into_answer(f(e)).await),
///     }
/// }
/// ```
/// A path `f` is first bound to a `fn(E) -> _` pointer, spanned on `f`, so that a fallback
/// taking something else than `E` is one error there that shows the signature expected; its
/// return type is checked by `FallbackOutput` (a `Result<T, E>` or a future of it), again on `f`.
pub(crate) fn layer(
    ctx: &Ctx<'_>,
    index: usize,
    args: &FallbackArgs,
    inner: TokenStream,
) -> TokenStream {
    let p = quote!(::resilient::__private);
    let policy = super::partition::policy(ctx.layers, index);
    let out = Ident::new("__resilient_out", Span::mixed_site());
    let output = ctx.output;
    let (ok, err) = match super::contains_impl_trait(output) {
        false => (
            quote_spanned!(output.span()=> <#output as #p::IsResult>::Ok),
            quote_spanned!(output.span()=> <#output as #p::IsResult>::Err),
        ),
        true => (quote!(_), quote!(_)),
    };
    let convert = match ctx.layers[index + 1..].iter().any(Layer::rejects) {
        // As `finish` asks for it, on the return type: a missing `From<resilient::Error>` is
        // reported there, once.
        true => quote_spanned! {output.span()=>
            ::core::option::Option::Some(::resilient::__private::rejection_into::<#err>())
        },
        false => quote!(::core::option::Option::None),
    };
    let on = match &args.on {
        Some(on) => quote_spanned!(on.span()=> #on),
        None => quote!(#p::every_error),
    };
    let Some(f) = &args.f else {
        unreachable!("a missing fallback function is reported before generation")
    };
    let span = f.span();
    // The error's name, located at `f`: a mismatch with the fallback's parameter points there.
    let error = Ident::new("__resilient_error", Span::mixed_site().located_at(span));
    let mut reborrow = None;
    let call = match f {
        FallbackFn::Path(path) => {
            let pointer = Ident::new("__resilient_fallback", Span::mixed_site().located_at(span));
            let ty = match super::contains_impl_trait(output) {
                false => {
                    quote_spanned!(span=> fn(<#output as ::resilient::__private::IsResult>::Err) -> _)
                }
                true => quote_spanned!(span=> fn(_) -> _),
            };
            quote_spanned!(span=> { let #pointer: #ty = #path; #pointer(#error) })
        }
        FallbackFn::Method { method, .. } => {
            let this = ctx
                .bindings
                .iter()
                .find(|b| b.ident == "__resilient_self")
                .expect("a method fallback without a receiver is reported before generation");
            let ident = &this.ident;
            if this.passing == Passing::Unique {
                // The layers inside get a reborrow; the receiver is whole again for `f`.
                reborrow = Some(quote!(let #ident = &mut *#ident;));
            }
            quote_spanned!(span=> #ident.#method(#error))
        }
    };
    let trait_ = quote_spanned!(span=> ::resilient::__private::FallbackOutput);
    let answer = quote_spanned!(span=> #trait_::<#ok, #err, _>::into_answer(#call));
    let dot_await = dot_await(ctx, index + 1);
    quote! {
        async move {
            let #out = { #reborrow #inner #dot_await };
            match #p::Fallback::take(&#policy, #out, #on, #convert) {
                #p::Taken::Pass(#out) => #out,
                #p::Taken::Answer(#error) => ::core::result::Result::Ok(#answer.await),
            }
        }
    }
}
