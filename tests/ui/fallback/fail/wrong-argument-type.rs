#[derive(Debug)]
enum AppError {
    Down,
}

// Takes the error by reference; a fallback takes it by value.
fn cached(_e: &AppError) -> Result<u32, AppError> {
    Ok(1)
}

#[resilient::fallback(cached)]
async fn get() -> Result<u32, AppError> {
    Err(AppError::Down)
}

// Takes another error type.
fn other(_e: std::io::Error) -> Result<u32, AppError> {
    Ok(1)
}

#[resilient::fallback(other)]
async fn get_other() -> Result<u32, AppError> {
    Err(AppError::Down)
}

fn main() {}
