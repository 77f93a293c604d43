use std::sync::Arc;

#[derive(Debug)]
enum AppError {
    Down,
    Rejected(resilient::Error),
}

impl From<resilient::Error> for AppError {
    fn from(e: resilient::Error) -> Self {
        AppError::Rejected(e)
    }
}

fn cached(_e: AppError) -> Result<u32, AppError> {
    Ok(1)
}

async fn cached_async(_e: AppError) -> Result<u32, AppError> {
    Ok(1)
}

fn generic<E>(e: E) -> Result<u32, E> {
    Err(e)
}

mod cache {
    pub fn get<T: Default, E>(_e: E) -> Result<T, E> {
        Ok(T::default())
    }
}

#[resilient::fallback(cached)]
async fn sync_path() -> Result<u32, AppError> {
    Err(AppError::Down)
}

#[resilient::fallback(cached_async, on = |e| matches!(e, AppError::Down))]
#[resilient::retry(max = 2)]
#[resilient::circuit_breaker]
#[resilient::timeout("1s")]
async fn async_path_over_the_stack() -> Result<u32, AppError> {
    Err(AppError::Down)
}

#[resilient::fallback(generic)]
async fn generic_fallback() -> Result<u32, AppError> {
    Err(AppError::Down)
}

#[resilient::fallback(cache::get::<String, _>, name = "forms.turbofish")]
async fn turbofish() -> Result<String, AppError> {
    Err(AppError::Down)
}

fn io_cached(_e: std::io::Error) -> std::io::Result<Vec<u8>> {
    Ok(Vec::new())
}

// Spelled as an alias: the macro works from the type.
#[resilient::fallback(io_cached)]
#[resilient::timeout("1s")]
async fn io_alias() -> std::io::Result<Vec<u8>> {
    Ok(vec![1])
}

fn any_cached(_e: anyhow::Error) -> anyhow::Result<u32> {
    Ok(0)
}

#[resilient::fallback(any_cached)]
async fn anyhow_alias() -> anyhow::Result<u32> {
    anyhow::bail!("down")
}

struct Client {
    last: u32,
}

impl Client {
    fn stale(&self, _e: AppError) -> Result<u32, AppError> {
        Ok(self.last)
    }

    async fn reset(&mut self, _e: AppError) -> Result<u32, AppError> {
        self.last = 0;
        Ok(0)
    }

    fn fixed(_e: AppError) -> Result<u32, AppError> {
        Ok(7)
    }

    #[resilient::fallback(self.stale)]
    #[resilient::retry(max = 2)]
    async fn shared(&self) -> Result<u32, AppError> {
        Ok(self.last)
    }

    #[resilient::fallback(self.reset)]
    #[resilient::retry(max = 2)]
    async fn unique(&mut self) -> Result<u32, AppError> {
        self.last += 1;
        Ok(self.last)
    }

    #[resilient::fallback(Self::fixed)]
    async fn owned_arc(self: Arc<Self>) -> Result<u32, AppError> {
        Ok(self.last)
    }
}

struct Service;

// One fallback for every method of a block that returns one type.
#[resilient::fallback(cached)]
impl Service {
    async fn a(&self) -> Result<u32, AppError> {
        Ok(1)
    }

    async fn b(&self, x: u32) -> Result<u32, AppError> {
        Ok(x)
    }
}

fn main() {}
