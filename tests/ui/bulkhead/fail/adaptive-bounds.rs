#[resilient::bulkhead(max = "adaptive", min = 50, limit = 10)]
async fn floor_above_ceiling() -> std::io::Result<()> {
    Ok(())
}

#[resilient::bulkhead(max = "adaptive", limit = 10)]
async fn default_initial_above_ceiling() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
