//! The `tracing` events of every policy (feature `tracing`), each with the fields `policy` and
//! `kind`. Per-call events and rejections are at `debug`, state changes at `info` or `warn`.
//! Without the feature every function here is empty.

#![cfg_attr(not(feature = "tracing"), allow(unused_variables))]

use std::fmt::Display;
use std::time::Duration;

#[cfg(feature = "tracing")]
use super::names::kind;
use crate::error::PolicyName;

/// The span each retry attempt runs in, so the body's own events say which attempt they belong
/// to (`attempt` counts from 1). At `debug`: enable the target `resilient_runtime` at `debug`
/// to see it. `None` when no subscriber wants it (the span would be disabled), so the caller
/// need not carry, enter and drop an empty span.
#[cfg(feature = "tracing")]
#[inline]
pub(crate) fn attempt_span(policy: &PolicyName, attempt: u32) -> Option<tracing::Span> {
    if !attempt_span_wanted() {
        return None;
    }
    let span = tracing::debug_span!("attempt", policy = %policy, kind = kind::RETRY, attempt);
    (!span.is_disabled()).then_some(span)
}

/// Whether a subscriber may want [`attempt_span`]'s span: one relaxed load of the level filter
/// when none wants debug spans (the usual case in production; `debug_span!` alone also builds a
/// disabled span and asks its callsite, about 2 ns). Always false without the feature.
#[inline]
pub(crate) fn attempt_span_wanted() -> bool {
    #[cfg(feature = "tracing")]
    {
        tracing::level_enabled!(tracing::Level::DEBUG)
    }
    #[cfg(not(feature = "tracing"))]
    false
}

#[cold]
pub(crate) fn retry_scheduled(
    policy: &PolicyName,
    attempt: u32,
    delay: Duration,
    error: &dyn Display,
) {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        policy = %policy, kind = kind::RETRY, attempt, ?delay, error = %error,
        "retry: attempt failed, retrying after the delay"
    );
}

#[cold]
pub(crate) fn retry_gave_up(policy: &PolicyName, attempts: u32, reason: crate::retry::GiveUp) {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        policy = %policy, kind = kind::RETRY, attempts, ?reason,
        "retry: giving up"
    );
}

#[cold]
pub(crate) fn budget_exhausted(policy: &PolicyName, attempts: u32) {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        policy = %policy, kind = kind::RETRY, attempts,
        "retry: budget exhausted, not retrying (retries are limited to a share of calls)"
    );
}

#[cold]
pub(crate) fn timeout_fired(policy: &PolicyName, limit: Duration, own: bool) {
    #[cfg(feature = "tracing")]
    tracing::debug!(policy = %policy, kind = kind::TIMEOUT, ?limit, own, "timeout: call timed out");
}

/// The adaptive limit moved; `large` moves (a quarter or more since the last one reported at
/// `info`) are reported at `info`, the rest at `debug`.
#[cold]
pub(crate) fn limit_moved(policy: &PolicyName, from: Duration, to: Duration, large: bool) {
    #[cfg(feature = "tracing")]
    if large {
        tracing::info!(policy = %policy, kind = kind::TIMEOUT, ?from, ?to, "timeout: adaptive limit moved");
    } else {
        tracing::debug!(policy = %policy, kind = kind::TIMEOUT, ?from, ?to, "timeout: adaptive limit moved");
    }
}

/// The states of a breaker as events name them.
#[derive(Clone, Copy, Debug)]
pub(crate) enum State {
    Closed,
    Open,
    HalfOpen,
}

impl State {
    #[cfg(feature = "tracing")]
    fn as_str(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::Open => "open",
            State::HalfOpen => "half-open",
        }
    }
}

/// A breaker changed state; `detail` says why. Opening is a `warn`, the rest `info`.
#[cold]
pub(crate) fn breaker_transition(
    policy: &PolicyName,
    from: State,
    to: State,
    detail: &dyn Display,
) {
    #[cfg(feature = "tracing")]
    {
        let (from, to) = (from.as_str(), to.as_str());
        if to == "open" {
            tracing::warn!(
                policy = %policy, kind = kind::CIRCUIT_BREAKER, from, to,
                "circuit breaker {from} -> {to}: {detail}"
            );
        } else {
            tracing::info!(
                policy = %policy, kind = kind::CIRCUIT_BREAKER, from, to,
                "circuit breaker {from} -> {to}: {detail}"
            );
        }
    }
}

#[cold]
pub(crate) fn breaker_rejected(policy: &PolicyName, retry_after: Duration) {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        policy = %policy, kind = kind::CIRCUIT_BREAKER, ?retry_after,
        "circuit breaker: call rejected"
    );
}

/// An adaptive breaker rejected a call, with probability `p`.
#[cold]
pub(crate) fn throttle_rejected(policy: &PolicyName, p: f64) {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        policy = %policy, kind = kind::CIRCUIT_BREAKER, probability = p,
        "circuit breaker (adaptive): call rejected"
    );
}

/// An adaptive breaker's rejection probability crossed 0 or 50 %: started or stopped
/// rejecting, or began rejecting most calls.
#[cold]
pub(crate) fn throttle_changed(policy: &PolicyName, from: f64, to: f64) {
    #[cfg(feature = "tracing")]
    if to > from {
        tracing::warn!(
            policy = %policy, kind = kind::CIRCUIT_BREAKER, from, to,
            "circuit breaker (adaptive): rejecting {:.0} % of calls", to * 100.0
        );
    } else {
        tracing::info!(
            policy = %policy, kind = kind::CIRCUIT_BREAKER, from, to,
            "circuit breaker (adaptive): rejecting {:.0} % of calls", to * 100.0
        );
    }
}

#[inline]
pub(crate) fn idempotency_hit(policy: &PolicyName, joined: bool) {
    #[cfg(feature = "tracing")]
    if joined {
        tracing::debug!(
            policy = %policy, kind = kind::IDEMPOTENCY,
            "idempotency: joined a call in flight with the same key and took its result"
        );
    } else {
        tracing::debug!(policy = %policy, kind = kind::IDEMPOTENCY, "idempotency: hit, stored result returned");
    }
}

#[inline]
pub(crate) fn idempotency_miss(policy: &PolicyName) {
    #[cfg(feature = "tracing")]
    tracing::debug!(policy = %policy, kind = kind::IDEMPOTENCY, "idempotency: miss, running the call");
}

#[cold]
pub(crate) fn idempotency_rejected(policy: &PolicyName, why: &'static str) {
    #[cfg(feature = "tracing")]
    tracing::debug!(policy = %policy, kind = kind::IDEMPOTENCY, why, "idempotency: call rejected");
}

#[cold]
pub(crate) fn idempotency_evicted(policy: &PolicyName, evicted: u64) {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        policy = %policy, kind = kind::IDEMPOTENCY, evicted,
        "idempotency: store full, oldest results evicted before their ttl"
    );
}

#[cfg(feature = "metrics")]
#[cold]
pub(crate) fn over_cap(policy: &str, max: usize) {
    #[cfg(feature = "tracing")]
    tracing::warn!(
        policy,
        max,
        "metrics: more than {max} distinct policy names; this policy and later new names record no metrics"
    );
}

#[cfg(feature = "metrics")]
#[cold]
pub(crate) fn recorder_panicked(policy: &PolicyName, kind: &'static str) {
    #[cfg(feature = "tracing")]
    tracing::warn!(policy = %policy, kind, "metrics: the recorder panicked registering this policy's metrics; it records none");
}

#[cfg(feature = "metrics")]
#[cold]
pub(crate) fn recorder_panicked_recording() {
    #[cfg(feature = "tracing")]
    tracing::warn!(
        "metrics: the recorder panicked while recording; this policy's metrics are off from now on"
    );
}

#[cold]
pub(crate) fn idempotency_store_fallback(policy: &PolicyName, error: &dyn Display) {
    #[cfg(feature = "tracing")]
    tracing::warn!(
        policy = %policy, kind = kind::IDEMPOTENCY, %error,
        "idempotency: shared store failed; on_store_error = \"local\": using the in-process store"
    );
}

#[cold]
pub(crate) fn idempotency_lease_lost(policy: &PolicyName, why: &dyn Display) {
    #[cfg(feature = "tracing")]
    tracing::warn!(
        policy = %policy, kind = kind::IDEMPOTENCY, %why,
        "idempotency: lease lost while the body ran; a duplicate may have run; result not stored"
    );
}

#[cold]
pub(crate) fn bulkhead_rejected(policy: &PolicyName, limit: u32, waited: Duration) {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        policy = %policy, kind = kind::BULKHEAD, limit, ?waited,
        "bulkhead: full, call rejected"
    );
}

/// An adaptive bulkhead's limit moved: at `info` when by a quarter or more, else `debug`.
#[cold]
pub(crate) fn bulkhead_limit_moved(policy: &PolicyName, from: u32, to: u32) {
    #[cfg(feature = "tracing")]
    if from.max(to) as f64 >= from.min(to) as f64 * 1.25 {
        tracing::info!(policy = %policy, kind = kind::BULKHEAD, from, to, "bulkhead: adaptive limit moved");
    } else {
        tracing::debug!(policy = %policy, kind = kind::BULKHEAD, from, to, "bulkhead: adaptive limit moved");
    }
}

/// A fallback function answered a failed call; `failed` is the rejection, or says the function
/// returned an error (whose text is not logged: it may hold what logs must not).
#[cold]
pub(crate) fn fallback_used(policy: &PolicyName, failed: &dyn Display) {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        policy = %policy, kind = kind::FALLBACK, error = %failed,
        "fallback: call failed, answered by the fallback"
    );
}

#[cold]
pub(crate) fn hedge_sent(policy: &PolicyName, attempt: u32, after: Duration) {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        policy = %policy, kind = kind::HEDGE, attempt, ?after,
        "hedge: no answer yet, another attempt started alongside"
    );
}

#[cold]
pub(crate) fn hedge_won(policy: &PolicyName) {
    #[cfg(feature = "tracing")]
    tracing::debug!(policy = %policy, kind = kind::HEDGE, "hedge: a hedge answered first; the other attempts are dropped");
}

#[cold]
pub(crate) fn hedge_budget_exhausted(policy: &PolicyName, attempt: u32) {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        policy = %policy, kind = kind::HEDGE, attempt,
        "hedge: budget exhausted, not hedging (hedges are limited to a share of calls)"
    );
}

/// A percentile `after` moved; `from` is `None` when the warm-up ended (no hedges before).
#[cold]
pub(crate) fn hedge_delay_moved(policy: &PolicyName, from: Option<Duration>, to: Duration) {
    #[cfg(feature = "tracing")]
    tracing::debug!(policy = %policy, kind = kind::HEDGE, ?from, ?to, "hedge: delay moved");
}

#[cold]
pub(crate) fn rate_limit_rejected(policy: &PolicyName, retry_after: Duration) {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        policy = %policy, kind = kind::RATE_LIMIT, ?retry_after,
        "rate limit: call rejected, over the limit"
    );
}

#[cold]
pub(crate) fn rate_limit_waiting(policy: &PolicyName, delay: Duration) {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        policy = %policy, kind = kind::RATE_LIMIT, ?delay,
        "rate limit: over the limit, waiting for the call's slot"
    );
}

/// The shared store failed: the call fails (`local` false, at `warn` each time) or, the first
/// time in a row, falls back to the in-process limiter (`local` true).
#[cold]
pub(crate) fn rate_limit_store_failed(policy: &PolicyName, store: &str, error: &str, local: bool) {
    #[cfg(feature = "tracing")]
    if local {
        tracing::warn!(
            policy = %policy, kind = kind::RATE_LIMIT, store, error,
            "rate limit: shared store failed; limiting in process until it answers again"
        );
    } else {
        tracing::warn!(
            policy = %policy, kind = kind::RATE_LIMIT, store, error,
            "rate limit: shared store failed; the call fails"
        );
    }
}

#[cold]
pub(crate) fn rate_limit_store_recovered(policy: &PolicyName, store: &str) {
    #[cfg(feature = "tracing")]
    tracing::info!(
        policy = %policy, kind = kind::RATE_LIMIT, store,
        "rate limit: shared store answers again; the limit is shared again"
    );
}
