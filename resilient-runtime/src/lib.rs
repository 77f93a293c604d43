//! The runtime behind `resilient`'s attributes: retry schedules and budgets, circuit breakers,
//! adaptive timeouts, deadlines, idempotency stores and the policy registry.
//!
//! Everything here is usable without the macros; the attributes only generate calls into it.
//! Depend on the `resilient` facade rather than on this crate directly.

pub mod backoff;
pub mod blocking;
pub mod breaker;
pub mod bulkhead;
pub mod cancel;
pub mod clock;
pub mod config;
pub mod deadline;
pub mod error;
pub mod fallback;
pub mod hedge;
pub mod idempotency;
pub mod name;
pub mod observe;
pub mod partition;
pub mod pipeline;
pub mod rate_limit;
pub mod registry;
pub mod retry;
pub mod rng;
pub mod timeout;

pub use error::{Error, PolicyName};

/// What every layer of a fused pipeline passes to the one above it: the function's own result,
/// or the rejection of a layer below (which the outermost layer converts into the caller's `E`).
pub type Outcome<T, E> = Result<Result<T, E>, Error>;
