use resilient::retry;

#[retry(budget = "off", per = tenant)]
async fn call(tenant: u32) -> Result<u32, std::io::Error> {
    Ok(tenant)
}

fn main() {}
