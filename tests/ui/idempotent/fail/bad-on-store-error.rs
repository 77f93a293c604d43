#[resilient::idempotent(key = id, store = "redis", on_store_error = "retry")]
async fn unknown_value(id: u64) -> Result<u64, resilient::Error> {
    Ok(id)
}

#[resilient::idempotent(key = id, on_store_error = "local")]
async fn without_a_store(id: u64) -> Result<u64, resilient::Error> {
    Ok(id)
}

fn main() {}
