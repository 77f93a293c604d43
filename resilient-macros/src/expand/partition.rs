//! `per = expr`: the partition each call runs on, looked up once per call before the pipeline.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::Expr;
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;

use super::statics;
use crate::args::Per;
use crate::item::{Binding, Passing, ReplaceSelf};
use crate::layers::Layer;

pub(crate) fn per_of(layer: &Layer) -> Option<&Per> {
    match layer {
        Layer::CircuitBreaker(b) => b.per.as_ref(),
        Layer::Timeout(t) => t.per.as_ref(),
        Layer::Retry(r) => r.per.as_ref(),
        Layer::Idempotent(_) => None,
        Layer::Bulkhead(b) => b.per.as_ref(),
        Layer::Fallback(_) => None,
        Layer::Hedge(h) => h.per.as_ref(),
        Layer::RateLimit(r) => r.per.as_ref(),
    }
}

fn local(index: usize) -> Ident {
    format_ident!("__resilient_part_{}", index, span = Span::mixed_site())
}

/// What the pipeline calls layer `index`'s methods on: its static, or for a partitioned layer
/// the local reference to this call's partition.
pub(crate) fn policy(layers: &[Layer], index: usize) -> Ident {
    match layers.get(index).and_then(per_of) {
        Some(_) => local(index),
        None => statics::ident(index),
    }
}

/// Input: the layers. Output, one line per partitioned layer, evaluated before any argument
/// moves into the body:
/// ```text
/// let __resilient_part_1 = &{
///     let __resilient_key = &(__resilient_self.addr);
///     __RESILIENT_L1.get_described(__resilient_key, label_of(__resilient_key).describe())
/// };
/// ```
/// `describe` is the key's `Debug` text where its type has one (autoref choice, see
/// `resilient_runtime::partition::Label`), used only when the partition is created.
/// The key is borrowed (cloned only when its partition is created); the partition's handle is
/// kept for the whole call, so every attempt of a retry around it uses the same partition.
/// An argument passed by reference (`host: &str`) keys by what it points to (a `str`, kept as
/// text), so the key can outlive the call.
pub(crate) fn lookups(layers: &[Layer], bindings: &[Binding], has_receiver: bool) -> TokenStream {
    let lines = layers.iter().enumerate().filter_map(|(i, layer)| {
        let mut expr = per_of(layer)?.expr.clone();
        let borrowed = match &expr {
            Expr::Path(p) if p.qself.is_none() => p.path.get_ident().is_some_and(|ident| {
                bindings.iter().any(|b| {
                    let named =
                        *ident == b.ident || (ident == "self" && b.ident == "__resilient_self");
                    named && b.passing != Passing::Owned
                })
            }),
            _ => false,
        };
        if has_receiver {
            ReplaceSelf.visit_expr_mut(&mut expr);
        }
        let (part, policy) = (local(i), statics::ident(i));
        let p = quote!(::resilient::__private);
        let key = match borrowed {
            true => quote_spanned!(expr.span()=> &*#expr),
            false => quote_spanned!(expr.span()=> &(#expr)),
        };
        let k = Ident::new("__resilient_key", Span::mixed_site());
        // Spanned on the expression: a key type that cannot tell partitions apart is blamed there.
        let get =
            quote_spanned!(expr.span()=> #policy.get_described(#k, #p::label_of(#k).describe()));
        Some(quote! {
            let #part = &{
                #[allow(unused_imports)]
                use #p::NoLabel as _;
                let #k = #key;
                #get
            };
        })
    });
    quote!(#(#lines)*)
}

/// Input: a layer's static initialiser building one instance named `__resilient_name`. Output:
/// the initialiser of a partitioned static, which builds one such instance per key.
pub(crate) fn wrap(
    per: &Per,
    name: TokenStream,
    init: TokenStream,
    shared: Option<TokenStream>,
) -> TokenStream {
    let p = quote!(::resilient::__private);
    let max = match per.max {
        Some(n) => {
            let n = n as usize;
            quote!(#n)
        }
        None => quote!(#p::DEFAULT_MAX_PARTITIONS),
    };
    let n = Ident::new("__resilient_name", Span::mixed_site());
    match shared {
        // Functions naming one breaker share its partitions.
        Some(settings) => quote! {{
            let #n = #name;
            #p::Partitioned::shared(#n, #settings, #max, move || #init)
        }},
        None => quote! {{
            let #n = #name;
            #p::Partitioned::new(#n, #max, move || #init)
        }},
    }
}
