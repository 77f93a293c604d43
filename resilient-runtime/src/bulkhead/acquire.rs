//! Waiting for a place: the future [`Bulkhead::acquire`](super::Bulkhead::acquire) returns.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

use super::core::{Enqueued, Waiter, Wake};
use super::sync::Arc;
use super::{Inner, Permit};
use crate::Error;

/// The future of a place in a [`Bulkhead`](super::Bulkhead): ready at once when a place is free
/// (no allocation, no clock read for a fixed limit); otherwise it waits in the queue, first come
/// first served, for at most `wait` (and never past the task's
/// [deadline](crate::deadline)), then fails with [`Error::BulkheadFull`].
///
/// Dropping it while it waits leaves the queue; if a place was handed to it meanwhile, the place
/// goes to the next waiter.
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct Acquire<'a> {
    inner: &'a Inner,
    waiting: Option<Waiting>,
}

#[derive(Debug)]
struct Waiting {
    waiter: Arc<Waiter>,
    since: Instant,
    /// Boxed: only a waiting call pays for the timer.
    sleep: Pin<Box<Sleep>>,
}

impl<'a> Acquire<'a> {
    pub(super) fn new(inner: &'a Inner) -> Self {
        Self { inner, waiting: None }
    }

    /// No place free: join the queue, or be rejected.
    #[cold]
    fn start(&mut self) -> Option<Result<Permit<'a>, Error>> {
        let inner = self.inner;
        let tuned = inner.tuned.get();
        let wait = tuned.wait;
        if tuned.queue == 0 || wait.is_zero() {
            return Some(Err(inner.rejected(Duration::ZERO)));
        }
        let waiter = Arc::new(Waiter::default());
        match inner.core.enqueue(&waiter, tuned.queue) {
            Enqueued::Admitted => return Some(Ok(inner.granted())),
            Enqueued::Full => return Some(Err(inner.rejected(Duration::ZERO))),
            Enqueued::Waiting => {}
        }
        inner.metrics.queued(inner.core.counts().1);
        let since = Instant::now();
        let sleep = Box::pin(tokio::time::sleep_until(since + wait));
        self.waiting = Some(Waiting { waiter, since, sleep });
        None
    }
}

impl<'a> Future for Acquire<'a> {
    type Output = Result<Permit<'a>, Error>;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let inner = this.inner;
        if this.waiting.is_none() {
            if let Some(permit) = inner.try_enter() {
                return Poll::Ready(Ok(permit));
            }
            if let Some(done) = this.start() {
                return Poll::Ready(done);
            }
        }
        let Some(waiting) = this.waiting.as_mut() else { unreachable!("set by `start`") };
        if waiting.waiter.granted() || !waiting.waiter.register(Wake::Task(cx.waker().clone())) {
            this.waiting = None;
            return Poll::Ready(Ok(inner.granted()));
        }
        if waiting.sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let waiting = this.waiting.take().expect("checked above");
        let got = inner.core.leave(&waiting.waiter);
        inner.metrics.queued(inner.core.counts().1);
        Poll::Ready(match got {
            true => Ok(inner.granted()),
            false => Err(inner.rejected(waiting.since.elapsed())),
        })
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        // Cancelled while waiting: leave the queue; a place granted meanwhile goes back.
        if let Some(waiting) = self.waiting.take() {
            if self.inner.core.leave(&waiting.waiter) {
                self.inner.release();
            }
            self.inner.metrics.queued(self.inner.core.counts().1);
        }
    }
}
