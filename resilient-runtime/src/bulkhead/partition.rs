//! A bulkhead per key (`per = ...`).

use super::Bulkhead;
use crate::partition::Partition;
use crate::partition::{Hooks, Tuned};
use crate::registry::{Inspect, PolicyState};

impl Partition for Bulkhead {
    const KIND: &'static str = "bulkhead";

    /// A bulkhead with calls running or waiting: dropping it would let a new one admit calls
    /// beside them.
    fn pinned(&self) -> bool {
        self.inner.core.counts() != (0, 0)
    }

    fn partition_state(&self) -> PolicyState {
        self.inner.snapshot().state
    }
}

impl Tuned for Bulkhead {
    fn hooks(&self) -> Option<Hooks<'_>> {
        Some(Hooks(&*self.inner))
    }
}
