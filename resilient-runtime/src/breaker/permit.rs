//! The right to run one call through a breaker, and how its outcome is recorded.

use std::mem::ManuallyDrop;

use super::Inner;
use super::machine::Ticket;

/// A call let through by a [`CircuitBreaker`](super::CircuitBreaker); see
/// [`try_acquire`](super::CircuitBreaker::try_acquire).
///
/// Settle it with [`success`](Self::success), [`failure`](Self::failure) or
/// [`release`](Self::release). Dropping it unsettled (the call was cancelled or panicked) is a
/// release: a half-open probe slot is freed for another probe and nothing is recorded, so a
/// breaker can never stay stuck half-open.
#[must_use = "a permit records nothing unless settled with success() or failure()"]
#[derive(Debug)]
pub struct Permit<'a> {
    breaker: &'a Inner,
    /// A [`Ticket`], packed: the permit is then two words, which a future holding it moves
    /// cheaply. Settling consumes the permit without running `Drop`.
    ticket: u64,
}

impl<'a> Permit<'a> {
    #[inline(always)]
    pub(super) fn new(breaker: &'a Inner, ticket: Ticket) -> Self {
        Self { breaker, ticket: ticket.pack() }
    }

    /// The breaker and ticket, with the permit's `Drop` (a release) defused.
    #[inline(always)]
    fn settle_once(self) -> (&'a Inner, Ticket) {
        let this = ManuallyDrop::new(self);
        (this.breaker, Ticket::unpack(this.ticket))
    }

    /// The call succeeded. While closed and counting failures only, this does nothing at all;
    /// a probe's success may close the circuit.
    #[inline(always)]
    pub fn success(self) {
        let (b, ticket) = self.settle_once();
        let transition = b.machine.success(ticket, || b.now());
        b.metrics.success();
        b.report(transition);
    }

    /// The call failed: counted in the window (which may open the circuit), or, for a probe,
    /// re-opens the circuit.
    pub fn failure(self) {
        let (b, ticket) = self.settle_once();
        let transition = b.machine.failure(ticket, || b.now());
        b.metrics.failure();
        b.report(transition);
    }

    /// The call ended in a way that counts as neither success nor failure (for example an error
    /// the breaker's `when` does not count): frees a probe slot, records nothing. The same as
    /// dropping the permit.
    #[inline]
    pub fn release(self) {
        // Drop does it.
    }

    /// Settles the permit by the outcome of a pipeline's inner layers: `Ok(Ok(_))` is a success;
    /// `Ok(Err(e))` a failure if `when(e)`, else neither; an inner [`Error::Timeout`] a failure
    /// (with `timeouts = "settled"`, not one at a learned adaptive limit below its `max`,
    /// [`Elapsed::is_learning`], which is neither); any other inner rejection neither.
    ///
    /// [`Elapsed::is_learning`]: crate::error::Elapsed::is_learning
    ///
    /// [`Error::Timeout`]: crate::Error::Timeout
    #[inline(always)]
    pub fn settle<T, E, W>(self, outcome: &crate::Outcome<T, E>, when: W)
    where
        W: FnOnce(&E) -> bool,
    {
        // The success in line, where the caller's code is (nothing to do while closed and
        // counting failures only); the rest out of line, so the success path holds no call.
        match outcome {
            Ok(Ok(_)) => self.success(),
            failed => self.settle_failed(failed, when),
        }
    }

    #[inline(never)]
    fn settle_failed<T, E, W>(self, outcome: &crate::Outcome<T, E>, when: W)
    where
        W: FnOnce(&E) -> bool,
    {
        match outcome {
            Ok(Ok(_)) => self.success(),
            Ok(Err(e)) if when(e) => self.failure(),
            Err(crate::Error::Timeout(t)) if self.counts(t) => self.failure(),
            Ok(Err(_)) | Err(_) => self.release(),
        }
    }

    /// Whether this breaker counts the timeout `t` as a failure: reads the settings only for
    /// a timeout at a limit still learning.
    #[cold]
    fn counts(&self, t: &crate::error::Elapsed) -> bool {
        !t.is_learning() || self.breaker.tuned.get().settings.timeouts.count(t)
    }

    /// True for a half-open probe, false for a call let through by a closed circuit.
    pub fn is_probe(&self) -> bool {
        matches!(Ticket::unpack(self.ticket), Ticket::Probe(_))
    }
}

impl Drop for Permit<'_> {
    #[inline]
    fn drop(&mut self) {
        self.breaker.machine.release(Ticket::unpack(self.ticket));
    }
}
