use resilient::circuit_breaker;

#[circuit_breaker(per = "db-1")]
async fn call(host: u32) -> Result<u32, resilient::Error> {
    Ok(host)
}

fn main() {}
