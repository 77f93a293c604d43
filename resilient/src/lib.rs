//! Declarative resilience for async Rust.
//!
//! Annotate an `async fn` and it survives a failing world: [`retry`] backs off with jitter
//! under a retry budget, [`circuit_breaker`] stops calls into a dead dependency, [`timeout`]
//! adapts to the latency the function really sees (`"p99*2"`), and [`idempotent`] answers
//! duplicate requests once. [`hedge`] starts a second attempt beside a call slower than its p95.
//! Signatures stay as they are; callers change nothing.
//! adapts to the latency the function really sees (`"p99*2"`), [`idempotent`] answers
//! duplicate requests once, and [`rate_limit`] keeps calls to `"N/s"`, per user or for a whole
//! fleet. Signatures stay as they are; callers change nothing.
//!
//! ```
//! use resilient::retry;
//!
//! #[derive(Debug)]
//! enum AppError { Unavailable, NotFound }
//!
//! fn is_transient(e: &AppError) -> bool {
//!     matches!(e, AppError::Unavailable)
//! }
//!
//! #[retry(max = 3, backoff = "exp", base = "100ms", jitter = 0.1, when = is_transient)]
//! async fn get_user(id: u64) -> Result<String, AppError> {
//!     if id == 0 { return Err(AppError::NotFound) }
//!     Ok(format!("user {id}"))
//! }
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! assert_eq!(get_user(7).await.unwrap(), "user 7");
//! # }
//! ```
//!
//! # The error contract
//!
//! Annotated functions return `Result<T, E>`, spelled any way. When a policy itself turns a call
//! away (an open circuit, a timeout, a duplicate in flight) the caller gets it as `E`, through
//! `E: From<resilient::Error>`; `anyhow::Error`, `Box<dyn Error + Send + Sync>` and
//! `std::io::Error` need no code. `#[retry]` alone never rejects, so it needs no `From`.
//!
//! # Whole impl blocks
//!
//! Any of the attributes may stand on an `impl` block, inherent or trait (`#[async_trait]` too,
//! above or below it). It applies to every `async fn` in the block as if written on each, above
//! the method's own attributes, and fuses with them into one pipeline; each method keeps its own
//! policy and name (`module::path::Type::method`). A method's own attribute of the same kind
//! replaces the block's; [`skip`] leaves a method out; sync fns are left as they are.
//!
//! ```
//! use resilient::{circuit_breaker, retry};
//!
//! #[derive(Debug)]
//! enum NetError { Down, Rejected(resilient::Error) }
//! impl From<resilient::Error> for NetError {
//!     fn from(e: resilient::Error) -> Self { NetError::Rejected(e) }
//! }
//!
//! struct Client;
//!
//! #[retry(max = 2, base = "10ms")]
//! #[circuit_breaker(threshold = 5)]
//! impl Client {
//!     async fn get(&self, key: &str) -> Result<String, NetError> { Ok(key.to_owned()) }
//!
//!     #[retry(max = 5, base = "10ms")] // replaces the block's retry; the breaker stays
//!     async fn put(&self, key: &str) -> Result<(), NetError> { Err(NetError::Down) }
//!
//!     fn endpoint(&self) -> &'static str { "127.0.0.1:6379" } // sync: left as it is
//! }
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! assert_eq!(Client.get("k").await.unwrap(), "k");
//! assert!(Client.put("k").await.is_err());
//! # }
//! ```
//!
//! # Sync fns
//!
//! [`retry`] and [`circuit_breaker`] also work on a plain `fn` returning `Result` (diesel, a
//! blocking HTTP client): the same policies, names, registry and configuration, with the delays
//! between attempts slept by `std::thread::sleep`. Like any blocking call, such a fn blocks the
//! thread it runs on: call it from async code through `tokio::task::spawn_blocking`.
//! [`timeout`] and [`idempotent`] on a sync fn are compile errors that say why (a blocking call
//! cannot be interrupted; the idempotency stores are async).
//!
//! ```
//! use resilient::{circuit_breaker, retry};
//!
//! #[retry(max = 3, base = "1ms")]
//! #[circuit_breaker(threshold = 5)]
//! fn load(path: &str) -> std::io::Result<String> {
//!     std::fs::read_to_string(path)
//! }
//!
//! assert!(load("/no/such/file").is_err());
//! ```
//!
//! # Without macros
//!
//! Every policy is usable by hand from [`runtime`]; the attributes generate calls into exactly
//! those types.

/// Retries the function on error, with backoff, jitter and a retry budget.
///
/// ```
/// # use std::sync::atomic::{AtomicU32, Ordering};
/// #[derive(Debug, PartialEq)]
/// enum AppError { Busy, Invalid }
///
/// static CALLS: AtomicU32 = AtomicU32::new(0);
///
/// #[resilient::retry(max = 4, backoff = "exp", base = "10ms", jitter = "full",
///                    when = |e| *e == AppError::Busy, budget = "20%")]
/// async fn save(record: &str) -> Result<usize, AppError> {
///     if record.is_empty() { return Err(AppError::Invalid) }        // not retried
///     if CALLS.fetch_add(1, Ordering::SeqCst) < 2 { return Err(AppError::Busy) } // retried
///     Ok(record.len())
/// }
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// assert_eq!(save("abc").await, Ok(3));
/// assert_eq!(save("").await, Err(AppError::Invalid));
/// # }
/// ```
///
/// Keys: `max` (attempts in all, default 3), `backoff` (`"exp"`, `"fixed"`, `"linear"`,
/// `"decorrelated"`), `base` (default `"100ms"`), `max_delay` (default `"10s"`), `jitter` (a
/// fraction, `"full"`, `"equal"` or `"none"`; default `0.1`), `when` (any `Fn(&E) -> bool`),
/// `budget` (`"20%"` by default, or `"off"`), `name`, `per` with `max_partitions` (a budget per
/// value, see [`partition`]). Owned arguments are cloned for each attempt but the last; `&mut`
/// arguments and `&mut self` are reborrowed.
#[doc(inline)]
pub use resilient_macros::retry;

/// Runs the function behind a circuit breaker: closed → open → half-open → closed.
///
/// ```
/// #[derive(Debug)]
/// enum DbError { Down, Rejected(resilient::Error) }
/// impl From<resilient::Error> for DbError {
///     fn from(e: resilient::Error) -> Self { DbError::Rejected(e) }
/// }
///
/// #[resilient::circuit_breaker(threshold = 2, window = "30s", cooldown = "10s")]
/// async fn query() -> Result<u32, DbError> {
///     Err(DbError::Down)
/// }
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// assert!(matches!(query().await, Err(DbError::Down)));
/// assert!(matches!(query().await, Err(DbError::Down)));
/// // Open now: the body does not run.
/// assert!(matches!(query().await, Err(DbError::Rejected(e)) if e.is_circuit_open()));
/// # }
/// ```
///
/// Keys: `threshold` (default 5), `window` (default `"30s"`), `cooldown` (default `"10s"`),
/// `probes` (default 1), `failure_rate` with `min_calls` (alternative trip rule), `when`, `name`
/// (functions naming the same breaker share it), `per` with `max_partitions` (a breaker per
/// value, such as per server address: see [`partition`]), `timeouts` (both modes: `"all"`, the
/// default, counts every timeout of an inner `#[timeout]` as a failure; `"settled"` does not
/// count one at a learned adaptive limit below its `max`, a limit still learning a latency
/// shift: see [`runtime::breaker::Timeouts`]).
///
/// `mode = "adaptive"` replaces the state machine with client-side throttling (Google SRE
/// book): each call is rejected with probability max(0, (requests − k·accepts) / (requests + 1))
/// over `window`, at most `max_rejection`; no cooldown. Keys: `k` (default 2.0), `window`,
/// `min_rps` (default 1.0: below it nothing is rejected), `max_rejection` (default 0.9), `when`,
/// `name`, `per`; the open/closed keys are compile errors there. See
/// [`runtime::breaker::AdaptiveBreaker`].
///
/// ```
/// # #[derive(Debug)] enum DbError { Down, Rejected(resilient::Error) }
/// # impl From<resilient::Error> for DbError {
/// #     fn from(e: resilient::Error) -> Self { DbError::Rejected(e) }
/// # }
/// #[resilient::circuit_breaker(mode = "adaptive", k = 2.0, window = "60s")]
/// async fn search() -> Result<u32, DbError> {
///     Ok(7)
/// }
/// ```
#[doc(inline)]
pub use resilient_macros::circuit_breaker;

/// Bounds the function's running time: a fixed duration, or adaptive `"pNN*K"`.
///
/// ```
/// #[resilient::timeout("p99*2", initial = "1s", min = "5ms", max = "5s")]
/// async fn fetch() -> std::io::Result<u32> {
///     tokio::time::sleep(std::time::Duration::from_secs(2)).await;
///     Ok(1)
/// }
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// // Until 100 samples exist, `initial` applies.
/// assert_eq!(fetch().await.unwrap_err().kind(), std::io::ErrorKind::TimedOut);
/// # }
/// ```
///
/// Keys (adaptive rules only): `initial`, `min`, `max`, `warmup` (samples, default 100),
/// `window` (default `"60s"`), `per` with `max_partitions` (a latency histogram per value, see
/// [`partition`]); and `name`. The timeout sets the deadline nested calls see
/// ([`deadline`]).
///
/// On expiry the body is dropped at the `.await` it reached: on a `&mut self` connection that
/// can be mid-request, and the next call would read the late answer. Such functions (a `&mut`
/// receiver or argument) get a compile-time warning until the timeout names `on_cancel = path`
/// (a sync fn called with the receiver, or the `&mut` argument, after the body was dropped and
/// before the error goes up: make it drop the connection) or states `cancel_safe = true`.
#[doc(inline)]
pub use resilient_macros::timeout;

/// Answers repeated calls with the same idempotency key once.
///
/// ```
/// use resilient::IdempotencyKey;
///
/// #[derive(Clone, Debug, PartialEq)]
/// struct Receipt(u64);
///
/// #[resilient::idempotent(ttl = "24h")]
/// async fn charge(idempotency_key: IdempotencyKey, cents: u64) -> Result<Receipt, resilient::Error> {
///     Ok(Receipt(cents))
/// }
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let key = IdempotencyKey::new();
/// let first = charge(key, 500).await.unwrap();
/// assert_eq!(charge(key, 500).await.unwrap(), first); // answered from the store
/// # }
/// ```
///
/// Keys: `key` (any `Display` expression over the arguments; default: the argument of type
/// [`IdempotencyKey`] or named `idempotency_key`), `ttl` (default `"24h"`), `fingerprint` (a
/// `Hash` expression: the same key with other arguments is an error), `store` (a shared store
/// registered with `runtime::idempotency::register_store`), `max_entries`, `wait_in_flight`,
/// `on_store_error` (`"fail"`, the default, or `"local"`: what a call gets when the shared store
/// fails), `name`. The `Ok` type must be `Clone` (in process) or serde (shared store).
#[doc(inline)]
pub use resilient_macros::idempotent;

/// Lets at most so many calls of the function run at once; the rest wait in a FIFO queue for a
/// while, or are rejected with [`Error::BulkheadFull`].
///
/// ```
/// #[resilient::bulkhead(max = 1)]
/// async fn query() -> Result<u32, resilient::Error> {
///     tokio::time::sleep(std::time::Duration::from_secs(1)).await;
///     Ok(1)
/// }
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// let (first, second) = tokio::join!(query(), query());
/// assert_eq!(first, Ok(1));
/// assert!(second.unwrap_err().is_bulkhead_full()); // the one place was taken
/// # }
/// ```
///
/// Keys: `max` (the most calls at once, default 10, or `"adaptive"`), `queue` (calls that may
/// wait, default 0) with `wait` (how long, e.g. `"100ms"`), and for `max = "adaptive"`: `min`
/// (default 1), `limit` (default 1000), `initial` (default 20). Also `name` (functions naming
/// the same bulkhead share its places) and `per` with `max_partitions` (a bulkhead per value,
/// see [`partition`]). A cancelled call, running or waiting, frees its place. An adaptive limit
/// follows the dependency's latency with a gradient controller: see
/// [`runtime::bulkhead`]. Put it innermost (below `#[timeout]`)
/// so that it counts the calls actually running against the dependency.
#[doc(inline)]
pub use resilient_macros::bulkhead;

/// Answers the function's errors with a fallback function: when the layers inside return
/// `Err(e)`, the caller gets `f(e)`.
///
/// ```
/// use resilient::{circuit_breaker, fallback};
///
/// #[derive(Debug, PartialEq)]
/// enum AppError { Down, NotFound, Rejected(resilient::Error) }
/// impl From<resilient::Error> for AppError {
///     fn from(e: resilient::Error) -> Self { AppError::Rejected(e) }
/// }
///
/// fn is_outage(e: &AppError) -> bool { !matches!(e, AppError::NotFound) }
///
/// async fn cached_price(_e: AppError) -> Result<u32, AppError> { Ok(100) } // async or not
///
/// #[fallback(cached_price, on = is_outage)] // outermost: it also answers the breaker's rejections
/// #[circuit_breaker(threshold = 2)]
/// async fn price(item: u32) -> Result<u32, AppError> {
///     if item == 0 { return Err(AppError::NotFound) }
///     Err(AppError::Down)
/// }
///
/// struct Catalog { last: u32 }
///
/// impl Catalog {
///     fn last_known(&self, _e: AppError) -> Result<u32, AppError> { Ok(self.last) }
///
///     #[fallback(self.last_known)] // a method called on the receiver
///     async fn price(&self) -> Result<u32, AppError> { Err(AppError::Down) }
/// }
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// assert_eq!(price(7).await, Ok(100));
/// assert_eq!(price(0).await, Err(AppError::NotFound)); // `on` said no
/// assert_eq!(Catalog { last: 90 }.price().await, Ok(90));
/// # }
/// ```
///
/// The first argument names the fallback: a path to a fn (`cached_price`, `Self::cached`,
/// `cache::get::<User>`), sync `fn(E) -> Result<T, E>` or `async fn(E) -> Result<T, E>` with the
/// annotated function's `T` and `E`; or `self.method` in a method with `&self` or `&mut self`,
/// called on the receiver once the layers inside are done with it (`&mut self` is reborrowed
/// for them). Any other signature is a compile error at the fallback that shows the one
/// expected. Keys: `on` (any `Fn(&E) -> bool`: the errors answered; others reach the caller),
/// `name`. Rejections of the layers inside (open circuit, timeout) reach the fallback as `E`
/// through `From<resilient::Error>`. Stateless: no `per`. Configuration: `enabled = false`.
#[doc(inline)]
pub use resilient_macros::fallback;

/// Leaves a method out of the resilient attributes on its `impl` block.
///
/// An attribute on an `impl` block applies to every `async fn` in it
/// ([whole impl blocks](crate#whole-impl-blocks)); `#[resilient::skip]` on a method leaves it as
/// written (its own resilient attributes still apply). Anywhere else it does nothing. It takes
/// no arguments, and is recognised as `#[resilient::skip]`, `#[::resilient::skip]` or, imported,
/// `#[skip]`.
///
/// ```
/// #[derive(Debug)]
/// struct Down;
/// impl From<resilient::Error> for Down {
///     fn from(_: resilient::Error) -> Self { Down }
/// }
///
/// struct Client;
///
/// #[resilient::circuit_breaker(threshold = 1)]
/// impl Client {
///     async fn get(&self) -> Result<u32, Down> { Err(Down) }
///
///     #[resilient::skip] // a health check must see the dependency, not the breaker
///     async fn ping(&self) -> Result<u32, Down> { Err(Down) }
///
///     #[resilient::skip] // does not return a `Result`: the breaker could not take it
///     async fn label(&self) -> &'static str { "client" }
/// }
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// let client = Client;
/// assert!(client.get().await.is_err());
/// assert!(client.get().await.is_err()); // rejected by the open breaker
/// assert!(client.ping().await.is_err()); // runs: no breaker
/// assert_eq!(client.label().await, "client");
/// # }
/// ```
#[doc(inline)]
pub use resilient_macros::skip;

/// Hedges slow calls: when the call has not answered after `after`, another attempt starts
/// alongside it; the first success wins and the others are dropped (cancelled).
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::time::Duration;
///
/// static ATTEMPTS: AtomicU32 = AtomicU32::new(0);
///
/// #[resilient::hedge(after = "50ms", max = 2)]
/// async fn read(key: &str) -> Result<String, std::io::Error> {
///     // The first attempt is stuck on a slow replica; the hedge is not.
///     let slow = ATTEMPTS.fetch_add(1, Ordering::SeqCst) == 0;
///     tokio::time::sleep(Duration::from_millis(if slow { 5_000 } else { 10 })).await;
///     Ok(key.to_owned())
/// }
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// let started = tokio::time::Instant::now();
/// assert_eq!(read("k").await.unwrap(), "k");
/// assert_eq!(started.elapsed(), Duration::from_millis(60)); // 50 ms, then the hedge's 10 ms
/// # }
/// ```
///
/// Keys: `after` (a percentile of recent successful latencies like `"p95"`, the default, or a
/// duration like `"50ms"`), `max` (attempts in all, the first included, from 2 to 10; default
/// 2), `budget` (the share of calls hedges may add, `"10%"` by default, or `"off"`), `warmup`
/// (samples before a percentile is trusted, default 100; no hedges before) and `window`
/// (default `"60s"`) for a percentile `after`, `name`, `per` with `max_partitions` (a histogram
/// and budget per value, see [`partition`]).
///
/// **Hedging repeats the call**: put it only on operations that are safe to run twice (reads,
/// idempotent writes). Owned arguments are cloned for each attempt but the last allowed;
/// references are shared by the attempts, which run at once in the caller's task. A `&mut`
/// argument or `&mut self` is a compile error (attempts running at once cannot share it), and
/// so is a sync `fn`. An attempt's error does not end the call while another attempt runs; when
/// all fail the call returns the error of the one that finished last; a first attempt that
/// fails before any hedge started returns its error at once (hedging is for slow calls; put
/// `#[retry]` above for failed ones). See `docs/hedging.md`.
#[doc(inline)]
pub use resilient_macros::hedge;
/// Limits the function to N calls per second, minute or hour: GCRA, in process or fleet-wide.
///
/// ```
/// use std::time::Duration;
///
/// #[derive(Debug)]
/// enum ApiError { Limited(resilient::Error) }
/// impl From<resilient::Error> for ApiError {
///     fn from(e: resilient::Error) -> Self { ApiError::Limited(e) }
/// }
///
/// #[resilient::rate_limit("2/s")]
/// async fn search(q: &str) -> Result<usize, ApiError> {
///     Ok(q.len())
/// }
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// assert!(search("a").await.is_ok());
/// assert!(search("b").await.is_ok()); // a burst of 2 (the rate's N)
/// let Err(ApiError::Limited(e)) = search("c").await else { panic!() };
/// assert!(e.is_rate_limited());
/// assert_eq!(e.retry_after(), Some(Duration::from_millis(500)));
/// # }
/// ```
///
/// The first argument is the rate: `"N/s"`, `"N/m"` or `"N/h"`. Keys: `burst` (calls admitted
/// at once after a quiet spell; default N), `wait` (how long a call over the limit may wait for
/// its slot; default `"0ms"`: rejected at once with [`Error::RateLimited`], whose
/// [`retry_after`](Error::retry_after) says when a slot frees), `per` with `max_partitions` (a
/// limit per value, like `per = user.id`: see [`partition`]), `store` (a shared store registered
/// with `runtime::rate_limit::register_store`: one limit for every instance; with `per`, one per
/// value, keyed by its `Debug` text), `on_store_error`
/// (`"fail"`, the default, or `"local"`: what a call gets when the shared store fails), `name`.
#[doc(inline)]
pub use resilient_macros::rate_limit;

pub use resilient_runtime::idempotency::IdempotencyKey;
pub use resilient_runtime::{Error, config, deadline, observe, partition, registry, rng};

/// The policies, schedules and stores behind the attributes, usable without macros.
pub mod runtime {
    pub use resilient_runtime::bulkhead;
    pub use resilient_runtime::fallback;
    pub use resilient_runtime::hedge;
    pub use resilient_runtime::{
        Outcome, backoff, breaker, cancel, error, idempotency, pipeline, retry, timeout,
    };
    pub use resilient_runtime::{clock, rate_limit};
}

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// What generated code names. Not public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use resilient_runtime::backoff::{Backoff, Jitter, Schedule};
    pub use resilient_runtime::breaker::{
        AdaptiveBreaker, AdaptiveSettings, BreakerSettings, CircuitBreaker,
    };
    pub use resilient_runtime::bulkhead::{Bulkhead, BulkheadSettings, Limit as BulkheadLimit};
    pub use resilient_runtime::cancel::{on_cancel, timed_out};
    pub use resilient_runtime::fallback::{Fallback, FallbackOutput, SyncFallbackOutput, Taken};
    pub use resilient_runtime::hedge::{
        Hedge, HedgeAfter, HedgeArgument, HedgeGenericArgument, HedgeReceiver,
        default_budget as default_hedge_budget,
    };
    pub use resilient_runtime::idempotency::{
        Begin as IdempotencyBegin, Idempotency, Key as IdempotencyKeyText, KeyArg, KeyByDisplay,
        KeyByNothing, KeyByText, OnStoreError, Pending as IdempotencyPending, key_is_display,
    };
    pub use resilient_runtime::name::default_name;
    pub use resilient_runtime::partition::{
        DEFAULT_MAX_PARTITIONS, NoLabel, Partitioned, label_of,
    };
    pub use resilient_runtime::pipeline::*;
    pub use resilient_runtime::rate_limit::{RateLimiter, store_key};
    pub use resilient_runtime::retry::{Attempts, BudgetSettings, Retry};
    pub use resilient_runtime::timeout::Timeout;
    pub use std::sync::LazyLock;

    /// The marker a fused expansion leaves for later resilient attributes; expands to nothing.
    #[macro_export]
    #[doc(hidden)]
    macro_rules! __resilient_fused {
        ($($tokens:tt)*) => {};
    }
    pub use __resilient_fused as fused;
    pub use resilient_runtime::blocking;
    pub use resilient_runtime::breaker::Timeouts as BreakerTimeouts;
}
