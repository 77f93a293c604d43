//! Metric names, fixed by the contract: every policy records through the `metrics` facade with
//! these names and the labels `policy` (and `kind`, `outcome` where said).

/// Counter `{policy, kind, outcome}`: calls by outcome (`success`, `failure`, `rejected`,
/// `timeout`, `fallback`, `hit`, `miss`).
pub const CALLS: &str = "resilient_calls_total";
/// Counter `{policy}`: retries made, first attempts not counted.
pub const RETRIES: &str = "resilient_retries_total";
/// Gauge `{policy}`: 0 closed, 1 open, 2 half-open.
pub const CIRCUIT_STATE: &str = "resilient_circuit_state";
/// Gauge `{policy}`: the timeout limit now applied, in seconds.
pub const TIMEOUT_LIMIT: &str = "resilient_timeout_limit_seconds";
/// Histogram `{policy, kind}`: call durations in seconds.
pub const DURATION: &str = "resilient_call_duration_seconds";
