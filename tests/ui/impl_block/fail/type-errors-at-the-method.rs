// What only the type checker can see is reported at the method too, with a note on `skip`.

pub type Count = usize;

pub struct Request;

pub struct Client;

#[resilient::retry(max = 3)]
impl Client {
    pub async fn count(&self) -> Count {
        0
    }

    pub async fn send(&self, request: Request) -> std::io::Result<u64> {
        let _ = request;
        Ok(1)
    }
}

fn main() {}
