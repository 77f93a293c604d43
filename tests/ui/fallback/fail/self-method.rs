#[derive(Debug)]
enum AppError {
    Down,
}

#[resilient::fallback(self.cached)]
async fn free() -> Result<u32, AppError> {
    Err(AppError::Down)
}

struct Client;

impl Client {
    fn cached(&self, _e: AppError) -> Result<u32, AppError> {
        Ok(1)
    }

    fn by_ref(&self, _e: &AppError) -> Result<u32, AppError> {
        Ok(1)
    }

    // The body takes `self`: nothing is left to call the fallback on.
    #[resilient::fallback(self.cached)]
    async fn owned(self) -> Result<u32, AppError> {
        Err(AppError::Down)
    }

    #[resilient::fallback(self.cached())]
    async fn called(&self) -> Result<u32, AppError> {
        Err(AppError::Down)
    }

    #[resilient::fallback(self.by_ref)]
    async fn wrong_argument(&self) -> Result<u32, AppError> {
        Err(AppError::Down)
    }

    #[resilient::fallback(self.missing)]
    async fn no_such_method(&self) -> Result<u32, AppError> {
        Err(AppError::Down)
    }
}

fn main() {}
