//! A retry budget per key (`per = ...`).

use super::Retry;
use crate::partition::Partition;
use crate::partition::{Hooks, Tuned};
use crate::registry::{Inspect, PolicyState};

impl Partition for Retry {
    const KIND: &'static str = "retry";

    fn partition_state(&self) -> PolicyState {
        self.inner.snapshot().state
    }
}

impl Tuned for Retry {
    fn hooks(&self) -> Option<Hooks<'_>> {
        Some(Hooks(&*self.inner))
    }
}
