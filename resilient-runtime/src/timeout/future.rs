//! The future behind [`Timeout::run`](super::Timeout::run) and
//! [`Timeout::guard`](super::Timeout::guard).
//!
//! The fast path is one poll of the body with no read of tokio's clock: the deadline is fixed
//! when first needed (something inside reads it, or the body waits), see
//! [`Slot::Lazy`](crate::deadline::Slot). An adaptive timeout times the call on its cheap clock
//! ([`crate::clock`], a TSC read at each end) and records the latency. The timer is created only
//! when the body returns `Pending`, so calls that complete on their first poll never touch
//! tokio's timer wheel.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::time::{Instant, Sleep, sleep_until};

use super::Inner;
use crate::Outcome;
use crate::deadline;
use crate::error::Error;

/// How a [`TimeoutFuture`] reads its body's output `O`: which outputs are successes (the only
/// latencies an adaptive timeout learns from) and how a timeout is expressed in `O`.
pub trait Classify<O> {
    /// True when `out` is a success.
    fn is_success(out: &O) -> bool;
    /// The output of a call that timed out.
    fn rejected(error: Error) -> O;
}

/// The classifier of [`Timeout::run`](super::Timeout::run): `Ok` is a success; a timeout
/// becomes `Err(E::from(error))`.
#[derive(Debug)]
pub enum Plain {}

impl<T, E: From<Error>> Classify<Result<T, E>> for Plain {
    #[inline]
    fn is_success(out: &Result<T, E>) -> bool {
        out.is_ok()
    }

    fn rejected(error: Error) -> Result<T, E> {
        Err(error.into())
    }
}

/// The classifier of [`Timeout::guard`](super::Timeout::guard), for the attribute pipeline's
/// [`Outcome`]: only `Ok(Ok(_))` is a success (a fast failure or a rejection from a layer below
/// would drag the percentile down); a timeout is `Err(Error::Timeout(..))`.
#[derive(Debug)]
pub enum Layered {}

impl<T, E> Classify<Outcome<T, E>> for Layered {
    #[inline]
    fn is_success(out: &Outcome<T, E>) -> bool {
        matches!(out, Ok(Ok(_)))
    }

    fn rejected(error: Error) -> Outcome<T, E> {
        Err(error)
    }
}

/// How a call starts; see [`Inner::start`](super::Inner::start).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Start<'a> {
    /// The policy's limit, from when the deadline is first needed.
    pub(crate) limit: std::time::Duration,
    /// The caller's deadline, which the call's never passes.
    pub(crate) outer: Option<Instant>,
    /// The adaptive state to teach, as the settings read at the start said (none when fixed or
    /// disabled).
    pub(crate) adaptive: Option<&'a super::adaptive::Adaptive>,
    /// When the call started on the adaptive state's clock (0 without one).
    pub(crate) t0: u64,
}

/// When a call that waits started and when it must end.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Started<'a> {
    /// When the deadline was fixed.
    pub(crate) at: Instant,
    pub(crate) deadline: Instant,
    /// The policy's own timeout set the deadline (not the caller's, which was earlier).
    pub(crate) own: bool,
    pub(crate) adaptive: Option<&'a super::adaptive::Adaptive>,
    pub(crate) t0: u64,
}

pin_project_lite::pin_project! {
    /// A call running under a [`Timeout`](super::Timeout); see
    /// [`Timeout::guard`](super::Timeout::guard).
    ///
    /// The caller's deadline is read at the first poll, so the future can be built ahead of
    /// time. The limit counts from when the deadline is first needed: something inside reads
    /// it, or the body first waits. The synchronous start of the body's first poll (work no
    /// timeout can interrupt) is then not counted; with tokio's paused clock nothing changes, as
    /// a poll takes no virtual time. An adaptive timeout's latencies count from the first poll.
    ///
    /// It borrows the policy rather than cloning its `Arc`: a reference count touched by every
    /// call on every core would be the hot path's costliest line.
    #[must_use = "futures do nothing unless polled"]
    pub struct TimeoutFuture<'a, F, C = Layered> {
        policy: &'a Inner,
        started: Option<Started<'a>>,
        // `None` once finished or expired: the body is dropped at the deadline, not when this
        // future is, so a caller still holding it (in a `select!`, say) releases the body's
        // resources on time.
        #[pin]
        body: Option<F>,
        // Created on the first `Pending`, boxed: a tokio `Sleep` is 112 bytes, which every call's
        // future would carry (and move) inline, calls that never wait included.
        timer: Option<Pin<Box<Sleep>>>,
        classify: PhantomData<fn() -> C>,
    }
}

impl<'a, F, C> TimeoutFuture<'a, F, C> {
    #[inline]
    pub(crate) fn new(policy: &'a Inner, body: F) -> Self {
        Self { policy, started: None, body: Some(body), timer: None, classify: PhantomData }
    }
}

impl<F, C> Future for TimeoutFuture<'_, F, C>
where
    F: Future,
    C: Classify<F::Output>,
{
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let mut this = self.project();
        let policy = *this.policy;
        let mut body =
            this.body.as_mut().as_pin_mut().expect("`TimeoutFuture` polled after completion");
        // The body is polled first, so one that is ready at the deadline still succeeds.
        let (polled, first) = match *this.started {
            Some(started) => (deadline::enter(started.deadline, || body.as_mut().poll(cx)), None),
            None => {
                let start = policy.start();
                let (polled, slot) =
                    deadline::enter_lazy(start.limit, start.outer, || body.as_mut().poll(cx));
                if polled.is_pending() {
                    *this.started = Some(policy.anchored(slot, &start));
                }
                (polled, Some(start))
            }
        };
        if let Poll::Ready(out) = polled {
            this.body.set(None);
            let success = C::is_success(&out);
            let waited = *this.started;
            if success {
                let (adaptive, t0) = match (first, waited) {
                    (Some(s), _) => (s.adaptive, s.t0),
                    (None, Some(s)) => (s.adaptive, s.t0),
                    (None, None) => (None, 0),
                };
                policy.succeeded(adaptive, t0);
            }
            policy.metrics.finished(success);
            if let (true, Some(started)) = (this.timer.is_some(), waited) {
                // It waited: its duration is worth the clock read a first-poll success skips.
                policy.metrics.duration_since(started.at);
            }
            return Poll::Ready(out);
        }
        let started = this.started.expect("set when the body first returned `Pending`");
        let timer = this.timer.get_or_insert_with(|| Box::pin(sleep_until(started.deadline)));
        ready!(timer.as_mut().poll(cx));
        this.body.set(None);
        Poll::Ready(C::rejected(policy.expired(started)))
    }
}
