#[derive(Debug)]
enum AppError {
    Rejected(resilient::Error),
}

impl From<resilient::Error> for AppError {
    fn from(e: resilient::Error) -> Self {
        AppError::Rejected(e)
    }
}

#[resilient::rate_limit("100/s", store = "redis")]
fn call_partner() -> Result<(), AppError> {
    Ok(())
}

fn main() {
    let _ = call_partner();
}
