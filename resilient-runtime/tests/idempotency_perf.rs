//! Rough costs of the in-process store (run in release: `cargo test --release -p
//! resilient-runtime --test idempotency_perf -- --ignored --nocapture`). Ignored by default:
//! timings on shared CI machines are noise, not verdicts.

use std::hint::black_box;
use std::time::{Duration, Instant};

use resilient_runtime::idempotency::{Idempotency, IdempotencyKey};

const N: u32 = 200_000;

fn per_call(elapsed: Duration, n: u32) -> Duration {
    elapsed / n
}

#[tokio::test]
#[ignore = "timing report; run in release with --ignored --nocapture"]
async fn hit_and_miss_costs() {
    let p = Idempotency::builder()
        .name(format!("perf::{}", IdempotencyKey::new()))
        .max_entries(1_000_000)
        .build();
    let key = IdempotencyKey::new();
    let _ = p.guard(key, None, async { Ok(Ok::<u64, ()>(1)) }).await;

    let start = Instant::now();
    for _ in 0..N {
        black_box(p.guard(black_box(key), None, async { Ok(Ok::<u64, ()>(2)) }).await).ok();
    }
    let hit = per_call(start.elapsed(), N);

    let start = Instant::now();
    for i in 0..N {
        black_box(async { Ok::<_, ()>(Ok::<u64, ()>(u64::from(i))) }.await).ok();
    }
    let bare = per_call(start.elapsed(), N);

    let keys: Vec<u64> = (0..u64::from(N)).map(|i| i + 1_000_000).collect();
    let start = Instant::now();
    for &k in &keys {
        black_box(p.guard(k, None, async { Ok(Ok::<u64, ()>(k)) }).await).ok();
    }
    let miss = per_call(start.elapsed(), N);
    println!("hit: {hit:?}/call, miss: {miss:?}/call (bare body {bare:?})");

    // Steady state: the store is full and every miss evicts.
    let p = Idempotency::builder()
        .name(format!("perf::{}", IdempotencyKey::new()))
        .max_entries(10_000)
        .build();
    for k in 0..20_000u64 {
        let _ = p.guard(k, None, async { Ok(Ok::<u64, ()>(k)) }).await;
    }
    let start = Instant::now();
    for &k in &keys {
        black_box(p.guard(k, None, async { Ok(Ok::<u64, ()>(k)) }).await).ok();
    }
    let steady = per_call(start.elapsed(), N);
    println!("miss at the bound (10k entries, evicting): {steady:?}/call");
}
