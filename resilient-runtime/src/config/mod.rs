//! Configuration at run time: tune every policy by name without recompiling, keeping its state.
//!
//! ```toml
//! # table names are policy names or globs (`*` matches any run of characters)
//! ["shop::payments::charge".circuit_breaker]
//! threshold = 10
//! cooldown = "5s"
//!
//! ["shop::payments::*".retry]
//! max = 5
//! jitter = "full"
//!
//! ["shop::search::*".timeout]
//! rule = "p99*3"            # the attribute's first argument
//!
//! ["shop::legacy::call".retry]
//! enabled = false           # every kind: calls pass straight through
//!
//! ["shop::inventory::reserve".circuit_breaker]
//! force = "open"            # breakers: "open" | "closed" | "none"
//! ```
//!
//! - Keys are the attribute's keys, with the same spelling, units and checks, and the same
//!   messages: a bad value reads like the compile error for it, plus the file, table and key.
//! - All or nothing: one bad value, unknown kind or unknown key rejects the whole text and
//!   nothing changes.
//! - A name or glob that matches no policy yet is kept and listed in [`Applied::pending`]: a
//!   policy that first runs later starts with it.
//! - Applying keeps state: an open breaker stays open, counted failures stay counted, latency
//!   histograms, retry budgets and idempotency stores stay. Only settings change.
//! - Each source replaces what it set before: reloading a file from which a key was removed
//!   puts that key back to its compiled value. [`apply`] adds to what earlier `apply` calls set.
//!   Where sources disagree, [`apply`] wins over files, and files over `RESILIENT_CONFIG`;
//!   between two files, the one loaded later the first time (a reload keeps its place). Within
//!   one source, an exact name wins over a glob, a longer glob over a shorter one, and a later
//!   table over an earlier one.
//! - `RESILIENT_CONFIG=path` is loaded when the first policy is built.
//! - Calls read their policy's settings with one atomic load; a call sees the old settings or
//!   the new ones, never a mix.

mod error;
mod live;
mod parse;
mod tuning;
mod watch;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Once, OnceLock, Weak};

pub use error::{Applied, ConfigError, Matched, Problem};
pub(crate) use live::Live;
/// The policy kinds' declarations: every key configuration accepts, its type, default and help.
pub use resilient_spec as spec;
pub(crate) use tuning::Tuning;
pub use tuning::{SettingView, Source};
pub use watch::{Watcher, watch};

use parse::Entry;

/// The environment variable naming a configuration file loaded at the first policy use.
pub const ENV: &str = "RESILIENT_CONFIG";

/// A policy that configuration can tune.
pub(crate) trait Tunable: Send + Sync + 'static {
    fn name(&self) -> &str;
    /// Its compiled settings.
    fn inline(&self) -> &Tuning;
    /// Checks settings as a whole (keys that must agree); the message names the keys. Kinds
    /// whose keys are each checked on their own keep this default.
    fn check(&self, _tuning: &Tuning) -> Result<(), String> {
        Ok(())
    }
    /// Makes `tuning` current; state is kept.
    fn retune(&self, tuning: Tuning);
    /// The settings in force.
    fn current(&self) -> Tuning;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    Api,
    Env(PathBuf),
    File(PathBuf),
}

impl Origin {
    fn source(&self) -> Source {
        match self {
            Origin::Api => Source::Api,
            Origin::Env(_) => Source::Env,
            Origin::File(_) => Source::File,
        }
    }
    /// Where the source stacks: the environment's file under files under [`apply`].
    fn rank(&self) -> u8 {
        match self {
            Origin::Env(_) => 0,
            Origin::File(_) => 1,
            Origin::Api => 2,
        }
    }

    fn file(&self) -> Option<PathBuf> {
        match self {
            Origin::Api => None,
            Origin::Env(p) | Origin::File(p) => Some(p.clone()),
        }
    }
}

#[derive(Default)]
struct State {
    /// Each source's tables, in the order the sources were first applied.
    layers: Vec<(Origin, Vec<Entry>)>,
    live: Vec<Weak<dyn Tunable>>,
}

fn state() -> MutexGuard<'static, State> {
    static STATE: OnceLock<Mutex<State>> = OnceLock::new();
    STATE.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner())
}

/// Applies configuration text: sets the keys it names, leaves every other key as it was.
///
/// ```
/// let applied = resilient_runtime::config::apply(r#"
///     ["docs::nothing::yet".retry]
///     max = 5
/// "#).unwrap();
/// assert_eq!(applied.pending, ["\"docs::nothing::yet\".retry"]);
///
/// let err = resilient_runtime::config::apply(r#"
///     ["docs::x".circuit_breaker]
///     treshold = 3
/// "#).unwrap_err();
/// assert!(err.to_string().contains("did you mean `threshold`?"));
/// ```
pub fn apply(toml: &str) -> Result<Applied, ConfigError> {
    ensure_env();
    let entries = parse::parse(toml).map_err(|p| ConfigError::new(None, p))?;
    install(Origin::Api, entries, true)
}

/// Reads and applies a configuration file, replacing whatever this file set before.
pub fn load(path: impl AsRef<Path>) -> Result<Applied, ConfigError> {
    ensure_env();
    load_as(Origin::File(path.as_ref().to_path_buf()))
}

pub(crate) fn load_as(origin: Origin) -> Result<Applied, ConfigError> {
    let path = origin.file().unwrap_or_default();
    let text = std::fs::read_to_string(&path).map_err(|e| {
        ConfigError::new(
            Some(path.clone()),
            vec![Problem::new(None, None, format!("cannot read it: {e}"))],
        )
    })?;
    let entries = parse::parse(&text).map_err(|p| ConfigError::new(Some(path.clone()), p))?;
    install(origin, entries, false)
}

/// Checks `entries` against every live policy, then applies them, or nothing.
fn install(origin: Origin, entries: Vec<Entry>, add: bool) -> Result<Applied, ConfigError> {
    let mut st = state();
    st.live.retain(|w| w.strong_count() > 0);
    let mut layers = st.layers.clone();
    match layers.iter_mut().find(|(o, _)| *o == origin) {
        Some((_, old)) if add => merge(old, &entries),
        Some((_, old)) => *old = entries.clone(),
        None => {
            layers.push((origin.clone(), entries.clone()));
            // Stable: files keep the order they were first loaded in.
            layers.sort_by_key(|(o, _)| o.rank());
        }
    }
    let live: Vec<Arc<dyn Tunable>> = st.live.iter().filter_map(Weak::upgrade).collect();
    let mut next = Vec::with_capacity(live.len());
    let mut problems = Vec::new();
    for policy in &live {
        let tuning = resolve(&layers, policy.name(), policy.inline());
        match policy.check(&tuning) {
            Ok(()) => next.push(Some(tuning)),
            Err(why) => {
                let named = entries.iter().any(|e| {
                    e.kind.name == tuning.kind.name && parse::matches(&e.pattern, policy.name())
                });
                if named {
                    let table = format!("[\"{}\".{}]", policy.name(), tuning.kind.name);
                    problems.push(Problem::new(Some(table), None, why));
                }
                // Otherwise an earlier source's settings never fit this policy (it was built
                // after them and kept its own, see `attach`): it keeps what it has.
                next.push(None);
            }
        }
    }
    if !problems.is_empty() {
        return Err(ConfigError::new(origin.file(), problems));
    }
    for (policy, tuning) in live.iter().zip(next) {
        if let Some(tuning) = tuning
            && policy.current() != tuning
        {
            policy.retune(tuning);
        }
    }
    st.layers = layers;
    let mut applied = Applied::default();
    for entry in &entries {
        let table = format!("\"{}\".{}", entry.pattern, entry.kind.name);
        let names: Vec<String> = live
            .iter()
            .filter(|p| {
                p.inline().kind.name == entry.kind.name && parse::matches(&entry.pattern, p.name())
            })
            .map(|p| p.name().to_owned())
            .collect();
        if names.is_empty() {
            applied.pending.push(table);
        } else {
            applied.matched.push(Matched { table, policies: names });
        }
    }
    drop(st);
    #[cfg(feature = "tracing")]
    tracing::info!(source = ?origin, matched = applied.matched.len(), pending = applied.pending.len(), "configuration applied");
    Ok(applied)
}

/// Adds `new` to `old`: a table already there takes the new values of its keys (so repeated
/// calls to [`apply`] do not pile up tables).
fn merge(old: &mut Vec<Entry>, new: &[Entry]) {
    for entry in new {
        match old.iter_mut().find(|e| e.pattern == entry.pattern && e.kind.name == entry.kind.name)
        {
            Some(existing) => {
                for &(index, value) in &entry.keys {
                    existing.keys.retain(|(i, _)| *i != index);
                    existing.keys.push((index, value));
                }
            }
            None => old.push(entry.clone()),
        }
    }
}

/// The settings of policy `name` with compiled settings `inline` under `layers`.
fn resolve(layers: &[(Origin, Vec<Entry>)], name: &str, inline: &Tuning) -> Tuning {
    let mut tuning = inline.clone();
    for (origin, entries) in layers {
        let mut hits: Vec<(usize, &Entry)> = entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.kind.name == inline.kind.name && parse::matches(&e.pattern, name))
            .collect();
        hits.sort_by_key(|(order, e)| (parse::specificity(&e.pattern), *order));
        for (_, entry) in hits {
            for &(index, value) in &entry.keys {
                tuning.values[index] = (value, origin.source());
            }
        }
    }
    tuning
}

/// Lists a newly built policy and brings it up to the configuration in force.
pub(crate) fn attach<P: Tunable>(policy: &Arc<P>) {
    if crate::registry::is_unlisted() {
        // A partition: its `Partitioned` is attached in its stead and tunes it.
        return;
    }
    ensure_env();
    let mut st = state();
    let tuning = resolve(&st.layers, policy.name(), policy.inline());
    if tuning != *policy.inline() {
        match policy.check(&tuning) {
            Ok(()) => policy.retune(tuning),
            Err(why) => {
                #[cfg(feature = "tracing")]
                tracing::warn!(policy = policy.name(), reason = %why, "configuration does not fit this policy; it keeps its compiled settings");
                let _ = why;
            }
        }
    }
    let weak: Weak<dyn Tunable> = Arc::downgrade(policy) as Weak<P> as _;
    st.live.retain(|w| w.strong_count() > 0);
    st.live.push(weak);
}

/// Loads `RESILIENT_CONFIG` once, before the first policy is built.
fn ensure_env() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let Some(path) = std::env::var_os(ENV) else { return };
        if let Err(e) = load_as(Origin::Env(PathBuf::from(path))) {
            #[cfg(feature = "tracing")]
            tracing::warn!(error = %e, "{ENV}: configuration not applied");
            let _ = e;
        }
    });
}
