#[resilient::rate_limit("10/s", stor = "redis")]
async fn store_misspelt() -> std::io::Result<()> {
    Ok(())
}

#[resilient::rate_limit("10/s", capacity = 20)]
async fn capacity() -> std::io::Result<()> {
    Ok(())
}

#[resilient::rate_limit(rate = "10/s")]
async fn rate_as_a_key() -> std::io::Result<()> {
    Ok(())
}

#[resilient::rate_limit("10/s", burst = 2, burst = 3)]
async fn burst_twice() -> std::io::Result<()> {
    Ok(())
}

#[resilient::rate_limit("10/s", enabled = false)]
async fn run_time_only() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
