//! `#[circuit_breaker(mode = "adaptive")]`: client-side throttling (Google SRE book).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use resilient::{circuit_breaker, retry, timeout};
use resilient_tests::AppError;
use tokio::time::advance;

fn rejected(r: &Result<(), AppError>) -> bool {
    matches!(r, Err(AppError::Rejected(e)) if e.is_circuit_open())
}

static DOWN: AtomicBool = AtomicBool::new(false);
static RUNS: AtomicU32 = AtomicU32::new(0);

#[circuit_breaker(mode = "adaptive", k = 2.0, window = "1s", min_rps = 0.0, name = "adaptive::dep")]
async fn dep() -> Result<(), AppError> {
    RUNS.fetch_add(1, SeqCst);
    if DOWN.load(SeqCst) { Err(AppError::Transient) } else { Ok(()) }
}

#[tokio::test(start_paused = true)]
async fn sheds_most_calls_while_failing_never_all_and_recovers_at_once() {
    resilient::rng::seed(3);
    for _ in 0..40 {
        advance(Duration::from_millis(10)).await;
        dep().await.unwrap();
    }
    DOWN.store(true, SeqCst);
    let before = RUNS.load(SeqCst);
    let mut shed = 0;
    for _ in 0..400 {
        advance(Duration::from_millis(5)).await;
        shed += u32::from(rejected(&dep().await));
    }
    let ran = RUNS.load(SeqCst) - before;
    assert_eq!(ran + shed, 400);
    assert!(shed > 250, "most calls shed: {shed}");
    assert!(ran > 20, "never every call: {ran} went through");
    let snap = resilient::registry::snapshot();
    let s = snap.adaptive_breaker("adaptive::dep").unwrap();
    assert!(s.rejection_probability > 0.8, "{s:?}");

    // Back: no cooldown to wait out; within one window nothing is rejected any more.
    DOWN.store(false, SeqCst);
    let mut late_rejections = 0;
    for i in 0..400 {
        advance(Duration::from_millis(5)).await;
        if rejected(&dep().await) && i >= 200 {
            late_rejections += 1;
        }
    }
    assert_eq!(late_rejections, 0);
    assert_eq!(
        resilient::registry::snapshot()
            .adaptive_breaker("adaptive::dep")
            .unwrap()
            .rejection_probability,
        0.0
    );
}

static FLAKY_RUNS: AtomicU32 = AtomicU32::new(0);

/// A retry above an adaptive breaker does not retry while it throttles.
#[retry(max = 5, backoff = "fixed", base = "10ms", jitter = "none", budget = "off")]
#[circuit_breaker(mode = "adaptive", window = "10s", min_rps = 0.0)]
#[timeout("50ms")]
async fn retried() -> Result<(), AppError> {
    FLAKY_RUNS.fetch_add(1, SeqCst);
    Err(AppError::Transient)
}

#[tokio::test(start_paused = true)]
async fn a_retry_stops_once_the_breaker_throttles() {
    // First call: 1 failure in the window → probability 1/2 > 0: no retry after it.
    assert!(retried().await.is_err());
    assert_eq!(FLAKY_RUNS.load(SeqCst), 1, "the retry gave up against a throttling breaker");
}

static TIMEOUTS: AtomicU32 = AtomicU32::new(0);

/// Timeouts of the layer inside count as failures.
#[circuit_breaker(mode = "adaptive", window = "10s", min_rps = 0.0, max_rejection = 0.5)]
#[timeout("10ms")]
async fn hangs() -> Result<(), AppError> {
    TIMEOUTS.fetch_add(1, SeqCst);
    std::future::pending().await
}

#[tokio::test(start_paused = true)]
async fn inner_timeouts_count_as_failures() {
    resilient::rng::seed(4);
    let mut shed = 0;
    for _ in 0..200 {
        shed += u32::from(rejected(&hangs().await));
    }
    assert!(shed > 50 && shed < 150, "about half shed at max_rejection = 0.5: {shed}");
}

/// One throttle per host.
static HOSTS_DOWN: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

struct Client {
    host: &'static str,
}

#[circuit_breaker(mode = "adaptive", window = "1s", min_rps = 0.0, per = self.host)]
impl Client {
    async fn get(&self) -> Result<(), AppError> {
        if HOSTS_DOWN.lock().unwrap().contains(&self.host) {
            Err(AppError::Transient)
        } else {
            Ok(())
        }
    }
}

#[tokio::test(start_paused = true)]
async fn per_key_and_on_impl_blocks() {
    resilient::rng::seed(5);
    HOSTS_DOWN.lock().unwrap().push("a");
    let (a, b) = (Client { host: "a" }, Client { host: "b" });
    let mut shed_a = 0;
    for _ in 0..200 {
        shed_a += u32::from(rejected(&a.get().await));
        assert!(b.get().await.is_ok(), "another host, another throttle");
    }
    assert!(shed_a > 100, "{shed_a}");
    let snap = resilient::registry::snapshot();
    let parts =
        snap.partitions("adaptive_breaker::Client::get", "circuit_breaker").expect("listed once");
    assert_eq!(parts.live, 2);
}

#[circuit_breaker(mode = "adaptive", name = "adaptive::configured")]
async fn configured() -> Result<(), AppError> {
    Ok(())
}

#[tokio::test]
async fn configuration_addresses_it_as_a_circuit_breaker() {
    configured().await.unwrap();
    let table = "[\"adaptive::configured\".circuit_breaker]";
    resilient::config::apply(&format!("{table}\nmax_rejection = 0.5\nforce = \"open\"")).unwrap();
    let snap = resilient::registry::snapshot();
    assert_eq!(snap.adaptive_breaker("adaptive::configured").unwrap().settings.max_rejection, 0.5);
    assert!(rejected(&configured().await), "forced open");
    let err = resilient::config::apply(&format!("{table}\nthreshold = 3")).unwrap_err().to_string();
    assert!(err.contains("`threshold` does not apply") && err.contains("adaptive"), "{err}");
    resilient::config::apply(&format!("{table}\nforce = \"none\"")).unwrap();
    assert!(configured().await.is_ok());
}

/// `timeouts = "settled"`: a timeout the adaptive limit is still learning (below its `max`) is
/// not a breaker failure; one at `max` is. Binary mode.
#[circuit_breaker(threshold = 1, cooldown = "10s", timeouts = "settled", name = "learning::binary")]
#[timeout("p99*2", initial = "100ms", min = "10ms", max = "1s", warmup = 1, window = "10s")]
async fn learning(delay: Duration) -> Result<(), AppError> {
    tokio::time::sleep(delay).await;
    Ok(())
}

/// The default (`timeouts = "all"`, the contract): the same timeout is a failure.
#[circuit_breaker(threshold = 1, cooldown = "10s", name = "learning::binary_all")]
#[timeout("p99*2", initial = "100ms", min = "10ms", max = "1s", warmup = 1, window = "10s")]
async fn learning_all(delay: Duration) -> Result<(), AppError> {
    tokio::time::sleep(delay).await;
    Ok(())
}

/// Adaptive mode, `timeouts = "settled"`.
#[circuit_breaker(
    mode = "adaptive",
    window = "10s",
    min_rps = 0.0,
    timeouts = "settled",
    name = "learning::adaptive"
)]
#[timeout("p99*2", initial = "100ms", min = "10ms", max = "1s", warmup = 1, window = "10s")]
async fn learning_adaptive(delay: Duration) -> Result<(), AppError> {
    tokio::time::sleep(delay).await;
    Ok(())
}

/// Adaptive mode, the default `timeouts = "all"` written out.
#[circuit_breaker(
    mode = "adaptive",
    window = "10s",
    min_rps = 0.0,
    timeouts = "all",
    name = "learning::adaptive_all"
)]
#[timeout("p99*2", initial = "100ms", min = "10ms", max = "1s", warmup = 1, window = "10s")]
async fn learning_adaptive_all(delay: Duration) -> Result<(), AppError> {
    tokio::time::sleep(delay).await;
    Ok(())
}

fn timed_out(r: &Result<(), AppError>) -> bool {
    matches!(r, Err(AppError::Rejected(e)) if e.is_timeout())
}

#[tokio::test(start_paused = true)]
async fn settled_ignores_timeouts_below_the_adaptive_max_binary() {
    for _ in 0..20 {
        learning(Duration::from_millis(5)).await.unwrap();
    }
    // Ten times slower: cut at the learned limit, which rises; the breaker stays closed.
    let slow = learning(Duration::from_millis(50)).await;
    assert!(timed_out(&slow), "{slow:?}");
    let snap = resilient::registry::snapshot();
    let b = snap.breaker("learning::binary").unwrap();
    assert_eq!(b.failures, 0);
    assert_eq!(b.settings.timeouts, resilient::runtime::breaker::Timeouts::Settled);
    assert_eq!(
        snap.policy("learning::binary", "circuit_breaker")
            .unwrap()
            .setting("timeouts")
            .unwrap()
            .value,
        "settled"
    );
    // A hang: the limit climbs to `max`, and the timeout there opens the breaker.
    let mut calls = 0;
    while !rejected(&learning(Duration::from_secs(3600)).await) {
        calls += 1;
        assert!(calls < 100, "the breaker never opened");
    }
    let snap = resilient::registry::snapshot();
    assert_eq!(snap.breaker("learning::binary").unwrap().opened, 1);
}

#[tokio::test(start_paused = true)]
async fn by_default_every_timeout_is_a_failure_binary() {
    for _ in 0..20 {
        learning_all(Duration::from_millis(5)).await.unwrap();
    }
    // The same timeout at the learned limit opens the breaker (threshold 1).
    assert!(timed_out(&learning_all(Duration::from_millis(50)).await));
    let snap = resilient::registry::snapshot();
    let b = snap.breaker("learning::binary_all").unwrap();
    assert_eq!((b.opened, b.settings.timeouts), (1, resilient::runtime::breaker::Timeouts::All));
    assert!(rejected(&learning_all(Duration::from_millis(5)).await));
}

#[tokio::test(start_paused = true)]
async fn settled_ignores_timeouts_below_the_adaptive_max_adaptive() {
    for _ in 0..20 {
        learning_adaptive(Duration::from_millis(5)).await.unwrap();
    }
    let requests = |name| {
        let snap = resilient::registry::snapshot();
        let s = snap.adaptive_breaker(name).unwrap();
        (s.requests, s.accepts)
    };
    let before = requests("learning::adaptive");
    assert!(timed_out(&learning_adaptive(Duration::from_millis(50)).await));
    // Neither a request without an accept nor an accept: nothing recorded.
    assert_eq!(requests("learning::adaptive"), before);
    // A hang, cut at `max`: a failure.
    let mut calls = 0;
    while requests("learning::adaptive").0 == before.0 {
        let r = learning_adaptive(Duration::from_secs(3600)).await;
        assert!(timed_out(&r), "{r:?}");
        calls += 1;
        assert!(calls < 100, "a timeout at max never counted");
    }
    assert_eq!(requests("learning::adaptive").1, before.1);
}

#[tokio::test(start_paused = true)]
async fn by_default_every_timeout_is_a_failure_adaptive() {
    for _ in 0..20 {
        learning_adaptive_all(Duration::from_millis(5)).await.unwrap();
    }
    let snap = resilient::registry::snapshot();
    let before = snap.adaptive_breaker("learning::adaptive_all").unwrap();
    let (requests, accepts) = (before.requests, before.accepts);
    assert!(timed_out(&learning_adaptive_all(Duration::from_millis(50)).await));
    let snap = resilient::registry::snapshot();
    let after = snap.adaptive_breaker("learning::adaptive_all").unwrap();
    assert_eq!((after.requests, after.accepts), (requests + 1, accepts), "a failure");
    assert_eq!(after.settings.timeouts, resilient::runtime::breaker::Timeouts::All);
}

/// Configuration sets `timeouts` at run time, in either mode.
#[circuit_breaker(threshold = 1, cooldown = "10s", name = "learning::configured")]
#[timeout("p99*2", initial = "100ms", min = "10ms", max = "1s", warmup = 1, window = "10s")]
async fn learning_configured(delay: Duration) -> Result<(), AppError> {
    tokio::time::sleep(delay).await;
    Ok(())
}

#[circuit_breaker(
    mode = "adaptive",
    window = "10s",
    min_rps = 0.0,
    name = "learning::configured_adaptive"
)]
#[timeout("p99*2", initial = "100ms", min = "10ms", max = "1s", warmup = 1, window = "10s")]
async fn learning_configured_adaptive(delay: Duration) -> Result<(), AppError> {
    tokio::time::sleep(delay).await;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn configuration_switches_which_timeouts_count_adaptive() {
    let table = "[\"learning::configured_adaptive\".circuit_breaker]";
    resilient::config::apply(&format!("{table}\ntimeouts = \"settled\"")).unwrap();
    for _ in 0..20 {
        learning_configured_adaptive(Duration::from_millis(5)).await.unwrap();
    }
    let counts = || {
        let snap = resilient::registry::snapshot();
        let s = snap.adaptive_breaker("learning::configured_adaptive").unwrap();
        assert_eq!(
            snap.policy("learning::configured_adaptive", "circuit_breaker")
                .unwrap()
                .setting("timeouts")
                .unwrap()
                .value,
            s.settings.timeouts.as_str()
        );
        (s.requests, s.accepts)
    };
    let before = counts();
    assert!(timed_out(&learning_configured_adaptive(Duration::from_millis(50)).await));
    assert_eq!(counts(), before, "not recorded");
    resilient::config::apply(&format!("{table}\ntimeouts = \"all\"")).unwrap();
    assert!(timed_out(&learning_configured_adaptive(Duration::from_millis(100)).await));
    assert_eq!(counts(), (before.0 + 1, before.1), "a failure");
}

#[tokio::test(start_paused = true)]
async fn configuration_switches_which_timeouts_count() {
    let table = "[\"learning::configured\".circuit_breaker]";
    let err = resilient::config::apply(&format!("{table}\ntimeouts = \"some\"")).unwrap_err();
    assert!(err.to_string().contains(r#"expected "all" (every timeout"#), "{err}");
    resilient::config::apply(&format!("{table}\ntimeouts = \"settled\"")).unwrap();
    for _ in 0..20 {
        learning_configured(Duration::from_millis(5)).await.unwrap();
    }
    assert!(timed_out(&learning_configured(Duration::from_millis(50)).await));
    let snap = resilient::registry::snapshot();
    assert_eq!(snap.breaker("learning::configured").unwrap().failures, 0);
    resilient::config::apply(&format!("{table}\ntimeouts = \"all\"")).unwrap();
    assert!(timed_out(&learning_configured(Duration::from_millis(100)).await));
    let snap = resilient::registry::snapshot();
    assert_eq!(snap.breaker("learning::configured").unwrap().opened, 1);
}

#[circuit_breaker(mode = "adaptive", window = "10s", min_rps = 0.0, name = "adaptive::metered")]
async fn metered(fail: bool) -> Result<(), AppError> {
    if fail { Err(AppError::Transient) } else { Ok(()) }
}

/// Calls by outcome (kind `circuit_breaker`) and the rejection probability as a gauge; no
/// open/closed state gauge.
#[tokio::test(start_paused = true)]
async fn metrics_count_outcomes_and_follow_the_probability() {
    resilient::rng::seed(6);
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let _local = metrics::set_default_local_recorder(&recorder);
    metered(false).await.unwrap();
    let mut rejections = 0;
    for _ in 0..50 {
        rejections += u32::from(rejected(&metered(true).await));
    }
    let text = recorder.handle().render();
    let value = |series: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {series} in\n{text}"))
    };
    let calls = |outcome: &str| {
        value(&format!(
            r#"resilient_calls_total{{policy="adaptive::metered",kind="circuit_breaker",outcome="{outcome}"}}"#
        ))
    };
    assert_eq!(calls("success"), 1.0);
    assert_eq!(calls("rejected"), f64::from(rejections));
    assert_eq!(calls("failure"), f64::from(50 - rejections));
    let p = value(r#"resilient_throttle_probability{policy="adaptive::metered"}"#);
    assert!(p > 0.5 && p <= 0.9, "{p}");
    assert!(!text.contains(r#"resilient_circuit_state{policy="adaptive::metered"}"#));
}

/// During the warm-up the limit is `initial`, the user's own choice: its timeouts count.
#[circuit_breaker(threshold = 2, cooldown = "10s", name = "learning::cold")]
#[timeout("p99*2", initial = "100ms", max = "1s", warmup = 50)]
async fn cold_hang() -> Result<(), AppError> {
    std::future::pending().await
}

#[tokio::test(start_paused = true)]
async fn timeouts_at_the_initial_limit_count() {
    assert!(cold_hang().await.is_err());
    assert!(cold_hang().await.is_err());
    assert!(rejected(&cold_hang().await), "two timeouts at `initial` opened the breaker");
}
