//! [`IdempotencyKey`], the UUID-backed key type.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

/// A key naming one logical operation, so that repeating the call does not repeat its effect.
///
/// Backed by a version 7 UUID: the first 48 bits are a millisecond timestamp, so keys made
/// close in time sort close together. Stores that index keys (a B-tree, Redis' keyspace scans,
/// a database index behind a custom store) then insert at the end of the index instead of at
/// random places, which keeps their pages and caches local; the remaining 74 bits are random,
/// so keys from different processes do not collide.
///
/// Displays, parses and serializes as the hyphenated UUID text
/// (`0190f5c2-7a3e-7cc1-8b0e-6f1d2a3b4c5d`).
///
/// ```
/// use resilient_runtime::idempotency::IdempotencyKey;
///
/// let key = IdempotencyKey::new();
/// let text = key.to_string();
/// assert_eq!(text.parse::<IdempotencyKey>().unwrap(), key);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdempotencyKey(Uuid);

impl IdempotencyKey {
    /// A fresh key (a version 7 UUID: time-ordered, random in its low bits).
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    /// The UUID behind the key.
    pub fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl Default for IdempotencyKey {
    /// A fresh key, as [`IdempotencyKey::new`]: a default key shared by every call would defeat
    /// the purpose.
    fn default() -> Self {
        Self::new()
    }
}

impl From<Uuid> for IdempotencyKey {
    fn from(uuid: Uuid) -> Self {
        Self(uuid)
    }
}

impl From<IdempotencyKey> for Uuid {
    fn from(key: IdempotencyKey) -> Self {
        key.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdempotencyKey({})", self.0.hyphenated())
    }
}

impl FromStr for IdempotencyKey {
    type Err = uuid::Error;

    /// Parses any UUID text form `uuid` accepts (hyphenated, simple, braced, URN); keys from
    /// clients need not be version 7.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

impl serde::Serialize for IdempotencyKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Always the text form, even for binary formats, so a key reads the same everywhere.
        s.collect_str(&self.0.hyphenated())
    }
}

impl<'de> serde::Deserialize<'de> for IdempotencyKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
