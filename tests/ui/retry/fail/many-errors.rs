#[resilient::retry(max = 0, base = "soon", jitter = 2, colour = "blue")]
async fn call() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
