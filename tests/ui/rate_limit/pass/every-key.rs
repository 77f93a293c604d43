use std::time::Duration;

#[derive(Debug)]
struct User {
    id: u64,
}

#[resilient::rate_limit("10/s", per = user.id, max_partitions = 10_000, burst = 20, wait = "250ms")]
async fn per_user(user: &User) -> std::io::Result<u64> {
    Ok(user.id)
}

#[resilient::rate_limit("600/m", store = "redis", on_store_error = "local", name = "shop::search")]
async fn fleet_wide() -> anyhow::Result<()> {
    Ok(())
}

#[resilient::rate_limit("10/s", per = user.id, store = "redis", on_store_error = "local")]
async fn per_user_fleet_wide(user: User) -> std::io::Result<u64> {
    Ok(user.id)
}

#[resilient::retry(max = 2)]
#[resilient::circuit_breaker]
#[resilient::rate_limit("1000/h")]
#[resilient::timeout("1s")]
async fn stacked() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    Ok(())
}

struct Client;

#[resilient::rate_limit("5/s")]
impl Client {
    async fn get(&self) -> std::io::Result<u32> {
        Ok(1)
    }
}

#[tokio::main(flavor = "current_thread", start_paused = true)]
async fn main() {
    assert_eq!(per_user(&User { id: 7 }).await.unwrap(), 7);
    let _ = fleet_wide;
    let _ = per_user_fleet_wide;
    stacked().await.unwrap();
    assert_eq!(Client.get().await.unwrap(), 1);
    let _ = Duration::ZERO;
}
