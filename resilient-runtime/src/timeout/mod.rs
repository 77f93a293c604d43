//! Fixed and adaptive timeouts.

use serde::Serialize;

/// A timeout's state as the registry reports it.
#[derive(Clone, Debug, Serialize)]
pub struct TimeoutSnapshot {}
