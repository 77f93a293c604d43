#[resilient::retry(backoff = "decorrelated", jitter = "full")]
async fn call() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
