#[derive(Debug)]
enum AppError {
    Down,
}

fn cached(_e: AppError) -> Result<u32, AppError> {
    Ok(1)
}

fn is_io(_e: &std::io::Error) -> bool {
    true
}

#[resilient::fallback(cached, on = is_io)]
async fn get() -> Result<u32, AppError> {
    Err(AppError::Down)
}

fn main() {}
