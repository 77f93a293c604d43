struct Receipt;

#[resilient::idempotent(key = id)]
async fn charge(id: u64) -> Result<Receipt, resilient::Error> {
    let _ = id;
    Ok(Receipt)
}

fn main() {}
