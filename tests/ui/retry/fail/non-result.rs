#[resilient::retry]
async fn number() -> u32 {
    1
}

#[resilient::retry]
async fn nothing() {}

#[resilient::retry]
async fn option() -> Option<u32> {
    None
}

type Count = u32;

#[resilient::retry]
async fn alias() -> Count {
    1
}

fn main() {}
