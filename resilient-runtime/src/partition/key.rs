//! What `per = expr` may key partitions by, and how a key is kept once its partition exists.

use std::any::Any;
use std::fmt::{self, Display, Write as _};
use std::hash::{BuildHasher, Hash};

/// The hasher of every partition map: fast, and seeded per process.
pub(crate) type Hasher = hashbrown::DefaultHashBuilder;

/// A value that tells partitions apart: what `per = expr` evaluates to.
///
/// Implemented for every `T: Hash + Eq + Clone + Send + Sync + 'static` (kept as it is: cloned
/// once, when its partition is created), for `str` (kept as text), and for [`Text`], which
/// keys by a value's `Display` text; see [`text`].
///
/// A lookup borrows the key: finding an existing partition hashes and compares it, and neither
/// clones nor allocates.
#[diagnostic::on_unimplemented(
    message = "`per` cannot key partitions by `{Self}`: it must be `Hash + Eq + Clone + Send + Sync + 'static`",
    label = "one policy instance is kept per distinct value of this expression",
    note = "key by a field that is (an address, an id), derive the traits, or key by the value's `Display` text: `per = resilient::partition::text(value)`"
)]
pub trait PartitionKey {
    /// The key's hash under `hasher`; a key and the [`StoredKey`] made of it hash alike.
    fn partition_hash(&self, hasher: &Hasher) -> u64;
    /// True when `stored` was made from a key equal to this one.
    fn same_as(&self, stored: &dyn StoredKey) -> bool;
    /// The key as its partition keeps it.
    fn to_stored(&self) -> Box<dyn StoredKey>;
}

/// A key as a partition keeps it.
pub trait StoredKey: Send + Sync + 'static {
    /// The key, to compare it with a lookup's.
    fn as_any(&self) -> &dyn Any;
    /// The key's text, for text keys: the registry shows it as it is.
    fn label(&self) -> Option<&str> {
        None
    }
}

impl<T: Hash + Eq + Clone + Send + Sync + 'static> PartitionKey for T {
    #[inline]
    fn partition_hash(&self, hasher: &Hasher) -> u64 {
        hasher.hash_one(self)
    }

    #[inline]
    fn same_as(&self, stored: &dyn StoredKey) -> bool {
        stored.as_any().downcast_ref::<Kept<T>>().is_some_and(|k| k.0 == *self)
    }

    fn to_stored(&self) -> Box<dyn StoredKey> {
        Box::new(Kept(self.clone()))
    }
}

/// A key kept as it is.
struct Kept<T>(T);

impl<T: Send + Sync + 'static> StoredKey for Kept<T> {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A key kept as text: from `str` or [`Text`].
struct TextKey(Box<str>);

impl StoredKey for TextKey {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn label(&self) -> Option<&str> {
        Some(&self.0)
    }
}

impl PartitionKey for str {
    #[inline]
    fn partition_hash(&self, hasher: &Hasher) -> u64 {
        hasher.hash_one(self)
    }

    #[inline]
    fn same_as(&self, stored: &dyn StoredKey) -> bool {
        stored.as_any().downcast_ref::<TextKey>().is_some_and(|t| &*t.0 == self)
    }

    fn to_stored(&self) -> Box<dyn StoredKey> {
        Box::new(TextKey(self.into()))
    }
}

/// Keys partitions by `value`'s `Display` text, for values that are not `Hash + Eq + 'static`
/// (a borrowed `&str`, a type without `Hash`):
///
/// ```
/// # #[derive(Debug)] enum E { R(resilient_runtime::Error) }
/// # impl From<resilient_runtime::Error> for E { fn from(e: resilient_runtime::Error) -> Self { E::R(e) } }
/// # /*
/// #[circuit_breaker(per = resilient::partition::text(host))]
/// async fn get(host: &str, path: &str) -> Result<Vec<u8>, E> { .. }
/// # */
/// let key = resilient_runtime::partition::text(&"db-1:5432");
/// assert_eq!(key.to_string(), "db-1:5432");
/// ```
///
/// Text up to 128 bytes is formatted on the stack: looking up an existing partition allocates
/// nothing. The registry shows the text.
pub fn text<D: Display + ?Sized>(value: &D) -> Text<'_, D> {
    Text(value)
}

/// A value keyed by its `Display` text; see [`text`].
pub struct Text<'a, D: ?Sized>(&'a D);

impl<D: Display + ?Sized> Display for Text<'_, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<D: Display + ?Sized> Text<'_, D> {
    /// Runs `f` on the text, formatted on the stack when it fits.
    #[inline]
    fn with<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        let mut buf = StackText { bytes: [0; 128], len: 0 };
        if write!(buf, "{}", self.0).is_ok() {
            // Only whole `&str`s are copied in, so the bytes are UTF-8.
            f(std::str::from_utf8(&buf.bytes[..buf.len]).unwrap_or_default())
        } else {
            f(&self.0.to_string())
        }
    }
}

struct StackText {
    bytes: [u8; 128],
    len: usize,
}

impl fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let room = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        room.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl<D: Display + ?Sized> PartitionKey for Text<'_, D> {
    #[inline]
    fn partition_hash(&self, hasher: &Hasher) -> u64 {
        self.with(|s| PartitionKey::partition_hash(s, hasher))
    }

    #[inline]
    fn same_as(&self, stored: &dyn StoredKey) -> bool {
        self.with(|s| PartitionKey::same_as(s, stored))
    }

    fn to_stored(&self) -> Box<dyn StoredKey> {
        self.with(str::to_stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_their_stored_form_only() {
        let h = Hasher::default();
        let stored = 7u64.to_stored();
        assert!(7u64.same_as(&*stored));
        assert!(!8u64.same_as(&*stored));
        assert!(!7u32.same_as(&*stored), "another type is another key");
        assert_eq!(stored.label(), None);

        let host = String::from("db-1");
        let stored = text(&host).to_stored();
        assert!("db-1".same_as(&*stored));
        assert!(text(&"db-1").same_as(&*stored));
        assert_eq!(text(&host).partition_hash(&h), "db-1".partition_hash(&h));
        assert!(!host.same_as(&*stored), "a String key is not a text key");
        assert_eq!(stored.label(), Some("db-1"));
    }

    #[test]
    fn long_text_falls_back_to_the_heap() {
        let long = "x".repeat(300);
        let stored = text(&long).to_stored();
        assert!(text(&long).same_as(&*stored));
        assert_eq!(stored.label().map(str::len), Some(300));
    }
}
