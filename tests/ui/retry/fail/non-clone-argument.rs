struct Request {
    id: u64,
}

#[resilient::retry(max = 3)]
async fn send(request: Request) -> Result<u64, std::io::Error> {
    Ok(request.id)
}

// A destructured argument: the tuple's type is blamed.
#[resilient::retry(max = 3)]
async fn send_pair((request, attempt): (Request, u32)) -> Result<u64, std::io::Error> {
    Ok(request.id + u64::from(attempt))
}

fn main() {}
