use resilient::retry;

#[retry(max = 3, max_partitions = 100)]
async fn call(host: u32) -> Result<u32, std::io::Error> {
    Ok(host)
}

fn main() {}
