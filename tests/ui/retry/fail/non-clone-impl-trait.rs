#[resilient::retry(max = 3)]
async fn send(message: impl std::fmt::Display) -> Result<String, std::io::Error> {
    Ok(message.to_string())
}

fn main() {}
