//! Every way to write an attribute on an impl block compiles without a warning.
#![deny(warnings)]

use std::sync::Arc;

use resilient::{circuit_breaker, retry, skip, timeout};

#[derive(Debug)]
pub struct NetError;
impl From<resilient::Error> for NetError {
    fn from(_: resilient::Error) -> Self {
        NetError
    }
}

pub struct Client<T> {
    inner: T,
    hits: u32,
}

/// Imported names, stacked, with a foreign attribute between them; the impl's docs are kept.
#[retry(max = 2, base = "1ms")]
#[allow(clippy::needless_lifetimes)]
#[circuit_breaker(threshold = 3)]
#[timeout("1s", cancel_safe = true)] // no body here is left half-done by a cancellation
impl<T> Client<T>
where
    T: Clone + Send + Sync + 'static,
{
    /// `&self`, `&mut self`, `self: Arc<Self>` and no receiver.
    pub async fn get<'a>(&'a self, key: &'a str) -> Result<(T, &'a str), NetError> {
        Ok((self.inner.clone(), key))
    }

    pub async fn hit(&mut self) -> Result<u32, NetError> {
        self.hits += 1;
        Ok(self.hits)
    }

    pub async fn shared(self: Arc<Self>) -> Result<T, NetError> {
        Ok(self.inner.clone())
    }

    pub async fn new(inner: T) -> Result<Self, NetError> {
        Ok(Client { inner, hits: 0 })
    }

    /// Its own attribute and a foreign one (`#[tracing::instrument]`) with the block's.
    #[tracing::instrument(skip(self))]
    #[retry(max = 4)]
    pub async fn traced(&self) -> Result<u32, NetError> {
        Ok(self.hits)
    }

    /// Left out, by each spelling: they need not return a `Result`.
    #[skip]
    pub async fn label(&self) -> &'static str {
        "client"
    }
    #[resilient::skip]
    pub async fn size(&self) -> usize {
        0
    }
    #[::resilient::skip]
    pub async fn nothing(&self) {}

    /// Sync fns are left as they are.
    pub fn sync(&self) -> u32 {
        self.hits
    }

    pub const LIMIT: u32 = 3;
}

/// Full paths, on a trait impl with a default method left alone.
trait Fetch {
    async fn fetch(&self) -> std::io::Result<u8>;
    async fn default_one(&self) -> std::io::Result<u8> {
        Ok(0)
    }
    fn sync(&self) -> u8;
}

pub struct Disk;

#[::resilient::timeout("p99*2", initial = "1s")]
#[resilient::retry]
impl Fetch for Disk {
    async fn fetch(&self) -> std::io::Result<u8> {
        Ok(1)
    }
    fn sync(&self) -> u8 {
        2
    }
}

/// Async-trait on either side.
#[async_trait::async_trait]
pub trait Store: Send + Sync {
    async fn load(&self, id: u64) -> anyhow::Result<u64>;
}

pub struct Above;
pub struct Below;

#[async_trait::async_trait]
#[resilient::circuit_breaker]
impl Store for Above {
    async fn load(&self, id: u64) -> anyhow::Result<u64> {
        Ok(id)
    }
}

#[resilient::circuit_breaker]
#[async_trait::async_trait]
impl Store for Below {
    async fn load(&self, id: u64) -> anyhow::Result<u64> {
        Ok(id)
    }
}

fn spawnable() {
    fn is_send<T: Send>(_: T) {}
    let client = Client { inner: 1u8, hits: 0 };
    is_send(client.get("k"));
    is_send(Arc::new(Client { inner: 1u8, hits: 0 }).shared());
    is_send(Client::new(1u8));
    is_send(Disk.fetch());
    is_send(Above.load(1));
    is_send(Below.load(1));
    let _ = (client.sync(), Client::<u8>::LIMIT, Disk.sync());
}

fn main() {
    spawnable();
}
