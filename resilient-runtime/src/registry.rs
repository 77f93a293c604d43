//! Every live policy, by name, for dashboards, health endpoints and tests.
//!
//! Policies register themselves when they are built (the attributes build theirs on first
//! call). The registry only lists and names them: calls never go through it, so it costs the
//! hot path nothing.

use std::any::{Any, TypeId};
use std::cell::Cell;
use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Mutex, MutexGuard, OnceLock, Weak};

use serde::Serialize;

/// A policy that can describe itself for [`snapshot`].
pub trait Inspect: Send + Sync + 'static {
    /// The policy's current state.
    fn snapshot(&self) -> PolicySnapshot;
}

/// Everything [`snapshot`] saw, in registration order.
///
/// Lookups by name never pick one of several policies silently: [`get`](Self::get) and the
/// lookups by kind answer `None` when the name is ambiguous, [`all`](Self::all) lists every
/// policy under a name, and [`duplicates`](Self::duplicates) lists the ambiguous names.
#[derive(Clone, Debug, Serialize)]
pub struct Snapshot {
    /// One entry per live policy.
    pub policies: Vec<PolicySnapshot>,
    /// Named policies registered again with settings different from the first registration
    /// (the first one won).
    pub conflicts: Vec<Conflict>,
    /// Names under which more than one live policy of one kind is registered.
    pub duplicates: Vec<Duplicate>,
}

impl Snapshot {
    /// The policy with this name, if exactly one has it. Stacked attributes on one function
    /// register one policy per layer under the same name: use [`retry`](Self::retry),
    /// [`breaker`](Self::breaker), [`timeout`](Self::timeout) or
    /// [`idempotency`](Self::idempotency) to pick a layer, or [`all`](Self::all) to see them.
    pub fn get(&self, name: &str) -> Option<&PolicySnapshot> {
        let mut all = self.all(name);
        all.next().filter(|_| all.next().is_none())
    }

    /// Every policy with this name, in registration order.
    pub fn all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a PolicySnapshot> {
        self.policies.iter().filter(move |p| p.name == name)
    }

    /// The retry policy with this name; `None` if there is none or more than one.
    pub fn retry(&self, name: &str) -> Option<&crate::retry::RetrySnapshot> {
        self.find(name, |s| match s {
            PolicyState::Retry(r) => Some(r),
            _ => None,
        })
    }

    /// The circuit breaker with this name; `None` if there is none or more than one.
    pub fn breaker(&self, name: &str) -> Option<&crate::breaker::BreakerSnapshot> {
        self.find(name, |s| match s {
            PolicyState::CircuitBreaker(b) => Some(b),
            _ => None,
        })
    }

    /// The adaptive circuit breaker (`mode = "adaptive"`) with this name; `None` if there is
    /// none or more than one.
    pub fn adaptive_breaker(&self, name: &str) -> Option<&crate::breaker::AdaptiveSnapshot> {
        self.find(name, |s| match s {
            PolicyState::AdaptiveBreaker(b) => Some(b),
            _ => None,
        })
    }

    /// The timeout with this name; `None` if there is none or more than one.
    pub fn timeout(&self, name: &str) -> Option<&crate::timeout::TimeoutSnapshot> {
        self.find(name, |s| match s {
            PolicyState::Timeout(t) => Some(t),
            _ => None,
        })
    }

    /// The idempotency policy with this name; `None` if there is none or more than one.
    pub fn idempotency(&self, name: &str) -> Option<&crate::idempotency::IdempotencySnapshot> {
        self.find(name, |s| match s {
            PolicyState::Idempotency(i) => Some(i),
            _ => None,
        })
    }

    /// The hedging policy with this name; `None` if there is none or more than one.
    pub fn hedge(&self, name: &str) -> Option<&crate::hedge::HedgeSnapshot> {
        self.find(name, |s| match s {
            PolicyState::Hedge(h) => Some(h),
            _ => None,
        })
    }

    /// The policy of this kind with this name; `None` if there is none or more than one. `kind`
    /// as configuration tables write it (`retry`, `circuit_breaker`, `timeout`, `idempotent`) or
    /// as snapshots serialise it (`idempotency`).
    ///
    /// ```
    /// let snap = resilient_runtime::registry::snapshot();
    /// if let Some(policy) = snap.policy("shop::pay", "circuit_breaker") {
    ///     println!("{:?}", policy.setting("threshold"));
    /// }
    /// ```
    pub fn policy(&self, name: &str, kind: &str) -> Option<&PolicySnapshot> {
        let mut found =
            self.all(name).filter(|p| p.state.kind() == kind || p.state.config_kind().name == kind);
        found.next().filter(|_| found.next().is_none())
    }

    /// The partitioned policy (`per = ...`) of kind `kind` (`circuit_breaker`, `timeout`,
    /// `retry`) with this name; `None` if there is none or more than one.
    pub fn partitions(
        &self,
        name: &str,
        kind: &str,
    ) -> Option<&crate::partition::PartitionsSnapshot> {
        self.find(name, |s| match s {
            PolicyState::Partitioned(p) if p.of == kind => Some(p),
            _ => None,
        })
    }

    /// The bulkhead with this name; `None` if there is none or more than one.
    pub fn bulkhead(&self, name: &str) -> Option<&crate::bulkhead::BulkheadSnapshot> {
        self.find(name, |s| match s {
            PolicyState::Bulkhead(b) => Some(b),
            _ => None,
        })
    }

    /// The fallback with this name; `None` if there is none or more than one.
    pub fn fallback(&self, name: &str) -> Option<&crate::fallback::FallbackSnapshot> {
        self.find(name, |s| match s {
            PolicyState::Fallback(f) => Some(f),
            _ => None,
        })
    }

    /// The rate limiter with this name; `None` if there is none or more than one.
    pub fn rate_limit(&self, name: &str) -> Option<&crate::rate_limit::RateLimitSnapshot> {
        self.find(name, |s| match s {
            PolicyState::RateLimit(r) => Some(r),
            _ => None,
        })
    }

    fn find<'a, T>(
        &'a self,
        name: &str,
        pick: impl Fn(&'a PolicyState) -> Option<&'a T>,
    ) -> Option<&'a T> {
        let mut found = self.all(name).filter_map(|p| pick(&p.state));
        found.next().filter(|_| found.next().is_none())
    }
}

/// Several live policies of one kind under one name: lookups by that name answer `None`.
///
/// Default names tell functions and methods apart (`module::Type::method`); a duplicate comes
/// from policies built by hand with one name, or from `name = "..."` on policies that do not
/// share an instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Duplicate {
    /// The shared name.
    pub name: String,
    /// The policies' kind, as in [`PolicyState`]'s serialised `kind`: `retry`,
    /// `circuit_breaker`, `timeout` or `idempotency`.
    pub kind: &'static str,
    /// How many live policies of that kind have the name.
    pub count: usize,
}

fn duplicates(policies: &[PolicySnapshot]) -> Vec<Duplicate> {
    let mut counts: HashMap<(&str, &'static str), usize> = HashMap::new();
    for p in policies {
        *counts.entry((p.name.as_str(), p.state.kind())).or_default() += 1;
    }
    // In registration order, each name and kind once.
    let mut out = Vec::new();
    for p in policies {
        if let Some(count) = counts.remove(&(p.name.as_str(), p.state.kind()))
            && count > 1
        {
            out.push(Duplicate { name: p.name.clone(), kind: p.state.kind(), count });
        }
    }
    out
}

/// One policy as [`snapshot`] saw it.
#[derive(Clone, Debug, Serialize)]
pub struct PolicySnapshot {
    /// The policy's name (by default `module::path::function` or `module::path::Type::method`).
    pub name: String,
    /// Every setting with its effective value and where it came from (compiled in, a file, the
    /// environment, the API): see [`config`](crate::config).
    pub settings: Vec<crate::config::SettingView>,
    /// What the policy is and its current state.
    pub state: PolicyState,
}

impl PolicySnapshot {
    /// The setting `key` (as the attribute and configuration spell it) with its effective value
    /// and source.
    pub fn setting(&self, key: &str) -> Option<&crate::config::SettingView> {
        self.settings.iter().find(|s| s.key == key)
    }
}

/// The kind of a policy with its kind-specific state.
#[non_exhaustive]
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PolicyState {
    /// A retry policy.
    Retry(crate::retry::RetrySnapshot),
    /// A circuit breaker.
    CircuitBreaker(crate::breaker::BreakerSnapshot),
    /// A fixed or adaptive timeout.
    Timeout(crate::timeout::TimeoutSnapshot),
    /// An idempotency policy.
    Idempotency(crate::idempotency::IdempotencySnapshot),
    /// A policy with one instance per key (`per = ...`), listed once with its partitions.
    Partitioned(crate::partition::PartitionsSnapshot),
    /// A fixed or adaptive bulkhead.
    Bulkhead(crate::bulkhead::BulkheadSnapshot),
    /// A fallback.
    Fallback(crate::fallback::FallbackSnapshot),
    /// A hedging policy.
    Hedge(crate::hedge::HedgeSnapshot),
    /// A circuit breaker in adaptive mode (`mode = "adaptive"`): serialised with the kind
    /// `circuit_breaker` and `"mode": "adaptive"`.
    #[serde(rename = "circuit_breaker")]
    AdaptiveBreaker(crate::breaker::AdaptiveSnapshot),
    /// A rate limiter.
    RateLimit(crate::rate_limit::RateLimitSnapshot),
}

impl PolicyState {
    /// The kind as it is serialised: `retry`, `circuit_breaker`, `timeout` or `idempotency`;
    /// for a partitioned policy, the kind of its partitions.
    pub fn kind(&self) -> &'static str {
        match self {
            PolicyState::Retry(_) => "retry",
            PolicyState::CircuitBreaker(_) => "circuit_breaker",
            PolicyState::Timeout(_) => "timeout",
            PolicyState::Idempotency(_) => "idempotency",
            PolicyState::Partitioned(p) => p.of,
            PolicyState::Bulkhead(_) => "bulkhead",
            PolicyState::Fallback(_) => "fallback",
            PolicyState::Hedge(_) => "hedge",
            PolicyState::AdaptiveBreaker(_) => "circuit_breaker",
            PolicyState::RateLimit(_) => "rate_limit",
        }
    }

    /// The kind's declaration: its configuration keys, defaults and metric names.
    pub fn config_kind(&self) -> &'static resilient_spec::Kind {
        match self {
            PolicyState::Retry(_) => &resilient_spec::RETRY,
            PolicyState::CircuitBreaker(_) => &resilient_spec::CIRCUIT_BREAKER,
            PolicyState::Timeout(_) => &resilient_spec::TIMEOUT,
            PolicyState::Idempotency(_) => &resilient_spec::IDEMPOTENT,
            PolicyState::Partitioned(p) => match p.of {
                "retry" => &resilient_spec::RETRY,
                "timeout" => &resilient_spec::TIMEOUT,
                "bulkhead" => &resilient_spec::BULKHEAD,
                "hedge" => &resilient_spec::HEDGE,
                "rate_limit" => &resilient_spec::RATE_LIMIT,
                _ => &resilient_spec::CIRCUIT_BREAKER,
            },
            PolicyState::Bulkhead(_) => &resilient_spec::BULKHEAD,
            PolicyState::Fallback(_) => &resilient_spec::FALLBACK,
            PolicyState::Hedge(_) => &resilient_spec::HEDGE,
            PolicyState::AdaptiveBreaker(_) => &resilient_spec::CIRCUIT_BREAKER,
            PolicyState::RateLimit(_) => &resilient_spec::RATE_LIMIT,
        }
    }
}

/// A named policy registered twice with different settings.
#[derive(Clone, Debug, Serialize)]
pub struct Conflict {
    /// The shared name.
    pub name: String,
    /// The settings that won (the first registration's), as `Debug` text.
    pub kept: String,
    /// The settings of the later registration, which were ignored.
    pub ignored: String,
}

#[derive(Default)]
struct Registry {
    live: Vec<Weak<dyn Inspect>>,
    /// Named policies by kind (the Rust type of the policy) and name: stacked attributes of one
    /// fn may share a name and stay apart by kind (API section 6).
    named: HashMap<(TypeId, String), (Box<dyn Any + Send + Sync>, String)>,
    conflicts: Vec<Conflict>,
}

fn registry() -> MutexGuard<'static, Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default).lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Lists every live policy with its current state.
///
/// ```
/// let snap = resilient_runtime::registry::snapshot();
/// for policy in &snap.policies {
///     println!("{}: {:?}", policy.name, policy.state);
/// }
/// ```
pub fn snapshot() -> Snapshot {
    let (live, conflicts) = {
        let mut reg = registry();
        reg.live.retain(|w| w.strong_count() > 0);
        (reg.live.clone(), reg.conflicts.clone())
    };
    // Snapshots are taken outside the lock: a policy's own snapshot may take time.
    let policies: Vec<PolicySnapshot> =
        live.iter().filter_map(Weak::upgrade).map(|p| p.snapshot()).collect();
    let duplicates = duplicates(&policies);
    Snapshot { policies, conflicts, duplicates }
}

/// Adds a policy to the registry; it stays listed while any handle to it lives. Inside
/// [`unlisted`], does nothing.
pub fn register(policy: Weak<dyn Inspect>) {
    if UNLISTED.get() {
        return;
    }
    registry().live.push(policy);
}

thread_local! {
    static UNLISTED: Cell<bool> = const { Cell::new(false) };
}

/// True inside [`unlisted`]: configuration does not list what is built there either.
pub(crate) fn is_unlisted() -> bool {
    UNLISTED.get()
}

/// Runs `build` with registration off on this thread: the policies it builds are not listed.
/// A [`Partitioned`](crate::partition::Partitioned) builds its partitions so and is listed
/// once in their stead (a flood of keys must not grow the registry).
pub fn unlisted<T>(build: impl FnOnce() -> T) -> T {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            UNLISTED.set(self.0);
        }
    }
    let _restore = Restore(UNLISTED.replace(true));
    build()
}

/// Returns the policy of type `T` registered under `name`, building and registering it with
/// `build` the first time (policies of different kinds may share a name). A later call whose `settings` differ from the first one's gets the first policy
/// all the same, and the disagreement is listed in [`Snapshot::conflicts`].
pub fn named<T, S>(name: &str, settings: S, build: impl FnOnce(S) -> T) -> T
where
    T: Clone + Send + Sync + 'static,
    S: PartialEq + Debug + Clone + Send + Sync + 'static,
{
    let key = (TypeId::of::<T>(), name.to_owned());
    let mut reg = registry();
    if let Some((existing, kept)) = reg.named.get(&key)
        && let Some((policy, first)) = existing.downcast_ref::<(T, S)>()
    {
        if *first != settings {
            let conflict = Conflict {
                name: name.to_owned(),
                kept: kept.clone(),
                ignored: format!("{settings:?}"),
            };
            let policy = policy.clone();
            reg.conflicts.push(conflict);
            return policy;
        }
        return policy.clone();
    }
    let text = format!("{settings:?}");
    // `build` registers the policy itself; release the lock for it.
    drop(reg);
    let policy = build(settings.clone());
    let mut reg = registry();
    let entry =
        reg.named.entry(key).or_insert_with(|| (Box::new((policy.clone(), settings)), text));
    entry.0.downcast_ref::<(T, S)>().map(|(p, _)| p.clone()).unwrap_or(policy)
}
