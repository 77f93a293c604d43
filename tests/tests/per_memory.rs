//! A flood of distinct `per` values keeps memory bounded: live heap bytes, counted by a global
//! allocator, stop growing once `max_partitions` partitions exist.

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};

use resilient::{circuit_breaker, retry, timeout};
use resilient_tests::AppError;

struct Live;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded unchanged to `System`; the counter is a plain atomic.
unsafe impl GlobalAlloc for Live {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Relaxed);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Live = Live;

#[retry(max = 2, base = "1ms", per = id)]
#[circuit_breaker(per = id)]
async fn call(id: u64) -> Result<u64, AppError> {
    Ok(id)
}

#[timeout("p99*2", per = id)]
async fn timed(id: u64) -> Result<u64, AppError> {
    Ok(id)
}

const MAX: usize = resilient::partition::DEFAULT_MAX_PARTITIONS;

/// Calls `f` with `flood` distinct values and checks that the live heap stops growing once
/// every policy is full: returns (KiB when full, KiB at the peak after).
async fn flood<F: Future<Output = Result<u64, AppError>>>(
    name: &str,
    kinds: &[&str],
    flood: u64,
    f: impl Fn(u64) -> F,
) -> (isize, isize) {
    // Fill every policy to its bound, then let the flood turn the partitions over many times.
    for id in 0..4 * MAX as u64 {
        f(id).await.unwrap();
    }
    let full = LIVE.load(Relaxed);
    let mut peak = full;
    for id in 4 * MAX as u64..flood {
        assert_eq!(f(id).await, Ok(id));
        if id % 256 == 0 {
            peak = peak.max(LIVE.load(Relaxed));
        }
    }
    peak = peak.max(LIVE.load(Relaxed));
    let snap = resilient::registry::snapshot();
    for kind in kinds {
        let p = snap.partitions(name, kind).unwrap_or_else(|| panic!("{kind} not listed"));
        assert!(p.live <= MAX, "{kind}: {} partitions alive", p.live);
        assert_eq!(p.created, flood, "{kind}: every value got a partition in its turn");
        assert_eq!(p.evicted, flood - p.live as u64);
    }
    println!(
        "{name}: live heap {} KiB once {MAX} partitions exist, peak {} KiB over {flood} distinct values",
        full / 1024,
        peak / 1024
    );
    (full / 1024, peak / 1024)
}

#[tokio::test(flavor = "current_thread")]
async fn a_flood_of_distinct_values_keeps_memory_bounded() {
    // Once full, a flood only replaces partitions: the heap stays where it was, give or take
    // what is transient (an eviction scan's list, evicted instances freed a moment later) and
    // hash tables growing as the keys' spread over the shards varies. Unbounded, the flood
    // would hold about a thousand times what 1024 partitions hold.
    let (full, peak) =
        flood("per_memory::call", &["retry", "circuit_breaker"], 1_000_000, call).await;
    assert!(peak - full < 512, "grew by {} KiB during the flood", peak - full);
    // An adaptive timeout's partition holds a latency histogram: fewer values suffice to turn
    // them over many times (and keep the test short in debug builds).
    let before = LIVE.load(Relaxed) / 1024;
    let (full, peak) = flood("per_memory::timed", &["timeout"], 50_000, timed).await;
    assert!(peak - full < 512, "grew by {} KiB during the flood", peak - full);
    println!("{} bytes per adaptive timeout partition", (full - before) * 1024 / MAX as isize);
}
