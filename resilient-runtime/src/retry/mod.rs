//! Retrying failed calls with backoff, jitter and a retry budget.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! use std::time::Duration;
//! use resilient_runtime::{backoff::Schedule, retry::Retry};
//!
//! let retry = Retry::builder()
//!     .max_attempts(3)
//!     .schedule(Schedule::exponential(Duration::from_millis(100)))
//!     .build();
//! let mut calls = 0;
//! let out: Result<u32, &str> = retry
//!     .run(|| {
//!         calls += 1;
//!         let n = calls;
//!         async move { if n < 3 { Err("flaky") } else { Ok(n) } }
//!     })
//!     .await;
//! assert_eq!(out, Ok(3));
//! # }
//! ```

mod blocking;
mod budget;
mod partition;
mod tuned;

#[cfg(test)]
pub(crate) use tuned::tuning as tuned_defaults;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use serde::Serialize;

pub use blocking::AttemptScope;
pub(crate) use budget::deposit_for;
pub use budget::{BudgetSettings, BudgetSnapshot, RetryBudget};

use crate::backoff::{Delays, Schedule};
use crate::error::PolicyName;
use crate::observe::{RetryMetrics, events};
use crate::registry::{self, Inspect, PolicySnapshot, PolicyState};
use crate::rng::ThreadLocalRng;

/// A retry policy: how many attempts, how long between them, and how many retries the budget
/// allows. Cheap to clone; clones share the budget and counters.
#[derive(Clone, Debug)]
pub struct Retry {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    name: PolicyName,
    /// The compiled settings, as configuration keys.
    inline: crate::config::Tuning,
    tuned: crate::config::Live<tuned::Tuned>,
    /// Kept whether on or off, so configuration can turn it on and off without losing it.
    budget: RetryBudget,
    retries: AtomicU64,
    gave_up: AtomicU64,
    metrics: RetryMetrics,
}

/// Builds a [`Retry`]; see [`Retry::builder`].
#[derive(Clone, Debug)]
#[must_use]
pub struct RetryBuilder {
    name: PolicyName,
    max_attempts: u32,
    schedule: Schedule,
    budget: Option<BudgetSettings>,
}

impl RetryBuilder {
    /// The name the registry and errors use (default `"retry"`).
    pub fn name(mut self, name: impl Into<PolicyName>) -> Self {
        self.name = name.into();
        self
    }

    /// Attempts in all, the first call included (default 3; at least 1).
    pub fn max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts.max(1);
        self
    }

    /// The backoff schedule (default: exponential from 100 ms, 10 % jitter, 10 s cap).
    pub fn schedule(mut self, schedule: Schedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// The retry budget (default [`BudgetSettings::default`]); `None` turns it off.
    pub fn budget(mut self, budget: Option<BudgetSettings>) -> Self {
        self.budget = budget;
        self
    }

    /// Builds the policy and lists it in the [registry].
    pub fn build(self) -> Retry {
        let inline = tuned::tuning(self.max_attempts, &self.schedule, self.budget.map(|b| b.ratio));
        let inner = Arc::new(Inner {
            metrics: RetryMetrics::new(&self.name),
            name: self.name,
            tuned: crate::config::Live::new(tuned::Tuned::new(inline.clone())),
            inline,
            budget: RetryBudget::new(self.budget.unwrap_or_default()),
            retries: AtomicU64::new(0),
            gave_up: AtomicU64::new(0),
        });
        crate::config::attach(&inner);
        let weak: std::sync::Weak<dyn Inspect> = Arc::downgrade(&inner) as _;
        registry::register(weak);
        Retry { inner }
    }

    /// Returns the retry policy registered under this builder's name, building it the first
    /// time: every builder with the same name gets the same policy (one budget, one set of
    /// counters), as `#[retry(name = "...")]` on several fns does. A later builder whose settings
    /// differ still gets the first policy; the disagreement is listed in
    /// [`registry::snapshot`]`().conflicts`.
    pub fn build_shared(self) -> Retry {
        let name = self.name.clone();
        let settings = (self.max_attempts, self.schedule, self.budget);
        registry::named(name.as_str(), settings, |_| self.build())
    }
}

/// Why a failed attempt was not retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GiveUp {
    /// The error is not one the policy retries (`when` said no, or a circuit is open).
    NotRetryable,
    /// Every attempt was used.
    Exhausted,
    /// The retry budget is spent: retrying now would feed a retry storm.
    Budget,
    /// The next delay would end past the task's deadline.
    Deadline,
}

impl Retry {
    /// A builder with the defaults of `#[retry]`: 3 attempts, exponential backoff from 100 ms
    /// with 10 % jitter capped at 10 s, a 20 % budget.
    pub fn builder() -> RetryBuilder {
        RetryBuilder {
            name: PolicyName::from("retry"),
            max_attempts: 3,
            schedule: Schedule::exponential(Duration::from_millis(100)),
            budget: Some(BudgetSettings::default()),
        }
    }

    /// The policy's name.
    pub fn name(&self) -> &str {
        self.inner.name.as_str()
    }

    /// Runs `f` until it succeeds, retrying every error.
    pub async fn run<F, Fut, T, E>(&self, f: F) -> Result<T, E>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.run_if(|_: &E| true, f).await
    }

    /// Runs `f` until it succeeds, retrying the errors for which `when` is true.
    pub async fn run_if<W, F, Fut, T, E>(&self, when: W, mut f: F) -> Result<T, E>
    where
        W: Fn(&E) -> bool,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut attempts = self.attempts();
        loop {
            match attempts.attempt(f()).await {
                Ok(v) => {
                    attempts.succeeded();
                    return Ok(v);
                }
                Err(e) => {
                    if attempts.backoff(when(&e)).await.is_err() {
                        return Err(e);
                    }
                }
            }
        }
    }

    /// Starts one call's sequence of attempts, for callers that drive the loop themselves (the
    /// `#[retry]` attribute does, so the body can borrow `&mut self`). Records the call in the
    /// budget.
    #[inline]
    pub fn attempts(&self) -> Attempts<'_> {
        // The one read of the settings: this call keeps them to its end, whatever is reloaded.
        let tuned = self.inner.tuned.get();
        if tuned.budget.is_some() {
            self.inner.budget.deposit_amount(tuned.deposit);
        }
        Attempts { policy: &self.inner, tuned, attempt: 0, delays: None }
    }
}

/// One call's attempts; see [`Retry::attempts`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// # let retry = resilient_runtime::retry::Retry::builder().build();
/// # let mut flaky = [Err("boom"), Ok(7)].into_iter();
/// let mut attempts = retry.attempts();
/// let value = loop {
///     match flaky.next().unwrap() {
///         Ok(v) => break Ok(v),
///         Err(e) => {
///             if attempts.backoff(true).await.is_err() {
///                 break Err(e);
///             }
///         }
///     }
/// };
/// assert_eq!(value, Ok::<_, &str>(7));
/// # }
/// ```
#[derive(Debug)]
pub struct Attempts<'a> {
    policy: &'a Inner,
    tuned: &'a tuned::Tuned,
    attempt: u32,
    delays: Option<Delays<ThreadLocalRng>>,
}

impl Attempts<'_> {
    /// True when the coming attempt is the last one allowed (owned arguments can then be moved
    /// instead of cloned).
    #[inline]
    pub fn is_last(&self) -> bool {
        self.attempt + 1 >= self.tuned.max_attempts
    }

    /// Attempts made so far (0 before the first).
    pub fn made(&self) -> u32 {
        self.attempt
    }

    /// Runs the coming attempt's future inside a span `attempt` (feature `tracing`), whose
    /// fields `policy`, `kind` and `attempt` (from 1) the body's own events inherit.
    ///
    /// Free when nothing listens: the span is built only if a subscriber wants it (one relaxed
    /// load of the level filter with no subscriber), and otherwise the future is polled as it is,
    /// with no span to enter or exit on each poll.
    #[inline]
    // No `F: Future` bound here: the `Future` impl of `Attempt` asks for it, so generated code
    // whose body is not a future of a `Result` gets one error, not a second one at this call.
    pub fn attempt<F>(&self, fut: F) -> Attempt<F> {
        #[cfg(feature = "tracing")]
        {
            Attempt {
                fut,
                span: events::attempt_span(&self.policy.name, self.attempt + 1).map(Box::new),
            }
        }
        #[cfg(not(feature = "tracing"))]
        fut
    }

    /// True when a subscriber may want the coming attempt's span (feature `tracing`: one relaxed
    /// load of the level filter); always false without the feature.
    ///
    /// For generated code, which awaits the attempt as it is when this is false and through
    /// [`attempt`](Self::attempt) when true, each await followed by its own check of success.
    /// That costs less than awaiting every attempt through `attempt`, whose future asks for its
    /// span on every poll and has a span to drop: with nothing between building the attempt and
    /// polling it, and nothing to drop between its outcome and the check, the compiler keeps the
    /// attempt's state and its outcome in registers (about 2.5 ns a call on the 2026-12 VM; the
    /// `retry_span_cost` example in `benches/`).
    #[doc(hidden)]
    #[inline]
    pub fn traced(&self) -> bool {
        events::attempt_span_wanted()
    }

    /// The call succeeded: counted as the `success` outcome of `resilient_calls_total` (feature
    /// `metrics`). A loop driven by hand calls it on success; without it the call counts as
    /// neither success nor failure (failures are counted when the policy gives up).
    #[inline]
    pub fn succeeded(&self) {
        self.policy.metrics.success();
    }

    /// As [`next_delay`](Self::next_delay), after an attempt of a fused pipeline whose
    /// `outcome` failed: a rejection from a layer inside is named in the retry's event.
    pub fn retry_after<T, E>(
        &mut self,
        outcome: &crate::Outcome<T, E>,
        retryable: bool,
    ) -> Result<Duration, GiveUp> {
        self.decide(retryable, outcome.as_ref().err())
    }

    /// After a failed attempt: decides whether to try again and, if so, sleeps the backoff delay
    /// on tokio's clock. `retryable` is the verdict on the error. Never starts a sleep that would
    /// end past the task's [deadline](crate::deadline).
    pub async fn backoff(&mut self, retryable: bool) -> Result<(), GiveUp> {
        let delay = self.next_delay(retryable)?;
        crate::pipeline::backoff_sleep(delay).await;
        Ok(())
    }

    /// The decision half of [`backoff`](Self::backoff): the delay to sleep before the next
    /// attempt, or why there is none. Counts the retry as made.
    pub fn next_delay(&mut self, retryable: bool) -> Result<Duration, GiveUp> {
        self.decide(retryable, None)
    }

    fn decide(
        &mut self,
        retryable: bool,
        rejection: Option<&crate::Error>,
    ) -> Result<Duration, GiveUp> {
        let p = self.policy;
        let verdict = if !retryable {
            Err(GiveUp::NotRetryable)
        } else if self.is_last() {
            Err(GiveUp::Exhausted)
        } else {
            let schedule = self.tuned.schedule;
            let delay = self
                .delays
                .get_or_insert_with(|| schedule.delays())
                .next()
                .unwrap_or(schedule.max_delay);
            match crate::deadline::remaining() {
                Some(left) if delay >= left => Err(GiveUp::Deadline),
                _ => match self.tuned.budget {
                    Some(_) if !p.budget.try_withdraw() => Err(GiveUp::Budget),
                    _ => Ok(delay),
                },
            }
        };
        match verdict {
            Ok(delay) => {
                self.attempt += 1;
                p.retries.fetch_add(1, Relaxed);
                p.metrics.retry();
                events::retry_scheduled(&p.name, self.attempt, delay, &Failed(rejection));
            }
            Err(GiveUp::NotRetryable) => p.metrics.failure(None),
            Err(why) => {
                p.gave_up.fetch_add(1, Relaxed);
                p.metrics.failure(Some(why));
                if why == GiveUp::Budget {
                    events::budget_exhausted(&p.name, self.attempt + 1);
                }
                events::retry_gave_up(&p.name, self.attempt + 1, why);
            }
        }
        verdict
    }
}

#[cfg(feature = "tracing")]
pin_project_lite::pin_project! {
    /// The future of [`Attempts::attempt`]: the attempt, polled inside its span when a
    /// subscriber wants the span (feature `tracing`).
    ///
    /// A struct holding the span as an `Option` beside the future rather than an enum of "span
    /// or not": the future keeps its own layout, so building the attempt is a plain move of it
    /// plus one word for the absent span (an enum packed its tag into the future's padding,
    /// which made the move a piecewise copy and a store-forwarding stall per call). The span is
    /// boxed: an absent `Option<Span>` still moved its five words through the stack on every
    /// attempt (2.2 ns of a 7 ns retry); the box is made only when a subscriber wants the span.
    #[must_use = "futures do nothing unless polled"]
    pub struct Attempt<F> {
        // Dropped first: a cancelled attempt's future is dropped while its span is still open.
        #[pin]
        fut: F,
        span: Option<Box<tracing::Span>>,
    }
}

#[cfg(feature = "tracing")]
impl<F: Future> Future for Attempt<F> {
    type Output = F::Output;

    #[inline]
    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let this = self.project();
        match this.span {
            None => this.fut.poll(cx),
            Some(span) => {
                let _entered = span.enter();
                this.fut.poll(cx)
            }
        }
    }
}

/// The future of [`Attempts::attempt`]: the attempt itself (no span without `tracing`).
#[cfg(not(feature = "tracing"))]
pub type Attempt<F> = F;

/// What failed, for the retry event: a layer's rejection or the function's own error (which
/// need not be `Debug`, and may hold what logs must not).
struct Failed<'a>(Option<&'a crate::Error>);

impl std::fmt::Display for Failed<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(rejection) => rejection.fmt(f),
            None => f.write_str("the function returned an error"),
        }
    }
}

/// A retry policy's state as the registry reports it.
#[derive(Clone, Debug, Serialize)]
pub struct RetrySnapshot {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The backoff schedule.
    pub schedule: Schedule,
    /// Retries made so far.
    pub retries: u64,
    /// Calls that failed after the policy gave up (attempts, budget or deadline exhausted).
    pub gave_up: u64,
    /// The retry budget, when on.
    pub budget: Option<BudgetSnapshot>,
}

impl Inspect for Inner {
    fn snapshot(&self) -> PolicySnapshot {
        let tuned = self.tuned.get();
        PolicySnapshot {
            name: self.name.to_string(),
            settings: tuned.tuning.view(),
            state: PolicyState::Retry(RetrySnapshot {
                max_attempts: tuned.max_attempts,
                schedule: tuned.schedule,
                retries: self.retries.load(Relaxed),
                gave_up: self.gave_up.load(Relaxed),
                budget: tuned.budget.map(|ratio| {
                    let mut snapshot = self.budget.snapshot();
                    snapshot.settings.ratio = ratio;
                    snapshot
                }),
            }),
        }
    }
}
