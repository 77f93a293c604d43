#[resilient::retry(maxx = 3)]
async fn call() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
