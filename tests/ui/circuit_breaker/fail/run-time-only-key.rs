#[resilient::circuit_breaker(threshold = 3, force = "open")]
async fn forced() -> std::io::Result<()> {
    Ok(())
}

#[resilient::retry(enabled = false)]
async fn disabled() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
