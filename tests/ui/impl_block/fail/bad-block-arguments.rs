pub struct Client;

// Reported once, at the block, however many methods there are.
#[resilient::retry(max = 0, backof = "exp")]
impl Client {
    pub async fn get(&self) -> std::io::Result<u32> {
        Ok(1)
    }

    pub async fn put(&self) -> std::io::Result<u32> {
        Ok(1)
    }
}

pub struct Slow;

#[resilient::timeout("10ms")]
#[resilient::retry(base = "100ms")]
impl Slow {
    pub async fn get(&self) -> std::io::Result<u32> {
        Ok(1)
    }
}

fn main() {}
