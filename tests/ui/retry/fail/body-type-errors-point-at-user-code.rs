#[resilient::retry(max = 3)]
async fn call() -> Result<u32, std::io::Error> {
    let text: &str = "7";
    Ok(text)
}

fn main() {}
