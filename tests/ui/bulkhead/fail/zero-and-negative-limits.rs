#[resilient::bulkhead(max = 0)]
async fn zero() -> std::io::Result<()> {
    Ok(())
}

#[resilient::bulkhead(max = -1)]
async fn negative() -> std::io::Result<()> {
    Ok(())
}

#[resilient::bulkhead(max = "auto")]
async fn unknown_word() -> std::io::Result<()> {
    Ok(())
}

#[resilient::bulkhead(max = 10, queue = -5, wait = "1s")]
async fn negative_queue() -> std::io::Result<()> {
    Ok(())
}

#[resilient::bulkhead(max = "adaptive", min = 0)]
async fn zero_floor() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
