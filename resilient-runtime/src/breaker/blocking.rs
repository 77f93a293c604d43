//! A breaker around a sync call.

use super::CircuitBreaker;
use crate::Error;

impl CircuitBreaker {
    /// Runs `f` through the breaker; every `Err` counts as a failure. While the circuit is open,
    /// `f` is not called and the caller gets `E::from(Error::CircuitOpen(..))`.
    ///
    /// ```
    /// use resilient_runtime::{Error, breaker::{CircuitBreaker, CircuitState}};
    /// use resilient_runtime::error::StoreFailure;
    ///
    /// let breaker = CircuitBreaker::builder().name("docs::sync_db").threshold(1).build();
    /// let _: Result<(), Error> =
    ///     breaker.call_blocking(|| Err(Error::Store(StoreFailure::new("db", "down"))));
    /// assert_eq!(breaker.state(), CircuitState::Open);
    /// let rejected: Result<(), Error> = breaker.call_blocking(|| Ok(()));
    /// assert!(rejected.unwrap_err().is_circuit_open());
    /// ```
    pub fn call_blocking<F, T, E>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce() -> Result<T, E>,
        E: From<Error>,
    {
        self.call_when_blocking(|_: &E| true, f)
    }

    /// Runs `f` through the breaker; only errors for which `when` is true count as failures,
    /// others count as neither failure nor success.
    pub fn call_when_blocking<F, T, E, W>(&self, when: W, f: F) -> Result<T, E>
    where
        F: FnOnce() -> Result<T, E>,
        E: From<Error>,
        W: FnOnce(&E) -> bool,
    {
        let permit = self.try_acquire().map_err(E::from)?;
        // A panic in `f` drops the permit unsettled, which frees a probe slot.
        let result = f();
        match &result {
            Ok(_) => permit.success(),
            Err(e) if when(e) => permit.failure(),
            Err(_) => permit.release(),
        }
        result
    }
}
