// The breaker's rejection must reach the fallback as `AppError`.
#[derive(Debug)]
enum AppError {
    Down,
}

fn cached(_e: AppError) -> Result<u32, AppError> {
    Ok(1)
}

#[resilient::fallback(cached)]
#[resilient::circuit_breaker(threshold = 5)]
async fn get() -> Result<u32, AppError> {
    Err(AppError::Down)
}

fn main() {}
