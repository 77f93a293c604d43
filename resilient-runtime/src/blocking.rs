//! The glue of a pipeline around a sync fn: `#[retry]` and `#[circuit_breaker]` on a plain `fn`
//! returning `Result`.
//!
//! The layers are the same policies as for an `async fn` (same statics, names, registry,
//! configuration, budget, events and metrics); only the waiting differs. A retry's delay is a
//! blocking [`std::thread::sleep`], and the clock is tokio's `Instant`, which outside a tokio
//! runtime is `std`'s: a breaker's cooldown runs on wall time there, and on the paused clock of
//! a `#[tokio::test(start_paused = true)]` that calls the sync fn.
//!
//! Like any blocking call, a sync fn with a retry that sleeps blocks the thread it runs on: call
//! it from an async task through `tokio::task::spawn_blocking`, or make it an `async fn`.

use std::time::Duration;

use crate::Outcome;
use crate::pipeline::IsResult;

/// Runs the sync function's body and makes its result the innermost layer of a pipeline: the
/// blocking twin of [`lift`](crate::pipeline::lift).
///
/// The body is a closure so that its `return` and `?` end the attempt, not the function; taking
/// it as `FnOnce` makes it one, so the body can return what it borrows from a `&mut` argument
/// (a closure inferred as `Fn` could not let such a borrow escape).
#[inline(always)]
pub fn lift<R: IsResult>(body: impl FnOnce() -> R) -> Outcome<R::Ok, R::Err> {
    Ok(body().into_result())
}

/// The sleep between two attempts of a sync fn's retry: blocks the thread for `delay`.
#[inline]
pub fn backoff_sleep(delay: Duration) {
    std::thread::sleep(delay);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lift_keeps_the_result() {
        assert_eq!(lift(|| Ok::<u8, &str>(1)), Ok(Ok(1)));
        assert_eq!(lift(|| Err::<u8, &str>("e")), Ok(Err("e")));
    }

    #[test]
    fn tokio_clock_outside_a_runtime_is_std() {
        // Breakers and budgets read `tokio::time::Instant::now()`; with no runtime it must not
        // panic and must move with wall time, or a sync fn's cooldown would never end.
        let before = tokio::time::Instant::now();
        backoff_sleep(Duration::from_millis(2));
        assert!(tokio::time::Instant::now() - before >= Duration::from_millis(2));
    }
}
