#![deny(unused_imports, unused_variables, unused_mut, dead_code)]

use resilient::{circuit_breaker, idempotent, retry, timeout};

#[derive(Debug)]
pub enum AppError {
    Busy,
    Rejected(resilient::Error),
}

impl From<resilient::Error> for AppError {
    fn from(e: resilient::Error) -> Self {
        AppError::Rejected(e)
    }
}

fn is_transient(e: &AppError) -> bool {
    matches!(e, AppError::Busy | AppError::Rejected(_))
}

pub struct Client {
    calls: u64,
}

impl Client {
    /// The recommended order: idempotent > retry > circuit_breaker > timeout.
    #[idempotent(key = id)]
    #[retry(max = 3, backoff = "exp", base = "100ms", jitter = 0.1, when = is_transient)]
    #[circuit_breaker(threshold = 5, window = "30s", cooldown = "10s")]
    // The body does not `.await`: a timeout cannot stop it half-way (`cancel_safe`).
    #[timeout("p99*2", initial = "1s", min = "5ms", max = "5s", cancel_safe = true)]
    pub async fn get_user(&mut self, id: u64, mut tag: String) -> Result<String, AppError> {
        self.calls += 1;
        tag.push('!');
        Ok(format!("{tag}{id}"))
    }
}

fn main() {
    fn is_send<T: Send>(_: T) {}
    let mut client = Client { calls: 0 };
    is_send(client.get_user(1, String::new()));
}
