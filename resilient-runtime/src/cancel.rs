//! What a timeout's `on_cancel` hook is, and when it runs.
//!
//! A timeout that fires drops the body's future at whatever `.await` it had reached. On a
//! stateful connection that can be mid-request: the request is sent, its answer is not read, and
//! the next call on the same connection reads the late answer as its own. The hook is how the
//! owner of the connection learns of it: it is called with the receiver once the body is
//! dropped, before the timeout's error goes up (so a retry above runs on a repaired
//! connection).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! use std::time::Duration;
//! use resilient_runtime::{Error, cancel, timeout::Timeout};
//!
//! struct Client { broken: bool }
//! fn mark_broken(client: &mut Client) { client.broken = true }
//!
//! let timeout = Timeout::fixed(Duration::from_millis(10)).name("get").build();
//! let mut client = Client { broken: false };
//! let out = timeout
//!     .guard(async { tokio::time::sleep(Duration::from_secs(1)).await; Ok(Ok::<(), ()>(())) })
//!     .await;
//! if cancel::timed_out(&out) {
//!     cancel::on_cancel(timeout.name(), &mut client, mark_broken);
//! }
//! assert!(client.broken);
//! # }
//! ```

use crate::Outcome;

/// A fn an `on_cancel` hook may name: it takes the receiver (or the `&mut` argument) and
/// returns nothing.
#[diagnostic::on_unimplemented(
    message = "`on_cancel` must name a fn taking `{R}`, the function's receiver or `&mut` argument",
    label = "called with `{R}` after the timeout dropped the body",
    note = "write it as `fn reset(conn: {R}) {{ .. }}`, for instance setting a flag that makes the next call reconnect"
)]
pub trait CancelHook<R> {
    /// Runs the hook.
    fn call(self, receiver: R);
}

impl<R, F, O> CancelHook<R> for F
where
    F: FnOnce(R) -> O,
    O: HookReturn,
{
    #[inline]
    fn call(self, receiver: R) {
        self(receiver);
    }
}

/// What an `on_cancel` hook returns: nothing.
#[diagnostic::on_unimplemented(
    message = "an `on_cancel` hook must return `()`, and this one returns `{Self}`",
    label = "this hook returns `{Self}`",
    note = "an `async fn` is not accepted: the hook runs while the call is being cancelled and cannot wait; mark the connection broken there and reconnect at the start of the next call",
    note = "a hook that returns a value has it ignored: return `()`"
)]
pub trait HookReturn {}

impl HookReturn for () {}

/// True when the layer's timeout fired: the body was dropped after at least one poll, perhaps
/// mid-request.
#[inline]
pub fn timed_out<T, E>(outcome: &Outcome<T, E>) -> bool {
    matches!(outcome, Err(e) if e.is_timeout())
}

/// Calls `hook` with `receiver` after the timeout named `policy` dropped the body. The receiver
/// comes first so that it decides `R`; generated code spans the call on the user's hook, so a
/// wrong signature is reported there.
#[cold]
pub fn on_cancel<R, H: CancelHook<R>>(policy: &str, receiver: R, hook: H) {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        policy,
        kind = "timeout",
        "timeout: body cancelled, calling its on_cancel hook"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = policy;
    hook.call(receiver);
}
