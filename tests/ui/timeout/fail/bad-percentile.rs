#[resilient::timeout("p101*2")]
async fn above_100() -> std::io::Result<()> {
    Ok(())
}

#[resilient::timeout("p99*x")]
async fn bad_multiplier() -> std::io::Result<()> {
    Ok(())
}

#[resilient::timeout("p99*0")]
async fn zero_multiplier() -> std::io::Result<()> {
    Ok(())
}

#[resilient::timeout("p99")]
async fn no_multiplier() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
