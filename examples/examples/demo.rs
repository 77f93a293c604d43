//! The demo: one client, naive and resilient, against a downstream that fails.
//!
//! The demo starts a tiny HTTP server on 127.0.0.1 (a port the OS picks): the downstream, an
//! order service that goes through five phases on a fixed schedule:
//!
//! ```text
//! healthy 2.5 s → outage 2.5 s (every request: 503) → slow 2.5 s (latency ×10)
//!   → recovering 2 s (1 request in 10: 503) → healthy 2.5 s
//! ```
//!
//! Two copies of that server run the same schedule side by side. The same client code calls
//! one of them as a plain `async fn` (naive) and the other through
//! `#[idempotent] #[retry] #[circuit_breaker] #[timeout("p99*2")]` (resilient). Both send the
//! same traffic: 40 orders a second, one in five a resend of an earlier order with the same
//! idempotency key (a user double-clicking, a client resending after a lost answer).
//!
//! Every half second a line shows what each side saw; at the end a table compares them. Every
//! number comes from counters: the servers count what they receive, the callers count their
//! answers, and the resilient side's breaker, retry, timeout and idempotency columns are read
//! from `resilient::registry::snapshot()`.
//!
//! While it runs, the live observability endpoint (`support/metrics_endpoint.rs`) serves every
//! resilient metric in Prometheus' text format and the registry snapshot as JSON, on a loopback
//! port; the demo prints both URLs. At the end it prints the `resilient_*` series it recorded.
//!
//! Run it with `cargo run -p resilient-examples --example demo` (about 13 seconds); add
//! `-- --serve` to keep the endpoint up afterwards (Ctrl-C ends it).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use resilient::registry::{self, PolicyState};
use resilient::runtime::breaker::CircuitState;
use resilient::{circuit_breaker, idempotent, retry, timeout};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior, interval, sleep};

const MS: Duration = Duration::from_millis(1);
/// One line of the timeline per tick.
const TICK: Duration = Duration::from_millis(500);
/// One order every 25 ms: 40 a second, on each side.
const SEND_EVERY: Duration = Duration::from_millis(25);
/// The name the attributes give the resilient function's policies (`module::function`).
const POLICY: &str = "demo::place_order";

// ---------------------------------------------------------------------------------------------
// The fault schedule, and the downstream that follows it.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// Answers 200 in 8–15 ms.
    Healthy,
    /// Hard outage: answers every request with 503 at once.
    Outage,
    /// Answers 200, but ten times slower: 80–150 ms.
    Slow,
    /// Normal latency, but one request in ten gets a 503.
    Recovering,
}

impl Phase {
    fn label(self) -> &'static str {
        match self {
            Phase::Healthy => "healthy",
            Phase::Outage => "OUTAGE (503)",
            Phase::Slow => "slow (x10)",
            Phase::Recovering => "recovering",
        }
    }
}

/// The phases and how long each lasts, in milliseconds.
const SCHEDULE: [(Phase, u64); 5] = [
    (Phase::Healthy, 2500),
    (Phase::Outage, 2500),
    (Phase::Slow, 2500),
    (Phase::Recovering, 2000),
    (Phase::Healthy, 2500),
];

/// The phase at `t` since the start (the last one goes on after the schedule ends).
fn phase_at(t: Duration) -> Phase {
    let mut end = Duration::ZERO;
    for (phase, ms) in SCHEDULE {
        end += Duration::from_millis(ms);
        if t < end {
            return phase;
        }
    }
    SCHEDULE[SCHEDULE.len() - 1].0
}

/// When `phase` first starts in the schedule.
fn phase_start(phase: Phase) -> Duration {
    let mut start = Duration::ZERO;
    for (p, ms) in SCHEDULE {
        if p == phase {
            return start;
        }
        start += Duration::from_millis(ms);
    }
    start
}

fn run_length() -> Duration {
    SCHEDULE.iter().map(|(_, ms)| Duration::from_millis(*ms)).sum()
}

/// What one downstream server counted.
#[derive(Default)]
struct Downstream {
    /// Requests received since the last tick (the timeline resets it).
    this_tick: AtomicU64,
    /// Requests received in all.
    total: AtomicU64,
    /// Requests received while the outage phase was on.
    in_outage: AtomicU64,
}

/// Starts a downstream on an ephemeral port of 127.0.0.1; it follows the schedule from `start`.
async fn start_downstream(start: Instant) -> std::io::Result<(SocketAddr, Arc<Downstream>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let stats = Arc::new(Downstream::default());
    let counters = stats.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let counters = counters.clone();
            let service = service_fn(move |request| serve(request, start, counters.clone()));
            tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        }
    });
    Ok((addr, stats))
}

/// The downstream's one endpoint: `POST /orders`, behaving as the current phase says.
async fn serve<B>(
    _request: Request<B>,
    start: Instant,
    stats: Arc<Downstream>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let n = stats.total.fetch_add(1, Relaxed);
    stats.this_tick.fetch_add(1, Relaxed);
    let phase = phase_at(start.elapsed());
    // A deterministic spread of latencies: 8..=15 ms, and ten times that when slow.
    let latency = Duration::from_millis(8 + n * 7 % 8);
    let (status, latency) = match phase {
        Phase::Healthy => (StatusCode::OK, latency),
        Phase::Outage => {
            stats.in_outage.fetch_add(1, Relaxed);
            (StatusCode::SERVICE_UNAVAILABLE, MS)
        }
        Phase::Slow => (StatusCode::OK, latency * 10),
        Phase::Recovering if n.is_multiple_of(10) => (StatusCode::SERVICE_UNAVAILABLE, latency),
        Phase::Recovering => (StatusCode::OK, latency),
    };
    sleep(latency).await;
    let body = if status == StatusCode::OK { format!("receipt #{n}") } else { String::new() };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    Ok(response)
}

// ---------------------------------------------------------------------------------------------
// The client: the same code, naive and resilient.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Order {
    /// The idempotency key the client picked for this order; a resend carries the same one.
    key: String,
    item: u64,
}

#[derive(Clone, Debug)]
enum CallError {
    /// The downstream answered with an error status.
    Status(u16),
    /// The connection failed.
    Io,
    /// A resilience policy turned the call away (open circuit, timeout).
    Rejected(resilient::Error),
}

impl From<resilient::Error> for CallError {
    fn from(e: resilient::Error) -> Self {
        CallError::Rejected(e)
    }
}

impl CallError {
    /// 5xx, connection errors and timeouts are worth another try; anything else is not.
    fn is_transient(&self) -> bool {
        match self {
            CallError::Status(s) => *s >= 500,
            CallError::Io => true,
            CallError::Rejected(e) => e.is_timeout(),
        }
    }
}

/// One HTTP/1.1 request on a fresh connection: the client code both sides share.
async fn post_order(addr: SocketAddr, order: &Order) -> Result<String, CallError> {
    let io = |_: std::io::Error| CallError::Io;
    let mut stream = TcpStream::connect(addr).await.map_err(io)?;
    let body = format!("item={}", order.item);
    let request = format!(
        "POST /orders HTTP/1.1\r\nHost: {addr}\r\nIdempotency-Key: {}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        order.key,
        body.len()
    );
    stream.write_all(request.as_bytes()).await.map_err(io)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.map_err(io)?;
    let response = String::from_utf8_lossy(&response);
    let status = response.split(' ').nth(1).and_then(|s| s.parse::<u16>().ok()).unwrap_or(0);
    if status != 200 {
        return Err(CallError::Status(status));
    }
    Ok(response.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned())
}

/// Naive: a plain `async fn`. No timeout, no retry, nothing between the caller and the network.
async fn place_order_naive(addr: SocketAddr, order: Order) -> Result<String, CallError> {
    post_order(addr, &order).await
}

/// Resilient: the same body, four attributes. Topmost is outermost: a resend is answered from
/// the idempotency store; otherwise transient errors are retried with backoff, each attempt
/// passes the circuit breaker and gets its own adaptive timeout (twice the p99 of recent calls).
/// The windows and the cooldown are short to fit a 12 s demo; the seed's "5 failures in 30 s"
/// with a 10 s cooldown is the usual production start.
#[idempotent(key = order.key, ttl = "24h")]
#[retry(max = 3, backoff = "exp", base = "50ms", jitter = 0.1, when = CallError::is_transient)]
#[circuit_breaker(threshold = 5, window = "1s", cooldown = "500ms")]
#[timeout("p99*2", initial = "500ms", min = "20ms", max = "2s", warmup = 20, window = "4s")]
async fn place_order(addr: SocketAddr, order: Order) -> Result<String, CallError> {
    post_order(addr, &order).await
}

// ---------------------------------------------------------------------------------------------
// Load, counting and printing.
// ---------------------------------------------------------------------------------------------

/// One answer a caller got.
struct Answer {
    started: Duration,
    finished: Duration,
    ok: bool,
}

/// What one side's callers saw.
#[derive(Default)]
struct Callers {
    ok_this_tick: AtomicU64,
    failed_this_tick: AtomicU64,
    answers: Mutex<Vec<Answer>>,
}

impl Callers {
    fn record(&self, started: Duration, finished: Duration, ok: bool) {
        let counter = if ok { &self.ok_this_tick } else { &self.failed_this_tick };
        counter.fetch_add(1, Relaxed);
        self.answers.lock().unwrap().push(Answer { started, finished, ok });
    }
}

/// The resilient side's policies as the registry shows them now.
#[derive(Default)]
struct Policies {
    breaker: Option<CircuitState>,
    retries: u64,
    timeout: Option<Duration>,
    from_store: u64,
}

fn policies() -> Policies {
    let mut out = Policies::default();
    for policy in registry::snapshot().policies.into_iter().filter(|p| p.name == POLICY) {
        match policy.state {
            PolicyState::CircuitBreaker(b) => out.breaker = Some(b.state),
            PolicyState::Retry(r) => out.retries = r.retries,
            PolicyState::Timeout(t) => out.timeout = Some(t.current),
            PolicyState::Idempotency(i) => out.from_store = i.hits,
            _ => {}
        }
    }
    out
}

fn breaker_label(state: Option<CircuitState>) -> &'static str {
    match state {
        Some(CircuitState::Closed) => "closed",
        Some(CircuitState::Open) => "OPEN",
        Some(CircuitState::HalfOpen) => "half-open",
        None => "-",
    }
}

fn ms(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

/// The `q` quantile of the callers' latencies (every answer, success or failure).
fn quantile(answers: &[Answer], q: f64) -> Duration {
    let mut latencies: Vec<_> = answers.iter().map(|a| a.finished - a.started).collect();
    latencies.sort();
    let i = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len().max(1)) - 1;
    latencies.get(i).copied().unwrap_or_default()
}

/// How long after `from` the callers had 10 successes in a row again (by start time), counted
/// to the answer of the first of them.
fn recovered_after(answers: &[Answer], from: Duration) -> Option<Duration> {
    let mut after: Vec<_> = answers.iter().filter(|a| a.started >= from).collect();
    after.sort_by_key(|a| a.started);
    after.windows(10).find(|w| w.iter().all(|a| a.ok)).map(|w| w[0].finished - from)
}

fn success_rate(answers: &[Answer], phase: Option<Phase>) -> String {
    let (ok, all) = answers
        .iter()
        .filter(|a| phase.is_none_or(|p| phase_at(a.started) == p))
        .fold((0, 0), |(ok, all), a| (ok + u32::from(a.ok), all + 1));
    format!("{:.0}% of {all}", 100.0 * f64::from(ok) / f64::from(all.max(1)))
}

#[path = "support/metrics_endpoint.rs"]
mod metrics_endpoint;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    // Before the first annotated call: policies resolve their metric handles when built.
    let endpoint = metrics_endpoint::start(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    println!("Live metrics (Prometheus text): {}", endpoint.metrics_url());
    println!("Registry snapshot (JSON):       {}\n", endpoint.registry_url());
    run().await?;
    println!(
        "\nWhat {} serves now (resilient_* series, HELP/TYPE lines left out):",
        endpoint.metrics_url()
    );
    let scrape = endpoint.handle.render();
    for line in scrape.lines().filter(|l| l.starts_with("resilient_") && !l.contains("_bucket{")) {
        println!("  {line}");
    }
    if std::env::args().any(|a| a == "--serve") {
        println!(
            "\nServing {} and {} until Ctrl-C.",
            endpoint.metrics_url(),
            endpoint.registry_url()
        );
        tokio::signal::ctrl_c().await?;
    }
    Ok(())
}

/// Both sides against their downstreams, the timeline, and the summary.
async fn run() -> std::io::Result<()> {
    let start = Instant::now();
    let (naive_addr, naive_down) = start_downstream(start).await?;
    let (resilient_addr, resilient_down) = start_downstream(start).await?;
    let naive = Arc::new(Callers::default());
    let resilient = Arc::new(Callers::default());

    println!("Two copies of a downstream order service on 127.0.0.1 follow the same schedule:");
    let phases: Vec<_> =
        SCHEDULE.iter().map(|(p, ms)| format!("{} {:.1}s", p.label(), *ms as f64 / 1e3)).collect();
    println!("  {}", phases.join(" -> "));
    println!("naive     = a plain async fn, calling {naive_addr}");
    println!(
        "resilient = the same fn under #[idempotent] #[retry] #[circuit_breaker] \
         #[timeout(\"p99*2\")], calling {resilient_addr}"
    );
    println!("Each side sends 40 orders/s; 1 in 5 is a resend of an earlier order (same key).");
    println!(
        "Columns: load/s = requests/s the downstream received; ok/failed = answers the callers \
         got in that half second;\n  breaker = its state now; retries, from store = totals so \
         far; timeout = the adaptive limit now\n  (2 x p99 of recent successful calls, or the \
         initial 500 ms while fewer than 20 are recent).\n"
    );
    println!("{:>5}  {:<12} | {:^20} | {:^59}", "t", "downstream", "naive", "resilient");
    println!(
        "{:>5}  {:<12} | {:>6} {:>6} {:>6} | {:>6} {:>6} {:>6}  {:<9} {:>7} {:>8} {:>10}",
        "s",
        "phase",
        "load/s",
        "ok",
        "failed",
        "load/s",
        "ok",
        "failed",
        "breaker",
        "retries",
        "timeout",
        "from store"
    );

    // The load: one order every 25 ms to each side, the same orders on both.
    let load = {
        let (naive, resilient) = (naive.clone(), resilient.clone());
        tokio::spawn(async move {
            let mut calls = JoinSet::new();
            let mut every = interval(SEND_EVERY);
            every.set_missed_tick_behavior(MissedTickBehavior::Delay);
            for n in 0u64.. {
                every.tick().await;
                if start.elapsed() >= run_length() {
                    break;
                }
                // Every fifth order is a resend of the one sent two orders before.
                let id = if n % 5 == 4 { n - 2 } else { n };
                let order = Order { key: format!("order-{id}"), item: id % 7 };
                let (callers, order_) = (naive.clone(), order.clone());
                calls.spawn(async move {
                    let started = start.elapsed();
                    let ok = place_order_naive(naive_addr, order_).await.is_ok();
                    callers.record(started, start.elapsed(), ok);
                });
                let callers = resilient.clone();
                calls.spawn(async move {
                    let started = start.elapsed();
                    let ok = place_order(resilient_addr, order).await.is_ok();
                    callers.record(started, start.elapsed(), ok);
                });
                while calls.try_join_next().is_some() {}
            }
            calls.join_all().await;
        })
    };

    // The timeline: one line per tick, until the load is over.
    let mut ticks = interval(TICK);
    ticks.tick().await;
    let mut last_phase = None;
    while !load.is_finished() {
        ticks.tick().await;
        let t = start.elapsed();
        let phase = phase_at(t - TICK / 2);
        if last_phase.is_some_and(|p| p != phase) {
            println!("{:>5}  {}", "", "-".repeat(104));
        }
        last_phase = Some(phase);
        let per_sec = |d: &Downstream| d.this_tick.swap(0, Relaxed) as f64 / TICK.as_secs_f64();
        let p = policies();
        let label = if t - TICK / 2 >= run_length() { "(done)" } else { phase.label() };
        println!(
            "{:>5.1}  {:<12} | {:>6.0} {:>6} {:>6} | {:>6.0} {:>6} {:>6}  {:<9} {:>7} {:>8} {:>10}",
            t.as_secs_f64(),
            label,
            per_sec(&naive_down),
            naive.ok_this_tick.swap(0, Relaxed),
            naive.failed_this_tick.swap(0, Relaxed),
            per_sec(&resilient_down),
            resilient.ok_this_tick.swap(0, Relaxed),
            resilient.failed_this_tick.swap(0, Relaxed),
            breaker_label(p.breaker),
            p.retries,
            p.timeout.map(ms).unwrap_or_default(),
            p.from_store,
        );
    }
    load.await.expect("the load task does not panic");

    // The summary, from the counters.
    let naive_answers = naive.answers.lock().unwrap();
    let resilient_answers = resilient.answers.lock().unwrap();
    let p = policies();
    let came_back = phase_start(Phase::Slow);
    let recovery =
        |a: &[Answer]| recovered_after(a, came_back).map_or("not within the run".into(), ms);
    let rows: [(&str, String, String); 8] = [
        (
            "requests the downstream received during the outage",
            naive_down.in_outage.load(Relaxed).to_string(),
            resilient_down.in_outage.load(Relaxed).to_string(),
        ),
        (
            "requests the downstream received in all",
            naive_down.total.load(Relaxed).to_string(),
            resilient_down.total.load(Relaxed).to_string(),
        ),
        (
            "back to 10 successes in a row after the outage",
            recovery(&naive_answers),
            recovery(&resilient_answers),
        ),
        ("p50 latency seen by callers", ms(quantile(&naive_answers, 0.5)), {
            ms(quantile(&resilient_answers, 0.5))
        }),
        ("p99 latency seen by callers", ms(quantile(&naive_answers, 0.99)), {
            ms(quantile(&resilient_answers, 0.99))
        }),
        (
            "calls that succeeded, whole run",
            success_rate(&naive_answers, None),
            success_rate(&resilient_answers, None),
        ),
        (
            "calls that succeeded while recovering (1 in 10 fails)",
            success_rate(&naive_answers, Some(Phase::Recovering)),
            success_rate(&resilient_answers, Some(Phase::Recovering)),
        ),
        ("calls answered from the idempotency store", "0".into(), p.from_store.to_string()),
    ];
    println!("\n{:<54} {:>14} {:>14}", "summary", "naive", "resilient");
    println!("{}", "-".repeat(84));
    for (what, n, r) in rows {
        println!("{what:<54} {n:>14} {r:>14}");
    }
    let (naive_outage, resilient_outage) =
        (naive_down.in_outage.load(Relaxed), resilient_down.in_outage.load(Relaxed));
    println!("\nWhat the counters say:");
    println!(
        "- During the outage the naive client kept sending into a dead service ({naive_outage} \
         requests); the open breaker let through {resilient_outage}, the probes included."
    );
    println!(
        "- {} resends were answered from the idempotency store and never reached the downstream.",
        p.from_store
    );
    println!(
        "- While recovering, {} of the naive calls succeeded; with retries ({} in the whole \
         run), {} of the resilient ones.",
        success_rate(&naive_answers, Some(Phase::Recovering)),
        p.retries,
        success_rate(&resilient_answers, Some(Phase::Recovering))
    );
    println!(
        "- The price: an open breaker waits out its cooldown (500 ms) before it probes, so the \
         resilient side was back after {} instead of {}.",
        recovery(&resilient_answers),
        recovery(&naive_answers)
    );
    Ok(())
}
