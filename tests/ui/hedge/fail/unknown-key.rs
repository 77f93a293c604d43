#[resilient::hedge(delay = "50ms")]
async fn a() -> Result<u32, std::io::Error> {
    Ok(1)
}

#[resilient::hedge(aftr = "50ms")]
async fn b() -> Result<u32, std::io::Error> {
    Ok(1)
}

#[resilient::hedge(after = "50ms", when = |_e: &std::io::Error| true)]
async fn c() -> Result<u32, std::io::Error> {
    Ok(1)
}

#[resilient::hedge(after = "50ms", enabled = false)]
async fn d() -> Result<u32, std::io::Error> {
    Ok(1)
}

fn main() {}
