pub struct Client;

#[resilient::retry(max = 2)]
#[resilient::retry(max = 3)]
impl Client {
    pub async fn get(&self) -> std::io::Result<u32> {
        Ok(1)
    }
}

fn main() {}
