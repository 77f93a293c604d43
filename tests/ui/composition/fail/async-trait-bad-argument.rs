#[async_trait::async_trait]
trait Store {
    async fn load(&self, id: u64) -> std::io::Result<u64>;
}

struct Db;

#[async_trait::async_trait]
impl Store for Db {
    #[resilient::retry(max = 0)]
    async fn load(&self, id: u64) -> std::io::Result<u64> {
        Ok(id)
    }
}

fn main() {}
