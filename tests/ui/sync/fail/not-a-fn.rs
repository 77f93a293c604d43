// What each attribute goes on: `#[circuit_breaker]` also on a plain `fn`, `#[timeout]` only on
// an `async fn`.
#[resilient::circuit_breaker]
struct Client;

#[resilient::timeout("1s")]
struct Server;

fn main() {}
