use resilient::retry;

#[derive(Debug)]
enum AppError {
    Busy,
}

fn is_busy(e: &AppError) -> bool {
    matches!(e, AppError::Busy)
}

#[retry(max = 5, backoff = "linear", base = "250ms", max_delay = "2s", jitter = 0.25, when = is_busy, budget = "10%", name = "every-key")]
async fn a() -> Result<(), AppError> {
    Ok(())
}

#[retry(backoff = "decorrelated", base = "1.5s", budget = "off")]
async fn b() -> Result<(), AppError> {
    Err(AppError::Busy)
}

#[retry(backoff = "fixed", jitter = "equal", base = "100us")]
async fn c() -> Result<(), AppError> {
    Ok(())
}

#[retry()]
async fn d() -> Result<(), AppError> {
    Ok(())
}

#[retry(jitter = "none", base = "0ms", max_delay = "24h")]
async fn e() -> Result<(), AppError> {
    Ok(())
}

fn main() {
    let _ = (a(), b(), c(), d(), e());
}
