#[derive(Debug)]
enum AppError {
    NotFound,
}

#[resilient::timeout("1s")]
async fn call() -> Result<(), AppError> {
    Err(AppError::NotFound)
}

fn main() {}
