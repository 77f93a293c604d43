//! Half-open probes under concurrency, cancellation and panics.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::time::Duration;

use resilient_runtime::Error;
use resilient_runtime::breaker::{CircuitBreaker, CircuitState};
use tokio::task::JoinSet;
use tokio::time::{advance, sleep};

const SEC: Duration = Duration::from_secs(1);

/// A breaker opened by one failure, its cooldown already over: the next calls are probes.
async fn half_open(name: &'static str, probes: u32) -> CircuitBreaker {
    let b = CircuitBreaker::builder().name(name).threshold(1).probes(probes).cooldown(SEC).build();
    let r: Result<(), Error> = b
        .call(async { Err(Error::Timeout(resilient_runtime::error::Elapsed::new("t", SEC))) })
        .await;
    assert!(r.unwrap_err().is_timeout());
    assert_eq!(b.state(), CircuitState::Open);
    advance(SEC).await;
    assert_eq!(b.state(), CircuitState::HalfOpen);
    b
}

/// Every task's output, in completion order (`JoinSet::join_all` needs tokio 1.40; the declared
/// floor is 1.28).
async fn join_all<T: 'static>(mut calls: JoinSet<T>) -> Vec<T> {
    let mut results = Vec::new();
    while let Some(result) = calls.join_next().await {
        results.push(result.unwrap());
    }
    results
}

fn retry_after(e: &Error) -> Duration {
    match e {
        Error::CircuitOpen(open) => open.retry_after(),
        other => panic!("expected CircuitOpen, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn only_the_probe_allowance_runs_while_half_open() {
    let b = half_open("probes::concurrent", 2).await;
    let ran = Arc::new(AtomicU32::new(0));
    let mut calls = JoinSet::new();
    for i in 0..10u32 {
        let (b, ran) = (b.clone(), ran.clone());
        calls.spawn(async move {
            b.call(async {
                ran.fetch_add(1, Relaxed);
                // Every probe is still running while the others arrive.
                sleep(SEC).await;
                Ok::<u32, Error>(i)
            })
            .await
        });
    }
    let results = join_all(calls).await;
    let (ok, rejected): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    assert_eq!(ok.len(), 2, "exactly `probes` calls run");
    assert_eq!(rejected.len(), 8);
    for r in &rejected {
        assert_eq!(retry_after(r.as_ref().unwrap_err()), Duration::ZERO);
    }
    assert_eq!(ran.load(Relaxed), 2);
    assert_eq!(b.state(), CircuitState::Closed);
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_probe_frees_its_slot() {
    let b = half_open("probes::cancelled", 1).await;
    let slow = b.call(async {
        sleep(60 * SEC).await;
        Ok::<(), Error>(())
    });
    // The caller gives up on the probe: its future is dropped mid-flight.
    assert!(tokio::time::timeout(SEC, slow).await.is_err());
    assert_eq!(b.state(), CircuitState::HalfOpen);
    // The slot is free again: the next call is the probe, and closes the circuit.
    let r: Result<u8, Error> = b.call(async { Ok(1) }).await;
    assert_eq!(r, Ok(1));
    assert_eq!(b.state(), CircuitState::Closed);
}

#[tokio::test(start_paused = true)]
async fn a_probe_lost_in_select_frees_its_slot() {
    let b = half_open("probes::select", 1).await;
    let hung = std::future::pending::<Result<(), Error>>();
    tokio::select! {
        _ = b.call(hung) => unreachable!(),
        _ = sleep(SEC) => {}
    }
    let permit = b.try_acquire().expect("the slot was released");
    assert!(permit.is_probe());
    // While it is held, the allowance is used up.
    assert_eq!(retry_after(&b.try_acquire().unwrap_err()), Duration::ZERO);
    permit.failure();
    assert_eq!(b.state(), CircuitState::Open);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_probe_frees_its_slot() {
    let b = half_open("probes::panic", 1).await;
    let task = {
        let b = b.clone();
        tokio::spawn(async move {
            b.call(async {
                sleep(SEC).await;
                panic!("probe blew up");
                #[allow(unreachable_code)]
                Ok::<(), Error>(())
            })
            .await
        })
    };
    let err = task.await.unwrap_err();
    assert!(err.is_panic());
    assert_eq!(b.state(), CircuitState::HalfOpen);
    let r: Result<(), Error> = b.call(async { Ok(()) }).await;
    assert_eq!(r, Ok(()));
    assert_eq!(b.state(), CircuitState::Closed);
}

#[tokio::test(start_paused = true)]
async fn dropping_a_permit_records_nothing() {
    let b = half_open("probes::dropped_permit", 2).await;
    let first = b.try_acquire().unwrap();
    let second = b.try_acquire().unwrap();
    assert!(b.try_acquire().is_err());
    drop(first);
    second.release();
    // Neither counted as a success: both probes are still to come.
    b.try_acquire().unwrap().success();
    assert_eq!(b.state(), CircuitState::HalfOpen);
    b.try_acquire().unwrap().success();
    assert_eq!(b.state(), CircuitState::Closed);
    // A closed permit dropped is not a failure either.
    for _ in 0..10 {
        drop(b.try_acquire().unwrap());
    }
    assert_eq!(b.state(), CircuitState::Closed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_failures_open_the_circuit_once() {
    let b = CircuitBreaker::builder().name("probes::threads").threshold(5).build();
    let mut calls = JoinSet::new();
    for _ in 0..64 {
        let b = b.clone();
        calls.spawn(async move {
            b.call(async {
                Err::<(), _>(Error::Timeout(resilient_runtime::error::Elapsed::new("t", SEC)))
            })
            .await
        });
    }
    let results = join_all(calls).await;
    let ran = results.iter().filter(|r| matches!(r, Err(e) if e.is_timeout())).count();
    assert!(ran >= 5, "{ran}");
    assert_eq!(b.state(), CircuitState::Open);
    let snap = resilient_runtime::registry::snapshot();
    let resilient_runtime::registry::PolicyState::CircuitBreaker(s) =
        &snap.get("probes::threads").unwrap().state
    else {
        panic!()
    };
    assert_eq!((s.opened, s.transitions), (1, 1));
    assert_eq!(s.rejections as usize, 64 - ran);
}
