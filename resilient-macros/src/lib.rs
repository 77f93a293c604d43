//! Attribute macros for [`resilient`](https://docs.rs/resilient). Use them through the facade
//! crate, which documents them and re-exports everything they need.

mod args;
mod duration;
mod errors;
mod expand;
mod item;
mod layers;
#[cfg(test)]
mod no_panic_tests;

use proc_macro::TokenStream;

use layers::Kind;

/// Retries the function on error with backoff, jitter and a retry budget. See the `resilient`
/// crate docs.
#[proc_macro_attribute]
pub fn retry(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::attribute(Kind::Retry, args.into(), item.into()).into()
}

/// Wraps the function in a circuit breaker. See the `resilient` crate docs.
#[proc_macro_attribute]
pub fn circuit_breaker(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::attribute(Kind::CircuitBreaker, args.into(), item.into()).into()
}

/// Bounds the function's running time, fixed or adaptive (`"p99*2"`). See the `resilient` crate
/// docs.
#[proc_macro_attribute]
pub fn timeout(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::attribute(Kind::Timeout, args.into(), item.into()).into()
}

/// Answers repeated calls with the same idempotency key once. See the `resilient` crate docs.
#[proc_macro_attribute]
pub fn idempotent(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::attribute(Kind::Idempotent, args.into(), item.into()).into()
}

/// At most so many calls at once, fixed or adaptive (`max = "adaptive"`), with an optional
/// FIFO queue. See the `resilient` crate docs.
#[proc_macro_attribute]
pub fn bulkhead(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::attribute(Kind::Bulkhead, args.into(), item.into()).into()
}

/// Answers the function's errors with a fallback function. See the `resilient` crate docs.
#[proc_macro_attribute]
pub fn fallback(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::attribute(Kind::Fallback, args.into(), item.into()).into()
}

/// Hedges slow calls: another attempt starts alongside one that has not answered after `after`;
/// the first success wins. See the `resilient` crate docs.
#[proc_macro_attribute]
pub fn hedge(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::attribute(Kind::Hedge, args.into(), item.into()).into()
}

/// Leaves a method out of the resilient attributes on its `impl` block. A no-op anywhere else.
/// See the `resilient` crate docs.
#[proc_macro_attribute]
pub fn skip(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::skip(args.into(), item.into()).into()
}

/// Limits the function to N calls per second, minute or hour (`"100/s"`), in process or for a
/// whole fleet. See the `resilient` crate docs.
#[proc_macro_attribute]
pub fn rate_limit(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::attribute(Kind::RateLimit, args.into(), item.into()).into()
}
