//! The future behind [`Timeout::run`](super::Timeout::run) and
//! [`Timeout::guard`](super::Timeout::guard).
//!
//! The fast path is a clock read, one poll of the body and, for an adaptive timeout, a second
//! clock read and one histogram record. The timer is created only when the body returns
//! `Pending`, so calls that complete on their first poll never touch tokio's timer wheel.

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

/// When a call started and when it must end.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Started<'a> {
    pub(crate) at: Instant,
    pub(crate) deadline: Instant,
    /// The policy's own timeout set the deadline (not the caller's, which was earlier).
    pub(crate) own: bool,
    /// The adaptive state to teach, as the settings read at the start said (none when fixed or
    /// disabled).
    pub(crate) adaptive: Option<&'a super::adaptive::Adaptive>,
}

pin_project_lite::pin_project! {
    /// A call running under a [`Timeout`](super::Timeout); see
    /// [`Timeout::guard`](super::Timeout::guard).
    ///
    /// The clock starts at the first poll, which is also when the caller's deadline is read, so
    /// the future can be built ahead of time. It borrows the policy rather than cloning its `Arc`:
    /// a reference count touched by every call on every core would be the hot path's costliest
    /// line.
    #[must_use = "futures do nothing unless polled"]
    pub struct TimeoutFuture<'a, F, C = Layered> {
        policy: &'a Inner,
        started: Option<Started<'a>>,
        // `None` once finished or expired: the body is dropped at the deadline, not when this
        // future is, so a caller still holding it (in a `select!`, say) releases the body's
        // resources on time.
        #[pin]
        body: Option<F>,
        // Created on the first `Pending`.
        #[pin]
        timer: Option<Sleep>,
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
        let started = *this.started.get_or_insert_with(|| policy.start());
        let body =
            this.body.as_mut().as_pin_mut().expect("`TimeoutFuture` polled after completion");
        // The body is polled first, so one that is ready at the deadline still succeeds.
        if let Poll::Ready(out) = deadline::enter(started.deadline, || body.poll(cx)) {
            this.body.set(None);
            let success = C::is_success(&out);
            if success {
                policy.succeeded(&started);
            }
            policy.metrics.finished(success);
            if this.timer.is_some() {
                // It waited: its duration is worth the clock read a first-poll success skips.
                policy.metrics.duration_since(started.at);
            }
            return Poll::Ready(out);
        }
        if this.timer.is_none() {
            this.timer.set(Some(sleep_until(started.deadline)));
        }
        if let Some(timer) = this.timer.as_pin_mut() {
            ready!(timer.poll(cx));
        }
        this.body.set(None);
        Poll::Ready(C::rejected(policy.expired(started)))
    }
}
