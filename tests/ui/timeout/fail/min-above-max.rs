#[resilient::timeout("p99*2", min = "5s", max = "1s")]
async fn call() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
