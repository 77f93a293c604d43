#[derive(Debug)]
enum AppError {
    Down,
}

async fn cached(_e: AppError) -> Result<u64, AppError> {
    Ok(0)
}

#[resilient::fallback(cached)]
fn get(id: u64) -> Result<u64, AppError> {
    let _ = id;
    Err(AppError::Down)
}

fn main() {
    let _ = get(1);
}
