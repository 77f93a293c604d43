//! The shared rate limit on a real `redis-server`: several instances (limiters on connections of
//! their own) together within the limit; Redis unreachable at start, restarted mid-run, slower
//! than the call's deadline; one connection under 200 concurrent calls; TLS with an ACL user and
//! a cluster when `scripts/test.sh` provides them. The fleet test uses `RESILIENT_REDIS_URL`
//! (default `redis://127.0.0.1:6379/`); the fault tests start their own `redis-server`.
#![cfg(feature = "redis")]

#[path = "support/redis_server.rs"]
mod redis_server;
#[path = "support/redis_url.rs"]
mod redis_url;

mod rate_limit_redis {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
    use std::time::Duration;

    use resilient_runtime::Error;
    use resilient_runtime::idempotency::{OnStoreError, RedisConfig, RedisConnection};
    use resilient_runtime::rate_limit::{RateLimiter, RedisRateStore, register_store};
    use tokio::time::{Instant, sleep};

    use crate::redis_server::{Server, free_port};
    use crate::redis_url::redis_url;

    fn unique(prefix: &str) -> String {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        format!("{prefix}-{nanos}")
    }

    fn quick(url: &str) -> RedisConfig {
        RedisConfig::new(url)
            .response_timeout(Duration::from_millis(300))
            .connection_timeout(Duration::from_millis(300))
            .retries(1)
    }

    fn limiter(name: &str, store: &str, on: OnStoreError, count: u64, burst: u64) -> RateLimiter {
        RateLimiter::builder(count, Duration::from_secs(1))
            .name(name.to_owned())
            .burst(burst)
            .store(store)
            .on_store_error(on)
            .build()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn instances_together_stay_within_the_limit() {
        let Some(url) = redis_url() else { return };
        let name = unique("fleet");
        let (instances, callers, burst) = (4, 4, 10u64);
        let mut limiters = Vec::new();
        for i in 0..instances {
            let connection = RedisConnection::connect(&RedisConfig::new(&url))
                .await
                .unwrap_or_else(|e| panic!("Redis is not reachable at {url}: {e}"));
            let store = format!("{name}-{i}");
            register_store(&store, RedisRateStore::new(connection));
            limiters.push(limiter(&name, &store, OnStoreError::Fail, 100, burst));
        }
        let admitted = Arc::new(AtomicU64::new(0));
        let start = Instant::now();
        let end = start + Duration::from_secs(10);
        let mut tasks = tokio::task::JoinSet::new();
        for l in &limiters {
            for _ in 0..callers {
                let (l, admitted) = (l.clone(), admitted.clone());
                tasks.spawn(async move {
                    while Instant::now() < end {
                        match l.acquire().await {
                            Ok(()) => {
                                admitted.fetch_add(1, SeqCst);
                            }
                            Err(Error::RateLimited(r)) => {
                                sleep(r.retry_after().min(Duration::from_millis(2))).await;
                            }
                            Err(e) => panic!("{e}"),
                        }
                    }
                });
            }
        }
        while let Some(done) = tasks.join_next().await {
            done.unwrap();
        }
        let admitted = admitted.load(SeqCst);
        let expected = 1000 + burst;
        eprintln!("admitted {admitted} calls in 10 s (expected {expected})");
        assert!(
            admitted.abs_diff(expected) <= 20,
            "{instances} instances × {callers} callers admitted {admitted} calls in 10 s at 100/s \
             with a burst of {burst}; expected {expected} ± 2 %"
        );
        let snap = resilient_runtime::registry::snapshot();
        let here: u64 = snap
            .all(&name)
            .map(|p| match &p.state {
                resilient_runtime::registry::PolicyState::RateLimit(r) => r.admitted,
                _ => 0,
            })
            .sum();
        assert_eq!(here, admitted, "the instances' own counts add up to what was admitted");
    }

    #[tokio::test]
    async fn a_call_over_the_shared_limit_waits_or_gets_the_time_until_a_slot() {
        let Some(url) = redis_url() else { return };
        let name = unique("wait");
        let connection = RedisConnection::connect(&RedisConfig::new(&url)).await.unwrap();
        register_store(&name, RedisRateStore::new(connection));
        let l = RateLimiter::builder(10, Duration::from_secs(1))
            .name(name.clone())
            .burst(1)
            .wait(Duration::from_millis(150))
            .store(&name)
            .build();
        l.acquire().await.unwrap();
        // Two at once: the first waits for the slot 100 ms away, the second would wait 200 ms,
        // more than `wait`.
        let start = Instant::now();
        let (a, b) = tokio::join!(l.acquire(), l.acquire());
        let (waited, e) = match (a, b) {
            (Ok(()), Err(e)) | (Err(e), Ok(())) => (start.elapsed(), e),
            other => panic!("{other:?}"),
        };
        assert!(waited >= Duration::from_millis(80), "{waited:?}");
        assert!(e.is_rate_limited(), "{e}");
        let retry_after = e.retry_after().unwrap();
        assert!(retry_after > Duration::from_millis(150), "{e}");
        assert!(retry_after <= Duration::from_millis(200), "{e}");
    }

    #[tokio::test]
    async fn a_shared_limit_per_key_counts_each_key_apart() {
        let Some(url) = redis_url() else { return };
        let name = unique("per-key");
        for i in 0..2 {
            let c = RedisConnection::connect(&RedisConfig::new(&url)).await.unwrap();
            register_store(&format!("{name}-{i}"), RedisRateStore::new(c));
        }
        // Two instances; each key's limit is 2 at once, shared by both instances.
        let a = limiter(&name, &format!("{name}-0"), OnStoreError::Fail, 2, 2);
        let b = limiter(&name, &format!("{name}-1"), OnStoreError::Fail, 2, 2);
        let mut admitted = std::collections::HashMap::new();
        for i in 0..12 {
            let (l, user) = (if i % 2 == 0 { &a } else { &b }, ["alice", "bob", "carol"][i % 3]);
            let key = resilient_runtime::rate_limit::store_key(user);
            let got = match l.try_acquire() {
                Ok(()) => Ok(()),
                Err(pending) => pending.wait_keyed(Some(&key)).await,
            };
            match got {
                Ok(()) => *admitted.entry(user).or_insert(0) += 1,
                Err(e) => assert!(e.is_rate_limited(), "{e}"),
            }
        }
        assert_eq!(admitted.len(), 3);
        assert!(admitted.values().all(|&n| n == 2), "{admitted:?}");
        let mut con = redis::Client::open(url.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let exists: bool = redis::cmd("EXISTS")
            .arg(format!("resilient:rl:{{{name}:\"alice\"}}"))
            .query_async(&mut con)
            .await
            .unwrap();
        assert!(exists, "the key's limit lives under the policy's name and the key's text");
    }

    #[tokio::test]
    async fn redis_unreachable_at_start() {
        let port = free_port();
        let url = format!("redis://127.0.0.1:{port}/");
        let store = unique("unreachable");
        let connection = RedisConnection::connect_lazy(&quick(&url)).unwrap();
        register_store(&store, RedisRateStore::new(connection));
        let fail = limiter(&unique("fail"), &store, OnStoreError::Fail, 2, 2);
        let local = limiter(&unique("local"), &store, OnStoreError::Local, 2, 2);

        // `fail`: a clear Store error naming the store and the server.
        let e = fail.acquire().await.unwrap_err();
        let Error::Store(f) = &e else { panic!("expected a Store error, got {e:?}") };
        assert!(f.message().contains(&store), "{e}");
        assert!(f.message().contains(&format!("127.0.0.1:{port}")), "{e}");
        // `local`: the in-process limiter takes over, with the same rate.
        local.acquire().await.unwrap();
        local.acquire().await.unwrap();
        assert!(local.acquire().await.unwrap_err().is_rate_limited());

        // Redis comes up: the same connection connects, the shared limit applies.
        let _server = Server::start_on(port, &[]).await;
        let mut answered = false;
        for _ in 0..50 {
            match fail.acquire().await {
                Err(Error::Store(_)) => sleep(Duration::from_millis(100)).await,
                Ok(()) => {
                    answered = true;
                    break;
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert!(answered, "Redis came up but calls still failed");
        let snap = resilient_runtime::registry::snapshot();
        assert_eq!(snap.rate_limit(fail.name()).unwrap().store.as_deref(), Some(store.as_str()));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_restarted_mid_run() {
        let mut server = Server::start(&[]).await;
        let store = unique("restart");
        let connection = RedisConnection::connect(&quick(&server.url)).await.unwrap();
        register_store(&store, RedisRateStore::new(connection));
        let name = unique("restart");
        let fail = limiter(&name, &store, OnStoreError::Fail, 1000, 1000);
        let local = limiter(&unique("restart-local"), &store, OnStoreError::Local, 1000, 1000);
        for _ in 0..20 {
            fail.acquire().await.unwrap();
        }
        let during = {
            let (fail, local) = (fail.clone(), local.clone());
            tokio::spawn(async move {
                let (mut ok, mut store_errors) = (0, 0);
                for _ in 0..200 {
                    match fail.acquire().await {
                        Ok(()) => ok += 1,
                        Err(Error::Store(_)) => store_errors += 1,
                        Err(e) => panic!("during the restart: {e}"),
                    }
                    // `local` never fails: the in-process limiter answers while Redis is away.
                    local.acquire().await.unwrap();
                    sleep(Duration::from_millis(5)).await;
                }
                (ok, store_errors)
            })
        };
        server.restart().await;
        let (ok, _store_errors) = during.await.unwrap();
        assert!(ok > 0);
        // After the restart the same connection works again.
        for _ in 0..50 {
            if fail.acquire().await.is_ok() {
                return;
            }
            sleep(Duration::from_millis(100)).await;
        }
        panic!("Redis did not answer again within 5 s of its restart");
    }

    #[tokio::test]
    async fn redis_slower_than_the_deadline() {
        let server = Server::start(&[]).await;
        // A response timeout far past the call's deadline: the deadline decides.
        let config = RedisConfig::new(&server.url).response_timeout(Duration::from_secs(30));
        let store = unique("slow");
        register_store(
            &store,
            RedisRateStore::new(RedisConnection::connect(&config).await.unwrap()),
        );
        let fail = limiter(&unique("slow-fail"), &store, OnStoreError::Fail, 10, 10);
        let local = limiter(&unique("slow-local"), &store, OnStoreError::Local, 10, 10);
        fail.acquire().await.unwrap();

        let mut admin = server.raw().await;
        let _: () = redis::cmd("CLIENT")
            .arg("PAUSE")
            .arg(10_000)
            .arg("ALL")
            .query_async(&mut admin)
            .await
            .unwrap();
        let deadline = || Instant::now() + Duration::from_millis(200);
        let start = Instant::now();
        let got = resilient_runtime::deadline::scope(deadline(), fail.acquire()).await;
        let Err(Error::Store(f)) = &got else { panic!("expected a Store error, got {got:?}") };
        assert!(f.message().contains("deadline"), "{}", f.message());
        assert!(start.elapsed() < Duration::from_secs(5), "waited {:?}", start.elapsed());
        let got = resilient_runtime::deadline::scope(deadline(), local.acquire()).await;
        assert_eq!(got, Ok(()), "the in-process limiter answers in time");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_hundred_concurrent_calls_share_one_connection() {
        let server = Server::start(&[]).await;
        let mut admin = server.raw().await;
        let store = unique("load");
        register_store(
            &store,
            RedisRateStore::new(
                RedisConnection::connect(&RedisConfig::new(&server.url)).await.unwrap(),
            ),
        );
        let l = limiter(&unique("load"), &store, OnStoreError::Fail, 1_000_000, 1_000_000);
        let mut most = 0;
        for _ in 0..20 {
            let mut calls = tokio::task::JoinSet::new();
            for _ in 0..200 {
                let l = l.clone();
                calls.spawn(async move { l.acquire().await });
            }
            most = most.max(server.clients(&mut admin).await);
            while let Some(got) = calls.join_next().await {
                got.unwrap().unwrap();
            }
        }
        assert!(most <= 1, "200 concurrent calls opened {most} connections");
        assert_eq!(server.clients(&mut admin).await, 1);
    }

    /// The variable's value, or `None` (with a note) when unset outside CI.
    #[allow(dead_code)]
    fn var(name: &str) -> Option<String> {
        match std::env::var(name) {
            Ok(v) if !v.trim().is_empty() => Some(v),
            _ if std::env::var_os("CI").is_some() => {
                panic!("{name} is not set: run the tests with scripts/test.sh")
            }
            _ => {
                eprintln!("skipped: {name} is not set (scripts/test.sh sets it)");
                None
            }
        }
    }

    /// Two instances on one shared limit of 5 with a burst of 5: 5 admitted between them.
    #[allow(dead_code)]
    async fn two_instances_share(config: RedisConfig) {
        let name = unique("topology");
        for i in 0..2 {
            let c = RedisConnection::connect(&config).await.unwrap();
            register_store(&format!("{name}-{i}"), RedisRateStore::new(c));
        }
        let a = limiter(&name, &format!("{name}-0"), OnStoreError::Fail, 5, 5);
        let b = limiter(&name, &format!("{name}-1"), OnStoreError::Fail, 5, 5);
        let mut admitted = 0;
        for i in 0..10 {
            let l = if i % 2 == 0 { &a } else { &b };
            match l.acquire().await {
                Ok(()) => admitted += 1,
                Err(e) => assert!(e.is_rate_limited(), "{e}"),
            }
        }
        assert_eq!(admitted, 5);
    }

    #[cfg(feature = "redis-tls")]
    #[tokio::test]
    async fn tls_with_an_acl_user() {
        let (Some(url), Some(ca)) = (var("RESILIENT_REDIS_TLS_URL"), var("RESILIENT_REDIS_TLS_CA"))
        else {
            return;
        };
        let pem = std::fs::read(&ca).unwrap_or_else(|e| panic!("reading the CA at {ca}: {e}"));
        two_instances_share(RedisConfig::new(&url).ca_cert_pem(pem)).await;
    }

    #[cfg(feature = "redis-cluster")]
    #[tokio::test]
    async fn on_a_cluster_the_limit_lives_in_one_slot() {
        let Some(urls) = var("RESILIENT_REDIS_CLUSTER_URLS") else { return };
        two_instances_share(RedisConfig::cluster(urls.split(','))).await;
    }
}
