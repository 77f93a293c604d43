#[resilient::hedge(after = "50ms", warmup = 10, window = "10s")]
async fn read() -> Result<u32, std::io::Error> {
    Ok(1)
}

fn main() {}
