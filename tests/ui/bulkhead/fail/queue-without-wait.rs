#[resilient::bulkhead(max = 10, queue = 5)]
async fn queue_without_wait() -> std::io::Result<()> {
    Ok(())
}

#[resilient::bulkhead(max = 10, queue = 5, wait = "0ms")]
async fn queue_with_zero_wait() -> std::io::Result<()> {
    Ok(())
}

#[resilient::bulkhead(max = 10, wait = "100ms")]
async fn wait_without_queue() -> std::io::Result<()> {
    Ok(())
}

#[resilient::bulkhead(max = 10, queue = 5, wait = "soon")]
async fn bad_wait() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
