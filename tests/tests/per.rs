//! `per = expr`: one policy instance per distinct value, bounded, listed once in the registry.

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use resilient::partition::{PartitionsSnapshot, text};
use resilient::registry::PolicyState;
use resilient::{circuit_breaker, retry, timeout};
use resilient_tests::AppError;
use tokio::time::{advance, sleep};

fn partitions(name: &str, kind: &str) -> PartitionsSnapshot {
    resilient::registry::snapshot()
        .partitions(name, kind)
        .unwrap_or_else(|| panic!("{name} ({kind}) not listed once"))
        .clone()
}

fn open(r: &Result<(), AppError>) -> bool {
    matches!(r, Err(AppError::Rejected(e)) if e.is_circuit_open())
}

/// A client of one server, as in mini-redis: the breaker is per server address.
struct Client {
    addr: String,
}

static DOWN: Mutex<Vec<String>> = Mutex::new(Vec::new());

impl Client {
    #[circuit_breaker(threshold = 2, cooldown = "10s", per = self.addr, name = "per::client")]
    async fn get(&mut self, key: &str) -> Result<(), AppError> {
        let _ = key;
        if DOWN.lock().unwrap().contains(&self.addr) { Err(AppError::Transient) } else { Ok(()) }
    }
}

#[tokio::test(start_paused = true)]
async fn a_dead_server_does_not_reject_calls_to_a_healthy_one() {
    DOWN.lock().unwrap().push("10.0.0.1:6379".into());
    let mut dead = Client { addr: "10.0.0.1:6379".into() };
    for _ in 0..2 {
        assert_eq!(dead.get("k").await, Err(AppError::Transient));
    }
    assert!(open(&dead.get("k").await), "the dead server's breaker is open");

    // A fresh client of a fresh, healthy server: its own breaker, closed.
    let mut healthy = Client { addr: "10.0.0.2:6379".into() };
    for _ in 0..10 {
        assert_eq!(healthy.get("k").await, Ok(()));
    }
    assert!(open(&dead.get("k").await), "still shed");

    let snap = partitions("per::client", "circuit_breaker");
    assert_eq!(snap.live, 2);
    assert_eq!(snap.max_partitions, 1024);
    let mut states: Vec<&str> = snap
        .partitions
        .iter()
        .map(|p| match &p.state {
            PolicyState::CircuitBreaker(b) => {
                if b.state == resilient::runtime::breaker::CircuitState::Open {
                    "open"
                } else {
                    "closed"
                }
            }
            other => panic!("a breaker's partition is a breaker, not {other:?}"),
        })
        .collect();
    states.sort();
    assert_eq!(states, ["closed", "open"]);
    // The registry lists the policy once, not once per partition.
    let mut keys: Vec<_> = snap.partitions.iter().map(|p| p.key.clone()).collect();
    keys.sort();
    let shown = |addr: &str| Some(format!("{addr:?}"));
    assert_eq!(keys, [shown("10.0.0.1:6379"), shown("10.0.0.2:6379")], "keys as their Debug text");
    let listed = resilient::registry::snapshot().all("per::client").count();
    assert_eq!(listed, 1);

    // After the cooldown the dead server's breaker probes again, on its own.
    DOWN.lock().unwrap().clear();
    advance(Duration::from_secs(10)).await;
    assert_eq!(dead.get("k").await, Ok(()));
}

mod bound {
    use super::*;

    static RUNS: AtomicU32 = AtomicU32::new(0);

    #[circuit_breaker(threshold = 1, cooldown = "10s", per = host, max_partitions = 2, name = "per::bound")]
    async fn call(host: u32, fail: bool) -> Result<(), AppError> {
        RUNS.fetch_add(1, SeqCst);
        if fail { Err(AppError::Transient) } else { Ok(()) }
    }

    #[tokio::test(start_paused = true)]
    async fn the_least_recently_used_partition_goes_but_an_open_breaker_stays_its_cooldown() {
        // Host 1 opens its breaker.
        assert_eq!(call(1, true).await, Err(AppError::Transient));
        assert!(open(&call(1, false).await));
        assert_eq!(call(2, false).await, Ok(()));
        assert_eq!(partitions("per::bound", "circuit_breaker").live, 2);

        // Host 3 needs room: host 1 is older, but open within its cooldown: host 2 goes.
        assert_eq!(call(3, false).await, Ok(()));
        let snap = partitions("per::bound", "circuit_breaker");
        assert_eq!((snap.live, snap.evicted), (2, 1));
        assert!(open(&call(1, false).await), "host 1 is still shed");

        // Host 2 again: a fresh partition; 3 (closed) goes, 1 (open) stays.
        assert_eq!(call(2, false).await, Ok(()));
        assert!(open(&call(1, false).await));

        // Past the cooldown the open breaker may go like any other.
        advance(Duration::from_secs(10)).await;
        assert_eq!(call(2, false).await, Ok(()));
        assert_eq!(call(4, false).await, Ok(()));
        assert_eq!(call(5, false).await, Ok(()));
        let runs = RUNS.load(SeqCst);
        assert_eq!(call(1, false).await, Ok(()), "host 1 was dropped: a fresh, closed breaker");
        assert_eq!(RUNS.load(SeqCst), runs + 1);
        let snap = partitions("per::bound", "circuit_breaker");
        assert_eq!(snap.live, 2);
        assert!(snap.partitions.len() <= 2);
    }
}

mod text_keys {
    use super::*;

    #[circuit_breaker(threshold = 1, per = text(host), name = "per::text")]
    async fn call(host: &str, fail: bool) -> Result<(), AppError> {
        if fail { Err(AppError::Transient) } else { Ok(()) }
    }

    #[tokio::test(start_paused = true)]
    async fn borrowed_values_key_by_their_text_and_the_registry_shows_it() {
        assert_eq!(call("a.example", true).await, Err(AppError::Transient));
        let owned = String::from("a.example");
        assert!(open(&call(&owned, false).await), "the same text, the same partition");
        assert_eq!(call("b.example", false).await, Ok(()));
        let snap = partitions("per::text", "circuit_breaker");
        let keys: HashSet<Option<&str>> =
            snap.partitions.iter().map(|p| p.key.as_deref()).collect();
        assert_eq!(keys, HashSet::from([Some("a.example"), Some("b.example")]));
    }
}

mod borrowed {
    use super::*;

    #[circuit_breaker(threshold = 1, per = host, name = "per::borrowed")]
    async fn call(host: &str, fail: bool) -> Result<(), AppError> {
        if fail { Err(AppError::Transient) } else { Ok(()) }
    }

    #[tokio::test(start_paused = true)]
    async fn a_borrowed_str_keys_by_its_text() {
        assert_eq!(call("a", true).await, Err(AppError::Transient));
        assert!(open(&call(&String::from("a"), false).await));
        assert_eq!(call("b", false).await, Ok(()));
        let snap = partitions("per::borrowed", "circuit_breaker");
        assert_eq!(snap.partitions[0].key.as_deref(), Some("b"));
    }
}

mod shared_name {
    use super::*;

    #[circuit_breaker(threshold = 1, per = host, name = "per::shared")]
    async fn read(host: u16) -> Result<(), AppError> {
        let _ = host;
        Err(AppError::Transient)
    }

    #[circuit_breaker(threshold = 1, per = host, name = "per::shared")]
    async fn write(host: u16) -> Result<(), AppError> {
        let _ = host;
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn functions_naming_one_breaker_share_its_partitions() {
        assert_eq!(read(1).await, Err(AppError::Transient));
        assert!(open(&write(1).await), "host 1's breaker is shared by read and write");
        assert_eq!(write(2).await, Ok(()));
        assert_eq!(partitions("per::shared", "circuit_breaker").live, 2);
    }
}

mod impl_block {
    use super::*;

    struct Replica {
        addr: &'static str,
        up: bool,
    }

    /// On a whole impl block: each method gets its own breaker per address.
    #[circuit_breaker(threshold = 1, cooldown = "10s", per = self.addr)]
    impl Replica {
        async fn read(&self) -> Result<(), AppError> {
            if self.up { Ok(()) } else { Err(AppError::Transient) }
        }

        async fn write(&self) -> Result<(), AppError> {
            if self.up { Ok(()) } else { Err(AppError::Transient) }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_impl_blocks_per_applies_to_each_method() {
        let down = Replica { addr: "r1", up: false };
        let up = Replica { addr: "r2", up: true };
        assert_eq!(down.read().await, Err(AppError::Transient));
        assert!(open(&down.read().await));
        assert_eq!(up.read().await, Ok(()), "another address, another breaker");
        assert_eq!(down.write().await, Err(AppError::Transient), "another method, its own policy");
    }
}

mod configured {
    use super::*;

    #[circuit_breaker(threshold = 5, cooldown = "10s", per = host, name = "per::configured")]
    async fn call(host: u32) -> Result<(), AppError> {
        let _ = host;
        Err(AppError::Transient)
    }

    #[tokio::test(start_paused = true)]
    async fn configuration_reaches_every_partition_and_later_ones() {
        let _ = call(1).await; // partition 1 exists before the configuration
        resilient::config::apply(
            r#"
            ["per::configured".circuit_breaker]
            threshold = 2
            "#,
        )
        .unwrap();
        assert_eq!(call(1).await, Err(AppError::Transient)); // its second failure: opens
        assert!(open(&call(1).await), "the existing partition took threshold = 2");
        for _ in 0..2 {
            assert_eq!(call(2).await, Err(AppError::Transient));
        }
        assert!(open(&call(2).await), "a partition created later starts with it");
        let snap = resilient::registry::snapshot();
        let policy = snap.policy("per::configured", "circuit_breaker").expect("listed once");
        assert_eq!(policy.setting("threshold").map(|s| s.value.as_str()), Some("2"));

        // The key and the bound are fixed in the source.
        for key in ["per = 1", "max_partitions = 10"] {
            let text = format!("[\"per::configured\".circuit_breaker]\n{key}\n");
            let err = resilient::config::apply(&text).unwrap_err().to_string();
            assert!(err.contains("cannot be set from configuration"), "{err}");
        }
    }
}

mod adaptive {
    use super::*;

    #[timeout("p50*2", initial = "1s", min = "1ms", warmup = 5, per = host, name = "per::timeout")]
    async fn call(host: u8, latency: Duration) -> Result<(), AppError> {
        sleep(latency).await;
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn each_value_learns_its_own_latency() {
        for _ in 0..20 {
            call(1, Duration::from_millis(10)).await.unwrap();
            call(2, Duration::from_millis(300)).await.unwrap();
        }
        // Host 1's limit is about 20 ms: a 100 ms call times out there, not on host 2.
        let r = call(1, Duration::from_millis(100)).await;
        assert!(matches!(&r, Err(AppError::Rejected(e)) if e.is_timeout()), "{r:?}");
        assert_eq!(call(2, Duration::from_millis(100)).await, Ok(()));

        let snap = partitions("per::timeout", "timeout");
        assert_eq!(snap.live, 2);
        let mut limits: Vec<Duration> = snap
            .partitions
            .iter()
            .map(|p| match &p.state {
                PolicyState::Timeout(t) => t.current,
                other => panic!("{other:?}"),
            })
            .collect();
        limits.sort();
        assert!(limits[0] < Duration::from_millis(50), "{limits:?}");
        assert!(limits[1] >= Duration::from_millis(500), "{limits:?}");
    }
}

mod budget {
    use super::*;

    static RUNS: AtomicU32 = AtomicU32::new(0);

    #[retry(max = 3, base = "1ms", jitter = "none", budget = "10%", per = tenant, name = "per::retry")]
    async fn call(tenant: &'static str) -> Result<(), AppError> {
        RUNS.fetch_add(1, SeqCst);
        Err(AppError::Transient)
    }

    fn exhausted(p: &resilient::partition::PartitionSnapshot) -> u64 {
        match &p.state {
            PolicyState::Retry(r) => r.budget.as_ref().expect("budget on").exhausted,
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn one_tenants_failures_do_not_spend_anothers_budget() {
        // Tenant "a" fails every call, within one (virtual) second: its budget runs out.
        for _ in 0..20 {
            let _ = call("a").await;
        }
        let snap = partitions("per::retry", "retry");
        assert_eq!(snap.live, 1);
        assert!(exhausted(&snap.partitions[0]) > 0, "a's budget is spent");

        // Tenant "b" has a budget of its own: its failing call is retried in full.
        let before = RUNS.load(SeqCst);
        let _ = call("b").await;
        assert_eq!(RUNS.load(SeqCst) - before, 3, "b retries on its own budget");
        let snap = partitions("per::retry", "retry");
        assert_eq!(snap.live, 2);
        assert_eq!(exhausted(&snap.partitions[0]), 0, "b, the most recent, never ran out");
    }
}
