//! The atomics the breaker's state machine is built on: `std`'s normally, loom's under
//! `cfg(resilient_loom)` so the loom tests can explore every interleaving of the same code.
//!
//! Only [`machine`](super::machine) and [`window`](super::window) use these; keep them free of
//! anything else (clock, tracing, tokio) so loom can model them alone.

#[cfg(resilient_loom)]
pub(crate) use loom::sync::atomic::{AtomicU64, Ordering};
#[cfg(not(resilient_loom))]
pub(crate) use std::sync::atomic::{AtomicU64, Ordering};
