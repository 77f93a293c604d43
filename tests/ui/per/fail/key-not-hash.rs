use resilient::circuit_breaker;

#[derive(Clone, PartialEq)]
struct Endpoint {
    weight: f64,
}

#[circuit_breaker(per = endpoint)]
async fn call(endpoint: Endpoint) -> Result<f64, resilient::Error> {
    Ok(endpoint.weight)
}

fn main() {}
