use std::time::Duration;

use super::*;
use crate::error::StoreFailure;
use crate::registry::{Inspect, PolicyState};

fn failing() -> Result<(), Error> {
    Err(Error::Store(StoreFailure::new("dep", "down")))
}

fn breaker(name: &'static str) -> AdaptiveBreaker {
    AdaptiveBreaker::builder().name(name).window(Duration::from_secs(1)).min_rps(0.0).build()
}

async fn fail(b: &AdaptiveBreaker, n: usize) -> usize {
    let mut rejected = 0;
    for _ in 0..n {
        if let Err(e) = b.call(async { failing() }).await {
            rejected += usize::from(e.is_circuit_open());
        }
    }
    rejected
}

#[tokio::test(start_paused = true)]
async fn successes_keep_the_gate_at_zero_and_are_counted() {
    let b = breaker("adaptive::ok");
    for _ in 0..100 {
        b.call(async { Ok::<_, Error>(()) }).await.unwrap();
    }
    assert_eq!(b.rejection_probability(), 0.0);
    let AdaptiveSnapshot { requests, accepts, .. } = snapshot(&b);
    assert_eq!((requests, accepts), (100, 100));
}

fn snapshot(b: &AdaptiveBreaker) -> AdaptiveSnapshot {
    match b.inner.snapshot().state {
        PolicyState::AdaptiveBreaker(s) => s,
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn failures_raise_the_probability_to_its_cap_never_to_one() {
    crate::rng::seed(1);
    let b = breaker("adaptive::down");
    for _ in 0..20 {
        b.call(async { Ok::<_, Error>(()) }).await.unwrap();
    }
    // 20 accepts: with k = 2 rejection starts past 40 requests.
    assert_eq!(fail(&b, 20).await, 0, "half the calls failing: nothing rejected yet");
    assert_eq!(b.rejection_probability(), 0.0);
    let rejected = fail(&b, 400).await;
    let p = b.rejection_probability();
    assert!(p > 0.5 && p <= 0.9, "{p}");
    assert!(rejected > 100 && rejected < 400, "{rejected} of 400 rejected: some always pass");
    fail(&b, 5000).await;
    let p = b.rejection_probability();
    assert!((p - 0.9).abs() < 1e-6, "at the cap: {p}");
    assert!(b.is_throttling());
}

#[tokio::test(start_paused = true)]
async fn recovery_follows_the_dependency_without_a_cooldown() {
    crate::rng::seed(2);
    let b = breaker("adaptive::back");
    fail(&b, 200).await;
    assert!((b.rejection_probability() - 0.9).abs() < 1e-6);
    // The dependency is back: every call let through succeeds; accepts soon outweigh the
    // failures, and those leave the window within a second.
    let mut rejected = 0;
    for _ in 0..200 {
        tokio::time::advance(Duration::from_millis(5)).await;
        if b.call(async { Ok::<_, Error>(()) }).await.is_err() {
            rejected += 1;
        }
    }
    assert_eq!(b.rejection_probability(), 0.0);
    assert!(rejected < 200, "{rejected}");
    assert!(snapshot(&b).rejections as usize >= rejected);
}

#[tokio::test(start_paused = true)]
async fn below_the_minimum_rate_nothing_is_rejected() {
    let b = AdaptiveBreaker::builder()
        .name("adaptive::quiet")
        .window(Duration::from_secs(10))
        .min_rps(1.0)
        .build();
    assert_eq!(fail(&b, 9).await, 0);
    assert_eq!(b.rejection_probability(), 0.0, "9 calls in 10 s: below 1 a second");
    fail(&b, 2).await;
    assert!(b.rejection_probability() > 0.0);
}

#[tokio::test(start_paused = true)]
async fn configuration_forces_and_rejects_the_other_modes_keys() {
    let b = breaker("adaptive::tuned");
    crate::config::apply("[\"adaptive::tuned\".circuit_breaker]\nforce = \"open\"").unwrap();
    assert_eq!(b.rejection_probability(), 1.0);
    assert!(b.call(async { Ok::<_, Error>(()) }).await.unwrap_err().is_circuit_open());
    crate::config::apply("[\"adaptive::tuned\".circuit_breaker]\nforce = \"none\"\nk = 1.5")
        .unwrap();
    assert_eq!(b.settings().k, 1.5);
    assert_eq!(b.rejection_probability(), 0.0);
    let err = crate::config::apply("[\"adaptive::tuned\".circuit_breaker]\ncooldown = \"1s\"")
        .unwrap_err()
        .to_string();
    assert!(err.contains("`cooldown` does not apply") && err.contains("adaptive"), "{err}");
    let err = crate::config::apply("[\"adaptive::tuned\".circuit_breaker]\nmode = \"binary\"")
        .unwrap_err()
        .to_string();
    assert!(err.contains("fixed when it is built"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn the_registry_shows_mode_probability_requests_and_accepts() {
    let b = breaker("adaptive::listed");
    for _ in 0..3 {
        b.call(async { Ok::<_, Error>(()) }).await.unwrap();
    }
    fail(&b, 1).await;
    let snap = crate::registry::snapshot();
    let s = snap.adaptive_breaker("adaptive::listed").expect("listed");
    assert_eq!((s.mode, s.requests, s.accepts), ("adaptive", 4, 3));
    let policy = snap.policy("adaptive::listed", "circuit_breaker").unwrap();
    assert!(policy.setting("k").is_some() && policy.setting("threshold").is_none());
    let json = serde_json::to_string(&policy.state).unwrap();
    assert!(
        json.contains("\"kind\":\"circuit_breaker\"") && json.contains("\"mode\":\"adaptive\"")
    );
}
