//! Circuit breakers.

use serde::Serialize;

/// A circuit breaker's state as the registry reports it.
#[derive(Clone, Debug, Serialize)]
pub struct BreakerSnapshot {}
