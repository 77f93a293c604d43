//! A place in a bulkhead, held while the call runs and given back when dropped.

use super::Inner;
use crate::Outcome;

/// A place in a [`Bulkhead`](super::Bulkhead): the call holding it counts as running until it
/// is dropped (or [settled](Self::settle)). Dropping it without settling, as a cancelled call
/// does, gives the place back and teaches an adaptive limit nothing.
#[must_use = "the place is given back as soon as the permit is dropped"]
#[derive(Debug)]
pub struct Permit<'a> {
    pub(super) inner: &'a Inner,
    /// For an adaptive limit, when the call got its place (ns after the bulkhead's epoch);
    /// 0 for a fixed one. Two words in all, so a permit moves in registers.
    pub(super) started: u64,
}

impl Permit<'_> {
    /// The call ended with `outcome`: counts it, teaches an adaptive limit its latency, and
    /// gives the place back.
    #[inline(always)]
    pub fn settle<T, E>(self, outcome: &Outcome<T, E>) {
        self.inner.metrics.finished(matches!(outcome, Ok(Ok(_))));
        self.done();
    }

    /// The call ended (without an outcome to count, as a sync caller's): teaches an adaptive
    /// limit its latency and gives the place back.
    #[inline(always)]
    pub fn done(self) {
        if self.started != 0 {
            self.inner.ended(self.started);
        }
    }
}

impl Drop for Permit<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        self.inner.release();
    }
}
