//! How generated code copies an owned argument for each attempt of a hedged call: the retry's
//! [`Reuse`](crate::pipeline::Reuse), with these traits' words when the argument is not `Clone`.

/// An argument passed by value to a function with `#[hedge]`: generated code copies it for each
/// attempt with [`HedgeArgument::duplicate`], named with every token on the argument's type, so
/// that a missing `Clone` is reported there, once.
#[diagnostic::on_unimplemented(
    message = "`#[hedge]` passes `{Self}` by value to every attempt, so it must be `Clone`",
    label = "a hedge runs alongside the first attempt, each with its own copy of this argument",
    note = "derive or implement `Clone` for `{Self}`, or take the argument by reference (`&{Self}`): attempts running at once can share a reference",
    note = "if the attribute stands on an `impl` block, `#[resilient::skip]` on this method leaves it out"
)]
pub trait HedgeArgument: Sized {
    /// A copy for one attempt.
    fn duplicate(&self) -> Self;
}

impl<T: Clone> HedgeArgument for T {
    #[inline]
    fn duplicate(&self) -> Self {
        self.clone()
    }
}

/// An argument whose type is a type parameter of the function (`x: T`, `x: impl Trait`) passed
/// by value to a function with `#[hedge]`: as [`HedgeArgument`], in the words that fit a bound.
#[diagnostic::on_unimplemented(
    message = "`#[hedge]` passes `{Self}` by value to every attempt, so it must be `Clone`",
    label = "a hedge runs alongside the first attempt, each with its own copy of this argument",
    note = "add `Clone` to the bounds of `{Self}`, or take the argument by reference (`&{Self}`): attempts running at once can share a reference",
    note = "if the attribute stands on an `impl` block, `#[resilient::skip]` on this method leaves it out"
)]
pub trait HedgeGenericArgument: Sized {
    /// A copy for one attempt.
    fn duplicate(&self) -> Self;
}

impl<T: Clone> HedgeGenericArgument for T {
    #[inline]
    fn duplicate(&self) -> Self {
        self.clone()
    }
}

/// A receiver taken by value (`self`) by a method with `#[hedge]`: as [`HedgeArgument`], in the
/// words that fit `self`.
#[diagnostic::on_unimplemented(
    message = "`#[hedge]` passes `self` by value to every attempt, so `{Self}` must be `Clone`",
    label = "a hedge runs alongside the first attempt, each with its own copy of `self`",
    note = "derive or implement `Clone` for `{Self}`, or take `&self` instead: attempts running at once can share it",
    note = "if the attribute stands on an `impl` block, `#[resilient::skip]` on this method leaves it out"
)]
pub trait HedgeReceiver: Sized {
    /// A copy for one attempt.
    fn duplicate(&self) -> Self;
}

impl<T: Clone> HedgeReceiver for T {
    #[inline]
    fn duplicate(&self) -> Self {
        self.clone()
    }
}
