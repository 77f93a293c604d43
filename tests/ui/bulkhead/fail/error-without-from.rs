#[derive(Debug)]
struct DbError;

#[resilient::bulkhead(max = 5)]
async fn query() -> Result<u32, DbError> {
    Ok(1)
}

fn main() {}
