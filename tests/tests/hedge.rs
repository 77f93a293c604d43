//! `#[hedge]` behaviour, under paused tokio time: when each attempt starts, which one wins, when
//! the losers are dropped, what an error does, the budget, a percentile `after`, configuration,
//! `per`, impl blocks and composition.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use resilient::{config, hedge, registry, retry, timeout};
use resilient_tests::{AppError, Timeline};
use tokio::time::Instant;

const MS: Duration = Duration::from_millis(1);

/// Sleeps `ms` then answers `out`; records when it was dropped unfinished.
struct Attempt {
    n: usize,
    dropped: &'static Mutex<Vec<(usize, Instant)>>,
    done: bool,
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if !self.done {
            self.dropped.lock().unwrap().push((self.n, Instant::now()));
        }
    }
}

async fn attempt<T>(
    n: usize,
    ms: u64,
    out: T,
    dropped: &'static Mutex<Vec<(usize, Instant)>>,
) -> T {
    let mut guard = Attempt { n, dropped, done: false };
    tokio::time::sleep(MS * ms as u32).await;
    guard.done = true;
    out
}

mod fixed_after {
    use super::*;

    static FAST: Timeline = Timeline::new();
    #[hedge(after = "50ms", name = "h::fast")]
    async fn fast() -> Result<u32, AppError> {
        FAST.mark();
        tokio::time::sleep(10 * MS).await;
        Ok(1)
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_that_answers_before_after_sends_no_hedge() {
        let start = Instant::now();
        assert_eq!(fast().await, Ok(1));
        assert_eq!(start.elapsed(), 10 * MS);
        assert_eq!(FAST.count(), 1);
        let snap = registry::snapshot();
        let h = snap.hedge("h::fast").unwrap();
        assert_eq!((h.hedges_sent, h.hedges_won), (0, 0));
    }

    static SLOW: Timeline = Timeline::new();
    static SLOW_DROPPED: Mutex<Vec<(usize, Instant)>> = Mutex::new(Vec::new());
    /// The first attempt takes 1 s, the others 10 ms.
    #[hedge(after = "50ms", name = "h::slow")]
    async fn slow_first() -> Result<usize, AppError> {
        let n = SLOW.mark();
        let ms = if n == 0 { 1000 } else { 10 };
        Ok(attempt(n, ms, n, &SLOW_DROPPED).await)
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_first_attempt_gets_a_hedge_after_after_and_the_hedge_wins() {
        let start = Instant::now();
        assert_eq!(slow_first().await, Ok(1), "the hedge (attempt 1) answered");
        assert_eq!(start.elapsed(), 60 * MS, "50 ms, then the hedge's 10 ms");
        assert_eq!(SLOW.gaps(), [50 * MS]);
        // The loser was dropped the moment the hedge won, not later.
        assert_eq!(*SLOW_DROPPED.lock().unwrap(), [(0, start + 60 * MS)]);
        let snap = registry::snapshot();
        let h = snap.hedge("h::slow").unwrap();
        assert_eq!((h.hedges_sent, h.hedges_won), (1, 1));
    }

    static RACE: Timeline = Timeline::new();
    static RACE_DROPPED: Mutex<Vec<(usize, Instant)>> = Mutex::new(Vec::new());
    /// The first attempt takes 70 ms, the hedge 100 ms: the first still wins.
    #[hedge(after = "50ms", name = "h::race")]
    async fn first_wins_late() -> Result<usize, AppError> {
        let n = RACE.mark();
        let ms = if n == 0 { 70 } else { 100 };
        Ok(attempt(n, ms, n, &RACE_DROPPED).await)
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_attempt_still_wins_if_it_answers_before_the_hedge() {
        let start = Instant::now();
        assert_eq!(first_wins_late().await, Ok(0));
        assert_eq!(start.elapsed(), 70 * MS);
        assert_eq!(*RACE_DROPPED.lock().unwrap(), [(1, start + 70 * MS)]);
        let snap = registry::snapshot();
        let h = snap.hedge("h::race").unwrap();
        assert_eq!((h.hedges_sent, h.hedges_won), (1, 0));
    }

    static THREE: Timeline = Timeline::new();
    /// Every attempt but the third takes 1 s.
    #[hedge(after = "20ms", max = 3, name = "h::three")]
    async fn three() -> Result<usize, AppError> {
        let n = THREE.mark();
        tokio::time::sleep(if n == 2 { 5 * MS } else { 1000 * MS }).await;
        Ok(n)
    }

    #[tokio::test(start_paused = true)]
    async fn each_further_hedge_waits_another_after() {
        let start = Instant::now();
        assert_eq!(three().await, Ok(2));
        assert_eq!(start.elapsed(), 45 * MS);
        assert_eq!(THREE.gaps(), [20 * MS, 20 * MS]);
    }

    static CAPPED: Timeline = Timeline::new();
    #[hedge(after = "20ms", max = 2, name = "h::capped")]
    async fn capped() -> Result<usize, AppError> {
        let n = CAPPED.mark();
        tokio::time::sleep(200 * MS).await;
        Ok(n)
    }

    #[tokio::test(start_paused = true)]
    async fn no_more_attempts_than_max() {
        let start = Instant::now();
        assert_eq!(capped().await, Ok(0), "the first started first and ends first");
        assert_eq!(start.elapsed(), 200 * MS);
        assert_eq!(CAPPED.count(), 2);
    }
}

mod errors {
    use super::*;

    static EARLY: Timeline = Timeline::new();
    #[hedge(after = "50ms", name = "h::early")]
    async fn fails_fast() -> Result<u32, AppError> {
        EARLY.mark();
        tokio::time::sleep(10 * MS).await;
        Err(AppError::Permanent)
    }

    #[tokio::test(start_paused = true)]
    async fn an_error_before_any_hedge_ends_the_call_at_once() {
        let start = Instant::now();
        assert_eq!(fails_fast().await, Err(AppError::Permanent));
        assert_eq!(start.elapsed(), 10 * MS);
        tokio::time::sleep(100 * MS).await;
        assert_eq!(EARLY.count(), 1, "no hedge after the call ended");
    }

    static RESCUED: Timeline = Timeline::new();
    /// The first attempt fails after 80 ms; the hedge (from 50 ms) succeeds at 90 ms.
    #[hedge(after = "50ms", name = "h::rescued")]
    async fn first_fails_late() -> Result<usize, AppError> {
        let n = RESCUED.mark();
        if n == 0 {
            tokio::time::sleep(80 * MS).await;
            Err(AppError::Transient)
        } else {
            tokio::time::sleep(40 * MS).await;
            Ok(n)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_error_while_a_hedge_runs_waits_for_the_hedge() {
        let start = Instant::now();
        assert_eq!(first_fails_late().await, Ok(1));
        assert_eq!(start.elapsed(), 90 * MS);
    }

    static ALL: Timeline = Timeline::new();
    /// The first attempt fails at 80 ms (transient), the hedge at 110 ms (permanent).
    #[hedge(after = "50ms", name = "h::all")]
    async fn all_fail() -> Result<usize, AppError> {
        let n = ALL.mark();
        if n == 0 {
            tokio::time::sleep(80 * MS).await;
            Err(AppError::Transient)
        } else {
            tokio::time::sleep(60 * MS).await;
            Err(AppError::Permanent)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn when_every_attempt_fails_the_last_error_is_returned() {
        let start = Instant::now();
        assert_eq!(all_fail().await, Err(AppError::Permanent));
        assert_eq!(start.elapsed(), 110 * MS);
    }
}

mod budget {
    use super::*;

    static ATTEMPTS_OF_CALL: AtomicU32 = AtomicU32::new(0);
    /// Every attempt takes 100 ms.
    #[hedge(after = "10ms", budget = "10%", name = "h::spent")]
    async fn slow_call() -> Result<u32, AppError> {
        let n = ATTEMPTS_OF_CALL.fetch_add(1, SeqCst);
        tokio::time::sleep(100 * MS).await;
        Ok(n)
    }

    #[tokio::test(start_paused = true)]
    async fn hedges_stop_when_the_budget_is_spent() {
        // 30 slow calls at once: their deposits (10 % each) pay for 3 hedges and the budget's
        // floor for 10 more in this second; the other 17 calls wait for their first attempt.
        let mut calls = tokio::task::JoinSet::new();
        for _ in 0..30 {
            calls.spawn(slow_call());
        }
        while let Some(done) = calls.join_next().await {
            done.unwrap().unwrap();
        }
        let snap = registry::snapshot();
        let h = snap.hedge("h::spent").unwrap();
        assert_eq!(h.hedges_sent, 13, "{h:?}");
        assert_eq!(ATTEMPTS_OF_CALL.load(SeqCst), 43);
        assert_eq!(h.budget.as_ref().unwrap().exhausted, 17, "{h:?}");
    }

    static FREE: AtomicU32 = AtomicU32::new(0);
    #[hedge(after = "10ms", budget = "off", name = "h::free")]
    async fn unbudgeted() -> Result<u32, AppError> {
        FREE.fetch_add(1, SeqCst);
        tokio::time::sleep(100 * MS).await;
        Ok(0)
    }

    #[tokio::test(start_paused = true)]
    async fn budget_off_hedges_every_slow_call() {
        for _ in 0..30 {
            unbudgeted().await.unwrap();
        }
        assert_eq!(FREE.load(SeqCst), 60);
    }
}

mod percentile {
    use super::*;

    static SEEN: AtomicU32 = AtomicU32::new(0);
    /// Call `i` of the warm-up takes 10 + i % 10 ms; later, attempt `slow_from` on takes 1 s
    /// when it is a call's first.
    #[hedge(after = "p90", warmup = 20, name = "h::p90")]
    async fn learned(ms: u64) -> Result<u64, AppError> {
        SEEN.fetch_add(1, SeqCst);
        tokio::time::sleep(MS * ms as u32).await;
        Ok(ms)
    }

    #[tokio::test(start_paused = true)]
    async fn no_hedge_while_warming_up_then_the_percentile_of_first_attempts() {
        // Warming up: a slow call sends no hedge.
        assert_eq!(learned(300).await, Ok(300));
        assert_eq!(SEEN.load(SeqCst), 1);
        let snap = registry::snapshot();
        let h = snap.hedge("h::p90").unwrap();
        assert!(h.warming_up && h.after_now.is_none(), "{h:?}");
        for i in 0..19 {
            learned(10 + i % 10).await.unwrap();
        }
        let snap = registry::snapshot();
        let h = snap.hedge("h::p90").unwrap();
        assert!(!h.warming_up, "{h:?}");
        // p90 of {10..18 twice, 19, 300} by nearest rank (the 18th of 20) is 18 ms, within the
        // histogram's 1.6 %.
        let after = h.after_now.unwrap();
        assert!((after.as_secs_f64() / 0.018 - 1.0).abs() < 0.02, "{after:?}");
        // Now a 300 ms call is hedged after about 18 ms, and the hedge (also 300 ms: the same
        // argument) does not win.
        let before = SEEN.load(SeqCst);
        learned(300).await.unwrap();
        assert_eq!(SEEN.load(SeqCst) - before, 2);
    }
}

mod arguments {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Request(String);
    static CLONES: AtomicU32 = AtomicU32::new(0);
    impl Clone for Request {
        fn clone(&self) -> Self {
            CLONES.fetch_add(1, SeqCst);
            Request(self.0.clone())
        }
    }

    static N: AtomicU32 = AtomicU32::new(0);
    #[hedge(after = "50ms", max = 3, name = "h::owned")]
    async fn owned(request: Request, tag: &str) -> Result<String, AppError> {
        let n = N.fetch_add(1, SeqCst);
        tokio::time::sleep(if n == 2 { MS } else { 1000 * MS }).await;
        Ok(format!("{}-{tag}-{n}", request.0))
    }

    #[tokio::test(start_paused = true)]
    async fn owned_arguments_are_cloned_for_every_attempt_but_the_last() {
        assert_eq!(owned(Request("r".into()), "t").await.unwrap(), "r-t-2");
        assert_eq!(CLONES.load(SeqCst), 2, "attempts 1 and 2 got clones, attempt 3 the original");
    }
}

mod methods {
    use super::*;

    struct Replicas {
        slow_first: AtomicU32,
    }

    #[hedge(after = "20ms")]
    impl Replicas {
        async fn get(&self, key: u32) -> Result<u32, AppError> {
            let n = self.slow_first.fetch_add(1, SeqCst);
            tokio::time::sleep(if n == 0 { 500 * MS } else { 5 * MS }).await;
            Ok(key)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn on_an_impl_block_with_a_shared_receiver() {
        let r = Replicas { slow_first: AtomicU32::new(0) };
        let start = Instant::now();
        assert_eq!(r.get(7).await, Ok(7));
        assert_eq!(start.elapsed(), 25 * MS);
        let snap = registry::snapshot();
        let name = "hedge::methods::Replicas::get";
        assert_eq!(snap.hedge(name).map(|h| h.hedges_won), Some(1), "{:#?}", snap.policies);
    }
}

mod configuration {
    use super::*;

    static N: AtomicU32 = AtomicU32::new(0);
    #[hedge(after = "50ms", name = "h::cfg")]
    async fn tuned() -> Result<u32, AppError> {
        let n = N.fetch_add(1, SeqCst);
        tokio::time::sleep(if n.is_multiple_of(2) { 500 * MS } else { 5 * MS }).await;
        Ok(n)
    }

    #[tokio::test(start_paused = true)]
    async fn after_and_enabled_are_set_at_run_time() {
        config::apply("[\"h::cfg\".hedge]\nafter = \"10ms\"").unwrap();
        let start = Instant::now();
        assert_eq!(tuned().await, Ok(1));
        assert_eq!(start.elapsed(), 15 * MS);
        let snap = registry::snapshot();
        let p = snap.policy("h::cfg", "hedge").unwrap();
        assert_eq!(p.setting("after").unwrap().value, "10ms");

        config::apply("[\"h::cfg\".hedge]\nenabled = false").unwrap();
        let start = Instant::now();
        assert_eq!(tuned().await, Ok(2), "no hedge: the slow first attempt answers");
        assert_eq!(start.elapsed(), 500 * MS);

        let bad = config::apply("[\"h::cfg\".hedge]\nmax = 1").unwrap_err().to_string();
        assert!(bad.contains("at least 2"), "{bad}");
        let bad = config::apply("[\"h::cfg\".hedge]\nafter = \"p100\"").unwrap_err().to_string();
        assert!(bad.contains("below 100"), "{bad}");
    }
}

mod partitioned {
    use super::*;

    #[hedge(after = "p50", warmup = 5, per = host, name = "h::per")]
    async fn get(host: &str, ms: u64) -> Result<u64, AppError> {
        tokio::time::sleep(MS * ms as u32).await;
        Ok(ms)
    }

    #[tokio::test(start_paused = true)]
    async fn one_histogram_per_host() {
        for _ in 0..5 {
            get("a", 10).await.unwrap();
            get("b", 100).await.unwrap();
        }
        let snap = registry::snapshot();
        let parts = snap.partitions("h::per", "hedge").unwrap();
        assert_eq!(parts.live, 2);
        let after = |key: &str| {
            let p = parts.partitions.iter().find(|p| p.key.as_deref() == Some(key)).unwrap();
            match &p.state {
                registry::PolicyState::Hedge(h) => h.after_now.unwrap(),
                other => panic!("{other:?}"),
            }
        };
        assert!(after("a") < 11 * MS && after("b") > 90 * MS, "{parts:?}");
    }
}

mod composition {
    use super::*;

    static N: AtomicU32 = AtomicU32::new(0);
    /// Each attempt under its own 100 ms timeout: the first hangs and times out at 100 ms while
    /// the hedge (from 30 ms) answers at 40 ms.
    #[hedge(after = "30ms", name = "h::timed")]
    #[timeout("100ms")]
    async fn timed() -> Result<u32, AppError> {
        let n = N.fetch_add(1, SeqCst);
        tokio::time::sleep(if n == 0 { 10_000 * MS } else { 10 * MS }).await;
        Ok(n)
    }

    #[tokio::test(start_paused = true)]
    async fn each_attempt_gets_its_own_timeout() {
        let start = Instant::now();
        assert_eq!(timed().await, Ok(1));
        assert_eq!(start.elapsed(), 40 * MS);
    }

    static M: AtomicU32 = AtomicU32::new(0);
    /// Attempts 0 and 1 (the first call and its hedge) fail; the retry's call succeeds.
    #[retry(max = 2, base = "10ms", jitter = "none", name = "h::retried")]
    #[hedge(after = "30ms", name = "h::retried")]
    async fn retried() -> Result<u32, AppError> {
        let n = M.fetch_add(1, SeqCst);
        tokio::time::sleep(if n == 0 { 50 * MS } else { 5 * MS }).await;
        if n < 2 { Err(AppError::Transient) } else { Ok(n) }
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_above_hedges_each_attempt() {
        let start = Instant::now();
        assert_eq!(retried().await, Ok(2));
        // First attempt fails at 50 ms, its hedge (30 ms) at 35 ms; then 10 ms backoff and 5 ms.
        assert_eq!(start.elapsed(), 65 * MS);
    }
}
