#[resilient::rate_limit("10/s", burst = 0)]
async fn zero_burst() -> std::io::Result<()> {
    Ok(())
}

#[resilient::rate_limit("10/s", burst = -1)]
async fn negative_burst() -> std::io::Result<()> {
    Ok(())
}

#[resilient::rate_limit("10/s", wait = "soon")]
async fn bad_wait() -> std::io::Result<()> {
    Ok(())
}

#[resilient::rate_limit("10/s", wait = 100)]
async fn wait_without_unit() -> std::io::Result<()> {
    Ok(())
}

#[resilient::rate_limit("10/s", store = redis)]
async fn store_not_a_string() -> std::io::Result<()> {
    Ok(())
}

#[resilient::rate_limit("10/s", store = "redis", on_store_error = "retry")]
async fn bad_on_store_error() -> std::io::Result<()> {
    Ok(())
}

#[resilient::rate_limit("10/s", on_store_error = "local")]
async fn on_store_error_without_store() -> std::io::Result<()> {
    Ok(())
}

#[resilient::rate_limit("10/s", per = 5)]
async fn per_a_literal() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
