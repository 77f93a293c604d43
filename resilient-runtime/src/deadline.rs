//! The task-scoped deadline that `#[timeout]` sets and nested calls respect.
//!
//! A timeout runs its inner future inside [`scope`]; while that future is polled, [`current`]
//! and [`remaining`] tell any code in the same task how much time is left, so an inner timeout
//! never waits past it and a retry never starts a sleep it cannot finish. User code can read it
//! too, for example to send it on as a gRPC `grpc-timeout` header.
//!
//! Like `tokio::task_local!`, the deadline follows the future, not the thread: it is set for the
//! duration of each poll and restored afterwards, and a task spawned from inside does not inherit
//! it.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;

thread_local! {
    static CURRENT: Cell<Slot> = const { Cell::new(Slot::None) };
}

/// What the thread's deadline holds while a future is polled.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Slot {
    None,
    At(Instant),
    /// A fixed timeout's deadline that nothing has read yet: `after` from the moment it is first
    /// needed (read here, or the timeout's body waiting), never later than `outer`. A call that
    /// completes without either never reads the clock.
    Lazy {
        after: Duration,
        outer: Option<Instant>,
    },
    /// A lazy deadline, fixed when first read at `at`.
    Anchored {
        at: Instant,
        deadline: Instant,
    },
}

/// The deadline of the innermost enclosing scope in this task, if any.
#[inline]
pub fn current() -> Option<Instant> {
    CURRENT.with(|cell| match cell.get() {
        Slot::None => None,
        Slot::At(deadline) | Slot::Anchored { deadline, .. } => Some(deadline),
        Slot::Lazy { after, outer } => {
            let (at, deadline) = anchor(after, outer);
            cell.set(Slot::Anchored { at, deadline });
            Some(deadline)
        }
    })
}

/// Now, and the deadline `after` from now, no later than `outer`. A limit too large for the
/// clock (`Duration::MAX`) means no limit, as in tokio.
#[inline]
pub(crate) fn anchor(after: Duration, outer: Option<Instant>) -> (Instant, Instant) {
    let at = Instant::now();
    let own = own_deadline(at, after);
    match outer {
        Some(outer) if outer < own => (at, outer),
        _ => (at, own),
    }
}

/// `after` from `at`, or thirty years from it when that overflows the clock.
#[inline]
pub(crate) fn own_deadline(at: Instant, after: Duration) -> Instant {
    at.checked_add(after).unwrap_or_else(|| at + Duration::from_secs(86_400 * 365 * 30))
}

/// Time left until [`current`]'s deadline (zero once it has passed); `None` when no deadline is set.
/// Reads the clock only when a deadline is set.
pub fn remaining() -> Option<Duration> {
    current().map(|d| d.saturating_duration_since(Instant::now()))
}

/// The earlier of `deadline` and the enclosing one.
#[inline]
pub fn tighten(deadline: Instant) -> Instant {
    match current() {
        Some(outer) if outer < deadline => outer,
        _ => deadline,
    }
}

/// Runs `fut` with `deadline` visible through [`current`] (tightened to the enclosing deadline,
/// so a scope can never extend its caller's).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::time::Duration;
/// use resilient_runtime::deadline;
/// let at = tokio::time::Instant::now() + Duration::from_secs(2);
/// let left = deadline::scope(at, async { deadline::remaining() }).await;
/// assert!(left.unwrap() <= Duration::from_secs(2));
/// assert_eq!(deadline::remaining(), None);
/// # }
/// ```
pub fn scope<F: Future>(deadline: Instant, fut: F) -> Scoped<F> {
    Scoped { deadline: Some(tighten(deadline)), fut }
}

pin_project_lite::pin_project! {
    /// A future running with a deadline set; see [`scope`].
    #[must_use = "futures do nothing unless polled"]
    pub struct Scoped<F> {
        deadline: Option<Instant>,
        #[pin]
        fut: F,
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _restore = Set::new(*this.deadline);
        this.fut.poll(cx)
    }
}

/// Calls `f` with `deadline` set exactly as given (the caller has already tightened it) and
/// restores the previous deadline afterwards, even on panic: one poll of [`Scoped`], for futures
/// that learn their deadline only when first polled.
#[inline]
pub(crate) fn enter<R>(deadline: Instant, f: impl FnOnce() -> R) -> R {
    let _restore = Set::new(Some(deadline));
    f()
}

/// As [`enter`], with a deadline `after` from when it is first needed, no later than `outer`
/// (see [`Slot::Lazy`]); also returns the slot as `f` left it: [`Slot::Anchored`] if something
/// read the deadline, else still [`Slot::Lazy`].
#[inline]
pub(crate) fn enter_lazy<R>(
    after: Duration,
    outer: Option<Instant>,
    f: impl FnOnce() -> R,
) -> (R, Slot) {
    let restore = Set::slot(Slot::Lazy { after, outer });
    let out = f();
    let slot = CURRENT.with(Cell::get);
    drop(restore);
    (out, slot)
}

/// Sets the thread's deadline and restores the previous one when dropped, even on panic.
struct Set(Slot);

impl Set {
    #[inline]
    fn new(deadline: Option<Instant>) -> Self {
        Self::slot(deadline.map_or(Slot::None, Slot::At))
    }

    #[inline]
    fn slot(slot: Slot) -> Self {
        Set(CURRENT.with(|c| c.replace(slot)))
    }
}

impl Drop for Set {
    #[inline]
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn nested_scopes_only_tighten() {
        let now = Instant::now();
        let outer = now + Duration::from_secs(1);
        let seen = scope(outer, async move {
            let inner = scope(now + Duration::from_secs(5), async { current() }).await;
            let tighter = scope(now + Duration::from_millis(10), async { current() }).await;
            (inner, tighter, current())
        })
        .await;
        assert_eq!(seen.0, Some(outer));
        assert_eq!(seen.1, Some(now + Duration::from_millis(10)));
        assert_eq!(seen.2, Some(outer));
        assert_eq!(current(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_lazy_deadline_is_fixed_when_first_read_and_no_later_than_the_outer() {
        let start = Instant::now();
        let ms = Duration::from_millis;
        let ((first, second), slot) = enter_lazy(ms(100), None, || (current(), current()));
        assert_eq!(first, Some(start + ms(100)));
        assert_eq!(second, first, "read twice, fixed once");
        assert!(
            matches!(slot, Slot::Anchored { at, deadline } if at == start && deadline == start + ms(100))
        );
        let (seen, _) = enter_lazy(ms(100), Some(start + ms(10)), current);
        assert_eq!(seen, Some(start + ms(10)), "the enclosing deadline is earlier");
        let ((), slot) = enter_lazy(ms(100), None, || ());
        assert!(matches!(slot, Slot::Lazy { .. }), "never read, never fixed: {slot:?}");
        assert_eq!(current(), None, "restored");
    }

    #[tokio::test(start_paused = true)]
    async fn remaining_counts_down_with_virtual_time() {
        let at = Instant::now() + Duration::from_millis(300);
        scope(at, async {
            assert_eq!(remaining(), Some(Duration::from_millis(300)));
            tokio::time::sleep(Duration::from_millis(100)).await;
            assert_eq!(remaining(), Some(Duration::from_millis(200)));
            tokio::time::sleep(Duration::from_millis(500)).await;
            assert_eq!(remaining(), Some(Duration::ZERO));
        })
        .await;
    }
}
