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
//! One copy of that server per client runs the same schedule side by side. The same client code
//! calls them as a plain `async fn` and through `#[idempotent] #[retry] #[circuit_breaker]
//! #[timeout("p99*2")]`, once with the open/closed breaker, once with the breaker in adaptive
//! mode (client-side throttling), and once hedged (`#[hedge(after = "p95")]` above the open/closed
//! breaker); every client is one entry of `CLIENTS`. All send the same
//! traffic: 40 orders a second, one in five a resend of an earlier order with the same
//! idempotency key (a user double-clicking, a client resending after a lost answer).
//!
//! Every half second a line shows what each side saw; at the end a table compares them. Every
//! number comes from counters: the servers count what they receive, the callers count their
//! answers, and the breaker columns are read from `resilient::registry::snapshot()`.
//!
//! While it runs, the live observability endpoint (`support/metrics_endpoint.rs`) serves every
//! resilient metric in Prometheus' text format and the registry snapshot as JSON, on a loopback
//! port; the demo prints both URLs. At the end it prints the `resilient_*` series it recorded.
//!
//! Run it with `cargo run -p resilient-examples --example demo` (about 13 seconds); add
//! `-- --serve` to keep the endpoint up afterwards (Ctrl-C ends it), `-- --timeouts=settled` to
//! set `timeouts = "settled"` on every breaker by configuration (a timeout at a learned adaptive
//! limit below its `max` is then not a breaker failure; the default counts every timeout).

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
use resilient::{circuit_breaker, hedge, idempotent, retry, timeout};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior, interval, sleep};

const MS: Duration = Duration::from_millis(1);
/// One line of the timeline per tick.
const TICK: Duration = Duration::from_millis(500);
/// One order every 25 ms: 40 a second, on each side.
const SEND_EVERY: Duration = Duration::from_millis(25);

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

/// Plain: an `async fn`. No timeout, no retry, nothing between the caller and the network.
async fn place_order_plain(addr: SocketAddr, order: Order) -> Result<String, CallError> {
    post_order(addr, &order).await
}

/// The same body, four attributes. Topmost is outermost: a resend is answered from the
/// idempotency store; otherwise transient errors are retried with backoff, each attempt passes
/// the circuit breaker and gets its own adaptive timeout (twice the p99 of recent calls). The
/// windows and the cooldown are short to fit a 12 s demo; the seed's "5 failures in 30 s" with a
/// 10 s cooldown is the usual production start.
#[idempotent(key = order.key, ttl = "24h")]
#[retry(max = 3, backoff = "exp", base = "50ms", jitter = 0.1, when = CallError::is_transient)]
#[circuit_breaker(threshold = 5, window = "1s", cooldown = "500ms")]
#[timeout("p99*2", initial = "500ms", min = "20ms", max = "2s", warmup = 20, window = "4s")]
async fn place_order_binary(addr: SocketAddr, order: Order) -> Result<String, CallError> {
    post_order(addr, &order).await
}

/// The same with the breaker in adaptive mode: each call is turned away with probability
/// (requests - 2 x accepts) / (requests + 1) over the last 250 ms (about ten calls at this
/// rate), at most 90 %; no cooldown.
#[idempotent(key = order.key, ttl = "24h")]
#[retry(max = 3, backoff = "exp", base = "50ms", jitter = 0.1, when = CallError::is_transient)]
#[circuit_breaker(mode = "adaptive", k = 2.0, window = "250ms")]
#[timeout("p99*2", initial = "500ms", min = "20ms", max = "2s", warmup = 20, window = "4s")]
async fn place_order_adaptive(addr: SocketAddr, order: Order) -> Result<String, CallError> {
    post_order(addr, &order).await
}

/// The open/closed stack with a hedge between the retry and the breaker: when an attempt has not
/// answered after the p95 of recent first attempts, a second one starts beside it (within a
/// budget of 10 % of calls); each passes the breaker and has its own timeout. `#[idempotent]`
/// stays above `#[hedge]`: a resend is answered from the store, never hedged.
#[idempotent(key = order.key, ttl = "24h")]
#[retry(max = 3, backoff = "exp", base = "50ms", jitter = 0.1, when = CallError::is_transient)]
#[hedge(after = "p95", warmup = 20, window = "4s")]
#[circuit_breaker(threshold = 5, window = "1s", cooldown = "500ms")]
#[timeout("p99*2", initial = "500ms", min = "20ms", max = "2s", warmup = 20, window = "4s")]
async fn place_order_hedged(addr: SocketAddr, order: Order) -> Result<String, CallError> {
    post_order(addr, &order).await
}

type CallFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<String, CallError>> + Send>>;

/// One client of the comparison, calling its own copy of the downstream.
struct Client {
    name: &'static str,
    /// The policies' name (`module::function`), for the registry; empty for the plain client.
    policy: &'static str,
    call: fn(SocketAddr, Order) -> CallFuture,
}

/// The clients, side by side.
const CLIENTS: &[Client] = &[
    Client { name: "plain", policy: "", call: |a, o| Box::pin(place_order_plain(a, o)) },
    Client {
        name: "binary breaker",
        policy: "demo::place_order_binary",
        call: |a, o| Box::pin(place_order_binary(a, o)),
    },
    Client {
        name: "adaptive breaker",
        policy: "demo::place_order_adaptive",
        call: |a, o| Box::pin(place_order_adaptive(a, o)),
    },
    Client {
        name: "hedged",
        policy: "demo::place_order_hedged",
        call: |a, o| Box::pin(place_order_hedged(a, o)),
    },
];

/// `--timeouts=settled`: sets `timeouts = "settled"` on every client's breaker, by
/// configuration (as an operator would, at run time).
fn count_timeouts_from_args() {
    let Some(word) = std::env::args().find_map(|a| a.strip_prefix("--timeouts=").map(String::from))
    else {
        return;
    };
    let text: String = CLIENTS
        .iter()
        .filter(|c| !c.policy.is_empty())
        .map(|c| format!("[\"{}\".circuit_breaker]\ntimeouts = \"{word}\"\n", c.policy))
        .collect();
    match resilient::config::apply(&text) {
        Ok(_) => println!("Every breaker: timeouts = \"{word}\" (by configuration).\n"),
        Err(e) => eprintln!("--timeouts={word}: {e}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Load, counting and printing.
// ---------------------------------------------------------------------------------------------

/// One answer a caller got.
#[derive(Clone, Copy)]
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

/// A resilient client's policies as the registry shows them now.
#[derive(Default)]
struct Policies {
    /// The breaker now: its state, or the share of calls the adaptive one turns away.
    breaker: String,
    retries: u64,
    from_store: u64,
    /// Hedges sent and won, for a hedged client.
    hedges: Option<(u64, u64)>,
}

fn policies(name: &str) -> Policies {
    let mut out = Policies { breaker: "-".into(), ..Policies::default() };
    for policy in registry::snapshot().policies.into_iter().filter(|p| p.name == name) {
        match policy.state {
            PolicyState::CircuitBreaker(b) => out.breaker = breaker_label(b.state).into(),
            PolicyState::AdaptiveBreaker(a) => {
                out.breaker = format!("{:.0}% shed", 100.0 * a.rejection_probability);
            }
            PolicyState::Retry(r) => out.retries = r.retries,
            PolicyState::Idempotency(i) => out.from_store = i.hits,
            PolicyState::Hedge(h) => out.hedges = Some((h.hedges_sent, h.hedges_won)),
            _ => {}
        }
    }
    out
}

fn breaker_label(state: CircuitState) -> &'static str {
    match state {
        CircuitState::Closed => "closed",
        CircuitState::Open => "OPEN",
        CircuitState::HalfOpen => "half-open",
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

/// Time back to steady success: from `from` (the end of the outage) to the answer of the first
/// call of the first run of 10 calls in a row (by start time, among calls started after
/// `from`) that all succeeded.
fn recovered_after(answers: &[Answer], from: Duration) -> Option<Duration> {
    let mut after: Vec<_> = answers.iter().filter(|a| a.started >= from).collect();
    after.sort_by_key(|a| a.started);
    after.windows(10).find(|w| w.iter().all(|a| a.ok)).map(|w| w[0].finished - from)
}

/// Calls answered `Ok`, over all calls started (in `phase`, or in the whole run).
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
    count_timeouts_from_args();
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

/// Every client against its downstream, the timeline, and the summary.
async fn run() -> std::io::Result<()> {
    let start = Instant::now();
    let mut sides = Vec::new();
    for client in CLIENTS {
        let (addr, down) = start_downstream(start).await?;
        sides.push((client, addr, down, Arc::new(Callers::default())));
    }

    println!(
        "One copy of a downstream order service per client, on 127.0.0.1, follows the schedule:"
    );
    let phases: Vec<_> =
        SCHEDULE.iter().map(|(p, ms)| format!("{} {:.1}s", p.label(), *ms as f64 / 1e3)).collect();
    println!("  {}", phases.join(" -> "));
    println!("plain            = a plain async fn");
    println!(
        "binary breaker   = the same fn under #[idempotent] #[retry] #[circuit_breaker(threshold = 5, \
         window = \"1s\", cooldown = \"500ms\")] #[timeout(\"p99*2\")]"
    );
    println!(
        "adaptive breaker = the same, with #[circuit_breaker(mode = \"adaptive\", k = 2.0, window = \"250ms\")]"
    );
    println!(
        "hedged           = the binary breaker's stack with #[hedge(after = \"p95\", warmup = 20, \
         window = \"4s\")] between #[retry] and #[circuit_breaker]"
    );
    println!("Each client sends 40 orders/s; 1 in 5 is a resend of an earlier order (same key).");
    println!(
        "Columns per client: load/s = requests/s its downstream received; ok/fail = answers its \
         callers got in that half second;\n  breaker = the breaker's state now (the adaptive one: \
         the share of calls it turns away now).\n"
    );
    let mut head = format!("{:>5}  {:<12}", "t", "downstream");
    let mut cols = format!("{:>5}  {:<12}", "s", "phase");
    for client in CLIENTS {
        head.push_str(&format!(" | {:^28}", client.name));
        cols.push_str(&format!(" | {:>6} {:>5} {:>5} {:>9}", "load/s", "ok", "fail", "breaker"));
    }
    println!("{head}\n{cols}");

    // The load: one order every 25 ms to each client, the same orders for all.
    let load = {
        let sides: Vec<_> =
            sides.iter().map(|(c, addr, _, callers)| (c.call, *addr, callers.clone())).collect();
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
                for (call, addr, callers) in &sides {
                    let (call, addr, callers, order) =
                        (*call, *addr, callers.clone(), order.clone());
                    calls.spawn(async move {
                        let started = start.elapsed();
                        let ok = call(addr, order).await.is_ok();
                        callers.record(started, start.elapsed(), ok);
                    });
                }
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
            println!("{:>5}  {}", "", "-".repeat(19 + 31 * CLIENTS.len()));
        }
        last_phase = Some(phase);
        let label = if t - TICK / 2 >= run_length() { "(done)" } else { phase.label() };
        let mut line = format!("{:>5.1}  {:<12}", t.as_secs_f64(), label);
        for (client, _, down, callers) in &sides {
            let per_sec = down.this_tick.swap(0, Relaxed) as f64 / TICK.as_secs_f64();
            line.push_str(&format!(
                " | {:>6.0} {:>5} {:>5} {:>9}",
                per_sec,
                callers.ok_this_tick.swap(0, Relaxed),
                callers.failed_this_tick.swap(0, Relaxed),
                policies(client.policy).breaker,
            ));
        }
        println!("{line}");
    }
    load.await.expect("the load task does not panic");

    // The summary, from the counters.
    let outage_end = phase_start(Phase::Slow);
    let answers: Vec<_> = sides.iter().map(|(.., c)| c.answers.lock().unwrap()).collect();
    let recovery =
        |a: &[Answer]| recovered_after(a, outage_end).map_or("not within the run".into(), ms);
    let slow_p99 = |a: &[Answer]| {
        let slow: Vec<Answer> =
            a.iter().filter(|x| phase_at(x.started) == Phase::Slow).copied().collect();
        ms(quantile(&slow, 0.99))
    };
    type Row<'a> = (&'a str, Box<dyn Fn(usize) -> String + 'a>);
    let rows: Vec<Row<'_>> = vec![
        (
            "requests the downstream received during the outage",
            Box::new(|i| sides[i].2.in_outage.load(Relaxed).to_string()),
        ),
        (
            "requests the downstream received in all",
            Box::new(|i| sides[i].2.total.load(Relaxed).to_string()),
        ),
        ("back to steady success after the outage (1)", Box::new(|i| recovery(&answers[i]))),
        ("calls answered, whole run (2)", Box::new(|i| success_rate(&answers[i], None))),
        ("p99 latency in the slow phase (3)", Box::new(|i| slow_p99(&answers[i]))),
        ("p99 latency, whole run", Box::new(|i| ms(quantile(&answers[i], 0.99)))),
        (
            "calls answered while recovering (1 in 10 fails)",
            Box::new(|i| success_rate(&answers[i], Some(Phase::Recovering))),
        ),
        ("retries", Box::new(|i| policies(sides[i].0.policy).retries.to_string())),
        (
            "resends answered from the idempotency store",
            Box::new(|i| policies(sides[i].0.policy).from_store.to_string()),
        ),
        (
            "hedges sent (won)",
            Box::new(|i| {
                policies(sides[i].0.policy)
                    .hedges
                    .map_or("-".into(), |(sent, won)| format!("{sent} ({won})"))
            }),
        ),
    ];
    let mut head = format!("\n{:<50}", "summary");
    for client in CLIENTS {
        head.push_str(&format!(" {:>17}", client.name));
    }
    println!("{head}\n{}", "-".repeat(50 + 18 * CLIENTS.len()));
    for (what, value) in &rows {
        let mut line = format!("{what:<50}");
        for i in 0..CLIENTS.len() {
            line.push_str(&format!(" {:>17}", value(i)));
        }
        println!("{line}");
    }
    println!(
        "\n(1) from the end of the outage to the answer of the first call of the first run of 10 \
         calls in a row (by start time) that all succeeded.\n(2) calls answered Ok over all calls \
         started; a resend answered from the idempotency store counts as answered.\n(3) the \
         99th percentile of the latency callers saw (success or failure) of the calls started in \
         the slow phase."
    );
    println!(
        "\nWhat the counters say: the open/closed breaker sheds nearly the whole outage but waits \
         out its cooldown (500 ms) before it probes; the adaptive one lets some calls through \
         during the outage (it never rejects every call) and lets calls through again as soon as \
         they succeed. Hedging sends few hedges here and wins almost none: the slow phase slows \
         every request alike, and a p95 `after` follows it up within a few calls; hedges cut the \
         tail of a dependency whose requests are slow one by one. Figures from the same schedule \
         in virtual time, averaged over seeds, with each value of `timeouts`: \
         tests/tests/chaos/modes.rs."
    );
    Ok(())
}
