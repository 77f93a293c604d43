#[derive(Debug)]
struct MyError;

#[resilient::rate_limit("10/s")]
async fn limited() -> Result<u32, MyError> {
    Ok(1)
}

fn main() {}
