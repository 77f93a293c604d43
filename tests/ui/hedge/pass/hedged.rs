//! `#[hedge]` on the shapes a client has: free fns with borrowed and owned arguments, generic
//! fns, `impl Trait`, methods on `&self` and `Arc<Self>`, `per`, stacked with the others; the
//! futures stay `Send`.

use std::sync::Arc;

use resilient::{circuit_breaker, hedge, idempotent, retry, timeout, IdempotencyKey};

#[hedge]
async fn defaults(key: &str) -> Result<String, std::io::Error> {
    Ok(key.to_owned())
}

#[hedge(after = "p99.9", max = 3, budget = "5%", warmup = 50, window = "30s", name = "reads")]
async fn owned(key: String, n: u64) -> Result<String, std::io::Error> {
    Ok(format!("{key}{n}"))
}

#[hedge(after = "20ms", budget = "off")]
async fn generic<K: AsRef<str> + Clone>(key: K, extra: impl Into<u64> + Clone) -> Result<u64, std::io::Error> {
    Ok(key.as_ref().len() as u64 + extra.into())
}

struct Replicas {
    addr: String,
}

impl Replicas {
    #[hedge(after = "p95", per = self.addr)]
    async fn get(&self, key: &str) -> Result<String, std::io::Error> {
        Ok(format!("{}/{key}", self.addr))
    }

    #[hedge(after = "10ms")]
    async fn shared(self: Arc<Self>) -> Result<usize, std::io::Error> {
        Ok(self.addr.len())
    }
}

#[idempotent]
#[retry(max = 2, base = "10ms")]
#[hedge(after = "p95")]
#[circuit_breaker(threshold = 5)]
#[timeout("1s")]
async fn stacked(idempotency_key: IdempotencyKey, key: &str) -> Result<u64, resilient::Error> {
    let _ = idempotency_key;
    Ok(key.len() as u64)
}

fn is_send<T: Send>(_: T) {}

fn main() {
    let r = Arc::new(Replicas { addr: "a".into() });
    is_send(defaults("k"));
    is_send(owned("k".into(), 1));
    is_send(generic("k", 1u32));
    is_send(r.get("k"));
    is_send(r.clone().shared());
    is_send(stacked(IdempotencyKey::new(), "k"));
}
