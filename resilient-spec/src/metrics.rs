//! Metric names, fixed by the contract (API.md section 7): every policy records through the
//! `metrics` facade with these names and the labels `policy` (and `kind`, `outcome`, `reason`
//! where said). This is the one place they are declared: the runtime's `observe::names`
//! re-exports them beside the labels and their values.

/// Counter `{policy, kind, outcome}`: calls by how they ended.
pub const CALLS_TOTAL: &str = "resilient_calls_total";
/// Counter `{policy}`: retries made, first attempts not counted.
pub const RETRIES_TOTAL: &str = "resilient_retries_total";
/// Counter `{policy, reason}`: calls a retry policy stopped retrying although retryable.
pub const RETRY_GAVE_UP_TOTAL: &str = "resilient_retry_gave_up_total";
/// Gauge `{policy}`: 0 closed, 1 open, 2 half-open.
pub const CIRCUIT_STATE: &str = "resilient_circuit_state";
/// Counter `{policy}`: state changes of a breaker.
pub const CIRCUIT_TRANSITIONS_TOTAL: &str = "resilient_circuit_transitions_total";
/// Gauge `{policy}`: the timeout limit a call starting now gets, in seconds.
pub const TIMEOUT_LIMIT_SECONDS: &str = "resilient_timeout_limit_seconds";
/// Histogram `{policy, kind}`: call durations in seconds.
pub const CALL_DURATION_SECONDS: &str = "resilient_call_duration_seconds";
/// Counter `{policy}`: duplicates that waited for a running call and took its result.
pub const IDEMPOTENCY_JOINED_TOTAL: &str = "resilient_idempotency_joined_total";
/// Counter `{policy}`: results dropped before their ttl because the store was full.
pub const IDEMPOTENCY_EVICTED_TOTAL: &str = "resilient_idempotency_evicted_total";
/// Gauge `{policy}`: calls a bulkhead is running now.
pub const BULKHEAD_IN_FLIGHT: &str = "resilient_bulkhead_in_flight";
/// Gauge `{policy}`: calls waiting in a bulkhead's queue now.
pub const BULKHEAD_QUEUED: &str = "resilient_bulkhead_queued";
/// Gauge `{policy}`: the most calls a bulkhead lets run at once now (moves when adaptive).
pub const BULKHEAD_LIMIT: &str = "resilient_bulkhead_limit";
/// Counter `{policy}`: hedges sent (attempts started alongside a slow first one).
pub const HEDGES_TOTAL: &str = "resilient_hedges_total";
/// Counter `{policy}`: calls a hedge answered (an attempt other than the first won).
pub const HEDGES_WON_TOTAL: &str = "resilient_hedges_won_total";
/// Gauge `{policy}`: an adaptive breaker's rejection probability now, from 0 to 1.
pub const THROTTLE_PROBABILITY: &str = "resilient_throttle_probability";
/// Histogram `{policy}`: how long calls over a rate limit waited for their slot, in seconds.
pub const RATE_LIMIT_WAIT_SECONDS: &str = "resilient_rate_limit_wait_seconds";
