//! `per = expr` on the success path: a breaker per key on an existing partition, beside the
//! unpartitioned breaker and the bare call; and the lookup alone, by key type. The budget is
//! 15 ns over the unpartitioned breaker.

use std::hint::black_box;

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use resilient::circuit_breaker;
use resilient::partition::{Partitioned, text};
use resilient::runtime::breaker::CircuitBreaker;
use resilient_benches::{BenchError, bare, run_threads, runtime, work};

#[circuit_breaker]
async fn unpartitioned(host: u64) -> Result<u64, BenchError> {
    Ok(work(host))
}

#[circuit_breaker(per = host)]
async fn per_host(host: u64) -> Result<u64, BenchError> {
    Ok(work(host))
}

#[circuit_breaker(per = addr)]
async fn per_addr(addr: &str) -> Result<u64, BenchError> {
    Ok(work(addr.len() as u64))
}

fn per_breaker(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("per");
    g.bench_function("bare", |b| b.to_async(&rt).iter(|| bare(black_box(1))));
    g.bench_function("breaker", |b| b.to_async(&rt).iter(|| unpartitioned(black_box(1))));
    // 64 hosts, partitions created before measuring: every call finds its partition.
    for host in 0..64 {
        rt.block_on(per_host(host)).expect("closed");
    }
    let mut host = 0u64;
    g.bench_function("breaker per u64, existing partition", |b| {
        b.to_async(&rt).iter(|| {
            host = (host + 1) % 64;
            per_host(black_box(host))
        })
    });
    let addr = "10.0.0.1:6379";
    g.bench_function("breaker per &str, existing partition", |b| {
        b.to_async(&rt).iter(|| per_addr(black_box(addr)))
    });
    g.finish();

    let mut g = c.benchmark_group("per/lookup");
    let map = Partitioned::new("bench::per", 1024, || CircuitBreaker::builder().build());
    let _guard = rt.enter();
    map.get(&7u64);
    map.get("10.0.0.1:6379");
    g.bench_function("u64", |b| b.iter(|| map.get(black_box(&7u64))));
    g.bench_function("str", |b| b.iter(|| map.get(black_box("10.0.0.1:6379"))));
    g.bench_function("text(SocketAddr)", |b| {
        let sa: std::net::SocketAddr = "10.0.0.1:6379".parse().expect("an address");
        map.get(&text(&sa));
        b.iter(|| map.get(&text(black_box(&sa))))
    });
    g.finish();
}

/// One partition called from every thread (the shard's lock and the partition's count are
/// shared), and one partition per thread, beside the unpartitioned breaker; as in
/// `contention.rs`, one iteration is one call on every thread.
fn per_contention(c: &mut Criterion) {
    let mut g = c.benchmark_group("per/contention");
    for threads in [1usize, 2] {
        g.throughput(Throughput::Elements(threads as u64));
        g.bench_function(format!("breaker/{threads}"), |b| {
            b.iter_custom(|iters| {
                run_threads(threads, iters, || async || unpartitioned(black_box(1)).await)
            })
        });
        g.bench_function(format!("per, one key/{threads}"), |b| {
            b.iter_custom(|iters| {
                run_threads(threads, iters, || async || per_host(black_box(1)).await)
            })
        });
        static NEXT: AtomicU64 = AtomicU64::new(100);
        g.bench_function(format!("per, a key per thread/{threads}"), |b| {
            b.iter_custom(|iters| {
                run_threads(threads, iters, || {
                    let host = NEXT.fetch_add(1, Relaxed);
                    async move || per_host(black_box(host)).await
                })
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = resilient_benches::criterion();
    targets = per_breaker, per_contention
}
criterion_main!(benches);
