//! The fused stack `#[retry] #[circuit_breaker] #[timeout("1s")]` on one function, success the
//! first time, against the bare call and the same three layers from the peers: a tower
//! `ServiceBuilder` of tower-resilience's retry, circuit breaker and time limiter (through
//! `ready().await?.call()`), and backon around failsafe around `tokio::time::timeout`.

use std::hint::black_box;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use criterion::{Criterion, criterion_group, criterion_main};
use failsafe::futures::CircuitBreaker as _;
use failsafe::{Config, backoff, failure_policy};
use resilient::{circuit_breaker, retry, timeout};
use resilient_benches::{BenchError, bare, iter_mut, runtime, work};
use tower::{Service, ServiceBuilder, ServiceExt, service_fn};
use tower_resilience::circuitbreaker::{CircuitBreakerError, CircuitBreakerLayer};
use tower_resilience::retry::RetryLayer;
use tower_resilience::timelimiter::{TimeLimiterError, TimeLimiterLayer};

const LIMIT: Duration = Duration::from_secs(1);

#[retry]
#[circuit_breaker]
#[timeout("1s")]
async fn stacked(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

type TowerError = CircuitBreakerError<TimeLimiterError<BenchError>>;

fn stack(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("stack");
    g.bench_function("bare", |b| b.to_async(&rt).iter(|| bare(black_box(1))));
    g.bench_function("resilient/macro", |b| b.to_async(&rt).iter(|| stacked(black_box(1))));

    let mut svc = ServiceBuilder::new()
        .layer(
            RetryLayer::<u64, u64, TowerError>::builder()
                .max_attempts(3)
                .exponential_backoff(Duration::from_millis(100))
                .build(),
        )
        .layer(CircuitBreakerLayer::builder().consecutive_failures(5).build().expect("valid"))
        .layer(TimeLimiterLayer::builder().timeout_duration(LIMIT).build())
        .service(service_fn(bare));
    g.bench_function("tower-resilience", |b| {
        iter_mut(b, &rt, async || svc.ready().await?.call(black_box(1)).await)
    });

    let breaker = Config::new()
        .failure_policy(failure_policy::consecutive_failures(
            5,
            backoff::constant(Duration::from_secs(10)),
        ))
        .build();
    g.bench_function("backon+failsafe+tokio", |b| {
        b.to_async(&rt).iter(|| {
            (|| {
                breaker.call(async {
                    match tokio::time::timeout(LIMIT, bare(black_box(1))).await {
                        Ok(out) => out,
                        Err(_) => Err(BenchError::Failed),
                    }
                })
            })
            .retry(ExponentialBuilder::default())
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = resilient_benches::criterion();
    targets = stack
}
criterion_main!(benches);
