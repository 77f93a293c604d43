//! The runtime bulkhead on its own: async waits on a paused clock, blocking waits on threads.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use super::{Bulkhead, Limit};
use crate::Error;

const MS: Duration = Duration::from_millis(1);

#[test]
fn blocking_callers_wait_fifo_and_give_up_after_wait() {
    let b =
        Bulkhead::builder().name("t.blocking").max(1).queue(2).wait(Duration::from_secs(5)).build();
    let held = b.acquire_blocking().unwrap();
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    std::thread::scope(|s| {
        let mut waiters = Vec::new();
        for id in 0..2 {
            let (b, order) = (&b, order.clone());
            waiters.push(s.spawn(move || {
                let place = b.acquire_blocking().unwrap();
                order.lock().unwrap().push(id);
                std::thread::sleep(5 * MS);
                place.done();
            }));
            // The first joins the queue before the second.
            while b.queued() < id + 1 {
                std::thread::yield_now();
            }
        }
        // The queue is full: rejected at once.
        let full = b.acquire_blocking().unwrap_err();
        assert!(full.is_bulkhead_full());
        drop(held);
        waiters.into_iter().for_each(|w| w.join().unwrap());
    });
    assert_eq!(*order.lock().unwrap(), [0, 1]);
    assert_eq!((b.in_flight(), b.queued()), (0, 0));

    let short = Bulkhead::builder().name("t.short").max(1).queue(1).wait(20 * MS).build();
    let held = short.acquire_blocking().unwrap();
    let started = std::time::Instant::now();
    let Err(Error::BulkheadFull(full)) = short.acquire_blocking() else { panic!("not full") };
    assert!(started.elapsed() >= 20 * MS);
    assert!(full.waited() >= 20 * MS);
    assert_eq!(short.queued(), 0, "the waiter left the queue");
    drop(held);
    assert_eq!(short.in_flight(), 0);
}

#[test]
fn blocking_and_async_waiters_share_one_queue() {
    let b =
        Bulkhead::builder().name("t.mixed").max(1).queue(1).wait(Duration::from_secs(5)).build();
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let held = b.try_acquire().unwrap();
    std::thread::scope(|s| {
        let waiter = s.spawn(|| b.acquire_blocking().map(|p| p.done()));
        while b.queued() < 1 {
            std::thread::yield_now();
        }
        // An async caller finds the queue full.
        let r = rt.block_on(b.acquire()).map(|p| p.done());
        assert!(r.unwrap_err().is_bulkhead_full());
        drop(held);
        waiter.join().unwrap().unwrap();
    });
}

#[tokio::test(start_paused = true)]
async fn an_adaptive_limit_grows_under_load_when_latency_stays_flat() {
    let b: &'static Bulkhead =
        Box::leak(Box::new(Bulkhead::builder().name("t.adaptive").adaptive().initial(4).build()));
    assert_eq!(b.settings().max, Limit::Adaptive);
    assert_eq!(b.limit(), 4);
    let peak = Arc::new(AtomicU32::new(0));
    // A dependency that answers in 10 ms whatever the load, called as hard as the limit allows:
    // slow start doubles the limit up to its ceiling.
    for _ in 0..300 {
        let mut calls = Vec::new();
        while let Ok(place) = b.try_acquire() {
            peak.fetch_max(b.in_flight(), SeqCst);
            calls.push(tokio::spawn(async move {
                tokio::time::sleep(10 * MS).await;
                place.done();
            }));
        }
        for c in calls {
            c.await.unwrap();
        }
    }
    assert_eq!(b.limit(), 1000, "grown to `limit`");
    assert_eq!(peak.load(SeqCst), 1000);
    let snap = b.snapshot();
    let adaptive = snap.adaptive.unwrap();
    assert_eq!(adaptive.min_rtt, Some(10 * MS));
    assert!(adaptive.slow_start, "latency never rose");
    assert_eq!(snap.in_flight, 0);
}
