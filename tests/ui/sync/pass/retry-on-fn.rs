// A plain `fn` takes `#[retry]` and `#[circuit_breaker]`, in any of the shapes an `async fn` can
// have: methods with every receiver, trait impls, generics, `impl Trait` arguments, aliases of
// `Result`, `?` and early `return` in the body.
use std::fmt::Display;

#[resilient::retry(max = 3)]
fn call() -> Result<(), std::io::Error> {
    Ok(())
}

#[resilient::retry(max = 3, base = "1ms", when = |e: &std::io::Error| e.kind() != std::io::ErrorKind::NotFound)]
#[resilient::circuit_breaker(threshold = 5)]
fn read(path: &str, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let text = std::fs::read(path)?;
    if text.is_empty() {
        return Ok(0);
    }
    buf.extend_from_slice(&text);
    Ok(text.len())
}

#[resilient::circuit_breaker]
fn shown(value: impl Display + Clone) -> anyhow::Result<String> {
    Ok(value.to_string())
}

#[resilient::retry]
fn generic<T>(value: T) -> Result<T, std::io::Error>
where
    T: Clone,
{
    Ok(value)
}

#[derive(Clone)]
struct Client {
    host: String,
}

impl Client {
    #[resilient::retry(max = 2)]
    #[resilient::circuit_breaker(per = self.host)]
    fn get(&self, key: String) -> std::io::Result<String> {
        Ok(format!("{}/{key}", self.host))
    }

    #[resilient::retry]
    fn reconnect(&mut self) -> std::io::Result<usize> {
        self.host.push('!');
        Ok(self.host.len())
    }

    // The `Ok` value may borrow from a `&mut` receiver (with no retry loop around it).
    #[resilient::circuit_breaker]
    fn host_mut(&mut self) -> std::io::Result<&mut String> {
        Ok(&mut self.host)
    }

    #[resilient::retry]
    fn into_host(self) -> std::io::Result<String> {
        Ok(self.host)
    }
}

trait Store {
    fn load(&self) -> std::io::Result<u8>;
}

impl Store for Client {
    #[resilient::circuit_breaker]
    fn load(&self) -> std::io::Result<u8> {
        Ok(1)
    }
}

// Beside `#[tracing::instrument]`, above or below.
#[resilient::retry(max = 2)]
#[tracing::instrument]
fn traced_below(id: u64) -> Result<u64, Box<dyn std::error::Error + Send + Sync>> {
    Ok(id)
}

#[tracing::instrument]
#[resilient::circuit_breaker]
fn traced_above(id: u64) -> Result<u64, Box<dyn std::error::Error + Send + Sync>> {
    Ok(id)
}

// `impl Trait` in the `Ok` type; an `unsafe fn`.
#[resilient::retry]
#[resilient::circuit_breaker]
fn opaque() -> std::io::Result<impl Display> {
    Ok(1)
}

#[resilient::retry]
unsafe fn raw(ptr: *const u8) -> std::io::Result<u8> {
    // SAFETY: the caller passes a valid pointer.
    Ok(unsafe { *ptr })
}

fn main() {
    let _ = traced_below(1);
    let _ = traced_above(1);
    let _ = opaque().map(|d| d.to_string());
    // SAFETY: a pointer to a live byte.
    let _ = unsafe { raw(&1) };
    let _ = call();
    let _ = read("x", &mut Vec::new());
    let _ = shown(1);
    let _ = generic(1u8);
    let mut client = Client { host: "h".into() };
    let _ = client.get("k".into());
    let _ = client.reconnect();
    let _ = client.load();
    let _ = client.host_mut();
    let _ = client.into_host();
}
