//! A rate limiter per key (`per = ...`): per user, per tenant, per client address.

use super::RateLimiter;
use crate::partition::Partition;
use crate::partition::{Hooks, Tuned};
use crate::registry::PolicyState;

impl Partition for RateLimiter {
    const KIND: &'static str = "rate_limit";

    /// A limiter still paying off a burst: dropping it would hand its key a fresh burst.
    fn pinned(&self) -> bool {
        self.inner.rate_limit_snapshot().available < self.inner.tuned.get().settings.burst
    }

    fn partition_state(&self) -> PolicyState {
        PolicyState::RateLimit(self.inner.rate_limit_snapshot())
    }
}

impl Tuned for RateLimiter {
    fn hooks(&self) -> Option<Hooks<'_>> {
        Some(Hooks(&*self.inner))
    }
}
