#[resilient::circuit_breaker(mode = "adaptiv")]
async fn unknown_mode() -> std::io::Result<()> {
    Ok(())
}

#[resilient::circuit_breaker(mode = adaptive)]
async fn mode_not_in_quotes() -> std::io::Result<()> {
    Ok(())
}

#[resilient::circuit_breaker(mode = "adaptive", k = 0.5)]
async fn k_below_one() -> std::io::Result<()> {
    Ok(())
}

#[resilient::circuit_breaker(mode = "adaptive", max_rejection = 1.0, min_rps = -1.0)]
async fn rejection_of_every_call() -> std::io::Result<()> {
    Ok(())
}

#[resilient::circuit_breaker(mode = "adaptive", window = "0s", k = "2")]
async fn bad_window_and_k() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
