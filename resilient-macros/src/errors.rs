//! Collects every error of an expansion so they are reported together.

use proc_macro2::TokenStream;

#[derive(Default)]
pub(crate) struct Errors {
    all: Option<syn::Error>,
    /// Appended to every message given to [`Errors::error`].
    hint: Option<String>,
}

impl Errors {
    /// Errors whose messages all end with `hint` (say, how to leave a method out of an impl
    /// block's attribute).
    pub(crate) fn with_hint(hint: String) -> Errors {
        Errors { all: None, hint: Some(hint) }
    }

    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.all {
            Some(all) => all.combine(error),
            None => self.all = Some(error),
        }
    }

    pub(crate) fn error(&mut self, span: impl quote::ToTokens, message: impl std::fmt::Display) {
        let message = match &self.hint {
            Some(hint) => format!("{message}{hint}"),
            None => message.to_string(),
        };
        self.push(syn::Error::new_spanned(span, message));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.all.is_none()
    }

    pub(crate) fn to_compile_errors(&self) -> TokenStream {
        self.all.as_ref().map(syn::Error::to_compile_error).unwrap_or_default()
    }

    /// Takes the errors of `other` in.
    pub(crate) fn extend(&mut self, other: Errors) {
        if let Some(e) = other.all {
            self.push(e);
        }
    }
}
