#[derive(Debug)]
struct PaymentError;

#[resilient::idempotent(key = id)]
async fn charge(id: u64) -> Result<u64, PaymentError> {
    Ok(id)
}

fn main() {}
