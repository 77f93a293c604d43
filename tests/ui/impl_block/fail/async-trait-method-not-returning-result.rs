#[async_trait::async_trait]
pub trait Store: Send + Sync {
    async fn load(&self, id: u64) -> Result<u64, std::io::Error>;
    async fn count(&self) -> u64;
}

pub struct Above;
pub struct Below;

#[async_trait::async_trait]
#[resilient::retry]
impl Store for Above {
    async fn load(&self, id: u64) -> Result<u64, std::io::Error> {
        Ok(id)
    }
    async fn count(&self) -> u64 {
        0
    }
}

#[resilient::retry]
#[async_trait::async_trait]
impl Store for Below {
    async fn load(&self, id: u64) -> Result<u64, std::io::Error> {
        Ok(id)
    }
    async fn count(&self) -> u64 {
        0
    }
}

fn main() {}
