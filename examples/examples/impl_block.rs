//! One resilience stack for a whole client, written once on its `impl` block.
//!
//! Two tiny key-value servers run on 127.0.0.1: `primary` answers, `replica` is dead (its port
//! refuses connections). One `Client` type talks to either. The block's `#[retry]`,
//! `#[circuit_breaker]` and `#[timeout]` apply to every `async fn` of the client, each method
//! with its own policies and name (`impl_block::Client::get`, `impl_block::Client::set`); `ping`
//! opts out with `#[resilient::skip]`, `put_many` replaces the block's retry with its own, and
//! the sync `addr` is left as it is.
//!
//! `per = self.addr` on the block's breaker gives each method one breaker per server: once the
//! dead replica opens its `get` breaker, the primary's `get`s go on as before.
//!
//! Run it with `cargo run -p resilient-examples --example impl_block` (about 2 seconds).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use resilient::registry::{self, PolicyState};
use resilient::runtime::breaker::CircuitState;
use resilient::{circuit_breaker, retry, timeout};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, sleep};

#[derive(Debug)]
enum ClientError {
    /// The connection failed: worth another attempt.
    Io(std::io::ErrorKind),
    /// The server answered with an error.
    Server(String),
    /// A policy turned the call away.
    Rejected(resilient::Error),
}

impl From<std::io::Error> for ClientError {
    fn from(e: std::io::Error) -> Self {
        ClientError::Io(e.kind())
    }
}

impl From<resilient::Error> for ClientError {
    fn from(e: resilient::Error) -> Self {
        ClientError::Rejected(e)
    }
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Io(kind) => write!(f, "i/o error: {kind}"),
            ClientError::Server(message) => write!(f, "server error: {message}"),
            ClientError::Rejected(e) => write!(f, "rejected: {e}"),
        }
    }
}

fn is_transient(e: &ClientError) -> bool {
    match e {
        ClientError::Io(_) => true,
        ClientError::Rejected(e) => e.is_timeout(),
        ClientError::Server(_) => false,
    }
}

/// A client of one server, speaking a line protocol: `GET key`, `SET key value`, `PING`.
struct Client {
    addr: SocketAddr,
}

#[retry(max = 3, base = "20ms", jitter = "full", budget = "off", when = is_transient)]
#[circuit_breaker(threshold = 3, window = "10s", cooldown = "1s", per = self.addr)]
#[timeout("250ms")]
impl Client {
    async fn get(&self, key: &str) -> Result<Option<String>, ClientError> {
        let answer = self.send(&format!("GET {key}")).await?;
        Ok(answer.strip_prefix("VALUE ").map(str::to_owned))
    }

    async fn set(&self, key: &str, value: &str) -> Result<(), ClientError> {
        self.send(&format!("SET {key} {value}")).await?;
        Ok(())
    }

    /// Its own retry replaces the block's; the block's breaker and timeout stay, above it.
    #[retry(max = 5, base = "10ms", jitter = "full", budget = "off", when = is_transient)]
    async fn put_many(&self, pairs: &[(&str, &str)]) -> Result<usize, ClientError> {
        for (key, value) in pairs {
            self.send(&format!("SET {key} {value}")).await?;
        }
        Ok(pairs.len())
    }

    /// A health check must see the server as it is: no retry, no breaker, no timeout.
    #[resilient::skip]
    async fn ping(&self) -> Result<Duration, ClientError> {
        let started = Instant::now();
        self.send("PING").await?;
        Ok(started.elapsed())
    }

    /// Sync fns are left as they are.
    fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The helper the other methods call: left out, or every call would pass the stack twice.
    #[resilient::skip]
    async fn send(&self, line: &str) -> Result<String, ClientError> {
        let mut stream = TcpStream::connect(self.addr).await?;
        stream.write_all(format!("{line}\n").as_bytes()).await?;
        let mut answer = String::new();
        BufReader::new(stream).read_line(&mut answer).await?;
        let answer = answer.trim_end().to_owned();
        match answer.strip_prefix("ERR ") {
            Some(message) => Err(ClientError::Server(message.to_owned())),
            None => Ok(answer),
        }
    }
}

/// A key-value server on 127.0.0.1, one line in, one line out per connection.
async fn serve() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let store = Arc::new(Mutex::new(HashMap::<String, String>::new()));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut line = String::new();
                if BufReader::new(read).read_line(&mut line).await.is_err() {
                    return;
                }
                let words: Vec<&str> = line.split_whitespace().collect();
                let answer = match words.as_slice() {
                    ["PING"] => "PONG".to_owned(),
                    ["GET", key] => match store.lock().expect("store").get(*key) {
                        Some(value) => format!("VALUE {value}"),
                        None => "NONE".to_owned(),
                    },
                    ["SET", key, value] => {
                        store.lock().expect("store").insert(key.to_string(), value.to_string());
                        "OK".to_owned()
                    }
                    _ => "ERR unknown command".to_owned(),
                };
                let _ = write.write_all(format!("{answer}\n").as_bytes()).await;
            });
        }
    });
    addr
}

/// An address nothing listens on: connections to it are refused.
async fn dead() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("address")
}

fn show<T: std::fmt::Debug>(started: Instant, who: &str, what: &str, r: &Result<T, ClientError>) {
    let outcome = match r {
        Ok(value) => format!("ok {value:?}"),
        Err(e) => e.to_string(),
    };
    println!("{:>5} ms  {who:<8} {what:<14} {outcome}", started.elapsed().as_millis());
}

/// Each breaker of the client as the registry shows it: one per method, each with one partition
/// per server it has called.
fn breakers() {
    let snapshot = registry::snapshot();
    let mut policies: Vec<_> =
        snapshot.policies.iter().filter(|p| p.name.starts_with("impl_block::Client::")).collect();
    policies.sort_by(|a, b| a.name.cmp(&b.name));
    for p in policies {
        let PolicyState::Partitioned(parts) = &p.state else { continue };
        if parts.of != "circuit_breaker" {
            continue;
        }
        let open = parts
            .partitions
            .iter()
            .filter(|part| {
                matches!(&part.state, PolicyState::CircuitBreaker(b) if b.state != CircuitState::Closed)
            })
            .count();
        println!(
            "          breaker {:<28} {} server(s): {open} open, {} closed",
            p.name,
            parts.live,
            parts.live - open
        );
    }
}

#[tokio::main]
async fn main() {
    let primary = Client { addr: serve().await };
    let replica = Client { addr: dead().await };
    let started = Instant::now();
    println!("primary on {}, replica on {} (dead)\n", primary.addr(), replica.addr());

    println!("Both servers get the same stack; the primary answers.");
    show(started, "primary", "set a=1", &primary.set("a", "1").await);
    show(started, "primary", "put_many", &primary.put_many(&[("b", "2"), ("c", "3")]).await);
    show(started, "primary", "get a", &primary.get("a").await);
    show(started, "primary", "ping", &primary.ping().await);

    println!("\nThe replica refuses: three attempts, three failures, and its `get` breaker opens.");
    show(started, "replica", "get a", &replica.get("a").await);
    show(started, "replica", "get a", &replica.get("a").await);
    show(started, "replica", "ping", &replica.ping().await);
    breakers();

    println!("\nEach server has its own breaker: the primary's `get`s go on.");
    show(started, "primary", "get a", &primary.get("a").await);
    show(started, "primary", "set d=4", &primary.set("d", "4").await);

    println!("\nAfter the 1 s cooldown the replica's breaker lets a probe through; it fails.");
    sleep(Duration::from_millis(1100)).await;
    show(started, "replica", "get d", &replica.get("d").await);
    show(started, "primary", "get d", &primary.get("d").await);
    breakers();
}
