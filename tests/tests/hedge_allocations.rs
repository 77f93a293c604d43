//! Allocations of `#[hedge]`'s success path (a call that answers before `after`), counted by a
//! counting global allocator as in `allocations.rs`: none, whether the first attempt answers on
//! its first poll or after waiting once (when it reads the clock and arms the hedge's timer).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use resilient::hedge;
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

#[hedge(after = "50ms")]
async fn fixed(x: u64) -> Result<u64, AppError> {
    Ok(x + 1)
}

#[hedge(after = "p95", warmup = 5)]
async fn percentile(x: u64) -> Result<u64, AppError> {
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

#[hedge(after = "50ms")]
async fn fixed_waits(x: &str) -> Result<usize, AppError> {
    PendingOnce(false).await;
    Ok(x.len())
}

#[hedge(after = "p95", warmup = 5)]
async fn percentile_waits(x: &str) -> Result<usize, AppError> {
    PendingOnce(false).await;
    Ok(x.len())
}

#[test]
fn answering_at_once_allocates_nothing() {
    assert_eq!(allocations_per_call(|| fixed(1)), 0.0);
    assert_eq!(allocations_per_call(|| percentile(1)), 0.0);
}

#[test]
fn answering_after_a_wait_allocates_nothing() {
    assert_eq!(allocations_per_call(|| fixed_waits("k")), 0.0);
    assert_eq!(allocations_per_call(|| percentile_waits("k")), 0.0);
}
