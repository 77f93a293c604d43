//! A breaker per key (`per = ...`).

use super::{CircuitBreaker, CircuitState};
use crate::partition::Partition;
use crate::partition::{Hooks, Tuned};
use crate::registry::{Inspect, PolicyState};

impl Partition for CircuitBreaker {
    const KIND: &'static str = "circuit_breaker";

    /// An open circuit within its cooldown: dropping it would let calls through to the
    /// dependency it sheds.
    fn pinned(&self) -> bool {
        self.state() == CircuitState::Open
    }

    fn partition_state(&self) -> PolicyState {
        self.inner.snapshot().state
    }
}

impl Tuned for CircuitBreaker {
    fn hooks(&self) -> Option<Hooks<'_>> {
        Some(Hooks(&*self.inner))
    }
}
