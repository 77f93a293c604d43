#[resilient::hedge(after = "50ms")]
fn read() -> Result<u32, std::io::Error> {
    Ok(1)
}

fn main() {}
