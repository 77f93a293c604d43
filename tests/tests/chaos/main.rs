//! Chaos suite: the full stack `#[idempotent] > #[retry] > #[circuit_breaker] >
//! #[timeout("p99*2")]` against a real HTTP/1.1 downstream on 127.0.0.1, in real time.
//!
//! The downstream is a hyper 1.x server on an ephemeral port, started by each test, whose faults
//! the test switches: a hard outage (listener closed and every connection cut: connection
//! refused), errors (every request answered 503), a slowdown (latency x10), flapping (250 ms up,
//! 250 ms down), a brownout (3 requests in 5 answered 503) and recovery. The client is a minimal
//! HTTP/1.1 client over `tokio::net::TcpStream` with a keep-alive pool, one connection per
//! request in flight. 50 tasks call through the stack concurrently; every call runs under a
//! caller deadline (`resilient::deadline::scope`).
//!
//! What is asserted, from what the downstream counts (requests received, with their arrival
//! instants, and per idempotency key requests and executions) and from the callers' records:
//!
//! - once the breaker has opened (first `CircuitOpen` a caller sees) plus a grace of
//!   [`GRACE`] for requests already admitted, the downstream sees at most
//!   `probes x (ceil(window / cooldown) + 1)` requests; in the hard outage, where no request
//!   can arrive, the same bound holds for connection attempts (counted by the client's
//!   connector: the refused SYNs are the downstream's only trace) and the server gets none;
//! - no call lasts longer than its deadline plus [`DEADLINE_SLACK`] of scheduling slack;
//! - after recovery a call succeeds within `cooldown + one probe (timeout max) +`
//!   [`RECOVERY_SLACK`];
//! - the downstream sees at most `(1 + 20 %) x calls + 10 x (seconds + 1)` attempts (the retry
//!   budget's ratio and per-second floor; savings never add to this, they are deposits);
//! - idempotency (see `idempotent_calls_execute_once_per_key` for what is and is not promised).
//!
//! Every test holds [`SERIAL`] (the machine has 2 cores: phases timed in real time must not
//! compete with each other) and runs under a global [`HANG_GUARD`]. Figures are printed
//! (`--nocapture`) and written to `target/chaos-report.md` (`$CARGO_TARGET_DIR` if set).

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use resilient::{circuit_breaker, idempotent, retry, timeout};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep};

const MS: Duration = Duration::from_millis(1);

/// Concurrent callers.
const TASKS: usize = 50;
/// Pause between one task's calls.
const THINK: Duration = Duration::from_millis(25);
/// Every call runs under this caller deadline.
const CALL_DEADLINE: Duration = Duration::from_secs(1);
/// Scheduling slack allowed past a deadline (real time on a loaded 2-core machine).
const DEADLINE_SLACK: Duration = Duration::from_millis(500);
/// The main stack's breaker settings (kept in step with the attribute below).
const COOLDOWN: Duration = Duration::from_millis(500);
const PROBES: usize = 2;
/// The main stack's adaptive timeout's `max`: the longest one probe can take.
const TIMEOUT_MAX: Duration = Duration::from_millis(300);
/// Slack allowed on the recovery time.
const RECOVERY_SLACK: Duration = Duration::from_secs(1);
/// Requests admitted before the breaker opened may still arrive this long after.
const GRACE: Duration = Duration::from_millis(500);
/// The retry budget's defaults: 20 % of calls, at least 10 retries a second.
const BUDGET_RATIO: f64 = 0.2;
const BUDGET_FLOOR_PER_SEC: f64 = 10.0;
/// No test may take longer than this (a hang fails instead of blocking the suite).
const HANG_GUARD: Duration = Duration::from_secs(120);
/// One flapping half-period.
const FLAP: Duration = Duration::from_millis(250);

/// Tests run one at a time: their phases are timed in real time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

mod capacity;
mod client;
mod downstream;
mod fallback;
mod load;
mod modes;
mod per_host;

use client::*;
use downstream::*;
use load::*;

// ---------------------------------------------------------------------------------------------
// The annotated functions
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Charge {
    key: String,
}

/// Body runs (attempts that got past the breaker and the timeout started), per function.
static MAIN_ATTEMPTS: AtomicU64 = AtomicU64::new(0);
static BROWNOUT_ATTEMPTS: AtomicU64 = AtomicU64::new(0);
static STORM_ATTEMPTS: AtomicU64 = AtomicU64::new(0);

/// The stack under test, as the README recommends it.
#[idempotent(key = req.key, ttl = "10m", name = "chaos-main-idempotency")]
#[retry(max = 3, backoff = "exp", base = "20ms", jitter = 0.1, when = is_transient, name = "chaos-main-retry")]
#[circuit_breaker(
    threshold = 5,
    window = "2s",
    cooldown = "500ms",
    probes = 2,
    name = "chaos-main-breaker"
)]
#[timeout(
    "p99*2",
    initial = "300ms",
    min = "100ms",
    max = "300ms",
    warmup = 50,
    window = "5s",
    name = "chaos-main-timeout"
)]
async fn charge(client: &Client, req: Charge) -> Result<String, ChaosError> {
    MAIN_ATTEMPTS.fetch_add(1, SeqCst);
    client.post(&req.key).await
}

/// The brownout stack: a failure-rate breaker that a 60 % failure rate does not trip, so only
/// the retry budget stands between the callers and a retry storm.
#[idempotent(key = req.key, ttl = "10m", name = "chaos-brownout-idempotency")]
#[retry(max = 3, backoff = "exp", base = "10ms", jitter = 0.1, when = is_transient, name = "chaos-brownout-retry")]
#[circuit_breaker(
    failure_rate = 0.9,
    min_calls = 100,
    window = "2s",
    cooldown = "500ms",
    name = "chaos-brownout-breaker"
)]
#[timeout(
    "p99*2",
    initial = "300ms",
    min = "100ms",
    max = "300ms",
    warmup = 50,
    window = "5s",
    name = "chaos-brownout-timeout"
)]
async fn charge_brownout(client: &Client, req: Charge) -> Result<String, ChaosError> {
    BROWNOUT_ATTEMPTS.fetch_add(1, SeqCst);
    client.post(&req.key).await
}

/// The same without a retry budget, for comparison.
#[idempotent(key = req.key, ttl = "10m", name = "chaos-storm-idempotency")]
#[retry(max = 3, backoff = "exp", base = "10ms", jitter = 0.1, when = is_transient, budget = "off", name = "chaos-storm-retry")]
#[circuit_breaker(
    failure_rate = 0.9,
    min_calls = 100,
    window = "2s",
    cooldown = "500ms",
    name = "chaos-storm-breaker"
)]
#[timeout(
    "p99*2",
    initial = "300ms",
    min = "100ms",
    max = "300ms",
    warmup = 50,
    window = "5s",
    name = "chaos-storm-timeout"
)]
async fn charge_storm(client: &Client, req: Charge) -> Result<String, ChaosError> {
    STORM_ATTEMPTS.fetch_add(1, SeqCst);
    client.post(&req.key).await
}

/// Body runs per key of the idempotency scenario.
static ONCE_RUNS: Mutex<BTreeMap<String, u32>> = Mutex::new(BTreeMap::new());

/// The idempotency scenario's stack: enough fixed-delay attempts to outlast a slow first request
/// (the first attempt times out at <= 100 ms, the server finishes at 200 ms, a later attempt
/// gets the server's replay). No budget and a high threshold: this test is about keys, not load.
#[idempotent(key = req.key, ttl = "10m", name = "chaos-once")]
#[retry(max = 6, backoff = "fixed", base = "60ms", jitter = "none", when = is_transient, budget = "off", name = "chaos-once-retry")]
#[circuit_breaker(
    threshold = 10000,
    window = "10s",
    cooldown = "500ms",
    name = "chaos-once-breaker"
)]
#[timeout("p99*2", initial = "100ms", min = "50ms", max = "100ms", name = "chaos-once-timeout")]
async fn charge_once(client: &Client, req: Charge) -> Result<String, ChaosError> {
    *lock(&ONCE_RUNS).entry(req.key.clone()).or_default() += 1;
    client.post(&req.key).await
}

/// Another instance of the same service (another process, as far as idempotency goes): its own
/// in-process store.
#[idempotent(key = req.key, ttl = "10m", name = "chaos-once-replica")]
#[retry(max = 6, backoff = "fixed", base = "60ms", jitter = "none", when = is_transient, budget = "off", name = "chaos-once-replica-retry")]
#[circuit_breaker(
    threshold = 10000,
    window = "10s",
    cooldown = "500ms",
    name = "chaos-once-replica-breaker"
)]
#[timeout(
    "p99*2",
    initial = "100ms",
    min = "50ms",
    max = "100ms",
    name = "chaos-once-replica-timeout"
)]
async fn charge_once_replica(client: &Client, req: Charge) -> Result<String, ChaosError> {
    client.post(&req.key).await
}

// ---------------------------------------------------------------------------------------------
// The scenarios
// ---------------------------------------------------------------------------------------------

struct Phase {
    name: &'static str,
    fault: Fault,
    start: Instant,
    end: Instant,
}

/// Warm-up, then every fault followed by a recovery, under 50 concurrent callers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outages_are_shed_by_the_breaker_and_service_comes_back() {
    let _serial = SERIAL.lock().await;
    tokio::time::timeout(HANG_GUARD, outages_scenario()).await.expect("the scenario hung");
}

async fn outages_scenario() {
    let ds = Downstream::start(40 * MS, false).await;
    let client = Client::new(ds.addr);
    let stop = Arc::new(AtomicBool::new(false));
    let schedule: [(&str, Fault, u64); 9] = [
        ("warm-up", Fault::Healthy, 2000),
        ("slowdown x10", Fault::Slow, 3000),
        ("recovery after slowdown", Fault::Healthy, 2500),
        ("errors (503)", Fault::Errors, 3000),
        ("recovery after errors", Fault::Healthy, 2500),
        ("hard outage (connection refused)", Fault::Down, 3000),
        ("recovery after hard outage", Fault::Healthy, 2500),
        ("flapping 250 ms", Fault::Flapping, 3000),
        ("recovery after flapping", Fault::Healthy, 2500),
    ];
    let began = Instant::now();
    let load = spawn_load(&client, call_main, "main", &stop);
    let mut phases = Vec::new();
    for (name, fault, ms) in schedule {
        let start = ds.set(fault).await;
        sleep(Duration::from_millis(ms)).await;
        phases.push(Phase { name, fault, start, end: Instant::now() });
    }
    stop.store(true, SeqCst);
    let records = join_load(load).await;
    let span = began.elapsed();
    let arrivals = ds.arrivals();
    let refused = client.refused();

    let mut out = String::new();
    out.push_str(&format!(
        "Stack: `#[idempotent] > #[retry(max = 3, exp 20ms, budget 20%)] > \
         #[circuit_breaker(threshold = 5, window = 2s, cooldown = 500ms, probes = 2)] > \
         #[timeout(\"p99*2\", min = 100ms, max = 300ms)]`; downstream latency 40 ms (x10 = 400 ms); \
         {TASKS} tasks, {THINK:?} between calls, each call under a {CALL_DEADLINE:?} deadline.\n\n\
         | phase | client calls | ok | circuit open | timed out | other errors | downstream \
         requests | refused connects | opened after | probes after open + {GRACE:?} (bound) | \
         back after (bound) |\n|---|---|---|---|---|---|---|---|---|---|---|\n"
    ));
    let recovery_bound = COOLDOWN + TIMEOUT_MAX + RECOVERY_SLACK;
    let mut failures = Vec::new();
    for p in &phases {
        let calls: Vec<&CallRecord> =
            records.iter().filter(|r| r.start >= p.start && r.start < p.end).collect();
        let of = |k: Kind| calls.iter().filter(|r| r.kind == k).count();

        let requests = count_in(&arrivals, p.start, p.end);
        let refused_here = count_in(&refused, p.start, p.end);
        let mut opened_col = "-".to_owned();
        let mut probes_col = "-".to_owned();
        let mut back_col = "-".to_owned();
        if matches!(p.fault, Fault::Slow | Fault::Errors | Fault::Down) {
            // The breaker opened when the first caller was turned away.
            let opened = records
                .iter()
                .filter(|r| r.kind == Kind::CircuitOpen && r.end >= p.start && r.end < p.end)
                .map(|r| r.end)
                .min();
            let Some(opened) = opened else {
                failures.push(format!("{}: the breaker never opened", p.name));
                continue;
            };
            let from = opened + GRACE;
            let window = p.end.saturating_duration_since(from);
            let probes = if p.fault == Fault::Down {
                // Nothing reaches the server; the refused connection attempts are the probes.
                if count_in(&arrivals, p.start + GRACE, p.end) != 0 {
                    failures.push(format!("{}: the server got requests while down", p.name));
                }
                count_in(&refused, from, p.end)
            } else {
                count_in(&arrivals, from, p.end)
            };
            let cycles = (window.as_secs_f64() / COOLDOWN.as_secs_f64()).ceil() as usize;
            let bound = PROBES * (cycles + 1);
            if probes > bound {
                failures.push(format!(
                    "{}: {probes} downstream attempts in the {window:?} after the breaker opened \
                     (+ grace), more than probes x (ceil(window / cooldown) + 1) = {bound}",
                    p.name
                ));
            }
            opened_col = secs(opened - p.start);
            probes_col = format!("{probes} in {} ({bound})", secs(window));
        }
        if p.fault == Fault::Healthy && p.name != "warm-up" {
            let back = records
                .iter()
                .filter(|r| r.kind == Kind::Ok && r.end >= p.start)
                .map(|r| r.end)
                .min();
            match back {
                Some(t) if t - p.start <= recovery_bound => {
                    back_col = format!("{} ({})", secs(t - p.start), secs(recovery_bound));
                }
                other => failures.push(format!(
                    "{}: first success {:?} after recovery, bound {recovery_bound:?}",
                    p.name,
                    other.map(|t| t - p.start)
                )),
            }
            // Service is back: most calls started a bound after recovery succeed.
            let late: Vec<_> =
                calls.iter().filter(|r| r.start >= p.start + recovery_bound).collect();
            let ok = late.iter().filter(|r| r.kind == Kind::Ok).count();
            if !late.is_empty() && ok * 2 < late.len() {
                failures.push(format!(
                    "{}: only {ok} of {} late calls succeeded",
                    p.name,
                    late.len()
                ));
            }
        }
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {requests} | {refused_here} | {opened_col} | \
             {probes_col} | {back_col} |\n",
            p.name,
            calls.len(),
            of(Kind::Ok),
            of(Kind::CircuitOpen),
            of(Kind::Timeout),
            of(Kind::Failed),
        ));
    }

    let longest = check_deadlines(&records);
    let attempts = MAIN_ATTEMPTS.load(SeqCst) as usize;
    let downstream = arrivals.len() + refused.len();
    let bound = budget_bound(records.len(), span);
    // A request cut by the outage on a pooled connection is sent again on a fresh one (which is
    // refused): at most one per pooled connection, so TASKS more downstream attempts than runs.
    let downstream_bound = bound + TASKS as f64;
    let failing: Vec<&Phase> = phases
        .iter()
        .filter(|p| matches!(p.fault, Fault::Slow | Fault::Errors | Fault::Down | Fault::Flapping))
        .collect();
    let fail_calls: usize = failing
        .iter()
        .map(|p| records.iter().filter(|r| r.start >= p.start && r.start < p.end).count())
        .sum();
    let fail_downstream: usize = failing
        .iter()
        .map(|p| count_in(&arrivals, p.start, p.end) + count_in(&refused, p.start, p.end))
        .sum();
    out.push_str(&format!(
        "\nWhole run ({}): {} client calls, {attempts} attempts (body runs), {downstream} \
         downstream attempts (requests + refused connects): amplification {:.3} \
         (budget bound (1 + 20 %) x calls + 10/s x (seconds + 1) = {bound:.0}). During the failure \
         phases: {fail_calls} calls, {fail_downstream} downstream attempts, amplification {:.3}. \
         Longest call {} (deadline {} + slack {}). Calls that failed other than by a rejection \
         (all phases, by cause): {:?}; calls in a recovery row that failed started at its very end, \
         as the next fault began.\n",
        secs(span),
        records.len(),
        downstream as f64 / records.len() as f64,
        fail_downstream as f64 / fail_calls.max(1) as f64,
        secs(longest),
        secs(CALL_DEADLINE),
        secs(DEADLINE_SLACK),
        lock(&OTHER_ERRORS),
    ));
    report("Outages, breaker and recovery", &out);

    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(attempts as f64 <= bound, "{attempts} attempts, budget bound {bound:.0}: retry storm");
    assert!(
        downstream as f64 <= downstream_bound,
        "{downstream} downstream attempts, bound {downstream_bound:.0}: retry storm"
    );
}

/// 60 % of requests fail and the breaker (failure-rate mode, 90 %) stays closed: the retry
/// budget alone keeps the load on the downstream near `(1 + 20 %) x calls`; without it the
/// same callers nearly double it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_brownout_does_not_become_a_retry_storm() {
    let _serial = SERIAL.lock().await;
    tokio::time::timeout(HANG_GUARD, brownout_scenario()).await.expect("the scenario hung");
}

struct Run {
    calls: usize,
    ok: usize,
    downstream: usize,
    attempts: u64,
    span: Duration,
}

async fn brownout_run(
    ds: &Downstream,
    client: &Arc<Client>,
    call: CallFn,
    prefix: &'static str,
    counter: &AtomicU64,
) -> Run {
    let stop = Arc::new(AtomicBool::new(false));
    ds.set(Fault::Brownout).await;
    let before = (ds.arrivals().len(), counter.load(SeqCst));
    let began = Instant::now();
    let load = spawn_load(client, call, prefix, &stop);
    sleep(Duration::from_secs(3)).await;
    stop.store(true, SeqCst);
    let records = join_load(load).await;
    let span = began.elapsed();
    check_deadlines(&records);
    Run {
        calls: records.len(),
        ok: records.iter().filter(|r| r.kind == Kind::Ok).count(),
        downstream: ds.arrivals().len() - before.0,
        attempts: counter.load(SeqCst) - before.1,
        span,
    }
}

async fn brownout_scenario() {
    let ds = Downstream::start(20 * MS, false).await;
    let client = Client::new(ds.addr);
    let with = brownout_run(&ds, &client, call_brownout, "brownout", &BROWNOUT_ATTEMPTS).await;
    let without = brownout_run(&ds, &client, call_storm, "storm", &STORM_ATTEMPTS).await;
    let bound = budget_bound(with.calls, with.span);
    let amp = |r: &Run| r.downstream as f64 / r.calls as f64;
    let line = |name: &str, r: &Run| {
        format!(
            "| {name} | {} | {} | {:.1} % | {} | {} | {:.3} |\n",
            secs(r.span),
            r.calls,
            100.0 * r.ok as f64 / r.calls as f64,
            r.attempts,
            r.downstream,
            amp(r)
        )
    };
    let mut out = String::from(
        "Brownout: requests 0, 1, 2 of every 5 answered 503; `#[retry(max = 3)]`, breaker in \
         failure-rate mode (90 %, does not trip); 50 tasks.\n\n\
         | retry budget | time | client calls | calls ok | attempts | downstream requests | \
         amplification |\n|---|---|---|---|---|---|---|\n",
    );
    out.push_str(&line("20 % (default)", &with));
    out.push_str(&line("off", &without));
    out.push_str(&format!(
        "\nBound with the budget: (1 + 20 %) x calls + 10/s x (seconds + 1) = {bound:.0} \
         downstream requests; without it the expected amplification is 1 + 0.6 + 0.36 = 1.96.\n"
    ));
    report("Brownout and the retry budget", &out);

    assert!(
        with.downstream as f64 <= bound,
        "{} downstream requests for {} calls: more than the budget's {bound:.0}",
        with.downstream,
        with.calls
    );
    assert!(with.downstream as u64 <= with.attempts, "every request comes from an attempt");
    assert!(
        amp(&without) >= 1.5 && amp(&without) > amp(&with) + 0.2,
        "the comparison run should show the storm the budget prevents: {:.3} vs {:.3}",
        amp(&without),
        amp(&with)
    );
}

/// What `#[idempotent]` promises, with the first request of each key slow enough (latency x10)
/// that the first attempt times out at the client while the server completes it.
///
/// Guaranteed (asserted): duplicate *calls* with the same key, sent concurrently or after a
/// success, in this process and within the ttl, execute the annotated body for one of them only
/// (its attempts), and every caller gets that call's result.
///
/// Not guaranteed (shown, not hidden): with `#[idempotent]` above `#[retry]`, the retries of that
/// one call are inside the idempotency layer, so the *downstream* can receive the key several
/// times (here: an attempt that timed out at the client but completed at the server, then its
/// retry). Only a downstream that deduplicates on the key (this one does, as payment APIs do)
/// executes the effect once. Likewise another process (its own in-process store), a call after
/// the ttl, after an `Err` (not stored), after eviction (`max_entries`), or after the first call
/// was cancelled runs the body again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_calls_execute_once_per_key() {
    let _serial = SERIAL.lock().await;
    tokio::time::timeout(HANG_GUARD, idempotency_scenario()).await.expect("the scenario hung");
}

const KEYS: usize = 20;
const DUPLICATES: usize = 5;
const ONCE_ATTEMPTS: u32 = 6;
const ONCE_DEADLINE: Duration = Duration::from_secs(2);

/// `DUPLICATES` concurrent calls per key, all keys at once; returns (key, result, duration).
async fn wave(
    client: &Arc<Client>,
    replica: bool,
) -> Vec<(String, Result<String, ChaosError>, Duration)> {
    let mut handles = Vec::new();
    for k in 0..KEYS {
        for _ in 0..DUPLICATES {
            let client = Arc::clone(client);
            let key = format!("order-{k}");
            handles.push(tokio::spawn(async move {
                let start = Instant::now();
                let req = Charge { key: key.clone() };
                let out = if replica {
                    resilient::deadline::scope(
                        start + ONCE_DEADLINE,
                        charge_once_replica(&client, req),
                    )
                    .await
                } else {
                    resilient::deadline::scope(start + ONCE_DEADLINE, charge_once(&client, req))
                        .await
                };
                (key, out, start.elapsed())
            }));
        }
    }
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("a caller panicked"));
    }
    out
}

fn idempotency_stats(name: &str) -> serde_json::Value {
    let snap = resilient::registry::snapshot();
    let policy = snap.get(name).unwrap_or_else(|| panic!("{name} is not in the registry"));
    serde_json::to_value(policy).unwrap()["state"].clone()
}

async fn idempotency_scenario() {
    let ds = Downstream::start(20 * MS, true).await;
    ds.set(Fault::SlowFirst).await;
    let client = Client::new(ds.addr);

    // Wave 1: every key called by 5 callers at once; each key's first request takes 200 ms at
    // the server, past the client's 100 ms timeout.
    let first = wave(&client, false).await;
    let mut receipts: BTreeMap<String, String> = BTreeMap::new();
    let mut longest = Duration::ZERO;
    for (key, out, took) in &first {
        longest = longest.max(*took);
        let receipt = out.as_ref().unwrap_or_else(|e| panic!("{key}: {e:?}"));
        let kept = receipts.entry(key.clone()).or_insert_with(|| receipt.clone());
        assert_eq!(kept, receipt, "{key}: every caller gets the one execution's result");
    }
    assert!(
        longest <= ONCE_DEADLINE + DEADLINE_SLACK,
        "a call took {longest:?}, deadline {ONCE_DEADLINE:?} + slack {DEADLINE_SLACK:?}"
    );
    let runs = lock(&ONCE_RUNS).clone();
    let mut per_key_requests = BTreeMap::<u32, usize>::new();
    for key in receipts.keys() {
        let (requests, executions, _) = ds.key(key);
        let body_runs = runs.get(key).copied().unwrap_or(0);
        assert!(
            (1..=ONCE_ATTEMPTS).contains(&body_runs),
            "{key}: {body_runs} body runs: the attempts of one call only (max {ONCE_ATTEMPTS})"
        );
        assert!(requests <= body_runs, "{key}: {requests} requests from {body_runs} body runs");
        assert_eq!(executions, 1, "{key}: the downstream executed the effect once");
        *per_key_requests.entry(requests).or_default() += 1;
    }
    let stats = idempotency_stats("chaos-once");
    assert_eq!(stats["misses"], KEYS as u64, "one call per key ran the body: {stats}");
    assert_eq!(
        stats["hits"],
        (KEYS * (DUPLICATES - 1)) as u64,
        "the others were answered: {stats}"
    );
    let repeated_at_downstream: usize =
        per_key_requests.iter().filter(|(r, _)| **r >= 2).map(|(_, n)| n).sum();
    assert!(
        repeated_at_downstream >= 1,
        "the slow first requests should make the downstream see some keys twice: \
         {per_key_requests:?}"
    );

    // Wave 2: the same calls again, after success: answered from the store, nothing sent.
    let requests_before = ds.arrivals().len();
    let second = wave(&client, false).await;
    for (key, out, _) in &second {
        assert_eq!(out.as_ref().ok(), receipts.get(key), "{key}: the stored answer");
    }
    assert_eq!(ds.arrivals().len(), requests_before, "no request after success");
    assert_eq!(*lock(&ONCE_RUNS), runs, "no body run after success");
    let after = idempotency_stats("chaos-once");

    // Wave 3: another instance of the service with the same keys. Its in-process store has never
    // seen them: its bodies run and the downstream gets the keys again; only the downstream's
    // own deduplication keeps the effect single.
    let third = wave(&client, true).await;
    for (key, out, _) in &third {
        assert_eq!(out.as_ref().ok(), receipts.get(key), "{key}: replayed by the downstream");
    }
    let resent = ds.arrivals().len() - requests_before;
    assert!(resent >= KEYS, "the replica sent every key again ({resent} requests)");
    for key in receipts.keys() {
        assert_eq!(ds.key(key).1, 1, "{key}: still one execution at the downstream");
    }

    let out = format!(
        "{KEYS} keys x {DUPLICATES} concurrent callers; the first request of each key takes 200 ms \
         (latency x10) at the downstream, past the client's 100 ms timeout; `#[retry(max = 6, \
         fixed 60ms)]` inside `#[idempotent]`.\n\n\
         - body runs (annotated fn) per key: {:?} (callers per key: {DUPLICATES}); idempotency \
         stats after wave 1: misses {}, hits {}, joins {}\n\
         - downstream requests per key (requests -> keys): {per_key_requests:?}: the downstream \
         saw {repeated_at_downstream} of {KEYS} keys more than once (attempt timed out at the \
         client, completed at the server, then retried); executions per key at the downstream: 1 \
         (it deduplicates)\n\
         - wave 2 (same calls after success): 0 requests, 0 body runs, identical receipts; \
         hits now {}\n\
         - wave 3 (another instance, own in-process store): {resent} requests reached the \
         downstream again; its deduplication kept 1 execution per key\n\
         - longest call {} (deadline {})\n",
        runs.values().collect::<Vec<_>>(),
        stats["misses"],
        stats["hits"],
        stats["joins"],
        after["hits"],
        secs(longest),
        secs(ONCE_DEADLINE),
    );
    report("Idempotency under client timeouts", &out);
}
