#[resilient::circuit_breaker(mode = "adaptive", threshold = 5, cooldown = "10s")]
async fn binary_keys_in_adaptive_mode() -> std::io::Result<()> {
    Ok(())
}

#[resilient::circuit_breaker(threshold = 5, k = 2.0)]
async fn adaptive_key_without_the_mode() -> std::io::Result<()> {
    Ok(())
}

#[resilient::circuit_breaker(mode = "binary", max_rejection = 0.5)]
async fn adaptive_key_in_binary_mode() -> std::io::Result<()> {
    Ok(())
}

#[resilient::circuit_breaker(mode = "adaptive", sr_threshold = 0.5)]
async fn envoy_spelling() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
