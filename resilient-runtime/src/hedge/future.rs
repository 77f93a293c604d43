//! The future behind [`Hedge::run`](super::Hedge::run) and [`Hedge::guard`](super::Hedge::guard).
//!
//! The fast path (the first attempt answers before `after`) is one settings load, the budget's
//! deposit (one atomic load once it is full) and the first attempt's polls. A first attempt that
//! answers on its first poll reads no clock and arms no timer; one that returns `Pending` reads
//! the clock once and arms one timer. Hedges are boxed, so only calls that send one allocate.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Sleep, sleep_until};

use super::Inner;
use super::tuned::Tuned;
use crate::Outcome;
use crate::observe::events;

/// Which outputs of an attempt are successes: the first success wins the call.
pub trait Success<O> {
    /// True when `out` is a success.
    fn is_success(out: &O) -> bool;
}

/// The attempts of [`Hedge::run`](super::Hedge::run): `Ok` wins.
#[derive(Debug)]
pub enum Plain {}

impl<T, E> Success<Result<T, E>> for Plain {
    #[inline]
    fn is_success(out: &Result<T, E>) -> bool {
        out.is_ok()
    }
}

/// The attempts of [`Hedge::guard`](super::Hedge::guard), layers of a fused pipeline: only
/// `Ok(Ok(_))` wins; a rejection from a layer inside (an inner timeout, an open circuit) is a
/// failure like the function's own errors.
#[derive(Debug)]
pub enum Layered {}

impl<T, E> Success<Outcome<T, E>> for Layered {
    #[inline]
    fn is_success(out: &Outcome<T, E>) -> bool {
        matches!(out, Ok(Ok(_)))
    }
}

pin_project_lite::pin_project! {
    /// One hedged call; see [`Hedge::guard`](super::Hedge::guard).
    ///
    /// The attempts run in the caller's task, polled together: nothing is spawned, so they see
    /// the caller's task-local deadline, and dropping this future drops every attempt.
    #[must_use = "futures do nothing unless polled"]
    pub struct HedgeFuture<'a, M, F: Future, C> {
        policy: &'a Inner,
        make: M,
        // Read at the first poll.
        tuned: Option<&'a Tuned>,
        #[pin]
        first: Option<F>,
        // Created when the first attempt first returns `Pending`, with `started`.
        #[pin]
        timer: Option<Sleep>,
        started: Option<Instant>,
        hedges: Vec<Pin<Box<F>>>,
        launched: u32,
        max: u32,
        after: Option<Duration>,
        // The error of the attempt that failed last, while others run.
        failed: Option<F::Output>,
        classify: PhantomData<fn() -> C>,
    }
}

impl<'a, M, F: Future, C> HedgeFuture<'a, M, F, C> {
    #[inline]
    pub(crate) fn new(policy: &'a Inner, make: M) -> Self {
        Self {
            policy,
            make,
            tuned: None,
            first: None,
            timer: None,
            started: None,
            hedges: Vec::new(),
            launched: 0,
            max: 1,
            after: None,
            failed: None,
            classify: PhantomData,
        }
    }
}

impl<M, F, C> Future for HedgeFuture<'_, M, F, C>
where
    M: FnMut(bool) -> F,
    F: Future,
    C: Success<F::Output>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let mut this = self.project();
        let policy = *this.policy;
        if this.tuned.is_none() {
            // The one read of the settings: this call keeps them to its end.
            let tuned = policy.tuned.get();
            *this.tuned = Some(tuned);
            if tuned.budget.is_some() {
                policy.budget.deposit_amount(tuned.deposit);
            }
            *this.max = tuned.attempts();
            *this.after = if *this.max > 1 { tuned.delay() } else { None };
            // With no hedge to come, the first attempt is also the last and takes the
            // arguments themselves.
            let last = this.after.is_none();
            this.first.set(Some((this.make)(last)));
            *this.launched = 1;
        }
        let tuned = this.tuned.expect("read above");
        loop {
            if let Some(first) = this.first.as_mut().as_pin_mut()
                && let Poll::Ready(out) = first.poll(cx)
            {
                this.first.set(None);
                if C::is_success(&out) {
                    if let Some(a) = tuned.active() {
                        match *this.started {
                            // Answered on its first poll: too fast to time, and not worth a
                            // clock read.
                            None => a.record_untimed(Duration::ZERO),
                            Some(at) => {
                                if let Some(moved) = a.record_at(at.elapsed(), a.now()) {
                                    policy.delay_moved(moved);
                                }
                            }
                        }
                    }
                    policy.won(1, this.hedges);
                    return Poll::Ready(out);
                }
                if this.hedges.is_empty() {
                    // Failed before any hedge started: hedging is for slow calls, not failed
                    // ones (that is a retry's job).
                    policy.metrics.failure();
                    return Poll::Ready(out);
                }
                *this.failed = Some(out);
            }
            let mut i = 0;
            while i < this.hedges.len() {
                let Poll::Ready(out) = this.hedges[i].as_mut().poll(cx) else {
                    i += 1;
                    continue;
                };
                drop(this.hedges.swap_remove(i));
                if C::is_success(&out) {
                    // The first attempt, if still running, took at least this long: a censored
                    // sample, as a timed-out call is for the adaptive timeout.
                    if let (Some(a), Some(at), true) =
                        (tuned.active(), *this.started, this.first.is_some())
                        && let Some(moved) = a.record_at(at.elapsed(), a.now())
                    {
                        policy.delay_moved(moved);
                    }
                    this.first.set(None);
                    policy.won(2, this.hedges);
                    return Poll::Ready(out);
                }
                *this.failed = Some(out);
            }
            if this.first.is_none() && this.hedges.is_empty() {
                policy.metrics.failure();
                let out = this.failed.take().expect("an attempt failed");
                return Poll::Ready(out);
            }
            // A percentile `after` learns the first attempt's latency, timed from here.
            if this.started.is_none() && this.first.is_some() && tuned.active().is_some() {
                *this.started = Some(Instant::now());
            }
            // Still running: a hedge is due after `after`, and again after each `after`.
            let Some(after) = *this.after else { return Poll::Pending };
            if *this.launched >= *this.max {
                return Poll::Pending;
            }
            if this.timer.is_none() {
                let at = *this.started.get_or_insert_with(Instant::now);
                this.timer.set(Some(sleep_until(at + after)));
            }
            let mut timer = this.timer.as_mut().as_pin_mut().expect("armed above");
            if timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            if tuned.budget.is_some() && !policy.budget.try_withdraw() {
                // No hedges for this call; it waits for the attempts it has.
                events::hedge_budget_exhausted(&policy.name, *this.launched + 1);
                *this.after = None;
                this.timer.set(None);
                continue;
            }
            *this.launched += 1;
            let attempt = *this.launched;
            policy.sent(attempt, after);
            let last = attempt >= *this.max;
            this.hedges.push(Box::pin((this.make)(last)));
            if !last {
                let next = timer.deadline() + after;
                timer.reset(next);
            }
            // Loop: the new hedge is polled now, and a timer already due fires again.
        }
    }
}

impl Inner {
    /// A call's winning attempt (`attempt` 1 for the first, 2 for any hedge): the losers are
    /// dropped at once, here, not when the caller drops the future. The outcome does not pass
    /// through here: were this not inlined, it would be copied through memory.
    #[inline]
    fn won<F>(&self, attempt: u32, losers: &mut Vec<Pin<Box<F>>>) {
        if attempt > 1 {
            self.won.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.metrics.won();
            events::hedge_won(&self.name);
        }
        losers.clear();
        self.metrics.success();
    }

    /// A percentile `after` moved (from, to): a `debug` event.
    #[cold]
    fn delay_moved(&self, (from, to): (Duration, Duration)) {
        // From "no hedge yet" when the warm-up ends.
        let from = (from != super::tuned::NEVER).then_some(from);
        events::hedge_delay_moved(&self.name, from, to);
    }

    #[cold]
    fn sent(&self, attempt: u32, after: Duration) {
        self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.metrics.hedge();
        events::hedge_sent(&self.name, attempt, after);
    }
}
