//! A latency histogram and budget per key (`per = ...`).

use super::Hedge;
use crate::partition::Partition;
use crate::partition::{Hooks, Tuned};
use crate::registry::{Inspect, PolicyState};

impl Partition for Hedge {
    const KIND: &'static str = "hedge";

    fn partition_state(&self) -> PolicyState {
        self.inner.snapshot().state
    }
}

impl Tuned for Hedge {
    fn hooks(&self) -> Option<Hooks<'_>> {
        Some(Hooks(&*self.inner))
    }
}
