struct Request {
    id: u64,
}

#[resilient::retry(max = 3)]
async fn send(request: Request) -> Result<u64, std::io::Error> {
    Ok(request.id)
}

fn main() {}
