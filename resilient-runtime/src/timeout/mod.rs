//! Fixed and adaptive timeouts.
//!
//! A [`Timeout`] bounds each call by its own limit and by the caller's
//! [deadline], whichever is sooner, and runs the call with that deadline set so
//! nested timeouts and retries see it. On expiry the call's future is dropped and the caller gets
//! [`Error::Timeout`], whose [`Elapsed::after`](crate::error::Elapsed::after) is the limit that
//! applied.
//!
//! An adaptive timeout (`"p99*2"`) learns the limit from the function's recent successful
//! latencies: `multiplier` × the `percentile`-th percentile over the last `window`, clamped to
//! `[min, max]`, and `initial` until `warmup` samples exist. In Finagle's manner it learns only
//! from successes (fast failures would drag the percentile down) and counts a timed-out call as a
//! sample at its timeout (a censored sample), so a slowdown pulls the limit up instead of going
//! unseen. The value is recomputed periodically (every sixteenth of the window, between 1 ms and
//! 250 ms) and by the call that completes the warm-up, never otherwise per call. On a fast
//! dependency K × pNN falls below any timer's resolution and `min` (default 20 ms) is the limit;
//! see [`AdaptiveSettings::min`].
//!
//! ```
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! use std::time::Duration;
//! use resilient_runtime::{Error, timeout::Timeout};
//!
//! let timeout = Timeout::fixed(Duration::from_millis(100)).name("slow").build();
//! let out: Result<(), Error> = timeout
//!     .run(async {
//!         tokio::time::sleep(Duration::from_secs(1)).await;
//!         Ok(())
//!     })
//!     .await;
//! let err = out.unwrap_err();
//! assert!(err.is_timeout());
//! assert_eq!(err.to_string(), "`slow` timed out after 100ms");
//! # }
//! ```

pub(crate) mod adaptive;
mod future;
mod histogram;
mod partition;
mod rule;
mod tuned;

#[cfg(test)]
pub(crate) use tuned::tuning as tuned_defaults;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use serde::Serialize;

pub use future::{Classify, Layered, Plain, TimeoutFuture};
pub use histogram::LatencyHistogram;
pub use rule::{AdaptiveSettings, TimeoutRule};

use crate::Outcome;
use crate::deadline;
use crate::deadline::Slot;
use crate::error::{Elapsed, Error, PolicyName};
use crate::observe::{TimeoutMetrics, events};
use crate::registry::{self, Inspect, PolicySnapshot, PolicyState};
use future::{Start, Started};

/// A fixed or adaptive timeout. Cheap to clone; clones share the latency histogram and counters.
#[derive(Clone)]
pub struct Timeout {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    name: PolicyName,
    /// The compiled settings, as configuration keys.
    inline: crate::config::Tuning,
    tuned: crate::config::Live<tuned::Tuned>,
    timeouts: AtomicU64,
    pub(crate) metrics: TimeoutMetrics,
}

/// Builds a [`Timeout`]; see [`Timeout::fixed`] and [`Timeout::adaptive`].
///
/// It is `PartialEq`, so it can serve as the settings of
/// [`registry::named`].
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct TimeoutBuilder {
    name: PolicyName,
    rule: TimeoutRule,
    settings: AdaptiveSettings,
    /// `min` was set, by [`min`](Self::min) or [`settings`](Self::settings).
    min_given: bool,
}

impl TimeoutBuilder {
    /// The name the registry and errors use (default `"timeout"`).
    pub fn name(mut self, name: impl Into<PolicyName>) -> Self {
        self.name = name.into();
        self
    }

    /// The timeout until enough samples exist (adaptive only; default 1 s).
    pub fn initial(mut self, initial: Duration) -> Self {
        self.settings.initial = initial;
        self
    }

    /// The lowest adaptive value (adaptive only; default 20 ms, see
    /// [`AdaptiveSettings::min`]).
    pub fn min(mut self, min: Duration) -> Self {
        self.settings.min = min;
        self.min_given = true;
        self
    }

    /// The highest adaptive value (adaptive only; default 30 s). Below 20 ms and without a
    /// [`min`](Self::min), it is the floor too: the default floor yields to it.
    pub fn max(mut self, max: Duration) -> Self {
        self.settings.max = max;
        if !self.min_given {
            self.settings.min = AdaptiveSettings::default().min.min(max);
        }
        self
    }

    /// Samples needed in the window before the percentile is trusted (adaptive only; default 100).
    pub fn warmup(mut self, warmup: u32) -> Self {
        self.settings.warmup = warmup;
        self
    }

    /// How far back latencies count (adaptive only; default 60 s).
    pub fn window(mut self, window: Duration) -> Self {
        self.settings.window = window;
        self
    }

    /// All adaptive settings at once.
    pub fn settings(mut self, settings: AdaptiveSettings) -> Self {
        self.settings = settings;
        self.min_given = true;
        self
    }

    /// Builds the policy and lists it in the [registry].
    ///
    /// # Panics
    ///
    /// If the rule fails [`TimeoutRule::check`], or (adaptive) `min` exceeds `max` or the window
    /// is zero. The attributes check all of this at compile time.
    pub fn build(self) -> Timeout {
        if let Err(why) = self.rule.check() {
            panic!("timeout `{}`: {why}", self.name);
        }
        if let TimeoutRule::Adaptive { .. } = self.rule {
            let s = self.settings;
            assert!(s.min <= s.max, "timeout `{}`: min exceeds max", self.name);
            assert!(!s.window.is_zero(), "timeout `{}`: zero window", self.name);
        }
        let inline = tuned::tuning(self.rule, &self.settings);
        let limit = match self.rule {
            TimeoutRule::Fixed(d) => d,
            TimeoutRule::Adaptive { .. } => self.settings.initial,
        };
        let inner = Arc::new(Inner {
            metrics: TimeoutMetrics::new(&self.name, limit),
            name: self.name,
            tuned: crate::config::Live::new(tuned::Tuned::new(inline.clone(), None)),
            inline,
            timeouts: AtomicU64::new(0),
        });
        crate::config::attach(&inner);
        let weak: std::sync::Weak<dyn Inspect> = Arc::downgrade(&inner) as _;
        registry::register(weak);
        Timeout { inner }
    }

    /// Returns the timeout registered under this builder's name, building it the first time:
    /// every builder with the same name gets the same timeout (one histogram, one adaptive
    /// value). A later builder whose rule or settings differ from the first one's still gets the
    /// first timeout; the disagreement is listed in [`registry::snapshot`]`().conflicts`.
    pub fn build_shared(self) -> Timeout {
        let name = self.name.clone();
        registry::named(name.as_str(), (self.rule, self.settings), |_| self.build())
    }
}

impl Timeout {
    /// A builder for a timeout of `limit` on every call.
    pub fn fixed(limit: Duration) -> TimeoutBuilder {
        Self::builder(TimeoutRule::Fixed(limit))
    }

    /// A builder for a timeout of `multiplier` × the `percentile`-th percentile of recent
    /// successful latencies (`Timeout::adaptive(99.0, 2.0)` is `"p99*2"`), with the
    /// [default settings](AdaptiveSettings::default).
    pub fn adaptive(percentile: f64, multiplier: f64) -> TimeoutBuilder {
        Self::builder(TimeoutRule::Adaptive { percentile, multiplier })
    }

    /// A builder for any rule, such as one from [`TimeoutRule::parse`].
    pub fn builder(rule: TimeoutRule) -> TimeoutBuilder {
        TimeoutBuilder {
            name: PolicyName::from("timeout"),
            rule,
            settings: AdaptiveSettings::default(),
            min_given: false,
        }
    }

    /// The policy's name.
    pub fn name(&self) -> &str {
        self.inner.name.as_str()
    }

    /// The rule in force: as built, or as [configuration](crate::config) set it.
    pub fn rule(&self) -> TimeoutRule {
        self.inner.rule()
    }

    /// The limit a call starting now gets, before tightening to the caller's deadline.
    #[inline]
    pub fn current(&self) -> Duration {
        self.inner.current()
    }

    /// Runs `fut` under the timeout; a timeout reaches the caller as `E`. Successes (`Ok`) teach
    /// an adaptive timeout their latency. Equivalent to an `async fn`: nothing happens, the clock
    /// included, until the returned future is first polled.
    pub fn run<F, T, E>(&self, fut: F) -> TimeoutFuture<'_, F, Plain>
    where
        F: Future<Output = Result<T, E>>,
        E: From<Error>,
    {
        TimeoutFuture::new(&self.inner, fut)
    }

    /// The layer the attributes use: runs `fut`, one layer of a fused pipeline, under the timeout.
    /// Outputs pass through unchanged; only `Ok(Ok(_))` counts as a success; on expiry the output
    /// is `Err(Error::Timeout(..))`.
    #[inline]
    pub fn guard<F, T, E>(&self, fut: F) -> TimeoutFuture<'_, F, Layered>
    where
        F: Future<Output = Outcome<T, E>>,
    {
        TimeoutFuture::new(&self.inner, fut)
    }

    /// The policy's current state, after bringing an adaptive window up to date (on the clock of
    /// the calling task's runtime).
    pub fn snapshot(&self) -> TimeoutSnapshot {
        self.inner.timeout_snapshot(true)
    }
}

impl fmt::Debug for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("name", &self.inner.name)
            .field("rule", &self.rule())
            .field("current", &self.current())
            .finish_non_exhaustive()
    }
}

impl Inner {
    fn rule(&self) -> TimeoutRule {
        self.tuned.get().rule
    }

    #[inline]
    fn current(&self) -> Duration {
        let tuned = self.tuned.get();
        match (tuned.rule, tuned.active()) {
            (_, Some(a)) => a.current(),
            (TimeoutRule::Fixed(d), None) => d,
            (TimeoutRule::Adaptive { .. }, None) => tuned.settings.initial,
        }
    }

    /// Starts a call: reads the settings (once) and the caller's deadline. The deadline itself
    /// is fixed when first needed ([`Slot::Lazy`]), so a call that completes without waiting
    /// reads no clock for it; an adaptive limit reads its cheap clock ([`crate::clock`]) to time
    /// the call from here.
    #[inline]
    pub(crate) fn start(&self) -> Start<'_> {
        let tuned = self.tuned.get();
        let (limit, adaptive) = match (tuned.enabled, tuned.rule, tuned.active()) {
            (false, ..) => (Duration::MAX, None),
            (true, _, Some(a)) => (a.current(), Some(a)),
            (true, TimeoutRule::Fixed(d), None) => (d, None),
            (true, TimeoutRule::Adaptive { .. }, None) => (tuned.settings.initial, None),
        };
        let t0 = adaptive.map_or(0, |a| a.now());
        Start { limit, outer: deadline::current(), adaptive, t0 }
    }

    /// A call is about to wait: its deadline, as something inside already fixed it (`slot`),
    /// or from now.
    #[inline]
    pub(crate) fn anchored<'a>(&self, slot: Slot, start: &Start<'a>) -> Started<'a> {
        let (at, deadline) = match slot {
            Slot::Anchored { at, deadline } => (at, deadline),
            _ => deadline::anchor(start.limit, start.outer),
        };
        let own = deadline == deadline::own_deadline(at, start.limit);
        Started { at, deadline, own, adaptive: start.adaptive, t0: start.t0 }
    }

    /// A call that started at `t0` (on the adaptive state's clock) succeeded now: an adaptive
    /// limit learns its latency.
    #[inline]
    pub(crate) fn succeeded(&self, adaptive: Option<&adaptive::Adaptive>, t0: u64) {
        if let Some(a) = adaptive {
            let now = a.now();
            let took = Duration::from_nanos(now.saturating_sub(t0));
            if let Some((from, to)) = a.record_at(took, now) {
                self.limit_moved(from, to);
            }
        }
    }

    /// An adaptive limit moved: the gauge follows, and an event says so (at `info` when it moved
    /// by a quarter or more).
    #[cold]
    fn limit_moved(&self, from: Duration, to: Duration) {
        self.metrics.limit(to);
        let (lo, hi) = (from.min(to).as_secs_f64(), from.max(to).as_secs_f64());
        events::limit_moved(&self.name, from, to, hi >= lo * 1.25);
    }

    /// A call reached its deadline: counts it and builds the error.
    #[cold]
    pub(crate) fn expired(&self, call: Started<'_>) -> Error {
        let applied = call.deadline.saturating_duration_since(call.at);
        self.timeouts.fetch_add(1, Relaxed);
        // A learned limit below `max` that this expiry will raise: not a failure for a breaker
        // with `timeouts = "settled"`. The `initial` limit of the warm-up is the user's own
        // choice, like a fixed one.
        let learning = call.own
            && call.adaptive.is_some_and(|a| !a.warming_up())
            && applied < self.tuned.get().settings.max;
        // A censored sample: the latency was at least `applied`. Only when our own limit applied;
        // a caller's earlier deadline says nothing about this function's latency, and counting
        // it would drag the percentile down like a fast failure.
        if let (Some(a), true) = (call.adaptive, call.own)
            && let Some((from, to)) = a.record_at(applied, a.now())
        {
            self.limit_moved(from, to);
        }
        self.metrics.timed_out(applied);
        events::timeout_fired(&self.name, applied, call.own);
        Error::Timeout(Elapsed::new(self.name.clone(), applied).learning(learning))
    }

    fn timeout_snapshot(&self, refresh: bool) -> TimeoutSnapshot {
        let timeouts = self.timeouts.load(Relaxed);
        let tuned = self.tuned.get();
        let Some(a) = tuned.active() else {
            return TimeoutSnapshot {
                rule: tuned.rule,
                current: self.current(),
                percentile: None,
                samples: 0,
                warming_up: false,
                timeouts,
                settings: None,
            };
        };
        let moved = if refresh { a.refresh_now() } else { a.settle() };
        if let Some((from, to)) = moved {
            self.limit_moved(from, to);
        }
        let seen = a.observed();
        TimeoutSnapshot {
            rule: tuned.rule,
            current: a.current(),
            percentile: seen.percentile,
            samples: seen.samples,
            warming_up: seen.warming_up,
            timeouts,
            settings: Some(a.params().settings),
        }
    }
}

/// A timeout's state as the registry reports it.
#[derive(Clone, Debug, Serialize)]
pub struct TimeoutSnapshot {
    /// The rule, fixed or adaptive.
    pub rule: TimeoutRule,
    /// The limit a call starting now gets (before tightening to the caller's deadline).
    pub current: Duration,
    /// The configured percentile of the latencies in the window (`None` when fixed or empty).
    pub percentile: Option<Duration>,
    /// Latencies in the window, censored ones included, counted when the snapshot is taken (0
    /// when fixed).
    pub samples: u64,
    /// True while an adaptive timeout has fewer than `warmup` samples and uses `initial`.
    pub warming_up: bool,
    /// Calls timed out so far.
    pub timeouts: u64,
    /// The adaptive settings (`None` when fixed).
    pub settings: Option<AdaptiveSettings>,
}

impl Inspect for Inner {
    fn snapshot(&self) -> PolicySnapshot {
        PolicySnapshot {
            name: self.name.to_string(),
            settings: self.tuned.get().tuning.view(),
            // Samples and warm-up as of now; the percentile as of the last refresh, and samples
            // older than the window retired only by the next one (calls refresh as they go): the
            // registry may be read from anywhere, for instance another runtime whose (paused)
            // clock this policy must not be refreshed against.
            state: PolicyState::Timeout(self.timeout_snapshot(false)),
        }
    }
}
