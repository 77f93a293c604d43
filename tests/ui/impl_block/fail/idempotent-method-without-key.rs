use resilient::IdempotencyKey;

pub struct Payments;

#[resilient::idempotent(ttl = "1h")]
impl Payments {
    pub async fn charge(&self, idempotency_key: IdempotencyKey, cents: u32) -> Result<u32, resilient::Error> {
        Ok(cents)
    }

    pub async fn balance(&self, account: u64) -> Result<u32, resilient::Error> {
        Ok(account as u32)
    }
}

fn main() {}
