use resilient::{circuit_breaker, retry, timeout};

#[retry(max = 3)]
#[circuit_breaker]
#[timeout("1s")]
#[circuit_breaker(threshold = 2)]
async fn call() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
