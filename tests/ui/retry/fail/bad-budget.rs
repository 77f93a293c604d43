#[resilient::retry(budget = "150%")]
async fn too_big() -> Result<(), std::io::Error> {
    Ok(())
}

#[resilient::retry(budget = 0.2)]
async fn not_a_percentage() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
