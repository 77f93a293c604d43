#[resilient::circuit_breaker(threshold = 0)]
async fn zero_threshold() -> std::io::Result<()> {
    Ok(())
}

#[resilient::circuit_breaker(window = "30", cooldown = "ten seconds")]
async fn bad_durations() -> std::io::Result<()> {
    Ok(())
}

#[resilient::circuit_breaker(failure_rate = 1.5, min_calls = 10)]
async fn rate_above_one() -> std::io::Result<()> {
    Ok(())
}

#[resilient::circuit_breaker(failure_rate = 0.0)]
async fn rate_zero() -> std::io::Result<()> {
    Ok(())
}

#[resilient::circuit_breaker(probes = 0)]
async fn zero_probes() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
