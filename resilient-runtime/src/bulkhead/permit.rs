//! A place in a bulkhead, held while the call runs and given back when dropped.

use tokio::time::Instant;

use super::Inner;
use super::adaptive::Adaptive;
use crate::Outcome;

/// A place in a [`Bulkhead`](super::Bulkhead): the call holding it counts as running until it
/// is dropped (or [settled](Self::settle)). Dropping it without settling, as a cancelled call
/// does, gives the place back and teaches an adaptive limit nothing.
#[must_use = "the place is given back as soon as the permit is dropped"]
#[derive(Debug)]
pub struct Permit<'a> {
    pub(super) inner: &'a Inner,
    /// An adaptive bulkhead's state and when the call got its place.
    pub(super) adaptive: Option<(&'a Adaptive, Instant)>,
}

impl Permit<'_> {
    /// The call ended with `outcome`: counts it, teaches an adaptive limit its latency, and
    /// gives the place back.
    #[inline]
    pub fn settle<T, E>(self, outcome: &Outcome<T, E>) {
        self.inner.metrics.finished(matches!(outcome, Ok(Ok(_))));
        self.done();
    }

    /// The call ended (without an outcome to count, as a sync caller's): teaches an adaptive
    /// limit its latency and gives the place back.
    #[inline]
    pub fn done(mut self) {
        if let Some((adaptive, started)) = self.adaptive.take() {
            self.inner.ended(adaptive, started);
        }
    }
}

impl Drop for Permit<'_> {
    #[inline]
    fn drop(&mut self) {
        self.inner.release();
    }
}
