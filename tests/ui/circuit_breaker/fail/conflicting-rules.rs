#[resilient::circuit_breaker(threshold = 5, failure_rate = 0.5)]
async fn both_rules() -> std::io::Result<()> {
    Ok(())
}

#[resilient::circuit_breaker(min_calls = 20)]
async fn min_calls_alone() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
