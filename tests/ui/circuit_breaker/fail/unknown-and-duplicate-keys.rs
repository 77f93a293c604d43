#[resilient::circuit_breaker(treshold = 5, timeout = "10s", window = "1m", window = "2m")]
async fn call() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
