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

// Keys of a generic type, borrowed text and a composed `Display` value: each takes the path its
// type allows (integers, strings and UUIDs skip `core::fmt`; the rest go through `Display`).
#[idempotent(key = key)]
async fn generic_key<K: std::fmt::Display + Send + Sync>(key: K, amount: u64) -> Result<Receipt, resilient::Error> {
    let _ = key;
    Ok(Receipt(amount))
}

#[idempotent(key = tenant)]
async fn borrowed_key(tenant: &str, amount: u64) -> Result<Receipt, resilient::Error> {
    Ok(Receipt(amount + tenant.len() as u64))
}

#[idempotent(key = format!("{tenant}/{order}"))]
async fn composed_key(tenant: u32, order: u64) -> Result<Receipt, resilient::Error> {
    Ok(Receipt(u64::from(tenant) + order))
}

#[idempotent(key = &request.id)]
async fn by_reference(request: ChargeRequest) -> Result<Receipt, resilient::Error> {
    Ok(Receipt(request.amount))
}

fn main() {
    fn is_send<T: Send>(_: T) {}
    is_send(by_field(ChargeRequest { id: "a".into(), amount: 1 }));
    is_send(by_type(IdempotencyKey::new(), 1));
    is_send(by_name("k".into()));
    is_send(generic_key(7u8, 1));
    is_send(generic_key(IdempotencyKey::new(), 1));
    is_send(borrowed_key("t", 1));
    is_send(composed_key(1, 2));
    is_send(by_reference(ChargeRequest { id: "b".into(), amount: 1 }));
}
