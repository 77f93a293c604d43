use resilient::circuit_breaker;

#[derive(Debug)]
enum AppError {
    Timeout,
    Rejected(resilient::Error),
}

impl From<resilient::Error> for AppError {
    fn from(e: resilient::Error) -> Self {
        AppError::Rejected(e)
    }
}

#[circuit_breaker]
async fn defaults() -> Result<(), AppError> {
    Ok(())
}

#[circuit_breaker(threshold = 5, window = "30s", cooldown = "10s", probes = 3, when = |e| matches!(e, AppError::Timeout), name = "db")]
async fn all_keys() -> Result<(), AppError> {
    Ok(())
}

#[circuit_breaker(failure_rate = 0.5, min_calls = 20, window = "1m", name = "db-rate")]
async fn rate() -> anyhow::Result<()> {
    Ok(())
}

struct Repo;

impl Repo {
    #[circuit_breaker(name = "repo")]
    async fn get(&self, id: u64) -> std::io::Result<u64> {
        Ok(id)
    }
}

fn main() {
    fn is_send<T: Send>(_: T) {}
    is_send(defaults());
    is_send(all_keys());
    is_send(rate());
    is_send(Repo.get(1));
    let _ = AppError::Rejected;
}
