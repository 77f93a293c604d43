//! The glue between the layers of a pipeline: what the attributes generate calls to, and what
//! hand-written pipelines can use the same way.
//!
//! Every layer takes a future of [`Outcome<T, E>`](crate::Outcome) and gives one back: the
//! function's own `Result<T, E>`, or the [`Error`] of a layer that turned the call away. Only the
//! outermost step, [`finish`], converts a rejection into the caller's `E`; until then every layer
//! can see exactly what happened below it (a retry sees that a breaker rejected, a breaker sees
//! that a timeout fired).

use std::future::Future;
use std::hash::{Hash, Hasher};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::{Error, Outcome};

pin_project_lite::pin_project! {
    /// A future of `Result<T, E>` seen as a future of `Outcome<T, E>`; see [`lift`].
    #[must_use = "futures do nothing unless polled"]
    pub struct Lift<F> {
        #[pin]
        fut: F,
    }
}

/// Turns the function body's future into the innermost layer of a pipeline.
#[inline]
pub fn lift<F>(fut: F) -> Lift<F>
where
    F: Future<Output: IsResult>,
{
    Lift { fut }
}

impl<F> Future for Lift<F>
where
    F: Future<Output: IsResult>,
{
    type Output = Outcome<<F::Output as IsResult>::Ok, <F::Output as IsResult>::Err>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().fut.poll(cx).map(|r| Ok(r.into_result()))
    }
}

/// The `Ok` and `Err` types of a `Result`, however its type is spelled (`io::Result<T>`,
/// `anyhow::Result<T>`, a crate's own alias).
#[diagnostic::on_unimplemented(
    message = "resilient attributes need a function returning `Result<T, E>`; this returns `{Self}`",
    label = "not a `Result`",
    note = "if the attribute stands on an `impl` block, `#[resilient::skip]` on this method leaves it out"
)]
pub trait IsResult: Sized {
    /// `T`.
    type Ok;
    /// `E`.
    type Err;
    /// The value as a `Result`.
    fn into_result(self) -> Result<Self::Ok, Self::Err>;
    /// The `Result` as this type.
    fn from_result(result: Result<Self::Ok, Self::Err>) -> Self;
}

impl<T, E> IsResult for Result<T, E> {
    type Ok = T;
    type Err = E;

    #[inline(always)]
    fn into_result(self) -> Self {
        self
    }

    #[inline(always)]
    fn from_result(result: Self) -> Self {
        result
    }
}

/// An error type that can carry a [`resilient::Error`](Error) to the caller.
///
/// Implemented for every `E: From<resilient::Error>`: `anyhow::Error`,
/// `Box<dyn std::error::Error + Send + Sync>` and `std::io::Error` already are; for your own
/// error type, add a variant and `impl From<resilient::Error> for MyError`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot carry a `resilient::Error`: implement `From<resilient::Error>` for `{Self}`",
    label = "this function's error type must be able to say that a policy rejected the call",
    note = "circuit breakers, timeouts, idempotency, bulkheads and rate limits can turn a call away; they hand their `resilient::Error` to the caller as `{Self}` through `From`",
    note = "add a variant, e.g. `Resilience(resilient::Error)`, and `impl From<resilient::Error> for {Self}`",
    note = "if the attribute stands on an `impl` block, `#[resilient::skip]` on this method leaves it out"
)]
pub trait CarriesRejection: Sized {
    /// The rejection as this error type.
    fn from_rejection(rejection: Error) -> Self;
}

impl<E: From<Error>> CarriesRejection for E {
    #[inline]
    fn from_rejection(rejection: Error) -> Self {
        E::from(rejection)
    }
}

/// How a rejection becomes `E`. Generated code asks for it spanned on the function's return
/// type, so that a missing `From<resilient::Error>` is reported there, once.
#[inline(always)]
pub fn rejection_into<E: CarriesRejection>() -> fn(Error) -> E {
    E::from_rejection
}

/// The end of a pipeline that can reject: a rejection becomes the caller's `E` through `convert`
/// (see [`rejection_into`]).
#[inline]
pub fn finish<R: IsResult>(outcome: Outcome<R::Ok, R::Err>, convert: fn(Error) -> R::Err) -> R {
    R::from_result(match outcome {
        Ok(result) => result,
        Err(rejection) => Err(convert(rejection)),
    })
}

/// The end of a pipeline none of whose layers rejects calls (a lone retry).
#[inline]
pub fn finish_plain<R: IsResult>(outcome: Outcome<R::Ok, R::Err>) -> R {
    R::from_result(match outcome {
        Ok(result) => result,
        Err(rejection) => {
            unreachable!("no layer of this pipeline rejects calls, yet one did: {rejection}")
        }
    })
}

/// True when the function itself succeeded.
#[inline]
pub fn is_success<T, E>(outcome: &Outcome<T, E>) -> bool {
    matches!(outcome, Ok(Ok(_)))
}

/// The predicate used when `when` is not given: every error counts.
#[inline]
pub fn every_error<E>(_: &E) -> bool {
    true
}

/// Whether a retry should try again after `outcome`, in a pipeline whose inner layers can reject:
/// the function's errors are retried when `when` says so; an inner timeout is retried when `when`
/// says so of the caller's error it would become; an open circuit never (retrying would only
/// sleep against it).
pub fn retryable<T, E, W>(outcome: &Outcome<T, E>, when: W) -> bool
where
    E: CarriesRejection,
    W: FnOnce(&E) -> bool,
{
    match outcome {
        Ok(Ok(_)) => false,
        Ok(Err(e)) => when(e),
        Err(rejection) if rejection.is_timeout() => when(&E::from_rejection(rejection.clone())),
        Err(_) => false,
    }
}

/// Whether a retry should try again after `outcome`, when nothing inside it rejects.
#[inline]
pub fn retryable_plain<T, E, W>(outcome: &Outcome<T, E>, when: W) -> bool
where
    W: FnOnce(&E) -> bool,
{
    match outcome {
        Ok(Err(e)) => when(e),
        _ => false,
    }
}

/// True while `breaker` is open (cooldown not over), or, for an adaptive breaker, throttling
/// (rejecting some calls): a retry above it gives up rather than sleep against it.
#[inline]
pub fn circuit_open<B: OpenCircuit>(breaker: &B) -> bool {
    breaker.circuit_open()
}

/// A breaker a retry above asks before sleeping: see [`circuit_open`].
pub trait OpenCircuit {
    /// True while another attempt now would be turned away, or add load to a failing
    /// dependency the breaker is shedding.
    fn circuit_open(&self) -> bool;
}

impl OpenCircuit for crate::breaker::CircuitBreaker {
    #[inline]
    fn circuit_open(&self) -> bool {
        self.state() == crate::breaker::CircuitState::Open
    }
}

impl<T: OpenCircuit + ?Sized> OpenCircuit for &T {
    #[inline]
    fn circuit_open(&self) -> bool {
        (**self).circuit_open()
    }
}

impl<T: OpenCircuit, F: FnOnce() -> T> OpenCircuit for std::sync::LazyLock<T, F> {
    #[inline]
    fn circuit_open(&self) -> bool {
        (**self).circuit_open()
    }
}

impl OpenCircuit for crate::breaker::AdaptiveBreaker {
    #[inline]
    fn circuit_open(&self) -> bool {
        self.is_throttling()
    }
}

/// An owned argument reused across attempts: cloned for every attempt but the last, which gets
/// the original.
#[derive(Debug)]
pub struct Reuse<T> {
    value: Option<T>,
}

/// An argument passed by value to a function with `#[retry]`: generated code copies it for each
/// attempt with [`RetryArgument::duplicate`], named with every token on the argument's type, so
/// that a missing `Clone` is reported there, once.
#[diagnostic::on_unimplemented(
    message = "`#[retry]` passes `{Self}` by value to every attempt, so it must be `Clone`",
    label = "each attempt but the last gets a clone of this argument",
    note = "derive or implement `Clone` for `{Self}`, take the argument by reference (`&{Self}`), or write `max = 1` to call the function only once",
    note = "if the attribute stands on an `impl` block, `#[resilient::skip]` on this method leaves it out"
)]
pub trait RetryArgument: Sized {
    /// A copy for one attempt.
    fn duplicate(&self) -> Self;
}

impl<T: Clone> RetryArgument for T {
    #[inline]
    fn duplicate(&self) -> Self {
        self.clone()
    }
}

/// An argument whose type is a type parameter of the function (`x: T`, `x: impl Trait`) passed
/// by value to a function with `#[retry]`: as [`RetryArgument`], in the words that fit a bound.
#[diagnostic::on_unimplemented(
    message = "`#[retry]` passes `{Self}` by value to every attempt, so it must be `Clone`",
    label = "each attempt but the last gets a clone of this argument",
    note = "add `Clone` to the bounds of `{Self}`, take the argument by reference (`&{Self}`), or write `max = 1` to call the function only once",
    note = "if the attribute stands on an `impl` block, `#[resilient::skip]` on this method leaves it out"
)]
pub trait RetryGenericArgument: Sized {
    /// A copy for one attempt.
    fn duplicate(&self) -> Self;
}

impl<T: Clone> RetryGenericArgument for T {
    #[inline]
    fn duplicate(&self) -> Self {
        self.clone()
    }
}

/// A receiver taken by value (`self`) by a method with `#[retry]`: as [`RetryArgument`], in the
/// words that fit `self`.
#[diagnostic::on_unimplemented(
    message = "`#[retry]` passes `self` by value to every attempt, so `{Self}` must be `Clone`",
    label = "each attempt but the last gets a clone of `self`",
    note = "derive or implement `Clone` for `{Self}`, take `&self` instead, or write `max = 1` to call the method only once",
    note = "if the attribute stands on an `impl` block, `#[resilient::skip]` on this method leaves it out"
)]
pub trait RetryReceiver: Sized {
    /// A copy for one attempt.
    fn duplicate(&self) -> Self;
}

impl<T: Clone> RetryReceiver for T {
    #[inline]
    fn duplicate(&self) -> Self {
        self.clone()
    }
}

impl<T> Reuse<T> {
    /// Keeps `value` for the attempts to come.
    #[inline]
    pub fn new(value: T) -> Self {
        Self { value: Some(value) }
    }

    /// The value for the coming attempt: a copy made with `duplicate`, or the original when it
    /// is the last. Generated code passes [`RetryArgument::duplicate`],
    /// [`RetryGenericArgument::duplicate`] or [`RetryReceiver::duplicate`] here, at each call
    /// rather than kept in the future: a known fn is inlined, a stored pointer is not.
    #[inline]
    pub fn next(&mut self, last: bool, duplicate: fn(&T) -> T) -> T {
        let value = if last { self.value.take() } else { self.value.as_ref().map(duplicate) };
        value.expect("Reuse::next called after the last attempt")
    }
}

/// The sleep between two attempts, boxed: a retry loop's future holds it across attempts, and a
/// tokio `Sleep` inline (over 100 bytes) would make the future of every call bigger, successes
/// included. One allocation per retry is nothing beside the sleep itself.
pub fn backoff_sleep(delay: std::time::Duration) -> Pin<Box<tokio::time::Sleep>> {
    Box::pin(tokio::time::sleep(delay))
}

/// A stable hash of the arguments an idempotency key stands for, so reusing the key with other
/// arguments can be detected. Same value in every process running the same build.
pub fn fingerprint<H: Hash + ?Sized>(value: &H) -> u64 {
    // `DefaultHasher::new()` uses fixed keys: stable across processes, unlike `RandomState`.
    #[allow(deprecated)]
    let mut hasher = std::hash::SipHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{CircuitOpen, Elapsed};
    use std::time::Duration;

    #[derive(Debug, PartialEq)]
    enum AppError {
        Flaky,
        Fatal,
        Rejected(Error),
    }
    impl From<Error> for AppError {
        fn from(e: Error) -> Self {
            AppError::Rejected(e)
        }
    }
    fn transient(e: &AppError) -> bool {
        matches!(e, AppError::Flaky | AppError::Rejected(_))
    }

    #[test]
    fn retry_verdicts() {
        let timeout: Outcome<(), AppError> =
            Err(Error::Timeout(Elapsed::new("t", Duration::from_secs(1))));
        let open: Outcome<(), AppError> =
            Err(Error::CircuitOpen(CircuitOpen::new("b", Duration::ZERO)));
        let flaky: Outcome<(), AppError> = Ok(Err(AppError::Flaky));
        let fatal: Outcome<(), AppError> = Ok(Err(AppError::Fatal));
        assert!(retryable(&flaky, transient));
        assert!(!retryable(&fatal, transient));
        assert!(!retryable(&Ok::<_, Error>(Ok::<(), AppError>(())), transient));
        assert!(retryable(&timeout, transient));
        assert!(!retryable(&timeout, |e: &AppError| *e == AppError::Flaky));
        assert!(!retryable(&open, transient), "never sleep against an open circuit");
        assert!(retryable_plain(&flaky, every_error));
    }

    #[test]
    fn finish_converts_rejections() {
        let open = Error::CircuitOpen(CircuitOpen::new("b", Duration::ZERO));
        let convert = rejection_into::<AppError>();
        assert_eq!(
            finish::<Result<(), AppError>>(Err(open.clone()), convert),
            Err(AppError::Rejected(open))
        );
        assert_eq!(finish::<Result<u8, AppError>>(Ok(Ok(1)), convert), Ok(1));
    }

    #[test]
    fn reuse_clones_until_the_last() {
        let mut r = Reuse::new(String::from("x"));
        assert_eq!(r.next(false, RetryArgument::duplicate), "x");
        assert_eq!(r.next(false, RetryArgument::duplicate), "x");
        assert_eq!(r.next(true, RetryArgument::duplicate), "x");
    }

    #[test]
    fn fingerprints_are_stable() {
        assert_eq!(fingerprint(&("a", 1)), fingerprint(&("a", 1)));
        assert_ne!(fingerprint(&("a", 1)), fingerprint(&("a", 2)));
    }
}
