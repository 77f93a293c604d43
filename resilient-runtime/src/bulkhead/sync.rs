//! The atomics and lock the bulkhead's core is built on: `std`'s normally, loom's under
//! `cfg(resilient_loom)` so the loom tests explore every interleaving of the same code.
//!
//! Only [`core`](super::core) uses these; keep it free of anything else (clock, tracing, tokio)
//! so loom can model it alone.

#[cfg(resilient_loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
#[cfg(resilient_loom)]
pub(crate) use loom::sync::{Arc, Mutex, MutexGuard};
#[cfg(not(resilient_loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
#[cfg(not(resilient_loom))]
pub(crate) use std::sync::{Arc, Mutex, MutexGuard};

/// Locks, ignoring poison: nothing panics while holding the queue's lock.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    #[cfg(resilient_loom)]
    return m.lock().unwrap();
    #[cfg(not(resilient_loom))]
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
