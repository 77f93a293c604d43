//! Fixed timeouts, deadlines and the pipeline layer, on tokio's paused clock.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::time::Duration;

use resilient_runtime::error::CircuitOpen;
use resilient_runtime::timeout::Timeout;
use resilient_runtime::{Error, Outcome, deadline};
use tokio::time::{Instant, advance, sleep};

const MS: Duration = Duration::from_millis(1);

/// Notes when the body's future is dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Polls `fut` once.
async fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(std::pin::Pin::new(&mut *fut).poll(cx))).await
}

#[tokio::test(start_paused = true)]
async fn expires_at_the_exact_instant_and_drops_the_body_then() {
    let t = Timeout::fixed(100 * MS).name("fixed::exact").build();
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = DropFlag(dropped.clone());
    let mut call = pin!(t.run(async move {
        let _flag = flag;
        sleep(Duration::from_secs(10)).await;
        Ok::<_, Error>(())
    }));
    let start = Instant::now();
    assert!(poll_once(&mut call).await.is_pending());
    advance(99 * MS).await;
    assert!(poll_once(&mut call).await.is_pending());
    assert!(!dropped.load(Ordering::SeqCst));
    advance(MS).await;
    let Poll::Ready(Err(err)) = poll_once(&mut call).await else {
        panic!("still running at the deadline");
    };
    // Dropped at expiry, while the timeout future itself is still alive.
    assert!(dropped.load(Ordering::SeqCst));
    assert_eq!(Instant::now() - start, 100 * MS);
    assert!(err.is_timeout());
    assert_eq!(err.policy(), "fixed::exact");
    let Error::Timeout(elapsed) = err else { unreachable!() };
    assert_eq!(elapsed.after(), 100 * MS);
    assert_eq!(t.snapshot().timeouts, 1);
}

#[tokio::test(start_paused = true)]
async fn auto_advanced_clock_expires_exactly_too() {
    let t = Timeout::fixed(250 * MS).build();
    let start = Instant::now();
    let out: std::io::Result<()> = t
        .run(async {
            sleep(Duration::from_secs(60)).await;
            Ok(())
        })
        .await;
    assert_eq!(Instant::now() - start, 250 * MS);
    assert_eq!(out.unwrap_err().kind(), std::io::ErrorKind::TimedOut);
}

#[tokio::test(start_paused = true)]
async fn ready_and_in_time_results_pass_through() {
    let t = Timeout::fixed(100 * MS).build();
    assert_eq!(t.run(async { Ok::<_, Error>(7) }).await, Ok(7));
    let slowish = t.run(async {
        sleep(99 * MS).await;
        Ok::<_, Error>("made it")
    });
    assert_eq!(slowish.await, Ok("made it"));
    let failed: Result<(), std::io::Error> =
        t.run(async { Err(std::io::Error::other("boom")) }).await;
    assert_eq!(failed.unwrap_err().to_string(), "boom");
    assert_eq!(t.snapshot().timeouts, 0);
}

#[tokio::test(start_paused = true)]
async fn the_clock_starts_at_the_first_poll() {
    let t = Timeout::fixed(100 * MS).build();
    let call = t.run(async {
        sleep(60 * MS).await;
        Ok::<_, Error>(())
    });
    sleep(Duration::from_secs(1)).await;
    assert_eq!(call.await, Ok(()));
}

#[tokio::test(start_paused = true)]
async fn an_outer_deadline_binds_an_inner_timeout() {
    let outer = Timeout::fixed(100 * MS).name("outer").build();
    let inner = Timeout::fixed(Duration::from_secs(5)).name("inner").build();
    let start = Instant::now();
    let out: Result<(), Error> = outer
        .run(async {
            assert_eq!(deadline::remaining(), Some(100 * MS));
            sleep(30 * MS).await;
            inner
                .run(async {
                    // The inner call sees the outer deadline, not its own 5 s.
                    assert_eq!(deadline::remaining(), Some(70 * MS));
                    sleep(Duration::from_secs(10)).await;
                    Ok(())
                })
                .await
        })
        .await;
    assert_eq!(Instant::now() - start, 100 * MS);
    let Err(Error::Timeout(elapsed)) = &out else { panic!("{out:?}") };
    // The inner timeout fires first (its body is polled inside the outer one) and reports the
    // limit that applied to it: what was left of the outer deadline.
    assert_eq!(elapsed.after(), 70 * MS);
    assert_eq!(out.unwrap_err().policy(), "inner");
    assert_eq!(deadline::remaining(), None);
}

#[tokio::test(start_paused = true)]
async fn a_nested_call_started_at_once_reports_the_outer_limit() {
    let outer = Timeout::fixed(100 * MS).build();
    let inner = Timeout::fixed(Duration::from_secs(5)).name("inner5s").build();
    let start = Instant::now();
    let out: Result<(), Error> = outer
        .run(inner.run(async {
            assert_eq!(deadline::remaining(), Some(100 * MS));
            sleep(Duration::from_secs(10)).await;
            Ok(())
        }))
        .await;
    assert_eq!(Instant::now() - start, 100 * MS);
    let Err(Error::Timeout(elapsed)) = &out else { panic!("{out:?}") };
    assert_eq!(elapsed.after(), 100 * MS);
}

#[tokio::test(start_paused = true)]
async fn a_shorter_inner_timeout_keeps_its_own_limit() {
    let outer = Timeout::fixed(Duration::from_secs(1)).build();
    let inner = Timeout::fixed(50 * MS).name("short").build();
    let out: Result<(), Error> = outer
        .run(async {
            let r = inner
                .run(async {
                    assert_eq!(deadline::remaining(), Some(50 * MS));
                    sleep(Duration::from_secs(10)).await;
                    Ok::<_, Error>(())
                })
                .await;
            assert_eq!(r.unwrap_err().to_string(), "`short` timed out after 50ms");
            // Back in the outer scope: its deadline again.
            assert_eq!(deadline::remaining(), Some(950 * MS));
            Ok(())
        })
        .await;
    assert_eq!(out, Ok(()));
}

#[tokio::test(start_paused = true)]
async fn guard_passes_outcomes_through_and_rejects_on_expiry() {
    let t = Timeout::fixed(100 * MS).name("layer").build();
    let open = Error::CircuitOpen(CircuitOpen::new("breaker", Duration::from_secs(3)));
    let rejected = {
        let open = open.clone();
        t.guard(async move { Outcome::<u8, String>::Err(open) }).await
    };
    assert_eq!(rejected, Err(open));
    let failed = t.guard(async { Outcome::<u8, String>::Ok(Err("app".into())) });
    assert_eq!(failed.await, Ok(Err("app".to_owned())));
    assert_eq!(t.guard(async { Outcome::<u8, String>::Ok(Ok(1)) }).await, Ok(Ok(1)));
    let slow = t.guard(async {
        sleep(Duration::from_secs(1)).await;
        Outcome::<u8, String>::Ok(Ok(2))
    });
    let Err(Error::Timeout(elapsed)) = slow.await else { panic!("no timeout") };
    assert_eq!(elapsed.after(), 100 * MS);
}

#[test]
fn the_futures_are_send_when_their_bodies_are() {
    fn assert_send<T: Send>(_: &T) {}
    let t = Timeout::fixed(MS).build();
    assert_send(&t.run(async { Ok::<_, Error>(()) }));
    assert_send(&t.guard(async { Outcome::<(), ()>::Ok(Ok(())) }));
    assert_send(&t);
}
