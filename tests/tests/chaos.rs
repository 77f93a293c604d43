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

// ---------------------------------------------------------------------------------------------
// The downstream
// ---------------------------------------------------------------------------------------------

/// What the downstream does to requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    Healthy,
    /// Every request answered 503 at once.
    Errors,
    /// Latency x10.
    Slow,
    /// Listener closed, connections cut: connection refused.
    Down,
    /// [`FLAP`] healthy, [`FLAP`] answering 503, and so on.
    Flapping,
    /// Requests 0, 1, 2 of every 5 answered 503.
    Brownout,
    /// The first request of each idempotency key takes latency x10.
    SlowFirst,
}

#[derive(Default)]
struct KeyRecord {
    requests: u32,
    executions: u32,
    running: bool,
    stored: Option<String>,
}

struct ServerState {
    fault: Fault,
    since: Instant,
    arrivals: Vec<Instant>,
    keys: HashMap<String, KeyRecord>,
}

/// A hyper HTTP/1.1 server with switchable faults and counters.
struct Downstream {
    addr: SocketAddr,
    latency: Duration,
    /// Honour `Idempotency-Key` as payment APIs do: replay a finished key's response, answer 409
    /// while it runs.
    dedup: bool,
    state: Mutex<ServerState>,
    executions: AtomicU64,
    listening: AtomicBool,
    control: watch::Sender<Fault>,
}

impl Downstream {
    async fn start(latency: Duration, dedup: bool) -> Arc<Self> {
        let listener = listen("127.0.0.1:0".parse().unwrap()).expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let (control, rx) = watch::channel(Fault::Healthy);
        let ds = Arc::new(Downstream {
            addr,
            latency,
            dedup,
            state: Mutex::new(ServerState {
                fault: Fault::Healthy,
                since: Instant::now(),
                arrivals: Vec::new(),
                keys: HashMap::new(),
            }),
            executions: AtomicU64::new(0),
            listening: AtomicBool::new(true),
            control,
        });
        tokio::spawn(accept_loop(Arc::clone(&ds), listener, rx));
        ds
    }

    /// Switches the fault; returns once it is in force (listener closed or open again).
    async fn set(&self, fault: Fault) -> Instant {
        {
            let mut s = lock(&self.state);
            s.fault = fault;
            s.since = Instant::now();
        }
        self.control.send_replace(fault);
        let want = fault != Fault::Down;
        let give_up = Instant::now() + Duration::from_secs(10);
        while self.listening.load(SeqCst) != want {
            assert!(Instant::now() < give_up, "the listener did not follow {fault:?}");
            sleep(MS).await;
        }
        Instant::now()
    }

    fn arrivals(&self) -> Vec<Instant> {
        lock(&self.state).arrivals.clone()
    }

    fn key(&self, key: &str) -> (u32, u32, Option<String>) {
        let s = lock(&self.state);
        s.keys.get(key).map_or((0, 0, None), |r| (r.requests, r.executions, r.stored.clone()))
    }
}

fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    // The port is bound again after an outage, while closed connections linger in TIME_WAIT.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

async fn accept_loop(ds: Arc<Downstream>, first: TcpListener, mut control: watch::Receiver<Fault>) {
    let mut listener = Some(first);
    loop {
        let current = match listener.take() {
            Some(l) => l,
            None => {
                // Down: wait for the fault to change, then listen on the same port again.
                if control.wait_for(|f| *f != Fault::Down).await.is_err() {
                    return;
                }
                let mut bound = listen(ds.addr);
                for _ in 0..200 {
                    if bound.is_ok() {
                        break;
                    }
                    sleep(10 * MS).await;
                    bound = listen(ds.addr);
                }
                bound.expect("listen again on the downstream's port")
            }
        };
        ds.listening.store(true, SeqCst);
        loop {
            tokio::select! {
                accepted = current.accept() => {
                    if let Ok((stream, _)) = accepted {
                        let _ = stream.set_nodelay(true);
                        tokio::spawn(connection(Arc::clone(&ds), stream, control.clone()));
                    }
                }
                changed = control.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    if *control.borrow_and_update() == Fault::Down {
                        break;
                    }
                }
            }
        }
        drop(current);
        ds.listening.store(false, SeqCst);
    }
}

async fn connection(ds: Arc<Downstream>, stream: TcpStream, mut control: watch::Receiver<Fault>) {
    let svc = service_fn(move |req| handle(Arc::clone(&ds), req));
    let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), svc);
    tokio::select! {
        _ = conn => {}
        // A hard outage cuts every open connection too.
        _ = control.wait_for(|f| *f == Fault::Down) => {}
    }
}

fn respond(status: StatusCode, body: String) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    Ok(r)
}

async fn handle(
    ds: Arc<Downstream>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let now = Instant::now();
    let (fault, since, n, first_of_key) = {
        let mut s = lock(&ds.state);
        s.arrivals.push(now);
        let n = s.arrivals.len() - 1;
        let record = s.keys.entry(key.clone()).or_default();
        record.requests += 1;
        let first = record.requests == 1;
        (s.fault, s.since, n, first)
    };
    let unavailable = match fault {
        Fault::Errors => true,
        Fault::Brownout => n % 5 < 3,
        Fault::Flapping => (now - since).as_millis() / FLAP.as_millis() % 2 == 1,
        _ => false,
    };
    if unavailable {
        if fault == Fault::Brownout {
            // A browned-out server answers 503 as slowly as it answers anything: fast failures
            // would outrun the successes and trip even a 90 % failure-rate breaker.
            sleep(ds.latency).await;
        }
        return respond(StatusCode::SERVICE_UNAVAILABLE, "unavailable".into());
    }
    let latency = match fault {
        Fault::Slow => ds.latency * 10,
        Fault::SlowFirst if first_of_key => ds.latency * 10,
        _ => ds.latency,
    };
    if ds.dedup {
        let mut s = lock(&ds.state);
        let record = s.keys.entry(key.clone()).or_default();
        if let Some(stored) = &record.stored {
            return respond(StatusCode::OK, stored.clone());
        }
        if record.running {
            return respond(StatusCode::CONFLICT, "in progress".into());
        }
        record.running = true;
    }
    // The work runs in a task of its own: a client that gives up (times out, disconnects) does
    // not stop it, as with a real server that completes what it started.
    let work = tokio::spawn({
        let ds = Arc::clone(&ds);
        async move {
            sleep(latency).await;
            let n = ds.executions.fetch_add(1, SeqCst);
            let receipt = format!("receipt-{n}");
            let mut s = lock(&ds.state);
            let record = s.keys.entry(key).or_default();
            record.executions += 1;
            record.running = false;
            if ds.dedup {
                record.stored = Some(receipt.clone());
            }
            receipt
        }
    });
    match work.await {
        Ok(receipt) => respond(StatusCode::OK, receipt),
        Err(_) => respond(StatusCode::INTERNAL_SERVER_ERROR, "panicked".into()),
    }
}

// ---------------------------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------------------------

/// Why a call failed.
#[derive(Clone, Debug)]
enum ChaosError {
    /// A non-200 answer.
    Status(u16),
    /// Connecting, writing or reading failed.
    Io(std::io::ErrorKind),
    /// A policy turned the call away.
    Rejected(resilient::Error),
}

impl From<resilient::Error> for ChaosError {
    fn from(e: resilient::Error) -> Self {
        ChaosError::Rejected(e)
    }
}

impl ChaosError {
    fn cause(&self) -> String {
        match self {
            ChaosError::Status(code) => format!("HTTP {code}"),
            ChaosError::Io(kind) => format!("{kind:?}"),
            ChaosError::Rejected(e) => e.to_string(),
        }
    }
}

/// Every failure of the downstream is worth retrying (the budget and breaker keep it sane).
fn is_transient(_: &ChaosError) -> bool {
    true
}

/// A minimal HTTP/1.1 client: keep-alive connections in a pool, one per request in flight.
struct Client {
    addr: SocketAddr,
    pool: Mutex<Vec<TcpStream>>,
    /// Connection attempts, with whether each was refused.
    connects: Mutex<Vec<(Instant, bool)>>,
}

enum Exchange {
    Done(Result<String, ChaosError>, Option<TcpStream>),
    /// A pooled connection the server had closed: nothing was answered, try a fresh one.
    Stale,
}

impl Client {
    fn new(addr: SocketAddr) -> Arc<Self> {
        Arc::new(Client { addr, pool: Mutex::new(Vec::new()), connects: Mutex::new(Vec::new()) })
    }

    async fn post(&self, key: &str) -> Result<String, ChaosError> {
        let pooled = lock(&self.pool).pop();
        if let Some(stream) = pooled
            && let Exchange::Done(result, keep) = exchange(stream, key, true).await
        {
            return self.settle(result, keep);
        }
        let stream = self.connect().await?;
        match exchange(stream, key, false).await {
            Exchange::Done(result, keep) => self.settle(result, keep),
            Exchange::Stale => Err(ChaosError::Io(std::io::ErrorKind::UnexpectedEof)),
        }
    }

    fn settle(
        &self,
        result: Result<String, ChaosError>,
        keep: Option<TcpStream>,
    ) -> Result<String, ChaosError> {
        if let Some(stream) = keep {
            lock(&self.pool).push(stream);
        }
        result
    }

    async fn connect(&self) -> Result<TcpStream, ChaosError> {
        let at = Instant::now();
        let out = TcpStream::connect(self.addr).await;
        let refused = matches!(&out, Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused);
        lock(&self.connects).push((at, refused));
        let stream = out.map_err(|e| ChaosError::Io(e.kind()))?;
        let _ = stream.set_nodelay(true);
        Ok(stream)
    }

    fn refused(&self) -> Vec<Instant> {
        lock(&self.connects).iter().filter(|c| c.1).map(|c| c.0).collect()
    }
}

/// One request and its response on `stream`.
async fn exchange(mut stream: TcpStream, key: &str, reused: bool) -> Exchange {
    let request = format!(
        "POST /charge HTTP/1.1\r\nhost: 127.0.0.1\r\nidempotency-key: {key}\r\n\
         content-length: 0\r\n\r\n"
    );
    let io = |e: std::io::Error| ChaosError::Io(e.kind());
    if let Err(e) = stream.write_all(request.as_bytes()).await {
        return if reused { Exchange::Stale } else { Exchange::Done(Err(io(e)), None) };
    }
    let mut buf = Vec::with_capacity(256);
    let mut chunk = [0u8; 1024];
    let (head_len, body_len) = loop {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) if reused && buf.is_empty() => return Exchange::Stale,
            Ok(0) => {
                let eof = ChaosError::Io(std::io::ErrorKind::UnexpectedEof);
                return Exchange::Done(Err(eof), None);
            }
            Err(e) => return Exchange::Done(Err(io(e)), None),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            break (end + 4, len);
        }
    };
    while buf.len() < head_len + body_len {
        match stream.read(&mut chunk).await {
            Ok(0) => {
                return Exchange::Done(
                    Err(ChaosError::Io(std::io::ErrorKind::UnexpectedEof)),
                    None,
                );
            }
            Err(e) => return Exchange::Done(Err(io(e)), None),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let status = String::from_utf8_lossy(&buf[..head_len])
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .unwrap_or(0);
    let body = String::from_utf8_lossy(&buf[head_len..head_len + body_len]).into_owned();
    let result = if status == 200 { Ok(body) } else { Err(ChaosError::Status(status)) };
    Exchange::Done(result, Some(stream))
}

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
// Load and records
// ---------------------------------------------------------------------------------------------

type CallFuture = Pin<Box<dyn Future<Output = Result<String, ChaosError>> + Send>>;
type CallFn = fn(Arc<Client>, String) -> CallFuture;

fn call_main(c: Arc<Client>, key: String) -> CallFuture {
    Box::pin(async move { charge(&c, Charge { key }).await })
}
fn call_brownout(c: Arc<Client>, key: String) -> CallFuture {
    Box::pin(async move { charge_brownout(&c, Charge { key }).await })
}
fn call_storm(c: Arc<Client>, key: String) -> CallFuture {
    Box::pin(async move { charge_storm(&c, Charge { key }).await })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ok,
    CircuitOpen,
    Timeout,
    Failed,
}

#[derive(Clone, Copy, Debug)]
struct CallRecord {
    start: Instant,
    end: Instant,
    kind: Kind,
}

/// Calls that failed other than by a rejection, by cause.
static OTHER_ERRORS: Mutex<BTreeMap<String, u32>> = Mutex::new(BTreeMap::new());

fn kind_of(r: &Result<String, ChaosError>) -> Kind {
    match r {
        Ok(_) => Kind::Ok,
        Err(ChaosError::Rejected(e)) if e.is_circuit_open() => Kind::CircuitOpen,
        Err(ChaosError::Rejected(e)) if e.is_timeout() => Kind::Timeout,
        Err(e) => {
            *lock(&OTHER_ERRORS).entry(e.cause()).or_default() += 1;
            Kind::Failed
        }
    }
}

/// `TASKS` tasks calling `call` in a loop, each call under [`CALL_DEADLINE`], until `stop`.
fn spawn_load(
    client: &Arc<Client>,
    call: CallFn,
    prefix: &'static str,
    stop: &Arc<AtomicBool>,
) -> Vec<JoinHandle<Vec<CallRecord>>> {
    (0..TASKS)
        .map(|task| {
            let (client, stop) = (Arc::clone(client), Arc::clone(stop));
            tokio::spawn(async move {
                let mut records = Vec::new();
                let mut n = 0u64;
                while !stop.load(SeqCst) {
                    let key = format!("{prefix}-{task}-{n}");
                    n += 1;
                    let start = Instant::now();
                    let out = resilient::deadline::scope(
                        start + CALL_DEADLINE,
                        call(client.clone(), key),
                    )
                    .await;
                    records.push(CallRecord { start, end: Instant::now(), kind: kind_of(&out) });
                    sleep(THINK).await;
                }
                records
            })
        })
        .collect()
}

async fn join_load(handles: Vec<JoinHandle<Vec<CallRecord>>>) -> Vec<CallRecord> {
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.expect("a load task panicked"));
    }
    all.sort_by_key(|r| r.start);
    all
}

fn count_in(times: &[Instant], from: Instant, to: Instant) -> usize {
    times.iter().filter(|t| **t >= from && **t < to).count()
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

/// Asserts no call outlived its deadline by more than [`DEADLINE_SLACK`]; returns the longest.
fn check_deadlines(records: &[CallRecord]) -> Duration {
    let longest = records.iter().map(|r| r.end - r.start).max().unwrap_or_default();
    assert!(
        longest <= CALL_DEADLINE + DEADLINE_SLACK,
        "a call took {longest:?}, past its {CALL_DEADLINE:?} deadline + {DEADLINE_SLACK:?} slack"
    );
    longest
}

/// The retry budget's bound on attempts: `(1 + ratio) x calls + floor x (whole seconds spanned)`.
fn budget_bound(calls: usize, span: Duration) -> f64 {
    (1.0 + BUDGET_RATIO) * calls as f64 + BUDGET_FLOOR_PER_SEC * (span.as_secs_f64().ceil() + 1.0)
}

// ---------------------------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------------------------

fn report_path() -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("chaos-report.md")
}

/// Prints `body` and writes it as section `title` of the report (other sections kept).
fn report(title: &str, body: &str) {
    println!("\n## {title}\n\n{body}");
    let path = report_path();
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    let mut sections: BTreeMap<String, String> = old
        .split("\n## ")
        .skip(1)
        .filter_map(|s| s.split_once('\n').map(|(t, b)| (t.to_owned(), b.to_owned())))
        .collect();
    sections.insert(title.to_owned(), format!("\n{}\n", body.trim_end()));
    let mut out = String::from(
        "# resilient chaos report\n\nProduced by `cargo test -p resilient-tests --test chaos -- \
         --nocapture` (real time, 127.0.0.1, hyper 1.x downstream, 50 concurrent callers).\n",
    );
    for (t, b) in sections {
        out.push_str(&format!("\n## {t}\n{b}"));
    }
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Err(e) = std::fs::write(&path, out) {
        println!("(could not write {}: {e})", path.display());
    }
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
