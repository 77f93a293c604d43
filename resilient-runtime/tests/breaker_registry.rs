//! Breakers in the registry: sharing by name, conflicts and snapshots.

use std::time::Duration;

use resilient_runtime::Error;
use resilient_runtime::breaker::{BreakerSnapshot, CircuitBreaker, CircuitState};
use resilient_runtime::registry::{self, PolicyState};
use tokio::time::advance;

const SEC: Duration = Duration::from_secs(1);

fn snapshot(name: &str) -> BreakerSnapshot {
    match &registry::snapshot().get(name).expect("registered").state {
        PolicyState::CircuitBreaker(s) => s.clone(),
        other => panic!("{other:?}"),
    }
}

async fn fail(b: &CircuitBreaker) {
    let r: Result<(), Error> = b
        .call(async { Err(Error::Timeout(resilient_runtime::error::Elapsed::new("t", SEC))) })
        .await;
    assert!(r.is_err());
}

#[tokio::test(start_paused = true)]
async fn builders_with_one_name_share_one_breaker() {
    let build = || CircuitBreaker::builder().name("registry::shared").threshold(2).build_shared();
    let (a, b) = (build(), build());
    fail(&a).await;
    fail(&b).await;
    assert_eq!(a.state(), CircuitState::Open);
    assert_eq!(b.state(), CircuitState::Open);
    // Listed once, with no conflict: the settings agree.
    let snap = registry::snapshot();
    assert_eq!(snap.policies.iter().filter(|p| p.name == "registry::shared").count(), 1);
    assert!(!snap.conflicts.iter().any(|c| c.name == "registry::shared"));
    // An unnamed-sharing breaker is a separate one.
    let own = CircuitBreaker::builder().name("registry::shared").threshold(2).build();
    assert_eq!(own.state(), CircuitState::Closed);
}

#[tokio::test(start_paused = true)]
async fn a_shared_name_with_other_settings_is_a_conflict_and_gets_the_first() {
    let first = CircuitBreaker::builder().name("registry::conflict").threshold(1).build_shared();
    let second = CircuitBreaker::builder().name("registry::conflict").threshold(9).build_shared();
    assert_eq!(second.settings().threshold, 1);
    fail(&first).await;
    assert_eq!(second.state(), CircuitState::Open);
    let snap = registry::snapshot();
    let conflict =
        snap.conflicts.iter().find(|c| c.name == "registry::conflict").expect("conflict listed");
    assert!(conflict.kept.contains("threshold: 1"), "{conflict:?}");
    assert!(conflict.ignored.contains("threshold: 9"), "{conflict:?}");
}

#[tokio::test(start_paused = true)]
async fn snapshots_follow_the_state() {
    let b = CircuitBreaker::builder()
        .name("registry::snapshot")
        .threshold(2)
        .probes(2)
        .cooldown(10 * SEC)
        .build();
    fail(&b).await;
    let s = snapshot("registry::snapshot");
    assert_eq!((s.state, s.failures, s.calls), (CircuitState::Closed, 1, None));
    assert_eq!((s.open_for, s.retry_after, s.probes_running), (None, None, None));
    assert_eq!(s.settings, *b.settings());

    fail(&b).await;
    advance(3 * SEC).await;
    let _ = b.try_acquire().unwrap_err();
    let _ = b.try_acquire().unwrap_err();
    let s = snapshot("registry::snapshot");
    assert_eq!(s.state, CircuitState::Open);
    assert_eq!(s.open_for, Some(3 * SEC));
    assert_eq!(s.retry_after, Some(7 * SEC));
    assert_eq!((s.rejections, s.opened, s.transitions), (2, 1, 1));

    advance(7 * SEC).await;
    assert_eq!(snapshot("registry::snapshot").retry_after, Some(Duration::ZERO));
    let probe = b.try_acquire().unwrap();
    let s = snapshot("registry::snapshot");
    assert_eq!(s.state, CircuitState::HalfOpen);
    assert_eq!((s.probes_running, s.probes_succeeded), (Some(1), Some(0)));
    assert_eq!(s.transitions, 2);
    probe.success();
    let s = snapshot("registry::snapshot");
    assert_eq!((s.probes_running, s.probes_succeeded), (Some(0), Some(1)));

    b.try_acquire().unwrap().success();
    let s = snapshot("registry::snapshot");
    assert_eq!((s.state, s.failures, s.transitions), (CircuitState::Closed, 0, 3));

    let json =
        serde_json::to_value(registry::snapshot().get("registry::snapshot").unwrap()).unwrap();
    assert_eq!(json["state"]["kind"], "circuit_breaker");
    assert_eq!(json["state"]["state"], "closed");
    assert_eq!(json["state"]["settings"]["threshold"], 2);
    assert_eq!(json["state"]["opened"], 1);
}

#[tokio::test(start_paused = true)]
async fn rate_mode_snapshots_count_calls() {
    let b = CircuitBreaker::builder().name("registry::rate").failure_rate(0.5, 10).build();
    for _ in 0..3 {
        b.try_acquire().unwrap().success();
    }
    fail(&b).await;
    let s = snapshot("registry::rate");
    assert_eq!((s.failures, s.calls), (1, Some(4)));
}

#[test]
fn a_dropped_breaker_leaves_the_registry() {
    let b = CircuitBreaker::builder().name("registry::dropped").build();
    assert!(registry::snapshot().get("registry::dropped").is_some());
    drop(b);
    assert!(registry::snapshot().get("registry::dropped").is_none());
}
