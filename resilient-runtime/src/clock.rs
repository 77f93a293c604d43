//! A cheap monotonic clock that still obeys tokio's paused test clock.
//!
//! Policies whose success path needs "now" (the rate limiter's GCRA; a fixed timeout's deadline)
//! cannot afford `tokio::time::Instant::now()` on every call: without a paused clock it is
//! `std::time::Instant::now()` (`clock_gettime`, about 20 ns on a quiet x86-64 Linux machine, and
//! it is what tokio's clock costs in production). [`Clock`] reads
//! [`quanta`](https://docs.rs/quanta) instead (the TSC, scaled: a few ns; the source governor
//! uses), and switches to tokio's clock for the rest of the process once it has seen a paused
//! tokio clock, as tokio itself does (`DID_PAUSE_CLOCK` in tokio's `time::clock`). So
//! `#[tokio::test(start_paused = true)]` tests are exact, and a process that never pauses time
//! (every production process) never pays for tokio's clock.
//!
//! Accuracy: quanta calibrates the TSC against the OS monotonic clock once (up to 200 ms, on the
//! first reading in the process) and is then as precise as the OS clock, at nanosecond
//! resolution; it may drift from it by parts per million. Where the TSC is not usable it falls
//! back to the OS clock.
//!
//! A paused clock is noticed when a clock is made ([`Clock::new`]) and on every
//! [`Clock::now_checked`] (cold paths: a rejection, a wait): each time, tokio's clock is read
//! between two readings of std's; a tokio clock outside them is paused (or was). A policy built
//! before the first pause, and whose success path alone runs under a paused clock, keeps the
//! fast clock until its next cold path; in practice tests build their policies in the paused
//! runtime that calls them.
//!
//! ```
//! let clock = resilient_runtime::clock::Clock::new();
//! let a = clock.now_nanos();
//! assert!(clock.now_nanos() >= a);
//! ```

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

/// Set for the rest of the process once a paused tokio clock was seen.
static PAUSED: AtomicBool = AtomicBool::new(false);

/// A monotonic clock reading nanoseconds since it was made; see the [module](self).
#[derive(Clone, Debug)]
pub struct Clock {
    /// Held rather than `quanta::Instant::now()`, which checks a thread-local mock first: a TSC
    /// read and a multiply-shift scaling (no division), as governor's clock does.
    source: quanta::Clock,
    /// The raw counter when the clock was made.
    start: u64,
    tokio: tokio::time::Instant,
}

impl Clock {
    /// A clock starting at zero now. Checks for a paused tokio clock.
    pub fn new() -> Self {
        observe_pause();
        let source = quanta::Clock::new();
        let start = source.raw();
        Self { source, start, tokio: tokio::time::Instant::now() }
    }

    /// Nanoseconds since the clock was made: quanta's reading, or tokio's once a paused tokio
    /// clock was seen. One relaxed load and a TSC read on the fast path.
    #[inline]
    pub fn now_nanos(&self) -> u64 {
        if PAUSED.load(Relaxed) {
            return self.tokio_nanos();
        }
        self.fast_nanos()
    }

    /// [`now_nanos`](Self::now_nanos) after checking for a paused tokio clock (a few clock
    /// readings): for cold paths, whose decisions tests look at.
    #[cold]
    pub fn now_checked(&self) -> u64 {
        observe_pause();
        self.now_nanos()
    }

    /// The time since the clock was made.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.now_nanos())
    }

    #[inline]
    fn fast_nanos(&self) -> u64 {
        self.source.delta_as_nanos(self.start, self.source.raw())
    }

    #[cold]
    fn tokio_nanos(&self) -> u64 {
        tokio::time::Instant::now().saturating_duration_since(self.tokio).as_nanos() as u64
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

/// True once a paused tokio clock was seen in this process: [`Clock`]s read tokio's clock from
/// then on.
pub fn tokio_paused_seen() -> bool {
    PAUSED.load(Relaxed)
}

/// Checks whether the current task's tokio clock is paused (or was, and so runs apart from
/// std's); if so, every [`Clock`] reads tokio's clock from now on. Returns whether they do.
pub fn observe_pause() -> bool {
    if PAUSED.load(Relaxed) {
        return true;
    }
    let before = std::time::Instant::now();
    let tokio = tokio::time::Instant::now().into_std();
    let after = std::time::Instant::now();
    // Not paused, tokio's clock is std's, read between the two.
    if tokio < before || tokio > after {
        PAUSED.store(true, Relaxed);
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_paused_clock_is_followed_exactly() {
        let clock = Clock::new();
        assert!(tokio_paused_seen());
        let start = clock.now_nanos();
        tokio::time::advance(Duration::from_millis(250)).await;
        assert_eq!(clock.now_nanos() - start, 250_000_000);
    }
}
