//! A timeout cancels the body mid-request; on a stateful connection that desyncs requests from
//! answers (issue 11, item 3). Shown against a real TCP server on 127.0.0.1 speaking a line
//! protocol (`GET k` → `value of k`) that holds its very first answer until the client has
//! given up on it: it sends that answer late, just before answering the next request on the same
//! connection, as a slow server would.
//!
//! Determinism: the tests run on tokio's paused clock, and the server runs in `spawn_blocking`,
//! which keeps tokio from auto-advancing the clock while it runs (see `tokio::time::pause`). So
//! no timeout fires while real I/O is under way; the test advances the clock itself, once the
//! server holds the answer. No wall-clock sleep, no timing assert.

use std::io::{self, BufRead, BufReader as StdBufReader, Write};
use std::net::{SocketAddr, TcpListener as StdListener, TcpStream as StdStream};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use resilient::{retry, timeout};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

const LIMIT: Duration = Duration::from_millis(100);
const BACKOFF: Duration = Duration::from_millis(10);

/// The line-protocol server: one thread per connection; answers in order.
struct Server {
    addr: SocketAddr,
    /// Connection numbers (from 1) on which the run's first request arrived: its answer is held.
    held_on: mpsc::UnboundedReceiver<usize>,
    /// Connections accepted.
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Server {
    fn start() -> Server {
        let listener = StdListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let (tx, held_on) = mpsc::unbounded_channel();
        let connections = Arc::new(AtomicUsize::new(0));
        let accepted = connections.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let held = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        // A blocking task, on purpose: while it runs, the paused clock does not auto-advance.
        tokio::task::spawn_blocking(move || {
            for (n, stream) in (1..).zip(listener.incoming()) {
                if stopping.load(SeqCst) {
                    break;
                }
                let stream = stream.expect("accept");
                accepted.store(n, SeqCst);
                let (tx, held) = (tx.clone(), held.clone());
                std::thread::spawn(move || serve(n, stream, &tx, &held));
            }
        });
        Server { addr, held_on, connections, stop }
    }

    /// Waits until the server holds the first answer; returns the connection's number.
    async fn holding(&mut self) -> usize {
        self.held_on.recv().await.expect("the server is running")
    }

    fn connections(&self) -> usize {
        self.connections.load(SeqCst)
    }
}

/// Stops the acceptor, so the runtime (which waits for its blocking tasks) can shut down, also
/// when an assertion failed.
impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, SeqCst);
        let _ = StdStream::connect(self.addr);
    }
}

/// Answers `GET k` with `value of k`, in order; the run's first request is answered only when
/// the next request arrives on the same connection (and never if the client hangs up first).
fn serve(n: usize, stream: StdStream, held_on: &mpsc::UnboundedSender<usize>, held: &AtomicBool) {
    let mut out = stream.try_clone().unwrap();
    let mut pending: Option<String> = None;
    for line in StdBufReader::new(stream).lines() {
        let Ok(line) = line else { return };
        let key = line.strip_prefix("GET ").expect("a GET request").to_owned();
        let answer = format!("value of {key}\n");
        if !held.swap(true, SeqCst) {
            pending = Some(answer);
            let _ = held_on.send(n);
            continue;
        }
        let late = pending.take().unwrap_or_default();
        if out.write_all(format!("{late}{answer}").as_bytes()).is_err() {
            return;
        }
    }
}

/// A client on one persistent connection, opened on first use and again after it was dropped.
struct Client {
    addr: SocketAddr,
    conn: Option<BufReader<TcpStream>>,
    hook_calls: u32,
}

impl Client {
    fn new(addr: SocketAddr) -> Client {
        Client { addr, conn: None, hook_calls: 0 }
    }

    async fn request(&mut self, key: &str) -> io::Result<String> {
        if self.conn.is_none() {
            self.conn = Some(BufReader::new(TcpStream::connect(self.addr).await?));
        }
        let conn = self.conn.as_mut().expect("connected above");
        conn.get_mut().write_all(format!("GET {key}\n").as_bytes()).await?;
        let mut line = String::new();
        conn.read_line(&mut line).await?;
        Ok(line.trim_end().to_owned())
    }

    /// The README's stack, unprotected: the warning it gives is what this test shows true.
    #[allow(deprecated)]
    #[retry(max = 2, backoff = "fixed", base = "10ms", jitter = "none", budget = "off")]
    #[timeout("100ms", name = "cancel_safety::unprotected")]
    async fn get_unprotected(&mut self, key: &str) -> io::Result<String> {
        self.request(key).await
    }

    #[retry(max = 2, backoff = "fixed", base = "10ms", jitter = "none", budget = "off")]
    #[timeout("100ms", name = "cancel_safety::protected", on_cancel = Self::disconnect)]
    async fn get(&mut self, key: &str) -> io::Result<String> {
        self.request(key).await
    }

    #[timeout("100ms", name = "cancel_safety::no_retry", on_cancel = Self::disconnect)]
    async fn get_once(&mut self, key: &str) -> io::Result<String> {
        self.request(key).await
    }

    /// The connection may hold a late answer: drop it, so the next call reconnects.
    fn disconnect(&mut self) {
        self.conn = None;
        self.hook_calls += 1;
    }
}

/// The timeouts the policy `name` has counted.
fn timeouts(name: &str) -> u64 {
    resilient::registry::snapshot().timeout(name).map_or(0, |t| t.timeouts)
}

/// Drives a call whose first attempt the server holds: once the answer is held, lets the
/// timeout fire; once it has fired (and the retry's backoff sleep is set), lets the backoff end.
async fn time_out_first_attempt(server: &mut Server, policy: &str) {
    let before = timeouts(policy);
    assert_eq!(server.holding().await, 1);
    tokio::time::advance(LIMIT).await;
    // The timeout's expiry, the hook and the start of the backoff happen in one poll.
    while timeouts(policy) == before {
        tokio::task::yield_now().await;
    }
    tokio::time::advance(BACKOFF).await;
}

#[tokio::test(start_paused = true)]
async fn a_timeout_on_a_mut_self_connection_desyncs_answers_without_protection() {
    let mut server = Server::start();
    let mut client = Client::new(server.addr);
    let policy = "cancel_safety::unprotected";
    let (first, ()) =
        tokio::join!(client.get_unprotected("k1"), time_out_first_attempt(&mut server, policy));
    // Right by accident: the retry read the late answer to the attempt that timed out.
    assert_eq!(first.unwrap(), "value of k1");
    assert_eq!(timeouts(policy), 1);
    // The retry's own answer is still in the connection: the next call reads it as its own.
    assert_eq!(client.get_unprotected("k2").await.unwrap(), "value of k1", "the hazard");
    assert_eq!(client.get_unprotected("k3").await.unwrap(), "value of k2", "and it stays");
    assert_eq!(server.connections(), 1, "one connection throughout");
}

#[tokio::test(start_paused = true)]
async fn on_cancel_drops_the_connection_so_the_retry_and_later_calls_get_their_own_answers() {
    let mut server = Server::start();
    let mut client = Client::new(server.addr);
    let policy = "cancel_safety::protected";
    let (first, ()) = tokio::join!(client.get("k1"), time_out_first_attempt(&mut server, policy));
    assert_eq!(first.unwrap(), "value of k1");
    assert_eq!(client.hook_calls, 1, "called once, for the attempt that timed out");
    assert_eq!(client.get("k2").await.unwrap(), "value of k2");
    assert_eq!(client.get("k3").await.unwrap(), "value of k3");
    assert_eq!(client.hook_calls, 1, "not called on success");
    assert_eq!(server.connections(), 2, "the retry reconnected, once");
}

#[tokio::test(start_paused = true)]
async fn without_a_retry_the_hook_runs_before_the_caller_sees_the_timeout() {
    let mut server = Server::start();
    let mut client = Client::new(server.addr);
    let policy = "cancel_safety::no_retry";
    let drive = async {
        assert_eq!(server.holding().await, 1);
        tokio::time::advance(LIMIT).await;
    };
    let (first, ()) = tokio::join!(client.get_once("k1"), drive);
    let err = first.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    assert_eq!(client.hook_calls, 1);
    assert!(client.conn.is_none(), "the hook ran before the error reached the caller");
    assert_eq!(timeouts(policy), 1);
    assert_eq!(client.get_once("k2").await.unwrap(), "value of k2");
    assert_eq!(server.connections(), 2);
}

/// `&self` with the connection behind a lock: the macros cannot see the hazard (no `&mut`), but
/// the hook works the same way, with `&Self`.
struct Shared {
    inner: tokio::sync::Mutex<Client>,
    resets: Mutex<u32>,
}

impl Shared {
    #[retry(max = 2, backoff = "fixed", base = "10ms", jitter = "none", budget = "off")]
    #[timeout("100ms", name = "cancel_safety::shared", on_cancel = Self::reset)]
    async fn get(&self, key: &str) -> io::Result<String> {
        self.inner.lock().await.request(key).await
    }

    fn reset(&self) {
        // The body's lock guard is dropped with the body, so the lock is free here.
        self.inner.try_lock().expect("the cancelled body released the lock").conn = None;
        *self.resets.lock().unwrap() += 1;
    }
}

#[tokio::test(start_paused = true)]
async fn a_shared_receiver_gets_the_hook_too() {
    let mut server = Server::start();
    let shared =
        Shared { inner: tokio::sync::Mutex::new(Client::new(server.addr)), resets: Mutex::new(0) };
    let policy = "cancel_safety::shared";
    let (first, ()) = tokio::join!(shared.get("k1"), time_out_first_attempt(&mut server, policy));
    assert_eq!(first.unwrap(), "value of k1");
    assert_eq!(shared.get("k2").await.unwrap(), "value of k2");
    assert_eq!(*shared.resets.lock().unwrap(), 1);
}

/// The hook without a network: which outcomes call it.
mod when_the_hook_runs {
    use super::*;

    #[derive(Default)]
    struct Fake {
        delay: Duration,
        fail: bool,
        attempts: u32,
        resets: Vec<u32>,
    }

    impl Fake {
        #[retry(max = 3, backoff = "fixed", base = "10ms", jitter = "none", budget = "off")]
        #[timeout("100ms", on_cancel = Self::reset)]
        async fn call(&mut self) -> io::Result<u32> {
            self.attempts += 1;
            tokio::time::sleep(self.delay).await;
            if self.fail {
                return Err(io::Error::other("refused"));
            }
            Ok(self.attempts)
        }

        fn reset(&mut self) {
            self.resets.push(self.attempts);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn once_per_cancelled_attempt_and_never_on_an_error_of_the_body() {
        let mut slow = Fake { delay: Duration::from_secs(1), ..Fake::default() };
        let err = slow.call().await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(slow.resets, [1, 2, 3], "after each attempt, before the next");

        let mut failing = Fake { fail: true, ..Fake::default() };
        assert_eq!(failing.call().await.unwrap_err().kind(), io::ErrorKind::Other);
        assert_eq!(failing.attempts, 3);
        assert!(failing.resets.is_empty(), "an error of the body is not a cancellation");

        let mut fast = Fake::default();
        assert_eq!(fast.call().await.unwrap(), 1);
        assert!(fast.resets.is_empty());
    }
}
