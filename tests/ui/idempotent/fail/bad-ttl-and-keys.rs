#[resilient::idempotent(key = id, ttl = "1 day", expiry = "1h", key = id)]
async fn charge(id: u64) -> Result<u64, resilient::Error> {
    Ok(id)
}

#[resilient::idempotent(key = id, ttl = "0s")]
async fn zero(id: u64) -> Result<u64, resilient::Error> {
    Ok(id)
}

#[resilient::idempotent(key = id, wait_in_flight = "1s")]
async fn wait_in_process(id: u64) -> Result<u64, resilient::Error> {
    Ok(id)
}

fn main() {}
