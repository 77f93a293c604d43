#[resilient::retry]
pub trait Fetch {
    async fn fetch(&self) -> std::io::Result<u8>;
}

#[resilient::circuit_breaker]
mod client {}

fn main() {}
