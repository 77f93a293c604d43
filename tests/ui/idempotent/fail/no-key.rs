#[derive(Clone)]
struct Receipt;

#[resilient::idempotent]
async fn charge(amount: u64) -> Result<Receipt, resilient::Error> {
    let _ = amount;
    Ok(Receipt)
}

fn main() {}
