//! Adaptive throttling: `#[circuit_breaker(mode = "adaptive")]`; see [`AdaptiveBreaker`].

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use super::adaptive_window::Window;
use crate::config::{Live, Tuning};
use crate::error::{CircuitOpen, PolicyName};
use crate::observe::events;
use crate::{Error, Outcome};

#[path = "adaptive_settings.rs"]
mod settings;
#[path = "adaptive_snapshot.rs"]
mod snapshot;

pub use settings::{AdaptiveBreakerBuilder, AdaptiveSettings};
pub(super) use settings::{refuse_keys, view};
pub use snapshot::AdaptiveSnapshot;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Override {
    None,
    Bypass,
    Reject,
}

/// The gate word: the rejection probability in its low 32 bits (in 2⁻³² units), and the
/// operator's override above. Zero: every call goes through and successes are only counted.
const FORCED_OPEN: u64 = 1 << 32;
const BYPASS: u64 = 1 << 33;
const PROBABILITY: u64 = u32::MAX as u64;

fn to_word(p: f64) -> u64 {
    if p <= 0.0 { 0 } else { ((p * 4_294_967_296.0) as u64).clamp(1, PROBABILITY) }
}

fn from_word(word: u64) -> f64 {
    (word & PROBABILITY) as f64 / 4_294_967_296.0
}

/// A circuit breaker in adaptive mode (`#[circuit_breaker(mode = "adaptive")]`).
///
/// Client-side throttling as the Google SRE book describes it (and Envoy's admission control
/// filter implements it): over a sliding `window`, each call is rejected locally with
/// probability
///
/// ```text
/// max(0, (requests − k·accepts) / (requests + 1)), at most max_rejection
/// ```
///
/// where `requests` are the calls let through to the dependency and `accepts` those that
/// succeeded. While at least 1/k of the calls succeed nothing is rejected; as the success rate
/// falls, so does the share of calls let through, but never to zero (`max_rejection`), and
/// there is no cooldown: as soon as the dependency answers again, the accepts it gives bring the
/// probability down. Below `min_rps` calls a second in the window nothing is rejected (a single
/// failure of a rarely called function should not shed half of its next calls).
///
/// Local rejections are not counted as requests (as in Envoy, not as in the book): a rejection
/// says nothing about the dependency, and counting it would keep the probability up for several
/// windows after the dependency is back.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use std::time::Duration;
/// use resilient_runtime::{Error, breaker::AdaptiveBreaker, error::StoreFailure};
///
/// let throttle = AdaptiveBreaker::builder().name("docs::throttle").window(Duration::from_secs(10)).build();
/// for _ in 0..50 {
///     let _: Result<(), Error> = throttle.call(async { Err(Error::Store(StoreFailure::new("db", "down"))) }).await;
/// }
/// assert!(throttle.rejection_probability() > 0.5);
/// # }
/// ```
///
/// # Cost
///
/// While nothing is rejected, letting a call through is one atomic load and recording its
/// success one relaxed atomic add: no clock read, no lock, no random draw. A failure, a
/// rejection, and every call while the probability is above zero read the clock and take a short
/// lock on the window.
///
/// Cheap to clone; clones share the state.
#[derive(Clone)]
pub struct AdaptiveBreaker {
    inner: Arc<AdaptiveInner>,
}

pub(crate) struct AdaptiveInner {
    name: PolicyName,
    inline: Tuning,
    tuned: Live<Tuned>,
    gate: AtomicU64,
    /// Successes counted while the gate was zero, not yet folded into the window.
    fresh: AtomicU64,
    window: Mutex<Window>,
    /// Calls rejected since the breaker was built.
    rejections: AtomicU64,
    epoch: Instant,
    metrics: crate::observe::AdaptiveMetrics,
}

#[derive(Debug)]
struct Tuned {
    settings: AdaptiveSettings,
    over: Override,
    tuning: Tuning,
}

impl AdaptiveBreaker {
    /// A builder with the defaults of `#[circuit_breaker(mode = "adaptive")]`: see
    /// [`AdaptiveSettings::default`].
    pub fn builder() -> AdaptiveBreakerBuilder {
        AdaptiveBreakerBuilder::new()
    }

    /// The breaker's name.
    pub fn name(&self) -> &str {
        self.inner.name.as_str()
    }

    /// The settings in force: as built, with any [configuration](crate::config) applied.
    pub fn settings(&self) -> &AdaptiveSettings {
        &self.inner.tuned.get().settings
    }

    /// The probability that a call starting now is rejected (1 while configuration forces the
    /// breaker open, 0 while it forces it closed).
    pub fn rejection_probability(&self) -> f64 {
        let word = self.inner.gate.load(Ordering::Relaxed);
        if word & FORCED_OPEN != 0 {
            1.0
        } else if word & BYPASS != 0 {
            0.0
        } else {
            from_word(word)
        }
    }

    /// Lets one call through, or rejects it with [`Error::CircuitOpen`] (with the rejection
    /// probability now). While nothing is rejected this is one atomic load.
    #[inline]
    pub fn try_acquire(&self) -> Result<AdaptivePermit<'_>, Error> {
        let inner = &*self.inner;
        let word = inner.gate.load(Ordering::Relaxed);
        if word == 0 {
            return Ok(AdaptivePermit { breaker: inner, ticket: Ticket::Fast });
        }
        inner.acquire_slow(word)
    }

    /// Runs `fut` through the breaker; every `Err` counts as a failure. A rejection reaches the
    /// caller as `E::from(Error::CircuitOpen(..))`, and `fut` is then never polled.
    pub async fn call<F, T, E>(&self, fut: F) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>>,
        E: From<Error>,
    {
        self.call_when(|_: &E| true, fut).await
    }

    /// Runs `fut` through the breaker; only errors for which `when` is true count as failures,
    /// others count as neither.
    pub async fn call_when<F, T, E, W>(&self, when: W, fut: F) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>>,
        E: From<Error>,
        W: FnOnce(&E) -> bool,
    {
        let permit = self.try_acquire()?;
        let out: Outcome<T, E> = Ok(fut.await);
        permit.settle(&out, when);
        match out {
            Ok(result) => result,
            Err(rejected) => Err(E::from(rejected)),
        }
    }

    /// True while the rejection probability is above zero: the dependency is failing more than
    /// `1 - 1/k` of the calls, so a retry above this breaker gives up rather than add load.
    pub fn is_throttling(&self) -> bool {
        self.rejection_probability() > 0.0
    }
}

impl fmt::Debug for AdaptiveBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdaptiveBreaker")
            .field("name", &self.inner.name)
            .field("rejection_probability", &self.rejection_probability())
            .field("settings", self.settings())
            .finish()
    }
}

impl fmt::Debug for AdaptiveInner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdaptiveInner").field("name", &self.name).finish_non_exhaustive()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ticket {
    /// Let through with the gate at zero: a success is only counted.
    Fast,
    /// Let through while throttling: recorded in the window.
    Counted,
    /// Let through by `force = "closed"` or `enabled = false`: nothing is recorded.
    Bypass,
}

/// A call let through by an [`AdaptiveBreaker`]; settle it with [`success`](Self::success),
/// [`failure`](Self::failure) or [`settle`](Self::settle). Dropped unsettled (cancelled,
/// panicked) it records nothing.
#[must_use = "a permit records nothing unless settled with success() or failure()"]
#[derive(Debug)]
pub struct AdaptivePermit<'a> {
    breaker: &'a AdaptiveInner,
    ticket: Ticket,
}

impl AdaptivePermit<'_> {
    /// The call succeeded: an accept. While nothing is rejected, one relaxed atomic add.
    #[inline]
    pub fn success(self) {
        let b = self.breaker;
        match self.ticket {
            Ticket::Fast => {
                b.fresh.fetch_add(1, Ordering::Relaxed);
            }
            Ticket::Counted => b.record(true),
            Ticket::Bypass => {}
        }
        b.metrics.success();
    }

    /// The call failed: a request without an accept, which may raise the rejection
    /// probability.
    pub fn failure(self) {
        let b = self.breaker;
        if self.ticket != Ticket::Bypass {
            b.record(false);
        }
        b.metrics.failure();
    }

    /// Settles the permit by the outcome of a pipeline's inner layers: `Ok(Ok(_))` is a success;
    /// `Ok(Err(e))` a failure if `when(e)`, else neither; an inner [`Error::Timeout`] a failure
    /// (with `timeouts = "settled"`, not one at a learned adaptive limit below its `max`,
    /// [`Elapsed::is_learning`], which is neither); any other inner rejection neither.
    ///
    /// [`Elapsed::is_learning`]: crate::error::Elapsed::is_learning
    #[inline]
    pub fn settle<T, E, W>(self, outcome: &Outcome<T, E>, when: W)
    where
        W: FnOnce(&E) -> bool,
    {
        match outcome {
            Ok(Ok(_)) => self.success(),
            Ok(Err(e)) if when(e) => self.failure(),
            Err(Error::Timeout(t))
                if !t.is_learning() || self.breaker.tuned.get().settings.timeouts.count(t) =>
            {
                self.failure()
            }
            Ok(Err(_)) | Err(_) => {}
        }
    }
}

impl AdaptiveInner {
    /// Nanoseconds on tokio's clock since the breaker was built.
    fn now(&self) -> u64 {
        Instant::now().saturating_duration_since(self.epoch).as_nanos() as u64
    }

    #[cold]
    fn acquire_slow(&self, word: u64) -> Result<AdaptivePermit<'_>, Error> {
        if word & BYPASS != 0 {
            return Ok(AdaptivePermit { breaker: self, ticket: Ticket::Bypass });
        }
        let p = if word & FORCED_OPEN != 0 {
            1.0
        } else {
            // The probability may have fallen since it was stored: time passed.
            self.refresh()
        };
        let draw = rand::Rng::next_u32(&mut crate::rng::ThreadLocalRng);
        if p >= 1.0 || (p > 0.0 && u64::from(draw) < to_word(p)) {
            self.rejections.fetch_add(1, Ordering::Relaxed);
            self.metrics.rejected();
            events::throttle_rejected(&self.name, p);
            return Err(Error::CircuitOpen(CircuitOpen::new(self.name.clone(), Duration::ZERO)));
        }
        Ok(AdaptivePermit { breaker: self, ticket: Ticket::Counted })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Window> {
        self.window.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records one answered call and recomputes the probability.
    fn record(&self, accepted: bool) {
        let settings = self.tuned.get().settings;
        let bucket = self.now() / settings.bucket_nanos();
        let mut window = self.lock();
        window.fold(self.fresh.swap(0, Ordering::Relaxed), bucket);
        window.record(accepted, bucket);
        let p = window.probability(bucket, settings.rule());
        self.store(p, &window);
    }

    /// Recomputes the probability for the time now; returns it.
    fn refresh(&self) -> f64 {
        let settings = self.tuned.get().settings;
        let bucket = self.now() / settings.bucket_nanos();
        let mut window = self.lock();
        window.fold(self.fresh.swap(0, Ordering::Relaxed), bucket);
        let p = window.probability(bucket, settings.rule());
        self.store(p, &window);
        p
    }

    /// Stores `p` in the gate (unless an override holds it) while the window's lock is held,
    /// so stores are ordered; reports crossings.
    fn store(&self, p: f64, _window: &Window) {
        let old = self.gate.load(Ordering::Relaxed);
        if old & (FORCED_OPEN | BYPASS) != 0 {
            return;
        }
        let new = to_word(p);
        if new != old {
            self.gate.store(new, Ordering::Relaxed);
            self.metrics.probability(p);
            let level = |q: f64| u8::from(q > 0.0) + u8::from(q >= 0.5);
            let before = from_word(old);
            if level(before) != level(p) {
                events::throttle_changed(&self.name, before, p);
            }
        }
    }

    fn apply(&self, settings: AdaptiveSettings, over: Override) {
        let mut window = self.lock();
        match over {
            Override::Bypass => self.gate.store(BYPASS, Ordering::Relaxed),
            Override::Reject => self.gate.store(FORCED_OPEN, Ordering::Relaxed),
            Override::None => {
                self.gate.fetch_and(PROBABILITY, Ordering::Relaxed);
                let bucket = self.now() / settings.bucket_nanos();
                window.fold(self.fresh.swap(0, Ordering::Relaxed), bucket);
                let p = window.probability(bucket, settings.rule());
                self.store(p, &window);
            }
        }
    }
}

#[cfg(test)]
#[path = "adaptive_tests.rs"]
mod tests;
