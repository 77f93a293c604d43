//! Waiting for a place on a thread: for sync callers, on std's clock.

use std::time::{Duration, Instant};

use super::core::{Enqueued, Waiter, Wake};
use super::sync::Arc;
use super::{Inner, Permit};
use crate::Error;

/// See [`Bulkhead::acquire_blocking`](super::Bulkhead::acquire_blocking).
pub(super) fn acquire(inner: &Inner) -> Result<Permit<'_>, Error> {
    if let Some(permit) = inner.try_enter() {
        return Ok(permit);
    }
    let tuned = inner.tuned.get();
    if tuned.queue == 0 || tuned.wait.is_zero() {
        return Err(inner.rejected(Duration::ZERO));
    }
    let waiter = Arc::new(Waiter::default());
    // Registered before joining the queue: a grant may come at once.
    waiter.register(Wake::Thread(std::thread::current()));
    match inner.core.enqueue(&waiter, tuned.queue) {
        Enqueued::Admitted => return Ok(inner.granted()),
        Enqueued::Full => return Err(inner.rejected(Duration::ZERO)),
        Enqueued::Waiting => {}
    }
    inner.metrics.queued(inner.core.counts().1);
    let since = Instant::now();
    let until = since + tuned.wait;
    // Leaves the queue however this ends (a panic in `park_timeout` included).
    struct Leave<'a>(&'a Inner, &'a Arc<Waiter>, bool);
    impl Drop for Leave<'_> {
        fn drop(&mut self) {
            if !self.2 && self.0.core.leave(self.1) {
                self.0.release();
            }
        }
    }
    let mut leave = Leave(inner, &waiter, false);
    loop {
        if waiter.granted() {
            leave.2 = true;
            return Ok(inner.granted());
        }
        let now = Instant::now();
        if now >= until {
            leave.2 = true;
            let got = inner.core.leave(&waiter);
            inner.metrics.queued(inner.core.counts().1);
            return match got {
                true => Ok(inner.granted()),
                false => Err(inner.rejected(since.elapsed())),
            };
        }
        std::thread::park_timeout(until - now);
    }
}
