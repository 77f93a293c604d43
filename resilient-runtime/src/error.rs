//! The error every policy uses to reject a call, and the details each kind of rejection carries.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A call rejected by a resilience policy rather than failed by the function itself.
///
/// Annotated functions hand it to their caller as their own error type `E`, through
/// `E: From<resilient::Error>`. It is cheap to clone (the policy name is shared).
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// A circuit breaker is open (or half-open with every probe slot taken): the body did not run.
    CircuitOpen(CircuitOpen),
    /// The call did not finish within its timeout (or the caller's deadline); its future was dropped.
    Timeout(Elapsed),
    /// Another call with the same idempotency key is still running in another process.
    IdempotencyInFlight(KeyConflict),
    /// The idempotency key was used before with different arguments.
    IdempotencyKeyReused(KeyConflict),
    /// A shared store (idempotency, rate limit) could not be read or written (for example Redis
    /// is unreachable).
    Store(StoreFailure),
    /// Every place of a bulkhead was taken (and its queue full, or the wait over): the body did
    /// not run.
    BulkheadFull(BulkheadFull),
    /// A rate limit turned the call away: no slot within the time the call could wait.
    RateLimited(RateLimited),
}

/// Details of [`Error::RateLimited`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimited(Box<RateLimitedFields>);

// Boxed so that `Error` is two words: every pipeline carries an `Error` in its outcome
// type, and a smaller outcome is moved in registers rather than copied through memory.
#[derive(Clone, Debug, PartialEq, Eq)]
struct RateLimitedFields {
    policy: PolicyName,
    retry_after: Duration,
}

impl RateLimited {
    /// Builds the details: the limiter's name and how long until a slot frees.
    pub fn new(policy: impl Into<PolicyName>, retry_after: Duration) -> Self {
        Self(Box::new(RateLimitedFields { policy: policy.into(), retry_after }))
    }

    /// How long until the limiter admits a call again (a call made then is admitted unless
    /// another takes the slot first).
    pub fn retry_after(&self) -> Duration {
        self.0.retry_after
    }
}

/// Details of [`Error::CircuitOpen`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CircuitOpen(Box<CircuitOpenFields>);

// Boxed, as `RateLimited`'s are.
#[derive(Clone, Debug, PartialEq, Eq)]
struct CircuitOpenFields {
    policy: PolicyName,
    retry_after: Duration,
}

impl CircuitOpen {
    /// Builds the details: the breaker's name and how long until it lets probes through.
    pub fn new(policy: impl Into<PolicyName>, retry_after: Duration) -> Self {
        Self(Box::new(CircuitOpenFields { policy: policy.into(), retry_after }))
    }

    /// How long until the breaker lets probe calls through (zero when half-open and full).
    pub fn retry_after(&self) -> Duration {
        self.0.retry_after
    }
}

/// Details of [`Error::Timeout`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Elapsed(Box<ElapsedFields>);

// Boxed, as `RateLimited`'s are.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ElapsedFields {
    policy: PolicyName,
    after: Duration,
    learning: bool,
}

impl Elapsed {
    /// Builds the details: the timeout's name and the duration that applied.
    pub fn new(policy: impl Into<PolicyName>, after: Duration) -> Self {
        Self(Box::new(ElapsedFields { policy: policy.into(), after, learning: false }))
    }

    /// The limit was an adaptive one, learned (warm-up over) and below its `max`: the call was
    /// slower than the function has lately been, and its censored sample raises the limit (a
    /// latency shift the timeout is learning). A circuit breaker with `timeouts = "settled"`
    /// ([`Timeouts::Settled`](crate::breaker::Timeouts::Settled)) does not count such a timeout
    /// as a failure; by default (`"all"`) every timeout counts, as do, in either case, one at
    /// `max`, at `initial` during the warm-up, or of a fixed timeout.
    pub fn is_learning(&self) -> bool {
        self.0.learning
    }

    pub(crate) fn learning(mut self, learning: bool) -> Self {
        self.0.learning = learning;
        self
    }

    /// The time limit that applied to the call (the smaller of its own and the caller's deadline).
    pub fn after(&self) -> Duration {
        self.0.after
    }
}

/// Details of [`Error::IdempotencyInFlight`] and [`Error::IdempotencyKeyReused`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyConflict(Box<KeyConflictFields>);

// Boxed, as `RateLimited`'s are.
#[derive(Clone, Debug, PartialEq, Eq)]
struct KeyConflictFields {
    policy: PolicyName,
    key: Arc<str>,
}

impl KeyConflict {
    /// Builds the details: the policy's name and the key concerned.
    pub fn new(policy: impl Into<PolicyName>, key: impl Into<Arc<str>>) -> Self {
        Self(Box::new(KeyConflictFields { policy: policy.into(), key: key.into() }))
    }

    /// The idempotency key concerned.
    pub fn key(&self) -> &str {
        &self.0.key
    }
}

/// Details of [`Error::Store`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreFailure(Box<StoreFailureFields>);

// Boxed, as `RateLimited`'s are.
#[derive(Clone, Debug, PartialEq, Eq)]
struct StoreFailureFields {
    policy: PolicyName,
    message: Arc<str>,
}

impl StoreFailure {
    /// Builds the details: the policy's name and what went wrong.
    pub fn new(policy: impl Into<PolicyName>, message: impl Into<Arc<str>>) -> Self {
        Self(Box::new(StoreFailureFields { policy: policy.into(), message: message.into() }))
    }

    /// What went wrong, as the store reported it.
    pub fn message(&self) -> &str {
        &self.0.message
    }
}

/// Details of [`Error::BulkheadFull`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BulkheadFull(Box<BulkheadFullFields>);

// Boxed, as `RateLimited`'s are.
#[derive(Clone, Debug, PartialEq, Eq)]
struct BulkheadFullFields {
    policy: PolicyName,
    limit: u32,
    waited: Duration,
}

impl BulkheadFull {
    /// Builds the details: the bulkhead's name, its limit then, and how long the call waited.
    pub fn new(policy: impl Into<PolicyName>, limit: u32, waited: Duration) -> Self {
        Self(Box::new(BulkheadFullFields { policy: policy.into(), limit, waited }))
    }

    /// The most calls the bulkhead let run at once when it rejected this one.
    pub fn limit(&self) -> u32 {
        self.0.limit
    }

    /// How long the call waited in the queue before it was rejected (zero when it was rejected
    /// at once: no queue, or the queue full).
    pub fn waited(&self) -> Duration {
        self.0.waited
    }
}

/// The name of a policy: a `&'static str` for policies the attributes declare, shared otherwise.
/// Cloning never allocates.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PolicyName(NameRepr);

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum NameRepr {
    Static(&'static str),
    Shared(Arc<str>),
}

impl PolicyName {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            NameRepr::Static(s) => s,
            NameRepr::Shared(s) => s,
        }
    }
}

impl From<&'static str> for PolicyName {
    fn from(s: &'static str) -> Self {
        Self(NameRepr::Static(s))
    }
}

impl From<String> for PolicyName {
    fn from(s: String) -> Self {
        Self(NameRepr::Shared(s.into()))
    }
}

impl From<Arc<str>> for PolicyName {
    fn from(s: Arc<str>) -> Self {
        Self(NameRepr::Shared(s))
    }
}

impl fmt::Debug for PolicyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for PolicyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for PolicyName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Error {
    /// True for [`Error::CircuitOpen`].
    pub fn is_circuit_open(&self) -> bool {
        matches!(self, Error::CircuitOpen(_))
    }

    /// True for [`Error::Timeout`].
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout(_))
    }

    /// True for [`Error::BulkheadFull`].
    pub fn is_bulkhead_full(&self) -> bool {
        matches!(self, Error::BulkheadFull(_))
    }

    /// The name of the policy that rejected the call (by default `module::path::function` or
    /// `module::path::Type::method`).
    pub fn policy(&self) -> &str {
        match self {
            Error::CircuitOpen(d) => d.0.policy.as_str(),
            Error::Timeout(d) => d.0.policy.as_str(),
            Error::IdempotencyInFlight(d) | Error::IdempotencyKeyReused(d) => d.0.policy.as_str(),
            Error::Store(d) => d.0.policy.as_str(),
            Error::BulkheadFull(d) => d.0.policy.as_str(),
            Error::RateLimited(d) => d.0.policy.as_str(),
        }
    }

    /// True for [`Error::RateLimited`].
    pub fn is_rate_limited(&self) -> bool {
        matches!(self, Error::RateLimited(_))
    }

    /// How long until the policy that rejected the call would let one through: a rate limit's
    /// next slot, an open circuit's end of cooldown. `None` for other errors.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited(d) => Some(d.0.retry_after),
            Error::CircuitOpen(d) => Some(d.0.retry_after),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::CircuitOpen(d) => {
                write!(
                    f,
                    "circuit breaker `{}` is open; retry in {:?}",
                    d.0.policy, d.0.retry_after
                )
            }
            Error::Timeout(d) => write!(f, "`{}` timed out after {:?}", d.0.policy, d.0.after),
            Error::IdempotencyInFlight(d) => write!(
                f,
                "`{}`: a call with idempotency key `{}` is still in flight",
                d.0.policy, d.0.key
            ),
            Error::IdempotencyKeyReused(d) => write!(
                f,
                "`{}`: idempotency key `{}` was used before with different arguments",
                d.0.policy, d.0.key
            ),
            Error::Store(d) => write!(f, "`{}`: shared store failed: {}", d.0.policy, d.0.message),
            Error::BulkheadFull(d) => {
                let calls = if d.0.limit == 1 { "call" } else { "calls" };
                write!(f, "bulkhead `{}` is full ({} {calls} at once)", d.0.policy, d.0.limit)?;
                if !d.0.waited.is_zero() {
                    write!(f, "; waited {:?}", d.0.waited)?;
                }
                Ok(())
            }
            Error::RateLimited(d) => {
                write!(f, "`{}` is over its rate limit; retry in {:?}", d.0.policy, d.0.retry_after)
            }
        }
    }
}

impl std::error::Error for Error {}

impl From<Error> for std::io::Error {
    /// A timeout becomes [`std::io::ErrorKind::TimedOut`], a call still in flight elsewhere
    /// [`std::io::ErrorKind::ResourceBusy`], anything else [`std::io::ErrorKind::Other`]; the
    /// [`Error`] stays reachable as the source. A full bulkhead is `Other`, not `WouldBlock`:
    /// non-blocking I/O code takes `WouldBlock` as "poll again when ready" and could spin on it.
    fn from(e: Error) -> Self {
        let kind = match &e {
            Error::Timeout(_) => std::io::ErrorKind::TimedOut,
            Error::IdempotencyInFlight(_) => std::io::ErrorKind::ResourceBusy,
            _ => std::io::ErrorKind::Other,
        };
        std::io::Error::new(kind, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_traits<T: std::error::Error + Clone + Send + Sync + 'static>() {}

    #[test]
    fn an_error_is_two_words_so_outcomes_move_in_registers() {
        // Every pipeline's outcome holds an `Error`; at 56 bytes (the details inline) a closed
        // breaker's success path cost 9 ns instead of 2.6, most of it copying the outcome.
        assert_eq!(std::mem::size_of::<Error>(), 16);
        assert_eq!(std::mem::size_of::<Result<u64, Error>>(), 16);
    }

    #[test]
    fn error_is_a_well_behaved_error_type() {
        assert_traits::<Error>();
        let e = Error::Timeout(Elapsed::new("svc::get", Duration::from_millis(250)));
        assert!(e.is_timeout() && !e.is_circuit_open());
        assert_eq!(e.policy(), "svc::get");
        assert_eq!(e.to_string(), "`svc::get` timed out after 250ms");
        let io: std::io::Error = e.clone().into();
        assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
        let boxed: Box<dyn std::error::Error + Send + Sync> = e.into();
        assert!(boxed.to_string().contains("timed out"));
    }

    #[test]
    fn bulkhead_full_names_the_bulkhead_and_its_limit() {
        let e = Error::BulkheadFull(BulkheadFull::new("db", 10, Duration::ZERO));
        assert!(e.is_bulkhead_full() && !e.is_timeout() && !e.is_circuit_open());
        assert_eq!(e.policy(), "db");
        assert_eq!(e.to_string(), "bulkhead `db` is full (10 calls at once)");
        let waited = Error::BulkheadFull(BulkheadFull::new("db", 1, Duration::from_millis(50)));
        assert_eq!(waited.to_string(), "bulkhead `db` is full (1 call at once); waited 50ms");
        let io: std::io::Error = e.into();
        assert_eq!(io.kind(), std::io::ErrorKind::Other);
    }

    #[test]
    fn circuit_open_names_breaker_and_wait() {
        let e = Error::CircuitOpen(CircuitOpen::new(String::from("db"), Duration::from_secs(3)));
        assert!(e.is_circuit_open());
        assert_eq!(e.policy(), "db");
        assert_eq!(e.to_string(), "circuit breaker `db` is open; retry in 3s");
        let io: std::io::Error = e.into();
        assert_eq!(io.kind(), std::io::ErrorKind::Other);
    }
}
