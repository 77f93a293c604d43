//! A resilient attribute on an `impl` block: it goes onto every `async fn` in the block, as if
//! written there, above the method's own attributes.
//!
//! ```text
//! #[retry(max = 3)] #[circuit_breaker]          (the outermost expands first and takes the rest)
//! impl Client {
//!     async fn get(..) -> Result<..>               gets  #[::resilient::retry(max = 3)]
//!                                                        #[::resilient::circuit_breaker]
//!     #[retry(max = 5)] async fn put(..) -> ..     gets  #[::resilient::circuit_breaker] only
//!     #[resilient::skip] async fn ping(..) -> ..   left out
//!     fn sync(..) -> ..                            left as it is
//! }
//! ```
//!
//! The attributes put on a method then expand like any stacked attributes: the first fuses the
//! others into one pipeline, named after the method. The block's other resilient attributes stay
//! on the impl, consumed (they expand to nothing), so their imports count as used.
//! `#[async_trait]` may stand above or below: above, it has already turned the `async fn`s into
//! boxed futures, recognised by its `'async_trait` lifetime; below, it boxes them after this
//! expansion and before the methods' attributes expand, as it does for attributes written on
//! the methods.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::{Attribute, ImplItem, ImplItemFn, ItemImpl, Meta};

use crate::errors::Errors;
use crate::item;
use crate::layers::{self, Kind, Layer};

/// One resilient attribute written on the block.
struct BlockAttr {
    kind: Kind,
    tokens: TokenStream,
    /// The attribute on the block, for errors about the block.
    span: Span,
}

impl BlockAttr {
    /// `#[::resilient::<kind>(<tokens>)]`, to stand on a method. The arguments keep their own
    /// spans; the rest is spanned at `at` (the method's name), so what goes wrong on this method
    /// only (a return type the compiler finds is no `Result`) is reported at the method.
    fn to_attribute(&self, at: Span) -> Attribute {
        let name = Ident::new(self.kind.name(), at);
        let tokens = &self.tokens;
        match tokens.is_empty() {
            true => syn::parse_quote_spanned!(at=> #[::resilient::#name]),
            false => syn::parse_quote_spanned!(at=> #[::resilient::#name(#tokens)]),
        }
    }
}

pub(crate) fn expand(kind: Kind, args: TokenStream, mut block: ItemImpl) -> TokenStream {
    let mut errors = Errors::default();
    let mut attrs = vec![BlockAttr { kind, tokens: args, span: Span::call_site() }];
    take_block_attrs(&mut attrs, &mut block.attrs, &mut errors);
    // The arguments and their combination are checked once, here, rather than on every method.
    let mut parsed = Vec::new();
    for a in &attrs {
        if let Some(layer) = Layer::parse(a.kind, a.tokens.clone(), &mut errors) {
            parsed.push((layer, a.span));
        }
    }
    layers::check_combination(&parsed, &mut errors);
    if !errors.is_empty() {
        // The block as written; its other resilient attributes stay consumed, so their imports
        // count as used and only these errors show.
        let errors = errors.to_compile_errors();
        return quote!(#errors #block);
    }
    let mut targets = 0;
    for item in &mut block.items {
        let ImplItem::Fn(method) = item else { continue };
        if !is_async(method) || method.attrs.iter().any(is_skip) {
            continue;
        }
        targets += 1;
        let own: Vec<Kind> = method.attrs.iter().filter_map(Kind::of).collect();
        let apply: Vec<usize> =
            (0..attrs.len()).filter(|&i| !own.contains(&attrs[i].kind)).collect();
        if apply.is_empty() {
            continue;
        }
        let taken = check_method(method, &attrs, &parsed, &apply);
        if !taken.is_empty() {
            // The method stays as written: one error, not one more per layer.
            errors.extend(taken);
            continue;
        }
        let at = method.sig.ident.span();
        let copies = apply.iter().map(|&i| attrs[i].to_attribute(at));
        method.attrs.splice(0..0, copies);
    }
    let opaque =
        block.items.iter().any(|i| matches!(i, ImplItem::Macro(_) | ImplItem::Verbatim(_)));
    if targets == 0 && !opaque {
        let (names, they) = listed(&attrs.iter().collect::<Vec<_>>());
        let (have, them) = if they == "it" { ("has", "it") } else { ("have", "them") };
        errors.push(syn::Error::new(
            Span::call_site(),
            format!(
                "{names} on this impl block {have} no `async fn` to apply to (sync fns are left as they are, \
                 and methods with `#[resilient::skip]` are left out): put {them} on the methods {they} {is} meant for, or remove {them}",
                is = if they == "it" { "is" } else { "are" },
            ),
        ));
    }
    let errors = errors.to_compile_errors();
    quote!(#errors #block)
}

/// Moves the resilient attributes still on the impl (below the one expanding) into `attrs`, in
/// source order, and leaves them on the impl consumed.
fn take_block_attrs(attrs: &mut Vec<BlockAttr>, on_impl: &mut Vec<Attribute>, errors: &mut Errors) {
    on_impl.retain_mut(|attr| {
        let Some(kind) = Kind::of(attr) else { return true };
        let tokens = match &attr.meta {
            Meta::Path(_) => TokenStream::new(),
            Meta::List(list) => list.tokens.clone(),
            Meta::NameValue(nv) => {
                errors.error(nv, format!("write `#[{}(...)]`, with the arguments in parentheses", kind.name()));
                return false;
            }
        };
        if layers::is_consumed(&tokens) {
            return true;
        }
        if attrs.iter().any(|a| a.kind == kind) {
            errors.error(
                attr,
                format!(
                    "`#[{}]` is already on this impl block; one layer of each kind is enough: merge the arguments into one attribute",
                    kind.name()
                ),
            );
            return false;
        }
        attrs.push(BlockAttr { kind, tokens, span: attr.span() });
        let path = attr.path().clone();
        attr.meta = syn::parse_quote!(#path(__resilient_consumed));
        true
    });
}

/// An `async fn`, or one `#[async_trait]` (standing above the block's attribute) has already
/// turned into a boxed future: it adds the lifetime `'async_trait`. A hand-written fn returning
/// a boxed future is a sync fn, left as it is.
fn is_async(method: &ImplItemFn) -> bool {
    if method.sig.asyncness.is_some() {
        return true;
    }
    let async_trait = method.sig.generics.lifetimes().any(|l| l.lifetime.ident == "async_trait");
    async_trait && item::boxed_future(&as_item_fn(method)).is_some()
}

fn as_item_fn(method: &ImplItemFn) -> syn::ItemFn {
    syn::ItemFn {
        attrs: method.attrs.clone(),
        vis: method.vis.clone(),
        sig: method.sig.clone(),
        block: Box::new(method.block.clone()),
    }
}

/// `#[resilient::skip]`, `#[::resilient::skip]` or an imported `#[skip]`.
fn is_skip(attr: &Attribute) -> bool {
    let path = attr.path();
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    match segments.as_slice() {
        [only] => path.leading_colon.is_none() && only == "skip",
        [krate, last] => krate == "resilient" && last == "skip",
        _ => false,
    }
}

/// The errors the block's attributes `apply` would raise on this method, each ending with how to
/// leave the method out.
fn check_method(
    method: &ImplItemFn,
    attrs: &[BlockAttr],
    parsed: &[(Layer, Span)],
    apply: &[usize],
) -> Errors {
    let (names, they) = listed(&apply.iter().map(|&i| &attrs[i]).collect::<Vec<_>>());
    let (stand, apply_to) = if they == "it" { ("stands", "applies") } else { ("stand", "apply") };
    let hint = format!(
        ". {names} {stand} on the impl block, so {they} {apply_to} to every `async fn` in it: \
         add `#[resilient::skip]` to this method to leave it out"
    );
    let mut errors = Errors::with_hint(hint);
    let first = attrs[apply[0]].kind.name();
    let Some(info) = item::analyse(as_item_fn(method).into_token_stream(), first, &mut errors)
    else {
        return errors;
    };
    for &i in apply {
        if let (Layer::Idempotent(args), _) = &parsed[i]
            && args.key.is_none()
            && info.default_idempotency_key().is_none()
        {
            errors.error(
                &method.sig,
                "`#[idempotent]` needs a key, and this method has none: take an argument of type `resilient::IdempotencyKey` \
                 or named `idempotency_key`, or write `#[idempotent(key = ...)]` on the method",
            );
        }
    }
    errors
}

/// "`#[retry]`" and "it", or "`#[retry]` and `#[timeout]`" and "they".
fn listed(attrs: &[&BlockAttr]) -> (String, &'static str) {
    let names: Vec<String> = attrs.iter().map(|a| format!("`#[{}]`", a.kind.name())).collect();
    let names = match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.concat(),
    };
    (names, if attrs.len() == 1 { "it" } else { "they" })
}
