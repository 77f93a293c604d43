#[resilient::retry(backoff = "quadratic")]
async fn call() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
