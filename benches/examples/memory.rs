//! What resilient keeps in memory: bytes per live policy of each kind, per idempotency entry, per
//! breaker window and per partition, measured as live heap bytes (a counting global allocator)
//! plus the inline size of what the attribute's `static` holds.
//!
//! ```text
//! cargo run --release -p resilient-benches --example memory
//! ```
//!
//! Each figure builds many instances (or entries) through the runtime's builders, the same calls
//! the attributes generate, and divides the growth of the live heap by their number, so the
//! registry's entry for each policy is included: that is what a user pays per annotated fn.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};
use std::time::Duration;

use resilient::runtime::breaker::{AdaptiveBreaker, BreakerSettings, CircuitBreaker};
use resilient::runtime::bulkhead::Bulkhead;
use resilient::runtime::fallback::Fallback;
use resilient::runtime::hedge::{Hedge, HedgeAfter};
use resilient::runtime::idempotency::Idempotency;
use resilient::runtime::rate_limit::RateLimiter;
use resilient::runtime::retry::Retry;
use resilient::runtime::timeout::Timeout;

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

/// Instances built per figure: enough that the registry's growth steps average out.
const N: usize = 4096;

/// Bytes per instance: the live heap's growth over `N` calls of `build`, plus the inline size of
/// the value the attribute's `static` holds. The instances are kept alive until measured.
fn per_instance<T>(build: impl Fn(usize) -> T) -> f64 {
    let before = LIVE.load(Relaxed);
    let kept: Vec<T> = Vec::with_capacity(N);
    let vec_bytes = LIVE.load(Relaxed) - before;
    let mut kept = kept;
    for i in 0..N {
        kept.push(build(i));
    }
    let heap = (LIVE.load(Relaxed) - before - vec_bytes) as f64 / N as f64;
    black_box(&kept);
    heap + std::mem::size_of::<T>() as f64
}

fn row(what: &str, bytes: f64, note: &str) {
    println!("| {what} | {bytes:.0} | {note} |");
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let _guard = rt.enter();

    println!("| what | bytes | notes |");
    println!("|---|---:|---|");

    let retry = per_instance(|i| Retry::builder().name(format!("memory::retry_{i}")).build());
    row("`#[retry]` policy", retry, "settings, budget counters, registry entry");

    let breaker = per_instance(|i| {
        CircuitBreaker::builder()
            .name(format!("memory::breaker_{i}"))
            .settings(BreakerSettings::default())
            .build()
    });
    row("`#[circuit_breaker]` policy", breaker, "state word, two windows, registry entry");
    // Both windows (failures, and calls for `failure_rate`) are inline in every breaker: a
    // ring of 16 buckets of one `AtomicU64` each. A failure-rate breaker measures the same.
    let rate = per_instance(|i| {
        CircuitBreaker::builder()
            .name(format!("memory::rate_breaker_{i}"))
            .settings(BreakerSettings { failure_rate: Some(0.5), ..BreakerSettings::default() })
            .build()
    });
    row("`#[circuit_breaker(failure_rate = 0.5)]` policy", rate, "the same two windows");
    row(
        "breaker window",
        (16 * std::mem::size_of::<u64>()) as f64,
        "16 buckets of one `AtomicU64`, inline; every breaker has two (failures, calls)",
    );

    let fixed = per_instance(|i| {
        Timeout::fixed(Duration::from_secs(1)).name(format!("memory::fixed_{i}")).build()
    });
    row("`#[timeout(\"1s\")]` policy", fixed, "");
    let adaptive = per_instance(|i| {
        Timeout::adaptive(99.0, 2.0).name(format!("memory::adaptive_{i}")).build()
    });
    row("`#[timeout(\"p99*2\")]` policy", adaptive, "latency histogram included");

    let idem =
        per_instance(|i| Idempotency::builder().name(format!("memory::idempotent_{i}")).build());
    row("`#[idempotent]` policy, empty", idem, "the store grows with entries (next row)");

    let adaptive_breaker =
        per_instance(|i| AdaptiveBreaker::builder().name(format!("memory::throttle_{i}")).build());
    row("`#[circuit_breaker(mode = \"adaptive\")]` policy", adaptive_breaker, "");
    let bulkhead =
        per_instance(|i| Bulkhead::builder().name(format!("memory::bulkhead_{i}")).build());
    row("`#[bulkhead]` policy", bulkhead, "");
    let adaptive_bulkhead = per_instance(|i| {
        Bulkhead::builder().name(format!("memory::adaptive_bulkhead_{i}")).adaptive().build()
    });
    row("`#[bulkhead(max = \"adaptive\")]` policy", adaptive_bulkhead, "with its controller");
    let rate = per_instance(|i| {
        RateLimiter::builder(100, Duration::from_secs(1)).name(format!("memory::rate_{i}")).build()
    });
    row("`#[rate_limit]` policy", rate, "");
    let fallback =
        per_instance(|i| Fallback::builder().name(format!("memory::fallback_{i}")).build());
    row("`#[fallback]` policy", fallback, "");
    let hedge = per_instance(|i| {
        Hedge::builder(HedgeAfter::Percentile(95.0)).name(format!("memory::hedge_{i}")).build()
    });
    row("`#[hedge(after = \"p95\")]` policy", hedge, "latency histogram included");

    // Entries: one policy, many distinct keys, each answered once with a small result.
    let policy = Idempotency::builder()
        .name("memory::entries")
        .max_entries(1_000_000)
        .ttl(Duration::from_secs(3600))
        .build();
    let before = LIVE.load(Relaxed);
    const ENTRIES: u64 = 100_000;
    rt.block_on(async {
        for i in 0..ENTRIES {
            let key = policy.key(&format_args!("order-{i:012}"));
            let out = policy
                .guard_key(key, None, async move { Ok::<_, resilient::Error>(Ok::<u64, ()>(i)) })
                .await;
            assert!(matches!(out, Ok(Ok(v)) if v == i));
        }
    });
    let entry = (LIVE.load(Relaxed) - before) as f64 / ENTRIES as f64;
    row(
        "idempotency entry (in-process store)",
        entry,
        "18-byte key, `u64` result; keys over 48 bytes add their length",
    );
}
