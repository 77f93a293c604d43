#[resilient::retry(max_retries = 2, delay = "1s")]
async fn call() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
