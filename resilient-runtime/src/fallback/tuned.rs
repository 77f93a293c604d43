//! A fallback's settings as configuration sees them: only `enabled`.

use resilient_spec as spec;

use super::Inner;
use crate::config::{Tunable, Tuning};

#[derive(Debug)]
pub(crate) struct Tuned {
    /// `false`: errors reach the caller as they are.
    pub(crate) enabled: bool,
    pub(crate) tuning: Tuning,
}

impl Tuned {
    pub(crate) fn new(tuning: Tuning) -> Self {
        Self { enabled: tuning.enabled(), tuning }
    }
}

/// The compiled settings as configuration keys.
pub(crate) fn tuning() -> Tuning {
    Tuning::new(&spec::FALLBACK)
}

impl Tunable for Inner {
    fn name(&self) -> &str {
        self.name.as_str()
    }

    fn inline(&self) -> &Tuning {
        &self.inline
    }

    fn retune(&self, tuning: Tuning) {
        self.tuned.set(Tuned::new(tuning));
    }

    fn current(&self) -> Tuning {
        self.tuned.get().tuning.clone()
    }
}
