//! [`KeyText`]: a key's `Display` text, kept inline when short so the hit path allocates
//! nothing, and refused past [`MAX_KEY_LEN`] without formatting the rest.

use std::fmt::{self, Display, Write};

use super::MAX_KEY_LEN;

/// Covers UUIDs (36 bytes), integers (up to 40) and typical request ids. Results in the store
/// keep their key this way too, so it is a size every stored result pays.
const INLINE: usize = 48;

/// Why a key has no text.
pub(super) enum KeyError {
    TooLong,
    /// The key's `Display` impl returned an error of its own.
    Display,
}

#[derive(Clone)]
pub(super) enum KeyText {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(String),
}

impl KeyText {
    pub(super) fn format(key: &impl Display) -> Result<Self, KeyError> {
        let mut text =
            Writer { text: KeyText::Inline { len: 0, bytes: [0; INLINE] }, too_long: false };
        match write!(text, "{key}") {
            Ok(()) => Ok(text.text),
            Err(_) if text.too_long => Err(KeyError::TooLong),
            Err(_) => Err(KeyError::Display),
        }
    }

    /// The empty text.
    #[inline]
    pub(super) fn blank() -> Self {
        KeyText::Inline { len: 0, bytes: [0; INLINE] }
    }

    /// Writes a text known to fit inline (an integer's, a UUID's, a short string) into this
    /// blank one, in place.
    #[inline]
    pub(super) fn set_short(&mut self, text: &str) {
        debug_assert!(text.len() <= INLINE);
        if let KeyText::Inline { len, bytes } = self {
            let n = text.len().min(INLINE);
            bytes[..n].copy_from_slice(&text.as_bytes()[..n]);
            *len = n as u8;
        }
    }

    /// Writes a key that is text already into this blank one: inline when short, on the heap
    /// when longer, refused past [`MAX_KEY_LEN`].
    #[inline]
    pub(super) fn set_str(&mut self, text: &str) -> Result<(), KeyError> {
        if text.len() > MAX_KEY_LEN {
            Err(KeyError::TooLong)
        } else if text.len() > INLINE {
            *self = KeyText::Heap(text.to_owned());
            Ok(())
        } else {
            self.set_short(text);
            Ok(())
        }
    }

    #[inline]
    pub(super) fn as_str(&self) -> &str {
        match self {
            KeyText::Inline { len, bytes } => {
                let bytes = &bytes[..usize::from(*len)];
                // SAFETY: `Writer::write_str` only ever appends whole `&str`s, so the inline
                // bytes are valid UTF-8 (checking again would cost the hit path ~10 ns).
                unsafe { std::str::from_utf8_unchecked(bytes) }
            }
            KeyText::Heap(s) => s,
        }
    }

    fn len(&self) -> usize {
        self.as_str().len()
    }
}

struct Writer {
    text: KeyText,
    too_long: bool,
}

impl Write for Writer {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let len = self.text.len();
        if len + s.len() > MAX_KEY_LEN {
            self.too_long = true;
            return Err(fmt::Error);
        }
        match &mut self.text {
            KeyText::Inline { len: n, bytes } if len + s.len() <= INLINE => {
                bytes[len..len + s.len()].copy_from_slice(s.as_bytes());
                *n = (len + s.len()) as u8;
            }
            KeyText::Inline { .. } => {
                let mut heap = String::with_capacity((len + s.len()).max(2 * INLINE));
                heap.push_str(self.text.as_str());
                heap.push_str(s);
                self.text = KeyText::Heap(heap);
            }
            KeyText::Heap(heap) => heap.push_str(s),
        }
        Ok(())
    }
}
