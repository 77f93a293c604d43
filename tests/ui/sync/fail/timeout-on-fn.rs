#[resilient::timeout("1s")]
fn call() -> std::io::Result<()> {
    Ok(())
}

// Stacked: the error is at the `#[timeout]`, the `#[retry]` above it is fine.
#[resilient::retry(max = 3)]
#[resilient::timeout("1s")]
fn stacked() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
