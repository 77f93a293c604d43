#[resilient::retry(max = 0)]
async fn call() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
