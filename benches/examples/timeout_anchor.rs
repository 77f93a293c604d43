//! How late a fixed `#[timeout]`'s deadline can be, measured on a real call.
//!
//! A fixed limit counts from when its deadline is first needed: something inside reads it, or
//! the body first waits. Until then the body runs synchronously, which no timeout can interrupt
//! anyway; the deadline is later than "call start + limit" by exactly that synchronous start of
//! the first poll. This program measures it for a typical client call (format a request, write it
//! to a TCP socket, wait for the reply from a local echo server): each call's first poll is timed
//! from outside, and the deadline shift is at most that.
//!
//! ```text
//! cargo run --release -p resilient-benches --example timeout_anchor
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use resilient::timeout;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug)]
#[allow(dead_code)]
enum CallError {
    Io(std::io::Error),
    Rejected(resilient::Error),
}

impl From<resilient::Error> for CallError {
    fn from(e: resilient::Error) -> Self {
        CallError::Rejected(e)
    }
}

impl From<std::io::Error> for CallError {
    fn from(e: std::io::Error) -> Self {
        CallError::Io(e)
    }
}

/// A client call: a formatted request written to the socket, and its echo read back. The
/// connection is moved in and handed back, so a call the timeout drops closes it rather than
/// leaving it mid-request.
#[timeout("1s")]
async fn ask(mut stream: TcpStream, n: u64) -> Result<(TcpStream, usize), CallError> {
    let request = format!("GET user:{n}\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut reply = vec![0u8; request.len()];
    stream.read_exact(&mut reply).await?;
    Ok((stream, reply.len()))
}

/// Times the first poll of `fut`, and whether it was `Pending` (only then is a deadline fixed
/// after the poll started).
struct FirstPoll<F> {
    fut: Pin<Box<F>>,
    first: Option<(Duration, bool)>,
}

impl<F: Future> Future for FirstPoll<F> {
    type Output = (F::Output, Duration, bool);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let start = Instant::now();
        let polled = self.fut.as_mut().poll(cx);
        if self.first.is_none() {
            self.first = Some((start.elapsed(), polled.is_pending()));
        }
        let (took, pending) = self.first.expect("set above");
        polled.map(|out| (out, took, pending))
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut buf = [0u8; 256];
            loop {
                let n = socket.read(&mut buf).await.expect("read");
                if n == 0 {
                    return;
                }
                socket.write_all(&buf[..n]).await.expect("write");
            }
        });
        let mut stream = Some(TcpStream::connect(addr).await.expect("connect"));
        stream.as_ref().expect("connected").set_nodelay(true).expect("nodelay");
        let mut shifts = Vec::new();
        let mut whole = Vec::new();
        for n in 0..20_000u64 {
            let started = Instant::now();
            let conn = stream.take().expect("handed back");
            let probe = FirstPoll { fut: Box::pin(ask(conn, n)), first: None };
            let (out, took, pending) = probe.await;
            stream = Some(out.expect("echoed").0);
            whole.push(started.elapsed());
            if pending {
                shifts.push(took);
            }
        }
        shifts.sort();
        whole.sort();
        let at = |v: &[Duration], q: f64| v[((v.len() - 1) as f64 * q) as usize];
        println!(
            "calls: {}, of which waited (deadline fixed after the first poll): {}",
            whole.len(),
            shifts.len()
        );
        println!(
            "deadline shift (first poll, synchronous part): median {:?}, p99 {:?}, max {:?}",
            at(&shifts, 0.5),
            at(&shifts, 0.99),
            shifts[shifts.len() - 1]
        );
        println!(
            "whole call: median {:?}, p99 {:?}; tokio's timer resolution: 1 ms",
            at(&whole, 0.5),
            at(&whole, 0.99)
        );
    });
}
