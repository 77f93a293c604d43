#[derive(Debug)]
pub struct DbError;

pub struct Db;

#[resilient::circuit_breaker(threshold = 5)]
impl Db {
    pub async fn query(&self) -> Result<u64, DbError> {
        Ok(1)
    }
}

fn main() {}
