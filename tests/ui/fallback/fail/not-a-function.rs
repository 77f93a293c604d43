#[derive(Debug)]
enum AppError {
    Down,
}

#[resilient::fallback(|_e| Ok(1))]
async fn closure() -> Result<u32, AppError> {
    Err(AppError::Down)
}

fn cached(_e: AppError) -> Result<u32, AppError> {
    Ok(1)
}

#[resilient::fallback(cached())]
async fn called() -> Result<u32, AppError> {
    Err(AppError::Down)
}

#[resilient::fallback("cached")]
async fn quoted() -> Result<u32, AppError> {
    Err(AppError::Down)
}

const CACHED: u32 = 1;

#[resilient::fallback(CACHED)]
async fn constant() -> Result<u32, AppError> {
    Err(AppError::Down)
}

fn two_args(_e: AppError, _retries: u32) -> Result<u32, AppError> {
    Ok(1)
}

#[resilient::fallback(two_args)]
async fn too_many() -> Result<u32, AppError> {
    Err(AppError::Down)
}

fn main() {}
