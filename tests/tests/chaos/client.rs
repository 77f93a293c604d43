//! The client: a minimal HTTP/1.1 client over `TcpStream` with a keep-alive pool.

use super::*;

/// Why a call failed.
#[derive(Clone, Debug)]
pub(crate) enum ChaosError {
    /// A non-200 answer.
    Status(u16),
    /// Connecting, writing or reading failed.
    Io(std::io::ErrorKind),
    /// A policy turned the call away.
    Rejected(resilient::Error),
}

impl From<resilient::Error> for ChaosError {
    fn from(e: resilient::Error) -> Self {
        ChaosError::Rejected(e)
    }
}

impl ChaosError {
    pub(crate) fn cause(&self) -> String {
        match self {
            ChaosError::Status(code) => format!("HTTP {code}"),
            ChaosError::Io(kind) => format!("{kind:?}"),
            ChaosError::Rejected(e) => e.to_string(),
        }
    }
}

/// Every failure of the downstream is worth retrying (the budget and breaker keep it sane).
pub(crate) fn is_transient(_: &ChaosError) -> bool {
    true
}

/// A minimal HTTP/1.1 client: keep-alive connections in a pool, one per request in flight.
pub(crate) struct Client {
    pub(crate) addr: SocketAddr,
    pub(crate) pool: Mutex<Vec<TcpStream>>,
    /// Connection attempts, with whether each was refused.
    pub(crate) connects: Mutex<Vec<(Instant, bool)>>,
}

pub(crate) enum Exchange {
    Done(Result<String, ChaosError>, Option<TcpStream>),
    /// A pooled connection the server had closed: nothing was answered, try a fresh one.
    Stale,
}

impl Client {
    pub(crate) fn new(addr: SocketAddr) -> Arc<Self> {
        Arc::new(Client { addr, pool: Mutex::new(Vec::new()), connects: Mutex::new(Vec::new()) })
    }

    pub(crate) async fn post(&self, key: &str) -> Result<String, ChaosError> {
        let pooled = lock(&self.pool).pop();
        if let Some(stream) = pooled
            && let Exchange::Done(result, keep) = exchange(stream, key, true).await
        {
            return self.settle(result, keep);
        }
        let stream = self.connect().await?;
        match exchange(stream, key, false).await {
            Exchange::Done(result, keep) => self.settle(result, keep),
            Exchange::Stale => Err(ChaosError::Io(std::io::ErrorKind::UnexpectedEof)),
        }
    }

    pub(crate) fn settle(
        &self,
        result: Result<String, ChaosError>,
        keep: Option<TcpStream>,
    ) -> Result<String, ChaosError> {
        if let Some(stream) = keep {
            lock(&self.pool).push(stream);
        }
        result
    }

    pub(crate) async fn connect(&self) -> Result<TcpStream, ChaosError> {
        let at = Instant::now();
        let out = TcpStream::connect(self.addr).await;
        let refused = matches!(&out, Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused);
        lock(&self.connects).push((at, refused));
        let stream = out.map_err(|e| ChaosError::Io(e.kind()))?;
        let _ = stream.set_nodelay(true);
        Ok(stream)
    }

    pub(crate) fn refused(&self) -> Vec<Instant> {
        lock(&self.connects).iter().filter(|c| c.1).map(|c| c.0).collect()
    }
}

/// One request and its response on `stream`.
pub(crate) async fn exchange(mut stream: TcpStream, key: &str, reused: bool) -> Exchange {
    let request = format!(
        "POST /charge HTTP/1.1\r\nhost: 127.0.0.1\r\nidempotency-key: {key}\r\n\
         content-length: 0\r\n\r\n"
    );
    let io = |e: std::io::Error| ChaosError::Io(e.kind());
    if let Err(e) = stream.write_all(request.as_bytes()).await {
        return if reused { Exchange::Stale } else { Exchange::Done(Err(io(e)), None) };
    }
    let mut buf = Vec::with_capacity(256);
    let mut chunk = [0u8; 1024];
    let (head_len, body_len) = loop {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) if reused && buf.is_empty() => return Exchange::Stale,
            Ok(0) => {
                let eof = ChaosError::Io(std::io::ErrorKind::UnexpectedEof);
                return Exchange::Done(Err(eof), None);
            }
            Err(e) => return Exchange::Done(Err(io(e)), None),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            break (end + 4, len);
        }
    };
    while buf.len() < head_len + body_len {
        match stream.read(&mut chunk).await {
            Ok(0) => {
                return Exchange::Done(
                    Err(ChaosError::Io(std::io::ErrorKind::UnexpectedEof)),
                    None,
                );
            }
            Err(e) => return Exchange::Done(Err(io(e)), None),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let status = String::from_utf8_lossy(&buf[..head_len])
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .unwrap_or(0);
    let body = String::from_utf8_lossy(&buf[head_len..head_len + body_len]).into_owned();
    let result = if status == 200 { Ok(body) } else { Err(ChaosError::Status(status)) };
    Exchange::Done(result, Some(stream))
}
