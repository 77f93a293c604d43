#[resilient::retry(max = 3)]
async fn call() -> Result<u32, std::io::Error> {
    let n = __resilient_attempts.made();
    Ok(n)
}

fn main() {}
