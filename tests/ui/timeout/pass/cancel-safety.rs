// A `#[timeout]` on `&mut` state that states `cancel_safe = true` or names `on_cancel` gives no
// warning, whichever the receiver or argument.
#![deny(warnings)]

use resilient::{retry, timeout};

pub struct Client {
    broken: bool,
    calls: u64,
}

impl Client {
    fn mark_broken(&mut self) {
        self.broken = true;
    }

    fn note(&self) {
        let _ = self.broken;
    }

    #[retry(max = 3)]
    #[timeout("1s", on_cancel = Self::mark_broken)]
    pub async fn get(&mut self, key: &str) -> std::io::Result<String> {
        Ok(key.to_owned())
    }

    #[timeout("p99*2", cancel_safe = true)]
    pub async fn count(&mut self) -> std::io::Result<u64> {
        self.calls += 1;
        Ok(self.calls)
    }

    // The hook of a `&self` method gets `&Self`.
    #[timeout("1s", on_cancel = Self::note)]
    pub async fn peek(&self) -> std::io::Result<u64> {
        Ok(self.calls)
    }

    // A `&self` method may return a borrow: the hook only needs `&Self` too.
    #[timeout("1s", on_cancel = Self::note)]
    pub async fn calls(&self) -> std::io::Result<&u64> {
        Ok(&self.calls)
    }

    // With a `&mut self`, the hook takes the receiver, not the other `&mut` argument.
    #[timeout("1s", on_cancel = Client::mark_broken)]
    pub async fn fill(self: &mut Self, buf: &mut Vec<u8>) -> std::io::Result<()> {
        buf.push(1);
        Ok(())
    }
}

// A closure works too, its argument's type written out.
#[timeout("1s", on_cancel = |buf: &mut Vec<u8>| buf.clear())]
pub async fn append(buf: &mut Vec<u8>, byte: u8) -> std::io::Result<()> {
    buf.push(byte);
    Ok(())
}

fn clear(buf: &mut Vec<u8>) {
    buf.clear();
}

#[timeout("1s", on_cancel = clear)]
pub async fn read_into(buf: &mut Vec<u8>, n: usize) -> std::io::Result<()> {
    buf.resize(n, 0);
    Ok(())
}

#[async_trait::async_trait]
pub trait Store {
    async fn load(&mut self, key: &str) -> std::io::Result<String>;
}

#[async_trait::async_trait]
impl Store for Client {
    #[retry(max = 2)]
    #[timeout("1s", on_cancel = Client::mark_broken)]
    async fn load(&mut self, key: &str) -> std::io::Result<String> {
        self.calls += 1;
        Ok(key.to_owned())
    }
}

fn main() {
    fn is_send<T: Send>(_: T) {}
    let mut client = Client { broken: false, calls: 0 };
    is_send(client.get("k"));
    is_send(client.load("k"));
    let mut buf = Vec::new();
    is_send(read_into(&mut buf, 3));
}
