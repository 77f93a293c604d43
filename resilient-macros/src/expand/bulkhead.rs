//! `#[bulkhead]`: its static and its layer of the pipeline.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use super::pipeline::{Built, reject_label};
use crate::args::{BulkheadArgs, BulkheadMax};
use crate::duration::duration_tokens;

/// Input: the arguments and the name expression. Output: the static's initialiser, and for a
/// named partitioned bulkhead the settings its partitions are shared under.
/// ```text
/// Bulkhead::builder().name(<name>).settings(BulkheadSettings { max: .., ..default() }).build()
/// ```
pub(crate) fn statics(
    b: &BulkheadArgs,
    default_name: &TokenStream,
    partitioned: bool,
) -> (Option<TokenStream>, TokenStream) {
    let p = quote!(::resilient::__private);
    // Only the keys given; the runtime owns the defaults.
    let mut fields = Vec::new();
    match b.max {
        Some(BulkheadMax::Fixed(n)) => fields.push(quote!(max: #p::BulkheadLimit::Fixed(#n))),
        Some(BulkheadMax::Adaptive) => fields.push(quote!(max: #p::BulkheadLimit::Adaptive)),
        None => {}
    }
    for (field, value) in
        [("queue", b.queue), ("min", b.min), ("limit", b.limit), ("initial", b.initial)]
    {
        if let Some(n) = value {
            let field = format_ident!("{}", field);
            fields.push(quote!(#field: #n));
        }
    }
    if let Some(d) = b.wait {
        let d = duration_tokens(d);
        fields.push(quote!(wait: #d));
    }
    let settings = quote! {
        #p::BulkheadSettings {
            #(#fields,)*
            ..<#p::BulkheadSettings as ::core::default::Default>::default()
        }
    };
    let builder = quote!(#p::Bulkhead::builder());
    match (&b.name, partitioned) {
        // Functions naming one bulkhead share its partitions.
        (Some(_), true) => (
            Some(settings.clone()),
            quote!(#builder.name(#default_name).settings(#settings).build()),
        ),
        // A named bulkhead is shared by every function that names it: one count of calls.
        (Some(n), false) => (None, quote!(#builder.name(#n).settings(#settings).build_shared())),
        (None, _) => (None, quote!(#builder.name(#default_name).settings(#settings).build())),
    }
}

/// Input: the bulkhead (its static or partition) and the future of the layers inside. Output:
/// a future that takes a place, then builds and runs the inner future, and gives the place
/// back when it ends or is dropped:
/// ```text
/// async move { 'layer: {
///     let permit = match policy.enter() {
///         Some(p) => p,
///         None => match policy.acquire().await { Ok(p) => p, Err(r) => break 'layer Err(r) },
///     };
///     let out = <inner>.await;
///     permit.settle(&out);
///     out
/// } }
/// ```
/// (as a [`Built::Block`]: the outermost layer stands in the function's body without `async move`)
pub(crate) fn layer(policy: &Ident, inner: TokenStream, dot_await: TokenStream) -> Built {
    let permit = format_ident!("__resilient_place", span = Span::mixed_site());
    let out = format_ident!("__resilient_out", span = Span::mixed_site());
    let label = reject_label();
    Built::Block(quote! {
        { #label: {
            let #permit = match #policy.enter() {
                ::core::option::Option::Some(#permit) => #permit,
                ::core::option::Option::None => match #policy.acquire().await {
                    ::core::result::Result::Ok(#permit) => #permit,
                    ::core::result::Result::Err(rejected) => {
                        break #label ::core::result::Result::Err(rejected);
                    }
                },
            };
            let #out = #inner #dot_await;
            #permit.settle(&#out);
            #out
        } }
    })
}
