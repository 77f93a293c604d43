//! The full stack on a realistic client call: a `Client` whose `&self` method sends a money
//! transfer, annotated with `#[idempotent] #[retry] #[circuit_breaker] #[timeout]`, an app error
//! enum with `From<resilient::Error>`, and `when = is_transient` so only errors worth another try
//! are retried. The comments on `Client::transfer` explain the order of the attributes.
//!
//! The bank's API is simulated in process and follows a script, so every step is reproducible:
//! a hung attempt cut by the timeout, a 503 retried, a resend answered from the idempotency
//! store, a permanent error not retried, and an outage that opens the circuit.
//!
//! Run it with `cargo run -p resilient-examples --example full_stack` (about 2 seconds).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use resilient::registry::{self, PolicyState};
use resilient::{IdempotencyKey, circuit_breaker, idempotent, retry, timeout};
use tokio::time::{Instant, sleep};

#[derive(Clone, Debug)]
struct TransferRequest {
    /// Chosen by the caller once per transfer; a resend of the same transfer carries the same key.
    idempotency_key: IdempotencyKey,
    from: String,
    to: String,
    cents: u64,
}

#[derive(Clone, Debug)]
struct Confirmation {
    transfer_id: u32,
}

#[derive(Debug)]
enum AppError {
    /// The bank is overloaded or down (HTTP 503): worth another try.
    Unavailable,
    /// The bank refused the transfer (HTTP 422): asking again will not help.
    InvalidAccount(String),
    /// A resilience policy turned the call away: an open circuit, a timeout.
    Resilience(resilient::Error),
}

impl From<resilient::Error> for AppError {
    fn from(e: resilient::Error) -> Self {
        AppError::Resilience(e)
    }
}

/// What `#[retry]` retries and what `#[circuit_breaker]` counts as a failure: 503s and
/// timeouts. Not a refused transfer (the bank is working fine when it refuses one), and not an
/// open circuit (the retry gives up at once when the breaker below it rejects).
fn is_transient(e: &AppError) -> bool {
    match e {
        AppError::Unavailable => true,
        AppError::Resilience(e) => e.is_timeout(),
        AppError::InvalidAccount(_) => false,
    }
}

/// How the simulated bank answers one request.
#[derive(Clone, Copy, Debug)]
enum Reply {
    Ok,
    Hang,
    Unavailable,
}

/// The bank's API, simulated: answers from a script, then `Ok`; rejects unknown accounts.
struct Bank {
    script: Mutex<VecDeque<Reply>>,
    requests: AtomicU32,
    started: Instant,
}

impl Bank {
    async fn post_transfer(&self, request: &TransferRequest) -> Result<Confirmation, AppError> {
        let n = self.requests.fetch_add(1, SeqCst) + 1;
        let reply = self.script.lock().unwrap().pop_front().unwrap_or(Reply::Ok);
        let (status, answer) = match reply {
            Reply::Hang => ("never answers", None),
            Reply::Unavailable => ("503 Service Unavailable", Some(Err(AppError::Unavailable))),
            Reply::Ok if request.to.starts_with("closed-") => {
                ("422 account closed", Some(Err(AppError::InvalidAccount(request.to.clone()))))
            }
            Reply::Ok => ("200 OK", Some(Ok(Confirmation { transfer_id: n }))),
        };
        let at = self.started.elapsed().as_millis();
        println!(
            "    bank request #{n} at {at:>4} ms: {} -> {}, {} cents: {status}",
            request.from, request.to, request.cents
        );
        sleep(Duration::from_millis(20)).await;
        match answer {
            Some(answer) => answer,
            None => std::future::pending().await,
        }
    }
}

struct Client {
    bank: Bank,
}

impl Client {
    // The order is the recommended one, and it matters. Topmost is outermost:
    //
    // - `#[idempotent]` is outside everything: a resend of a transfer that already succeeded
    //   is answered from the store and never costs an attempt, a breaker slot or a timeout.
    //   Inside it, the retries of one transfer all belong to the one key, and only the final
    //   success is stored (errors are not, so a later resend may try again).
    // - `#[retry]` is outside the breaker: every attempt asks the breaker, so attempts against a
    //   dead bank count as failures, and once the circuit opens the retry stops at once instead
    //   of sleeping against it. (A breaker outside the retry would see one outcome per call,
    //   however many attempts hammered the bank.)
    // - `#[circuit_breaker]` is outside the timeout: a hung attempt cut by the timeout counts as
    //   a failure, so a bank that hangs opens the circuit just like one that answers 503.
    // - `#[timeout]` is innermost: each attempt gets its own limit (twice the recent p99 here),
    //   instead of one limit shared by all attempts and the backoff sleeps between them.
    #[idempotent(key = request.idempotency_key, ttl = "24h")]
    #[retry(max = 4, backoff = "exp", base = "100ms", jitter = 0.1, when = is_transient)]
    #[circuit_breaker(threshold = 5, window = "30s", cooldown = "10s", when = is_transient)]
    #[timeout("p99*2", initial = "250ms", min = "50ms", max = "2s")]
    async fn transfer(&self, request: TransferRequest) -> Result<Confirmation, AppError> {
        self.bank.post_transfer(&request).await
    }
}

fn request(to: &str, cents: u64) -> TransferRequest {
    TransferRequest {
        idempotency_key: IdempotencyKey::new(),
        from: "alice".to_owned(),
        to: to.to_owned(),
        cents,
    }
}

async fn send(client: &Client, request: TransferRequest) {
    let started = Instant::now();
    let result = client.transfer(request).await;
    let took = started.elapsed().as_millis();
    match result {
        Ok(c) => println!("  => transfer #{} confirmed ({took} ms)\n", c.transfer_id),
        Err(AppError::Unavailable) => {
            println!("  => failed: the bank is unavailable ({took} ms)\n")
        }
        Err(AppError::InvalidAccount(to)) => {
            println!("  => refused: account `{to}` is closed ({took} ms)\n")
        }
        Err(AppError::Resilience(e)) => println!("  => rejected: {e} ({took} ms)\n"),
    }
}

#[tokio::main]
async fn main() {
    let bank = Bank {
        script: Mutex::new(VecDeque::from([Reply::Hang, Reply::Unavailable])),
        requests: AtomicU32::new(0),
        started: Instant::now(),
    };
    let client = Client { bank };

    println!("1. A transfer: the first attempt hangs (cut at 250 ms), the second gets a 503,");
    println!("   the third goes through.");
    let rent = request("bob", 120_000);
    send(&client, rent.clone()).await;

    println!("2. The same transfer again (the app resends it after a crash): answered from the");
    println!("   idempotency store, the bank is not called.");
    send(&client, rent).await;

    println!("3. A transfer to a closed account: a permanent error, not retried.");
    send(&client, request("closed-carol", 5_000)).await;

    println!("4. The bank goes down. With the two failures of step 1, the third attempt makes");
    println!("   five within 30 s: the circuit opens and the retry stops before its 4th attempt.");
    client.bank.script.lock().unwrap().extend([Reply::Unavailable; 10]);
    send(&client, request("dave", 7_500)).await;

    println!("5. While the circuit is open, transfers are rejected at once, without a request.");
    send(&client, request("erin", 2_000)).await;

    println!("The registry, for dashboards and health checks:");
    for policy in registry::snapshot().policies {
        let state = match policy.state {
            PolicyState::Idempotency(s) => {
                format!("idempotency: {} answered from the store, {} ran", s.hits, s.misses)
            }
            PolicyState::Retry(s) => format!("retry: {} retries, {} gave up", s.retries, s.gave_up),
            PolicyState::CircuitBreaker(s) => format!(
                "circuit breaker: {}, {} failures in the window, {} rejected",
                format!("{:?}", s.state).to_lowercase(),
                s.failures,
                s.rejections
            ),
            PolicyState::Timeout(s) => {
                format!("timeout {}: now {:?}, {} timed out", s.rule, s.current, s.timeouts)
            }
            other => format!("{other:?}"),
        };
        println!("  {}  {state}", policy.name);
    }
}
