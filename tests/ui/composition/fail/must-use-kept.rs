#![deny(unused_must_use)]

use resilient::{retry, timeout};

#[must_use]
#[retry(max = 2)]
#[timeout("1s")]
async fn call() -> std::io::Result<()> {
    Ok(())
}

async fn caller() {
    call().await;
}

fn main() {
    let _ = caller();
}
