fn is_transient(e: &String) -> bool {
    e.is_empty()
}

#[resilient::retry(when = is_transient)]
async fn call() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
