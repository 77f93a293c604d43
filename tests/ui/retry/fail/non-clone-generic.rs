#[resilient::retry(max = 3)]
async fn send<T: std::fmt::Display>(message: T) -> Result<String, std::io::Error> {
    Ok(message.to_string())
}

fn main() {}
