//! `CircuitBreaker::guard`, the layer the attribute pipeline uses.

use std::time::Duration;

use resilient_runtime::breaker::{CircuitBreaker, CircuitState};
use resilient_runtime::error::{CircuitOpen, Elapsed, KeyConflict};
use resilient_runtime::{Error, Outcome};

const SEC: Duration = Duration::from_secs(1);

fn breaker(name: &'static str) -> CircuitBreaker {
    CircuitBreaker::builder().name(name).threshold(2).cooldown(SEC).build()
}

#[tokio::test(start_paused = true)]
async fn an_inner_timeout_counts_as_a_failure() {
    let b = breaker("guard::timeout");
    let timeout = Error::Timeout(Elapsed::new("guard::inner", SEC));
    for _ in 0..2 {
        let out: Outcome<(), &str> = b.guard(async { Err(timeout.clone()) }, |_| true).await;
        // Passed up unchanged.
        assert_eq!(out, Err(timeout.clone()));
    }
    assert_eq!(b.state(), CircuitState::Open);
}

#[tokio::test(start_paused = true)]
async fn other_inner_rejections_pass_through_uncounted() {
    let b = breaker("guard::rejections");
    let inner = [
        Error::CircuitOpen(CircuitOpen::new("guard::other", SEC)),
        Error::IdempotencyInFlight(KeyConflict::new("guard::idem", "k")),
    ];
    for _ in 0..5 {
        for e in &inner {
            let out: Outcome<(), &str> = b.guard(async { Err(e.clone()) }, |_| true).await;
            assert_eq!(out, Err(e.clone()));
        }
    }
    assert_eq!(b.state(), CircuitState::Closed);
}

#[tokio::test(start_paused = true)]
async fn errors_count_only_when_asked_and_values_pass_unchanged() {
    let b = breaker("guard::when");
    let out: Outcome<u8, &str> = b.guard(async { Ok(Ok(3)) }, |_| true).await;
    assert_eq!(out, Ok(Ok(3)));
    for _ in 0..5 {
        let out: Outcome<u8, &str> = b.guard(async { Ok(Err("benign")) }, |e| *e == "bad").await;
        assert_eq!(out, Ok(Err("benign")));
    }
    assert_eq!(b.state(), CircuitState::Closed);
    for _ in 0..2 {
        let out: Outcome<u8, &str> = b.guard(async { Ok(Err("bad")) }, |e| *e == "bad").await;
        assert_eq!(out, Ok(Err("bad")));
    }
    assert_eq!(b.state(), CircuitState::Open);
}

#[tokio::test(start_paused = true)]
async fn a_rejection_never_polls_the_inner_future() {
    let b = breaker("guard::rejected");
    for _ in 0..2 {
        let _: Outcome<(), ()> = b.guard(async { Ok(Err(())) }, |_| true).await;
    }
    let out: Outcome<(), ()> = b.guard(async { panic!("polled while open") }, |_: &()| true).await;
    let Err(Error::CircuitOpen(open)) = out else { panic!("{out:?}") };
    assert_eq!(open.retry_after(), SEC);
    assert_eq!(Error::CircuitOpen(open).policy(), "guard::rejected");
}

#[tokio::test(start_paused = true)]
async fn the_permit_is_taken_on_first_poll_not_on_creation() {
    let b = breaker("guard::lazy");
    let fut = b.guard(async { Ok::<Result<(), ()>, Error>(Ok(())) }, |_| true);
    for _ in 0..2 {
        let _: Outcome<(), ()> = b.guard(async { Ok(Err(())) }, |_| true).await;
    }
    // Created while closed, first polled while open: rejected.
    assert!(fut.await.unwrap_err().is_circuit_open());
}

fn assert_send<T: Send>(t: T) -> T {
    t
}

#[tokio::test]
async fn the_guard_future_is_send() {
    let b = breaker("guard::send");
    let out =
        assert_send(b.guard(async { Ok::<Result<u8, String>, Error>(Ok(1)) }, |_| true)).await;
    assert_eq!(out, Ok(Ok(1)));
}
