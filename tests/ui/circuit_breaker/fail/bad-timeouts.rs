#[resilient::circuit_breaker(timeouts = "learning")]
async fn unknown_word() -> std::io::Result<()> {
    Ok(())
}

#[resilient::circuit_breaker(mode = "adaptive", timeouts = true)]
async fn not_a_word() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
