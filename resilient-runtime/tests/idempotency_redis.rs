//! The Redis store against a real `redis-server` (start one with `scripts/redis.sh`; the URL
//! comes from `RESILIENT_REDIS_URL`, default `redis://127.0.0.1:6379/`, and a malformed one fails
//! the first test only: see `support/redis_url.rs`). Each test uses its own policy name, so its
//! keys never meet another test's, and runs two stores on two connections standing for two
//! instances of a service.
#![cfg(feature = "redis")]

#[path = "support/redis_url.rs"]
mod redis_url;

// One module, so `cargo test idempotency` selects every test here by name.
mod idempotency_redis {

    use std::net::TcpListener;
    use std::process::Command;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
    use std::time::Duration;

    use redis::AsyncTypedCommands;
    use resilient_runtime::idempotency::{Idempotency, IdempotencyKey, RedisStore, register_store};
    use resilient_runtime::{Error, Outcome};
    use tokio::time::{Instant, sleep};

    use crate::redis_url::redis_url;

    async fn connect(url: &str) -> RedisStore {
        match RedisStore::connect(url).await {
            Ok(store) => store,
            Err(e) => panic!(
                "Redis is not reachable at {url} ({e}).\nRun `scripts/redis.sh` to install and start \
             one, or point RESILIENT_REDIS_URL at a running Redis."
            ),
        }
    }

    /// A raw connection for looking at what the store wrote.
    async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
        let client = redis::Client::open(url).unwrap();
        client.get_multiplexed_async_connection().await.unwrap()
    }

    /// The key's remaining time to live in milliseconds (`PTTL`).
    async fn pttl(con: &mut redis::aio::MultiplexedConnection, key: &str) -> i64 {
        redis::cmd("PTTL").arg(key).query_async(con).await.unwrap()
    }

    /// Two instances of one service: one policy name, two stores on two connections.
    struct Instances {
        url: String,
        name: String,
        a: Idempotency,
        b: Idempotency,
    }

    impl Instances {
        /// At `RESILIENT_REDIS_URL`; `None` when it is malformed and another test said so.
        async fn new(
            configure: impl Fn(
                resilient_runtime::idempotency::IdempotencyBuilder,
            ) -> resilient_runtime::idempotency::IdempotencyBuilder,
        ) -> Option<Self> {
            Some(Self::at(&redis_url()?, configure).await)
        }

        async fn at(
            url: &str,
            configure: impl Fn(
                resilient_runtime::idempotency::IdempotencyBuilder,
            ) -> resilient_runtime::idempotency::IdempotencyBuilder,
        ) -> Self {
            let name = format!("test::redis::{}", IdempotencyKey::new());
            let mut policies = Vec::new();
            for instance in ["a", "b"] {
                let store_name = format!("{name}::{instance}");
                register_store(&store_name, connect(url).await);
                // A short ttl unless the test sets one, so the scratch Redis does not fill up.
                let builder = Idempotency::builder()
                    .name(name.clone())
                    .store(store_name)
                    .ttl(Duration::from_secs(60));
                policies.push(configure(builder).build());
            }
            let b = policies.pop().unwrap();
            let a = policies.pop().unwrap();
            Self { url: url.to_owned(), name, a, b }
        }

        fn redis_key(&self, key: &str) -> String {
            format!("resilient:idem:{{{}:{key}}}", self.name)
        }
    }

    fn same(
        b: resilient_runtime::idempotency::IdempotencyBuilder,
    ) -> resilient_runtime::idempotency::IdempotencyBuilder {
        b
    }

    async fn counted(runs: &AtomicU32, value: u32) -> Outcome<u32, String> {
        runs.fetch_add(1, SeqCst);
        Ok(Ok(value))
    }

    /// Polls `cond` every 10 ms for up to 5 s.
    async fn eventually(what: &str, mut cond: impl AsyncFnMut() -> bool) {
        let until = Instant::now() + Duration::from_secs(5);
        while !cond().await {
            assert!(Instant::now() < until, "timed out waiting for: {what}");
            sleep(Duration::from_millis(10)).await;
        }
    }

    #[tokio::test]
    async fn a_result_stored_by_one_instance_answers_the_other() {
        let Some(i) = Instances::new(same).await else { return };
        let runs = AtomicU32::new(0);
        let key = IdempotencyKey::new();
        assert_eq!(i.a.guard_shared(key, None, counted(&runs, 1)).await, Ok(Ok(1)));
        assert_eq!(i.b.guard_shared(key, None, counted(&runs, 2)).await, Ok(Ok(1)));
        assert_eq!(i.a.guard_shared(key, None, counted(&runs, 3)).await, Ok(Ok(1)));
        assert_eq!(runs.load(SeqCst), 1);

        // Different keys run separately.
        assert_eq!(i.b.guard_shared("other", None, counted(&runs, 4)).await, Ok(Ok(4)));
        assert_eq!(runs.load(SeqCst), 2);

        // Structured results go through JSON.
        let v = vec![("x".to_owned(), 1.5f64)];
        let got = i.a.guard_shared("json", None, async { Ok(Ok::<_, String>(v.clone())) }).await;
        assert_eq!(got, Ok(Ok(v.clone())));
        let got = i.b.guard_shared("json", None, async { Ok(Ok::<_, String>(vec![])) }).await;
        assert_eq!(got, Ok(Ok(v)));
    }

    #[tokio::test]
    async fn keys_are_namespaced_per_policy_and_expire_after_the_ttl() {
        let Some(i) = Instances::new(|b| b.ttl(Duration::from_millis(1500))).await else { return };
        let mut con = raw(&i.url).await;
        let key = IdempotencyKey::new().to_string();
        let runs = AtomicU32::new(0);
        assert_eq!(i.a.guard_shared(&key, None, counted(&runs, 1)).await, Ok(Ok(1)));

        let stored = con.get(i.redis_key(&key)).await.unwrap().expect("result stored");
        assert_eq!(stored, r#"r{"fingerprint":null,"value":1}"#);
        let pttl = pttl(&mut con, &i.redis_key(&key)).await;
        assert!((1..=1500).contains(&pttl), "PTTL {pttl}");

        // After the ttl the key runs again.
        eventually("the result to expire", async || !con.exists(i.redis_key(&key)).await.unwrap())
            .await;
        assert_eq!(i.b.guard_shared(&key, None, counted(&runs, 2)).await, Ok(Ok(2)));
        assert_eq!(runs.load(SeqCst), 2);
    }

    #[tokio::test]
    async fn errors_are_not_stored_and_free_the_key() {
        let Some(i) = Instances::new(same).await else { return };
        let mut con = raw(&i.url).await;
        let failed: Outcome<u32, String> =
            i.a.guard_shared("k", None, async { Ok(Err("boom".to_owned())) }).await;
        assert_eq!(failed, Ok(Err("boom".to_owned())));
        assert!(!con.exists(i.redis_key("k")).await.unwrap(), "marker deleted at once");
        let runs = AtomicU32::new(0);
        assert_eq!(i.b.guard_shared("k", None, counted(&runs, 2)).await, Ok(Ok(2)));
        assert_eq!(i.a.guard_shared("k", None, counted(&runs, 3)).await, Ok(Ok(2)));
        assert_eq!(runs.load(SeqCst), 1);
    }

    #[tokio::test]
    async fn a_duplicate_while_the_first_runs_is_in_flight() {
        let Some(i) = Instances::new(|b| b.lease(Duration::from_secs(10))).await else { return };
        let mut con = raw(&i.url).await;
        let first = {
            let a = i.a.clone();
            tokio::spawn(async move {
                a.guard_shared("k", None, async {
                    sleep(Duration::from_millis(500)).await;
                    Ok(Ok::<u32, String>(1))
                })
                .await
            })
        };
        eventually("the marker", async || con.exists(i.redis_key("k")).await.unwrap()).await;
        let pttl = pttl(&mut con, &i.redis_key("k")).await;
        assert!((1..=10_000).contains(&pttl), "the marker's lease: PTTL {pttl}");

        let runs = AtomicU32::new(0);
        match i.b.guard_shared("k", None, counted(&runs, 2)).await {
            Err(Error::IdempotencyInFlight(c)) => assert_eq!(c.key(), "k"),
            other => panic!("expected IdempotencyInFlight, got {other:?}"),
        }
        assert_eq!(runs.load(SeqCst), 0);
        assert_eq!(first.await.unwrap(), Ok(Ok(1)));
        assert_eq!(i.b.guard_shared("k", None, counted(&runs, 2)).await, Ok(Ok(1)));
    }

    #[tokio::test]
    async fn a_duplicate_configured_to_wait_gets_the_first_result() {
        let Some(i) = Instances::new(|b| b.wait_in_flight(Duration::from_secs(5))).await else {
            return;
        };
        let mut con = raw(&i.url).await;
        let first = {
            let a = i.a.clone();
            tokio::spawn(async move {
                a.guard_shared("k", None, async {
                    sleep(Duration::from_millis(300)).await;
                    Ok(Ok::<u32, String>(1))
                })
                .await
            })
        };
        eventually("the marker", async || con.exists(i.redis_key("k")).await.unwrap()).await;
        let runs = AtomicU32::new(0);
        assert_eq!(i.b.guard_shared("k", None, counted(&runs, 2)).await, Ok(Ok(1)));
        assert_eq!(runs.load(SeqCst), 0);
        assert_eq!(first.await.unwrap(), Ok(Ok(1)));

        // A waiter whose first call fails runs its own body.
        let first = {
            let a = i.a.clone();
            tokio::spawn(async move {
                a.guard_shared("j", None, async {
                    sleep(Duration::from_millis(300)).await;
                    Ok(Err::<u32, String>("boom".into()))
                })
                .await
            })
        };
        eventually("the marker", async || con.exists(i.redis_key("j")).await.unwrap()).await;
        assert_eq!(i.b.guard_shared("j", None, counted(&runs, 3)).await, Ok(Ok(3)));
        assert_eq!(first.await.unwrap(), Ok(Err("boom".into())));
    }

    #[tokio::test]
    async fn a_waiter_gives_up_when_the_first_call_outlasts_its_wait() {
        let Some(i) = Instances::new(|b| b.wait_in_flight(Duration::from_millis(200))).await else {
            return;
        };
        let mut con = raw(&i.url).await;
        let first = {
            let a = i.a.clone();
            tokio::spawn(async move {
                a.guard_shared("k", None, async {
                    sleep(Duration::from_secs(1)).await;
                    Ok(Ok::<u32, String>(1))
                })
                .await
            })
        };
        eventually("the marker", async || con.exists(i.redis_key("k")).await.unwrap()).await;
        let started = Instant::now();
        let got = i.b.guard_shared("k", None, async { Ok(Ok::<u32, String>(2)) }).await;
        assert!(matches!(got, Err(Error::IdempotencyInFlight(_))), "{got:?}");
        assert!(started.elapsed() >= Duration::from_millis(200));
        first.await.unwrap().unwrap().unwrap();
    }

    #[tokio::test]
    async fn a_cancelled_or_panicking_first_call_releases_the_key() {
        let Some(i) = Instances::new(|b| b.lease(Duration::from_secs(60))).await else { return };
        let mut con = raw(&i.url).await;

        // Cancelled: its future is dropped by a timeout.
        let slow = i.a.guard_shared("k", None, async {
            sleep(Duration::from_secs(60)).await;
            Ok(Ok::<u32, String>(1))
        });
        assert!(tokio::time::timeout(Duration::from_millis(200), slow).await.is_err());
        // The drop guard deletes the marker long before its 60 s lease.
        eventually("the marker to be released", async || {
            !con.exists(i.redis_key("k")).await.unwrap()
        })
        .await;
        let runs = AtomicU32::new(0);
        assert_eq!(i.b.guard_shared("k", None, counted(&runs, 2)).await, Ok(Ok(2)));

        // Panicking.
        let a = i.a.clone();
        let panicked = tokio::spawn(async move {
            a.guard_shared("p", None, async {
                sleep(Duration::from_millis(50)).await;
                panic!("body panicked");
                #[allow(unreachable_code)]
                Ok(Ok::<u32, String>(1))
            })
            .await
        });
        assert!(panicked.await.unwrap_err().is_panic());
        eventually("the marker to be released", async || {
            !con.exists(i.redis_key("p")).await.unwrap()
        })
        .await;
        assert_eq!(i.b.guard_shared("p", None, counted(&runs, 3)).await, Ok(Ok(3)));
    }

    #[tokio::test]
    async fn a_key_reused_with_other_arguments_is_rejected() {
        let Some(i) = Instances::new(same).await else { return };
        let mut con = raw(&i.url).await;
        let runs = AtomicU32::new(0);
        assert_eq!(i.a.guard_shared("k", Some(1), counted(&runs, 1)).await, Ok(Ok(1)));
        assert_eq!(i.b.guard_shared("k", Some(1), counted(&runs, 2)).await, Ok(Ok(1)));
        let got = i.b.guard_shared("k", Some(2), counted(&runs, 3)).await;
        assert!(matches!(got, Err(Error::IdempotencyKeyReused(_))), "{got:?}");
        assert_eq!(runs.load(SeqCst), 1);
        // Other arguments and another result type: still a reuse, not a decoding failure.
        let got =
            i.b.guard_shared("k", Some(2), async { Ok(Ok::<_, String>("text".to_owned())) }).await;
        assert!(matches!(got, Err(Error::IdempotencyKeyReused(_))), "{got:?}");
        // The same arguments but a result type the record does not decode as: a clear Store error.
        let got =
            i.b.guard_shared("k", Some(1), async { Ok(Ok::<_, String>("text".to_owned())) }).await;
        let Err(Error::Store(f)) = got else { panic!("expected a Store error, got {got:?}") };
        assert!(f.message().contains("does not decode"), "{}", f.message());

        // Also while the first call is still running.
        let first = {
            let a = i.a.clone();
            tokio::spawn(async move {
                a.guard_shared("j", Some(1), async {
                    sleep(Duration::from_millis(300)).await;
                    Ok(Ok::<u32, String>(1))
                })
                .await
            })
        };
        eventually("the marker", async || con.exists(i.redis_key("j")).await.unwrap()).await;
        let got = i.b.guard_shared("j", Some(2), counted(&runs, 4)).await;
        assert!(matches!(got, Err(Error::IdempotencyKeyReused(_))), "{got:?}");
        first.await.unwrap().unwrap().unwrap();
    }

    #[tokio::test]
    async fn a_redis_that_dies_mid_call_fails_the_call_with_a_store_error() {
        let port = free_port();
        let url = format!("redis://127.0.0.1:{port}/");
        let started = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--daemonize", "yes"])
            .args(["--save", "", "--appendonly", "no"])
            .status();
        assert!(
            started.is_ok_and(|s| s.success()),
            "could not start redis-server on port {port}: run `scripts/redis.sh` to install it"
        );
        let shutdown = Arc::new(move || {
            let _ = Command::new("redis-cli")
                .args(["-p", &port.to_string(), "shutdown", "nosave"])
                .output();
        });
        // Shut the server down even if an assertion fails.
        struct Shutdown<F: Fn()>(Arc<F>);
        impl<F: Fn()> Drop for Shutdown<F> {
            fn drop(&mut self) {
                (self.0)();
            }
        }
        let _guard = Shutdown(Arc::clone(&shutdown));

        let mut i = None;
        for _ in 0..100 {
            if raw_ok(&url).await {
                i = Some(Instances::at(&url, same).await);
                break;
            }
            sleep(Duration::from_millis(50)).await;
        }
        let i = i.expect("the second redis-server did not come up");
        let runs = AtomicU32::new(0);
        assert_eq!(i.a.guard_shared("before", None, counted(&runs, 1)).await, Ok(Ok(1)));

        // The body succeeds, but Redis is gone by the time its result is to be stored.
        let got =
            i.a.guard_shared("k", None, async {
                shutdown();
                Ok(Ok::<u32, String>(1))
            })
            .await;
        let Err(Error::Store(f)) = got else { panic!("expected a Store error, got {got:?}") };
        assert!(
            f.message().contains("succeeded but its result could not be stored"),
            "{}",
            f.message()
        );
        assert!(f.message().contains(&format!("Redis at {url}")), "{}", f.message());

        // Later calls fail to claim, without running their bodies.
        let got = i.b.guard_shared("before", None, counted(&runs, 2)).await;
        let Err(Error::Store(f)) = got else { panic!("expected a Store error, got {got:?}") };
        assert!(f.message().contains("could not claim key `before`"), "{}", f.message());
        assert_eq!(runs.load(SeqCst), 1);
    }

    fn free_port() -> u16 {
        TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    }

    async fn raw_ok(url: &str) -> bool {
        let Ok(client) = redis::Client::open(url) else { return false };
        client.get_multiplexed_async_connection().await.is_ok()
    }
}
