struct Client {
    id: u64,
}

impl Client {
    #[resilient::retry(max = 3)]
    async fn send(self) -> Result<u64, std::io::Error> {
        Ok(self.id)
    }
}

fn main() {}
