//! An argument passed by reference keys by what it points to: `&str` as text, `&u64` as a
//! number, `&self` as the value.
use resilient::circuit_breaker;

#[derive(Clone, PartialEq, Eq, Hash)]
struct Shard(u16);

impl Shard {
    #[circuit_breaker(per = self)]
    async fn read(&self, key: &str) -> Result<usize, resilient::Error> {
        Ok(key.len() + self.0 as usize)
    }
}

#[circuit_breaker(per = host)]
async fn by_host(host: &str) -> Result<usize, resilient::Error> {
    Ok(host.len())
}

#[circuit_breaker(per = id)]
async fn by_id(id: &u64, body: &mut Vec<u8>) -> Result<u64, resilient::Error> {
    body.push(1);
    Ok(*id)
}

fn main() {
    let _ = (Shard::read, by_host, by_id);
}
