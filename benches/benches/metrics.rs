//! What metrics (feature `metrics`) cost on each success path, in one run beside the bare call:
//! each policy once with the feature on and no recorder (its handles resolved before any
//! recorder exists, so they are no-ops: the same as a program that never installs one), and once
//! recording into an installed Prometheus recorder (metrics-exporter-prometheus, as the demo
//! serves it). The feature-off figures are the other benches, run without the feature:
//!
//! ```text
//! cargo bench -p resilient-benches                                     # feature off
//! cargo bench -p resilient-benches --features metrics --bench metrics  # these rows
//! ```

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use metrics_exporter_prometheus::PrometheusBuilder;
use resilient::{circuit_breaker, idempotent, retry, timeout};
use resilient_benches::{BenchError, bare, runtime, work};

/// One function per policy and recorder state: a policy resolves its handles when first called.
macro_rules! functions {
    ($retry:ident, $breaker:ident, $fixed:ident, $adaptive:ident, $hit:ident, $stack:ident) => {
        #[retry]
        async fn $retry(x: u64) -> Result<u64, BenchError> {
            Ok(work(x))
        }

        #[circuit_breaker]
        async fn $breaker(x: u64) -> Result<u64, BenchError> {
            Ok(work(x))
        }

        #[timeout("1s")]
        async fn $fixed(x: u64) -> Result<u64, BenchError> {
            Ok(work(x))
        }

        #[timeout("p99*2")]
        async fn $adaptive(x: u64) -> Result<u64, BenchError> {
            Ok(work(x))
        }

        #[idempotent(key = key)]
        async fn $hit(key: u64, x: u64) -> Result<u64, BenchError> {
            Ok(work(x))
        }

        #[retry]
        #[circuit_breaker]
        #[timeout("1s")]
        async fn $stack(x: u64) -> Result<u64, BenchError> {
            Ok(work(x))
        }
    };
}

functions!(retry_off, breaker_off, fixed_off, adaptive_off, hit_off, stack_off);
functions!(retry_prom, breaker_prom, fixed_prom, adaptive_prom, hit_prom, stack_prom);

fn metrics(c: &mut Criterion) {
    let rt = runtime();
    // Build the "no recorder" policies first, then install the recorder for the others.
    rt.block_on(async {
        retry_off(1).await.unwrap();
        breaker_off(1).await.unwrap();
        fixed_off(1).await.unwrap();
        adaptive_off(1).await.unwrap();
        hit_off(7, 1).await.unwrap();
        stack_off(1).await.unwrap();
    });
    let handle = PrometheusBuilder::new().install_recorder().expect("no recorder installed yet");

    macro_rules! group {
        ($name:literal, $off:expr, $prom:expr) => {{
            let mut g = c.benchmark_group(concat!("metrics/", $name));
            g.bench_function("bare", |b| b.to_async(&rt).iter(|| bare(black_box(1))));
            g.bench_function("no-recorder", |b| b.to_async(&rt).iter(|| $off));
            g.bench_function("prometheus", |b| b.to_async(&rt).iter(|| $prom));
            g.finish();
        }};
    }
    group!("retry", retry_off(black_box(1)), retry_prom(black_box(1)));
    group!("breaker", breaker_off(black_box(1)), breaker_prom(black_box(1)));
    group!("timeout-fixed", fixed_off(black_box(1)), fixed_prom(black_box(1)));
    group!("timeout-adaptive", adaptive_off(black_box(1)), adaptive_prom(black_box(1)));
    group!(
        "idempotent-hit",
        hit_off(black_box(7), black_box(1)),
        hit_prom(black_box(7), black_box(1))
    );
    group!("stack", stack_off(black_box(1)), stack_prom(black_box(1)));

    // The recorder did record (and the counters are what a scrape would show).
    assert!(handle.render().contains("resilient_calls_total"));
}

criterion_group! {
    name = benches;
    config = resilient_benches::criterion();
    targets = metrics
}
criterion_main!(benches);
