pub struct Client;

#[resilient::retry]
impl Client {
    #[resilient::skip(retry)]
    pub async fn get(&self) -> std::io::Result<u32> {
        Ok(1)
    }

    pub async fn put(&self) -> std::io::Result<u32> {
        Ok(1)
    }
}

fn main() {}
