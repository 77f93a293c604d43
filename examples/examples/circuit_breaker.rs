//! `#[circuit_breaker]` around a dependency that dies and comes back: the circuit goes
//! closed → open → half-open → open → half-open → closed, exactly as the seed draws it, and
//! while it is open calls are rejected without reaching the dependency. After every call the
//! breaker's state is read from `resilient::registry::snapshot()`.
//!
//! The dependency is simulated in process (an inventory service that is up or down).
//!
//! Run it with `cargo run -p resilient-examples --example circuit_breaker` (about 3 seconds).

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use resilient::circuit_breaker;
use resilient::registry::{self, PolicyState};
use resilient::runtime::breaker::CircuitState;
use tokio::time::{Instant, sleep};

/// Is the inventory service up?
static UP: AtomicBool = AtomicBool::new(true);
/// Calls that reached the inventory service.
static REACHED: AtomicU32 = AtomicU32::new(0);

#[derive(Debug)]
enum InventoryError {
    /// The service answered with an error.
    Unavailable,
    /// The breaker turned the call away; the service was not called.
    Rejected(resilient::Error),
}

impl From<resilient::Error> for InventoryError {
    fn from(e: resilient::Error) -> Self {
        InventoryError::Rejected(e)
    }
}

/// Three failures within 10 s open the circuit; after 1 s one probe call is let through.
#[circuit_breaker(threshold = 3, window = "10s", cooldown = "1s", name = "inventory")]
async fn stock_level(item: &str) -> Result<u32, InventoryError> {
    REACHED.fetch_add(1, SeqCst);
    sleep(Duration::from_millis(5)).await;
    if UP.load(SeqCst) { Ok(item.len() as u32 * 10) } else { Err(InventoryError::Unavailable) }
}

/// One call, printed with its outcome and the breaker's state as the registry shows it after.
async fn call(n: &mut u32, started: Instant) {
    *n += 1;
    let outcome = match stock_level("widget").await {
        Ok(stock) => format!("ok: {stock} in stock"),
        Err(InventoryError::Unavailable) => "failed: 503 from the service".to_owned(),
        Err(InventoryError::Rejected(resilient::Error::CircuitOpen(open))) => {
            format!("rejected: circuit open, probe in {} ms", open.retry_after().as_millis())
        }
        Err(InventoryError::Rejected(e)) => format!("rejected: {e}"),
    };
    println!(
        "{:>5} ms  call {:>2}  {:<40} | {}",
        started.elapsed().as_millis(),
        n,
        outcome,
        breaker_state()
    );
}

/// A call made after the cooldown: the breaker is shown while the probe is running too.
async fn probe(n: &mut u32, started: Instant) {
    let (_, ()) = tokio::join!(call(n, started), async {
        sleep(Duration::from_millis(1)).await;
        println!(
            "{:>5} ms  {:<49} | {}",
            started.elapsed().as_millis(),
            "  ...while the probe is running:",
            breaker_state()
        );
    });
}

/// The breaker as `registry::snapshot()` reports it, plus how many calls reached the service.
fn breaker_state() -> String {
    let snapshot = registry::snapshot();
    let Some(PolicyState::CircuitBreaker(b)) = snapshot.get("inventory").map(|p| &p.state) else {
        return "not registered yet".to_owned();
    };
    let state = match b.state {
        CircuitState::Closed => "closed",
        CircuitState::Open => "OPEN",
        CircuitState::HalfOpen => "half-open",
    };
    format!(
        "breaker {state:<9} failures {} rejected {:>2} | service reached {:>2}x",
        b.failures,
        b.rejections,
        REACHED.load(SeqCst)
    )
}

#[tokio::main]
async fn main() {
    let started = Instant::now();
    let mut n = 0;

    println!("The service is up: calls go through, the circuit stays closed.");
    for _ in 0..2 {
        call(&mut n, started).await;
    }

    println!("\nThe service goes down: the third failure opens the circuit.");
    UP.store(false, SeqCst);
    for _ in 0..3 {
        call(&mut n, started).await;
    }

    println!("\nWhile open, calls are rejected at once and never reach the service.");
    for _ in 0..4 {
        call(&mut n, started).await;
    }

    println!("\nAfter the 1 s cooldown the circuit is half-open: one probe goes through.");
    println!("The service is still down, so the probe fails and the circuit opens again.");
    sleep(Duration::from_secs(1)).await;
    probe(&mut n, started).await;
    call(&mut n, started).await;

    println!("\nThe service comes back. After the next cooldown the probe succeeds: closed.");
    UP.store(true, SeqCst);
    sleep(Duration::from_secs(1)).await;
    probe(&mut n, started).await;
    call(&mut n, started).await;

    let snapshot = registry::snapshot();
    if let Some(PolicyState::CircuitBreaker(b)) = snapshot.get("inventory").map(|p| &p.state) {
        println!(
            "\n{n} calls: {} reached the service, {} were rejected by the breaker; \
             it opened {} times and changed state {} times.",
            REACHED.load(SeqCst),
            b.rejections,
            b.opened,
            b.transitions
        );
    }
}
