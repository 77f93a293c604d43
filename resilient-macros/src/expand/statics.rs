//! One `static` per layer, next to the generated code: per-function state with no lookup.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens, format_ident, quote};

use crate::args::{BackoffKind, JitterKind, TimeoutRule};
use crate::duration::duration_tokens;
use crate::layers::Layer;

pub(crate) fn ident(index: usize) -> Ident {
    format_ident!("__RESILIENT_L{}", index, span = Span::mixed_site())
}

/// The name a layer gets without `name = "..."`: `module::path::fn`, or `module::path::Type::fn`
/// inside an impl block, which only the compiler knows. Output (an expression, evaluated once
/// in the static's initialiser):
/// ```text
/// { fn __resilient_here() {}
///   default_name(module_path!(), "get", type_name_of_val(&__resilient_here)) }
/// ```
/// `type_name` of the nested fn item prints `crate::m::A::get::..` or `<crate::m::B as
/// crate::m::Trait>::get::..`; the runtime turns that into the name.
fn default_name(fn_name: &str) -> TokenStream {
    let here = Ident::new("__resilient_here", Span::mixed_site());
    quote! {{
        fn #here() {}
        ::resilient::__private::default_name(
            ::core::module_path!(),
            #fn_name,
            ::core::any::type_name_of_val(&#here),
        )
    }}
}

/// Input: a parsed layer. Output: `static __RESILIENT_L<i>: LazyLock<Policy> = LazyLock::new(..);`
pub(crate) fn declare(layer: &Layer, index: usize, fn_name: &str) -> TokenStream {
    let ident = ident(index);
    let p = quote!(::resilient::__private);
    let per = super::partition::per_of(layer);
    // A partitioned layer's initialiser builds one instance per key, named once, up front.
    let given_name = match layer {
        Layer::Retry(r) => &r.name,
        Layer::CircuitBreaker(b) => &b.name,
        Layer::Timeout(t) => &t.name,
        Layer::Idempotent(i) => &i.name,
        Layer::Bulkhead(b) => &b.name,
        Layer::Fallback(f) => &f.name,
        Layer::Hedge(h) => &h.name,
        Layer::RateLimit(r) => &r.name,
    };
    let the_name = given_name.as_ref().map_or_else(|| default_name(fn_name), |n| quote!(#n));
    let default_name = match per {
        Some(_) => Ident::new("__resilient_name", Span::mixed_site()).into_token_stream(),
        None => default_name(fn_name),
    };
    let name_of = |n: &Option<syn::LitStr>| match (n, per) {
        (Some(n), None) => quote!(#n),
        _ => default_name.clone(),
    };
    // A name given and no partitions: the instance is shared with every fn that names it.
    let build = match (given_name, per) {
        (Some(_), None) => quote!(build_shared),
        _ => quote!(build),
    };
    let mut shared = None;
    let (ty, init) = match layer {
        Layer::Retry(r) => {
            let name = name_of(&r.name);
            let max = r.max;
            let backoff = match r.backoff {
                BackoffKind::Exponential => quote!(Exponential),
                BackoffKind::Fixed => quote!(Fixed),
                BackoffKind::Linear => quote!(Linear),
                BackoffKind::Decorrelated => quote!(Decorrelated),
            };
            let jitter = match r.jitter {
                JitterKind::None => quote!(#p::Jitter::None),
                JitterKind::Proportional(f) => quote!(#p::Jitter::Proportional(#f)),
                JitterKind::Full => quote!(#p::Jitter::Full),
                JitterKind::Equal => quote!(#p::Jitter::Equal),
            };
            let (base, max_delay) = (duration_tokens(r.base), duration_tokens(r.max_delay));
            let budget = match r.budget {
                None => quote!(::core::option::Option::Some(#p::BudgetSettings::default())),
                Some(None) => quote!(::core::option::Option::None),
                Some(Some(ratio)) => quote!(::core::option::Option::Some(#p::BudgetSettings {
                    ratio: #ratio,
                    ..#p::BudgetSettings::default()
                })),
            };
            (
                quote!(#p::Retry),
                quote! {
                    #p::Retry::builder()
                        .name(#name)
                        .max_attempts(#max)
                        .schedule(#p::Schedule {
                            backoff: #p::Backoff::#backoff,
                            base: #base,
                            max_delay: #max_delay,
                            jitter: #jitter,
                        })
                        .budget(#budget)
                        .#build()
                },
            )
        }
        Layer::CircuitBreaker(b) if b.adaptive => {
            let (settings, init) = super::adaptive::init(b, &default_name, per.is_some());
            if b.name.is_some() && per.is_some() {
                shared = Some(settings);
            }
            (quote!(#p::AdaptiveBreaker), init)
        }
        Layer::CircuitBreaker(b) => {
            // Only the keys given; the runtime owns the defaults.
            let mut fields = Vec::new();
            if let Some(v) = b.threshold {
                fields.push(quote!(threshold: #v));
            }
            if let Some(d) = b.window {
                let d = duration_tokens(d);
                fields.push(quote!(window: #d));
            }
            if let Some(d) = b.cooldown {
                let d = duration_tokens(d);
                fields.push(quote!(cooldown: #d));
            }
            if let Some(v) = b.probes {
                fields.push(quote!(probes: #v));
            }
            if let Some(f) = b.failure_rate {
                fields.push(quote!(failure_rate: ::core::option::Option::Some(#f)));
            }
            if let Some(v) = b.min_calls {
                fields.push(quote!(min_calls: #v));
            }
            if let Some(settled) = b.settled_timeouts {
                let t = if settled { quote!(Settled) } else { quote!(All) };
                fields.push(quote!(timeouts: #p::BreakerTimeouts::#t));
            }
            let settings = quote! {
                #p::BreakerSettings {
                    #(#fields,)*
                    ..<#p::BreakerSettings as ::core::default::Default>::default()
                }
            };
            let init = match &b.name {
                Some(_) if per.is_some() => {
                    shared = Some(settings.clone());
                    quote!(#p::CircuitBreaker::builder().name(#default_name).settings(#settings).build())
                }
                // A named breaker is shared by every function that names it.
                Some(n) => {
                    quote!(#p::CircuitBreaker::builder().name(#n).settings(#settings).build_shared())
                }
                None => {
                    quote!(#p::CircuitBreaker::builder().name(#default_name).settings(#settings).build())
                }
            };
            (quote!(#p::CircuitBreaker), init)
        }
        Layer::Timeout(t) => {
            let name = name_of(&t.name);
            let mut init = match t.rule {
                TimeoutRule::Fixed(d) => {
                    let d = duration_tokens(d);
                    quote!(#p::Timeout::fixed(#d))
                }
                TimeoutRule::Adaptive { percentile, multiplier } => {
                    quote!(#p::Timeout::adaptive(#percentile, #multiplier))
                }
            };
            for (method, value) in
                [("initial", t.initial), ("min", t.min), ("max", t.max), ("window", t.window)]
            {
                if let Some(d) = value {
                    let method = format_ident!("{}", method);
                    let d = duration_tokens(d);
                    init = quote!(#init.#method(#d));
                }
            }
            if let Some(w) = t.warmup {
                init = quote!(#init.warmup(#w));
            }
            (quote!(#p::Timeout), quote!(#init.name(#name).#build()))
        }
        Layer::Idempotent(i) => {
            let name = name_of(&i.name);
            let ttl = i.ttl.map(|d| {
                let d = duration_tokens(d);
                quote!(.ttl(#d))
            });
            let store = i.store.as_ref().map(|s| quote!(.store(#s)));
            let max = i.max_entries.map(|n| quote!(.max_entries(#n)));
            let wait = i.wait_in_flight.map(|d| {
                let d = duration_tokens(d);
                quote!(.wait_in_flight(#d))
            });
            let on_error = i.on_store_error_local.map(|local| {
                let variant = if local { quote!(Local) } else { quote!(Fail) };
                quote!(.on_store_error(#p::OnStoreError::#variant))
            });
            (
                quote!(#p::Idempotency),
                quote!(#p::Idempotency::builder().name(#name)#ttl #store #max #wait #on_error.#build()),
            )
        }
        Layer::Bulkhead(b) => {
            let (settings, init) = super::bulkhead::statics(b, &default_name, per.is_some());
            shared = settings;
            (quote!(#p::Bulkhead), init)
        }
        Layer::Fallback(f) => super::fallback::declare(name_of(&f.name)),
        Layer::Hedge(h) => super::hedge::declare(h, name_of(&h.name)),
        Layer::RateLimit(r) => {
            let name = name_of(&r.name);
            (quote!(#p::RateLimiter), super::rate_limit::init(r, name))
        }
    };
    let (ty, init) = match per {
        Some(per) => {
            (quote!(#p::Partitioned<#ty>), super::partition::wrap(per, the_name, init, shared))
        }
        None => (ty, init),
    };
    quote! {
        static #ident: #p::LazyLock<#ty> = #p::LazyLock::new(|| #init);
    }
}
