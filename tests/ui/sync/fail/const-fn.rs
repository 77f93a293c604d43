#[resilient::retry]
const fn call() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
