//! A latency histogram per key (`per = ...`, adaptive timeouts).

use super::Timeout;
use crate::partition::Partition;
use crate::registry::{Inspect, PolicyState};

impl Partition for Timeout {
    const KIND: &'static str = "timeout";

    fn partition_state(&self) -> PolicyState {
        self.inner.snapshot().state
    }
}
