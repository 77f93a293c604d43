//! `#[bulkhead]`: at most `max` bodies at once, a FIFO queue with a `wait`, cancellation frees
//! places, the registry, configuration, `per`, impl blocks and composition.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use resilient::{bulkhead, config, retry, timeout};
use resilient_tests::AppError;
use tokio::sync::Notify;
use tokio::task::yield_now;
use tokio::time::sleep;

const MS: Duration = Duration::from_millis(1);

fn full(r: &Result<u32, AppError>) -> bool {
    matches!(r, Err(AppError::Rejected(e)) if e.is_bulkhead_full())
}

fn snapshot(name: &str) -> resilient::runtime::bulkhead::BulkheadSnapshot {
    resilient::registry::snapshot().bulkhead(name).expect("listed once").clone()
}

/// Lets spawned tasks run up to their next await.
async fn settle() {
    for _ in 0..10 {
        yield_now().await;
    }
}

static RUNNING: AtomicU32 = AtomicU32::new(0);
static PEAK: AtomicU32 = AtomicU32::new(0);

#[bulkhead(max = 2, name = "bh.fixed")]
async fn fixed(ms: u64) -> Result<u32, AppError> {
    let now = RUNNING.fetch_add(1, SeqCst) + 1;
    PEAK.fetch_max(now, SeqCst);
    sleep(Duration::from_millis(ms)).await;
    RUNNING.fetch_sub(1, SeqCst);
    Ok(7)
}

#[tokio::test(start_paused = true)]
async fn at_most_max_bodies_run_and_the_rest_are_rejected_without_running() {
    let calls: Vec<_> = (0..5).map(|_| tokio::spawn(fixed(100))).collect();
    settle().await;
    let s = snapshot("bh.fixed");
    assert_eq!((s.limit, s.in_flight, s.queued), (2, 2, 0));
    let mut outcomes = Vec::new();
    for c in calls {
        outcomes.push(c.await.unwrap());
    }
    assert_eq!(outcomes.iter().filter(|r| **r == Ok(7)).count(), 2);
    assert_eq!(outcomes.iter().filter(|r| full(r)).count(), 3);
    assert_eq!(PEAK.load(SeqCst), 2);
    let Err(AppError::Rejected(e)) = &outcomes[4] else { unreachable!() };
    assert_eq!(e.policy(), "bh.fixed");
    assert_eq!(e.to_string(), "bulkhead `bh.fixed` is full (2 calls at once)");
    let s = snapshot("bh.fixed");
    assert_eq!((s.in_flight, s.queued, s.rejected), (0, 0, 3));
    // The places are back.
    assert_eq!(fixed(1).await, Ok(7));
}

static ORDER: Mutex<Vec<u32>> = Mutex::new(Vec::new());

#[bulkhead(max = 1, queue = 3, wait = "1s", name = "bh.fifo")]
async fn fifo(id: u32, ms: u64) -> Result<u32, AppError> {
    ORDER.lock().unwrap().push(id);
    sleep(Duration::from_millis(ms)).await;
    Ok(id)
}

#[tokio::test(start_paused = true)]
async fn waiters_run_first_come_first_served_and_the_queue_is_bounded() {
    let first = tokio::spawn(fifo(0, 100));
    settle().await;
    let mut waiting = Vec::new();
    for id in 1..=3 {
        waiting.push(tokio::spawn(fifo(id, 100)));
        settle().await;
    }
    assert_eq!(snapshot("bh.fifo").queued, 3);
    // The queue is full: rejected at once.
    assert!(full(&fifo(9, 1).await));
    assert_eq!(first.await.unwrap(), Ok(0));
    for (id, w) in (1..).zip(waiting) {
        assert_eq!(w.await.unwrap(), Ok(id));
    }
    assert_eq!(*ORDER.lock().unwrap(), [0, 1, 2, 3]);
}

#[bulkhead(max = 1, queue = 1, wait = "50ms", name = "bh.wait")]
async fn short_wait(ms: u64) -> Result<u32, AppError> {
    sleep(Duration::from_millis(ms)).await;
    Ok(1)
}

#[tokio::test(start_paused = true)]
async fn a_waiter_gives_up_after_wait() {
    let long = tokio::spawn(short_wait(1000));
    settle().await;
    let started = tokio::time::Instant::now();
    let r = short_wait(1).await;
    assert!(full(&r));
    assert_eq!(started.elapsed(), 50 * MS);
    let Err(AppError::Rejected(e)) = r else { unreachable!() };
    assert_eq!(e.to_string(), "bulkhead `bh.wait` is full (1 call at once); waited 50ms");
    assert_eq!(snapshot("bh.wait").queued, 0);
    assert_eq!(long.await.unwrap(), Ok(1));
}

#[bulkhead(max = 1, queue = 2, wait = "10s", name = "bh.cancel")]
async fn cancellable(gate: &Notify) -> Result<u32, AppError> {
    gate.notified().await;
    Ok(1)
}

#[tokio::test(start_paused = true)]
async fn cancelled_calls_running_or_waiting_free_their_places() {
    let gate = std::sync::Arc::new(Notify::new());
    let g = gate.clone();
    let running = tokio::spawn(async move { cancellable(&g).await });
    settle().await;
    let g = gate.clone();
    let waiting = tokio::spawn(async move { cancellable(&g).await });
    settle().await;
    assert_eq!((snapshot("bh.cancel").in_flight, snapshot("bh.cancel").queued), (1, 1));
    // The waiting call is cancelled: it leaves the queue.
    waiting.abort();
    let _ = waiting.await;
    assert_eq!((snapshot("bh.cancel").in_flight, snapshot("bh.cancel").queued), (1, 0));
    // The running one is cancelled: its place is free.
    running.abort();
    let _ = running.await;
    assert_eq!((snapshot("bh.cancel").in_flight, snapshot("bh.cancel").queued), (0, 0));
    // A call cancelled after a place was handed to it, before it ran, gives it on.
    let g = gate.clone();
    let holder = tokio::spawn(async move { cancellable(&g).await });
    settle().await;
    let g = gate.clone();
    let handed = tokio::spawn(async move { cancellable(&g).await });
    let g = gate.clone();
    let next = tokio::spawn(async move { cancellable(&g).await });
    settle().await;
    gate.notify_one(); // `holder` ends; its place goes to `handed`, woken but not yet polled
    handed.abort();
    assert_eq!(holder.await.unwrap(), Ok(1));
    let _ = handed.await;
    settle().await;
    gate.notify_one();
    assert_eq!(next.await.unwrap(), Ok(1));
    assert_eq!((snapshot("bh.cancel").in_flight, snapshot("bh.cancel").queued), (0, 0));
}

#[bulkhead(max = 1, name = "bh.config")]
async fn configured(ms: u64) -> Result<u32, AppError> {
    sleep(Duration::from_millis(ms)).await;
    Ok(1)
}

#[tokio::test(start_paused = true)]
async fn configuration_changes_the_limit_and_keeps_the_calls_in_flight() {
    let a = tokio::spawn(configured(100));
    settle().await;
    assert!(full(&configured(1).await));
    config::apply("[\"bh.config\".bulkhead]\nmax = 3\nqueue = 1\nwait = \"1s\"").unwrap();
    let s = snapshot("bh.config");
    assert_eq!((s.limit, s.in_flight), (3, 1), "the running call kept its place");
    let b = tokio::spawn(configured(100));
    let c = tokio::spawn(configured(100));
    settle().await;
    assert_eq!(snapshot("bh.config").in_flight, 3);
    let d = tokio::spawn(configured(1));
    settle().await;
    assert_eq!(snapshot("bh.config").queued, 1);
    for t in [a, b, c, d] {
        assert_eq!(t.await.unwrap(), Ok(1));
    }
    let err = config::apply("[\"bh.config\".bulkhead]\nmax = 0").unwrap_err().to_string();
    assert!(err.contains("`max = 0` would reject every call"), "{err}");
    let err = config::apply("[\"bh.config\".bulkhead]\nmax = \"adaptive\"\nmin = 50\ninitial = 10")
        .unwrap_err()
        .to_string();
    assert!(err.contains("`initial` (10) is outside `min..=limit` (50..=1000)"), "{err}");
    config::apply("[\"bh.config\".bulkhead]\nenabled = false").unwrap();
    let all: Vec<_> = (0..10).map(|_| tokio::spawn(configured(10))).collect();
    for t in all {
        assert_eq!(t.await.unwrap(), Ok(1), "a disabled bulkhead lets every call through");
    }
    config::apply("[\"bh.config\".bulkhead]\nenabled = true\nmax = 1\nqueue = 0").unwrap();
    let snap = resilient::registry::snapshot();
    let policy = snap.policy("bh.config", "bulkhead").unwrap();
    assert_eq!(policy.setting("max").unwrap().value, "1");
    assert_eq!(policy.setting("max").unwrap().source, config::Source::Api);
}

struct Pool {
    host: &'static str,
}

impl Pool {
    #[bulkhead(max = 1, per = self.host)]
    async fn get(&self, ms: u64) -> Result<u32, AppError> {
        sleep(Duration::from_millis(ms)).await;
        Ok(1)
    }
}

#[tokio::test(start_paused = true)]
async fn per_value_bulkheads_do_not_share_places() {
    let (a, b) = (Pool { host: "a" }, Pool { host: "b" });
    let (ra, rb, ra2) = tokio::join!(a.get(10), b.get(10), async {
        settle().await;
        a.get(10).await
    });
    assert_eq!((ra, rb), (Ok(1), Ok(1)));
    assert!(full(&ra2), "host a's one place was taken");
    let snap = resilient::registry::snapshot();
    let parts = snap.partitions("bulkhead::Pool::get", "bulkhead").expect("listed once");
    assert_eq!(parts.live, 2);
}

struct Service;

#[bulkhead(max = 1)]
impl Service {
    async fn one(&self, ms: u64) -> Result<u32, AppError> {
        sleep(Duration::from_millis(ms)).await;
        Ok(1)
    }
    async fn two(&self, ms: u64) -> Result<u32, AppError> {
        sleep(Duration::from_millis(ms)).await;
        Ok(2)
    }
}

#[tokio::test(start_paused = true)]
async fn on_an_impl_block_each_method_has_its_own_bulkhead() {
    let s = Service;
    let (one, two, again) = tokio::join!(s.one(10), s.two(10), async {
        settle().await;
        s.one(10).await
    });
    assert_eq!((one, two), (Ok(1), Ok(2)));
    assert!(full(&again));
    assert!(resilient::registry::snapshot().bulkhead("bulkhead::Service::two").is_some());
}

static ATTEMPTS: AtomicU32 = AtomicU32::new(0);

#[bulkhead(max = 1, queue = 1, wait = "1s", name = "bh.stack")]
async fn holder(ms: u64) -> Result<u32, AppError> {
    sleep(Duration::from_millis(ms)).await;
    Ok(1)
}

#[retry(max = 3, base = "10ms", jitter = "none")]
#[timeout("50ms")]
#[bulkhead(max = 1, queue = 1, wait = "1s", name = "bh.stack")]
async fn stacked() -> Result<u32, AppError> {
    ATTEMPTS.fetch_add(1, SeqCst);
    Ok(1)
}

#[tokio::test(start_paused = true)]
async fn a_timeout_above_bounds_the_wait_and_a_retry_tries_again() {
    let held = tokio::spawn(holder(1000));
    settle().await;
    let started = tokio::time::Instant::now();
    let r = stacked().await;
    assert!(matches!(r, Err(AppError::Rejected(ref e)) if e.is_timeout()), "{r:?}");
    assert_eq!(started.elapsed(), 180 * MS, "three waits of 50 ms and delays of 10 and 20 ms");
    assert_eq!(ATTEMPTS.load(SeqCst), 0, "the body never ran");
    let s = snapshot("bh.stack");
    assert_eq!(
        (s.in_flight, s.queued, s.rejected),
        (1, 0, 0),
        "each timed-out wait left the queue"
    );
    assert_eq!(held.await.unwrap(), Ok(1));
    assert_eq!(stacked().await, Ok(1));
}

#[bulkhead(max = 1, name = "bh.noretry")]
async fn busy(ms: u64) -> Result<u32, AppError> {
    sleep(Duration::from_millis(ms)).await;
    Ok(1)
}

#[retry(max = 3, base = "10ms")]
#[bulkhead(max = 1, name = "bh.noretry")]
async fn retried() -> Result<u32, AppError> {
    Ok(1)
}

#[tokio::test(start_paused = true)]
async fn a_retry_above_does_not_retry_a_full_bulkhead() {
    let held = tokio::spawn(busy(1000));
    settle().await;
    let started = tokio::time::Instant::now();
    assert!(full(&retried().await));
    assert_eq!(started.elapsed(), Duration::ZERO, "no sleeping against a full bulkhead");
    assert_eq!(snapshot("bh.noretry").rejected, 1);
    assert_eq!(held.await.unwrap(), Ok(1));
}
