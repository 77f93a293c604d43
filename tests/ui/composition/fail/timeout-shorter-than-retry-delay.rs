use resilient::{retry, timeout};

#[timeout("100ms")]
#[retry(max = 3, base = "200ms")]
async fn call() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
