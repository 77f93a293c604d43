use resilient::{IdempotencyKey, idempotent};

#[derive(Clone, Debug)]
struct Receipt(u64);

struct ChargeRequest {
    id: String,
    amount: u64,
}

#[idempotent(key = request.id, ttl = "24h", fingerprint = request.amount)]
async fn by_field(request: ChargeRequest) -> Result<Receipt, resilient::Error> {
    Ok(Receipt(request.amount))
}

#[idempotent]
async fn by_type(key: IdempotencyKey, amount: u64) -> anyhow::Result<Receipt> {
    let _ = key;
    Ok(Receipt(amount))
}

#[idempotent(ttl = "1h", max_entries = 10_000)]
async fn by_name(idempotency_key: String) -> std::io::Result<Receipt> {
    Ok(Receipt(idempotency_key.len() as u64))
}

fn main() {
    fn is_send<T: Send>(_: T) {}
    is_send(by_field(ChargeRequest { id: "a".into(), amount: 1 }));
    is_send(by_type(IdempotencyKey::new(), 1));
    is_send(by_name("k".into()));
}
