//! A latency histogram per key (`per = ...`, adaptive timeouts).

use super::Timeout;
use crate::partition::Partition;
use crate::partition::{Hooks, Tuned};
use crate::registry::{Inspect, PolicyState};

impl Partition for Timeout {
    const KIND: &'static str = "timeout";

    fn partition_state(&self) -> PolicyState {
        self.inner.snapshot().state
    }
}

impl Tuned for Timeout {
    fn hooks(&self) -> Option<Hooks<'_>> {
        Some(Hooks(&*self.inner))
    }
}
