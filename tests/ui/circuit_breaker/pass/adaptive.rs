use resilient::{circuit_breaker, retry, timeout};

#[derive(Debug)]
enum AppError {
    Rejected(resilient::Error),
}

impl From<resilient::Error> for AppError {
    fn from(e: resilient::Error) -> Self {
        AppError::Rejected(e)
    }
}

#[circuit_breaker(mode = "adaptive")]
async fn defaults() -> Result<(), AppError> {
    Ok(())
}

#[circuit_breaker(mode = "adaptive", k = 1.5, window = "2m", min_rps = 0.5, max_rejection = 0.95)]
async fn every_key() -> Result<u32, AppError> {
    Ok(1)
}

#[circuit_breaker(mode = "binary", threshold = 3)]
async fn binary_spelled_out() -> Result<(), AppError> {
    Ok(())
}

#[retry(max = 3)]
#[circuit_breaker(mode = "adaptive", k = 2, name = "shared-throttle", when = |e: &AppError| matches!(e, AppError::Rejected(_)))]
#[timeout("p99*2")]
async fn stacked(id: u64) -> Result<u64, AppError> {
    Ok(id)
}

#[circuit_breaker(mode = "adaptive", name = "shared-throttle")]
async fn shares_it() -> Result<(), AppError> {
    Ok(())
}

struct Client {
    host: String,
}

#[circuit_breaker(mode = "adaptive", per = self.host, max_partitions = 16)]
impl Client {
    async fn get(&self) -> Result<(), AppError> {
        Ok(())
    }
}

fn main() {
    let _ = (defaults(), every_key(), binary_spelled_out(), stacked(1), shares_it());
    let _ = Client { host: String::new() }.get();
}
