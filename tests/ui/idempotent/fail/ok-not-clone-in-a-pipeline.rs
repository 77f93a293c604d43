// Wherever `#[idempotent]` sits among the layers, a non-`Clone` `Ok` type is reported once, at
// the return type.

struct Receipt;

#[resilient::idempotent(key = id)]
#[resilient::timeout("1s")]
async fn outermost(id: u64) -> Result<Receipt, resilient::Error> {
    let _ = id;
    Ok(Receipt)
}

#[resilient::retry(max = 3)]
#[resilient::idempotent(key = id)]
async fn under_retry(id: u64) -> Result<Receipt, resilient::Error> {
    let _ = id;
    Ok(Receipt)
}

#[resilient::circuit_breaker]
#[resilient::idempotent(key = id)]
async fn under_breaker(id: u64) -> Result<Receipt, resilient::Error> {
    let _ = id;
    Ok(Receipt)
}

#[resilient::timeout("1s")]
#[resilient::idempotent(key = id)]
async fn under_timeout(id: u64) -> Result<Receipt, resilient::Error> {
    let _ = id;
    Ok(Receipt)
}

fn main() {}
