//! The in-process idempotency store: hits, misses, ttl on tokio's clock, errors, single flight,
//! cancellation, panics, fingerprints, the bound and the key limit.

// One module, so `cargo test idempotency` selects every test here by name.
mod idempotency_local {

    use std::rc::Rc;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
    use std::time::Duration;

    use resilient_runtime::Error;
    use resilient_runtime::idempotency::{Idempotency, IdempotencyKey, MAX_KEY_LEN};
    use resilient_runtime::registry::{self, PolicyState};
    use tokio::time::sleep;

    /// A policy with a name of its own, so tests do not share counters in the registry.
    fn policy() -> Idempotency {
        Idempotency::builder()
            .name(format!("test::{}", IdempotencyKey::new()))
            .ttl(Duration::from_secs(60))
            .build()
    }

    /// A body that counts its runs and returns `value`.
    async fn counted(runs: &AtomicU32, value: u32) -> resilient_runtime::Outcome<u32, String> {
        runs.fetch_add(1, SeqCst);
        Ok(Ok(value))
    }

    #[tokio::test(start_paused = true)]
    async fn a_repeated_key_gets_the_stored_result_without_running() {
        let p = policy();
        let runs = AtomicU32::new(0);
        let key = IdempotencyKey::new();
        assert_eq!(p.guard(key, None, counted(&runs, 1)).await, Ok(Ok(1)));
        assert_eq!(p.guard(key, None, counted(&runs, 2)).await, Ok(Ok(1)));
        assert_eq!(runs.load(SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn different_keys_run_separately() {
        let p = policy();
        let runs = AtomicU32::new(0);
        assert_eq!(p.guard("a", None, counted(&runs, 1)).await, Ok(Ok(1)));
        assert_eq!(p.guard("b", None, counted(&runs, 2)).await, Ok(Ok(2)));
        assert_eq!(p.guard("a", None, counted(&runs, 3)).await, Ok(Ok(1)));
        assert_eq!(runs.load(SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn results_expire_after_the_ttl_on_tokios_clock() {
        let p = Idempotency::builder()
            .name(format!("test::{}", IdempotencyKey::new()))
            .ttl(Duration::from_secs(10))
            .build();
        let runs = AtomicU32::new(0);
        assert_eq!(p.guard("k", None, counted(&runs, 1)).await, Ok(Ok(1)));
        sleep(Duration::from_millis(9_999)).await;
        assert_eq!(p.guard("k", None, counted(&runs, 2)).await, Ok(Ok(1)));
        // moka's own clock has barely moved: only tokio's says the entry is stale.
        sleep(Duration::from_millis(1)).await;
        assert_eq!(p.guard("k", None, counted(&runs, 3)).await, Ok(Ok(3)));
        assert_eq!(runs.load(SeqCst), 2);

        // Expired again, then a burst of callers: still one run.
        sleep(Duration::from_secs(11)).await;
        let runs = Arc::new(AtomicU32::new(0));
        let calls = (0..8).map(|i| {
            let (p, runs) = (p.clone(), Arc::clone(&runs));
            tokio::spawn(async move {
                p.guard("k", None, async {
                    runs.fetch_add(1, SeqCst);
                    sleep(Duration::from_millis(100)).await;
                    Ok::<_, Error>(Ok::<u32, String>(100 + i))
                })
                .await
            })
        });
        let results: Vec<_> = futures_join(calls).await;
        assert_eq!(runs.load(SeqCst), 1);
        assert!(results.windows(2).all(|w| w[0] == w[1]), "{results:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn errors_and_rejections_are_not_stored() {
        let p = policy();
        let runs = AtomicU32::new(0);
        let failed: resilient_runtime::Outcome<u32, String> = p
            .guard("k", None, async {
                runs.fetch_add(1, SeqCst);
                Ok(Err("boom".to_owned()))
            })
            .await;
        assert_eq!(failed, Ok(Err("boom".to_owned())));
        let rejected: resilient_runtime::Outcome<u32, String> = p
            .guard("k", None, async {
                runs.fetch_add(1, SeqCst);
                Err(Error::Timeout(resilient_runtime::error::Elapsed::new(
                    "inner",
                    Duration::from_secs(1),
                )))
            })
            .await;
        assert!(matches!(rejected, Err(Error::Timeout(_))));
        assert_eq!(p.guard("k", None, counted(&runs, 7)).await, Ok(Ok(7)));
        assert_eq!(p.guard("k", None, counted(&runs, 8)).await, Ok(Ok(7)));
        assert_eq!(runs.load(SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_duplicates_share_one_execution() {
        let p = policy();
        let runs = Arc::new(AtomicU32::new(0));
        let calls = (0..50).map(|i| {
            let (p, runs) = (p.clone(), Arc::clone(&runs));
            tokio::spawn(async move {
                p.guard("order-1", None, async {
                    runs.fetch_add(1, SeqCst);
                    sleep(Duration::from_secs(1)).await;
                    Ok::<_, Error>(Ok::<u32, String>(i))
                })
                .await
            })
        });
        let results = futures_join(calls).await;
        assert_eq!(runs.load(SeqCst), 1);
        let first = results[0].clone();
        assert!(results.iter().all(|r| *r == first), "{results:?}");
        let snap = snapshot_of(&p);
        assert_eq!((snap.misses, snap.hits), (1, 49));
        assert_eq!(snap.joins, 49);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_duplicates_share_one_execution_across_threads() {
        let p = policy();
        let runs = Arc::new(AtomicU32::new(0));
        let calls = (0..32).map(|i| {
            let (p, runs) = (p.clone(), Arc::clone(&runs));
            tokio::spawn(async move {
                p.guard("order-2", None, async {
                    runs.fetch_add(1, SeqCst);
                    sleep(Duration::from_millis(50)).await;
                    Ok::<_, Error>(Ok::<u32, String>(i))
                })
                .await
            })
        });
        let results = futures_join(calls).await;
        assert_eq!(runs.load(SeqCst), 1);
        assert!(results.windows(2).all(|w| w[0] == w[1]), "{results:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_first_call_releases_the_key_to_its_waiters() {
        let p = policy();
        let started = Arc::new(AtomicU32::new(0));
        let first = {
            let (p, started) = (p.clone(), Arc::clone(&started));
            tokio::spawn(async move {
                p.guard("k", None, async {
                    started.fetch_add(1, SeqCst);
                    sleep(Duration::from_secs(3600)).await;
                    Ok::<_, Error>(Ok::<u32, String>(1))
                })
                .await
            })
        };
        sleep(Duration::from_secs(1)).await;
        let waiter = {
            let (p, started) = (p.clone(), Arc::clone(&started));
            tokio::spawn(async move {
                p.guard("k", None, async {
                    started.fetch_add(1, SeqCst);
                    Ok::<_, Error>(Ok::<u32, String>(2))
                })
                .await
            })
        };
        sleep(Duration::from_secs(1)).await;
        assert!(!waiter.is_finished(), "the duplicate waits for the first call");
        assert_eq!(started.load(SeqCst), 1);

        first.abort();
        assert!(first.await.unwrap_err().is_cancelled());
        // The waiter runs its own body instead of hanging (bounded so a regression fails, not hangs).
        let got = tokio::time::timeout(Duration::from_secs(5), waiter).await;
        assert_eq!(got.expect("waiter hung").unwrap(), Ok(Ok(2)));
        assert_eq!(started.load(SeqCst), 2);
        // And its result is the stored one.
        assert_eq!(p.guard("k", None, async { Ok(Ok(3)) }).await, Ok(Ok::<u32, String>(2)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_first_call_releases_the_key_for_the_next_caller() {
        let p = policy();
        // Dropped by a timeout, in the same task: no waiter, the key must simply be free again.
        let slow = p.guard("k", None, async {
            sleep(Duration::from_secs(10)).await;
            Ok::<_, Error>(Ok::<u32, String>(1))
        });
        assert!(tokio::time::timeout(Duration::from_secs(1), slow).await.is_err());
        assert_eq!(p.guard("k", None, async { Ok(Ok(2)) }).await, Ok(Ok::<u32, String>(2)));
    }

    #[tokio::test(start_paused = true)]
    async fn waiters_on_a_failed_first_call_run_their_own_bodies() {
        let p = policy();
        let runs = Arc::new(AtomicU32::new(0));
        let first = {
            let p = p.clone();
            tokio::spawn(async move {
                p.guard("k", None, async {
                    sleep(Duration::from_secs(1)).await;
                    Ok::<_, Error>(Err::<u32, String>("boom".into()))
                })
                .await
            })
        };
        sleep(Duration::from_millis(10)).await;
        // Several waiters: the error is not shared, and one of them runs for all the others.
        let waiters: Vec<_> = (0..5)
            .map(|i| {
                let (p, runs) = (p.clone(), Arc::clone(&runs));
                tokio::spawn(async move {
                    p.guard("k", None, async {
                        runs.fetch_add(1, SeqCst);
                        sleep(Duration::from_secs(1)).await;
                        Ok::<_, Error>(Ok::<u32, String>(i))
                    })
                    .await
                })
            })
            .collect();
        assert_eq!(first.await.unwrap(), Ok(Err("boom".into())));
        let results = futures_join(waiters).await;
        assert_eq!(runs.load(SeqCst), 1);
        assert!(results.windows(2).all(|w| w[0] == w[1]), "{results:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_panicking_first_call_releases_the_key_to_its_waiters() {
        let p = policy();
        let first = {
            let p = p.clone();
            tokio::spawn(async move {
                p.guard("k", None, async {
                    sleep(Duration::from_secs(1)).await;
                    panic!("body panicked");
                    #[allow(unreachable_code)]
                    Ok::<_, Error>(Ok::<u32, String>(1))
                })
                .await
            })
        };
        sleep(Duration::from_millis(10)).await;
        let waiter = {
            let p = p.clone();
            tokio::spawn(
                async move { p.guard("k", None, async { Ok(Ok::<u32, String>(2)) }).await },
            )
        };
        assert!(first.await.unwrap_err().is_panic());
        let got = tokio::time::timeout(Duration::from_secs(5), waiter).await;
        assert_eq!(got.expect("waiter hung").unwrap(), Ok(Ok(2)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_key_reused_with_other_arguments_is_rejected() {
        let p = policy();
        let runs = AtomicU32::new(0);
        assert_eq!(p.guard("k", Some(11), counted(&runs, 1)).await, Ok(Ok(1)));
        assert_eq!(p.guard("k", Some(11), counted(&runs, 2)).await, Ok(Ok(1)));
        match p.guard("k", Some(22), counted(&runs, 3)).await {
            Err(Error::IdempotencyKeyReused(c)) => {
                assert_eq!(c.key(), "k");
            }
            other => panic!("expected IdempotencyKeyReused, got {other:?}"),
        }
        // No fingerprint means "not checked".
        assert_eq!(p.guard("k", None, counted(&runs, 4)).await, Ok(Ok(1)));
        assert_eq!(runs.load(SeqCst), 1);
        assert_eq!(snapshot_of(&p).conflicts, 1);

        // A duplicate with other arguments that joins a running call is rejected too.
        let first = {
            let p = p.clone();
            tokio::spawn(async move {
                p.guard("j", Some(1), async {
                    sleep(Duration::from_secs(1)).await;
                    Ok::<_, Error>(Ok::<u32, String>(1))
                })
                .await
            })
        };
        sleep(Duration::from_millis(10)).await;
        let other = p.guard("j", Some(2), async { Ok(Ok::<u32, String>(2)) }).await;
        assert!(matches!(other, Err(Error::IdempotencyKeyReused(_))), "{other:?}");
        assert_eq!(first.await.unwrap(), Ok(Ok(1)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_key_reused_with_another_result_type_is_rejected() {
        // Generic fns share one store across instantiations.
        let p = policy();
        assert_eq!(p.guard("k", None, async { Ok(Ok::<u32, String>(1)) }).await, Ok(Ok(1)));
        let other = p.guard("k", None, async { Ok(Ok::<String, String>("x".into())) }).await;
        assert!(matches!(other, Err(Error::IdempotencyKeyReused(_))), "{other:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn the_store_stays_within_its_bound() {
        let p = Idempotency::builder()
            .name(format!("test::{}", IdempotencyKey::new()))
            .max_entries(100)
            .build();
        for i in 0..2_000u32 {
            assert_eq!(p.guard(i, None, async { Ok(Ok::<u32, String>(i)) }).await, Ok(Ok(i)));
            // The bound holds at every moment, not only after some housekeeping.
            let entries = snapshot_of(&p).entries.unwrap();
            assert!(entries <= 100, "{entries} entries for a bound of 100");
        }
        let snap = snapshot_of(&p);
        assert_eq!(snap.max_entries, Some(100));
        // The most recent results are the ones kept; an evicted key runs again.
        assert_eq!(
            p.guard(1_999u32, None, async { Ok(Ok::<u32, String>(0)) }).await,
            Ok(Ok(1_999))
        );
        assert_eq!(p.guard(0u32, None, async { Ok(Ok::<u32, String>(7)) }).await, Ok(Ok(7)));

        // A large bound is sharded; together the shards still hold at most the bound.
        let p = Idempotency::builder()
            .name(format!("test::{}", IdempotencyKey::new()))
            .max_entries(1_000)
            .build();
        for i in 0..5_000u32 {
            let _ = p.guard(i, None, async { Ok(Ok::<u32, String>(i)) }).await;
        }
        let entries = snapshot_of(&p).entries.unwrap();
        assert!((500..=1_000).contains(&entries), "{entries} entries for a bound of 1000");
    }

    #[tokio::test(start_paused = true)]
    async fn a_key_run_again_after_expiry_keeps_its_new_result_until_evicted() {
        // One shard of 64: the order results leave in is the order they were stored.
        let p = Idempotency::builder()
            .name(format!("test::{}", IdempotencyKey::new()))
            .ttl(Duration::from_secs(10))
            .max_entries(64)
            .build();
        let runs = AtomicU32::new(0);
        assert_eq!(p.guard("k", None, counted(&runs, 1)).await, Ok(Ok(1)));
        sleep(Duration::from_secs(10)).await;
        // Expired: runs again, and its first result's place in the queue is left empty.
        assert_eq!(p.guard("k", None, counted(&runs, 2)).await, Ok(Ok(2)));
        assert_eq!(p.guard("k", None, counted(&runs, 3)).await, Ok(Ok(2)));
        // 63 more results fill the bound: the empty place leaves, "k"'s new result stays.
        for i in 0..63u32 {
            let _ = p.guard(i, None, async { Ok(Ok::<u32, String>(i)) }).await;
        }
        assert_eq!(snapshot_of(&p).entries, Some(64));
        assert_eq!(p.guard("k", None, counted(&runs, 4)).await, Ok(Ok(2)));
        // One more, and "k" is the oldest: evicted, it runs again.
        let _ = p.guard(63u32, None, async { Ok(Ok::<u32, String>(63)) }).await;
        assert_eq!(p.guard("k", None, counted(&runs, 5)).await, Ok(Ok(5)));
        assert_eq!(runs.load(SeqCst), 3);
        // The newest keys are answered from the store; "k"'s result evicted the oldest, 0, which
        // runs again and evicts the next oldest, 1, and so on.
        assert_eq!(p.guard(62u32, None, async { Ok(Ok::<u32, String>(0)) }).await, Ok(Ok(62)));
        assert_eq!(p.guard(0u32, None, async { Ok(Ok::<u32, String>(100)) }).await, Ok(Ok(100)));
        assert_eq!(p.guard(1u32, None, async { Ok(Ok::<u32, String>(101)) }).await, Ok(Ok(101)));
        assert_eq!(p.guard(2u32, None, async { Ok(Ok::<u32, String>(102)) }).await, Ok(Ok(102)));
        assert_eq!(p.guard(63u32, None, async { Ok(Ok::<u32, String>(0)) }).await, Ok(Ok(63)));
    }

    #[tokio::test(start_paused = true)]
    async fn keys_longer_than_the_limit_are_rejected() {
        let p = policy();
        let longest = "k".repeat(MAX_KEY_LEN);
        let ok = p.guard(&longest, None, async { Ok(Ok::<u32, String>(1)) }).await;
        assert_eq!(ok, Ok(Ok(1)));
        let too_long = "k".repeat(MAX_KEY_LEN + 1);
        let runs = AtomicU32::new(0);
        match p.guard(&too_long, None, counted(&runs, 2)).await {
            Err(Error::Store(f)) => {
                assert_eq!(f.message(), "idempotency key longer than 1024 bytes");
            }
            other => panic!("expected a Store error, got {other:?}"),
        }
        assert_eq!(runs.load(SeqCst), 0);
        // Any bytes are fine otherwise.
        let odd = "ключ\0\u{1F600}:\n*";
        assert_eq!(p.guard(odd, None, async { Ok(Ok::<u32, String>(3)) }).await, Ok(Ok(3)));
        assert_eq!(p.guard(odd, None, async { Ok(Ok::<u32, String>(4)) }).await, Ok(Ok(3)));
    }

    #[tokio::test(start_paused = true)]
    async fn run_is_the_api_without_macros() {
        let p = policy();
        let first: std::io::Result<u32> = p.run("k", async { Ok(5) }).await;
        let again: std::io::Result<u32> = p.run("k", async { Ok(6) }).await;
        assert_eq!((first.unwrap(), again.unwrap()), (5, 5));
        let rejected: std::io::Result<u32> = p.run("k".repeat(2000), async { Ok(6) }).await;
        assert!(rejected.unwrap_err().to_string().contains("longer than 1024 bytes"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_policy_with_a_shared_store_refuses_the_in_process_path() {
        let p = Idempotency::builder()
            .name(format!("test::{}", IdempotencyKey::new()))
            .store("somewhere")
            .build();
        let out = p.guard("k", None, async { Ok(Ok::<u32, String>(1)) }).await;
        let Err(Error::Store(f)) = out else { panic!("{out:?}") };
        assert!(f.message().contains("guard_shared"), "{}", f.message());

        let out = p.guard_shared("k", None, async { Ok(Ok::<u32, String>(1)) }).await;
        let Err(Error::Store(f)) = out else { panic!("{out:?}") };
        assert!(f.message().contains("register_store(\"somewhere\""), "{}", f.message());

        let local = policy();
        let out = local.guard_shared("k", None, async { Ok(Ok::<u32, String>(1)) }).await;
        let Err(Error::Store(f)) = out else { panic!("{out:?}") };
        assert!(f.message().contains(".store(name)"), "{}", f.message());
    }

    fn assert_send<F: Send>(_: &F) {}

    #[test]
    fn guard_futures_are_send() {
        let p = policy();
        // Even with a key type that is not `Send`: the key is formatted before the future exists.
        let key: Rc<str> = Rc::from("k");
        let fut = p.guard(key, Some(1), async { Ok(Ok::<u32, String>(1)) });
        assert_send(&fut);
        let fut = p
            .guard_shared(IdempotencyKey::new(), None, async { Ok(Ok::<Vec<u8>, String>(vec![])) });
        assert_send(&fut);
        // A result that is `Send` but not `Sync` is fine for the shared store.
        let fut =
            p.guard_shared("k", None, async { Ok(Ok::<_, String>(std::cell::Cell::new(1u32))) });
        assert_send(&fut);
        let fut = p.run(Rc::new(7u64), async { Ok::<u32, std::io::Error>(1) });
        assert_send(&fut);
    }

    #[test]
    fn idempotency_keys_roundtrip_through_text_and_serde() {
        let key = IdempotencyKey::new();
        assert_eq!(key.as_uuid().get_version_num(), 7);
        let text = key.to_string();
        assert_eq!(text.len(), 36);
        assert_eq!(text.parse::<IdempotencyKey>().unwrap(), key);
        assert_eq!(format!("{key:?}"), format!("IdempotencyKey({text})"));

        let json = serde_json::to_string(&key).unwrap();
        assert_eq!(json, format!("\"{text}\""));
        assert_eq!(serde_json::from_str::<IdempotencyKey>(&json).unwrap(), key);
        assert!(serde_json::from_str::<IdempotencyKey>("\"not a uuid\"").is_err());
        assert!("nope".parse::<IdempotencyKey>().is_err());

        let uuid = uuid::Uuid::from_u128(0x0190_f5c2_7a3e_7cc1_8b0e_6f1d_2a3b_4c5d);
        let from: IdempotencyKey = uuid.into();
        assert_eq!(*from.as_uuid(), uuid);
        assert_eq!(from.to_string(), "0190f5c2-7a3e-7cc1-8b0e-6f1d2a3b4c5d");

        // Copy, Eq and Hash; later keys sort after earlier ones (version 7 is time-ordered).
        let set: std::collections::HashSet<_> = [key, key, IdempotencyKey::new()].into();
        assert_eq!(set.len(), 2);
        let later = IdempotencyKey::new();
        assert!(later > key || later.as_uuid().get_timestamp() == key.as_uuid().get_timestamp());
    }

    #[tokio::test(start_paused = true)]
    async fn the_registry_reports_the_policy() {
        let p = policy();
        let runs = AtomicU32::new(0);
        let _ = p.guard("a", None, counted(&runs, 1)).await;
        let _ = p.guard("a", None, counted(&runs, 1)).await;
        let snap = snapshot_of(&p);
        assert_eq!(snap.ttl, Duration::from_secs(60));
        assert_eq!(snap.store, "in-process");
        assert_eq!((snap.hits, snap.misses), (1, 1));
        let json = serde_json::to_value(registry::snapshot().get(p.name()).unwrap()).unwrap();
        assert_eq!(json["state"]["kind"], "idempotency");
        assert_eq!(json["state"]["store"], "in-process");
    }

    fn snapshot_of(p: &Idempotency) -> resilient_runtime::idempotency::IdempotencySnapshot {
        match registry::snapshot().get(p.name()).map(|s| s.state.clone()) {
            Some(PolicyState::Idempotency(s)) => s,
            other => panic!("no idempotency snapshot for {}: {other:?}", p.name()),
        }
    }

    /// Awaits spawned tasks in order (no `futures` dependency needed).
    async fn futures_join<T>(
        tasks: impl IntoIterator<Item = tokio::task::JoinHandle<T>>,
    ) -> Vec<T> {
        let handles: Vec<_> = tasks.into_iter().collect();
        let mut out = Vec::with_capacity(handles.len());
        for h in handles {
            out.push(h.await.unwrap());
        }
        out
    }
}
