//! What a fallback function may return, checked where the attribute names it: the annotated
//! function's `Result<T, E>` (a sync fallback), or a future of it (an `async fn` fallback).
//!
//! Which of the two a path names cannot be seen at expansion time, so the choice is left to
//! trait selection: [`FallbackOutput`] has one impl per shape, told apart by a marker type the
//! compiler infers. Anything else is one error, spanned on the fallback, in the words of the
//! `on_unimplemented` notes below.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Marker: the fallback returned its `Result` directly (a sync `fn`).
#[derive(Debug)]
pub enum Returned {}

/// Marker: the fallback returned a future of its `Result` (an `async fn`).
#[derive(Debug)]
pub enum Awaited {}

/// The value a fallback function returns: `Result<T, E>` itself, or a future of it.
///
/// `T` and `E` are those of the annotated function. `M` is [`Returned`] or [`Awaited`], inferred.
#[diagnostic::on_unimplemented(
    message = "a fallback must return `Result<{T}, {E}>`, the annotated function's return type, or be an `async fn` returning it; this one returns `{Self}`",
    label = "this fallback returns `{Self}`",
    note = "write it as `fn(E) -> Result<T, E>` or `async fn(E) -> Result<T, E>`, with the annotated function's `T` and `E`: `fn({E}) -> Result<{T}, {E}>`",
    note = "on an `impl` block the fallback serves every method: a method returning another type needs its own `#[fallback]`, or `#[resilient::skip]`"
)]
pub trait FallbackOutput<T, E, M>: Sized {
    /// The answer as a future (a sync fallback's answer is ready at once).
    fn into_answer(self) -> Answer<Self, T, E>;
}

impl<T, E> FallbackOutput<T, E, Returned> for Result<T, E> {
    #[inline(always)]
    fn into_answer(self) -> Answer<Self, T, E> {
        Answer::Ready { value: Some(self) }
    }
}

impl<F, T, E> FallbackOutput<T, E, Awaited> for F
where
    F: Future<Output = Result<T, E>>,
{
    #[inline(always)]
    fn into_answer(self) -> Answer<Self, T, E> {
        Answer::Pending { fut: self, poll: <F as Future>::poll }
    }
}

pin_project_lite::pin_project! {
    /// The future of a fallback's answer; see [`FallbackOutput::into_answer`].
    ///
    /// It polls through a function pointer chosen by the impl, so that its own `Future` impl
    /// has no bounds: where the fallback has the wrong type, that is reported once, at the
    /// fallback, and not again where the answer is awaited.
    #[project = AnswerProj]
    #[allow(missing_docs)] // the variants say what their fields hold
    #[must_use = "futures do nothing unless polled"]
    pub enum Answer<F, T, E> {
        /// A sync fallback's `Result` (`value`), taken at the first poll.
        Ready { value: Option<Result<T, E>> },
        /// An async fallback's future (`fut`), polled with its `Future::poll` (`poll`).
        Pending {
            #[pin]
            fut: F,
            poll: fn(Pin<&mut F>, &mut Context<'_>) -> Poll<Result<T, E>>,
        },
    }
}

impl<F, T, E> Future for Answer<F, T, E> {
    type Output = Result<T, E>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, E>> {
        match self.project() {
            AnswerProj::Ready { value } => {
                Poll::Ready(value.take().expect("a fallback's answer polled after it was given"))
            }
            AnswerProj::Pending { fut, poll } => poll(fut, cx),
        }
    }
}

impl<F, T: fmt::Debug, E: fmt::Debug> fmt::Debug for Answer<F, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answer::Ready { value } => f.debug_struct("Ready").field("value", value).finish(),
            Answer::Pending { .. } => f.write_str("Pending"),
        }
    }
}

/// The value a fallback of a sync function returns: `Result<T, E>` itself. A future cannot be
/// awaited there.
#[diagnostic::on_unimplemented(
    message = "the fallback of a sync fn must return `Result<{T}, {E}>`, the annotated function's return type; this one returns `{Self}`",
    label = "this fallback returns `{Self}`",
    note = "a sync fn cannot await an `async fn` fallback: make the fallback a plain `fn({E}) -> Result<{T}, {E}>`, or the annotated function `async`"
)]
pub trait SyncFallbackOutput<T, E>: Sized {
    /// The answer.
    fn into_result(self) -> Result<T, E>;
}

impl<T, E> SyncFallbackOutput<T, E> for Result<T, E> {
    #[inline(always)]
    fn into_result(self) -> Self {
        self
    }
}
