//! `#[retry]` and `#[circuit_breaker]` on plain (sync) fns: the same policies, names, registry
//! and configuration as on `async fn`s, with blocking sleeps between attempts.
//!
//! Retries use delays of a millisecond and are checked by counting attempts, never by timing.
//! Breaker cooldowns are driven by tokio's paused clock (the breaker reads tokio's `Instant`,
//! which a sync fn called inside `#[tokio::test(start_paused = true)]` sees), or, with no runtime
//! at all, by a tiny cooldown and a bounded poll.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use resilient::{circuit_breaker, retry};
use resilient_tests::{AppError, is_transient};

fn open(r: &Result<(), AppError>) -> bool {
    matches!(r, Err(AppError::Rejected(e)) if e.is_circuit_open())
}

mod retries {
    use super::*;

    static FLAKY: AtomicU32 = AtomicU32::new(0);

    #[retry(max = 3, base = "1ms")]
    fn flaky() -> Result<u32, AppError> {
        let n = FLAKY.fetch_add(1, SeqCst) + 1;
        if n < 3 { Err(AppError::Transient) } else { Ok(n) }
    }

    #[test]
    fn retries_until_success() {
        assert_eq!(flaky(), Ok(3));
        assert_eq!(FLAKY.load(SeqCst), 3);
    }

    static DOWN: AtomicU32 = AtomicU32::new(0);

    #[retry(max = 4, base = "1ms", backoff = "fixed", jitter = "none")]
    fn down() -> Result<(), AppError> {
        DOWN.fetch_add(1, SeqCst);
        Err(AppError::Transient)
    }

    #[test]
    fn gives_up_after_max_attempts_with_the_last_error() {
        assert_eq!(down(), Err(AppError::Transient));
        assert_eq!(DOWN.load(SeqCst), 4);
        let snap = resilient::registry::snapshot();
        let retry = snap.retry("sync_fns::retries::down").expect("listed under its default name");
        assert_eq!(retry.retries, 3, "first attempts are not retries");
        assert_eq!(retry.gave_up, 1);
    }

    static PERMANENT: AtomicU32 = AtomicU32::new(0);

    #[retry(max = 5, base = "1ms", when = is_transient)]
    fn permanent() -> Result<(), AppError> {
        PERMANENT.fetch_add(1, SeqCst);
        Err(AppError::Permanent)
    }

    #[test]
    fn when_false_is_not_retried() {
        assert_eq!(permanent(), Err(AppError::Permanent));
        assert_eq!(PERMANENT.load(SeqCst), 1);
    }

    /// Counts its clones: an owned argument is cloned for every attempt but the last.
    #[derive(Debug)]
    pub struct Request(u32);
    static CLONES: AtomicU32 = AtomicU32::new(0);
    impl Clone for Request {
        fn clone(&self) -> Self {
            CLONES.fetch_add(1, SeqCst);
            Request(self.0)
        }
    }

    #[retry(max = 3, base = "1ms")]
    fn send(request: Request, seen: &mut Vec<u32>) -> Result<(), AppError> {
        seen.push(request.0);
        Err(AppError::Transient)
    }

    #[test]
    fn owned_arguments_cloned_and_mut_references_reborrowed() {
        let mut seen = Vec::new();
        assert_eq!(send(Request(7), &mut seen), Err(AppError::Transient));
        assert_eq!(seen, [7, 7, 7]);
        assert_eq!(CLONES.load(SeqCst), 2, "every attempt but the last gets a clone");
    }

    static EARLY: AtomicU32 = AtomicU32::new(0);

    fn parse(s: &str) -> Result<u32, AppError> {
        s.parse().map_err(|_| AppError::Transient)
    }

    /// `?` and `return` leave the attempt, not the whole function.
    #[retry(max = 3, base = "1ms")]
    fn early(input: &str) -> Result<u32, AppError> {
        let attempt = EARLY.fetch_add(1, SeqCst) + 1;
        if attempt == 1 {
            return Err(AppError::Transient);
        }
        let n = if attempt == 2 { parse("not a number")? } else { parse(input)? };
        Ok(n + attempt)
    }

    #[test]
    fn question_mark_and_return_end_one_attempt() {
        assert_eq!(early("40"), Ok(43));
        assert_eq!(EARLY.load(SeqCst), 3);
    }

    #[retry(max = 3, base = "1ms")]
    fn generic<T: Clone + Into<u64>>(value: T, calls: &AtomicU32) -> Result<u64, AppError> {
        match calls.fetch_add(1, SeqCst) {
            0 => Err(AppError::Transient),
            _ => Ok(value.into()),
        }
    }

    #[test]
    fn generic_fns() {
        let calls = AtomicU32::new(0);
        assert_eq!(generic(5u8, &calls), Ok(5));
        assert_eq!(calls.load(SeqCst), 2);
    }

    static CONFIGURED: AtomicU32 = AtomicU32::new(0);

    #[retry(max = 2, base = "1ms", name = "sync::configured")]
    fn configured() -> Result<(), AppError> {
        CONFIGURED.fetch_add(1, SeqCst);
        Err(AppError::Transient)
    }

    #[test]
    fn configuration_applies_live() {
        assert_eq!(configured(), Err(AppError::Transient));
        assert_eq!(CONFIGURED.load(SeqCst), 2);
        resilient::config::apply("[\"sync::configured\".retry]\nmax = 4\n").expect("valid");
        assert_eq!(configured(), Err(AppError::Transient));
        assert_eq!(CONFIGURED.load(SeqCst), 2 + 4);
        resilient::config::apply("[\"sync::configured\".retry]\nenabled = false\n").expect("valid");
        assert_eq!(configured(), Err(AppError::Transient));
        assert_eq!(CONFIGURED.load(SeqCst), 2 + 4 + 1, "turned off: one attempt");
    }

    static BUDGETED: AtomicU32 = AtomicU32::new(0);

    #[retry(max = 2, base = "1ms", budget = "1%")]
    fn budgeted() -> Result<(), AppError> {
        BUDGETED.fetch_add(1, SeqCst);
        Err(AppError::Transient)
    }

    #[test]
    fn the_retry_budget_stops_a_retry_storm() {
        // Without a budget, 200 calls would make 400 attempts; a 1 % budget (with its floor of a
        // few retries) lets far fewer retries through.
        for _ in 0..200 {
            assert_eq!(budgeted(), Err(AppError::Transient));
        }
        let attempts = BUDGETED.load(SeqCst);
        assert!(attempts < 300, "{attempts} attempts: the budget did not stop the retries");
        let snap = resilient::registry::snapshot();
        let budget = snap.retry("sync_fns::retries::budgeted").unwrap();
        assert_eq!(u64::from(attempts) - 200, budget.retries);
        assert!(budget.gave_up > 0);
    }
}

mod breaker {
    use super::*;
    use tokio::time::advance;

    static RUNS: AtomicU32 = AtomicU32::new(0);
    static HEALTHY: AtomicU32 = AtomicU32::new(0);

    #[circuit_breaker(threshold = 2, window = "30s", cooldown = "10s")]
    fn call() -> Result<(), AppError> {
        RUNS.fetch_add(1, SeqCst);
        if HEALTHY.load(SeqCst) == 1 { Ok(()) } else { Err(AppError::Transient) }
    }

    // A sync fn called on a runtime's thread blocks it, like any blocking call; here that is
    // what we want: the breaker reads the runtime's paused clock.
    #[tokio::test(start_paused = true)]
    async fn opens_rejects_half_opens_and_closes() {
        assert_eq!(call(), Err(AppError::Transient));
        assert_eq!(call(), Err(AppError::Transient));
        let name = "sync_fns::breaker::call";
        let snap = resilient::registry::snapshot();
        assert_eq!(snap.breaker(name).expect("listed").state.to_string(), "open");
        // Open: rejected without running the body.
        let r = call();
        assert!(open(&r), "{r:?}");
        let Err(AppError::Rejected(e)) = r else { unreachable!() };
        assert_eq!(e.policy(), name);
        assert_eq!(RUNS.load(SeqCst), 2);

        // Half-open after the cooldown: a failing probe re-opens it.
        advance(Duration::from_secs(10)).await;
        assert_eq!(call(), Err(AppError::Transient), "the probe ran");
        assert_eq!(RUNS.load(SeqCst), 3);
        assert!(open(&call()));

        // A succeeding probe closes it.
        advance(Duration::from_secs(10)).await;
        HEALTHY.store(1, SeqCst);
        assert_eq!(call(), Ok(()));
        assert_eq!(call(), Ok(()));
        assert_eq!(RUNS.load(SeqCst), 5);
        let snap = resilient::registry::snapshot();
        assert_eq!(snap.breaker(name).unwrap().state.to_string(), "closed");
    }

    static WALL_RUNS: AtomicU32 = AtomicU32::new(0);
    static WALL_HEALTHY: AtomicU32 = AtomicU32::new(0);

    #[circuit_breaker(threshold = 1, cooldown = "5ms")]
    fn wall() -> Result<(), AppError> {
        WALL_RUNS.fetch_add(1, SeqCst);
        if WALL_HEALTHY.load(SeqCst) == 1 { Ok(()) } else { Err(AppError::Transient) }
    }

    /// No tokio runtime at all: the cooldown runs on std's clock.
    #[test]
    fn cooldown_ends_on_std_clock_with_no_runtime() {
        assert_eq!(wall(), Err(AppError::Transient));
        assert!(open(&wall()), "one failure opens it");
        WALL_HEALTHY.store(1, SeqCst);
        // Poll until the cooldown is over; bounded, so a clock that never moves fails the test.
        let mut closed = false;
        for _ in 0..2000 {
            match wall() {
                Ok(()) => {
                    closed = true;
                    break;
                }
                r => assert!(open(&r), "{r:?}"),
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(closed, "the cooldown never ended");
        assert_eq!(WALL_RUNS.load(SeqCst), 2, "the body ran only for the failure and the probe");
    }

    static COUNTED: AtomicU32 = AtomicU32::new(0);

    #[circuit_breaker(threshold = 1, when = is_transient)]
    fn counted(fail: AppError) -> Result<(), AppError> {
        COUNTED.fetch_add(1, SeqCst);
        Err(fail)
    }

    #[test]
    fn when_picks_the_errors_that_count() {
        for _ in 0..3 {
            assert_eq!(counted(AppError::Permanent), Err(AppError::Permanent));
        }
        assert_eq!(counted(AppError::Transient), Err(AppError::Transient));
        assert!(open(&counted(AppError::Transient)));
        assert_eq!(COUNTED.load(SeqCst), 4);
    }
}

mod stacked {
    use super::*;

    static RUNS: AtomicU32 = AtomicU32::new(0);

    #[retry(max = 5, base = "1ms")]
    #[circuit_breaker(threshold = 2, cooldown = "60s")]
    fn guarded() -> Result<(), AppError> {
        RUNS.fetch_add(1, SeqCst);
        Err(AppError::Transient)
    }

    #[test]
    fn retry_stops_at_once_against_an_open_circuit() {
        // The second attempt opens the circuit: no third attempt, no sleep against it.
        assert_eq!(guarded(), Err(AppError::Transient));
        assert_eq!(RUNS.load(SeqCst), 2);
        let snap = resilient::registry::snapshot();
        let name = "sync_fns::stacked::guarded";
        assert_eq!(snap.retry(name).unwrap().retries, 1);
        // The next call is rejected by the breaker and not retried.
        assert!(open(&guarded()));
        assert_eq!(RUNS.load(SeqCst), 2);
        assert_eq!(snap.all(name).count(), 2, "two layers under one name");
    }
}

mod methods {
    use super::*;

    #[derive(Clone, Default)]
    pub struct Client {
        calls: u32,
    }

    impl Client {
        #[retry(max = 3, base = "1ms")]
        pub fn fetch(&mut self) -> Result<u32, AppError> {
            self.calls += 1;
            if self.calls < 2 { Err(AppError::Transient) } else { Ok(self.calls) }
        }

        #[retry(max = 2, base = "1ms")]
        #[circuit_breaker(threshold = 10)]
        pub fn peek(&self, fail: &AtomicU32) -> Result<u32, AppError> {
            match fail.fetch_sub(1, SeqCst) {
                0 => Ok(self.calls),
                _ => Err(AppError::Transient),
            }
        }

        #[retry(max = 3, base = "1ms")]
        pub fn consume(mut self, fail_first: bool) -> Result<u32, AppError> {
            self.calls += 1;
            if fail_first && self.calls == 1 { Err(AppError::Transient) } else { Ok(self.calls) }
        }
    }

    pub trait Source {
        fn read(&self) -> Result<u8, AppError>;
    }

    impl Source for Client {
        #[circuit_breaker]
        fn read(&self) -> Result<u8, AppError> {
            Ok(1)
        }
    }

    #[test]
    fn receivers_by_mut_ref_ref_and_value() {
        let mut client = Client::default();
        assert_eq!(client.fetch(), Ok(2), "the same `&mut self` across attempts");
        let fail = AtomicU32::new(1);
        assert_eq!(client.peek(&fail), Ok(2));
        // By value: each attempt gets a clone, so a failed attempt's change is not seen.
        assert_eq!(client.clone().consume(true), Ok(3));
        assert_eq!(client.read(), Ok(1));
        let snap = resilient::registry::snapshot();
        assert!(snap.retry("sync_fns::methods::Client::fetch").is_some());
        assert!(snap.breaker("sync_fns::methods::Client::peek").is_some());
        assert!(snap.breaker("sync_fns::methods::Client::read").is_some());
    }

    static SYNC_RUNS: AtomicU32 = AtomicU32::new(0);

    pub struct Service;

    /// On an impl block, the attribute goes onto the `async fn`s only (API §10).
    #[retry(max = 3, base = "1ms")]
    impl Service {
        pub async fn call(&self) -> Result<(), AppError> {
            Ok(())
        }

        pub fn sync(&self) -> Result<(), AppError> {
            SYNC_RUNS.fetch_add(1, SeqCst);
            Err(AppError::Transient)
        }
    }

    #[tokio::test]
    async fn impl_block_attributes_leave_sync_fns_as_they_are() {
        assert_eq!(Service.call().await, Ok(()));
        assert_eq!(Service.sync(), Err(AppError::Transient));
        assert_eq!(SYNC_RUNS.load(SeqCst), 1, "not retried");
        let snap = resilient::registry::snapshot();
        assert!(snap.all("sync_fns::methods::Service::sync").next().is_none());
    }
}

mod error_types {
    use super::*;

    /// `io::Result` works as is: `resilient::Error` converts into `io::Error`.
    #[circuit_breaker(threshold = 1, cooldown = "60s")]
    fn io() -> std::io::Result<()> {
        Err(std::io::Error::other("down"))
    }

    #[retry(max = 2, base = "1ms")]
    fn any() -> anyhow::Result<u8> {
        anyhow::bail!("always")
    }

    #[test]
    fn io_and_anyhow_results() {
        assert!(io().is_err());
        let rejected = io().unwrap_err();
        assert!(rejected.to_string().contains("open"), "{rejected}");
        assert_eq!(any().unwrap_err().to_string(), "always");
    }
}

/// The same metrics as an `async fn`'s policies record. The recorder is installed on this test's
/// thread before the functions' first calls, when their policies resolve their handles.
mod observed {
    use std::collections::HashMap;

    use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};

    use super::*;

    fn samples(recorder: &PrometheusRecorder) -> HashMap<String, f64> {
        resilient_tests::prometheus_samples(&recorder.handle().render())
    }

    fn one(s: &HashMap<String, f64>, series: &str) -> f64 {
        resilient_tests::sample(s, series)
    }

    static FAIL: AtomicU32 = AtomicU32::new(1);

    #[retry(max = 3, base = "1ms", name = "sync::observed")]
    #[circuit_breaker(threshold = 3, cooldown = "60s", name = "sync::observed")]
    fn observed() -> Result<(), AppError> {
        if FAIL.load(SeqCst) == 1 { Err(AppError::Transient) } else { Ok(()) }
    }

    #[test]
    fn retries_outcomes_and_breaker_state() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let _local = metrics::set_default_local_recorder(&recorder);
        FAIL.store(0, SeqCst);
        assert_eq!(observed(), Ok(()));
        FAIL.store(1, SeqCst);
        // Three failed attempts open the breaker; the retry gives up with the last error.
        assert_eq!(observed(), Err(AppError::Transient));
        assert!(open(&observed()));
        let s = samples(&recorder);
        let calls = |kind: &str, outcome: &str| {
            one(
                &s,
                &format!(
                    r#"resilient_calls_total{{policy="sync::observed",kind="{kind}",outcome="{outcome}"}}"#
                ),
            )
        };
        assert_eq!(one(&s, r#"resilient_retries_total{policy="sync::observed"}"#), 2.0);
        assert_eq!(calls("retry", "success"), 1.0);
        assert_eq!(calls("circuit_breaker", "success"), 1.0);
        assert_eq!(calls("circuit_breaker", "failure"), 3.0);
        assert_eq!(calls("circuit_breaker", "rejected"), 1.0);
        assert_eq!(one(&s, r#"resilient_circuit_state{policy="sync::observed"}"#), 1.0);
    }
}

/// A sync fn called inside an async fn's `#[timeout]` sees its deadline: its retry never starts
/// a sleep it could not finish before it.
mod deadline {
    use super::*;
    use resilient::timeout;

    static RUNS: AtomicU32 = AtomicU32::new(0);

    #[retry(max = 5, base = "100ms", jitter = "none")]
    fn blocking_call() -> Result<(), AppError> {
        RUNS.fetch_add(1, SeqCst);
        Err(AppError::Transient)
    }

    #[timeout("50ms")]
    async fn bounded() -> Result<(), AppError> {
        blocking_call()
    }

    #[tokio::test(start_paused = true)]
    async fn no_sleep_past_the_callers_deadline() {
        assert_eq!(bounded().await, Err(AppError::Transient));
        assert_eq!(RUNS.load(SeqCst), 1, "a 100 ms delay cannot end before a 50 ms deadline");
        let snap = resilient::registry::snapshot();
        assert_eq!(snap.retry("sync_fns::deadline::blocking_call").unwrap().gave_up, 1);
    }
}

/// `per = expr` on a sync fn: one breaker (and one retry budget) per host.
mod partitioned {
    use super::*;

    static RUNS: AtomicU32 = AtomicU32::new(0);

    #[retry(max = 2, base = "1ms", per = host)]
    #[circuit_breaker(threshold = 2, cooldown = "60s", per = host)]
    fn get(host: &str) -> Result<(), AppError> {
        RUNS.fetch_add(1, SeqCst);
        if host == "down" { Err(AppError::Transient) } else { Ok(()) }
    }

    #[test]
    fn one_breaker_per_host() {
        assert_eq!(get("down"), Err(AppError::Transient), "two attempts open its breaker");
        assert!(open(&get("down")));
        assert_eq!(RUNS.load(SeqCst), 2);
        assert_eq!(get("up"), Ok(()), "another host has its own breaker");
        assert_eq!(RUNS.load(SeqCst), 3);
    }
}

mod bulkhead {
    use super::*;
    use std::sync::mpsc;

    /// Holds its place until told to go on.
    #[resilient::bulkhead(max = 1)]
    fn one_at_a_time(entered: mpsc::Sender<()>, go_on: mpsc::Receiver<()>) -> Result<(), AppError> {
        entered.send(()).expect("the test listens");
        go_on.recv().expect("the test releases");
        Ok(())
    }

    #[resilient::bulkhead(max = 1, queue = 1, wait = "5s")]
    fn queued(entered: mpsc::Sender<u32>, id: u32) -> Result<u32, AppError> {
        entered.send(id).expect("the test listens");
        Ok(id)
    }

    #[test]
    fn a_full_bulkhead_rejects_on_the_thread_and_frees_the_place_after() {
        let (entered_tx, entered) = mpsc::channel();
        let (go_on, go_on_rx) = mpsc::channel();
        let holder = std::thread::spawn(move || one_at_a_time(entered_tx, go_on_rx));
        entered.recv().expect("the first call runs");
        let (tx, _rx) = mpsc::channel();
        let (_go, rx) = mpsc::channel();
        match one_at_a_time(tx, rx) {
            Err(AppError::Rejected(e)) => assert!(e.is_bulkhead_full(), "{e}"),
            other => panic!("expected a full bulkhead, got {other:?}"),
        }
        go_on.send(()).expect("the holder waits");
        assert_eq!(holder.join().expect("no panic"), Ok(()));
        // The place is free again.
        let (tx, entered) = mpsc::channel();
        let (go_on, rx) = mpsc::channel();
        go_on.send(()).expect("buffered");
        assert_eq!(one_at_a_time(tx, rx), Ok(()));
        entered.recv().expect("it ran");
    }

    #[test]
    fn a_queued_call_waits_on_its_thread_for_the_place() {
        let (tx, entered) = mpsc::channel();
        let callers: Vec<_> = (0..2)
            .map(|id| {
                let tx = tx.clone();
                std::thread::spawn(move || queued(tx, id))
            })
            .collect();
        let results: Vec<_> = callers.into_iter().map(|c| c.join().expect("no panic")).collect();
        // Each call either ran at once or waited in the queue: none was turned away.
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        let mut ran: Vec<u32> = entered.try_iter().collect();
        ran.sort();
        assert_eq!(ran, [0, 1]);
    }
}

mod fallback {
    use super::*;

    static CALLS: AtomicU32 = AtomicU32::new(0);

    fn cached(e: AppError) -> Result<u32, AppError> {
        match e {
            AppError::Transient => Ok(0),
            other => Err(other),
        }
    }

    /// The fallback answers once the retries below it are spent.
    #[resilient::fallback(cached)]
    #[retry(max = 2, base = "1ms", budget = "off")]
    fn lookup(fail: bool) -> Result<u32, AppError> {
        CALLS.fetch_add(1, SeqCst);
        if fail { Err(AppError::Transient) } else { Ok(7) }
    }

    #[test]
    fn a_sync_fallback_answers_after_the_retries() {
        assert_eq!(lookup(false), Ok(7));
        CALLS.store(0, SeqCst);
        assert_eq!(lookup(true), Ok(0), "the fallback's answer");
        assert_eq!(CALLS.load(SeqCst), 2, "both attempts ran first");
    }
}

mod rate_limit {
    use super::*;

    #[resilient::rate_limit("2/h", burst = 2)]
    fn limited() -> Result<(), AppError> {
        Ok(())
    }

    #[test]
    fn a_sync_rate_limit_rejects_past_the_burst_on_the_thread() {
        assert_eq!(limited(), Ok(()));
        assert_eq!(limited(), Ok(()));
        match limited() {
            Err(AppError::Rejected(e)) => {
                assert!(e.is_rate_limited(), "{e}");
                assert!(e.retry_after().is_some_and(|d| d > Duration::from_secs(60)), "{e}");
            }
            other => panic!("expected a rate limit, got {other:?}"),
        }
    }
}
