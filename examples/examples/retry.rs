//! `#[retry]` on a flaky call: transient errors are retried with exponential backoff and jitter,
//! permanent ones are not, and every attempt is printed with the time it started.
//!
//! Run it with `cargo run -p resilient-examples --example retry`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use resilient::retry;

#[derive(Debug)]
enum FetchError {
    /// The server is overloaded: worth another try after a pause.
    Unavailable,
    /// No such user: asking again will not help.
    NotFound,
}

fn is_transient(e: &FetchError) -> bool {
    matches!(e, FetchError::Unavailable)
}

static ATTEMPTS: AtomicU32 = AtomicU32::new(0);

/// A downstream that answers 503 twice, then works.
#[retry(max = 4, backoff = "exp", base = "100ms", jitter = 0.1, when = is_transient)]
async fn fetch_user(id: u64, started: Instant) -> Result<String, FetchError> {
    let attempt = ATTEMPTS.fetch_add(1, Ordering::SeqCst) + 1;
    let at = started.elapsed().as_millis();
    if id == 0 {
        println!("  attempt {attempt} at {at:>4} ms: 404 not found");
        return Err(FetchError::NotFound);
    }
    if attempt <= 2 {
        println!("  attempt {attempt} at {at:>4} ms: 503 unavailable");
        return Err(FetchError::Unavailable);
    }
    println!("  attempt {attempt} at {at:>4} ms: 200 ok");
    Ok(format!("user #{id}"))
}

#[tokio::main]
async fn main() {
    println!(
        "A flaky call, retried with exponential backoff (100 ms, 200 ms, ... plus up to 10% jitter):"
    );
    let user = fetch_user(42, Instant::now()).await;
    println!("=> {user:?}\n");

    println!("A permanent error is not retried (`when = is_transient` says no):");
    ATTEMPTS.store(0, Ordering::SeqCst);
    let missing = fetch_user(0, Instant::now()).await;
    println!("=> {missing:?}\n");

    println!("The registry lists every policy and its counters:");
    for policy in resilient::registry::snapshot().policies {
        println!("  {}: {:?}", policy.name, policy.state);
    }
}
