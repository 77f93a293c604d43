//! The experiments behind BENCHMARKS.md's hot-path findings: hand-written variants of the
//! pipelines the attributes generate, timed in one binary next to the generated ones.
//!
//! ```text
//! cargo run --release -p resilient-benches --example hot_path_variants
//! ```
//!
//! - `guard`: the breaker layer as a hand-written `Future` (permit in an `Option`, the inner
//!   future polled in place) instead of `CircuitBreaker::guard`, an `async fn` whose argument is
//!   copied into its state on the first poll (rust-lang/rust#62958).
//! - the lone breaker with its permit held in the function's own async body (no layer future).
//! - the retry loop with the backoff sleep boxed, allocated only when a retry happens, instead of
//!   `Attempts::backoff(..).await` held in every call's state.
//!
//! It uses `resilient::__private`, the generated code's own path to the runtime.

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use resilient::__private as p;
use resilient::runtime::Outcome;
use resilient::runtime::breaker::Permit;
use resilient::{circuit_breaker, retry, timeout};
use resilient_benches::{BenchError, runtime, work};

#[retry]
#[circuit_breaker]
#[timeout("1s")]
async fn stack_generated(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

#[circuit_breaker]
#[timeout("1s")]
async fn breaker_timeout_generated(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

#[circuit_breaker]
async fn breaker_generated(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

#[retry]
async fn retry_generated(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

static BREAKER: p::LazyLock<p::CircuitBreaker> =
    p::LazyLock::new(|| p::CircuitBreaker::builder().build());
static TIMEOUT: p::LazyLock<p::Timeout> =
    p::LazyLock::new(|| p::Timeout::fixed(Duration::from_secs(1)).build());
static RETRY: p::LazyLock<p::Retry> = p::LazyLock::new(|| p::Retry::builder().build());

/// The breaker layer as a plain `Future`: what `CircuitBreaker::guard` does, without the copy.
struct Guard<'a, F> {
    breaker: &'a p::CircuitBreaker,
    permit: Option<Permit<'a>>,
    fut: F,
}

impl<'a, F> Guard<'a, F> {
    fn new(breaker: &'a p::CircuitBreaker, fut: F) -> Self {
        Self { breaker, permit: None, fut }
    }
}

impl<F, T, E> Future for Guard<'_, F>
where
    F: Future<Output = Outcome<T, E>>,
{
    type Output = Outcome<T, E>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `fut` is structurally pinned: it is never moved out of `self` nor replaced, and
        // `Guard` has no `Drop` impl; the other fields are not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        if this.permit.is_none() {
            match this.breaker.try_acquire() {
                Ok(permit) => this.permit = Some(permit),
                Err(rejected) => return Poll::Ready(Err(rejected)),
            }
        }
        // SAFETY: see above.
        let fut = unsafe { Pin::new_unchecked(&mut this.fut) };
        let out = ready!(fut.poll(cx));
        if let Some(permit) = this.permit.take() {
            match &out {
                Ok(Ok(_)) => permit.success(),
                Ok(Err(_)) => permit.failure(),
                Err(e) if e.is_timeout() => permit.failure(),
                Err(_) => permit.release(),
            }
        }
        Poll::Ready(out)
    }
}

async fn breaker_hand(x: u64) -> Result<u64, BenchError> {
    let out = Guard::new(&BREAKER, p::lift(async move { Ok(work(x)) })).await;
    p::finish(out, p::rejection_into::<BenchError>())
}

/// The breaker layer inlined into the function's own async body: no nested future at all.
async fn breaker_inline(x: u64) -> Result<u64, BenchError> {
    let permit = match BREAKER.try_acquire() {
        Ok(permit) => permit,
        Err(rejected) => return Err(rejected.into()),
    };
    let out = p::lift(async move { Ok::<u64, BenchError>(work(x)) }).await;
    match &out {
        Ok(Ok(_)) => permit.success(),
        _ => permit.failure(),
    }
    p::finish(out, p::rejection_into::<BenchError>())
}

async fn breaker_timeout_hand(x: u64) -> Result<u64, BenchError> {
    let out = Guard::new(&BREAKER, TIMEOUT.guard(p::lift(async move { Ok(work(x)) }))).await;
    p::finish(out, p::rejection_into::<BenchError>())
}

async fn stack_hand(x: u64) -> Result<u64, BenchError> {
    let out = async move {
        let mut attempts = RETRY.attempts();
        loop {
            let out =
                Guard::new(&BREAKER, TIMEOUT.guard(p::lift(async move { Ok(work(x)) }))).await;
            if p::is_success(&out) {
                break out;
            }
            if attempts.backoff(p::retryable(&out, p::every_error)).await.is_err() {
                break out;
            }
        }
    }
    .await;
    p::finish(out, p::rejection_into::<BenchError>())
}

/// The generated retry loop, written out.
async fn retry_hand(x: u64) -> Result<u64, BenchError> {
    p::finish_plain(
        async move {
            let mut attempts = RETRY.attempts();
            loop {
                let out = p::lift(async move { Ok(work(x)) }).await;
                if p::is_success(&out) {
                    break out;
                }
                if attempts.backoff(p::retryable_plain(&out, p::every_error)).await.is_err() {
                    break out;
                }
            }
        }
        .await,
    )
}

/// The same loop, the sleep boxed: allocated only when a retry happens.
async fn retry_boxed_sleep(x: u64) -> Result<u64, BenchError> {
    p::finish_plain(
        async move {
            let mut attempts = RETRY.attempts();
            loop {
                let out = p::lift(async move { Ok(work(x)) }).await;
                if p::is_success(&out) {
                    break out;
                }
                match attempts.next_delay(p::retryable_plain(&out, p::every_error)) {
                    Ok(delay) => Box::pin(tokio::time::sleep(delay)).await,
                    Err(_) => break out,
                }
            }
        }
        .await,
    )
}

/// The lower bound: the same loop with no sleep at all (not a working retry).
async fn retry_no_sleep(x: u64) -> Result<u64, BenchError> {
    p::finish_plain(
        async move {
            let mut attempts = RETRY.attempts();
            loop {
                let out = p::lift(async move { Ok(work(x)) }).await;
                if p::is_success(&out) || attempts.next_delay(true).is_err() {
                    break out;
                }
            }
        }
        .await,
    )
}

fn time<F, Fut>(rt: &tokio::runtime::Runtime, name: &str, f: F)
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = Result<u64, BenchError>>,
{
    const CALLS: u64 = 20_000_000;
    let elapsed = rt.block_on(async {
        let start = Instant::now();
        for _ in 0..CALLS {
            black_box(f(black_box(1)).await).expect("success");
        }
        start.elapsed()
    });
    let ns = elapsed.as_nanos() as f64 / CALLS as f64;
    println!("{name:36} {ns:6.2} ns/call  future {:4} B", size_of_val(&f(1)));
}

fn main() {
    let rt = runtime();
    for round in 1..=3 {
        println!("round {round}");
        time(&rt, "retry, generated", retry_generated);
        time(&rt, "retry, written out", retry_hand);
        time(&rt, "retry, boxed sleep", retry_boxed_sleep);
        time(&rt, "retry, no sleep (lower bound)", retry_no_sleep);
        time(&rt, "breaker, generated", breaker_generated);
        time(&rt, "breaker, hand-written guard", breaker_hand);
        time(&rt, "breaker, inline permit", breaker_inline);
        time(&rt, "breaker+timeout, generated", breaker_timeout_generated);
        time(&rt, "breaker+timeout, hand-written guard", breaker_timeout_hand);
        time(&rt, "stack, generated", stack_generated);
        time(&rt, "stack, hand-written guard", stack_hand);
    }
}
