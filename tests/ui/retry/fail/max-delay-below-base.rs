#[resilient::retry(base = "2s", max_delay = "500ms")]
async fn call() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
