//! `#[idempotent]` with the in-process store: a hit (the same key every call, answered from the
//! store) and a miss (a fresh key every call, so the body runs and its result is stored; at the
//! store's bound of 100 000 results each miss also evicts the oldest), against the bare call and
//! the no-macro `Idempotency`. No peer offers idempotent calls.

use std::cell::Cell;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use resilient::runtime::idempotency::Idempotency;
use resilient::{IdempotencyKey, idempotent};
use resilient_benches::{BenchError, bare, runtime, work};

#[idempotent(key = key)]
async fn charge(key: u64, amount: u64) -> Result<u64, BenchError> {
    Ok(work(amount))
}

#[idempotent]
async fn charge_uuid(idempotency_key: IdempotencyKey, amount: u64) -> Result<u64, BenchError> {
    let _ = idempotency_key;
    Ok(work(amount))
}

fn idempotent(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("idempotent");
    g.bench_function("bare", |b| b.to_async(&rt).iter(|| bare(black_box(1))));

    g.bench_function("resilient/macro-hit", |b| {
        b.to_async(&rt).iter(|| charge(black_box(7), black_box(1)))
    });
    let uuid = IdempotencyKey::new();
    g.bench_function("resilient/macro-hit-uuid", |b| {
        b.to_async(&rt).iter(|| charge_uuid(black_box(uuid), black_box(1)))
    });
    let next = Cell::new(1_000_000u64);
    g.bench_function("resilient/macro-miss", |b| {
        b.to_async(&rt).iter(|| {
            next.set(next.get() + 1);
            charge(next.get(), black_box(1))
        })
    });

    let policy = Idempotency::builder().build();
    g.bench_function("resilient/api-hit", |b| {
        b.to_async(&rt).iter(|| policy.run(black_box(7u64), bare(black_box(1))))
    });
    g.bench_function("resilient/api-miss", |b| {
        b.to_async(&rt).iter(|| {
            next.set(next.get() + 1);
            policy.run(next.get(), bare(black_box(1)))
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = resilient_benches::criterion();
    targets = idempotent
}
criterion_main!(benches);
