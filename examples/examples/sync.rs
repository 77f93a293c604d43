//! `#[retry]` and `#[circuit_breaker]` on a plain (blocking) fn: a client on `std::net` talking
//! to a server on 127.0.0.1 that drops its first two connections, then goes away. The retry
//! rides out the drops; once the server is gone the breaker opens and later calls fail at once,
//! without a connection attempt. The last call is made from async code, through
//! `spawn_blocking`, as any blocking call should be.
//!
//! Run it with `cargo run -p resilient-examples --example sync`.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use resilient::{circuit_breaker, retry};

/// A server that drops its first `drops` connections unanswered, answers `ok` to the next
/// `answers`, then stops listening.
fn serve(drops: usize, answers: usize) -> io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    std::thread::spawn(move || {
        for (i, conn) in listener.incoming().take(drops + answers).enumerate() {
            let Ok(mut conn) = conn else { continue };
            if i >= drops {
                let _ = conn.write_all(b"ok");
            }
        }
    });
    Ok(addr)
}

/// One blocking request: connect, read the answer. An empty answer is a dropped connection.
#[retry(max = 4, base = "20ms", jitter = "full")]
#[circuit_breaker(threshold = 3, cooldown = "5s")]
fn ping(addr: SocketAddr) -> io::Result<String> {
    let mut conn = TcpStream::connect_timeout(&addr, Duration::from_millis(200))?;
    let mut answer = String::new();
    conn.read_to_string(&mut answer)?;
    if answer.is_empty() {
        return Err(io::Error::new(io::ErrorKind::ConnectionReset, "dropped"));
    }
    Ok(answer)
}

#[tokio::main]
async fn main() -> io::Result<()> {
    let addr = serve(2, 1)?;
    let started = Instant::now();
    println!("first call, two drops then an answer: {:?}", ping(addr));
    // The server has stopped listening: every attempt is refused, and the third failure opens
    // the breaker, which stops the retry at once (no sleeping against an open circuit).
    println!("server gone: {:?}", ping(addr).map_err(|e| e.to_string()));
    println!("while open, no connection is tried: {:?}", ping(addr).map_err(|e| e.to_string()));
    let from_async = tokio::task::spawn_blocking(move || ping(addr)).await?;
    println!("from async code, via spawn_blocking: {:?}", from_async.map_err(|e| e.to_string()));
    let snapshot = resilient::registry::snapshot();
    let breaker = snapshot.breaker("sync::ping").expect("the breaker is listed");
    println!("breaker {} after {:?}", breaker.state, started.elapsed());
    Ok(())
}
