//! Allocations on the success paths, counted by a counting global allocator.
//!
//! Each check warms the function up first (the first call builds the policy's `LazyLock`
//! static and registers it), then counts the allocations of many calls on this thread only. The
//! futures are driven by polling them with a no-op waker, inside a current-thread runtime's
//! `block_on` so that `#[timeout]` finds tokio's clock; only the calls themselves are counted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use resilient::runtime::breaker::CircuitBreaker;
use resilient::runtime::idempotency::Idempotency;
use resilient::runtime::retry::Retry;
use resilient::runtime::timeout::Timeout;
use resilient::{IdempotencyKey, circuit_breaker, idempotent, retry, timeout};
use resilient_tests::AppError;

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

fn note() {
    // `try_with`: the allocator may be called while this thread's locals are being torn down.
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = COUNT.try_with(|n| n.set(n.get() + 1));
        }
    });
}

// SAFETY: every call is forwarded unchanged to `System`; counting touches only `const`
// thread-locals without destructors, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Drives `fut` to completion by polling it with a no-op waker (the success paths never wait).
fn run<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

const CALLS: u64 = 1000;

/// Allocations per call of `call`, averaged over [`CALLS`] calls after a warm-up of 10, inside
/// a current-thread runtime. Checks that every call succeeds.
fn allocations_per_call<F, Fut, T>(mut call: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AppError>>,
    T: std::fmt::Debug,
{
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        for _ in 0..10 {
            run(call()).expect("warm-up call succeeds");
        }
        COUNT.with(|n| n.set(0));
        COUNTING.with(|on| on.set(true));
        for _ in 0..CALLS {
            let out = run(call());
            std::hint::black_box(&out);
            if out.is_err() {
                COUNTING.with(|on| on.set(false));
                panic!("a measured call failed: {out:?}");
            }
        }
        COUNTING.with(|on| on.set(false));
        COUNT.with(Cell::get) as f64 / CALLS as f64
    })
}

#[retry]
async fn retried(x: u64) -> Result<u64, AppError> {
    Ok(x + 1)
}

#[retry]
async fn retried_ref(x: &u64, name: &str) -> Result<usize, AppError> {
    Ok(*x as usize + name.len())
}

#[circuit_breaker]
async fn guarded(x: u64) -> Result<u64, AppError> {
    Ok(x + 1)
}

#[timeout("1s")]
async fn timed(x: u64) -> Result<u64, AppError> {
    Ok(x + 1)
}

#[timeout("p99*2")]
async fn adaptive(x: u64) -> Result<u64, AppError> {
    Ok(x + 1)
}

#[retry]
#[circuit_breaker]
#[timeout("1s")]
async fn stacked(x: u64, name: &str) -> Result<usize, AppError> {
    Ok(x as usize + name.len())
}

#[test]
fn retry_success_allocates_nothing() {
    assert_eq!(allocations_per_call(|| retried(1)), 0.0);
    let x = 1;
    assert_eq!(allocations_per_call(|| retried_ref(&x, "name")), 0.0);
}

#[test]
fn closed_breaker_allocates_nothing() {
    assert_eq!(allocations_per_call(|| guarded(1)), 0.0);
}

#[test]
fn fixed_timeout_allocates_nothing() {
    assert_eq!(allocations_per_call(|| timed(1)), 0.0);
}

#[test]
fn adaptive_timeout_allocates_nothing() {
    // 1000 calls take well under the 250 ms refresh period, but a refresh (which recomputes the
    // percentile in place) would not allocate either.
    assert_eq!(allocations_per_call(|| adaptive(1)), 0.0);
}

#[test]
fn fused_stack_allocates_nothing() {
    assert_eq!(allocations_per_call(|| stacked(1, "name")), 0.0);
}

struct Client {
    addr: String,
}

impl Client {
    #[circuit_breaker(per = self.addr)]
    #[timeout("p99*2", per = self.addr)]
    async fn get(&self, key: &str) -> Result<usize, AppError> {
        Ok(self.addr.len() + key.len())
    }
}

#[circuit_breaker(per = resilient::partition::text(host))]
async fn per_host(host: &str) -> Result<usize, AppError> {
    Ok(host.len())
}

#[test]
fn an_existing_partition_allocates_nothing() {
    // The warm-up creates the partition (its key copy and its instance); later calls find it.
    assert_eq!(allocations_per_call(|| guarded_per(7)), 0.0);
    let client = Client { addr: "10.0.0.1:6379".into() };
    assert_eq!(allocations_per_call(|| client.get("key")), 0.0);
    assert_eq!(allocations_per_call(|| per_host("db-1.example:5432")), 0.0);
}

#[circuit_breaker(per = x)]
async fn guarded_per(x: u64) -> Result<u64, AppError> {
    Ok(x + 1)
}

#[test]
fn the_apis_without_macros_allocate_nothing() {
    let retry = Retry::builder().build();
    assert_eq!(allocations_per_call(|| retry.run(|| async { Ok::<_, AppError>(1) })), 0.0);
    let breaker = CircuitBreaker::builder().build();
    assert_eq!(allocations_per_call(|| breaker.call(async { Ok::<_, AppError>(1) })), 0.0);
    let timeout = Timeout::fixed(std::time::Duration::from_secs(1)).build();
    assert_eq!(allocations_per_call(|| timeout.run(async { Ok::<_, AppError>(1) })), 0.0);
    let adaptive = Timeout::adaptive(99.0, 2.0).build();
    assert_eq!(allocations_per_call(|| adaptive.run(async { Ok::<_, AppError>(1) })), 0.0);
}

#[idempotent(key = key)]
async fn charge(key: u64) -> Result<u64, AppError> {
    Ok(key + 1)
}

#[idempotent(key = request.id)]
async fn charge_request(request: &Request) -> Result<String, AppError> {
    Ok(format!("receipt for {}", request.amount))
}

#[idempotent]
async fn charge_uuid(idempotency_key: IdempotencyKey) -> Result<u64, AppError> {
    let _ = idempotency_key;
    Ok(1)
}

struct Request {
    id: String,
    amount: u64,
}

#[test]
fn idempotent_hits_allocate_only_the_clone_of_the_answer() {
    // The key is formatted once, into an inline buffer: a hit with a `Copy` answer allocates
    // nothing, whatever the key type.
    assert_eq!(allocations_per_call(|| charge(7)), 0.0);
    assert_eq!(allocations_per_call(|| charge_uuid(KEY.with(|k| *k))), 0.0);
    // A hit hands out a clone of the stored answer: a `String` answer is one allocation.
    let request = Request { id: "req-0001".into(), amount: 100 };
    assert_eq!(allocations_per_call(|| charge_request(&request)), 1.0);
    let policy = Idempotency::builder().build();
    assert_eq!(allocations_per_call(|| policy.run(7u64, async { Ok::<_, AppError>(1u64) })), 0.0);
}

#[idempotent(key = key, max_entries = 64)]
async fn charge_once(key: u64) -> Result<u64, AppError> {
    Ok(key + 1)
}

#[test]
fn idempotent_misses_at_the_bound_allocate_nothing() {
    // The key's text (up to 48 bytes) and a value of up to two words are kept in the store's
    // own slots, and at the bound each new result takes the slot the evicted one left: once the
    // store is full, a miss allocates nothing.
    let next = Cell::new(0u64);
    let fresh = || {
        next.set(next.get() + 1);
        charge_once(next.get())
    };
    // Fills the store (one shard of 64) many times over, so its tables have their final size.
    let _ = allocations_per_call(fresh);
    assert_eq!(allocations_per_call(fresh), 0.0);
}

thread_local! {
    static KEY: IdempotencyKey = IdempotencyKey::new();
}

// With a Prometheus recorder installed before the first call (feature `metrics`): every policy
// records into handles it resolved when built, and recording allocates nothing.

#[retry]
#[circuit_breaker]
#[timeout("1s")]
async fn recorded_stack(x: u64) -> Result<u64, AppError> {
    Ok(x + 1)
}

#[retry]
async fn recorded_retry(x: u64) -> Result<u64, AppError> {
    Ok(x + 1)
}

#[circuit_breaker]
async fn recorded_breaker(x: u64) -> Result<u64, AppError> {
    Ok(x + 1)
}

#[timeout("p99*2")]
async fn recorded_adaptive(x: u64) -> Result<u64, AppError> {
    Ok(x + 1)
}

#[idempotent(key = key)]
async fn recorded_charge(key: u64) -> Result<u64, AppError> {
    Ok(key + 1)
}

#[test]
fn recording_into_a_prometheus_recorder_allocates_nothing() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let _local = metrics::set_default_local_recorder(&recorder);
    assert_eq!(allocations_per_call(|| recorded_stack(1)), 0.0);
    assert_eq!(allocations_per_call(|| recorded_retry(1)), 0.0);
    assert_eq!(allocations_per_call(|| recorded_breaker(1)), 0.0);
    assert_eq!(allocations_per_call(|| recorded_adaptive(1)), 0.0);
    assert_eq!(allocations_per_call(|| recorded_charge(7)), 0.0);
    // And it did record: warm-up and measured calls alike.
    let scrape = recorder.handle().render();
    for (policy, kind, outcome) in [
        ("recorded_stack", "retry", "success"),
        ("recorded_stack", "circuit_breaker", "success"),
        ("recorded_stack", "timeout", "success"),
        ("recorded_retry", "retry", "success"),
        ("recorded_breaker", "circuit_breaker", "success"),
        ("recorded_adaptive", "timeout", "success"),
        ("recorded_charge", "idempotency", "hit"),
    ] {
        let calls = CALLS + 10 - u64::from(outcome == "hit");
        let series = format!(
            "resilient_calls_total{{policy=\"allocations::{policy}\",kind=\"{kind}\",outcome=\"{outcome}\"}} {calls}"
        );
        assert!(scrape.contains(&series), "{series} not in\n{scrape}");
    }
}

/// Prints the measured counts (`cargo test -p resilient-tests --test allocations -- --nocapture`),
/// the figures quoted in BENCHMARKS.md.
#[test]
fn report() {
    let x = 1;
    let request = Request { id: "req-0001".into(), amount: 100 };
    let key = IdempotencyKey::new();
    let policy = Idempotency::builder().build();
    let rows = [
        ("#[retry] (Copy argument)", allocations_per_call(|| retried(1))),
        ("#[retry] (& arguments)", allocations_per_call(|| retried_ref(&x, "name"))),
        ("#[circuit_breaker]", allocations_per_call(|| guarded(1))),
        ("#[timeout(\"1s\")]", allocations_per_call(|| timed(1))),
        ("#[timeout(\"p99*2\")]", allocations_per_call(|| adaptive(1))),
        (
            "#[retry] #[circuit_breaker] #[timeout(\"1s\")]",
            allocations_per_call(|| stacked(1, "name")),
        ),
        (
            "#[circuit_breaker(per = x)], existing partition",
            allocations_per_call(|| guarded_per(7)),
        ),
        ("#[idempotent] hit, u64 key, u64 answer", allocations_per_call(|| charge(7))),
        (
            "#[idempotent] hit, IdempotencyKey, u64 answer",
            allocations_per_call(|| charge_uuid(key)),
        ),
        (
            "#[idempotent] hit, String key, String answer",
            allocations_per_call(|| charge_request(&request)),
        ),
        (
            "Idempotency::run hit, u64 key, u64 answer",
            allocations_per_call(|| policy.run(7u64, async { Ok::<_, AppError>(1u64) })),
        ),
    ];
    for (what, n) in rows {
        println!("{n:>5.2} allocations per call: {what}");
    }
}

#[retry]
#[circuit_breaker]
fn sync_stacked(x: u64, name: &str) -> Result<usize, AppError> {
    Ok(x as usize + name.len())
}

#[retry]
fn sync_retried(name: String) -> Result<usize, AppError> {
    Ok(name.len())
}

#[test]
fn sync_fns_allocate_nothing() {
    // Called from the harness's async block: the sync pipeline runs in place.
    assert_eq!(allocations_per_call(|| async { sync_stacked(1, "name") }), 0.0);
    // An owned argument is cloned for every attempt but the last, as for an `async fn`: a first
    // attempt that succeeds costs that one clone, and the pipeline nothing more.
    let baseline = allocations_per_call(|| async { Ok::<_, AppError>(String::from("name").len()) });
    let with_retry = allocations_per_call(|| async { sync_retried(String::from("name")) });
    assert_eq!(with_retry - baseline, 1.0, "one clone of the argument for the first attempt");
}

#[resilient::bulkhead(max = 8)]
async fn bulkheaded(x: u64) -> Result<u64, AppError> {
    Ok(x + 1)
}

#[resilient::bulkhead(max = "adaptive")]
async fn adaptive_bulkheaded(x: u64) -> Result<u64, AppError> {
    Ok(x + 1)
}

#[test]
fn bulkhead_with_a_free_place_allocates_nothing() {
    assert_eq!(allocations_per_call(|| bulkheaded(1)), 0.0);
    // The controller's update (once per interval, at least a second before `min_rtt` is known)
    // does not fall within these calls.
    assert_eq!(allocations_per_call(|| adaptive_bulkheaded(1)), 0.0);
}

fn fallback_answer(_e: AppError) -> Result<u64, AppError> {
    Ok(0)
}

#[resilient::fallback(fallback_answer)]
#[circuit_breaker]
async fn with_fallback(x: u64) -> Result<u64, AppError> {
    Ok(x + 1)
}

#[resilient::fallback(fallback_answer)]
async fn answered_by_fallback(x: u64) -> Result<u64, AppError> {
    if x > 0 { Err(AppError::Transient) } else { Ok(x) }
}

#[test]
fn fallback_allocates_nothing_on_a_success_nor_when_it_answers() {
    assert_eq!(allocations_per_call(|| with_fallback(7)), 0.0);
    assert_eq!(allocations_per_call(|| answered_by_fallback(7)), 0.0);
}

#[resilient::rate_limit("1000000000/s")]
async fn rate_limited(x: u64) -> Result<u64, AppError> {
    Ok(x + 1)
}

#[resilient::rate_limit("1000000000/s", per = x)]
async fn rate_limited_per(x: u64) -> Result<u64, AppError> {
    Ok(x + 1)
}

#[test]
fn a_call_within_a_rate_limit_allocates_nothing() {
    assert_eq!(allocations_per_call(|| rate_limited(1)), 0.0);
    assert_eq!(allocations_per_call(|| rate_limited_per(7)), 0.0);
}

// `#[hedge]`'s success path (a call that answers before `after`): nothing, whether the first
// attempt answers on its first poll or after waiting once (when it reads the clock and arms the
// hedge's timer).

#[resilient::hedge(after = "50ms")]
async fn hedged_fixed(x: u64) -> Result<u64, AppError> {
    Ok(x + 1)
}

#[resilient::hedge(after = "p95", warmup = 5)]
async fn hedged_percentile(x: u64) -> Result<u64, AppError> {
    Ok(x + 1)
}

/// `Pending` once, then ready: a body that waited (without `yield_now`, whose deferred wakers
/// pile up in a `Vec` of the runtime's when nothing else runs it).
struct PendingOnce(bool);

impl Future for PendingOnce {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if std::mem::replace(&mut self.0, true) {
            Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

#[resilient::hedge(after = "50ms")]
async fn hedged_fixed_waits(x: &str) -> Result<usize, AppError> {
    PendingOnce(false).await;
    Ok(x.len())
}

#[resilient::hedge(after = "p95", warmup = 5)]
async fn hedged_percentile_waits(x: &str) -> Result<usize, AppError> {
    PendingOnce(false).await;
    Ok(x.len())
}

#[test]
fn a_hedge_answering_at_once_allocates_nothing() {
    assert_eq!(allocations_per_call(|| hedged_fixed(1)), 0.0);
    assert_eq!(allocations_per_call(|| hedged_percentile(1)), 0.0);
}

#[test]
fn a_hedge_answering_after_a_wait_allocates_nothing() {
    assert_eq!(allocations_per_call(|| hedged_fixed_waits("k")), 0.0);
    assert_eq!(allocations_per_call(|| hedged_percentile_waits("k")), 0.0);
}
