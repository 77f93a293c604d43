//! The marker a fused expansion leaves at the top of the body when other attribute macros are
//! still to expand, so that a resilient attribute fusion could not recognise (a renamed import)
//! finds the layers already applied and the user's original body, and fuses with them.
//!
//! ```text
//! ::resilient::__private::fused! {
//!     layers { retry(max = 3) timeout("1s") }
//!     body { ORIGINAL STATEMENTS }
//! }
//! ```

use proc_macro2::{Delimiter, Ident, TokenStream, TokenTree};
use quote::quote;
use syn::{Block, Stmt};

use crate::layers::Kind;

pub(crate) struct Marker {
    pub(crate) layers: Vec<(Kind, TokenStream)>,
    pub(crate) body: Block,
}

pub(crate) fn emit(layers: &[(Kind, TokenStream)], body: &Block) -> TokenStream {
    let layers = layers.iter().map(|(kind, tokens)| {
        let name = Ident::new(kind.name(), proc_macro2::Span::call_site());
        quote!(#name(#tokens))
    });
    let stmts = &body.stmts;
    quote! {
        ::resilient::__private::fused! {
            layers { #(#layers)* }
            body { #(#stmts)* }
        }
    }
}

/// The marker, if `body` starts with one.
pub(crate) fn find(body: &Block) -> Option<Marker> {
    let Some(Stmt::Macro(m)) = body.stmts.first() else { return None };
    if m.mac.path.segments.last()?.ident != "fused" {
        return None;
    }
    let mut sections = m.mac.tokens.clone().into_iter();
    let mut next_group = |name: &str| -> Option<TokenStream> {
        match (sections.next()?, sections.next()?) {
            (TokenTree::Ident(i), TokenTree::Group(g))
                if i == name && g.delimiter() == Delimiter::Brace =>
            {
                Some(g.stream())
            }
            _ => None,
        }
    };
    let (layer_tokens, body_tokens) = (next_group("layers")?, next_group("body")?);
    let mut layers = Vec::new();
    let mut tokens = layer_tokens.into_iter();
    while let Some(TokenTree::Ident(name)) = tokens.next() {
        let Some(TokenTree::Group(args)) = tokens.next() else { return None };
        layers.push((Kind::from_name(&name.to_string())?, args.stream()));
    }
    let body = syn::parse2(quote!({ #body_tokens })).ok()?;
    Some(Marker { layers, body })
}
