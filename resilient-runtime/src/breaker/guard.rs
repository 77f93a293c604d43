//! The breaker as a layer of a pipeline: a hand-written future, so the inner future is stored
//! once (an `async fn` holding it across an `.await` keeps its argument twice, rust-lang/rust#62958,
//! which doubles the memory a fused stack moves around on every call).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use super::{CircuitBreaker, Permit};
use crate::Outcome;

pin_project_lite::pin_project! {
    /// The future of [`CircuitBreaker::guard`].
    #[must_use = "futures do nothing unless polled"]
    pub struct Guarded<'a, F, W> {
        breaker: &'a CircuitBreaker,
        // Taken on first poll; dropped unsettled (cancellation, panic) it frees its probe slot.
        permit: Option<Permit<'a>>,
        when: Option<W>,
        #[pin]
        fut: F,
    }
}

impl<'a, F, W> Guarded<'a, F, W> {
    pub(super) fn new(breaker: &'a CircuitBreaker, fut: F, when: W) -> Self {
        Self { breaker, permit: None, when: Some(when), fut }
    }
}

impl<F, T, E, W> Future for Guarded<'_, F, W>
where
    F: Future<Output = Outcome<T, E>>,
    W: FnOnce(&E) -> bool,
{
    type Output = Outcome<T, E>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if this.permit.is_none() {
            match this.breaker.try_acquire() {
                Ok(permit) => *this.permit = Some(permit),
                Err(rejected) => return Poll::Ready(Err(rejected)),
            }
        }
        let outcome = ready!(this.fut.poll(cx));
        if let (Some(permit), Some(when)) = (this.permit.take(), this.when.take()) {
            permit.settle(&outcome, when);
        }
        Poll::Ready(outcome)
    }
}
