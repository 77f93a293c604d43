#[derive(Debug)]
pub struct DbError;

pub type DbResult<T> = Result<T, DbError>;

#[resilient::circuit_breaker(threshold = 5)]
async fn query() -> DbResult<u64> {
    Ok(1)
}

fn main() {}
