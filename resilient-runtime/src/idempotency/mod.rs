//! Idempotency keys and stores.

use serde::Serialize;

/// An idempotency policy's state as the registry reports it.
#[derive(Clone, Debug, Serialize)]
pub struct IdempotencySnapshot {}
