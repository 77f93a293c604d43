//! Configuration reaches every partition: a partitioned policy is tuned as one, by its name.
//!
//! Partitions are built outside configuration's list (a flood of keys must not grow it); the
//! [`Partitioned`](super::Partitioned) is listed once instead. Applying configuration retunes
//! every live partition, and a partition created later starts with the settings in force.

use std::sync::{Mutex, PoisonError};

use super::{Partition, Shared, read};
use crate::config::{SettingView, Tunable, Tuning};

pub(crate) mod sealed {
    /// A partition's configuration hooks; the crate's policies have them.
    pub trait Tuned {
        /// The instance as configuration sees it; `None` for a policy configuration does not
        /// reach.
        fn hooks(&self) -> Option<Hooks<'_>> {
            None
        }
    }

    /// An instance as configuration sees it.
    pub struct Hooks<'a>(pub(crate) &'a dyn crate::config::Tunable);
}

trait TunedExt {
    fn tunable(&self) -> Option<&dyn Tunable>;
}

impl<T: sealed::Tuned> TunedExt for T {
    fn tunable(&self) -> Option<&dyn Tunable> {
        self.hooks().map(|h| h.0)
    }
}

/// What configuration set for a partitioned policy.
pub(super) struct Tunings {
    /// The compiled settings (of an instance built for the purpose, kept to check new ones).
    pub(super) inline: Option<Tuning>,
    /// The settings in force, when configuration changed them.
    pub(super) current: Mutex<Option<Tuning>>,
}

impl Tunings {
    pub(super) fn of<P: Partition>(template: &P) -> Self {
        Self { inline: template.tunable().map(|t| t.inline().clone()), current: Mutex::new(None) }
    }

    fn current(&self) -> Option<Tuning> {
        self.current.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl<P: Partition> Shared<P> {
    /// Brings a new partition to the settings in force; returns what it applied.
    pub(super) fn tune(&self, policy: &P, applied: Option<&Tuning>) -> Option<Tuning> {
        let current = self.tunings.current();
        if current.as_ref() != applied
            && let (Some(t), Some(p)) = (&current, policy.tunable())
        {
            p.retune(t.clone());
        }
        current
    }

    pub(super) fn settings_view(&self) -> Vec<SettingView> {
        match (self.tunings.current(), &self.tunings.inline) {
            (Some(t), _) => t.view(),
            (None, Some(inline)) => inline.view(),
            (None, None) => Vec::new(),
        }
    }
}

impl<P: Partition> Tunable for Shared<P> {
    fn name(&self) -> &str {
        self.name.as_str()
    }

    fn inline(&self) -> &Tuning {
        self.tunings.inline.as_ref().expect("only policies with settings are attached")
    }

    fn check(&self, tuning: &Tuning) -> Result<(), String> {
        match self.template.tunable() {
            Some(t) => t.check(tuning),
            None => Ok(()),
        }
    }

    fn retune(&self, tuning: Tuning) {
        *self.tunings.current.lock().unwrap_or_else(PoisonError::into_inner) = Some(tuning.clone());
        let live: Vec<P> = self
            .shards
            .iter()
            .flat_map(|s| read(&s.0).iter().map(|slot| slot.policy.clone()).collect::<Vec<_>>())
            .collect();
        for policy in live {
            if let Some(p) = policy.tunable() {
                p.retune(tuning.clone());
            }
        }
    }

    fn current(&self) -> Tuning {
        self.tunings.current().unwrap_or_else(|| self.inline().clone())
    }
}
