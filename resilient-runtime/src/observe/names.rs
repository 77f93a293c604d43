//! Every metric's name, type, labels and meaning, and the label values, in one place: the
//! contract of API.md section 7. The README's observability table is written from this list.

// The names themselves are declared once, in `resilient-spec` (each kind's declaration lists the
// ones it records); the labels, their values and the table below live here.
pub use resilient_spec::metrics::RATE_LIMIT_WAIT_SECONDS;
pub use resilient_spec::metrics::{BULKHEAD_IN_FLIGHT, BULKHEAD_LIMIT, BULKHEAD_QUEUED};
pub use resilient_spec::metrics::{
    CALL_DURATION_SECONDS, CALLS_TOTAL, CIRCUIT_STATE, CIRCUIT_TRANSITIONS_TOTAL,
    IDEMPOTENCY_EVICTED_TOTAL, IDEMPOTENCY_JOINED_TOTAL, RETRIES_TOTAL, RETRY_GAVE_UP_TOTAL,
    THROTTLE_PROBABILITY, TIMEOUT_LIMIT_SECONDS,
};
pub use resilient_spec::metrics::{HEDGES_TOTAL, HEDGES_WON_TOTAL};

/// Label names.
pub mod label {
    /// The policy's name (API.md section 6).
    pub const POLICY: &str = "policy";
    /// The policy's kind: one of [`kind`](super::kind).
    pub const KIND: &str = "kind";
    /// How a call ended: one of [`outcome`](super::outcome).
    pub const OUTCOME: &str = "outcome";
    /// Why a retry policy gave up: one of [`reason`](super::reason).
    pub const REASON: &str = "reason";
}

/// Values of the `kind` label (and field of every event), as the registry names kinds.
pub mod kind {
    /// `#[retry]`.
    pub const RETRY: &str = "retry";
    /// `#[circuit_breaker]`.
    pub const CIRCUIT_BREAKER: &str = "circuit_breaker";
    /// `#[timeout]`.
    pub const TIMEOUT: &str = "timeout";
    /// `#[idempotent]`.
    pub const IDEMPOTENCY: &str = "idempotency";
    /// `#[bulkhead]`.
    pub const BULKHEAD: &str = "bulkhead";
    /// `#[fallback]`.
    pub const FALLBACK: &str = "fallback";
    /// `#[hedge]`.
    pub const HEDGE: &str = "hedge";
    /// `#[rate_limit]`.
    pub const RATE_LIMIT: &str = "rate_limit";
}

/// Values of the `outcome` label.
pub mod outcome {
    /// The call succeeded (`Ok`).
    pub const SUCCESS: &str = "success";
    /// The call failed (an `Err`, a retry that gave up, a store failure).
    pub const FAILURE: &str = "failure";
    /// The policy turned the call away without running it (open circuit, key reused or in
    /// flight elsewhere).
    pub const REJECTED: &str = "rejected";
    /// The call ran out of time.
    pub const TIMEOUT: &str = "timeout";
    /// A fallback function answered the call.
    pub const FALLBACK: &str = "fallback";
    /// Answered from the idempotency store.
    pub const HIT: &str = "hit";
    /// Not in the idempotency store: the body ran.
    pub const MISS: &str = "miss";
}

/// Values of the `reason` label of [`RETRY_GAVE_UP_TOTAL`].
pub mod reason {
    /// Every attempt was used.
    pub const EXHAUSTED: &str = "exhausted";
    /// The retry budget was spent.
    pub const BUDGET: &str = "budget";
    /// The next delay would have ended past the task's deadline.
    pub const DEADLINE: &str = "deadline";
}

/// The type of a metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricType {
    /// Only goes up.
    Counter,
    /// A value set now and then.
    Gauge,
    /// A distribution of observations.
    Histogram,
}

/// One metric of the contract.
#[derive(Clone, Copy, Debug)]
pub struct Metric {
    /// Its name.
    pub name: &'static str,
    /// Counter, gauge or histogram.
    pub ty: MetricType,
    /// Its label names.
    pub labels: &'static [&'static str],
    /// What it counts (the `# HELP` line of a Prometheus scrape).
    pub help: &'static str,
}

use label::{KIND, OUTCOME, POLICY, REASON};

/// Every metric a policy records, with its meaning.
pub const METRICS: &[Metric] = &[
    Metric {
        name: CALLS_TOTAL,
        ty: MetricType::Counter,
        labels: &[POLICY, KIND, OUTCOME],
        help: "Calls through a resilience policy, by outcome.",
    },
    Metric {
        name: RETRIES_TOTAL,
        ty: MetricType::Counter,
        labels: &[POLICY],
        help: "Retries made (first attempts not counted).",
    },
    Metric {
        name: RETRY_GAVE_UP_TOTAL,
        ty: MetricType::Counter,
        labels: &[POLICY, REASON],
        help: "Retryable failures not retried: attempts exhausted, budget spent or deadline too close.",
    },
    Metric {
        name: CIRCUIT_STATE,
        ty: MetricType::Gauge,
        labels: &[POLICY],
        help: "Circuit breaker state: 0 closed, 1 open, 2 half-open.",
    },
    Metric {
        name: CIRCUIT_TRANSITIONS_TOTAL,
        ty: MetricType::Counter,
        labels: &[POLICY],
        help: "Circuit breaker state changes.",
    },
    Metric {
        name: TIMEOUT_LIMIT_SECONDS,
        ty: MetricType::Gauge,
        labels: &[POLICY],
        help: "The timeout a call starting now gets, in seconds.",
    },
    Metric {
        name: CALL_DURATION_SECONDS,
        ty: MetricType::Histogram,
        labels: &[POLICY, KIND],
        help: "Duration of calls that waited (did not complete on their first poll), in seconds.",
    },
    Metric {
        name: IDEMPOTENCY_JOINED_TOTAL,
        ty: MetricType::Counter,
        labels: &[POLICY],
        help: "Duplicate calls that waited for a running call with the same key and took its result.",
    },
    Metric {
        name: IDEMPOTENCY_EVICTED_TOTAL,
        ty: MetricType::Counter,
        labels: &[POLICY],
        help: "Idempotency results dropped before their ttl because the store was full.",
    },
    Metric {
        name: BULKHEAD_IN_FLIGHT,
        ty: MetricType::Gauge,
        labels: &[POLICY],
        help: "Calls a bulkhead is running now.",
    },
    Metric {
        name: BULKHEAD_QUEUED,
        ty: MetricType::Gauge,
        labels: &[POLICY],
        help: "Calls waiting for a place in a bulkhead now.",
    },
    Metric {
        name: BULKHEAD_LIMIT,
        ty: MetricType::Gauge,
        labels: &[POLICY],
        help: "The most calls a bulkhead lets run at once now (moves when adaptive).",
    },
    Metric {
        name: HEDGES_TOTAL,
        ty: MetricType::Counter,
        labels: &[POLICY],
        help: "Hedges sent: attempts started alongside a first attempt slower than `after`.",
    },
    Metric {
        name: HEDGES_WON_TOTAL,
        ty: MetricType::Counter,
        labels: &[POLICY],
        help: "Hedged calls a hedge answered (an attempt other than the first won).",
    },
    Metric {
        name: THROTTLE_PROBABILITY,
        ty: MetricType::Gauge,
        labels: &[POLICY],
        help: "An adaptive circuit breaker's rejection probability now, from 0 to 1.",
    },
    Metric {
        name: RATE_LIMIT_WAIT_SECONDS,
        ty: MetricType::Histogram,
        labels: &[POLICY],
        help: "How long calls over a rate limit waited for their slot, in seconds.",
    },
];
