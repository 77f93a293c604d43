//! `per` over fields of `self`, owned and borrowed arguments, text keys, a shared name, with
//! every layer stacked.
use resilient::{circuit_breaker, partition::text, retry, timeout};

struct Client {
    addr: std::net::SocketAddr,
}

impl Client {
    #[retry(max = 3, per = self.addr)]
    #[circuit_breaker(threshold = 5, per = self.addr, max_partitions = 64)]
    #[timeout("p99*2", per = self.addr)]
    async fn get(&mut self, key: &str) -> Result<usize, resilient::Error> {
        Ok(key.len() + self.addr.port() as usize)
    }
}

#[derive(Clone)]
struct Request {
    tenant: String,
    body: Vec<u8>,
}

#[retry(max = 2, per = request.tenant.clone())]
#[circuit_breaker(per = (request.tenant.len(), request.body.len() > 1024))]
async fn handle(request: Request) -> Result<usize, resilient::Error> {
    Ok(request.body.len())
}

#[circuit_breaker(name = "shared-hosts", per = text(host))]
async fn a(host: &str) -> Result<(), resilient::Error> {
    let _ = host;
    Ok(())
}

#[circuit_breaker(name = "shared-hosts", per = text(host))]
async fn b(host: &str) -> Result<(), resilient::Error> {
    let _ = host;
    Ok(())
}

fn main() {
    let _ = (Client::get, handle, a, b);
}
