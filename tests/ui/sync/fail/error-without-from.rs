#[derive(Debug)]
pub struct DbError;

#[resilient::circuit_breaker(threshold = 5)]
fn query() -> Result<u64, DbError> {
    Ok(1)
}

fn main() {}
