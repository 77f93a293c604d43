//! The default name of an annotated function: `module::path::fn`, or `module::path::Type::method`
//! inside an impl block (API.md section 6).
//!
//! An attribute on a method cannot see the impl's `Self` type, so the generated code declares an
//! empty fn item inside the method and passes its [`core::any::type_name`] here once, when the
//! policy is first built. That text (`crate::m::A::get::..`, `<crate::m::B as crate::m::Trait>::
//! get::..`, `crate::m::C<_>::get::..`, `crate::m::<impl crate::n::D>::get::..`) is not a stable
//! format: anything this module does not recognise gives `module::path::fn`, never a panic.

/// The default policy name of the function `fn_name`, declared in `module` (its
/// `module_path!()`), given the `type_name` of an item nested in its body.
///
/// Inside an impl block, inherent or trait, with or without a `self` receiver, the name is
/// `module::Type::fn` with the type's generic parameters left out; a function nested in another
/// function's body keeps the outer function in its path (`module::outer::inner`). The result
/// lives as long as the program, like the `static` policy that holds it: this runs once per
/// annotated function, never per call.
pub fn default_name(module: &'static str, fn_name: &'static str, nested: &str) -> &'static str {
    let name = method_path(module, fn_name, nested);
    Box::leak(name.into_boxed_str())
}

/// [`default_name`] without leaking: `module::Type::fn`, or `module::fn` for any `nested` text
/// it does not recognise.
pub fn method_path(module: &str, fn_name: &str, nested: &str) -> String {
    let fn_name = fn_name.strip_prefix("r#").unwrap_or(fn_name);
    let owner = owner(module, fn_name, nested).unwrap_or_default();
    let mut parts = Vec::with_capacity(owner.len() + 2);
    parts.push(module);
    parts.extend(owner);
    parts.push(fn_name);
    parts.join("::")
}

/// The segments between `module` and `fn_name`: `[Type]`, `[outer]`, `[outer, Type]`, or none.
fn owner<'a>(module: &str, fn_name: &str, nested: &'a str) -> Option<Vec<&'a str>> {
    let segments = split(nested)?;
    let at = segments.iter().rposition(|s| *s == fn_name)?;
    // Closures and const blocks between the function and the nested item, or around it.
    let path: Vec<&str> = segments[..at].iter().copied().filter(|s| !s.starts_with("{{")).collect();
    let module: Vec<&str> = module.split("::").collect();
    // `<X as Trait>`, `<X>` or `<impl X>`: what precedes it is the impl's module.
    let (ty, rest) = match path.iter().rposition(|s| s.starts_with('<')) {
        Some(i) => (self_type(path[i])?, &path[i + 1..]),
        None => (path, &[][..]),
    };
    let ty: Vec<&str> = ty.into_iter().map(strip_generics).collect::<Option<_>>()?;
    let mut owner = match after_module(&ty, &module) {
        Some(inside) => inside.to_vec(),
        // A type from another module (`impl other::D`): its own name, in the impl's module.
        None => ty.last().map(|t| vec![*t])?,
    };
    for segment in rest {
        owner.push(strip_generics(segment)?);
    }
    Some(owner)
}

/// What follows `module` in `path`. A module declared inside a function body does not have
/// that function in its `module_path!()`, but `type_name` shows it: `module`'s segments need
/// only appear in order, starting with the crate's.
fn after_module<'p, 's>(path: &'p [&'s str], module: &[&str]) -> Option<&'p [&'s str]> {
    let (krate, inner) = module.split_first()?;
    let mut rest = path.split_first().filter(|(first, _)| first == &krate)?.1;
    for want in inner {
        let at = rest.iter().position(|s| s == want)?;
        rest = &rest[at + 1..];
    }
    Some(rest)
}

/// `<X as Trait>`, `<X>` or `<impl X>` → the path segments of `X`, without references, `dyn`
/// or raw pointers. `None` for a type that is not a path (a slice, tuple, fn pointer, `_`).
fn self_type(qualified: &str) -> Option<Vec<&str>> {
    let inner = qualified.strip_prefix('<')?.strip_suffix('>')?;
    let inner = inner.strip_prefix("impl ").unwrap_or(inner);
    // `X as Trait` → `X`; `dyn Trait + Send` → `dyn Trait`.
    let mut ty = before(before(inner, " as "), " + ").trim();
    while let Some(t) =
        ["&mut ", "&", "*const ", "*mut ", "dyn "].iter().find_map(|p| ty.strip_prefix(p))
    {
        ty = t.trim_start();
    }
    split(ty)
}

/// The part of `text` before the first `pattern` (ASCII, so the cut is a char boundary) outside
/// brackets.
fn before<'t>(text: &'t str, pattern: &str) -> &'t str {
    let mut depth = 0usize;
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'<' | b'(' | b'[' => depth += 1,
            b'>' if i > 0 && bytes[i - 1] == b'-' => {}
            b'>' | b')' | b']' => depth = depth.saturating_sub(1),
            _ if depth == 0 && bytes[i..].starts_with(pattern.as_bytes()) => return &text[..i],
            _ => {}
        }
    }
    text
}

/// Splits at `::` outside brackets; `None` when the brackets do not balance.
fn split(text: &str) -> Option<Vec<&str>> {
    let mut segments = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'<' | b'(' | b'[' => depth += 1,
            b'>' if i > 0 && bytes[i - 1] == b'-' => {}
            b'>' | b')' | b']' => depth = depth.checked_sub(1)?,
            b':' if depth == 0 && bytes.get(i + 1) == Some(&b':') => {
                segments.push(&text[start..i]);
                i += 2;
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    (depth == 0).then(|| {
        segments.push(&text[start..]);
        segments
    })
}

/// `C<_>` → `C`; `None` unless what remains is an identifier (not `_`).
fn strip_generics(segment: &str) -> Option<&str> {
    let ident = match segment.split_once('<') {
        Some((ident, _)) => segment.ends_with('>').then_some(ident)?,
        None => segment,
    };
    let valid = !ident.is_empty()
        && ident != "_"
        && !ident.starts_with(|c: char| c.is_ascii_digit())
        && ident.chars().all(|c| c.is_alphanumeric() || c == '_');
    valid.then_some(ident)
}

#[cfg(test)]
mod tests {
    use super::method_path;

    /// What `type_name` printed for an fn item nested in each shape (rustc 1.95), and the name.
    const SHAPES: &[(&str, &str, &str)] = &[
        // Free fn.
        ("free", "app::svc::free::__resilient_here", "app::svc::free"),
        // Inherent impl, with and without a receiver.
        ("get", "app::svc::A::get::__resilient_here", "app::svc::A::get"),
        ("new", "app::svc::A::new::__resilient_here", "app::svc::A::new"),
        // Inside the policy's static initialiser.
        (
            "get",
            "app::svc::A::get::__RESILIENT_L0::{{closure}}::__resilient_here",
            "app::svc::A::get",
        ),
        // Generic inherent impl.
        ("get", "app::svc::C<_>::get::__resilient_here", "app::svc::C::get"),
        // Trait impls.
        ("get", "<app::svc::B as app::svc::Tr>::get::__resilient_here", "app::svc::B::get"),
        ("get", "<app::svc::C<_> as app::svc::Tr>::get::__resilient_here", "app::svc::C::get"),
        ("g", "<app::svc::A as app::svc::Gen<_>>::g::__resilient_here", "app::svc::A::g"),
        ("g", "<app::svc::C<alloc::vec::Vec<u8>> as app::Gen<fn() -> u8>>::g::x", "app::svc::C::g"),
        ("get", "<&app::svc::A as app::svc::Tr>::get::__resilient_here", "app::svc::A::get"),
        ("get", "<&mut app::svc::A as app::svc::Tr>::get::__resilient_here", "app::svc::A::get"),
        ("dm", "<dyn app::svc::Gen<u8>>::dm::__resilient_here", "app::svc::Gen::dm"),
        ("dm", "<dyn app::svc::Gen<u8> + core::marker::Send>::dm::x", "app::svc::Gen::dm"),
        ("p", "<*const app::svc::A as app::svc::Tr>::p::__resilient_here", "app::svc::A::p"),
        // A trait's default method: one policy for every implementor, named after the trait.
        ("d", "app::svc::Def::d::__resilient_here", "app::svc::Def::d"),
        // A trait impl for a type of another module or crate: the type's name, in this module.
        ("get", "<other::D as app::svc::Tr>::get::__resilient_here", "app::svc::D::get"),
        (
            "ix",
            "app::svc::<impl app::svc::inner::X>::ix::__resilient_here",
            "app::svc::inner::X::ix",
        ),
        ("ix", "app::svc::<impl other::X>::ix::__resilient_here", "app::svc::X::ix"),
        // `#[async_trait]` and other boxed bodies: the body is a closure inside the method.
        (
            "at",
            "<app::svc::A as app::svc::At>::at::{{closure}}::__resilient_here",
            "app::svc::A::at",
        ),
        ("boxed", "app::svc::boxed::{{closure}}::{{closure}}::__resilient_here", "app::svc::boxed"),
        // Nested in another function, a closure or a const block.
        ("inner", "app::svc::outer::inner::__resilient_here", "app::svc::outer::inner"),
        (
            "inner",
            "app::svc::outer::{{closure}}::inner::__resilient_here",
            "app::svc::outer::inner",
        ),
        ("m", "app::svc::outer::L::m::__resilient_here", "app::svc::outer::L::m"),
        (
            "inner",
            "<app::svc::B as app::Tr>::get::inner::__resilient_here",
            "app::svc::B::get::inner",
        ),
        ("k", "app::svc::{{constant}}::k::__resilient_here", "app::svc::k"),
        // A raw identifier.
        ("r#type", "app::svc::type::__resilient_here", "app::svc::type"),
        // Self types that are not paths, and text this module does not recognise.
        ("bl", "<_ as app::svc::Bl>::bl::__resilient_here", "app::svc::bl"),
        ("get", "<[u8] as app::svc::Tr>::get::__resilient_here", "app::svc::get"),
        ("get", "<(app::A, app::B) as app::svc::Tr>::get::__resilient_here", "app::svc::get"),
        ("get", "<fn() -> u8 as app::svc::Tr>::get::__resilient_here", "app::svc::get"),
        ("get", "app::svc::something::else", "app::svc::get"),
        ("get", "<app::svc::A as app::svc::Tr::get::x", "app::svc::get"),
        ("get", "app::svc::A>>::get::x", "app::svc::get"),
        ("get", "", "app::svc::get"),
        ("get", "::get::", "app::svc::get"),
        ("get", "<>::get", "app::svc::get"),
        ("get", "app::svc::A b::get::x", "app::svc::get"),
        ("get", "app::svc::A<u8> + x::get::x", "app::svc::get"),
        ("get", "app::svc::A::get", "app::svc::A::get"),
        ("get", "get", "app::svc::get"),
    ];

    #[test]
    fn every_shape() {
        for (fn_name, nested, want) in SHAPES {
            assert_eq!(method_path("app::svc", fn_name, nested), *want, "{nested}");
        }
    }

    /// Every prefix and suffix of every shape, and odd text: a name comes back, never a panic.
    #[test]
    fn never_panics() {
        let odd = ["::", "::::", "<", ">", "<<>>", "->", "<-> as ::", "é<ü>::get", "{{closure}}"];
        for text in SHAPES.iter().map(|(_, nested, _)| *nested).chain(odd) {
            for (i, _) in text.char_indices() {
                for part in [&text[..i], &text[i..]] {
                    let name = method_path("app::svc", "get", part);
                    assert!(name.starts_with("app::svc::") && name.ends_with("::get"), "{part}");
                }
            }
        }
    }

    /// A module declared inside a function body: `module_path!()` leaves the function out.
    #[test]
    fn module_inside_a_function() {
        let at = |f, nested| method_path("app::svc::m", f, nested);
        assert_eq!(at("get", "app::svc::f::m::A::get::__resilient_here"), "app::svc::m::A::get");
        assert_eq!(at("free", "app::svc::f::m::free::__resilient_here"), "app::svc::m::free");
        assert_eq!(at("get", "<app::svc::f::m::A as app::T>::get::x"), "app::svc::m::A::get");
    }

    /// What this compiler prints, so a change of format shows up here first.
    #[test]
    fn this_compiler() {
        mod m {
            pub struct A;
            pub struct C<T>(pub T);
            pub trait Tr {
                fn get(&self) -> String;
            }
            impl A {
                pub fn get(&self) -> String {
                    fn here() {}
                    super::method_path(module_path!(), "get", std::any::type_name_of_val(&here))
                }
            }
            impl<T> Tr for C<T> {
                fn get(&self) -> String {
                    fn here() {}
                    super::method_path(module_path!(), "get", std::any::type_name_of_val(&here))
                }
            }
            pub fn free() -> String {
                let f = || {
                    fn here() {}
                    super::method_path(module_path!(), "free", std::any::type_name_of_val(&here))
                };
                f()
            }
        }
        use m::Tr;
        // `module_path!()` in `m` leaves out the fn `this_compiler` that `m` is declared in.
        let module = concat!(module_path!(), "::m");
        assert_eq!(m::A.get(), format!("{module}::A::get"));
        assert_eq!(m::C(1).get(), format!("{module}::C::get"));
        assert_eq!(m::free(), format!("{module}::free"));
    }

    #[test]
    fn default_name_is_the_method_path() {
        let name = super::default_name("app", "get", "<app::A as app::Tr>::get::here");
        assert_eq!(name, "app::A::get");
    }
}
