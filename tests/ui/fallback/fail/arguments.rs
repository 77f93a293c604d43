#[derive(Debug)]
enum AppError {
    Down,
}

fn cached(_e: AppError) -> Result<u32, AppError> {
    Ok(1)
}

#[resilient::fallback]
async fn missing() -> Result<u32, AppError> {
    Err(AppError::Down)
}

#[resilient::fallback(on = |_e| true)]
async fn only_on() -> Result<u32, AppError> {
    Err(AppError::Down)
}

#[resilient::fallback(cached, cached)]
async fn twice() -> Result<u32, AppError> {
    Err(AppError::Down)
}

#[resilient::fallback(cached, when = |_e| true)]
async fn when() -> Result<u32, AppError> {
    Err(AppError::Down)
}

#[resilient::fallback(cached, per = 1)]
async fn per() -> Result<u32, AppError> {
    Err(AppError::Down)
}

#[resilient::fallback(cached, enabled = false)]
async fn enabled() -> Result<u32, AppError> {
    Err(AppError::Down)
}

fn main() {}
