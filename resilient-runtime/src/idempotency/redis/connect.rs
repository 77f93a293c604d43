//! [`RedisConfig`] and [`RedisConnection`]: where Redis is (one server or a cluster, plain or
//! TLS, user and password in the URL) and one shared, self-healing connection to it. The
//! idempotency store runs its Lua scripts over it, and any other script can too
//! ([`RedisConnection`] is a [`redis::aio::ConnectionLike`]).

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Cmd, Pipeline, RedisFuture, Value};

use crate::idempotency::StoreError;

/// How long one command may take unless configured.
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);
/// How long connecting may take unless configured.
pub const DEFAULT_CONNECTION_TIMEOUT: Duration = Duration::from_secs(1);
/// How many times a lost connection is retried before a command fails, unless configured.
pub const DEFAULT_RETRIES: usize = 2;

/// Where Redis is and how long to wait for it; connect with [`RedisConnection::connect`] or
/// [`RedisStore::connect_with`](super::RedisStore::connect_with).
///
/// URLs are `redis://[user:password@]host:port[/db]`, or `rediss://...` for TLS (feature
/// `redis-tls`). The user and password are sent with `AUTH` (an ACL user when a user is given)
/// and never appear in error messages.
///
/// ```no_run
/// # async fn start() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use resilient_runtime::idempotency::{RedisConfig, RedisStore, register_store};
///
/// let config = RedisConfig::new("redis://app:secret@127.0.0.1:6379/")
///     .response_timeout(Duration::from_millis(200));
/// register_store("redis", RedisStore::connect_with(&config).await?);
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use]
pub struct RedisConfig {
    nodes: Vec<String>,
    cluster: bool,
    ca_cert_pem: Option<Vec<u8>>,
    response_timeout: Duration,
    connection_timeout: Duration,
    retries: usize,
}

impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let nodes: Vec<String> = self.nodes.iter().map(|n| redact(n)).collect();
        f.debug_struct("RedisConfig")
            .field("nodes", &nodes)
            .field("cluster", &self.cluster)
            .field("ca_cert_pem", &self.ca_cert_pem.as_ref().map(|_| "<set>"))
            .field("response_timeout", &self.response_timeout)
            .field("connection_timeout", &self.connection_timeout)
            .field("retries", &self.retries)
            .finish()
    }
}

impl RedisConfig {
    /// One Redis server (or a primary behind a proxy) at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            nodes: vec![url.into()],
            cluster: false,
            ca_cert_pem: None,
            response_timeout: DEFAULT_RESPONSE_TIMEOUT,
            connection_timeout: DEFAULT_CONNECTION_TIMEOUT,
            retries: DEFAULT_RETRIES,
        }
    }

    /// A Redis Cluster, discovered from any of `nodes` (URLs of some of its primaries). Each
    /// command is sent to the node that owns its key's slot, and follows `MOVED`/`ASK` when
    /// slots move. One multiplexed connection per node is shared by every call.
    #[cfg(feature = "redis-cluster")]
    pub fn cluster<I, S>(nodes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut config = Self::new(String::new());
        config.nodes = nodes.into_iter().map(Into::into).collect();
        config.cluster = true;
        config
    }

    /// Trust the certificate authority in `pem` (PEM text) for `rediss://` instead of the
    /// system's roots: for a Redis with a private CA. The server's certificate must name the
    /// host of the URL.
    #[cfg(feature = "redis-tls")]
    pub fn ca_cert_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_cert_pem = Some(pem.into());
        self
    }

    /// How long one command may take before it fails (default one second). A call whose store
    /// command times out gets [`crate::Error::Store`], or runs on the in-process store with
    /// `on_store_error = "local"`.
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// How long connecting (and reconnecting) may take (default one second).
    pub fn connection_timeout(mut self, timeout: Duration) -> Self {
        self.connection_timeout = timeout;
        self
    }

    /// How many times a lost connection is retried before a command fails (default 2).
    pub fn retries(mut self, retries: usize) -> Self {
        self.retries = retries;
        self
    }

    /// `Redis at <url>` (or `Redis Cluster at <urls>`), passwords replaced by `***`.
    pub(crate) fn target(&self) -> String {
        let nodes: Vec<String> = self.nodes.iter().map(|n| redact(n)).collect();
        if self.cluster {
            format!("Redis Cluster at {}", nodes.join(","))
        } else {
            format!("Redis at {}", nodes.join(","))
        }
    }
}

/// One connection to Redis shared by every clone: a multiplexed connection that reconnects by
/// itself (or, for a cluster, one per node). However many calls run at once, a process holds
/// one connection per server per `RedisConnection` (per [`RedisStore`](super::RedisStore)).
///
/// It is a [`redis::aio::ConnectionLike`], so any command or [`redis::Script`] runs over it;
/// keys of one script must share a hash tag (`{...}`) to work on a cluster. A rate limiter, say,
/// runs its own script over the store's connection:
///
/// ```no_run
/// # async fn limiter(store: &resilient_runtime::idempotency::RedisStore) -> redis::RedisResult<()> {
/// let take = redis::Script::new("return redis.call('INCR', KEYS[1])");
/// let mut connection = store.connection().clone();
/// let n: i64 = take.key("resilient:rl:{checkout}").invoke_async(&mut connection).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisConnection {
    inner: Connection,
    target: std::sync::Arc<str>,
}

#[derive(Clone)]
enum Connection {
    Single(ConnectionManager),
    /// Made by the first command that finds Redis up (`connect_lazy`).
    Lazy(std::sync::Arc<Lazy>),
    #[cfg(feature = "redis-cluster")]
    Cluster(redis::cluster_async::ClusterConnection),
}

/// A [`ConnectionManager`] made on first use; until Redis answers, each command tries again.
struct Lazy {
    client: Client,
    config: ConnectionManagerConfig,
    manager: tokio::sync::OnceCell<ConnectionManager>,
}

impl Lazy {
    async fn get(&self) -> redis::RedisResult<ConnectionManager> {
        self.manager
            .get_or_try_init(|| {
                ConnectionManager::new_with_config(self.client.clone(), self.config.clone())
            })
            .await
            .cloned()
    }
}

impl std::fmt::Debug for RedisConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConnection").field("target", &self.target).finish_non_exhaustive()
    }
}

impl RedisConnection {
    /// Connects as `config` says. Fails with a [`StoreError`] naming the target (passwords
    /// hidden) if the URL is malformed, TLS is asked for without the `redis-tls` feature, or
    /// Redis does not answer within the connection timeout and retries.
    pub async fn connect(config: &RedisConfig) -> Result<Self, StoreError> {
        let target = config.target();
        let fail = |what: &str, e: &redis::RedisError| {
            StoreError::new(format!("{target}: {what}: {}", redact(&e.to_string())))
        };
        #[cfg(feature = "redis-tls")]
        install_crypto_provider();
        #[cfg(feature = "redis-cluster")]
        if config.cluster {
            #[cfg_attr(not(feature = "redis-tls"), allow(unused_mut))]
            let mut builder = redis::cluster::ClusterClientBuilder::new(config.nodes.clone())
                .connection_timeout(config.connection_timeout)
                .response_timeout(config.response_timeout)
                .retries(u32::try_from(config.retries).unwrap_or(u32::MAX));
            #[cfg(feature = "redis-tls")]
            if let Some(pem) = &config.ca_cert_pem {
                builder = builder.certs(redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem.clone()),
                });
            }
            let client = builder.build().map_err(|e| fail("bad cluster URLs", &e))?;
            let connection =
                client.get_async_connection().await.map_err(|e| fail("connecting failed", &e))?;
            return Ok(Self { inner: Connection::Cluster(connection), target: target.into() });
        }
        let url = config.nodes.first().map_or("", String::as_str);
        let client = client(url, config).map_err(|e| fail("bad URL", &e))?;
        let connection = ConnectionManager::new_with_config(client, manager_config(config))
            .await
            .map_err(|e| fail("connecting failed", &e))?;
        Ok(Self { inner: Connection::Single(connection), target: target.into() })
    }

    /// As [`connect`](Self::connect), without waiting for Redis: the connection is made by the
    /// first command, and remade by later ones while Redis is unreachable. A service can then
    /// start while Redis is down (its calls get what `on_store_error` says until Redis answers).
    /// One server only: a cluster's topology must be read at start, so
    /// [`RedisConfig::cluster`] fails here.
    pub fn connect_lazy(config: &RedisConfig) -> Result<Self, StoreError> {
        let target = config.target();
        if config.cluster {
            return Err(StoreError::new(format!(
                "{target}: a cluster connection cannot be lazy: use `connect`"
            )));
        }
        #[cfg(feature = "redis-tls")]
        install_crypto_provider();
        let fail = |what: &str, e: &redis::RedisError| {
            StoreError::new(format!("{target}: {what}: {}", redact(&e.to_string())))
        };
        let url = config.nodes.first().map_or("", String::as_str);
        let client = client(url, config).map_err(|e| fail("bad URL", &e))?;
        let lazy =
            Lazy { client, config: manager_config(config), manager: tokio::sync::OnceCell::new() };
        Ok(Self { inner: Connection::Lazy(std::sync::Arc::new(lazy)), target: target.into() })
    }

    /// A connection over an existing [`ConnectionManager`].
    pub fn from_manager(manager: ConnectionManager) -> Self {
        Self { inner: Connection::Single(manager), target: "Redis".into() }
    }

    /// What it connects to, for messages: `Redis at <url>` with any password hidden.
    pub fn target(&self) -> &str {
        &self.target
    }
}

fn manager_config(config: &RedisConfig) -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_response_timeout(Some(config.response_timeout))
        .set_connection_timeout(Some(config.connection_timeout))
        .set_number_of_retries(config.retries)
}

#[cfg(feature = "redis-tls")]
fn client(url: &str, config: &RedisConfig) -> redis::RedisResult<Client> {
    match &config.ca_cert_pem {
        Some(pem) => Client::build_with_tls(
            url,
            redis::TlsCertificates { client_tls: None, root_cert: Some(pem.clone()) },
        ),
        None => Client::open(url),
    }
}

#[cfg(not(feature = "redis-tls"))]
fn client(url: &str, _config: &RedisConfig) -> redis::RedisResult<Client> {
    Client::open(url)
}

/// rustls needs a process-wide crypto provider; install `ring` unless the application already
/// installed one.
#[cfg(feature = "redis-tls")]
fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Another thread may win the race; either provider works.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match &mut self.inner {
            Connection::Single(c) => c.req_packed_command(cmd),
            Connection::Lazy(lazy) => {
                let lazy = std::sync::Arc::clone(lazy);
                Box::pin(async move { lazy.get().await?.req_packed_command(cmd).await })
            }
            #[cfg(feature = "redis-cluster")]
            Connection::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match &mut self.inner {
            Connection::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Connection::Lazy(lazy) => {
                let lazy = std::sync::Arc::clone(lazy);
                Box::pin(async move {
                    lazy.get().await?.req_packed_commands(pipeline, offset, count).await
                })
            }
            #[cfg(feature = "redis-cluster")]
            Connection::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match &self.inner {
            Connection::Single(c) => c.get_db(),
            Connection::Lazy(lazy) => lazy.client.get_connection_info().redis_settings().db(),
            #[cfg(feature = "redis-cluster")]
            Connection::Cluster(c) => c.get_db(),
        }
    }
}

/// `url` with the password of any `scheme://user:password@` replaced by `***` (also inside a
/// longer text, such as an error that quotes the URL).
pub(crate) fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("://") {
        let (head, tail) = rest.split_at(start + 3);
        out.push_str(head);
        let authority_end = tail.find(['/', ' ', '\n', ',', '?', '#']).unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.split_once(':') {
                    Some((user, _)) => {
                        out.push_str(user);
                        out.push_str(":***");
                    }
                    None => out.push_str("***"),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(redact("redis://127.0.0.1:6379/"), "redis://127.0.0.1:6379/");
        assert_eq!(redact("rediss://app:s3cr3t@h:6380/0"), "rediss://app:***@h:6380/0");
        assert_eq!(redact("redis://:s3cr3t@h:6379"), "redis://:***@h:6379");
        assert_eq!(
            redact("failed: redis://u:p@a:1/, rediss://u:q@b:2"),
            "failed: redis://u:***@a:1/, rediss://u:***@b:2"
        );
    }
}
