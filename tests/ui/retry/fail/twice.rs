#[resilient::retry(max = 3)]
#[resilient::retry(max = 5)]
async fn call() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
