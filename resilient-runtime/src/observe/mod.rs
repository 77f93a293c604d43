//! What every policy tells the outside: `tracing` events and spans (feature `tracing`, on by
//! default) and metrics through the [`metrics`](https://docs.rs/metrics) facade (feature
//! `metrics`). The names are the contract of API.md section 7; they live in [`names`], the one
//! place to change or extend them.
//!
//! Each policy holds one small handle struct of its kind, resolved when the policy is built
//! (the attributes build it on the function's first call), so a call never looks a metric up.
//! Install the recorder before the first call: a policy built before it records nothing.
//! Without the `metrics` feature the handle structs are empty and their methods do nothing.

pub(crate) mod events;
#[cfg(feature = "metrics")]
mod metrics;
pub mod names;
#[cfg(not(feature = "metrics"))]
mod off;

#[cfg(feature = "metrics")]
pub use self::metrics::MAX_POLICY_NAMES;
#[cfg(feature = "metrics")]
pub(crate) use self::metrics::{
    AdaptiveMetrics, BreakerMetrics, BulkheadMetrics, FallbackMetrics, HedgeMetrics,
    IdempotencyMetrics, RateLimitMetrics, RetryMetrics, TimeoutMetrics,
};
#[cfg(not(feature = "metrics"))]
pub(crate) use self::off::{
    AdaptiveMetrics, BreakerMetrics, BulkheadMetrics, FallbackMetrics, HedgeMetrics,
    IdempotencyMetrics, RateLimitMetrics, RetryMetrics, TimeoutMetrics,
};
