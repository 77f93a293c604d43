#[derive(Debug)]
pub struct NetError;

pub struct Client;

#[resilient::retry(max = 3)]
#[resilient::timeout("1s")]
impl Client {
    pub async fn get(&self) -> Result<u32, std::io::Error> {
        Ok(1)
    }

    pub async fn len(&self) -> usize {
        0
    }

    pub async fn close(&self) {}

    pub fn sync(&self) -> usize {
        0
    }
}

fn main() {}
