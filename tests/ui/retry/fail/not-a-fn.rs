#[resilient::retry]
struct Client;

fn main() {}
