//! Declarative resilience for async Rust.
//!
//! Annotate an `async fn` and it survives a failing world: [`retry`] backs off with jitter
//! under a retry budget, [`circuit_breaker`] stops calls into a dead dependency, [`timeout`]
//! adapts to the latency the function really sees (`"p99*2"`), and [`idempotent`] answers
//! duplicate requests once. Signatures stay as they are; callers change nothing.
//!
//! ```
//! use resilient::retry;
//!
//! #[derive(Debug)]
//! enum AppError { Unavailable, NotFound }
//!
//! fn is_transient(e: &AppError) -> bool {
//!     matches!(e, AppError::Unavailable)
//! }
//!
//! #[retry(max = 3, backoff = "exp", base = "100ms", jitter = 0.1, when = is_transient)]
//! async fn get_user(id: u64) -> Result<String, AppError> {
//!     if id == 0 { return Err(AppError::NotFound) }
//!     Ok(format!("user {id}"))
//! }
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! assert_eq!(get_user(7).await.unwrap(), "user 7");
//! # }
//! ```
//!
//! # The error contract
//!
//! Annotated functions return `Result<T, E>`, spelled any way. When a policy itself turns a call
//! away (an open circuit, a timeout, a duplicate in flight) the caller gets it as `E`, through
//! `E: From<resilient::Error>`; `anyhow::Error`, `Box<dyn Error + Send + Sync>` and
//! `std::io::Error` need no code. `#[retry]` alone never rejects, so it needs no `From`.
//!
//! # Without macros
//!
//! Every policy is usable by hand from [`runtime`]; the attributes generate calls into exactly
//! those types.

#[doc(inline)]
pub use resilient_macros::{circuit_breaker, idempotent, retry, timeout};

pub use resilient_runtime::idempotency::IdempotencyKey;
pub use resilient_runtime::{Error, deadline, registry, rng};

/// The policies, schedules and stores behind the attributes, usable without macros.
pub mod runtime {
    pub use resilient_runtime::{
        Outcome, backoff, breaker, error, idempotency, pipeline, retry, timeout,
    };
}

/// What generated code names. Not public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use resilient_runtime::backoff::{Backoff, Jitter, Schedule};
    pub use resilient_runtime::breaker::{BreakerSettings, CircuitBreaker};
    pub use resilient_runtime::idempotency::Idempotency;
    pub use resilient_runtime::pipeline::*;
    pub use resilient_runtime::retry::{BudgetSettings, Retry};
    pub use resilient_runtime::timeout::Timeout;
    pub use std::sync::LazyLock;

    /// The marker a fused expansion leaves for later resilient attributes; expands to nothing.
    #[macro_export]
    #[doc(hidden)]
    macro_rules! __resilient_fused {
        ($($tokens:tt)*) => {};
    }
    pub use __resilient_fused as fused;
}
