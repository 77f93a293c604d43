//! How `#[idempotent]` turns its key argument into text: keys of the common types (integers,
//! strings, [`IdempotencyKey`], `Uuid`) write their text directly, every other `Display` type
//! through `core::fmt`. Both give the same text, so a key is the same key either way.
//!
//! The choice is made at compile time by method resolution (autoref specialisation): the
//! attribute calls `(&&KeyArg(&key)).idempotency_key(&policy)` with the three traits below in
//! scope, and the first that applies wins: [`KeyByText`] (on `&KeyArg`), then [`KeyByDisplay`]
//! (on `&&KeyArg`, one autoref further), then [`KeyByNothing`] (on `KeyArg`, after a deref),
//! which only a key that is not `Display` reaches, and which [`key_is_display`] has already
//! turned into a compile error naming the key's type.

use std::fmt::Display;

use uuid::Uuid;

use super::{Idempotency, IdempotencyKey, Key};

/// The key argument, borrowed for the dispatch above.
#[doc(hidden)]
pub struct KeyArg<'a, T: ?Sized>(pub &'a T);

/// A key type whose text is written without `core::fmt`, exactly as its `Display` writes it.
#[doc(hidden)]
pub trait TextKey {
    /// Writes the key's text, as [`Idempotency::key`] would format it, into `out`, a
    /// [`Key::blank`].
    fn text_key(&self, policy: &Idempotency, out: &mut Key);
}

/// The fast path: [`TextKey`] types.
#[doc(hidden)]
pub trait KeyByText {
    /// Writes the key's text into `out`, a [`Key::blank`].
    fn idempotency_key(&self, policy: &Idempotency, out: &mut Key);
}

/// Every other `Display` type.
#[doc(hidden)]
pub trait KeyByDisplay {
    /// Writes the key's text into `out`, a [`Key::blank`].
    fn idempotency_key(&self, policy: &Idempotency, out: &mut Key);
}

/// A key that is not `Display`: never compiles, see [`key_is_display`].
#[doc(hidden)]
pub trait KeyByNothing {
    /// Unreachable in a program that compiles.
    fn idempotency_key(&self, policy: &Idempotency, out: &mut Key);
}

impl<T: TextKey + ?Sized> KeyByText for &KeyArg<'_, T> {
    #[inline]
    fn idempotency_key(&self, policy: &Idempotency, out: &mut Key) {
        self.0.text_key(policy, out);
    }
}

impl<T: Display + ?Sized> KeyByDisplay for &&KeyArg<'_, T> {
    #[inline]
    fn idempotency_key(&self, policy: &Idempotency, out: &mut Key) {
        *out = policy.key(&self.0);
    }
}

impl<T: ?Sized> KeyByNothing for KeyArg<'_, T> {
    fn idempotency_key(&self, policy: &Idempotency, out: &mut Key) {
        *out = policy.key(&"");
    }
}

/// The attribute's check that a key is `Display`: the error a user sees for one that is not.
#[doc(hidden)]
#[inline(always)]
pub fn key_is_display<T: Display + ?Sized>(_key: &T) {}

macro_rules! integer_keys {
    ($($t:ty)*) => {$(
        impl TextKey for $t {
            #[inline]
            fn text_key(&self, _: &Idempotency, out: &mut Key) {
                out.set_short(itoa::Buffer::new().format(*self));
            }
        }
    )*};
}

integer_keys!(u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize);

impl TextKey for str {
    #[inline]
    fn text_key(&self, policy: &Idempotency, out: &mut Key) {
        policy.key_from_str(self, out);
    }
}

impl TextKey for String {
    #[inline]
    fn text_key(&self, policy: &Idempotency, out: &mut Key) {
        policy.key_from_str(self, out);
    }
}

impl TextKey for Uuid {
    #[inline]
    fn text_key(&self, _: &Idempotency, out: &mut Key) {
        let mut buf = [0; uuid::fmt::Hyphenated::LENGTH];
        out.set_short(self.hyphenated().encode_lower(&mut buf));
    }
}

impl TextKey for IdempotencyKey {
    #[inline]
    fn text_key(&self, policy: &Idempotency, out: &mut Key) {
        self.as_uuid().text_key(policy, out);
    }
}

impl<T: TextKey + ?Sized> TextKey for &T {
    #[inline]
    fn text_key(&self, policy: &Idempotency, out: &mut Key) {
        (**self).text_key(policy, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn via_text<T: TextKey + Display + ?Sized>(key: &T) {
        let p = Idempotency::builder().name("test::key_arg").build();
        let mut fast = Key::blank();
        (&&KeyArg(key)).idempotency_key(&p, &mut fast);
        let slow = p.key(&key);
        assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{key}");
    }

    #[test]
    fn text_keys_write_what_display_writes() {
        for v in [0u64, 1, 9, 10, 99, 12_345, u64::MAX] {
            via_text(&v);
        }
        for v in [0i64, -1, i64::MIN, i64::MAX] {
            via_text(&v);
        }
        via_text(&u128::MAX);
        via_text(&i128::MIN);
        via_text(&u8::MAX);
        via_text(&-7i8);
        via_text(&usize::MAX);
        via_text("");
        via_text("order-42");
        via_text(&"x".repeat(200));
        via_text(&String::from("b7c1"));
        via_text(&&"nested");
        let key = IdempotencyKey::new();
        via_text(&key);
        via_text(key.as_uuid());
        // Too long: the same error either way.
        via_text(&"y".repeat(super::super::MAX_KEY_LEN + 1));
    }

    #[test]
    fn the_dispatch_takes_the_text_path_for_text_keys_only() {
        struct Shown;
        impl Display for Shown {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("shown")
            }
        }
        let p = Idempotency::builder().name("test::key_arg_dispatch").build();
        let mut key = Key::blank();
        (&&KeyArg(&Shown)).idempotency_key(&p, &mut key);
        assert_eq!(format!("{key:?}"), "Key(\"shown\")");
        let mut key = Key::blank();
        (&&KeyArg(&5u32)).idempotency_key(&p, &mut key);
        assert_eq!(format!("{key:?}"), "Key(\"5\")");
    }
}
