//! `#[idempotent]` on a payment endpoint: the same charge request arriving twice is charged
//! once and the second gets the stored receipt; two concurrent duplicates run the body once;
//! the same key with a different amount is refused with `Error::IdempotencyKeyReused` instead
//! of being answered with the wrong receipt.
//!
//! The payment provider is simulated in process; every real charge is counted.
//!
//! Run it with `cargo run -p resilient-examples --example charge`.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use resilient::idempotent;
use resilient::registry::{self, PolicyState};
use tokio::time::sleep;

/// Charges that reached the payment provider.
static CHARGES: AtomicU32 = AtomicU32::new(0);

#[derive(Clone, Debug)]
struct ChargeRequest {
    /// The idempotency key the client chose for this payment.
    id: String,
    /// In cents.
    amount: u64,
}

#[derive(Clone, Debug)]
struct Receipt {
    charge: u32,
    amount: u64,
}

#[derive(Debug)]
enum PaymentError {
    /// A policy refused the call (here: the key was reused with another amount).
    Rejected(resilient::Error),
}

impl From<resilient::Error> for PaymentError {
    fn from(e: resilient::Error) -> Self {
        PaymentError::Rejected(e)
    }
}

/// Charges the card once per `request.id` within 24 h. `fingerprint = request.amount` makes
/// the key stand for that amount: reusing it with another amount is an error.
#[idempotent(key = request.id, ttl = "24h", fingerprint = request.amount)]
async fn charge(request: ChargeRequest) -> Result<Receipt, PaymentError> {
    let charge = CHARGES.fetch_add(1, SeqCst) + 1;
    sleep(Duration::from_millis(100)).await; // the payment provider
    println!("    (payment provider: charge #{charge} of {} cents)", request.amount);
    Ok(Receipt { charge, amount: request.amount })
}

fn request(id: &str, amount: u64) -> ChargeRequest {
    ChargeRequest { id: id.to_owned(), amount }
}

fn show(label: &str, result: &Result<Receipt, PaymentError>) {
    match result {
        Ok(r) => println!("  {label}: receipt for charge #{} ({} cents)", r.charge, r.amount),
        Err(PaymentError::Rejected(e)) => println!("  {label}: refused: {e}"),
    }
}

#[tokio::main]
async fn main() {
    println!("1. The same request twice (a client resending after a lost answer):");
    show("first ", &charge(request("pay-7f3a", 4_999)).await);
    show("resend", &charge(request("pay-7f3a", 4_999)).await);
    println!("  charges made: {}\n", CHARGES.load(SeqCst));

    println!("2. Two duplicates at the same time (a double click):");
    let (a, b) =
        tokio::join!(charge(request("pay-91c2", 1_250)), charge(request("pay-91c2", 1_250)));
    show("click 1", &a);
    show("click 2", &b);
    println!("  charges made: {}\n", CHARGES.load(SeqCst));

    println!("3. The first key again, with a different amount:");
    let reused = charge(request("pay-7f3a", 9_999)).await;
    show("reused", &reused);
    if let Err(PaymentError::Rejected(resilient::Error::IdempotencyKeyReused(k))) = &reused {
        println!("  IdempotencyKeyReused for key `{}`; nothing charged", k.key());
    }
    println!("  charges made: {}\n", CHARGES.load(SeqCst));

    for policy in registry::snapshot().policies {
        if let PolicyState::Idempotency(s) = policy.state {
            println!(
                "registry: {}: {} calls ran the body, {} were answered from the store \
                 ({} of them by waiting for a running duplicate), {} refused for a reused key",
                policy.name, s.misses, s.hits, s.joins, s.conflicts
            );
        }
    }
}
