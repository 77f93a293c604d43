//! What the per-attempt span (API.md section 7: "each retry attempt runs inside a span") costs a
//! `#[retry]` call that succeeds at once, with no subscriber: `#[retry]` as generated, beside
//! hand-written expansions that differ from it in how the attempt is awaited. Each row is the
//! minimum over many short batches, rows interleaved round by round, beside the bare call.
//!
//! ```text
//! cargo run --release -p resilient-benches --example retry_span_cost [rounds]
//! ```
//!
//! - `generated`: `#[retry]` itself; `two awaits` is the same expansion written out (the level
//!   filter asked before building the attempt, then the attempt awaited as it is or through
//!   `Attempts::attempt`, each await with its own success check). It should match `generated`,
//!   which shows the hand-written rows are fair.
//! - `one await`: the expansion before 2026-12-03, every attempt awaited through
//!   `Attempts::attempt`, which asks for the span on each poll.
//! - `no span`: the attempt awaited as it is, with no span: what `#[retry]` would cost without
//!   the span the contract asks for.
//! - `span always None`: the attempt in a wrapper whose span field is the constant `None`, so
//!   no check is made at run time: what the field alone costs (it has drop glue).
//!
//! It uses `resilient::__private`, the generated code's own path to the runtime.

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use resilient::__private as p;
use resilient::retry;
use resilient_benches::{BenchError, bare, runtime, work};

#[retry]
async fn generated(x: u64) -> Result<u64, BenchError> {
    Ok(work(x))
}

static RETRY: p::LazyLock<p::Retry> =
    p::LazyLock::new(|| p::Retry::builder().name("retry_span_cost").build());

/// A wrapper with a span field that is always `None`.
struct NoneSpan<F> {
    fut: F,
    span: Option<Box<tracing::Span>>,
}

impl<F: Future> Future for NoneSpan<F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `fut` is structurally pinned: it is never moved out of `self`.
        let (fut, span) = unsafe {
            let this = self.get_unchecked_mut();
            (Pin::new_unchecked(&mut this.fut), &this.span)
        };
        match span {
            None => fut.poll(cx),
            Some(span) => {
                let _entered = span.enter();
                fut.poll(cx)
            }
        }
    }
}

/// The retry loop `#[retry]` generated for `generated` before 2026-12-03, with `$attempt` in
/// place of how the attempt's future is awaited (`$attempts` and `$fut` name the two values it may use).
macro_rules! by_hand {
    ($name:ident, |$attempts:ident, $fut:ident| $attempt:expr) => {
        async fn $name(x: u64) -> Result<u64, BenchError> {
            p::finish_plain({
                let mut $attempts = RETRY.attempts();
                let mut reuse_x = p::Reuse::new(x);
                loop {
                    let x = reuse_x.next($attempts.is_last(), <u64 as p::RetryArgument>::duplicate);
                    let $fut = p::lift(async move { Ok(work(x)) });
                    let out = $attempt;
                    if p::is_success(&out) {
                        $attempts.succeeded();
                        break out;
                    }
                    let delay = match $attempts
                        .retry_after(&out, p::retryable_plain(&out, p::every_error))
                    {
                        Ok(delay) => delay,
                        Err(_) => break out,
                    };
                    drop(out);
                    p::backoff_sleep(delay).await;
                }
            })
        }
    };
}

by_hand!(one_await, |attempts, fut| attempts.attempt(fut).await);
by_hand!(no_span, |attempts, fut| fut.await);
by_hand!(none_span, |attempts, fut| NoneSpan { fut, span: None }.await);

/// What `#[retry]` generates now: the level filter asked first; each await followed by its own
/// success check.
async fn two_awaits(x: u64) -> Result<u64, BenchError> {
    p::finish_plain({
        let mut attempts = RETRY.attempts();
        let mut reuse_x = p::Reuse::new(x);
        loop {
            let x = reuse_x.next(attempts.is_last(), <u64 as p::RetryArgument>::duplicate);
            let fut = p::lift(async move { Ok(work(x)) });
            let out = if attempts.traced() {
                let out = attempts.attempt(fut).await;
                if p::is_success(&out) {
                    attempts.succeeded();
                    break out;
                }
                out
            } else {
                let out = fut.await;
                if p::is_success(&out) {
                    attempts.succeeded();
                    break out;
                }
                out
            };
            let delay = match attempts.retry_after(&out, p::retryable_plain(&out, p::every_error)) {
                Ok(delay) => delay,
                Err(_) => break out,
            };
            drop(out);
            p::backoff_sleep(delay).await;
        }
    })
}

const BATCH: u64 = 20_000;

type Row<'a> = (&'static str, Box<dyn FnMut(&tokio::runtime::Runtime) -> f64 + 'a>);

fn row<F, Fut>(name: &'static str, f: F) -> Row<'static>
where
    F: Fn(u64) -> Fut + 'static,
    Fut: Future<Output = Result<u64, BenchError>>,
{
    let batch = move |rt: &tokio::runtime::Runtime| {
        rt.block_on(async {
            let start = Instant::now();
            for i in 0..BATCH {
                black_box(f(black_box(i)).await).expect("success");
            }
            start.elapsed().as_nanos() as f64 / BATCH as f64
        })
    };
    (name, Box::new(batch))
}

fn main() {
    let rt = runtime();
    let rounds: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100);
    let mut rows = [
        row("bare", bare),
        row("generated", generated),
        row("one await", one_await),
        row("no span", no_span),
        row("span always None", none_span),
        row("two awaits", two_awaits),
    ];
    let mut best = [f64::INFINITY; 6];
    for _ in 0..rounds {
        for (i, (_, f)) in rows.iter_mut().enumerate() {
            best[i] = best[i].min(f(&rt));
        }
    }
    println!("{:20} {:>8} {:>9}", "row", "min ns", "min-bare");
    for (i, (name, _)) in rows.iter().enumerate() {
        println!("{name:20} {:8.2} {:9.2}", best[i], best[i] - best[0]);
    }
}
