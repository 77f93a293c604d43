#[resilient::rate_limit("10/s", per = user, store = "redis")]
async fn per_user_fleet_wide(user: u64) -> std::io::Result<u64> {
    Ok(user)
}

fn main() {}
