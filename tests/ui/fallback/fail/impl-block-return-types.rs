// One fallback for a whole impl block fits only methods that return what it returns.
#[derive(Debug)]
enum AppError {
    Down,
}

fn cached(_e: AppError) -> Result<u32, AppError> {
    Ok(1)
}

struct Client;

#[resilient::fallback(cached)]
impl Client {
    async fn count(&self) -> Result<u32, AppError> {
        Err(AppError::Down)
    }

    async fn name(&self) -> Result<String, AppError> {
        Err(AppError::Down)
    }
}

fn main() {}
