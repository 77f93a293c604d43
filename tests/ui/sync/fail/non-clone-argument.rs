pub struct Request {
    pub id: u64,
}

#[resilient::retry(max = 3)]
fn send(request: Request) -> std::io::Result<u64> {
    Ok(request.id)
}

fn main() {}
