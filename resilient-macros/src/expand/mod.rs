//! Code generation: the annotated function with its body moved into one fused pipeline.
//!
//! Input:
//! ```text
//! #[retry(max = 3)] #[timeout("1s")]
//! async fn get(&self, id: u64) -> Result<User, E> { BODY }
//! ```
//! Output (sketch):
//! ```text
//! async fn get(&self, id: u64) -> Result<User, E> {
//!     static __RESILIENT_L0: LazyLock<Retry> = ...;   // one per layer, built on first call
//!     static __RESILIENT_L1: LazyLock<Timeout> = ...;
//!     let __resilient_self = self;
//!     finish(<retry loop around: L1.guard(lift(async move { BODY with self renamed }))>)
//!     // the outermost layer's block stands in the body itself, not in an `async move`
//! }
//! ```

mod adaptive;
mod bulkhead;
mod cancel;
mod fallback;
mod hedge;
mod impl_block;
mod marker;
mod partition;
mod pipeline;
mod rate_limit;
mod statics;
pub(crate) mod sync_pipeline;

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;

use crate::errors::Errors;
use crate::item::{self, FnInfo, ReplaceSelf};
use crate::layers::{self, Kind, Layer};

/// Entry point shared by the four attributes.
pub(crate) fn attribute(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    if layers::is_consumed(&args) {
        // Fused into the pipeline by the resilient attribute above it.
        return item;
    }
    if let Ok(block) = syn::parse2::<syn::ItemImpl>(item.clone()) {
        return impl_block::expand(kind, args, block);
    }
    let mut errors = Errors::default();
    let Some(mut info) = item::analyse(item.clone(), kind.name(), &mut errors) else {
        // Keep the user's item so the rest of the crate still compiles and IDEs keep working.
        let errors = errors.to_compile_errors();
        return quote!(#errors #item);
    };
    // Layers an earlier expansion already applied, which this attribute (a renamed import that
    // fusion did not recognise) joins now.
    let marker = marker::find(&info.body);
    let mut raw: Vec<(Kind, TokenStream, Span)> = Vec::new();
    if let Some(m) = marker {
        raw.extend(m.layers.into_iter().map(|(k, t)| (k, t, Span::call_site())));
        info.body = m.body;
    }
    raw.push((kind, args, Span::call_site()));
    let mut seen: Vec<Kind> = Vec::new();
    for (k, _, span) in &raw {
        if seen.contains(k) {
            errors.push(syn::Error::new(
                *span,
                format!(
                    "`#[{}]` is already on this function; one layer of each kind is enough",
                    k.name()
                ),
            ));
        }
        seen.push(*k);
    }
    let run = layers::stacked_run(&mut seen, &mut info.item.attrs, &mut errors);
    raw.extend(run);
    let mut all = Vec::new();
    for (kind, tokens, span) in &raw {
        if let Some(layer) = Layer::parse(*kind, tokens.clone(), &mut errors) {
            all.push((layer, *span));
        }
    }
    layers::check_combination(&all, &mut errors);
    if info.sync {
        sync_pipeline::check(kind, &info.item.attrs, &mut errors);
    }
    cancel::check(&all, &info.bindings, &info.output, &mut errors);
    fallback::check(&all, &info.bindings, &mut errors);
    hedge::check(&all, &info.item.sig, info.boxed, &mut errors);
    for (layer, span) in &all {
        if let Layer::Idempotent(i) = layer
            && i.key.is_none()
            && info.default_idempotency_key().is_none()
        {
            errors.push(syn::Error::new(
                    *span,
                    "`#[idempotent]` needs a key: write `key = <expression over the arguments>` (like `key = request.id`), \
                     or take an argument of type `resilient::IdempotencyKey` or named `idempotency_key`",
                ));
        }
    }
    if !errors.is_empty() {
        // The function as written, without the resilient attributes (they would only repeat
        // these errors), plus every error found.
        let errors = errors.to_compile_errors();
        info.item.attrs.retain(|a| Kind::of(a).is_none());
        let body = &info.body;
        *info.item.block = match info.boxed {
            true => syn::parse_quote!({ ::std::boxed::Box::pin(async move #body) }),
            false => body.clone(),
        };
        let item = info.item.to_token_stream();
        return quote!(#errors #item);
    }
    // A renamed resilient attribute still to expand needs the marker to find what was done.
    let foreign = info.item.attrs.iter().any(|a| !layers::is_inert(a) && Kind::of(a).is_none());
    let marker = foreign.then(|| {
        let raw: Vec<(Kind, TokenStream)> = raw.iter().map(|(k, t, _)| (*k, t.clone())).collect();
        marker::emit(&raw, &info.body)
    });
    let layers: Vec<Layer> = all.into_iter().map(|(l, _)| l).collect();
    generate(info, &layers, marker)
}

fn generate(info: FnInfo, layers: &[Layer], marker: Option<TokenStream>) -> TokenStream {
    let default_key = info.default_idempotency_key().cloned();
    let warning = cancel::warning(layers, &info.bindings);
    let FnInfo { item, body, boxed, bindings, has_receiver, output, sync } = info;
    let syn::ItemFn { attrs, vis, sig, .. } = item;
    let mut block = body;
    if has_receiver {
        ReplaceSelf.visit_block_mut(&mut block);
    }
    let fn_name = sig.ident.to_string();
    let statics = layers.iter().enumerate().map(|(i, l)| statics::declare(l, i, &fn_name));
    let receiver = has_receiver.then(|| {
        let this =
            bindings.iter().find(|b| b.ident == "__resilient_self").expect("receiver binding");
        let ident = &this.ident;
        // `mut self` is now mutated through the new name; the borrow keeps `unused_mut` quiet.
        match this.mutable {
            true => quote!(let _ = &mut self; let mut #ident = self;),
            false => quote!(let #ident = self;),
        }
    });
    let ctx = pipeline::Ctx {
        layers,
        bindings: &bindings,
        output: &output,
        default_key: default_key.as_ref(),
    };
    // The outcome of the whole pipeline, as an expression of the function's body.
    let outcome = match sync {
        true => sync_pipeline::build(&ctx, 0, &block),
        false => pipeline::build(&ctx, 0, &block).outcome(pipeline::dot_await(&ctx, 0)),
    };
    let rejects = layers.iter().any(Layer::rejects);
    let finish = if rejects {
        // Spanned on the return type: a missing `From<resilient::Error>` is blamed there, once.
        let convert = match contains_impl_trait(&output) {
            false => quote_spanned! {output.span()=>
                ::resilient::__private::rejection_into::<
                    <#output as ::resilient::__private::IsResult>::Err
                >()
            },
            true => quote!(::resilient::__private::rejection_into()),
        };
        let finish = quote_spanned!(output.span()=> ::resilient::__private::finish);
        quote!(#finish(#outcome, #convert))
    } else {
        let finish = quote_spanned!(output.span()=> ::resilient::__private::finish_plain);
        quote!(#finish(#outcome))
    };
    let partitions = partition::lookups(layers, &bindings, has_receiver);
    let body = quote! {
        #warning
        #marker
        #(#statics)*
        #receiver
        #partitions
        #finish
    };
    let body = match boxed {
        true => quote!(::std::boxed::Box::pin(async move { #body })),
        false => body,
    };
    quote! {
        #(#attrs)*
        #vis #sig {
            #body
        }
    }
}

/// `impl Trait` in the return type cannot be written inside the body; such functions skip the
/// checks that would name it.
pub(crate) fn contains_impl_trait(ty: &syn::Type) -> bool {
    ty.to_token_stream()
        .into_iter()
        .any(|t| matches!(t, proc_macro2::TokenTree::Ident(i) if i == "impl"))
        || ty.to_token_stream().to_string().contains("impl ")
}

/// `#[resilient::skip]`: read by an impl block's attributes, it expands to the method as written.
pub(crate) fn skip(args: TokenStream, item: TokenStream) -> TokenStream {
    if let Some(first) = args.into_iter().next() {
        let error = syn::Error::new(
            first.span(),
            "`#[resilient::skip]` takes no arguments: it leaves the whole method out of the impl block's attributes",
        )
        .to_compile_error();
        return quote!(#error #item);
    }
    item
}
