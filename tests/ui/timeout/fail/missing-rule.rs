#[resilient::timeout]
async fn bare() -> std::io::Result<()> {
    Ok(())
}

#[resilient::timeout(initial = "1s")]
async fn keys_only() -> std::io::Result<()> {
    Ok(())
}

#[resilient::timeout(duration = "1s")]
async fn named_duration() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
