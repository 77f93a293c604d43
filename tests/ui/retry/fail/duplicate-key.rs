#[resilient::retry(max = 3, base = "10ms", max = 4)]
async fn call() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
