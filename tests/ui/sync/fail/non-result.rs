#[resilient::retry]
fn number() -> u32 {
    1
}

#[resilient::circuit_breaker]
fn nothing() {}

#[resilient::retry]
fn option() -> Option<u32> {
    None
}

fn main() {}
