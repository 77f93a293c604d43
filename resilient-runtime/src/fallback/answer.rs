//! What a fallback function may return, checked where the attribute names it: the annotated
//! function's `Result<T, E>` (a sync fallback), or a future of it (an `async fn` fallback).
//!
//! Which of the two a path names cannot be seen at expansion time, so the choice is left to
//! trait selection: [`FallbackOutput`] has one impl per shape, told apart by a marker type the
//! compiler infers. Anything else is one error, spanned on the fallback, in the words of the
//! `on_unimplemented` notes below.

use std::future::{Future, Ready, ready};

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
    note = "write it as `fn(E) -> Result<T, E>` or `async fn(E) -> Result<T, E>`, with the annotated function's `T` and `E`: `fn({E}) -> Result<{T}, {E}>`"
)]
pub trait FallbackOutput<T, E, M>: Sized {
    /// The future that gives the fallback's answer.
    type Future: Future<Output = Result<T, E>>;
    /// The answer as a future (a sync fallback's answer is ready at once).
    fn into_answer(self) -> Self::Future;
}

impl<T, E> FallbackOutput<T, E, Returned> for Result<T, E> {
    type Future = Ready<Result<T, E>>;

    #[inline(always)]
    fn into_answer(self) -> Self::Future {
        ready(self)
    }
}

impl<F, T, E> FallbackOutput<T, E, Awaited> for F
where
    F: Future<Output = Result<T, E>>,
{
    type Future = F;

    #[inline(always)]
    fn into_answer(self) -> F {
        self
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
