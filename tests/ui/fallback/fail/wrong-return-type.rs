#[derive(Debug)]
enum AppError {
    Down,
}

fn maybe(_e: AppError) -> Option<u32> {
    Some(1)
}

#[resilient::fallback(maybe)]
async fn get() -> Result<u32, AppError> {
    Err(AppError::Down)
}

// The function returns `u32`, the fallback `u64`.
fn wider(_e: AppError) -> Result<u64, AppError> {
    Ok(1)
}

#[resilient::fallback(wider)]
async fn get_wider() -> Result<u32, AppError> {
    Err(AppError::Down)
}

async fn no_result(_e: AppError) -> u32 {
    1
}

#[resilient::fallback(no_result)]
async fn get_async() -> Result<u32, AppError> {
    Err(AppError::Down)
}

fn main() {}
