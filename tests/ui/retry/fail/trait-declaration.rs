trait Fetch {
    #[resilient::retry]
    async fn fetch(&self) -> Result<(), std::io::Error>;
}

fn main() {}
