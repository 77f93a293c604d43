use resilient::timeout;

#[timeout("250ms", per = host)]
async fn get(host: String) -> std::io::Result<u32> {
    Ok(host.len() as u32)
}

fn main() {}
