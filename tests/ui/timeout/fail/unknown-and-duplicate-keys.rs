#[resilient::timeout("p99*2", warmpu = 10, min = "1ms", min = "2ms")]
async fn call() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
