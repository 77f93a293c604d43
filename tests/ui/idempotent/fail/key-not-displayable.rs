#[derive(Clone)]
struct Receipt;

struct RequestId(u64);

#[resilient::idempotent(key = id)]
async fn charge(id: RequestId) -> Result<Receipt, resilient::Error> {
    let _ = id.0;
    Ok(Receipt)
}

fn main() {}
