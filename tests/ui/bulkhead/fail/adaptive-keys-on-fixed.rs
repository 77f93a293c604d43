#[resilient::bulkhead(max = 10, min = 2)]
async fn fixed_with_min() -> std::io::Result<()> {
    Ok(())
}

#[resilient::bulkhead(initial = 5, limit = 100)]
async fn default_max_with_bounds() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
