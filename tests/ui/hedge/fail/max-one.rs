#[resilient::hedge(after = "50ms", max = 1)]
async fn read() -> Result<u32, std::io::Error> {
    Ok(1)
}

#[resilient::hedge(after = "50ms", max = 11)]
async fn read_many() -> Result<u32, std::io::Error> {
    Ok(1)
}

fn main() {}
