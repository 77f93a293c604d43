#[resilient::retry(max = 3)]
fn call() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
