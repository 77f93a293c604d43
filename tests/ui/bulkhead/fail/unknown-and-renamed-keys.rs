#[resilient::bulkhead(max_concurrent = 5)]
async fn renamed_max() -> std::io::Result<()> {
    Ok(())
}

#[resilient::bulkhead(max = 5, queue = 1, timeout = "1s")]
async fn renamed_wait() -> std::io::Result<()> {
    Ok(())
}

#[resilient::bulkhead(maxx = 5)]
async fn misspelt() -> std::io::Result<()> {
    Ok(())
}

#[resilient::bulkhead(max = 5, max = 6)]
async fn twice() -> std::io::Result<()> {
    Ok(())
}

#[resilient::bulkhead(10)]
async fn positional() -> std::io::Result<()> {
    Ok(())
}

#[resilient::bulkhead(max = 5, max_partitions = 10)]
async fn bound_without_per() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
