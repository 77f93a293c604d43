#[resilient::rate_limit("100")]
async fn no_unit() -> std::io::Result<()> {
    Ok(())
}

#[resilient::rate_limit("100/d")]
async fn per_day() -> std::io::Result<()> {
    Ok(())
}

#[resilient::rate_limit("0/s")]
async fn zero_rate() -> std::io::Result<()> {
    Ok(())
}

#[resilient::rate_limit("-5/s")]
async fn negative_rate() -> std::io::Result<()> {
    Ok(())
}

#[resilient::rate_limit("1.5/s")]
async fn fraction() -> std::io::Result<()> {
    Ok(())
}

#[resilient::rate_limit(100)]
async fn not_a_string() -> std::io::Result<()> {
    Ok(())
}

#[resilient::rate_limit(burst = 5)]
async fn no_rate() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
