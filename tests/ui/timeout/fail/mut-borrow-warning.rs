// The warning a `#[timeout]` gives on a function with `&mut` state, made an error here so its
// text is recorded.
#![deny(deprecated)]

use resilient::{retry, timeout};

pub struct Connection;

pub struct Client {
    conn: Connection,
}

impl Client {
    #[retry(max = 3)]
    #[timeout("1s")]
    pub async fn get(&mut self, key: &str) -> std::io::Result<String> {
        let _ = &self.conn;
        Ok(key.to_owned())
    }
}

#[timeout("p99*2")]
pub async fn send(conn: &mut Connection, line: &str) -> std::io::Result<usize> {
    let _ = conn;
    Ok(line.len())
}

// Stated cancel-safe, or repaired by a hook: no warning.
#[timeout("1s", cancel_safe = true)]
pub async fn ping(conn: &mut Connection) -> std::io::Result<()> {
    let _ = conn;
    Ok(())
}

fn main() {}
