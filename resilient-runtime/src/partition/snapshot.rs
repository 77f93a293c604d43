//! What the registry shows of a partitioned policy: the policy once, with its partitions.

use std::sync::atomic::Ordering::Relaxed;

use serde::Serialize;

use super::{Partition, Shared, read};
use crate::registry::{Inspect, PolicySnapshot, PolicyState};

/// The most partitions a snapshot lists (the most recently used); the counts cover them all.
pub const SHOWN: usize = 32;

/// A partitioned policy as the registry reports it.
#[derive(Clone, Debug, Serialize)]
pub struct PartitionsSnapshot {
    /// The kind of every partition: `circuit_breaker`, `timeout` or `retry`.
    pub of: &'static str,
    /// The bound on live partitions.
    pub max_partitions: usize,
    /// Partitions alive now.
    pub live: usize,
    /// Partitions created so far (a key dropped and seen again counts twice).
    pub created: u64,
    /// Partitions dropped to make room.
    pub evicted: u64,
    /// The most recently used partitions, at most [`SHOWN`], most recent first.
    pub partitions: Vec<PartitionSnapshot>,
}

/// One partition in a [`PartitionsSnapshot`].
#[derive(Clone, Debug, Serialize)]
pub struct PartitionSnapshot {
    /// The key: text keys (`per = resilient::partition::text(..)`, a `str`) as they are, others
    /// as their `Debug` text where the attribute's call site knew one (`None` for key types
    /// without `Debug`, and for generic ones).
    pub key: Option<String>,
    /// The partition's own state.
    pub state: PolicyState,
}

impl<P: Partition> Shared<P> {
    pub(super) fn partitions_snapshot(&self) -> PartitionsSnapshot {
        let mut seen: Vec<(u64, Option<String>, P)> = Vec::new();
        for shard in self.shards.iter() {
            for slot in read(&shard.0).iter() {
                let label = slot.label.as_deref().map(str::to_owned);
                seen.push((slot.used.load(Relaxed), label, slot.policy.clone()));
            }
        }
        let live = seen.len();
        seen.sort_by_key(|s| std::cmp::Reverse(s.0));
        seen.truncate(SHOWN);
        // States are taken outside the shards' locks.
        let partitions = seen
            .into_iter()
            .map(|(_, key, policy)| PartitionSnapshot { key, state: policy.partition_state() })
            .collect();
        PartitionsSnapshot {
            of: P::KIND,
            max_partitions: self.max,
            live,
            created: self.created.load(Relaxed),
            evicted: self.evicted.load(Relaxed),
            partitions,
        }
    }
}

impl<P: Partition> Inspect for Shared<P> {
    fn snapshot(&self) -> PolicySnapshot {
        PolicySnapshot {
            name: self.name.to_string(),
            settings: self.settings_view(),
            state: PolicyState::Partitioned(self.partitions_snapshot()),
        }
    }
}
