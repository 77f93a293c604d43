//! A retry around a sync call: the same policy, waiting with a blocking sleep.

use super::{Attempts, GiveUp, Retry};

impl Retry {
    /// Runs `f` until it succeeds, retrying every error; the delays are blocking sleeps
    /// (`std::thread::sleep`), so call it off async tasks.
    ///
    /// ```
    /// use std::time::Duration;
    /// use resilient_runtime::{backoff::Schedule, retry::Retry};
    ///
    /// let retry = Retry::builder()
    ///     .schedule(Schedule::exponential(Duration::from_millis(1)))
    ///     .build();
    /// let mut calls = 0;
    /// let out: Result<u32, &str> = retry.run_blocking(|| {
    ///     calls += 1;
    ///     if calls < 3 { Err("flaky") } else { Ok(calls) }
    /// });
    /// assert_eq!(out, Ok(3));
    /// ```
    pub fn run_blocking<F, T, E>(&self, f: F) -> Result<T, E>
    where
        F: FnMut() -> Result<T, E>,
    {
        self.run_if_blocking(|_: &E| true, f)
    }

    /// Runs `f` until it succeeds, retrying the errors for which `when` is true, with blocking
    /// sleeps between attempts.
    pub fn run_if_blocking<W, F, T, E>(&self, when: W, mut f: F) -> Result<T, E>
    where
        W: Fn(&E) -> bool,
        F: FnMut() -> Result<T, E>,
    {
        let mut attempts = self.attempts();
        loop {
            let result = {
                let _scope = attempts.enter();
                f()
            };
            match result {
                Ok(v) => {
                    attempts.succeeded();
                    return Ok(v);
                }
                Err(e) => {
                    if attempts.backoff_blocking(when(&e)).is_err() {
                        return Err(e);
                    }
                }
            }
        }
    }
}

impl Attempts<'_> {
    /// Enters the coming attempt's span `attempt` (feature `tracing`) until the returned guard
    /// is dropped: the blocking twin of [`attempt`](Self::attempt), for a sync body.
    #[inline]
    pub fn enter(&self) -> AttemptScope {
        AttemptScope {
            #[cfg(feature = "tracing")]
            _span: crate::observe::events::attempt_span(&self.policy.name, self.attempt + 1)
                .map(tracing::Span::entered),
        }
    }

    /// As [`backoff`](Self::backoff), sleeping the delay with `std::thread::sleep`.
    pub fn backoff_blocking(&mut self, retryable: bool) -> Result<(), GiveUp> {
        let delay = self.next_delay(retryable)?;
        crate::blocking::backoff_sleep(delay);
        Ok(())
    }
}

/// The span of one attempt of a sync call, entered until dropped; see [`Attempts::enter`].
#[must_use = "the attempt's span is left when this is dropped"]
#[derive(Debug)]
pub struct AttemptScope {
    #[cfg(feature = "tracing")]
    /// `None` when no subscriber wants the span: nothing is built, entered or dropped.
    _span: Option<tracing::span::EnteredSpan>,
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::backoff::Schedule;
    use crate::retry::Retry;

    #[test]
    fn gives_up_after_max_attempts() {
        let retry = Retry::builder()
            .max_attempts(3)
            .schedule(Schedule::exponential(Duration::from_micros(10)))
            .budget(None)
            .build();
        let mut calls = 0;
        let out: Result<(), u32> = retry.run_blocking(|| {
            calls += 1;
            Err(calls)
        });
        assert_eq!((out, calls), (Err(3), 3));
    }

    #[test]
    fn when_stops_at_the_first_error_it_rejects() {
        let retry = Retry::builder().schedule(Schedule::exponential(Duration::ZERO)).build();
        let mut calls = 0;
        let out: Result<(), &str> = retry.run_if_blocking(
            |e| *e == "flaky",
            || {
                calls += 1;
                Err(if calls == 1 { "flaky" } else { "fatal" })
            },
        );
        assert_eq!((out, calls), (Err("fatal"), 2));
    }
}
