//! `#[retry]` behaviour, under paused tokio time: every delay is checked to the virtual instant.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use resilient::runtime::backoff::{Backoff, Jitter, Schedule};
use resilient::{retry, rng};
use resilient_tests::{AppError, Timeline, is_transient};

const MS: Duration = Duration::from_millis(1);

fn ms(v: &[u64]) -> Vec<Duration> {
    v.iter().map(|&m| Duration::from_millis(m)).collect()
}

/// Fails until the `succeed_on`-th attempt (0-based); `usize::MAX` never succeeds.
fn outcome(attempt: usize, succeed_on: usize) -> Result<usize, AppError> {
    if attempt >= succeed_on { Ok(attempt) } else { Err(AppError::Transient) }
}

/// tokio's timer wheel fires at whole milliseconds: a sleep ends at the next millisecond tick.
fn ceil_ms(d: Duration) -> Duration {
    let nanos = d.as_nanos();
    let ms = nanos.div_ceil(1_000_000);
    Duration::from_millis(ms as u64)
}

mod backoff_kinds {
    use super::*;

    static EXP: Timeline = Timeline::new();
    #[retry(max = 5, backoff = "exp", base = "100ms", jitter = "none", budget = "off")]
    async fn exp() -> Result<usize, AppError> {
        outcome(EXP.mark(), usize::MAX)
    }

    static FIXED: Timeline = Timeline::new();
    #[retry(max = 4, backoff = "fixed", base = "250ms", jitter = "none", budget = "off")]
    async fn fixed() -> Result<usize, AppError> {
        outcome(FIXED.mark(), usize::MAX)
    }

    static LINEAR: Timeline = Timeline::new();
    #[retry(max = 4, backoff = "linear", base = "50ms", jitter = "none", budget = "off")]
    async fn linear() -> Result<usize, AppError> {
        outcome(LINEAR.mark(), usize::MAX)
    }

    static CAPPED: Timeline = Timeline::new();
    #[retry(max = 6, base = "100ms", max_delay = "300ms", jitter = "none", budget = "off")]
    async fn capped() -> Result<usize, AppError> {
        outcome(CAPPED.mark(), usize::MAX)
    }

    #[tokio::test(start_paused = true)]
    async fn exponential_doubles() {
        assert_eq!(exp().await, Err(AppError::Transient));
        assert_eq!(EXP.gaps(), ms(&[100, 200, 400, 800]));
    }

    #[tokio::test(start_paused = true)]
    async fn fixed_repeats() {
        assert_eq!(fixed().await, Err(AppError::Transient));
        assert_eq!(FIXED.gaps(), ms(&[250, 250, 250]));
    }

    #[tokio::test(start_paused = true)]
    async fn linear_grows_by_base() {
        assert_eq!(linear().await, Err(AppError::Transient));
        assert_eq!(LINEAR.gaps(), ms(&[50, 100, 150]));
    }

    #[tokio::test(start_paused = true)]
    async fn max_delay_caps_each_delay() {
        assert_eq!(capped().await, Err(AppError::Transient));
        assert_eq!(CAPPED.gaps(), ms(&[100, 200, 300, 300, 300]));
    }

    static DECOR: Timeline = Timeline::new();
    #[retry(max = 8, backoff = "decorrelated", base = "10ms", max_delay = "1s", budget = "off")]
    async fn decorrelated() -> Result<usize, AppError> {
        outcome(DECOR.mark(), usize::MAX)
    }

    #[tokio::test(start_paused = true)]
    async fn decorrelated_matches_its_schedule_exactly() {
        rng::seed(11);
        let expected: Vec<_> = Schedule::decorrelated(10 * MS)
            .max_delay(Duration::from_secs(1))
            .delays()
            .take(7)
            .collect();
        rng::seed(11);
        assert_eq!(decorrelated().await, Err(AppError::Transient));
        assert_eq!(DECOR.gaps(), expected.iter().copied().map(ceil_ms).collect::<Vec<_>>());
        let mut prev = 10 * MS;
        for d in expected {
            assert!(d >= 10 * MS && d <= prev * 3, "{d:?} after {prev:?}");
            prev = d;
        }
    }
}

mod jitter_kinds {
    use super::*;

    /// Checks the gaps equal the schedule drawn with the same seed, and lie in `[lo, hi]`×nominal.
    fn check(gaps: Vec<Duration>, schedule: Schedule, seed: u64, lo: f64, hi: f64) {
        rng::seed(seed);
        let expected: Vec<Duration> = schedule.delays().take(gaps.len()).collect();
        assert_eq!(gaps, expected.iter().copied().map(ceil_ms).collect::<Vec<_>>());
        for (n, d) in expected.iter().enumerate() {
            let x = d.as_secs_f64() / schedule.nominal(n as u32).as_secs_f64();
            assert!((lo..=hi).contains(&x), "delay {n}: {x}× nominal");
        }
        assert!(
            expected.iter().enumerate().any(|(n, d)| *d != schedule.nominal(n as u32)),
            "jitter moved something"
        );
    }

    static SEED10: Timeline = Timeline::new();
    #[retry(max = 5, base = "100ms", jitter = 0.1, budget = "off")]
    async fn seed_style() -> Result<usize, AppError> {
        outcome(SEED10.mark(), usize::MAX)
    }

    static FULL: Timeline = Timeline::new();
    #[retry(max = 5, base = "100ms", jitter = "full", budget = "off")]
    async fn full() -> Result<usize, AppError> {
        outcome(FULL.mark(), usize::MAX)
    }

    static EQUAL: Timeline = Timeline::new();
    #[retry(max = 5, base = "100ms", jitter = "equal", budget = "off")]
    async fn equal() -> Result<usize, AppError> {
        outcome(EQUAL.mark(), usize::MAX)
    }

    #[tokio::test(start_paused = true)]
    async fn proportional_like_the_seed() {
        rng::seed(5);
        seed_style().await.unwrap_err();
        check(
            SEED10.gaps(),
            Schedule::exponential(100 * MS).jitter(Jitter::Proportional(0.1)),
            5,
            1.0,
            1.1,
        );
    }

    #[tokio::test(start_paused = true)]
    async fn full_jitter() {
        rng::seed(6);
        full().await.unwrap_err();
        check(FULL.gaps(), Schedule::exponential(100 * MS).jitter(Jitter::Full), 6, 0.0, 1.0);
    }

    #[tokio::test(start_paused = true)]
    async fn equal_jitter() {
        rng::seed(7);
        equal().await.unwrap_err();
        check(EQUAL.gaps(), Schedule::exponential(100 * MS).jitter(Jitter::Equal), 7, 0.5, 1.0);
    }

    #[test]
    fn schedule_kinds_are_public() {
        assert_eq!(Schedule::linear(MS).backoff, Backoff::Linear);
    }
}

mod attempts_and_predicate {
    use super::*;

    static CALLS: Timeline = Timeline::new();
    #[retry(max = 4, base = "10ms", budget = "off")]
    async fn succeeds_third() -> Result<usize, AppError> {
        outcome(CALLS.mark(), 2)
    }

    #[tokio::test(start_paused = true)]
    async fn stops_at_first_success() {
        assert_eq!(succeeds_third().await, Ok(2));
        assert_eq!(CALLS.count(), 3);
    }

    static ONCE: Timeline = Timeline::new();
    #[retry(max = 1)]
    async fn no_retries() -> Result<usize, AppError> {
        outcome(ONCE.mark(), usize::MAX)
    }

    #[tokio::test(start_paused = true)]
    async fn max_counts_the_first_call() {
        assert_eq!(no_retries().await, Err(AppError::Transient));
        assert_eq!(ONCE.count(), 1);
    }

    static PRED: AtomicU32 = AtomicU32::new(0);
    #[retry(max = 5, base = "1ms", when = is_transient, budget = "off")]
    async fn permanent_after_one() -> Result<(), AppError> {
        match PRED.fetch_add(1, SeqCst) {
            0 => Err(AppError::Transient),
            _ => Err(AppError::Permanent),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn when_stops_on_permanent_errors() {
        assert_eq!(permanent_after_one().await, Err(AppError::Permanent));
        assert_eq!(PRED.load(SeqCst), 2);
    }

    static CLOSURE: AtomicU32 = AtomicU32::new(0);
    #[retry(max = 5, base = "1ms", when = |e: &std::io::Error| e.kind() == std::io::ErrorKind::ConnectionReset, budget = "off")]
    async fn io_call() -> std::io::Result<u32> {
        let n = CLOSURE.fetch_add(1, SeqCst);
        if n < 2 {
            return Err(std::io::ErrorKind::ConnectionReset.into());
        }
        Err(std::io::ErrorKind::NotFound.into())
    }

    #[tokio::test(start_paused = true)]
    async fn closure_predicate_and_io_result_alias() {
        assert_eq!(io_call().await.unwrap_err().kind(), std::io::ErrorKind::NotFound);
        assert_eq!(CLOSURE.load(SeqCst), 3);
    }

    static INFERRED: AtomicU32 = AtomicU32::new(0);
    #[retry(max = 3, base = "1ms", when = |e| matches!(e, AppError::Transient), budget = "off")]
    async fn inferred_closure() -> Result<(), AppError> {
        INFERRED.fetch_add(1, SeqCst);
        Err(AppError::Transient)
    }

    #[tokio::test(start_paused = true)]
    async fn closure_argument_type_is_inferred() {
        inferred_closure().await.unwrap_err();
        assert_eq!(INFERRED.load(SeqCst), 3);
    }
}

mod arguments {
    use super::*;

    #[derive(Debug)]
    struct Counted(Arc<AtomicU32>, String);
    impl Clone for Counted {
        fn clone(&self) -> Self {
            self.0.fetch_add(1, SeqCst);
            Counted(self.0.clone(), self.1.clone())
        }
    }

    #[retry(max = 4, base = "1ms", budget = "off")]
    async fn consume(arg: Counted, attempts: &AtomicU32) -> Result<String, AppError> {
        let n = attempts.fetch_add(1, SeqCst);
        let text = arg.1; // moves out: each attempt needs its own value
        if n < 3 { Err(AppError::Transient) } else { Ok(text) }
    }

    #[tokio::test(start_paused = true)]
    async fn owned_arguments_are_cloned_for_all_but_the_last_attempt() {
        let clones = Arc::new(AtomicU32::new(0));
        let attempts = AtomicU32::new(0);
        let out = consume(Counted(clones.clone(), "payload".into()), &attempts).await;
        assert_eq!(out, Ok("payload".into()));
        assert_eq!(attempts.load(SeqCst), 4);
        assert_eq!(clones.load(SeqCst), 3, "the 4th attempt moved the original");
    }

    #[tokio::test(start_paused = true)]
    async fn first_time_success_still_clones_once() {
        // The first attempt cannot know it will succeed, so it gets a clone; documented cost.
        let clones = Arc::new(AtomicU32::new(0));
        let attempts = AtomicU32::new(3);
        consume(Counted(clones.clone(), "x".into()), &attempts).await.unwrap();
        assert_eq!(clones.load(SeqCst), 1);
    }

    #[allow(clippy::toplevel_ref_arg)] // a `ref` binding in the signature is part of what is tested
    #[retry(max = 3, base = "1ms", budget = "off")]
    async fn patterns(
        (a, mut b): (u32, String),
        _: u8,
        ref c: u64,
        mut d: Vec<u8>,
    ) -> Result<String, AppError> {
        b.push('!');
        d.push(1);
        if d.len() < 2 && a == 0 {
            return Err(AppError::Transient);
        }
        Ok(format!("{a}{b}{c}{}", d.len()))
    }

    #[tokio::test(start_paused = true)]
    async fn destructuring_and_mut_patterns() {
        assert_eq!(patterns((1, "x".into()), 0, 7, vec![]).await, Ok("1x!71".into()));
        assert_eq!(patterns((0, "y".into()), 0, 7, vec![]).await, Err(AppError::Transient));
    }

    #[retry(max = 3, base = "1ms", budget = "off")]
    async fn generic<T, F>(
        value: T,
        mut check: F,
        bump: impl Fn(&T) -> T + Clone,
    ) -> Result<T, AppError>
    where
        T: Clone + PartialEq + std::fmt::Debug + Send,
        F: FnMut(&T) -> bool + Clone,
    {
        let value = bump(&value);
        if check(&value) { Ok(value) } else { Err(AppError::Transient) }
    }

    #[tokio::test(start_paused = true)]
    async fn generics_where_clauses_and_impl_trait() {
        assert_eq!(generic(1u8, |v| *v == 2, |v| v + 1).await, Ok(2));
        assert_eq!(
            generic("a".to_string(), |v| v.len() > 5, |v| format!("{v}b")).await,
            Err(AppError::Transient)
        );
    }

    #[retry(max = 3, base = "1ms", budget = "off")]
    async fn early_returns_and_question_mark(input: &str) -> Result<u32, AppError> {
        if input.is_empty() {
            return Err(AppError::Permanent);
        }
        let n: u32 = input.parse().map_err(|_| AppError::Transient)?;
        for i in 0..n {
            tokio::task::yield_now().await;
            if i == 2 {
                return Ok(i);
            }
        }
        Ok(n)
    }

    #[tokio::test(start_paused = true)]
    async fn question_mark_return_and_await_in_loops() {
        assert_eq!(early_returns_and_question_mark("").await, Err(AppError::Permanent));
        assert_eq!(early_returns_and_question_mark("x").await, Err(AppError::Transient));
        assert_eq!(early_returns_and_question_mark("9").await, Ok(2));
        assert_eq!(early_returns_and_question_mark("1").await, Ok(1));
    }

    #[retry(max = 2, base = "1ms", budget = "off")]
    async fn anyhow_error(fail: bool) -> anyhow::Result<&'static str> {
        anyhow::ensure!(!fail, "nope");
        Ok("fine")
    }

    #[tokio::test(start_paused = true)]
    async fn anyhow_result() {
        assert_eq!(anyhow_error(false).await.unwrap(), "fine");
        assert_eq!(anyhow_error(true).await.unwrap_err().to_string(), "nope");
    }

    #[retry(max = 3, base = "1ms", budget = "off")]
    async fn borrowed_return<'a>(
        items: &'a [String],
        fail: &AtomicU32,
    ) -> Result<&'a str, AppError> {
        if fail.fetch_add(1, SeqCst) == 0 {
            return Err(AppError::Transient);
        }
        items.first().map(String::as_str).ok_or(AppError::Permanent)
    }

    #[tokio::test(start_paused = true)]
    async fn lifetimes_in_arguments_and_return_type() {
        let items = vec!["a".to_string()];
        assert_eq!(borrowed_return(&items, &AtomicU32::new(0)).await, Ok("a"));
    }
}

mod methods {
    use super::*;

    #[derive(Default)]
    struct Client {
        calls: u32,
        log: Vec<u32>,
    }

    impl Client {
        /// Doc comments stay.
        #[retry(max = 3, base = "5ms", budget = "off")]
        pub async fn bump(&mut self, by: u32) -> Result<u32, AppError> {
            self.calls += by;
            self.log.push(self.calls);
            if self.calls < 3 { Err(AppError::Transient) } else { Ok(self.calls) }
        }

        #[retry(max = 3, base = "5ms", budget = "off")]
        async fn peek(&self) -> Result<u32, AppError> {
            let me = self;
            println!("peeking at {}", self.calls);
            Ok(me.calls)
        }

        #[retry(max = 2, base = "5ms", budget = "off")]
        async fn shared(self: Arc<Self>, fail: &AtomicU32) -> Result<usize, AppError> {
            if fail.fetch_add(1, SeqCst) == 0 {
                return Err(AppError::Transient);
            }
            Ok(Arc::strong_count(&self))
        }
    }

    #[tokio::test(start_paused = true)]
    async fn mut_self_is_reborrowed_for_each_attempt() {
        let mut client = Client::default();
        assert_eq!(client.bump(1).await, Ok(3));
        assert_eq!(client.log, [1, 2, 3]);
        assert_eq!(client.peek().await, Ok(3));
    }

    #[tokio::test(start_paused = true)]
    async fn arc_self_is_cloned_per_attempt() {
        let client = Arc::new(Client::default());
        assert_eq!(client.clone().shared(&AtomicU32::new(0)).await, Ok(2));
        assert_eq!(Arc::strong_count(&client), 1, "clones were dropped");
    }

    trait Fetch {
        async fn fetch(&self, id: u64) -> Result<u64, AppError>;
    }

    struct Remote(AtomicU32);

    impl Fetch for Remote {
        #[retry(max = 3, base = "5ms", budget = "off")]
        async fn fetch(&self, id: u64) -> Result<u64, AppError> {
            if self.0.fetch_add(1, SeqCst) < 2 { Err(AppError::Transient) } else { Ok(id * 2) }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn native_async_fn_in_trait_impl() {
        let r = Remote(AtomicU32::new(0));
        assert_eq!(r.fetch(21).await, Ok(42));
        assert_eq!(r.0.load(SeqCst), 3);
    }
}

mod budget {
    use super::*;

    static CALLS: AtomicU32 = AtomicU32::new(0);
    #[retry(max = 3, base = "1ms", jitter = "none", budget = "20%")]
    async fn always_fails() -> Result<(), AppError> {
        CALLS.fetch_add(1, SeqCst);
        Err(AppError::Transient)
    }

    #[tokio::test(start_paused = true)]
    async fn sustained_failure_is_cut_to_the_budget() {
        // 1000 calls within one second of virtual time, each allowed 2 retries.
        for _ in 0..1000 {
            always_fails().await.unwrap_err();
        }
        let total = CALLS.load(SeqCst);
        // Without a budget: 3000 attempts. With 20%: 1000 calls + ~200 retries + the floor
        // (10 a second over the few virtual seconds the sleeps take).
        assert!(total <= 1000 + 200 + 10 * 4, "retry storm: {total} attempts for 1000 calls");
        assert!(total >= 1000 + 190, "the budget still allows retries: {total}");
        let snap = resilient::registry::snapshot();
        let policy = snap
            .policies
            .iter()
            .find(|p| p.name.ends_with("budget::always_fails"))
            .expect("listed");
        let text = serde_json::to_string(&policy.state).unwrap();
        assert!(text.contains("\"exhausted\""), "{text}");
    }

    static OFF: AtomicU32 = AtomicU32::new(0);
    #[retry(max = 3, base = "1ms", jitter = "none", budget = "off")]
    async fn unlimited() -> Result<(), AppError> {
        OFF.fetch_add(1, SeqCst);
        Err(AppError::Transient)
    }

    #[tokio::test(start_paused = true)]
    async fn budget_off_retries_everything() {
        for _ in 0..100 {
            unlimited().await.unwrap_err();
        }
        assert_eq!(OFF.load(SeqCst), 300);
    }
}

mod deadlines {
    use super::*;
    use resilient::deadline;

    static CALLS: Timeline = Timeline::new();
    #[retry(max = 5, base = "100ms", jitter = "none", budget = "off")]
    async fn slow_failures() -> Result<usize, AppError> {
        outcome(CALLS.mark(), usize::MAX)
    }

    #[tokio::test(start_paused = true)]
    async fn no_sleep_past_the_deadline() {
        let start = tokio::time::Instant::now();
        let out = deadline::scope(start + 250 * MS, slow_failures()).await;
        // Attempt at 0, sleep 100ms, attempt at 100ms; the next 200ms sleep would end at 300ms,
        // past the deadline: the last error comes back at once instead.
        assert_eq!(out, Err(AppError::Transient));
        assert_eq!(CALLS.gaps(), ms(&[100]));
        assert_eq!(start.elapsed(), 100 * MS);
    }
}

mod registry {
    use super::*;

    #[retry(max = 7, name = "custom-retry-name")]
    async fn named() -> Result<(), AppError> {
        Ok(())
    }

    #[tokio::test]
    async fn snapshot_lists_the_policy_by_name() {
        named().await.unwrap();
        let snap = resilient::registry::snapshot();
        let p = snap.get("custom-retry-name").expect("registered on first call");
        let json = serde_json::to_value(p).unwrap();
        assert_eq!(json["state"]["kind"], "retry");
        assert_eq!(json["state"]["max_attempts"], 7);
        assert!(format!("{snap:?}").contains("custom-retry-name"));
    }
}

#[test]
fn futures_stay_send() {
    fn assert_send<T: Send>(_: T) {}
    assert_send(attempts_and_predicate_send());
}

#[retry(max = 2)]
async fn attempts_and_predicate_send() -> Result<(), AppError> {
    tokio::task::yield_now().await;
    Ok(())
}
