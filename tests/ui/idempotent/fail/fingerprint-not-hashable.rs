#[derive(Clone)]
struct Receipt;

struct Amount(f64);

#[resilient::idempotent(key = id, fingerprint = amount)]
async fn charge(id: u64, amount: Amount) -> Result<Receipt, resilient::Error> {
    let _ = (id, amount.0);
    Ok(Receipt)
}

fn main() {}
