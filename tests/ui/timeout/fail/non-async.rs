#[resilient::timeout("1s")]
fn call() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
