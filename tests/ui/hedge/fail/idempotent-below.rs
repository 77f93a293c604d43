#[resilient::hedge(after = "50ms")]
#[resilient::idempotent]
async fn charge(idempotency_key: resilient::IdempotencyKey) -> Result<u64, resilient::Error> {
    let _ = idempotency_key;
    Ok(1)
}

fn main() {}
