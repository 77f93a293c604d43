#[resilient::circuit_breaker(name = "")]
async fn call() -> std::io::Result<()> {
    Ok(())
}

#[resilient::circuit_breaker(name = payments)]
async fn unquoted() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
