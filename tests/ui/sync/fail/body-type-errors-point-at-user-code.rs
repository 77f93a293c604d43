#[resilient::retry(max = 3)]
fn call() -> Result<u32, std::io::Error> {
    let text: &str = "7";
    Ok(text)
}

#[resilient::circuit_breaker]
fn early() -> Result<u32, std::io::Error> {
    if true {
        return Ok("early");
    }
    Ok(1)
}

fn main() {}
