//! Hedged calls: when the first attempt has not answered after a delay, another starts
//! alongside it; the first success wins and the others are dropped (cancelled).
//!
//! The delay (`after`) is fixed (`"50ms"`) or a percentile of the function's recent successful
//! latencies (`"p95"`), kept by the same windowed histogram as the adaptive
//! [timeout](crate::timeout): the first attempt's latency is one sample per call (a first
//! attempt a hedge beat counts at the time it was dropped, a lower bound, as a timed-out call
//! does for the timeout). Until `warmup` samples exist a percentile `after` sends no hedges.
//!
//! Hedges share a budget like the retry's ([`RetryBudget`]): every call deposits `ratio` of a
//! token (10 % by default), every hedge withdraws one, so hedging cannot multiply the load when
//! the dependency slows down as a whole; a spent budget is a `debug` event and the call waits
//! for the attempts it has.
//!
//! Errors: an attempt that fails while another is still running does not end the call; the
//! call ends with the first success, or, when every attempt started has failed, with the error
//! of the one that finished last. A first attempt that fails before any hedge started ends the
//! call at once: hedging is for slow calls, [`retry`](crate::retry) is for failed ones.
//!
//! Hedging repeats the call: put it only on operations that are safe to run twice (reads,
//! idempotent writes).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! use std::time::Duration;
//! use resilient_runtime::hedge::{Hedge, HedgeAfter};
//!
//! let hedge = Hedge::builder(HedgeAfter::Fixed(Duration::from_millis(50))).name("get").build();
//! let mut attempt = 0;
//! let out: Result<u32, ()> = hedge
//!     .run(|| {
//!         attempt += 1;
//!         let n = attempt;
//!         async move {
//!             // The first attempt is stuck; the hedge, started after 50 ms, answers at once.
//!             let slow = if n == 1 { 10_000 } else { 1 };
//!             tokio::time::sleep(Duration::from_millis(slow)).await;
//!             Ok(n)
//!         }
//!     })
//!     .await;
//! assert_eq!(out, Ok(2));
//! assert_eq!(hedge.snapshot().hedges_won, 1);
//! # }
//! ```

mod argument;
mod future;
mod partition;
mod tuned;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use serde::Serialize;

pub use argument::{HedgeArgument, HedgeGenericArgument, HedgeReceiver};
pub use future::{HedgeFuture, Layered, Plain, Success};

use crate::Outcome;
use crate::error::PolicyName;
use crate::observe::HedgeMetrics;
use crate::registry::{self, Inspect, PolicySnapshot, PolicyState};
use crate::retry::{BudgetSettings, BudgetSnapshot, RetryBudget};

/// When a hedge starts.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HedgeAfter {
    /// After this long without an answer (`"50ms"`).
    Fixed(Duration),
    /// After the `percentile`-th percentile of recent successful latencies (`"p95"`), strictly
    /// between 0 and 100.
    Percentile(f64),
}

impl fmt::Display for HedgeAfter {
    /// As the attribute writes it: `p95`, `50ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let setting = resilient_spec::Setting::After(tuned::to_spec(*self));
        setting.fmt(f)
    }
}

/// A hedging policy. Cheap to clone; clones share the latency histogram, budget and counters.
#[derive(Clone)]
pub struct Hedge {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    name: PolicyName,
    /// The compiled settings, as configuration keys.
    inline: crate::config::Tuning,
    tuned: crate::config::Live<tuned::Tuned>,
    /// Kept whether on or off, so configuration can turn it on and off without losing it.
    budget: RetryBudget,
    sent: AtomicU64,
    won: AtomicU64,
    metrics: HedgeMetrics,
}

/// Builds a [`Hedge`]; see [`Hedge::builder`].
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct HedgeBuilder {
    name: PolicyName,
    after: HedgeAfter,
    max_attempts: u32,
    budget: Option<BudgetSettings>,
    warmup: u32,
    window: Duration,
}

impl HedgeBuilder {
    /// The name the registry and events use (default `"hedge"`).
    pub fn name(mut self, name: impl Into<PolicyName>) -> Self {
        self.name = name.into();
        self
    }

    /// Attempts in all, the first included (default 2: one hedge; from 2 to 10).
    pub fn max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts.clamp(2, 10);
        self
    }

    /// The hedge budget (default 10 % of calls, at least 10 hedges a second, at most 100 saved
    /// up); `None` turns it off.
    pub fn budget(mut self, budget: Option<BudgetSettings>) -> Self {
        self.budget = budget;
        self
    }

    /// Samples needed before a percentile `after` is trusted (default 100); no hedge is sent
    /// before.
    pub fn warmup(mut self, warmup: u32) -> Self {
        self.warmup = warmup.max(1);
        self
    }

    /// How far back latencies count for a percentile `after` (default 60 s).
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// Builds the policy and lists it in the [registry].
    ///
    /// # Panics
    ///
    /// If `after` is a zero duration or a percentile outside (0, 100), or the window is zero.
    /// The attribute checks all of this at compile time.
    pub fn build(self) -> Hedge {
        if let Err(why) = tuned::check_after(self.after) {
            panic!("hedge `{}`: {why}", self.name);
        }
        assert!(!self.window.is_zero(), "hedge `{}`: zero window", self.name);
        let budget = self.budget.map(|b| b.ratio);
        let inline = tuned::tuning(self.after, self.max_attempts, budget, self.warmup, self.window);
        let inner = Arc::new(Inner {
            metrics: HedgeMetrics::new(&self.name),
            name: self.name,
            tuned: crate::config::Live::new(tuned::Tuned::new(inline.clone(), None)),
            inline,
            budget: RetryBudget::new(self.budget.unwrap_or_else(default_budget)),
            sent: AtomicU64::new(0),
            won: AtomicU64::new(0),
        });
        crate::config::attach(&inner);
        let weak: std::sync::Weak<dyn Inspect> = Arc::downgrade(&inner) as _;
        registry::register(weak);
        Hedge { inner }
    }

    /// Returns the hedge registered under this builder's name, building it the first time:
    /// every builder with the same name gets the same policy (one histogram, one budget). A
    /// later builder whose settings differ still gets the first one; the disagreement is listed
    /// in [`registry::snapshot`]`().conflicts`.
    pub fn build_shared(self) -> Hedge {
        let name = self.name.clone();
        registry::named(name.as_str(), self, |b| b.build())
    }
}

/// The budget `#[hedge]` gets by default: the retry budget's, at 10 % of calls.
pub fn default_budget() -> BudgetSettings {
    BudgetSettings { ratio: 0.1, ..BudgetSettings::default() }
}

impl Hedge {
    /// A builder with the defaults of `#[hedge]`: 2 attempts, a 10 % budget, a percentile
    /// `after` trusted after 100 samples over the last 60 s.
    pub fn builder(after: HedgeAfter) -> HedgeBuilder {
        HedgeBuilder {
            name: PolicyName::from("hedge"),
            after,
            max_attempts: 2,
            budget: Some(default_budget()),
            warmup: 100,
            window: Duration::from_secs(60),
        }
    }

    /// The policy's name.
    pub fn name(&self) -> &str {
        self.inner.name.as_str()
    }

    /// The delay after which a call starting now would send a hedge; `None` while a percentile
    /// `after` is warming up or the policy is disabled.
    pub fn after_now(&self) -> Option<Duration> {
        self.inner.tuned.get().delay()
    }

    /// Runs `f`'s future, and more of them (up to the attempts allowed) if it is slow; the first
    /// `Ok` wins.
    pub fn run<F, Fut, T, E>(
        &self,
        mut f: F,
    ) -> HedgeFuture<'_, impl FnMut(bool) -> Fut, Fut, Plain>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        HedgeFuture::new(&self.inner, move |_last| f())
    }

    /// The layer the attributes use: `make(last)` builds one attempt of a fused pipeline (`last`
    /// is true for the last one allowed, which may take the arguments themselves rather than
    /// copies). Only `Ok(Ok(_))` is a success.
    #[inline]
    pub fn guard<M, F, T, E>(&self, make: M) -> HedgeFuture<'_, M, F, Layered>
    where
        M: FnMut(bool) -> F,
        F: Future<Output = Outcome<T, E>>,
    {
        HedgeFuture::new(&self.inner, make)
    }

    /// The policy's current state.
    pub fn snapshot(&self) -> HedgeSnapshot {
        self.inner.hedge_snapshot()
    }
}

impl fmt::Debug for Hedge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hedge")
            .field("name", &self.inner.name)
            .field("after", &self.inner.tuned.get().after)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hedge").field("name", &self.name).finish_non_exhaustive()
    }
}

/// A hedging policy's state as the registry reports it.
#[derive(Clone, Debug, Serialize)]
pub struct HedgeSnapshot {
    /// The `after` setting in force.
    pub after: HedgeAfter,
    /// The delay a call starting now waits before hedging; `None` while a percentile `after`
    /// is warming up (no hedges yet) or the policy is disabled.
    pub after_now: Option<Duration>,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// First-attempt latencies in the window (percentile `after` only).
    pub samples: u64,
    /// True while a percentile `after` has fewer than `warmup` samples.
    pub warming_up: bool,
    /// Hedges sent so far.
    pub hedges_sent: u64,
    /// Calls a hedge answered (an attempt other than the first won).
    pub hedges_won: u64,
    /// The hedge budget, when on.
    pub budget: Option<BudgetSnapshot>,
}

impl Inner {
    fn hedge_snapshot(&self) -> HedgeSnapshot {
        let tuned = self.tuned.get();
        let (samples, warming_up) = match tuned.active() {
            Some(a) => {
                let _ = a.settle();
                let seen = a.observed();
                (seen.samples, seen.warming_up)
            }
            None => (0, false),
        };
        HedgeSnapshot {
            after: tuned.after,
            after_now: tuned.delay(),
            max_attempts: tuned.max,
            samples,
            warming_up,
            hedges_sent: self.sent.load(Relaxed),
            hedges_won: self.won.load(Relaxed),
            budget: tuned.budget.map(|ratio| {
                let mut snapshot = self.budget.snapshot();
                snapshot.settings.ratio = ratio;
                snapshot
            }),
        }
    }
}

impl Inspect for Inner {
    fn snapshot(&self) -> PolicySnapshot {
        PolicySnapshot {
            name: self.name.to_string(),
            settings: self.tuned.get().tuning.view(),
            state: PolicyState::Hedge(self.hedge_snapshot()),
        }
    }
}
