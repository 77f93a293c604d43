//! The Redis store over TLS with an ACL user, and on a 3-node Redis Cluster, against the servers
//! `scripts/redis.sh tls` and `scripts/redis.sh cluster` start (scripts/test.sh exports
//! `RESILIENT_REDIS_TLS_URL`, `RESILIENT_REDIS_TLS_CA` and `RESILIENT_REDIS_CLUSTER_URLS`).
//! Without those variables the tests say so and return, except under CI, where they fail.
#![cfg(feature = "redis")]

#[path = "support/redis_server.rs"]
#[allow(dead_code)]
mod redis_server;

mod idempotency_redis_topologies {
    use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

    #[allow(unused_imports)]
    use resilient_runtime::idempotency::{Idempotency, RedisConfig, RedisStore, register_store};
    #[allow(unused_imports)]
    use resilient_runtime::{Error, Outcome};

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

    #[allow(dead_code)]
    async fn counted(runs: &AtomicU32, value: u32) -> Outcome<u32, String> {
        runs.fetch_add(1, SeqCst);
        Ok(Ok(value))
    }

    #[cfg(feature = "redis-tls")]
    #[tokio::test]
    async fn tls_with_an_acl_user() {
        let (Some(url), Some(ca)) = (var("RESILIENT_REDIS_TLS_URL"), var("RESILIENT_REDIS_TLS_CA"))
        else {
            return;
        };
        assert!(url.starts_with("rediss://"), "{url}");
        let pem = std::fs::read(&ca).unwrap_or_else(|e| panic!("reading the CA at {ca}: {e}"));
        let config = RedisConfig::new(&url).ca_cert_pem(pem.clone());
        let a = RedisStore::connect_with(&config).await.unwrap();
        let b = RedisStore::connect_with(&config).await.unwrap();
        register_store("tls-a", a);
        register_store("tls-b", b);
        let name = format!("tls::{}", uuid_like());
        let pa = Idempotency::builder().name(name.clone()).store("tls-a").build();
        let pb = Idempotency::builder().name(name.clone()).store("tls-b").build();
        let runs = AtomicU32::new(0);
        assert_eq!(pa.guard_shared("k", None, counted(&runs, 1)).await, Ok(Ok(1)));
        assert_eq!(pb.guard_shared("k", None, counted(&runs, 2)).await, Ok(Ok(1)));
        assert_eq!(runs.load(SeqCst), 1);

        // The system roots do not trust the test CA: connecting fails, and says why.
        let e = RedisStore::connect_with(&RedisConfig::new(&url)).await.unwrap_err();
        assert!(!e.message().contains("resilient-test-password"), "password leaked: {e}");
        // A wrong password is refused by the server.
        let wrong = url.replacen("resilient-test-password", "wrong", 1);
        let e = RedisStore::connect_with(&RedisConfig::new(&wrong).ca_cert_pem(pem.clone()))
            .await
            .unwrap_err();
        assert!(!e.message().contains(":wrong@"), "password leaked: {e}");
        // Plain text to the TLS port is refused too.
        let plain = url.replacen("rediss://", "redis://", 1);
        assert!(RedisStore::connect_with(&RedisConfig::new(&plain)).await.is_err());
    }

    #[cfg(feature = "redis-cluster")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_three_node_cluster() {
        let Some(urls) = var("RESILIENT_REDIS_CLUSTER_URLS") else { return };
        let nodes: Vec<&str> = urls.split(',').collect();
        assert_eq!(nodes.len(), 3, "{urls}");
        let config = RedisConfig::cluster(nodes.iter().copied());
        register_store("cluster-a", RedisStore::connect_with(&config).await.unwrap());
        // A second instance knowing only one node discovers the others.
        let one = RedisConfig::cluster([nodes[1]]);
        register_store("cluster-b", RedisStore::connect_with(&one).await.unwrap());
        let name = format!("cluster::{}", uuid_like());
        let pa = Idempotency::builder().name(name.clone()).store("cluster-a").build();
        let pb = Idempotency::builder().name(name.clone()).store("cluster-b").build();

        // Enough keys to land on every node; each call's key is one slot (its hash tag).
        let runs = AtomicU32::new(0);
        for i in 0..300u32 {
            assert_eq!(pa.guard_shared(i, Some(7), counted(&runs, i)).await, Ok(Ok(i)));
        }
        for i in 0..300u32 {
            assert_eq!(pb.guard_shared(i, Some(7), counted(&runs, 0)).await, Ok(Ok(i)));
        }
        assert_eq!(runs.load(SeqCst), 300);
        let reused = pb.guard_shared(5u32, Some(8), counted(&runs, 0)).await;
        assert!(matches!(reused, Err(Error::IdempotencyKeyReused(_))), "{reused:?}");

        // Every node holds some of them, and every call's key is where its slot says.
        let mut per_node = Vec::new();
        for node in &nodes {
            let mut con = redis::Client::open(*node)
                .unwrap()
                .get_multiplexed_async_connection()
                .await
                .unwrap();
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("resilient:idem:{{{name}:*"))
                .query_async(&mut con)
                .await
                .unwrap();
            per_node.push(keys.len());
        }
        assert_eq!(per_node.iter().sum::<usize>(), 300, "{per_node:?}");
        assert!(per_node.iter().all(|&n| n > 0), "keys not spread over the nodes: {per_node:?}");

        // Other scripts (a rate limiter's) run over the store's connection, routed by their key.
        let script = redis::Script::new("return redis.call('INCRBY', KEYS[1], ARGV[1])");
        let store = RedisStore::connect_with(&config).await.unwrap();
        let mut connection = store.connection().clone();
        let key = format!("resilient:rl:{{{name}}}");
        let n: i64 = script.key(&key).arg(2).invoke_async(&mut connection).await.unwrap();
        let m: i64 = script.key(&key).arg(3).invoke_async(&mut connection).await.unwrap();
        assert_eq!((n, m), (2, 5));

        // 200 concurrent calls: a bounded number of connections per node, the same after.
        let mut before = Vec::new();
        for node in &nodes {
            let mut con = redis::Client::open(*node)
                .unwrap()
                .get_multiplexed_async_connection()
                .await
                .unwrap();
            before.push(crate::redis_server::clients(&mut con).await);
        }
        for batch in 0..10u32 {
            let mut calls = tokio::task::JoinSet::new();
            for i in 0..200u32 {
                let p = pa.clone();
                let key = 1000 + batch * 200 + i;
                calls.spawn(async move {
                    p.guard_shared(key, None, async move { Ok(Ok::<u32, String>(key)) }).await
                });
            }
            while let Some(got) = calls.join_next().await {
                assert!(matches!(got.unwrap(), Ok(Ok(_))));
            }
        }
        for (node, was) in nodes.iter().zip(before) {
            let mut con = redis::Client::open(*node)
                .unwrap()
                .get_multiplexed_async_connection()
                .await
                .unwrap();
            let now = crate::redis_server::clients(&mut con).await;
            assert_eq!(now, was, "connections to {node} grew from {was} to {now} over 2 000 calls");
        }
    }

    /// A name no other run of these tests used (the servers are shared and keep keys for a day).
    #[allow(dead_code)]
    fn uuid_like() -> String {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        format!("{}-{nanos}", std::process::id())
    }
}
