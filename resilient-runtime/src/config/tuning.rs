//! A policy's settings as key/value pairs of its kind, each with where it came from.

use std::time::Duration;

use resilient_spec::{Kind, Setting};
use serde::Serialize;

/// Where a setting's value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Compiled in: the attribute's value, or the default when the attribute leaves it out.
    Inline,
    /// A file given to [`load`](super::load) or [`watch`](super::watch()).
    File,
    /// The file named by `RESILIENT_CONFIG`.
    Env,
    /// Text given to [`apply`](super::apply).
    Api,
}

/// One setting as the registry shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SettingView {
    /// The key, as the attribute and configuration spell it.
    pub key: &'static str,
    /// The effective value, as configuration would write it (`"250ms"`, `"p99*2"`, `5`).
    pub value: String,
    /// Where the value came from.
    pub source: Source,
}

/// Every key of one kind with its value and source.
#[derive(Clone, Debug)]
pub(crate) struct Tuning {
    pub(crate) kind: &'static Kind,
    pub(crate) values: Vec<(Setting, Source)>,
}

impl PartialEq for Tuning {
    fn eq(&self, other: &Self) -> bool {
        self.kind.name == other.kind.name && self.values == other.values
    }
}

impl Tuning {
    /// The kind's defaults, all inline.
    pub(crate) fn new(kind: &'static Kind) -> Self {
        Self { kind, values: kind.keys.iter().map(|k| (k.default, Source::Inline)).collect() }
    }

    /// Sets `key` as compiled in.
    pub(crate) fn with(mut self, key: &str, value: Setting) -> Self {
        self.values[self.kind.index(key)] = (value, Source::Inline);
        self
    }

    pub(crate) fn get(&self, key: &str) -> Setting {
        self.values[self.kind.index(key)].0
    }

    /// Where `key`'s value came from.
    pub(crate) fn source(&self, key: &str) -> Source {
        self.values[self.kind.index(key)].1
    }

    pub(crate) fn count(&self, key: &str) -> u64 {
        match self.get(key) {
            Setting::Count(n) => n,
            other => unreachable!("`{key}` holds {other:?}"),
        }
    }

    pub(crate) fn duration(&self, key: &str) -> Duration {
        match self.get(key) {
            Setting::Duration(d) => d,
            other => unreachable!("`{key}` holds {other:?}"),
        }
    }

    /// A duration key that may be unset.
    pub(crate) fn optional_duration(&self, key: &str) -> Option<Duration> {
        match self.get(key) {
            Setting::Duration(d) => Some(d),
            _ => None,
        }
    }

    pub(crate) fn enabled(&self) -> bool {
        !matches!(self.get("enabled"), Setting::Bool(false))
    }

    pub(crate) fn view(&self) -> Vec<SettingView> {
        self.kind
            .keys
            .iter()
            .zip(&self.values)
            .map(|(k, (v, s))| SettingView { key: k.name, value: v.to_string(), source: *s })
            .collect()
    }
}
