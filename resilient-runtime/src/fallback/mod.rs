//! Fallbacks: when the layers inside fail, the caller gets what a fallback function makes of
//! the error instead.
//!
//! - A success passes untouched: the fallback reads nothing (not even its settings) and
//!   records nothing.
//! - An error for which `on` is true (every error by default) goes to the fallback function,
//!   whose `Result` the caller gets; the other errors reach the caller as they are.
//! - A rejection of a layer inside (open circuit, timeout, ...) reaches the fallback as the
//!   function's own `E`, through `E: From<resilient::Error>`; if `on` says no, it stays a
//!   rejection for the layers outside.
//! - `enabled = false` (configuration) turns it off: errors reach the caller as they are.
//! - Stateless: no `per`, nothing kept between calls but two counters.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use resilient_runtime::fallback::Fallback;
//!
//! let cached = Fallback::builder().name("users::get").build();
//! let fresh: Result<&str, String> = Err("connection refused".to_owned());
//! let user = cached.run(async { fresh }, |_e: String| async { Ok("cached user") }).await;
//! assert_eq!(user, Ok("cached user"));
//! // A sync fallback, from sync code:
//! let user = cached.run_sync(Err::<&str, String>("down".into()), |_e| Ok("cached user"));
//! assert_eq!(user, Ok("cached user"));
//! # }
//! ```

mod answer;
mod tuned;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde::Serialize;

pub use answer::{Answer, Awaited, FallbackOutput, Returned, SyncFallbackOutput};

use crate::Outcome;
use crate::error::{Error, PolicyName};
use crate::observe::{FallbackMetrics, events};
use crate::registry::{self, Inspect, PolicySnapshot, PolicyState};

/// A fallback policy: its name, its `enabled` setting and its counters. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Fallback {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    name: PolicyName,
    inline: crate::config::Tuning,
    tuned: crate::config::Live<tuned::Tuned>,
    /// Calls the fallback answered.
    used: AtomicU64,
    /// Errors it let through (`on` said no).
    passed: AtomicU64,
    metrics: FallbackMetrics,
}

/// Builds a [`Fallback`]; see [`Fallback::builder`].
#[derive(Clone, Debug)]
#[must_use]
pub struct FallbackBuilder {
    name: PolicyName,
}

impl FallbackBuilder {
    /// The name the registry, events, metrics and configuration use (default `"fallback"`).
    pub fn name(mut self, name: impl Into<PolicyName>) -> Self {
        self.name = name.into();
        self
    }

    /// Builds the policy and lists it in the [registry].
    pub fn build(self) -> Fallback {
        let inline = tuned::tuning();
        let inner = Arc::new(Inner {
            metrics: FallbackMetrics::new(&self.name),
            name: self.name,
            tuned: crate::config::Live::new(tuned::Tuned::new(inline.clone())),
            inline,
            used: AtomicU64::new(0),
            passed: AtomicU64::new(0),
        });
        crate::config::attach(&inner);
        let weak: std::sync::Weak<dyn Inspect> = Arc::downgrade(&inner) as _;
        registry::register(weak);
        Fallback { inner }
    }
}

/// What a fallback made of an outcome; see [`Fallback::take`].
#[derive(Debug)]
pub enum Taken<T, E> {
    /// Passed on as it was: a success, an error `on` did not pick, or any error while the
    /// fallback is turned off.
    Pass(Outcome<T, E>),
    /// The error (a rejection converted to `E`) the fallback function is to answer.
    Answer(E),
}

impl Fallback {
    /// A builder named `"fallback"`.
    pub fn builder() -> FallbackBuilder {
        FallbackBuilder { name: PolicyName::from("fallback") }
    }

    /// The policy's name.
    pub fn name(&self) -> &str {
        self.inner.name.as_str()
    }

    /// Whether the fallback answers errors now (configuration's `enabled`).
    pub fn is_enabled(&self) -> bool {
        self.inner.tuned.get().enabled
    }

    /// Awaits `fut`; on `Err(e)`, answers with `f(e)`. `f` may be a sync fn returning
    /// `Result<T, E>` or an `async fn`.
    pub async fn run<Fut, F, R, M, T, E>(&self, fut: Fut, f: F) -> Result<T, E>
    where
        Fut: Future<Output = Result<T, E>>,
        F: FnOnce(E) -> R,
        R: FallbackOutput<T, E, M>,
    {
        match self.take::<T, E, _>(Ok(fut.await), crate::pipeline::every_error, None) {
            Taken::Pass(out) => out.unwrap_or_else(|_| unreachable!("no rejection was passed in")),
            Taken::Answer(e) => f(e).into_answer().await,
        }
    }

    /// As [`run`](Self::run), from sync code: on `Err(e)`, answers with `f(e)`.
    pub fn run_sync<T, E, F, R>(&self, result: Result<T, E>, f: F) -> Result<T, E>
    where
        F: FnOnce(E) -> R,
        R: SyncFallbackOutput<T, E>,
    {
        match self.take::<T, E, _>(Ok(result), crate::pipeline::every_error, None) {
            Taken::Pass(out) => out.unwrap_or_else(|_| unreachable!("no rejection was passed in")),
            Taken::Answer(e) => f(e).into_result(),
        }
    }

    /// The step a pipeline runs on the outcome of the layers inside: a success is passed on at
    /// once (nothing read, nothing recorded); an error is handed to the fallback function when
    /// the policy is on and `on` picks it. A rejection is converted with `convert` for `on` and
    /// for the fallback; `convert` is `None` when no layer inside can reject.
    #[inline(always)]
    pub fn take<T, E, W>(
        &self,
        outcome: Outcome<T, E>,
        on: W,
        convert: Option<fn(Error) -> E>,
    ) -> Taken<T, E>
    where
        W: FnOnce(&E) -> bool,
    {
        match outcome {
            Ok(Ok(v)) => Taken::Pass(Ok(Ok(v))),
            failed => self.failed(failed, on, convert),
        }
    }

    #[cold]
    #[inline(never)]
    fn failed<T, E, W>(
        &self,
        outcome: Outcome<T, E>,
        on: W,
        convert: Option<fn(Error) -> E>,
    ) -> Taken<T, E>
    where
        W: FnOnce(&E) -> bool,
    {
        let p = &*self.inner;
        if !p.tuned.get().enabled {
            return Taken::Pass(outcome);
        }
        let (error, rejection) = match outcome {
            Ok(Ok(_)) => unreachable!("a success is passed on before"),
            Ok(Err(e)) => (e, None),
            Err(rejection) => match convert {
                Some(convert) => (convert(rejection.clone()), Some(rejection)),
                None => return Taken::Pass(Err(rejection)),
            },
        };
        if !on(&error) {
            p.passed.fetch_add(1, Relaxed);
            p.metrics.failure();
            return Taken::Pass(match rejection {
                Some(rejection) => Err(rejection),
                None => Ok(Err(error)),
            });
        }
        p.used.fetch_add(1, Relaxed);
        p.metrics.fallback();
        events::fallback_used(&p.name, &Failed(rejection.as_ref()));
        Taken::Answer(error)
    }
}

/// What failed, for the event: a layer's rejection, or the function's own error, which is not
/// shown (it need not be `Debug`, and may hold what logs must not).
struct Failed<'a>(Option<&'a Error>);

impl std::fmt::Display for Failed<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(rejection) => rejection.fmt(f),
            None => f.write_str("the function returned an error"),
        }
    }
}

/// A fallback's state as the registry reports it.
#[derive(Clone, Debug, Serialize)]
pub struct FallbackSnapshot {
    /// Whether it answers errors now.
    pub enabled: bool,
    /// Calls the fallback function answered.
    pub used: u64,
    /// Errors let through because `on` did not pick them.
    pub passed: u64,
}

impl Inspect for Inner {
    fn snapshot(&self) -> PolicySnapshot {
        let tuned = self.tuned.get();
        PolicySnapshot {
            name: self.name.to_string(),
            settings: tuned.tuning.view(),
            state: PolicyState::Fallback(FallbackSnapshot {
                enabled: tuned.enabled,
                used: self.used.load(Relaxed),
                passed: self.passed.load(Relaxed),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::CircuitOpen;
    use std::time::Duration;

    #[derive(Debug, PartialEq)]
    enum AppError {
        Down,
        NotFound,
        Rejected(Error),
    }
    impl From<Error> for AppError {
        fn from(e: Error) -> Self {
            AppError::Rejected(e)
        }
    }

    fn open() -> Error {
        Error::CircuitOpen(CircuitOpen::new("b", Duration::ZERO))
    }

    #[test]
    fn successes_pass_errors_are_answered() {
        let fb = Fallback::builder().name("fallback::tests::answer").build();
        let convert: Option<fn(Error) -> AppError> = Some(AppError::from);
        assert!(matches!(
            fb.take::<u8, AppError, _>(Ok(Ok(1)), |_| true, convert),
            Taken::Pass(Ok(Ok(1)))
        ));
        assert!(matches!(
            fb.take::<u8, AppError, _>(Ok(Err(AppError::Down)), |_| true, convert),
            Taken::Answer(AppError::Down)
        ));
        assert!(matches!(
            fb.take::<u8, AppError, _>(Err(open()), |_| true, convert),
            Taken::Answer(AppError::Rejected(e)) if e.is_circuit_open()
        ));
        let snap = registry::snapshot();
        let state = &snap.get("fallback::tests::answer").unwrap().state;
        assert!(matches!(state, PolicyState::Fallback(s) if s.used == 2 && s.passed == 0));
    }

    #[test]
    fn on_limits_and_rejections_stay_rejections() {
        let fb = Fallback::builder().name("fallback::tests::on").build();
        let convert: Option<fn(Error) -> AppError> = Some(AppError::from);
        let only_down = |e: &AppError| *e == AppError::Down;
        assert!(matches!(
            fb.take::<u8, AppError, _>(Ok(Err(AppError::NotFound)), only_down, convert),
            Taken::Pass(Ok(Err(AppError::NotFound)))
        ));
        assert!(matches!(
            fb.take::<u8, AppError, _>(Err(open()), only_down, convert),
            Taken::Pass(Err(e)) if e.is_circuit_open()
        ));
    }

    #[test]
    fn sync_and_async_fallbacks() {
        let fb = Fallback::builder().name("fallback::tests::shapes").build();
        assert_eq!(fb.run_sync(Err::<u8, AppError>(AppError::Down), |_| Ok(7)), Ok(7));
        assert_eq!(fb.run_sync(Ok::<u8, AppError>(1), |_| Ok(7)), Ok(1));
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let out =
            rt.block_on(fb.run(async { Err::<u8, AppError>(AppError::Down) }, |e| async move {
                Err::<u8, AppError>(match e {
                    AppError::Down => AppError::NotFound,
                    other => other,
                })
            }));
        assert_eq!(out, Err(AppError::NotFound));
    }
}
