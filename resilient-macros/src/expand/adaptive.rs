//! The static of `#[circuit_breaker(mode = "adaptive")]`.

use proc_macro2::TokenStream;
use quote::quote;

use crate::args::CircuitBreakerArgs;
use crate::duration::duration_tokens;

/// Input: the breaker's arguments and its default-name expression. Output: its settings
/// expression and the static's initialiser:
/// ```text
/// AdaptiveBreaker::builder().name(..).settings(AdaptiveSettings { k: 2.0, ..default() }).build()
/// ```
/// (`build_shared()` for a named breaker that is not partitioned).
pub(crate) fn init(
    b: &CircuitBreakerArgs,
    default_name: &TokenStream,
    partitioned: bool,
) -> (TokenStream, TokenStream) {
    let p = quote!(::resilient::__private);
    let mut fields = Vec::new();
    if let Some(k) = b.k {
        fields.push(quote!(k: #k));
    }
    if let Some(d) = b.window {
        let d = duration_tokens(d);
        fields.push(quote!(window: #d));
    }
    if let Some(v) = b.min_rps {
        fields.push(quote!(min_rps: #v));
    }
    if let Some(v) = b.max_rejection {
        fields.push(quote!(max_rejection: #v));
    }
    if let Some(settled) = b.settled_timeouts {
        let t = if settled { quote!(Settled) } else { quote!(All) };
        fields.push(quote!(timeouts: #p::BreakerTimeouts::#t));
    }
    let settings = quote! {
        #p::AdaptiveSettings {
            #(#fields,)*
            ..<#p::AdaptiveSettings as ::core::default::Default>::default()
        }
    };
    let init = match &b.name {
        Some(n) if !partitioned => {
            quote!(#p::AdaptiveBreaker::builder().name(#n).settings(#settings).build_shared())
        }
        _ => quote!(#p::AdaptiveBreaker::builder().name(#default_name).settings(#settings).build()),
    };
    (settings, init)
}
