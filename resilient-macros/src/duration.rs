//! Duration strings (`"250ms"`, `"30s"`, `"1.5s"`, `"5m"`, `"24h"`) checked at compile time,
//! by `resilient-spec`'s parser (the one configuration files go through).

use std::time::Duration;

use proc_macro2::TokenStream;
use quote::quote;

/// A duration literal as written, with its value.
#[derive(Clone)]
pub(crate) struct DurationLit {
    pub(crate) value: Duration,
}

/// `::core::time::Duration::new(secs, nanos)`, usable in const and static contexts.
pub(crate) fn duration_tokens(d: Duration) -> TokenStream {
    let (secs, nanos) = (d.as_secs(), d.subsec_nanos());
    quote!(::core::time::Duration::new(#secs, #nanos))
}
