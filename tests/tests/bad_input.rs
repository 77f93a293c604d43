//! Bad input at runtime, through the API without macros (the attributes check their arguments
//! at compile time; the builders take whatever a program computes): zero and huge durations,
//! huge clock jumps under paused tokio time, and idempotency keys of arbitrary text.
//!
//! The behaviour each test pins down is stated in its doc comment. Nothing may panic (except the
//! two documented builder panics: a zero fixed timeout and a zero adaptive window), overflow or
//! hang: every test runs under paused time, where a hang would be an endless virtual sleep, so
//! each body is also bounded by `tokio::time::timeout` on the same virtual clock.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use resilient::Error;
use resilient::runtime::backoff::{Backoff, Jitter, Schedule};
use resilient::runtime::breaker::{CircuitBreaker, CircuitState};
use resilient::runtime::idempotency::{Idempotency, MAX_KEY_LEN};
use resilient::runtime::retry::Retry;
use resilient::runtime::timeout::Timeout;
use resilient_tests::AppError;
use tokio::time::{Instant, advance, sleep};

const YEAR: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// Fails the test instead of hanging it: 1000 virtual years is "forever" for every case below.
async fn bounded<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(1000 * YEAR, f).await.expect("hung (an endless virtual sleep)")
}

async fn fail(breaker: &CircuitBreaker) {
    let _ = breaker.call(async { Err::<(), AppError>(AppError::Transient) }).await;
}

async fn succeed(breaker: &CircuitBreaker) -> Result<(), AppError> {
    breaker.call(async { Ok::<(), AppError>(()) }).await
}

// ---------------------------------------------------------------------------------------------
// Retry
// ---------------------------------------------------------------------------------------------

/// `base = 0` and `max_delay = 0`: every attempt is made at once, no sleep, no panic.
#[tokio::test(start_paused = true)]
async fn retry_with_zero_delays_retries_immediately() {
    let retry = Retry::builder()
        .max_attempts(5)
        .schedule(Schedule::exponential(Duration::ZERO).max_delay(Duration::ZERO))
        .budget(None)
        .build();
    let start = Instant::now();
    let mut calls = 0;
    let out: Result<(), &str> = bounded(retry.run(|| {
        calls += 1;
        async { Err("down") }
    }))
    .await;
    assert_eq!((out, calls), (Err("down"), 5));
    assert_eq!(start.elapsed(), Duration::ZERO);
}

/// `max_attempts(0)` is clamped to 1: the call runs once.
#[tokio::test(start_paused = true)]
async fn retry_with_zero_attempts_runs_once() {
    let retry = Retry::builder().max_attempts(0).build();
    let mut calls = 0;
    let _: Result<(), &str> = retry
        .run(|| {
            calls += 1;
            async { Err("down") }
        })
        .await;
    assert_eq!(calls, 1);
}

/// `base = Duration::MAX` with the default cap: every delay is the cap (10 s), no overflow.
#[tokio::test(start_paused = true)]
async fn retry_with_a_huge_base_is_capped() {
    for backoff in [Backoff::Exponential, Backoff::Fixed, Backoff::Linear, Backoff::Decorrelated] {
        for jitter in [Jitter::None, Jitter::Proportional(0.1), Jitter::Full, Jitter::Equal] {
            let s = Schedule::new(backoff, Duration::MAX).jitter(jitter);
            for d in s.delays().take(70) {
                assert!(d <= Duration::from_secs(10), "{backoff:?} {jitter:?}: {d:?}");
            }
        }
    }
}

/// `base` and `max_delay` both `Duration::MAX`, jitter 0.1, 'full', 'equal' or none: the delays
/// are huge but computed without overflow. A retry under a caller deadline then gives up at once
/// (it never starts a sleep it cannot finish); without a deadline it would sleep "forever", as
/// asked (tokio treats such a sleep as the far future).
#[tokio::test(start_paused = true)]
async fn retry_with_huge_delays_computes_them_and_respects_the_deadline() {
    for backoff in [Backoff::Exponential, Backoff::Fixed, Backoff::Linear, Backoff::Decorrelated] {
        for jitter in [Jitter::None, Jitter::Proportional(0.1), Jitter::Full, Jitter::Equal] {
            let s = Schedule::new(backoff, Duration::MAX).max_delay(Duration::MAX).jitter(jitter);
            assert_eq!(s.delays().take(70).count(), 70, "{backoff:?} {jitter:?}");
        }
    }
    let retry = Retry::builder()
        .max_attempts(3)
        .schedule(Schedule::exponential(Duration::MAX).max_delay(Duration::MAX))
        .budget(None)
        .build();
    let start = Instant::now();
    let mut calls = 0;
    let out: Result<(), &str> = bounded(resilient::deadline::scope(
        start + Duration::from_secs(5),
        retry.run(|| {
            calls += 1;
            async { Err("down") }
        }),
    ))
    .await;
    assert_eq!((out, calls), (Err("down"), 1), "the first delay cannot fit: no retry");
    assert_eq!(start.elapsed(), Duration::ZERO);
}

/// Exponential growth from a tiny base over many retries saturates at the cap, never overflows.
#[test]
fn exponential_growth_saturates() {
    let s = Schedule::exponential(Duration::from_nanos(1)).jitter(Jitter::None);
    assert_eq!(s.nominal(u32::MAX), Duration::MAX.min(s.nominal(64)));
    let last = s.delays().nth(10_000).unwrap();
    assert_eq!(last, Duration::from_secs(10));
}

/// Jitter 1.0 (in the documented range [0, 1]) on a delay of `Duration::MAX` (base and cap
/// `Duration::MAX`, or enough doublings of any base under an uncapped `max_delay`).
#[test]
fn full_proportional_jitter_on_a_huge_delay_does_not_panic() {
    let s = Schedule::exponential(Duration::MAX)
        .max_delay(Duration::MAX)
        .jitter(Jitter::Proportional(1.0));
    let d = s.delays().next().unwrap();
    assert_eq!(d, Duration::MAX);
}

/// Out-of-range jitter factors through the public enum (the attribute only accepts [0, 1]).
#[test]
fn out_of_range_jitter_factors_do_not_panic() {
    for f in [-0.5, f64::NAN, f64::INFINITY] {
        let s = Schedule::exponential(Duration::from_millis(100)).jitter(Jitter::Proportional(f));
        let d = s.delays().next().unwrap();
        assert!(d <= Duration::from_secs(10), "{f}: {d:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Circuit breaker
// ---------------------------------------------------------------------------------------------

/// `cooldown = 0`: the circuit opens, and the very next call is a probe (half-open at once).
/// `threshold = 0` is clamped to 1.
#[tokio::test(start_paused = true)]
async fn breaker_with_zero_cooldown_probes_at_once() {
    let b = CircuitBreaker::builder().threshold(0).cooldown(Duration::ZERO).build();
    fail(&b).await;
    assert_eq!(b.state(), CircuitState::HalfOpen, "open, with the cooldown already over");
    assert_eq!(succeed(&b).await, Ok(()));
    assert_eq!(b.state(), CircuitState::Closed);
}

/// `window = 0`: the window becomes 16 buckets of 1 ns, so failures count only together with
/// failures of the same few nanoseconds. Under paused time they all happen at one instant and
/// trip it; a nanosecond-scale step apart they never add up.
#[tokio::test(start_paused = true)]
async fn breaker_with_zero_window_counts_only_simultaneous_failures() {
    let b = CircuitBreaker::builder().threshold(3).window(Duration::ZERO).build();
    for _ in 0..2 {
        fail(&b).await;
        advance(Duration::from_micros(1)).await;
    }
    fail(&b).await;
    assert_eq!(b.state(), CircuitState::Closed, "spread over 2 µs: never 3 in the window");
    fail(&b).await;
    fail(&b).await;
    assert_eq!(b.state(), CircuitState::Open, "3 at one instant");
}

/// `window = Duration::MAX`: failures never expire (a 10-year jump included); no overflow.
#[tokio::test(start_paused = true)]
async fn breaker_with_a_huge_window_keeps_failures() {
    let b = CircuitBreaker::builder().threshold(2).window(Duration::MAX).build();
    fail(&b).await;
    advance(10 * YEAR).await;
    fail(&b).await;
    assert_eq!(b.state(), CircuitState::Open);
}

/// `cooldown = Duration::MAX`: clamped to the breaker's longest, 2^47 µs (about 4.46 years), and
/// reported as such; the circuit stays open a year later and lets a probe through after that.
#[tokio::test(start_paused = true)]
async fn breaker_with_a_huge_cooldown_is_clamped() {
    let b = CircuitBreaker::builder().threshold(1).cooldown(Duration::MAX).build();
    fail(&b).await;
    advance(YEAR).await;
    let err = succeed(&b).await.unwrap_err();
    let AppError::Rejected(Error::CircuitOpen(open)) = err else { panic!("{err:?}") };
    let longest = Duration::from_micros((1 << 47) - 1);
    assert!(open.retry_after() <= longest && open.retry_after() > longest - YEAR - YEAR / 100);
    advance(longest - YEAR).await;
    assert_eq!(succeed(&b).await, Ok(()), "the probe after the (clamped) cooldown");
}

/// A huge clock jump while open (a year, far past the 10 s cooldown): the next call is a probe;
/// after a jump while closed, old failures are forgotten.
#[tokio::test(start_paused = true)]
async fn breaker_survives_a_clock_jump_of_a_year() {
    let b = CircuitBreaker::builder()
        .threshold(2)
        .window(Duration::from_secs(30))
        .cooldown(Duration::from_secs(10))
        .build();
    fail(&b).await;
    advance(YEAR).await;
    fail(&b).await;
    assert_eq!(b.state(), CircuitState::Closed, "the first failure left the window");
    fail(&b).await;
    assert_eq!(b.state(), CircuitState::Open);
    advance(YEAR).await;
    assert_eq!(b.state(), CircuitState::HalfOpen);
    assert_eq!(succeed(&b).await, Ok(()));
    assert_eq!(b.state(), CircuitState::Closed);
}

/// The same after a jump longer than 2^47 µs (about 4.46 years): the open instant is kept in 48
/// bits of microseconds, and only a difference within a second of a full wrap reads as a racing
/// clock read.
#[tokio::test(start_paused = true)]
async fn breaker_survives_a_clock_jump_of_five_years() {
    let b = CircuitBreaker::builder().threshold(1).cooldown(Duration::from_secs(10)).build();
    fail(&b).await;
    advance(5 * YEAR).await;
    assert_eq!(b.state(), CircuitState::HalfOpen);
    assert_eq!(succeed(&b).await, Ok(()));
}

// ---------------------------------------------------------------------------------------------
// Timeout
// ---------------------------------------------------------------------------------------------

/// A fixed timeout of zero is refused when built, with a clear message (documented `# Panics`;
/// `#[timeout("0ms")]` is a compile error). Not a runtime panic: it cannot happen mid-call.
#[test]
#[should_panic(expected = "a timeout of zero rejects every call")]
fn a_zero_fixed_timeout_is_refused_when_built() {
    let _ = Timeout::fixed(Duration::ZERO).build();
}

/// A zero adaptive window is refused when built (documented `# Panics`).
#[test]
#[should_panic(expected = "zero window")]
fn a_zero_adaptive_window_is_refused_when_built() {
    let _ = Timeout::adaptive(99.0, 2.0).window(Duration::ZERO).build();
}

/// `Timeout::fixed(Duration::MAX)` means no limit (as in tokio): a year-long call completes.
#[tokio::test(start_paused = true)]
async fn a_huge_fixed_timeout_means_no_limit() {
    let t = Timeout::fixed(Duration::MAX).build();
    let out: Result<u8, AppError> = bounded(t.run(async {
        sleep(YEAR).await;
        Ok(1)
    }))
    .await;
    assert_eq!(out, Ok(1));
}

/// Adaptive with every duration at an extreme: `initial = 0` times out every call that does not
/// finish on its first poll (after zero time, `Error::Timeout`), while a call ready at once
/// succeeds; `min = 0`, `max = window = Duration::MAX` raise nothing.
#[tokio::test(start_paused = true)]
async fn adaptive_timeout_with_extreme_settings() {
    let t = Timeout::adaptive(99.0, 2.0)
        .initial(Duration::ZERO)
        .min(Duration::ZERO)
        .max(Duration::MAX)
        .window(Duration::MAX)
        .build();
    let start = Instant::now();
    let slow: Result<(), AppError> = bounded(t.run(async {
        sleep(Duration::from_millis(1)).await;
        Ok(())
    }))
    .await;
    let AppError::Rejected(e) = slow.unwrap_err() else { panic!("not a rejection") };
    assert!(e.is_timeout());
    assert_eq!(start.elapsed(), Duration::ZERO);
    let ready: Result<u8, AppError> = t.run(async { Ok(7) }).await;
    assert_eq!(ready, Ok(7));
}

/// After a clock jump of ten years, an adaptive timeout's old samples have left its window: it
/// goes back to `initial` instead of keeping a stale percentile.
#[tokio::test(start_paused = true)]
async fn adaptive_timeout_forgets_samples_after_a_clock_jump() {
    let t = Timeout::adaptive(99.0, 2.0)
        .initial(Duration::from_secs(1))
        .min(Duration::from_millis(1))
        .warmup(20)
        .window(Duration::from_secs(10))
        .build();
    for _ in 0..50 {
        let _: Result<(), AppError> = t
            .run(async {
                sleep(Duration::from_millis(10)).await;
                Ok(())
            })
            .await;
        advance(Duration::from_millis(100)).await;
    }
    let learned = t.current();
    assert!(learned < Duration::from_millis(100), "learned {learned:?}");
    advance(10 * YEAR).await;
    let _: Result<(), AppError> = t.run(async { Ok(()) }).await;
    assert_eq!(t.current(), Duration::from_secs(1), "back to initial: the samples are stale");
}

/// Deadlines already passed: an inner timeout expires at once, a retry does not retry.
#[tokio::test(start_paused = true)]
async fn an_expired_deadline_stops_everything_at_once() {
    let t = Timeout::fixed(Duration::from_secs(10)).build();
    let past = Instant::now();
    advance(Duration::from_secs(1)).await;
    let out: Result<(), AppError> = bounded(resilient::deadline::scope(
        past,
        t.run(async {
            sleep(Duration::from_secs(1)).await;
            Ok(())
        }),
    ))
    .await;
    assert!(matches!(out, Err(AppError::Rejected(ref e)) if e.is_timeout()), "{out:?}");
    let retry = Retry::builder().budget(None).build();
    let mut calls = 0;
    let _: Result<(), &str> = resilient::deadline::scope(
        past,
        retry.run(|| {
            calls += 1;
            async { Err("down") }
        }),
    )
    .await;
    assert_eq!(calls, 1);
}

// ---------------------------------------------------------------------------------------------
// Idempotency
// ---------------------------------------------------------------------------------------------

async fn run_counted(policy: &Idempotency, key: &str, runs: &AtomicU32) -> Result<u32, Error> {
    policy.run(key, async { Ok(runs.fetch_add(1, SeqCst)) }).await
}

/// `ttl = 0`: nothing is ever answered from the store; every call runs the body.
#[tokio::test(start_paused = true)]
async fn zero_ttl_stores_nothing() {
    let p = Idempotency::builder().ttl(Duration::ZERO).build();
    let runs = AtomicU32::new(0);
    assert_eq!(run_counted(&p, "k", &runs).await, Ok(0));
    assert_eq!(run_counted(&p, "k", &runs).await, Ok(1));
}

/// `ttl = Duration::MAX`: capped at about a century; no overflow; answered 50 years later, run
/// again after 101.
#[tokio::test(start_paused = true)]
async fn huge_ttl_is_capped_at_a_century() {
    let p = Idempotency::builder().ttl(Duration::MAX).build();
    let runs = AtomicU32::new(0);
    assert_eq!(run_counted(&p, "k", &runs).await, Ok(0));
    advance(50 * YEAR).await;
    assert_eq!(run_counted(&p, "k", &runs).await, Ok(0));
    advance(51 * YEAR).await;
    assert_eq!(run_counted(&p, "k", &runs).await, Ok(1));
}

/// A clock jump past the ttl expires the result: the key runs again, once.
#[tokio::test(start_paused = true)]
async fn a_clock_jump_expires_results() {
    let p = Idempotency::builder().ttl(Duration::from_secs(3600)).build();
    let runs = AtomicU32::new(0);
    assert_eq!(run_counted(&p, "k", &runs).await, Ok(0));
    advance(10 * YEAR).await;
    assert_eq!(run_counted(&p, "k", &runs).await, Ok(1));
    assert_eq!(run_counted(&p, "k", &runs).await, Ok(1));
}

/// Keys are any text: unicode, control characters, NUL, whitespace, the empty string. Each is
/// its own key (answered once, not confused with another).
#[tokio::test(start_paused = true)]
async fn keys_of_arbitrary_text_are_distinct_keys() {
    let keys = [
        "",
        " ",
        "\0",
        "\0\0",
        "\n",
        "\r\n",
        "\t\x1b[31m\x7f",
        "ключ",
        "🔑",
        "e\u{301}",
        "\u{e9}",
        "a\u{200b}b",
        "ab",
        "\u{feff}",
        "\u{10ffff}",
    ];
    let p = Idempotency::builder().build();
    let runs = AtomicU32::new(0);
    let mut first = Vec::new();
    for key in keys {
        first.push(run_counted(&p, key, &runs).await.unwrap());
    }
    assert_eq!(runs.load(SeqCst) as usize, keys.len(), "every key is new");
    for (key, answer) in keys.iter().zip(&first) {
        assert_eq!(run_counted(&p, key, &runs).await.as_ref(), Ok(answer), "{key:?}");
    }
    assert_eq!(runs.load(SeqCst) as usize, keys.len(), "every key answered from the store");
}

/// A key whose `Display` writes in many small pieces.
struct Pieces(usize, &'static str);
impl fmt::Display for Pieces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (0..self.0).try_for_each(|_| f.write_str(self.1))
    }
}

/// The length limit is 1024 bytes of the key's text: 1024 accepted (ASCII, multi-byte, written
/// in one piece or many); 1025 refused with `Error::Store`, saying so, without running the body.
#[tokio::test(start_paused = true)]
async fn the_key_length_limit_is_1024_bytes() {
    assert_eq!(MAX_KEY_LEN, 1024);
    let p = Idempotency::builder().name("bad-input-keys").build();
    let runs = AtomicU32::new(0);
    let ascii = "k".repeat(1024);
    let multibyte = format!("{}a", "€".repeat(341)); // 341 x 3 + 1 bytes
    assert_eq!(multibyte.len(), 1024);
    assert!(run_counted(&p, &ascii, &runs).await.is_ok());
    assert!(run_counted(&p, &multibyte, &runs).await.is_ok());
    let pieces: Result<u32, Error> = p.run(Pieces(1024, "x"), async { Ok(9) }).await;
    assert!(pieces.is_ok());
    assert_eq!(runs.load(SeqCst), 2);

    let too_long = [
        "k".repeat(1025),
        format!("{}ab", "€".repeat(341)),
        "🔑".repeat(257), // 1028 bytes, the limit falls inside a character
    ];
    for key in &too_long {
        let err = run_counted(&p, key, &runs).await.unwrap_err();
        let Error::Store(failure) = &err else { panic!("{} bytes: {err:?}", key.len()) };
        assert!(failure.message().contains("1024"), "{}", failure.message());
        assert!(err.to_string().contains("1024"), "{err}");
    }
    let pieces: Result<u32, Error> = p.run(Pieces(1025, "x"), async { Ok(9) }).await;
    assert!(matches!(pieces, Err(Error::Store(_))), "{pieces:?}");
    assert_eq!(runs.load(SeqCst), 2, "a refused key never runs the body");
}
