struct Request {
    id: u64,
}

#[resilient::hedge(after = "50ms")]
async fn send(request: Request) -> Result<u64, std::io::Error> {
    Ok(request.id)
}

#[resilient::hedge(after = "50ms")]
async fn send_any<R: Into<u64>>(request: R) -> Result<u64, std::io::Error> {
    Ok(request.into())
}

struct Client;

impl Client {
    #[resilient::hedge(after = "50ms")]
    async fn consume(self) -> Result<u64, std::io::Error> {
        Ok(1)
    }
}

fn main() {}
