//! Circuit breakers: stop calling a dependency that keeps failing, and probe it again later.
//!
//! ```text
//!            threshold failures in window            cooldown over
//!   Closed ─────────────────────────────────► Open ─────────────────► HalfOpen
//!     ▲                                        ▲                         │
//!     │           a probe fails                │                         │
//!     │        ◄───────────────────────────────┴─────────────────────────┤
//!     └──────────────────────────────────────────────────────────────────┘
//!                         all `probes` probes succeed
//! ```
//!
//! While open, and for calls beyond the probe allowance while half-open, calls are rejected
//! without running: [`Error::CircuitOpen`]. The failures are counted in a sliding window of 16
//! buckets (see [`BreakerSettings::window`]); in failure-rate mode calls are counted too and the
//! circuit opens on the share of failures instead of their number.
//!
//! An inner [`Timeout`](crate::timeout::Timeout)'s [`Error::Timeout`] is a failure; with
//! [`Timeouts::Settled`] (`timeouts = "settled"`, in either mode) one at a learned adaptive
//! limit below its `max` is neither failure nor success (see [`Timeouts`]).
//!
//! The state lives in atomics, not behind a lock: letting a call through a closed circuit is one
//! atomic load (no clock read, no allocation), and a success there records nothing unless the
//! breaker counts calls for a failure rate. All time is tokio's clock, so a
//! `#[tokio::test(start_paused = true)]` controls windows and cooldowns.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! use std::time::Duration;
//! use resilient_runtime::{Error, breaker::{CircuitBreaker, CircuitState}};
//!
//! let breaker = CircuitBreaker::builder()
//!     .name("docs::db")
//!     .threshold(2)
//!     .cooldown(Duration::from_secs(5))
//!     .build();
//! for _ in 0..2 {
//!     let _: Result<(), Error> = breaker.call(async { Err(Error::Store(
//!         resilient_runtime::error::StoreFailure::new("db", "down"))) }).await;
//! }
//! assert_eq!(breaker.state(), CircuitState::Open);
//! let rejected: Result<(), Error> = breaker.call(async { Ok(()) }).await;
//! assert!(rejected.unwrap_err().is_circuit_open());
//!
//! tokio::time::advance(Duration::from_secs(5)).await;
//! let probe: Result<u32, Error> = breaker.call(async { Ok(7) }).await;
//! assert_eq!(probe, Ok(7));
//! assert_eq!(breaker.state(), CircuitState::Closed);
//! # }
//! ```

mod adaptive;
mod adaptive_window;
mod blocking;
mod guard;
mod machine;
mod partition;
mod permit;
mod settings;
mod snapshot;
mod sync;
mod window;

#[cfg(all(test, resilient_loom))]
mod loom;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

pub use adaptive::{
    AdaptiveBreaker, AdaptiveBreakerBuilder, AdaptivePermit, AdaptiveSettings, AdaptiveSnapshot,
};
pub use guard::Guarded;
pub use permit::Permit;
pub use settings::{BreakerSettings, CircuitBreakerBuilder, Timeouts};
pub use snapshot::BreakerSnapshot;

use crate::error::{CircuitOpen, PolicyName};
use crate::observe::events;
use crate::{Error, Outcome};
use machine::{Kind, Machine, Mode, Transition};

/// A circuit breaker. Cheap to clone; clones share the state.
///
/// Use [`call`](Self::call) or [`call_when`](Self::call_when) around a future, or
/// [`try_acquire`](Self::try_acquire) and settle the [`Permit`] yourself.
#[derive(Clone)]
pub struct CircuitBreaker {
    inner: Arc<Inner>,
}

/// The shared state behind a [`CircuitBreaker`] and its clones.
#[derive(Debug)]
pub(crate) struct Inner {
    name: PolicyName,
    /// The compiled settings, as configuration keys.
    inline: crate::config::Tuning,
    /// The settings in force (configuration applied), for display; the machine keeps its own
    /// copy in its units.
    tuned: crate::config::Live<settings::Tuned>,
    machine: Machine,
    /// Where the breaker's clock starts: the machine works in nanoseconds since then.
    /// Per breaker rather than per process, so each paused-clock test has a clock of its own.
    epoch: Instant,
    metrics: crate::observe::BreakerMetrics,
}

/// A circuit breaker's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CircuitState {
    /// Calls go through; failures are counted.
    Closed,
    /// Calls are rejected until the cooldown is over.
    Open,
    /// A limited number of probe calls go through to decide between closing and re-opening.
    HalfOpen,
}

impl std::fmt::Display for CircuitState {
    /// `closed`, `open` or `half-open`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CircuitState::Closed => "closed",
            CircuitState::Open => "open",
            CircuitState::HalfOpen => "half-open",
        })
    }
}

impl From<Kind> for CircuitState {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Closed => CircuitState::Closed,
            Kind::Open => CircuitState::Open,
            Kind::HalfOpen => CircuitState::HalfOpen,
        }
    }
}

impl CircuitBreaker {
    /// A builder with the defaults of `#[circuit_breaker]`: see [`BreakerSettings::default`].
    pub fn builder() -> CircuitBreakerBuilder {
        CircuitBreakerBuilder::new()
    }

    /// The breaker's name.
    pub fn name(&self) -> &str {
        self.inner.name.as_str()
    }

    /// The settings in force: as built, with any [configuration](crate::config) applied.
    pub fn settings(&self) -> &BreakerSettings {
        &self.inner.tuned.get().settings
    }

    /// The current state. An open circuit whose cooldown is over shows as half-open: the next
    /// call goes through as a probe (the state word itself changes on that call). While
    /// configuration overrides the breaker, the state it imposes: open for `force = "open"`,
    /// closed for `force = "closed"` or `enabled = false` (the state underneath is kept).
    pub fn state(&self) -> CircuitState {
        match self.inner.machine.mode() {
            Mode::Reject => CircuitState::Open,
            Mode::Bypass => CircuitState::Closed,
            Mode::Normal => self.inner.machine.kind(|| self.inner.now()).into(),
        }
    }

    /// Lets one call through, or rejects it with [`Error::CircuitOpen`].
    ///
    /// On a closed circuit this is one atomic load: no clock read, no lock, no allocation. On an
    /// open one it reads the clock; once the cooldown is over the circuit turns half-open and
    /// this call becomes a probe, as do later calls while probe slots remain.
    #[inline]
    pub fn try_acquire(&self) -> Result<Permit<'_>, Error> {
        let inner = &*self.inner;
        match inner.machine.acquire(|| inner.now()) {
            Ok((ticket, transition)) => {
                inner.report(transition);
                Ok(Permit::new(inner, ticket))
            }
            Err(rejected) => Err(inner.rejected(rejected.retry_after_us)),
        }
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
    /// others count as neither failure nor success.
    pub async fn call_when<F, T, E, W>(&self, when: W, fut: F) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>>,
        E: From<Error>,
        W: FnOnce(&E) -> bool,
    {
        match self.guard(async { Ok(fut.await) }, when).await {
            Ok(result) => result,
            Err(rejected) => Err(E::from(rejected)),
        }
    }

    /// The breaker as a layer of a fused pipeline (what `#[circuit_breaker]` generates).
    ///
    /// On first poll it asks for a permit; a rejection is returned as `Err(Error::CircuitOpen)`
    /// without polling `fut`. Otherwise `fut`'s outcome is recorded and returned unchanged:
    /// `Ok(Ok(_))` is a success; `Ok(Err(e))` a failure if `when(&e)`, else neither; an inner
    /// layer's [`Error::Timeout`] a failure; any other inner rejection neither. Cancelling the
    /// future or a panic in `fut` records neither and frees a probe slot.
    ///
    /// The returned future borrows the breaker and needs no `Box`.
    pub fn guard<F, T, E, W>(&self, fut: F, when: W) -> Guarded<'_, F, W>
    where
        F: Future<Output = Outcome<T, E>>,
        W: FnOnce(&E) -> bool,
    {
        Guarded::new(self, fut, when)
    }
}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("name", &self.inner.name)
            .field("state", &self.state())
            .field("settings", self.settings())
            .finish()
    }
}

impl Inner {
    /// Nanoseconds on tokio's clock since the breaker was built.
    fn now(&self) -> u64 {
        Instant::now().saturating_duration_since(self.epoch).as_nanos() as u64
    }

    #[cold]
    fn rejected(&self, retry_after_us: u64) -> Error {
        let retry_after = Duration::from_micros(retry_after_us);
        self.metrics.rejected();
        events::breaker_rejected(&self.name, retry_after);
        Error::CircuitOpen(CircuitOpen::new(self.name.clone(), retry_after))
    }

    /// Emits the event of a transition this thread made (each is reported exactly once).
    #[inline]
    fn report(&self, transition: Option<Transition>) {
        if let Some(transition) = transition {
            self.report_transition(transition);
        }
    }

    #[cold]
    fn report_transition(&self, transition: Transition) {
        use events::State::{Closed, HalfOpen, Open};
        let (from, to) = match transition {
            Transition::Opened { .. } => (Closed, Open),
            Transition::HalfOpened => (Open, HalfOpen),
            Transition::Closed => (HalfOpen, Closed),
            Transition::Reopened => (HalfOpen, Open),
        };
        self.metrics.transition(match to {
            Closed => 0,
            Open => 1,
            HalfOpen => 2,
        });
        events::breaker_transition(
            &self.name,
            from,
            to,
            &Why { transition, settings: &self.tuned.get().settings },
        );
    }
}

/// Why a breaker changed state, as its event says (formatted only if a subscriber wants it).
struct Why<'a> {
    transition: Transition,
    settings: &'a BreakerSettings,
}

impl fmt::Display for Why<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cooldown = self.settings.cooldown;
        match self.transition {
            Transition::Opened { failures, calls } if self.settings.failure_rate.is_some() => {
                write!(f, "{failures} failures in {calls} calls, open for {cooldown:?}")
            }
            Transition::Opened { failures, .. } => {
                write!(f, "{failures} failures in the window, open for {cooldown:?}")
            }
            Transition::HalfOpened => {
                write!(f, "cooldown over, letting {} probe(s) through", self.settings.probes)
            }
            Transition::Closed => f.write_str("every probe succeeded"),
            Transition::Reopened => write!(f, "a probe failed, open for {cooldown:?}"),
        }
    }
}
