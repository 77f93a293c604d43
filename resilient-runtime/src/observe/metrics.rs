//! Metric handles (feature `metrics`), resolved once per policy when it is built, through the
//! [`metrics`] facade: a call only touches handles it already holds, never a registry lookup.
//!
//! Faults of the recorder are contained here. Resolution and every record run under
//! `catch_unwind`: a recorder that panics while resolving leaves the policy without metrics, one
//! that panics while recording disables the policy's metrics from then on. Either way the call
//! goes on. Policy names beyond [`MAX_POLICY_NAMES`] distinct ones get no metrics, which bounds
//! the number of series this crate can create.

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use metrics::{Counter, Gauge, Histogram, Label, SharedString};

use super::names::{self, MetricType, kind, label, outcome, reason};
use crate::error::PolicyName;

/// The most distinct policy names that get metrics; policies named after that record nothing
/// (and say so once, in a `warn` event). Every name is a `policy` label value, so this bounds
/// the series a process can create through resilient at a few thousand, whatever names a
/// program builds at run time.
pub const MAX_POLICY_NAMES: usize = 1000;

static NAMES: Mutex<Option<HashSet<String>>> = Mutex::new(None);
static OVER_CAP: AtomicBool = AtomicBool::new(false);

/// Whether `name` may have series: it has them already, or there is room for one more name.
fn admit(name: &str) -> bool {
    let mut names = NAMES.lock().unwrap_or_else(|p| p.into_inner());
    let names = names.get_or_insert_with(HashSet::new);
    if names.contains(name) {
        return true;
    }
    if names.len() >= MAX_POLICY_NAMES {
        if !OVER_CAP.swap(true, Relaxed) {
            super::events::over_cap(name, MAX_POLICY_NAMES);
        }
        return false;
    }
    names.insert(name.to_owned());
    true
}

/// Gives every metric its `# HELP` text. Each time a policy is built rather than once per
/// process: the recorder in place may not be the one of the first policy.
fn describe() {
    let _ = catch_unwind(|| {
        for m in names::METRICS {
            let (name, help) = (m.name, SharedString::const_str(m.help));
            match m.ty {
                MetricType::Counter => metrics::describe_counter!(name, help),
                MetricType::Gauge => metrics::describe_gauge!(name, help),
                MetricType::Histogram => {
                    metrics::describe_histogram!(name, metrics::Unit::Seconds, help)
                }
            }
        }
    });
}

/// Resolves a policy's handles with `make`, or gives `H::default()` (no-op handles) when the
/// name is over the cap or the recorder panics.
fn resolve<H: Default>(
    name: &PolicyName,
    kind: &'static str,
    make: impl FnOnce(&Labels) -> H,
) -> H {
    if metrics::with_recorder(is_noop) {
        // Handles from the no-op recorder record nothing, and would stay no-ops if a recorder
        // came later: the policy keeps `H::default()`, whose records are one branch.
        return H::default();
    }
    describe();
    let policy = name.to_string();
    if !admit(&policy) {
        return H::default();
    }
    let labels = Labels { policy, kind };
    match catch_unwind(AssertUnwindSafe(|| make(&labels))) {
        Ok(handles) => handles,
        Err(_) => {
            super::events::recorder_panicked(name, kind);
            H::default()
        }
    }
}

/// Whether `recorder` is the `metrics` crate's no-op recorder (what `with_recorder` gives when
/// none is installed): a zero-sized recorder with the same vtable, so the same `register_*`
/// functions, which return no-op handles. A false "no" (vtables are not unique across codegen
/// units: debug builds keep one per crate) only costs the policy a call per record into its
/// no-op handles.
fn is_noop(recorder: &dyn metrics::Recorder) -> bool {
    if std::mem::size_of_val(recorder) != 0 {
        return false;
    }
    let noop: *const dyn metrics::Recorder = &metrics::NoopRecorder;
    let recorder: *const dyn metrics::Recorder = recorder;
    // Compares the vtables alone: the zero-sized statics may sit at different addresses.
    std::ptr::eq(recorder.with_addr(noop.addr()), noop)
}

struct Labels {
    policy: String,
    kind: &'static str,
}

impl Labels {
    fn policy(&self) -> Vec<Label> {
        vec![Label::new(label::POLICY, self.policy.clone())]
    }
    fn with(&self, key: &'static str, value: &'static str) -> Vec<Label> {
        let mut l = self.policy();
        l.push(Label::from_static_parts(key, value));
        l
    }
    fn calls(&self, outcome: &'static str) -> Counter {
        let mut l = self.with(label::KIND, self.kind);
        l.push(Label::from_static_parts(label::OUTCOME, outcome));
        metrics::counter!(names::CALLS_TOTAL, l)
    }
    fn counter(&self, name: &'static str) -> Counter {
        metrics::counter!(name, self.policy())
    }
    fn gauge(&self, name: &'static str) -> Gauge {
        metrics::gauge!(name, self.policy())
    }
}

/// Whether a policy records, and the guard around each record.
///
/// Off for no-op handles (no recorder installed when the policy resolved them, a name over the
/// cap, a recorder that panicked while resolving): a success path then pays one relaxed load
/// and a branch, never a call into the `metrics` crate. Live otherwise: each record runs out of
/// line under `catch_unwind`, and the first panic turns the policy's metrics off.
#[derive(Debug)]
struct Fuse {
    off: AtomicBool,
}

impl Default for Fuse {
    /// Off: the policy's handles record nothing.
    fn default() -> Self {
        Self { off: AtomicBool::new(true) }
    }
}

impl Fuse {
    /// On: the policy's handles are a recorder's.
    fn live() -> Self {
        Self { off: AtomicBool::new(false) }
    }

    #[inline(always)]
    fn run(&self, record: impl FnOnce()) {
        if !self.off.load(Relaxed) {
            self.record(record);
        }
    }

    /// Out of line, so that a success path holds no call and no unwinding edge into the
    /// recorder, only the branch around it.
    #[inline(never)]
    fn record(&self, record: impl FnOnce()) {
        if catch_unwind(AssertUnwindSafe(record)).is_err() {
            self.blow();
        }
    }

    #[cold]
    fn blow(&self) {
        self.off.store(true, Relaxed);
        super::events::recorder_panicked_recording();
    }
}

/// A retry policy's handles.
#[derive(Debug)]
pub(crate) struct RetryMetrics {
    fuse: Fuse,
    success: Counter,
    failure: Counter,
    retries: Counter,
    exhausted: Counter,
    budget: Counter,
    deadline: Counter,
}

impl Default for RetryMetrics {
    /// No-op handles: the policy records nothing.
    fn default() -> Self {
        Self {
            fuse: Fuse::default(),
            success: Counter::noop(),
            failure: Counter::noop(),
            retries: Counter::noop(),
            exhausted: Counter::noop(),
            budget: Counter::noop(),
            deadline: Counter::noop(),
        }
    }
}

impl RetryMetrics {
    pub(crate) fn new(name: &PolicyName) -> Self {
        resolve(name, kind::RETRY, |l| {
            let gave_up =
                |why| metrics::counter!(names::RETRY_GAVE_UP_TOTAL, l.with(label::REASON, why));
            Self {
                fuse: Fuse::live(),
                success: l.calls(outcome::SUCCESS),
                failure: l.calls(outcome::FAILURE),
                retries: l.counter(names::RETRIES_TOTAL),
                exhausted: gave_up(reason::EXHAUSTED),
                budget: gave_up(reason::BUDGET),
                deadline: gave_up(reason::DEADLINE),
            }
        })
    }

    #[inline]
    pub(crate) fn success(&self) {
        self.fuse.run(|| self.success.increment(1));
    }

    pub(crate) fn retry(&self) {
        self.fuse.run(|| self.retries.increment(1));
    }

    /// The call failed; `why` is set when a retryable error was not retried.
    pub(crate) fn failure(&self, why: Option<crate::retry::GiveUp>) {
        use crate::retry::GiveUp;
        self.fuse.run(|| {
            self.failure.increment(1);
            match why {
                Some(GiveUp::Exhausted) => self.exhausted.increment(1),
                Some(GiveUp::Budget) => self.budget.increment(1),
                Some(GiveUp::Deadline) => self.deadline.increment(1),
                Some(GiveUp::NotRetryable) | None => {}
            }
        });
    }
}

/// A circuit breaker's handles.
#[derive(Debug)]
pub(crate) struct BreakerMetrics {
    fuse: Fuse,
    success: Counter,
    failure: Counter,
    rejected: Counter,
    state: Gauge,
    transitions: Counter,
}

impl Default for BreakerMetrics {
    /// No-op handles: the policy records nothing.
    fn default() -> Self {
        Self {
            fuse: Fuse::default(),
            success: Counter::noop(),
            failure: Counter::noop(),
            rejected: Counter::noop(),
            state: Gauge::noop(),
            transitions: Counter::noop(),
        }
    }
}

impl BreakerMetrics {
    pub(crate) fn new(name: &PolicyName) -> Self {
        resolve(name, kind::CIRCUIT_BREAKER, |l| {
            let state = l.gauge(names::CIRCUIT_STATE);
            state.set(0.0);
            Self {
                fuse: Fuse::live(),
                success: l.calls(outcome::SUCCESS),
                failure: l.calls(outcome::FAILURE),
                rejected: l.calls(outcome::REJECTED),
                state,
                transitions: l.counter(names::CIRCUIT_TRANSITIONS_TOTAL),
            }
        })
    }

    #[inline]
    pub(crate) fn success(&self) {
        self.fuse.run(|| self.success.increment(1));
    }

    pub(crate) fn failure(&self) {
        self.fuse.run(|| self.failure.increment(1));
    }

    pub(crate) fn rejected(&self) {
        self.fuse.run(|| self.rejected.increment(1));
    }

    /// The breaker is now in `state` (0 closed, 1 open, 2 half-open).
    pub(crate) fn transition(&self, state: u8) {
        self.fuse.run(|| {
            self.state.set(f64::from(state));
            self.transitions.increment(1);
        });
    }
}

/// A timeout's handles.
#[derive(Debug)]
pub(crate) struct TimeoutMetrics {
    fuse: Fuse,
    success: Counter,
    failure: Counter,
    timeout: Counter,
    limit: Gauge,
    duration: Histogram,
}

impl Default for TimeoutMetrics {
    /// No-op handles: the policy records nothing.
    fn default() -> Self {
        Self {
            fuse: Fuse::default(),
            success: Counter::noop(),
            failure: Counter::noop(),
            timeout: Counter::noop(),
            limit: Gauge::noop(),
            duration: Histogram::noop(),
        }
    }
}

impl TimeoutMetrics {
    pub(crate) fn new(name: &PolicyName, limit: Duration) -> Self {
        resolve(name, kind::TIMEOUT, |l| {
            let gauge = l.gauge(names::TIMEOUT_LIMIT_SECONDS);
            gauge.set(limit.as_secs_f64());
            Self {
                fuse: Fuse::live(),
                success: l.calls(outcome::SUCCESS),
                failure: l.calls(outcome::FAILURE),
                timeout: l.calls(outcome::TIMEOUT),
                limit: gauge,
                duration: metrics::histogram!(
                    names::CALL_DURATION_SECONDS,
                    l.with(label::KIND, l.kind)
                ),
            }
        })
    }

    /// A call ended; `success` as the timeout classifies it.
    #[inline]
    pub(crate) fn finished(&self, success: bool) {
        self.fuse.run(|| match success {
            true => self.success.increment(1),
            false => self.failure.increment(1),
        });
    }

    /// A call that started at `at` and waited ended now.
    #[cold]
    pub(crate) fn duration_since(&self, at: tokio::time::Instant) {
        let took = at.elapsed();
        self.fuse.run(|| self.duration.record(took.as_secs_f64()));
    }

    /// A call timed out after `limit`.
    pub(crate) fn timed_out(&self, limit: Duration) {
        self.fuse.run(|| {
            self.timeout.increment(1);
            self.duration.record(limit.as_secs_f64());
        });
    }

    pub(crate) fn limit(&self, limit: Duration) {
        self.fuse.run(|| self.limit.set(limit.as_secs_f64()));
    }
}

/// An idempotency policy's handles.
#[derive(Debug)]
pub(crate) struct IdempotencyMetrics {
    fuse: Fuse,
    hit: Counter,
    miss: Counter,
    rejected: Counter,
    failure: Counter,
    joined: Counter,
    evicted: Counter,
}

impl Default for IdempotencyMetrics {
    /// No-op handles: the policy records nothing.
    fn default() -> Self {
        Self {
            fuse: Fuse::default(),
            hit: Counter::noop(),
            miss: Counter::noop(),
            rejected: Counter::noop(),
            failure: Counter::noop(),
            joined: Counter::noop(),
            evicted: Counter::noop(),
        }
    }
}

impl IdempotencyMetrics {
    pub(crate) fn new(name: &PolicyName) -> Self {
        resolve(name, kind::IDEMPOTENCY, |l| Self {
            fuse: Fuse::live(),
            hit: l.calls(outcome::HIT),
            miss: l.calls(outcome::MISS),
            rejected: l.calls(outcome::REJECTED),
            failure: l.calls(outcome::FAILURE),
            joined: l.counter(names::IDEMPOTENCY_JOINED_TOTAL),
            evicted: l.counter(names::IDEMPOTENCY_EVICTED_TOTAL),
        })
    }

    #[inline]
    pub(crate) fn hit(&self, joined: bool) {
        self.fuse.run(|| {
            self.hit.increment(1);
            if joined {
                self.joined.increment(1);
            }
        });
    }

    #[inline]
    pub(crate) fn miss(&self) {
        self.fuse.run(|| self.miss.increment(1));
    }

    pub(crate) fn rejected(&self) {
        self.fuse.run(|| self.rejected.increment(1));
    }

    pub(crate) fn failure(&self) {
        self.fuse.run(|| self.failure.increment(1));
    }

    pub(crate) fn evicted(&self, n: u64) {
        self.fuse.run(|| self.evicted.increment(n));
    }
}

/// A bulkhead's handles.
#[derive(Debug)]
pub(crate) struct BulkheadMetrics {
    fuse: Fuse,
    success: Counter,
    failure: Counter,
    rejected: Counter,
    in_flight: Gauge,
    queued: Gauge,
    limit: Gauge,
}

impl Default for BulkheadMetrics {
    /// No-op handles: the policy records nothing.
    fn default() -> Self {
        Self {
            fuse: Fuse::default(),
            success: Counter::noop(),
            failure: Counter::noop(),
            rejected: Counter::noop(),
            in_flight: Gauge::noop(),
            queued: Gauge::noop(),
            limit: Gauge::noop(),
        }
    }
}

impl BulkheadMetrics {
    pub(crate) fn new(name: &PolicyName, limit: u32) -> Self {
        resolve(name, kind::BULKHEAD, |l| {
            let gauge = l.gauge(names::BULKHEAD_LIMIT);
            gauge.set(f64::from(limit));
            Self {
                fuse: Fuse::live(),
                success: l.calls(outcome::SUCCESS),
                failure: l.calls(outcome::FAILURE),
                rejected: l.calls(outcome::REJECTED),
                in_flight: l.gauge(names::BULKHEAD_IN_FLIGHT),
                queued: l.gauge(names::BULKHEAD_QUEUED),
                limit: gauge,
            }
        })
    }

    #[inline]
    pub(crate) fn finished(&self, success: bool) {
        self.fuse.run(|| match success {
            true => self.success.increment(1),
            false => self.failure.increment(1),
        });
    }

    #[inline]
    pub(crate) fn in_flight(&self, running: u32) {
        self.fuse.run(|| self.in_flight.set(f64::from(running)));
    }

    /// A place was given back; `running` counts the calls left.
    #[inline]
    pub(crate) fn released(&self, running: impl FnOnce() -> u32) {
        self.fuse.run(|| self.in_flight.set(f64::from(running())));
    }

    pub(crate) fn queued(&self, waiting: u32) {
        self.fuse.run(|| self.queued.set(f64::from(waiting)));
    }

    pub(crate) fn rejected(&self) {
        self.fuse.run(|| self.rejected.increment(1));
    }

    pub(crate) fn limit(&self, limit: u32) {
        self.fuse.run(|| self.limit.set(f64::from(limit)));
    }
}

/// A fallback's handles. Successes are not counted here: a success passes the fallback
/// untouched, and the layers around it count it.
#[derive(Debug)]
pub(crate) struct FallbackMetrics {
    fuse: Fuse,
    fallback: Counter,
    failure: Counter,
}

impl Default for FallbackMetrics {
    /// No-op handles: the policy records nothing.
    fn default() -> Self {
        Self { fuse: Fuse::default(), fallback: Counter::noop(), failure: Counter::noop() }
    }
}

impl FallbackMetrics {
    pub(crate) fn new(name: &PolicyName) -> Self {
        resolve(name, kind::FALLBACK, |l| Self {
            fuse: Fuse::live(),
            fallback: l.calls(outcome::FALLBACK),
            failure: l.calls(outcome::FAILURE),
        })
    }

    /// The fallback function answered a call.
    pub(crate) fn fallback(&self) {
        self.fuse.run(|| self.fallback.increment(1));
    }

    /// An error passed through (`on` did not pick it).
    pub(crate) fn failure(&self) {
        self.fuse.run(|| self.failure.increment(1));
    }
}

/// A hedging policy's handles.
#[derive(Debug)]
pub(crate) struct HedgeMetrics {
    fuse: Fuse,
    success: Counter,
    failure: Counter,
    hedges: Counter,
    won: Counter,
}

impl Default for HedgeMetrics {
    /// No-op handles: the policy records nothing.
    fn default() -> Self {
        Self {
            fuse: Fuse::default(),
            success: Counter::noop(),
            failure: Counter::noop(),
            hedges: Counter::noop(),
            won: Counter::noop(),
        }
    }
}

impl HedgeMetrics {
    pub(crate) fn new(name: &PolicyName) -> Self {
        resolve(name, kind::HEDGE, |l| Self {
            fuse: Fuse::live(),
            success: l.calls(outcome::SUCCESS),
            failure: l.calls(outcome::FAILURE),
            hedges: l.counter(names::HEDGES_TOTAL),
            won: l.counter(names::HEDGES_WON_TOTAL),
        })
    }

    #[inline]
    pub(crate) fn success(&self) {
        self.fuse.run(|| self.success.increment(1));
    }

    pub(crate) fn failure(&self) {
        self.fuse.run(|| self.failure.increment(1));
    }

    pub(crate) fn hedge(&self) {
        self.fuse.run(|| self.hedges.increment(1));
    }

    pub(crate) fn won(&self) {
        self.fuse.run(|| self.won.increment(1));
    }
}

/// An adaptive breaker's handles: calls by outcome (kind `circuit_breaker`) and its rejection
/// probability (no `resilient_circuit_state`: it has no open/closed state).
#[derive(Debug)]
pub(crate) struct AdaptiveMetrics {
    fuse: Fuse,
    success: Counter,
    failure: Counter,
    rejected: Counter,
    probability: Gauge,
}

impl Default for AdaptiveMetrics {
    /// No-op handles: the policy records nothing.
    fn default() -> Self {
        Self {
            fuse: Fuse::default(),
            success: Counter::noop(),
            failure: Counter::noop(),
            rejected: Counter::noop(),
            probability: Gauge::noop(),
        }
    }
}

impl AdaptiveMetrics {
    pub(crate) fn new(name: &PolicyName) -> Self {
        resolve(name, kind::CIRCUIT_BREAKER, |l| {
            let probability = l.gauge(names::THROTTLE_PROBABILITY);
            probability.set(0.0);
            Self {
                fuse: Fuse::live(),
                success: l.calls(outcome::SUCCESS),
                failure: l.calls(outcome::FAILURE),
                rejected: l.calls(outcome::REJECTED),
                probability,
            }
        })
    }

    #[inline]
    pub(crate) fn success(&self) {
        self.fuse.run(|| self.success.increment(1));
    }

    pub(crate) fn failure(&self) {
        self.fuse.run(|| self.failure.increment(1));
    }

    pub(crate) fn rejected(&self) {
        self.fuse.run(|| self.rejected.increment(1));
    }

    /// The rejection probability is now `p`.
    pub(crate) fn probability(&self, p: f64) {
        self.fuse.run(|| self.probability.set(p));
    }
}

/// A rate limiter's handles.
#[derive(Debug)]
pub(crate) struct RateLimitMetrics {
    fuse: Fuse,
    rejected: Counter,
    failure: Counter,
    wait: Histogram,
}

impl Default for RateLimitMetrics {
    /// No-op handles: the policy records nothing.
    fn default() -> Self {
        Self {
            fuse: Fuse::default(),
            rejected: Counter::noop(),
            failure: Counter::noop(),
            wait: Histogram::noop(),
        }
    }
}

impl RateLimitMetrics {
    pub(crate) fn new(name: &PolicyName) -> Self {
        resolve(name, kind::RATE_LIMIT, |l| Self {
            fuse: Fuse::live(),
            rejected: l.calls(outcome::REJECTED),
            failure: l.calls(outcome::FAILURE),
            wait: metrics::histogram!(names::RATE_LIMIT_WAIT_SECONDS, l.policy()),
        })
    }

    /// A call over the limit was turned away.
    pub(crate) fn rejected(&self) {
        self.fuse.run(|| self.rejected.increment(1));
    }

    /// A call waited `delay` for its slot.
    pub(crate) fn waited(&self, delay: Duration) {
        self.fuse.run(|| self.wait.record(delay.as_secs_f64()));
    }

    /// The shared store failed and the call failed with it.
    pub(crate) fn store_failed(&self) {
        self.fuse.run(|| self.failure.increment(1));
    }
}

#[cfg(test)]
mod tests {
    use metrics::{
        Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit,
    };

    use super::*;

    /// A recorder of no size that is not the no-op one.
    struct Zst;

    impl Recorder for Zst {
        fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn register_counter(&self, _: &Key, _: &Metadata<'_>) -> Counter {
            Counter::noop()
        }
        fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
            Gauge::noop()
        }
        fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
            Histogram::noop()
        }
    }

    #[test]
    fn a_recorder_is_never_taken_for_none() {
        assert!(!is_noop(&Zst), "zero-sized, but its own vtable");
        metrics::with_local_recorder(&Zst, || assert!(!metrics::with_recorder(is_noop)));
        let name = PolicyName::from("metrics::tests::live");
        let on = metrics::with_local_recorder(&Zst, || BreakerMetrics::new(&name));
        assert!(!on.fuse.off.load(Relaxed), "a recorder's handles record");
    }

    /// Vtables are merged only in optimised builds: a debug build keeps one per crate, so there
    /// the no-op recorder is not recognised and the policy keeps live no-op handles (slower by
    /// a call per record, same behaviour). `scripts/test.sh` runs this test with `--release`.
    #[test]
    #[cfg_attr(
        debug_assertions,
        ignore = "vtables are compared, which only optimised builds merge"
    )]
    fn with_no_recorder_the_fuse_stays_off() {
        assert!(metrics::with_recorder(is_noop), "nothing installed on this thread");
        assert!(is_noop(&metrics::NoopRecorder));
        let name = PolicyName::from("metrics::tests::off");
        assert!(BreakerMetrics::new(&name).fuse.off.load(Relaxed));
    }
}
