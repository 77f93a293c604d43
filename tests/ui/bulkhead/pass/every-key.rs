use resilient::bulkhead;

#[derive(Debug)]
enum DbError {
    Rejected(resilient::Error),
}

impl From<resilient::Error> for DbError {
    fn from(e: resilient::Error) -> Self {
        DbError::Rejected(e)
    }
}

#[bulkhead(max = 10, queue = 5, wait = "100ms", name = "pass::db")]
async fn fixed() -> Result<u32, DbError> {
    Ok(1)
}

#[bulkhead(max = "adaptive", min = 2, limit = 200, initial = 10)]
async fn adaptive() -> Result<u32, DbError> {
    Ok(1)
}

#[bulkhead]
async fn defaults() -> std::io::Result<u32> {
    Ok(1)
}

struct Client {
    host: String,
}

impl Client {
    #[bulkhead(max = "adaptive", per = self.host, max_partitions = 64)]
    async fn get(&self) -> anyhow::Result<u32> {
        Ok(1)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let _ = fixed().await;
    let _ = adaptive().await;
    let _ = defaults().await;
    let _ = Client { host: "a".into() }.get().await;
    let Err(DbError::Rejected(e)) = Err::<(), _>(DbError::Rejected(resilient::Error::BulkheadFull(
        resilient::runtime::error::BulkheadFull::new("x", 1, std::time::Duration::ZERO),
    ))) else {
        unreachable!()
    };
    assert!(e.is_bulkhead_full());
}
