//! A policy kind, declared once: its keys (with defaults, checks and help), the attribute keys
//! that only source code can set, and its metric names. The attribute parser, the configuration
//! loader and the registry all read these declarations.

pub use crate::kinds::FALLBACK;
pub use crate::kinds::HEDGE;
pub use crate::kinds::RATE_LIMIT;
pub use crate::kinds::{
    ADAPTIVE_KEYS, BINARY_KEYS, CIRCUIT_BREAKER, IDEMPOTENT, RETRY, TIMEOUT,
    breaker_key_outside_mode, check_bounds, check_delays,
};
pub use crate::kinds::{BULKHEAD, check_adaptive};
use crate::suggest;
use crate::value::{Setting, Type};

/// One policy kind.
#[derive(Debug)]
pub struct Kind {
    /// The kind as configuration tables and the registry name it: `retry`, `circuit_breaker`.
    pub name: &'static str,
    /// The attribute: `retry`, `circuit_breaker`, `timeout`, `idempotent`.
    pub attribute: &'static str,
    /// The keys configuration may set, in the order the registry shows them.
    pub keys: &'static [Key],
    /// Attribute keys configuration cannot set (code, or fixed when the policy is built), each
    /// with why.
    pub fixed: &'static [(&'static str, &'static str)],
    /// The names of the metrics the kind records (see [`metrics`](crate::metrics)).
    pub metrics: &'static [&'static str],
}

/// One key of a kind.
#[derive(Debug)]
pub struct Key {
    /// As written in the attribute and in configuration.
    pub name: &'static str,
    /// What it accepts.
    pub ty: Type,
    /// The value when neither the attribute nor configuration sets it.
    pub default: Setting,
    /// What it means.
    pub help: &'static str,
}

impl Kind {
    /// The key named `name`, or a message that lists the valid keys and, for a near miss, says
    /// which was likely meant.
    pub fn key(&self, name: &str) -> Result<(usize, &'static Key), String> {
        if let Some(found) = self.keys.iter().position(|k| k.name == name) {
            return Ok((found, &self.keys[found]));
        }
        let valid = self.keys.iter().map(|k| k.name).collect::<Vec<_>>().join(", ");
        if let Some((_, why)) = self.fixed.iter().find(|(k, _)| *k == name) {
            return Err(format!(
                "`{name}` cannot be set from configuration: {why}\nvalid keys for `{}`: {valid}",
                self.name
            ));
        }
        let hint = suggest::closest(name, self.keys.iter().map(|k| k.name))
            .map(|near| format!("; did you mean `{near}`?"))
            .unwrap_or_default();
        Err(format!(
            "unknown `{}` key `{name}`{hint}\nvalid keys for `{}`: {valid}",
            self.name, self.name
        ))
    }

    /// The index of key `name`.
    ///
    /// # Panics
    /// When the kind has no such key: a bug in the policy that asks.
    pub fn index(&self, name: &str) -> usize {
        self.keys
            .iter()
            .position(|k| k.name == name)
            .unwrap_or_else(|| panic!("`{}` has no key `{name}`", self.name))
    }

    /// Every key's default, in key order.
    pub fn defaults(&self) -> Vec<Setting> {
        self.keys.iter().map(|k| k.default).collect()
    }
}

/// Every kind, for lookups by name.
pub const KINDS: &[&Kind] =
    &[&RETRY, &CIRCUIT_BREAKER, &TIMEOUT, &IDEMPOTENT, &BULKHEAD, &FALLBACK, &HEDGE, &RATE_LIMIT];

/// The kind named `name` (as configuration writes it), or a message listing them.
pub fn kind(name: &str) -> Result<&'static Kind, String> {
    if let Some(k) = KINDS.iter().find(|k| k.name == name || k.attribute == name) {
        return Ok(k);
    }
    let valid = KINDS.iter().map(|k| k.name).collect::<Vec<_>>().join(", ");
    let hint = suggest::closest(name, KINDS.iter().map(|k| k.name))
        .map(|near| format!("; did you mean `{near}`?"))
        .unwrap_or_default();
    Err(format!("unknown policy kind `{name}`{hint}\nvalid kinds: {valid}"))
}
