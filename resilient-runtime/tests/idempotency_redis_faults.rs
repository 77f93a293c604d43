//! The Redis store when Redis misbehaves, each against a real `redis-server` this test starts on
//! a spare port (`redis-server` must be installed: `scripts/redis.sh` does it): restarted
//! mid-run, unreachable at start, slower than the call's deadline, a body outliving its lease;
//! and connection handling under load (`CLIENT LIST`). No timing is asserted: waits are bounded.
#![cfg(feature = "redis")]

#[path = "support/redis_server.rs"]
mod redis_server;

mod idempotency_redis_faults {
    use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
    use std::time::Duration;

    use resilient_runtime::idempotency::{
        Idempotency, OnStoreError, RedisConfig, RedisStore, register_store,
    };
    use resilient_runtime::{Error, Outcome};
    use tokio::time::sleep;

    use crate::redis_server::{Server, free_port};

    fn policy(store: &str, on: OnStoreError) -> Idempotency {
        Idempotency::builder()
            .name(format!("faults::{store}"))
            .store(store)
            .on_store_error(on)
            .build()
    }

    async fn counted(runs: &AtomicU32, value: u32) -> Outcome<u32, String> {
        runs.fetch_add(1, SeqCst);
        Ok(Ok(value))
    }

    fn quick(url: &str) -> RedisConfig {
        RedisConfig::new(url)
            .response_timeout(Duration::from_millis(300))
            .connection_timeout(Duration::from_millis(300))
            .retries(1)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn results_acknowledged_before_a_restart_are_answered_after_it() {
        let mut server = Server::start(&["--appendonly", "yes", "--appendfsync", "always"]).await;
        register_store(
            "faults-restart",
            RedisStore::connect_with(&quick(&server.url)).await.unwrap(),
        );
        let p = policy("faults-restart", OnStoreError::Fail);
        let runs = AtomicU32::new(0);
        for i in 0..50 {
            assert_eq!(p.guard_shared(i, None, counted(&runs, i)).await, Ok(Ok(i)));
        }
        assert_eq!(runs.load(SeqCst), 50);

        // Calls keep coming while Redis restarts: each gets its stored answer or a Store error,
        // never a wrong answer and never a second run of a stored call.
        let during = {
            let p = p.clone();
            tokio::spawn(async move {
                let runs = AtomicU32::new(0);
                for round in 0..200u32 {
                    let i = round % 50;
                    match p.guard_shared(i, None, counted(&runs, 1000 + i)).await {
                        Ok(Ok(v)) => assert_eq!(v, i),
                        Err(Error::Store(_)) => {}
                        other => panic!("during the restart: {other:?}"),
                    }
                    sleep(Duration::from_millis(5)).await;
                }
                runs.load(SeqCst)
            })
        };
        server.restart().await;
        assert_eq!(during.await.unwrap(), 0, "a stored call ran again during the restart");

        // After: the same store (it reconnected) and a fresh instance answer every one of them.
        let fresh = RedisStore::connect_with(&quick(&server.url)).await.unwrap();
        register_store("faults-restart-fresh", fresh);
        let other = Idempotency::builder()
            .name("faults::faults-restart")
            .store("faults-restart-fresh")
            .build();
        for i in 0..50 {
            let got = eventually_answered(&p, i, &runs).await;
            assert_eq!(got, i);
            assert_eq!(other.guard_shared(i, None, counted(&runs, 2000 + i)).await, Ok(Ok(i)));
        }
        assert_eq!(runs.load(SeqCst), 50, "a result acknowledged before the restart was lost");
    }

    /// The first answer that is not a Store error (the reconnect may take a call or two).
    async fn eventually_answered(p: &Idempotency, key: u32, runs: &AtomicU32) -> u32 {
        for _ in 0..50 {
            match p.guard_shared(key, None, counted(runs, 3000 + key)).await {
                Ok(Ok(v)) => return v,
                Err(Error::Store(_)) => sleep(Duration::from_millis(100)).await,
                other => panic!("{other:?}"),
            }
        }
        panic!("Redis did not answer again within 5 s of its restart");
    }

    #[tokio::test]
    async fn redis_unreachable_at_start() {
        let port = free_port();
        let url = format!("redis://app:s3cret@127.0.0.1:{port}/");
        // Connecting eagerly fails, naming the target without its password.
        let e = RedisStore::connect_with(&quick(&url)).await.unwrap_err();
        assert!(e.message().contains(&format!("127.0.0.1:{port}")), "{e}");
        assert!(!e.message().contains("s3cret"), "the password leaked: {e}");

        // Lazily, the service starts; calls get what the policy says.
        let url = format!("redis://127.0.0.1:{port}/");
        register_store("faults-unreachable", RedisStore::connect_lazy(&quick(&url)).unwrap());
        let fail = policy("faults-unreachable", OnStoreError::Fail);
        let local = Idempotency::builder()
            .name("faults::unreachable-local")
            .store("faults-unreachable")
            .on_store_error(OnStoreError::Local)
            .build();
        let runs = AtomicU32::new(0);
        let got = fail.guard_shared("k", None, counted(&runs, 1)).await;
        let Err(Error::Store(f)) = got else { panic!("expected a Store error, got {got:?}") };
        assert!(f.message().contains("could not claim"), "{}", f.message());
        assert_eq!(runs.load(SeqCst), 0);
        assert_eq!(local.guard_shared("k", None, counted(&runs, 1)).await, Ok(Ok(1)));
        assert_eq!(local.guard_shared("k", None, counted(&runs, 2)).await, Ok(Ok(1)));
        assert_eq!(runs.load(SeqCst), 1);

        // Redis comes up: the same store connects and the failing policy works.
        let _server = Server::start_on(port, &[]).await;
        let mut answered = None;
        for _ in 0..50 {
            match fail.guard_shared("k", None, counted(&runs, 5)).await {
                Err(Error::Store(_)) => sleep(Duration::from_millis(100)).await,
                got => {
                    answered = Some(got);
                    break;
                }
            }
        }
        assert_eq!(answered, Some(Ok(Ok(5))), "Redis came up but calls still failed");
    }

    #[tokio::test]
    async fn redis_slower_than_the_deadline() {
        let server = Server::start(&[]).await;
        let config =
            RedisConfig::new(&server.url).response_timeout(Duration::from_millis(200)).retries(0);
        register_store("faults-slow", RedisStore::connect_with(&config).await.unwrap());
        let fail = policy("faults-slow", OnStoreError::Fail);
        let local = policy("faults-slow-local", OnStoreError::Local);
        register_store("faults-slow-local", RedisStore::connect_with(&config).await.unwrap());
        let runs = AtomicU32::new(0);

        // Every command waits ten seconds (far past the 200 ms response timeout).
        let mut admin = server.raw().await;
        let _: () = redis::cmd("CLIENT")
            .arg("PAUSE")
            .arg(10_000)
            .arg("ALL")
            .query_async(&mut admin)
            .await
            .unwrap();
        let got = fail.guard_shared("k", None, counted(&runs, 1)).await;
        let Err(Error::Store(f)) = got else { panic!("expected a Store error, got {got:?}") };
        assert!(f.message().contains("could not claim key `k`"), "{}", f.message());
        assert_eq!(runs.load(SeqCst), 0);
        assert_eq!(local.guard_shared("k", None, counted(&runs, 2)).await, Ok(Ok(2)));
        assert_eq!(runs.load(SeqCst), 1);
        // The server is killed when `server` drops; no need to unpause it.
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_body_longer_than_its_lease_keeps_the_key_and_fails_loudly_if_it_loses_it() {
        let server = Server::start(&[]).await;
        register_store("faults-lease", RedisStore::connect(&server.url).await.unwrap());
        let p = Idempotency::builder()
            .name("faults::lease")
            .store("faults-lease")
            .lease(Duration::from_secs(2))
            .build();
        let (go, wait) = tokio::sync::oneshot::channel::<()>();
        let first = {
            let p = p.clone();
            tokio::spawn(async move {
                p.guard_shared("k", None, async {
                    wait.await.unwrap();
                    Ok(Ok::<u32, String>(1))
                })
                .await
            })
        };
        // Two and a half leases later the key is still held: renewed every 667 ms, no duplicate
        // runs (without renewal it would have expired after 2 s).
        sleep(Duration::from_millis(5000)).await;
        let dup = p.guard_shared("k", None, async { Ok(Ok::<u32, String>(2)) }).await;
        assert!(matches!(dup, Err(Error::IdempotencyInFlight(_))), "{dup:?}");
        go.send(()).unwrap();
        assert_eq!(first.await.unwrap(), Ok(Ok(1)));
        assert_eq!(p.guard_shared("k", None, async { Ok(Ok::<u32, String>(3)) }).await, Ok(Ok(1)));

        // Another process takes the key over (as after an expiry): the next renewal finds it gone.
        let mut con = server.raw().await;
        let key = "resilient:idem:{faults::lease:lost}";
        let got = p
            .guard_shared("lost", None, async {
                let _: () = redis::cmd("SET")
                    .arg(key)
                    .arg("mSOMEONE-ELSE")
                    .query_async(&mut con)
                    .await
                    .unwrap();
                sleep(Duration::from_millis(2500)).await; // several renewal periods
                Ok(Ok::<u32, String>(1))
            })
            .await;
        let Err(Error::Store(f)) = got else { panic!("expected a Store error, got {got:?}") };
        assert!(f.message().contains("lost the key"), "{}", f.message());
        let mut con = server.raw().await;
        let held: String = redis::cmd("GET").arg(key).query_async(&mut con).await.unwrap();
        assert_eq!(held, "mSOMEONE-ELSE", "the result was written over the other call's marker");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_calls_share_one_connection_and_none_leak() {
        let server = Server::start(&[]).await;
        let mut admin = server.raw().await;
        assert_eq!(server.clients(&mut admin).await, 0);
        register_store("faults-load", RedisStore::connect(&server.url).await.unwrap());
        let p = policy("faults-load", OnStoreError::Fail);
        let mut most = 0;
        for batch in 0..50u32 {
            let mut calls = tokio::task::JoinSet::new();
            for i in 0..200u32 {
                let p = p.clone();
                let key = batch * 200 + i;
                calls.spawn(async move {
                    p.guard_shared(key, None, async move { Ok(Ok::<u32, String>(key)) }).await
                });
            }
            // While 200 calls are in flight.
            most = most.max(server.clients(&mut admin).await);
            while let Some(got) = calls.join_next().await {
                assert!(matches!(got.unwrap(), Ok(Ok(_))));
            }
        }
        let after = server.clients(&mut admin).await;
        assert!(most <= 1, "200 concurrent calls opened {most} connections");
        assert_eq!(after, 1, "after 10 000 calls the store holds {after} connections");
    }
}
