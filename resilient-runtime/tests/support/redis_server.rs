//! Scratch `redis-server`s on spare ports, started and stopped by a test (the fault tests and the
//! connection counts): killed when dropped, files in a directory of their own.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// One `redis-server` child process on 127.0.0.1.
pub struct Server {
    pub port: u16,
    pub url: String,
    dir: PathBuf,
    args: Vec<String>,
    child: Option<Child>,
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Server {
    /// Starts a server with `args` added (e.g. `--appendonly yes`) and waits until it answers.
    pub async fn start(args: &[&str]) -> Server {
        Self::start_on(free_port(), args).await
    }

    /// As [`start`](Self::start), on `port`.
    pub async fn start_on(port: u16, args: &[&str]) -> Server {
        let dir =
            std::env::temp_dir().join(format!("resilient-redis-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut server = Server {
            port,
            url: format!("redis://127.0.0.1:{port}/"),
            dir,
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            child: None,
        };
        server.run().await;
        server
    }

    async fn run(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .arg("--dir")
            .arg(&self.dir)
            .args(&self.args)
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("could not start redis-server ({e}): run `scripts/redis.sh` to install it")
            });
        self.child = Some(child);
        for _ in 0..200 {
            if self.ping().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("redis-server on port {} did not answer within 5 s", self.port);
    }

    async fn ping(&self) -> bool {
        let Ok(client) = redis::Client::open(self.url.as_str()) else { return false };
        let Ok(mut con) = client.get_multiplexed_async_connection().await else { return false };
        redis::cmd("PING").query_async::<String>(&mut con).await.is_ok()
    }

    /// A connection of its own, for looking and for `CLIENT PAUSE`.
    pub async fn raw(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }

    /// `SHUTDOWN` (which, with `appendonly yes`, flushes the append-only file first), then waits
    /// for the process to end.
    pub fn stop(&mut self) {
        let _ = Command::new("redis-cli").args(["-p", &self.port.to_string(), "shutdown"]).output();
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
    }

    /// [`stop`](Self::stop), then start again on the same port and directory.
    pub async fn restart(&mut self) {
        self.stop();
        self.run().await;
    }

    /// How many clients the server has (`CLIENT LIST`), the asking connection excluded.
    pub async fn clients(&self, con: &mut redis::aio::MultiplexedConnection) -> usize {
        clients(con).await
    }
}

/// How many clients a server has (`CLIENT LIST` lines), the asking connection excluded.
pub async fn clients(con: &mut impl redis::aio::ConnectionLike) -> usize {
    let list: String = redis::cmd("CLIENT").arg("LIST").query_async(con).await.unwrap();
    list.lines().filter(|l| !l.trim().is_empty()).count() - 1
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
