use resilient::{IdempotencyKey, hedge, idempotent};

#[hedge(after = "50ms")]
#[idempotent]
async fn charge(idempotency_key: IdempotencyKey) -> Result<u64, resilient::Error> {
    let _ = idempotency_key;
    Ok(1)
}

fn main() {}
