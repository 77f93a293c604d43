use resilient::idempotent;

#[idempotent(key = id, per = tenant)]
async fn charge(id: u64, tenant: u32) -> Result<u64, resilient::Error> {
    Ok(id + u64::from(tenant))
}

fn main() {}
