#[resilient::timeout("250ms", warmup = 50, max = "1s")]
async fn call() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
