#[resilient::retry(jitter = 1.5)]
async fn too_much() -> Result<(), std::io::Error> {
    Ok(())
}

#[resilient::retry(jitter = "half")]
async fn unknown_kind() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
