#[resilient::timeout("250")]
async fn no_unit() -> std::io::Result<()> {
    Ok(())
}

#[resilient::timeout("0ms")]
async fn zero() -> std::io::Result<()> {
    Ok(())
}

#[resilient::timeout(250)]
async fn not_a_string() -> std::io::Result<()> {
    Ok(())
}

#[resilient::timeout("p99*2", initial = "soon", window = "1 minute")]
async fn bad_keys() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
