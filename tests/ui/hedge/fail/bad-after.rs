#[resilient::hedge(after = "p100")]
async fn a() -> Result<u32, std::io::Error> {
    Ok(1)
}

#[resilient::hedge(after = "p95*2")]
async fn b() -> Result<u32, std::io::Error> {
    Ok(1)
}

#[resilient::hedge(after = "0ms")]
async fn c() -> Result<u32, std::io::Error> {
    Ok(1)
}

#[resilient::hedge(after = "soon")]
async fn d() -> Result<u32, std::io::Error> {
    Ok(1)
}

#[resilient::hedge(after = 50)]
async fn e() -> Result<u32, std::io::Error> {
    Ok(1)
}

#[resilient::hedge(after = "p95", budget = "200%")]
async fn f() -> Result<u32, std::io::Error> {
    Ok(1)
}

fn main() {}
