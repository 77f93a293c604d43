//! How a partition's key is shown in the registry: chosen at the call site, by the key's type.
//!
//! `per` accepts keys without `Debug`, so showing one cannot be required of it. The attributes
//! ask instead, where the key's type is known:
//!
//! ```
//! use resilient_runtime::partition::{NoLabel as _, label_of};
//!
//! struct Opaque;
//! assert_eq!(label_of(&8080u16).describe().map(|d| d(&8080)), Some("8080".to_owned()));
//! assert!(label_of(&Opaque).describe().is_none());
//! ```

use std::fmt::Debug;
use std::marker::PhantomData;

/// The choice for keys of type `K`: [`describe`](Label::describe) is the `Debug` text when `K`
/// has one (an inherent method, preferred), else [`NoLabel::describe`]: nothing.
pub struct Label<K: ?Sized>(PhantomData<fn(&K)>);

/// The choice for `key`'s type.
pub fn label_of<K: ?Sized>(key: &K) -> Label<K> {
    let _ = key;
    Label(PhantomData)
}

impl<K: Debug + ?Sized> Label<K> {
    /// Keys of this type are shown as their `Debug` text.
    pub fn describe(&self) -> Option<fn(&K) -> String> {
        Some(|key| format!("{key:?}"))
    }
}

/// The fallback for key types without `Debug`: not shown.
pub trait NoLabel<K: ?Sized> {
    /// Keys of this type are not shown.
    fn describe(&self) -> Option<fn(&K) -> String> {
        None
    }
}

impl<K: ?Sized> NoLabel<K> for Label<K> {}
