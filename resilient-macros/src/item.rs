//! What the expansion needs to know about the annotated function, and the checks that need it.

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::visit_mut::VisitMut;
use syn::{FnArg, ItemFn, Pat, ReturnType, Type};

use crate::errors::Errors;

/// How an argument reaches each attempt of a retried body.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Passing {
    /// `&T`: copied into every attempt.
    Shared,
    /// `&mut T`: reborrowed for every attempt.
    Unique,
    /// Owned: cloned for every attempt but the last, which gets the original.
    Owned,
}

pub(crate) struct Binding {
    pub(crate) ident: Ident,
    pub(crate) mutable: bool,
    pub(crate) passing: Passing,
    /// Where to blame a missing `Clone`: the argument's type.
    pub(crate) span_tokens: TokenStream,
    /// The binding's type, when the argument is a plain name (`x: T`, `mut x: T`); `None` for
    /// the receiver and for names bound by a destructuring pattern.
    pub(crate) ty: Option<Type>,
    /// The argument's type is one of the function's type parameters or an `impl Trait`: a
    /// missing `Clone` is then a missing bound.
    pub(crate) type_parameter: bool,
}

pub(crate) struct FnInfo {
    pub(crate) item: ItemFn,
    /// The body the layers wrap: the fn's block, or the inside of `#[async_trait]`'s
    /// `Box::pin(async move { .. })`.
    pub(crate) body: syn::Block,
    /// The function returns a boxed future (`#[async_trait]`): the generated body is boxed too.
    pub(crate) boxed: bool,
    /// Every name the arguments bind (the receiver as `__resilient_self`), in order.
    pub(crate) bindings: Vec<Binding>,
    pub(crate) has_receiver: bool,
    pub(crate) output: Type,
}

impl FnInfo {
    /// The argument an `#[idempotent]` without `key` uses: the one of type `IdempotencyKey`, or
    /// the one named `idempotency_key`.
    pub(crate) fn default_idempotency_key(&self) -> Option<&Ident> {
        let by_type = self.bindings.iter().find(|b| {
            let ty = b.span_tokens.to_string().replace(' ', "");
            ty.ends_with("IdempotencyKey") && b.passing != Passing::Unique
        });
        by_type
            .or_else(|| self.bindings.iter().find(|b| b.ident == "idempotency_key"))
            .map(|b| &b.ident)
    }
}

/// The identifier the body's `self` becomes, so each attempt can rebind it.
pub(crate) fn self_ident(span: Span) -> Ident {
    Ident::new("__resilient_self", Span::mixed_site().located_at(span))
}

/// Parses the annotated item; anything but an `async fn` with a body and a return type is an
/// error that says what to write instead.
pub(crate) fn analyse(item: TokenStream, attr: &str, errors: &mut Errors) -> Option<FnInfo> {
    let item: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            not_a_fn(item, attr, errors);
            return None;
        }
    };
    // `#[async_trait]` on the impl has already turned `async fn` into
    // `fn .. -> Pin<Box<dyn Future<Output = R> + ..>> { Box::pin(async move { .. }) }`.
    let boxed = boxed_future(&item);
    if item.sig.asyncness.is_none() && boxed.is_none() {
        let message = match attr {
            "hedge" => format!(
                "`#[hedge]` runs attempts at the same time, which a blocking `fn` cannot do: make this function `async fn {}`",
                item.sig.ident
            ),
            _ => format!(
                "`#[{attr}]` works on `async fn`s; make this function `async fn {}`",
                item.sig.ident
            ),
        };
        errors.error(item.sig.fn_token, message);
    }
    let output = match (&boxed, &item.sig.output) {
        (Some((output, _)), _) => check_output(output, attr, errors).then(|| output.clone()),
        (None, ReturnType::Type(_, ty)) => check_output(ty, attr, errors).then(|| (**ty).clone()),
        (None, ReturnType::Default) => {
            errors.error(
                &item.sig.ident,
                format!(
                    "`#[{attr}]` needs a function that returns `Result<T, E>`; `{}` returns `()`",
                    item.sig.ident
                ),
            );
            None
        }
    };
    let mut bindings = Vec::new();
    let mut has_receiver = false;
    for input in &item.sig.inputs {
        match input {
            FnArg::Receiver(r) => {
                has_receiver = true;
                let passing = match (&r.reference, &*r.ty) {
                    (Some(_), _) => {
                        if r.mutability.is_some() {
                            Passing::Unique
                        } else {
                            Passing::Shared
                        }
                    }
                    (None, Type::Reference(t)) => {
                        if t.mutability.is_some() {
                            Passing::Unique
                        } else {
                            Passing::Shared
                        }
                    }
                    _ => Passing::Owned,
                };
                bindings.push(Binding {
                    ident: self_ident(r.self_token.span),
                    mutable: r.reference.is_none() && r.mutability.is_some(),
                    passing,
                    span_tokens: r.to_token_stream(),
                    ty: None,
                    type_parameter: false,
                });
            }
            FnArg::Typed(t) => {
                let passing = match &*t.ty {
                    Type::Reference(r) if r.mutability.is_some() => Passing::Unique,
                    Type::Reference(_) => Passing::Shared,
                    _ => Passing::Owned,
                };
                let mut names = Vec::new();
                collect_bindings(&t.pat, &mut names);
                let plain = matches!(&*t.pat, Pat::Ident(p) if p.subpat.is_none());
                let type_parameter = is_type_parameter(&t.ty, &item.sig.generics);
                for (ident, mutable, by_ref) in names {
                    bindings.push(Binding {
                        ident,
                        mutable,
                        passing: if by_ref { Passing::Shared } else { passing },
                        span_tokens: t.ty.to_token_stream(),
                        ty: plain.then(|| (*t.ty).clone()),
                        type_parameter,
                    });
                }
            }
        }
    }
    let output = output?;
    let (body, boxed) = match boxed {
        Some((_, body)) => (body, true),
        None => ((*item.block).clone(), false),
    };
    errors.is_empty().then_some(FnInfo { item, body, boxed, bindings, has_receiver, output })
}

/// `T` where the function declares `<T>`, or `impl Trait`.
fn is_type_parameter(ty: &Type, generics: &syn::Generics) -> bool {
    match ty {
        Type::ImplTrait(_) => true,
        Type::Path(p) if p.qself.is_none() => p
            .path
            .get_ident()
            .is_some_and(|ident| generics.type_params().any(|param| param.ident == *ident)),
        Type::Group(g) => is_type_parameter(&g.elem, generics),
        Type::Paren(p) => is_type_parameter(&p.elem, generics),
        _ => false,
    }
}

/// The output type and async block of a function `#[async_trait]` has already expanded.
pub(crate) fn boxed_future(item: &ItemFn) -> Option<(Type, syn::Block)> {
    let ReturnType::Type(_, ty) = &item.sig.output else { return None };
    let output = future_output(last_generic(ty, "Pin")?)?;
    let [syn::Stmt::Expr(syn::Expr::Call(call), None)] = item.block.stmts.as_slice() else {
        return None;
    };
    let syn::Expr::Path(func) = &*call.func else { return None };
    let names: Vec<String> = func.path.segments.iter().map(|s| s.ident.to_string()).collect();
    if !names.ends_with(&["Box".into(), "pin".into()]) || call.args.len() != 1 {
        return None;
    }
    match &call.args[0] {
        syn::Expr::Async(a) if a.capture.is_some() => Some((output, a.block.clone())),
        _ => None,
    }
}

/// `T` of `...::Name<T>`.
fn last_generic<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    if seg.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &seg.arguments else { return None };
    args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// `R` of `Box<dyn Future<Output = R> + ..>`.
fn future_output(boxed: &Type) -> Option<Type> {
    let Type::TraitObject(obj) = last_generic(boxed, "Box")? else { return None };
    obj.bounds.iter().find_map(|b| {
        let syn::TypeParamBound::Trait(t) = b else { return None };
        let seg = t.path.segments.last()?;
        let syn::PathArguments::AngleBracketed(args) = &seg.arguments else { return None };
        (seg.ident == "Future").then_some(())?;
        args.args.iter().find_map(|a| match a {
            syn::GenericArgument::AssocType(at) if at.ident == "Output" => Some(at.ty.clone()),
            _ => None,
        })
    })
}

fn not_a_fn(item: TokenStream, attr: &str, errors: &mut Errors) {
    if let Ok(decl) = syn::parse2::<syn::TraitItemFn>(item.clone()) {
        errors.error(
            &decl.sig,
            format!("`#[{attr}]` needs the function's body: put it on the method in the `impl`, not on its declaration in the trait"),
        );
        return;
    }
    let what = match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Struct(_)) => "a struct",
        Ok(syn::Item::Enum(_)) => "an enum",
        Ok(syn::Item::Trait(_)) => "a trait",
        Ok(syn::Item::Mod(_)) => "a module",
        Ok(syn::Item::Const(_) | syn::Item::Static(_)) => "a constant",
        _ => "not a function",
    };
    let blame = item.into_iter().find(|t| !matches!(t, TokenTree::Punct(_) | TokenTree::Group(_)));
    let message = format!("`#[{attr}]` goes on an `async fn` or an `impl` block; this is {what}");
    match blame {
        Some(t) => errors.error(t, message),
        None => errors.push(syn::Error::new(Span::call_site(), message)),
    }
}

/// Rejects return types that cannot be a `Result`; aliases (`io::Result<T>`, `anyhow::Result<T>`)
/// pass here and are checked by the type system.
fn check_output(ty: &Type, attr: &str, errors: &mut Errors) -> bool {
    let named = match ty {
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        Type::Group(g) => return check_output(&g.elem, attr, errors),
        Type::Paren(p) => return check_output(&p.elem, attr, errors),
        _ => None,
    };
    const NOT_RESULTS: &[&str] = &[
        "Option", "String", "Vec", "Box", "bool", "char", "str", "u8", "u16", "u32", "u64", "u128",
        "usize", "i8", "i16", "i32", "i64", "i128", "isize", "f32", "f64",
    ];
    let ok = match &named {
        Some(n) => !NOT_RESULTS.contains(&n.as_str()),
        None => false,
    };
    if !ok {
        errors.error(
            ty,
            format!(
                "`#[{attr}]` needs a function that returns `Result<T, E>` (any alias of it works); this returns `{}`",
                ty.to_token_stream()
            ),
        );
    }
    ok
}

fn collect_bindings(pat: &Pat, out: &mut Vec<(Ident, bool, bool)>) {
    match pat {
        Pat::Ident(p) => {
            out.push((p.ident.clone(), p.mutability.is_some(), p.by_ref.is_some()));
            if let Some((_, sub)) = &p.subpat {
                collect_bindings(sub, out);
            }
        }
        Pat::Tuple(t) => t.elems.iter().for_each(|p| collect_bindings(p, out)),
        Pat::TupleStruct(t) => t.elems.iter().for_each(|p| collect_bindings(p, out)),
        Pat::Struct(s) => s.fields.iter().for_each(|f| collect_bindings(&f.pat, out)),
        Pat::Slice(s) => s.elems.iter().for_each(|p| collect_bindings(p, out)),
        Pat::Reference(r) => collect_bindings(&r.pat, out),
        Pat::Paren(p) => collect_bindings(&p.pat, out),
        Pat::Type(t) => collect_bindings(&t.pat, out),
        _ => {}
    }
}

/// Renames `self` in the body to `__resilient_self`, leaving nested items (which have their own
/// `self`) alone. Macro arguments are renamed too, since `println!("{}", self.x)` must keep
/// working.
pub(crate) struct ReplaceSelf;

impl VisitMut for ReplaceSelf {
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}

    fn visit_expr_path_mut(&mut self, e: &mut syn::ExprPath) {
        if e.qself.is_none() && e.path.leading_colon.is_none() && e.path.segments.len() == 1 {
            let seg = &mut e.path.segments[0];
            if seg.ident == "self" {
                seg.ident = self_ident(seg.ident.span());
                return;
            }
        }
        syn::visit_mut::visit_expr_path_mut(self, e);
    }

    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
        m.tokens = replace_self_tokens(std::mem::take(&mut m.tokens));
    }
}

fn replace_self_tokens(tokens: TokenStream) -> TokenStream {
    let mut out = Vec::new();
    let mut iter = tokens.into_iter().peekable();
    while let Some(tt) = iter.next() {
        match tt {
            TokenTree::Ident(i) if i == "self" => {
                // `self::path` names a module, not the receiver.
                let is_path =
                    matches!(iter.peek(), Some(TokenTree::Punct(p)) if p.as_char() == ':');
                out.push(if is_path {
                    TokenTree::Ident(i)
                } else {
                    TokenTree::Ident(self_ident(i.span()))
                });
            }
            TokenTree::Group(g) => {
                let mut ng =
                    proc_macro2::Group::new(g.delimiter(), replace_self_tokens(g.stream()));
                ng.set_span(g.span());
                out.push(TokenTree::Group(ng));
            }
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}
