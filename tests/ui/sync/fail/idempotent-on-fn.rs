#[resilient::idempotent(key = id)]
fn charge(id: u64) -> std::io::Result<u64> {
    Ok(id)
}

fn main() {}
