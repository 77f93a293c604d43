//! `#[fallback(f)]`: the layer that answers the errors of the layers inside with `f(e)`.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::pipeline::{Built, Ctx, dot_await};
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

/// What both pipelines need to call the fallback: the tokens of the step after the layers
/// inside, and of the call of `f`.
struct Parts {
    policy: Ident,
    out: Ident,
    /// The error's name, located at `f`: a mismatch with the fallback's parameter points there.
    error: Ident,
    on: TokenStream,
    convert: TokenStream,
    /// `&mut self` method form: the layers inside get a reborrow, so the receiver is whole
    /// again for `f`.
    reborrow: Option<TokenStream>,
    /// `f(error)` or `self.f(error)`.
    call: TokenStream,
    span: Span,
    ok: TokenStream,
    err: TokenStream,
}

impl Parts {
    fn new(ctx: &Ctx<'_>, index: usize, args: &FallbackArgs) -> Parts {
        let p = quote!(::resilient::__private);
        let output = ctx.output;
        let (ok, err) = match super::contains_impl_trait(output) {
            false => (
                quote_spanned!(output.span()=> <#output as #p::IsResult>::Ok),
                quote_spanned!(output.span()=> <#output as #p::IsResult>::Err),
            ),
            true => (quote!(_), quote!(_)),
        };
        let convert = match ctx.layers[index + 1..].iter().any(Layer::rejects) {
            // As `finish` asks for it, on the return type: a missing `From<resilient::Error>`
            // is reported there, once.
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
        let error = Ident::new("__resilient_error", Span::mixed_site().located_at(span));
        let mut reborrow = None;
        let call = match f {
            FallbackFn::Path(path) => {
                let pointer =
                    Ident::new("__resilient_fallback", Span::mixed_site().located_at(span));
                let ty = match super::contains_impl_trait(output) {
                    false => quote_spanned! {span=>
                        fn(<#output as ::resilient::__private::IsResult>::Err) -> _
                    },
                    true => quote_spanned!(span=> fn(_) -> _),
                };
                quote_spanned!(span=> { let #pointer: #ty = #path; #pointer(#error) })
            }
            FallbackFn::Method { method, .. } => {
                let this =
                    ctx.bindings.iter().find(|b| b.ident == "__resilient_self").expect(
                        "a method fallback without a receiver is reported before generation",
                    );
                let ident = &this.ident;
                if this.passing == Passing::Unique {
                    reborrow = Some(quote!(let #ident = &mut *#ident;));
                }
                quote_spanned!(span=> #ident.#method(#error))
            }
        };
        Parts {
            policy: super::partition::policy(ctx.layers, index),
            out: Ident::new("__resilient_out", Span::mixed_site()),
            error,
            on,
            convert,
            reborrow,
            call,
            span,
            ok,
            err,
        }
    }

    /// Input: the outcome of the layers inside, as an expression. Output: the outcome the
    /// caller gets, with `answer` (an expression of `Result<T, E>` using `error`) on an error
    /// the fallback takes.
    fn step(&self, outcome: TokenStream, answer: TokenStream) -> TokenStream {
        let Parts { policy, out, error, on, convert, reborrow, .. } = self;
        let p = quote!(::resilient::__private);
        quote! {
            let #out = { #reborrow #outcome };
            match #p::Fallback::take(&#policy, #out, #on, #convert) {
                #p::Taken::Pass(#out) => #out,
                #p::Taken::Answer(#error) => ::core::result::Result::Ok(#answer),
            }
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
pub(crate) fn layer(ctx: &Ctx<'_>, index: usize, args: &FallbackArgs, inner: TokenStream) -> Built {
    let parts = Parts::new(ctx, index, args);
    let Parts { span, ok, err, call, .. } = &parts;
    let trait_ = quote_spanned!(*span=> ::resilient::__private::FallbackOutput);
    let answer = quote_spanned!(*span=> #trait_::<#ok, #err, _>::into_answer(#call));
    let dot_await = dot_await(ctx, index + 1);
    let step = parts.step(quote!(#inner #dot_await), quote!(#answer.await));
    Built::Block(quote!({ #step }))
}

/// As [`layer`], for the pipeline of a sync fn, where each layer is an expression of type
/// `Outcome<T, E>`: `inner` is that of the layers inside; `f` must return `Result<T, E>` itself
/// (`SyncFallbackOutput`: an `async fn` fallback is an error at `f` saying a sync fn cannot
/// await it).
#[cfg_attr(not(test), allow(dead_code))] // wired by the sync fns' pipeline
pub(crate) fn sync_layer(
    ctx: &Ctx<'_>,
    index: usize,
    args: &FallbackArgs,
    inner: TokenStream,
) -> TokenStream {
    let parts = Parts::new(ctx, index, args);
    let Parts { span, ok, err, call, .. } = &parts;
    let trait_ = quote_spanned!(*span=> ::resilient::__private::SyncFallbackOutput);
    let answer = quote_spanned!(*span=> #trait_::<#ok, #err>::into_result(#call));
    let step = parts.step(inner, answer);
    quote!({ #step })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::parse_list;
    use crate::layers::Kind;

    #[test]
    fn the_sync_step_is_an_expression() {
        let mut errors = Errors::default();
        let args =
            FallbackArgs::parse(parse_list(quote!(cached, on = is_down)).unwrap(), &mut errors);
        assert!(errors.is_empty());
        let layers = [Layer::Fallback(args)];
        let output: syn::Type = syn::parse_quote!(Result<u32, AppError>);
        let ctx = Ctx { layers: &layers, bindings: &[], output: &output, default_key: None };
        let Layer::Fallback(args) = &layers[0] else { unreachable!() };
        let inner = quote!(::resilient::__private::blocking::lift(move || { Ok(1) }));
        let expr: syn::Expr = syn::parse2(sync_layer(&ctx, 0, args, inner)).expect("an expression");
        let text = quote!(#expr).to_string();
        assert!(text.contains("SyncFallbackOutput"), "{text}");
        assert!(text.contains("Option :: None"), "no layer inside rejects: {text}");
    }

    #[test]
    fn never_panics_and_valid_input_reaches_generation() {
        use std::str::FromStr;
        let items = [
            "async fn f(&mut self, id: u64) -> Result<u32, AppError> { self.x += 1; Ok(id) }",
            "async fn g(x: u8) -> io::Result<u8> { Ok(x) }",
            "async fn h(self: Arc<Self>) -> Result<(), E> { Ok(()) }",
            "fn s() -> Result<(), E> { Ok(()) }",
            "impl C { async fn a(&self) -> Result<u8, E> { Ok(1) } fn b() {} }",
        ];
        let args = [
            r#"self.cached, on = |e| e.is_x(), name = "fb""#,
            "Self::cached::<u8>, on = is_down",
            "|e| Ok(1)",
            "cached(), per = x, when = y, f = g, self.a(), 1",
        ];
        for args in args {
            let tokens: Vec<_> = TokenStream::from_str(args).unwrap().into_iter().collect();
            for cut in 0..=tokens.len() {
                let prefix: TokenStream = tokens[..cut].iter().cloned().collect();
                for item in items {
                    let item = TokenStream::from_str(item).unwrap();
                    let _ = super::super::attribute(Kind::Fallback, prefix.clone(), item);
                }
            }
        }
        let item = TokenStream::from_str(items[0]).unwrap();
        let out = super::super::attribute(Kind::Fallback, quote!(self.cached, on = is_down), item)
            .to_string();
        assert!(!out.contains("compile_error"), "{out}");
        assert!(out.contains("Taken :: Answer"), "{out}");
    }
}
