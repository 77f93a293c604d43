//! Configuration at run time (`resilient::config`): settings change by name, state stays.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use resilient::runtime::breaker::CircuitState;
use resilient::{circuit_breaker, config, idempotent, retry, timeout};
use resilient_tests::AppError;
use tokio::time::{advance, sleep};

/// The effective value and source of `key` for policy `name` of `kind`, from the registry.
fn setting(name: &str, kind: &str, key: &str) -> (String, String) {
    let snap = resilient::registry::snapshot();
    let policy = snap.policy(name, kind).unwrap_or_else(|| panic!("{name} ({kind}) not listed"));
    let s = policy.setting(key).unwrap_or_else(|| panic!("{name}: no setting {key}"));
    // The serialised form carries the source as configuration names it.
    let source = serde_json::to_value(s.source).unwrap();
    (s.value.clone(), source.as_str().unwrap().to_owned())
}

fn rejected(r: &Result<(), AppError>) -> bool {
    matches!(r, Err(AppError::Rejected(e)) if e.is_circuit_open())
}

mod open_breaker {
    use super::*;

    static RUNS: AtomicU32 = AtomicU32::new(0);

    #[circuit_breaker(threshold = 2, cooldown = "10s", name = "cfg.open")]
    async fn call() -> Result<(), AppError> {
        RUNS.fetch_add(1, SeqCst);
        Err(AppError::Transient)
    }

    #[tokio::test(start_paused = true)]
    async fn stays_open_across_a_reload_and_takes_the_new_cooldown() {
        for _ in 0..2 {
            assert_eq!(call().await, Err(AppError::Transient));
        }
        assert!(rejected(&call().await));
        config::apply(
            r#"
            ["cfg.open".circuit_breaker]
            threshold = 10
            cooldown = "5s"
            "#,
        )
        .unwrap();
        assert!(rejected(&call().await), "still open after the reload");
        assert_eq!(RUNS.load(SeqCst), 2);
        assert_eq!(
            setting("cfg.open", "circuit_breaker", "threshold"),
            ("10".into(), "api".into())
        );
        assert_eq!(
            setting("cfg.open", "circuit_breaker", "window"),
            ("30s".into(), "inline".into())
        );
        // The new cooldown applies to the period under way: probes after 5 s, not 10.
        advance(Duration::from_secs(5)).await;
        assert_eq!(call().await, Err(AppError::Transient), "the probe ran");
        assert_eq!(RUNS.load(SeqCst), 3);
    }
}

mod counted {
    use super::*;

    #[circuit_breaker(threshold = 3, name = "cfg.count")]
    async fn call() -> Result<(), AppError> {
        Err(AppError::Transient)
    }

    fn failures() -> u32 {
        resilient::registry::snapshot().breaker("cfg.count").unwrap().failures
    }

    #[tokio::test(start_paused = true)]
    async fn failures_stay_counted_across_a_reload() {
        for _ in 0..2 {
            let _ = call().await;
        }
        config::apply("[\"cfg.count\".circuit_breaker]\nthreshold = 4").unwrap();
        assert_eq!(failures(), 2, "counted failures stay");
        config::apply("[\"cfg.count\".circuit_breaker]\nfailure_rate = 0.5\nmin_calls = 100")
            .unwrap();
        assert_eq!(failures(), 2, "switching the trip rule keeps them too");
        config::apply("[\"cfg.count\".circuit_breaker]\nfailure_rate = \"off\"").unwrap();
        let _ = call().await;
        assert_eq!(
            resilient::registry::snapshot().breaker("cfg.count").unwrap().state,
            CircuitState::Closed
        );
        let _ = call().await;
        assert_eq!(
            resilient::registry::snapshot().breaker("cfg.count").unwrap().state,
            CircuitState::Open,
            "the fourth failure opens it"
        );
    }
}

mod histogram {
    use super::*;

    #[timeout("p50*2", warmup = 5, initial = "1s", name = "cfg.hist")]
    async fn call() -> Result<(), AppError> {
        sleep(Duration::from_millis(100)).await;
        Ok(())
    }

    #[timeout("p50*2", name = "cfg.floor")]
    async fn floored() -> Result<(), AppError> {
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn a_configured_max_below_the_default_floor_lowers_it_as_in_source() {
        floored().await.unwrap();
        config::apply("[\"cfg.floor\".timeout]\nmax = \"10ms\"").unwrap();
        let t = resilient::registry::snapshot().timeout("cfg.floor").unwrap().clone();
        let s = t.settings.unwrap();
        assert_eq!((s.min, s.max), (Duration::from_millis(10), Duration::from_millis(10)));
    }

    #[tokio::test(start_paused = true)]
    async fn latency_samples_stay_and_the_new_rule_applies_to_them_at_once() {
        for _ in 0..10 {
            call().await.unwrap();
        }
        // Refreshes are periodic: let one happen.
        advance(Duration::from_millis(300)).await;
        call().await.unwrap();
        let before = resilient::registry::snapshot().timeout("cfg.hist").unwrap().clone();
        assert_eq!(before.samples, 11);
        let ms = before.current.as_millis();
        assert!((190..=215).contains(&ms), "{ms}");

        config::apply("[\"cfg.hist\".timeout]\nrule = \"p50*3\"").unwrap();
        let after = resilient::registry::snapshot().timeout("cfg.hist").unwrap().clone();
        assert_eq!(after.samples, 11, "the histogram stays");
        let ms = after.current.as_millis();
        assert!((285..=320).contains(&ms), "{ms}");
        assert_eq!(setting("cfg.hist", "timeout", "rule"), ("p50*3".into(), "api".into()));
    }
}

mod store {
    use super::*;

    static RUNS: AtomicU32 = AtomicU32::new(0);

    #[idempotent(key = key, ttl = "1h", name = "cfg.idem")]
    async fn charge(key: u64) -> Result<u32, AppError> {
        Ok(RUNS.fetch_add(1, SeqCst))
    }

    #[tokio::test(start_paused = true)]
    async fn stored_results_stay_and_enabled_false_passes_through() {
        assert_eq!(charge(7).await, Ok(0));
        config::apply("[\"cfg.idem\".idempotent]\nttl = \"2h\"").unwrap();
        assert_eq!(charge(7).await, Ok(0), "the stored result stays");
        config::apply("[\"cfg.idem\".idempotent]\nenabled = false").unwrap();
        assert_eq!(charge(7).await, Ok(1), "disabled: the body runs");
        config::apply("[\"cfg.idem\".idempotent]\nenabled = true").unwrap();
        assert_eq!(charge(7).await, Ok(0), "enabled again: the store kept the first result");
        assert_eq!(RUNS.load(SeqCst), 2);
        assert_eq!(setting("cfg.idem", "idempotent", "ttl"), ("2h".into(), "api".into()));
    }
}

mod all_or_nothing {
    use super::*;

    #[retry(max = 3, base = "10ms", name = "cfg.aon")]
    async fn call() -> Result<(), AppError> {
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn one_bad_key_rejects_the_whole_text() {
        call().await.unwrap();
        let err = config::apply(
            r#"
            ["cfg.aon".retry]
            max = 5

            ["cfg.aon.other".circuit_breaker]
            threshold = 0
            "#,
        )
        .unwrap_err();
        assert_eq!(err.problems().len(), 1);
        assert_eq!(
            err.to_string(),
            "[\"cfg.aon.other\".circuit_breaker] threshold: expected the number of failures within \
             `window` that opens the circuit: a whole number from 1 to 1000000"
        );
        assert_eq!(setting("cfg.aon", "retry", "max"), ("3".into(), "inline".into()));
    }

    #[tokio::test(start_paused = true)]
    async fn settings_that_disagree_with_the_compiled_ones_reject_the_text() {
        call().await.unwrap();
        let err = config::apply("[\"cfg.aon\".retry]\nmax_delay = \"1ms\"").unwrap_err();
        assert!(
            err.to_string().contains("`max_delay` (1ms) is shorter than `base` (10ms)"),
            "{err}"
        );
        assert_eq!(setting("cfg.aon", "retry", "max_delay"), ("10s".into(), "inline".into()));
    }
}

#[test]
fn bad_values_read_like_the_compile_error() {
    // The compile errors of `#[circuit_breaker(threshold = 0)]`, `window = "30"`,
    // `cooldown = "ten seconds"`, `failure_rate = 1.5` and `probes = 0`, as the UI test has them.
    let compiled = include_str!("../ui/circuit_breaker/fail/bad-values.stderr");
    let err = config::apply(
        r#"
        ["cfg.values".circuit_breaker]
        threshold = 0
        window = "30"
        cooldown = "ten seconds"
        failure_rate = 1.5
        probes = 0
        "#,
    )
    .unwrap_err();
    assert_eq!(err.problems().len(), 5, "{err}");
    for problem in err.problems() {
        assert_eq!(problem.table.as_deref(), Some("[\"cfg.values\".circuit_breaker]"));
        assert!(
            compiled.contains(&format!("error: {}", problem.message)),
            "{:?}: {} is not the compile error",
            problem.key,
            problem.message
        );
    }
}

#[test]
fn unknown_kinds_and_keys_say_what_was_meant() {
    let err = config::apply("[\"cfg.x\".circuit_breakr]\nthreshold = 3").unwrap_err();
    assert!(
        err.to_string()
            .contains("unknown policy kind `circuit_breakr`; did you mean `circuit_breaker`?"),
        "{err}"
    );
    let err = config::apply("[\"cfg.x\".circuit_breaker]\ntreshold = 3").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("[\"cfg.x\".circuit_breaker] treshold: unknown `circuit_breaker` key `treshold`; did you mean `threshold`?"), "{text}");
    assert!(
        text.contains("valid keys for `circuit_breaker`: threshold, window, cooldown"),
        "{text}"
    );
    let err = config::apply("[\"cfg.x\".retry]\nwhen = \"is_transient\"").unwrap_err();
    assert!(
        err.to_string().contains("`when` cannot be set from configuration: it is code"),
        "{err}"
    );
    let err = config::apply("not toml [").unwrap_err();
    assert!(err.to_string().starts_with("not valid TOML"), "{err}");
}

mod later {
    use super::*;

    static RUNS: AtomicU32 = AtomicU32::new(0);

    #[retry(max = 3, base = "1ms", name = "cfg::later::call")]
    async fn call() -> Result<(), AppError> {
        RUNS.fetch_add(1, SeqCst);
        Err(AppError::Transient)
    }

    #[tokio::test(start_paused = true)]
    async fn a_glob_that_matches_nothing_yet_is_kept_for_policies_built_later() {
        let applied = config::apply("[\"cfg::later::*\".retry]\nmax = 1").unwrap();
        assert_eq!(applied.pending, ["\"cfg::later::*\".retry"]);
        assert!(applied.matched.is_empty());
        assert_eq!(call().await, Err(AppError::Transient));
        assert_eq!(RUNS.load(SeqCst), 1, "started with max = 1");
        assert_eq!(setting("cfg::later::call", "retry", "max"), ("1".into(), "api".into()));
        let again = config::apply("[\"cfg::later::*\".retry]\nmax = 2").unwrap();
        assert_eq!(again.matched[0].policies, ["cfg::later::call"]);
    }
}

mod misfit {
    use super::*;

    #[retry(max = 2, base = "1s", name = "cfg::misfit::late")]
    async fn late() -> Result<(), AppError> {
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn a_later_policy_the_configuration_does_not_fit_keeps_its_own_and_blocks_nothing() {
        config::apply("[\"cfg::misfit::*\".retry]\nmax_delay = \"100ms\"\nmax = 4").unwrap();
        late().await.unwrap();
        // `max_delay` below its `base`: it keeps its compiled settings, all of them.
        assert_eq!(setting("cfg::misfit::late", "retry", "max"), ("2".into(), "inline".into()));
        // Unrelated configuration still applies.
        config::apply("[\"cfg::misfit::other\".retry]\nmax = 5").unwrap();
    }
}

mod disabled {
    use super::*;

    static RUNS: AtomicU32 = AtomicU32::new(0);

    #[retry(max = 3, base = "1ms", name = "cfg.disabled")]
    async fn call() -> Result<(), AppError> {
        RUNS.fetch_add(1, SeqCst);
        Err(AppError::Transient)
    }

    #[tokio::test(start_paused = true)]
    async fn a_disabled_retry_calls_once_and_is_back_when_enabled() {
        config::apply("[\"cfg.disabled\".retry]\nenabled = false").unwrap();
        let _ = call().await;
        assert_eq!(RUNS.load(SeqCst), 1);
        config::apply("[\"cfg.disabled\".retry]\nenabled = true").unwrap();
        let _ = call().await;
        assert_eq!(RUNS.load(SeqCst), 4);
    }

    #[timeout("50ms", name = "cfg.disabled.timeout")]
    async fn slow() -> Result<(), AppError> {
        sleep(Duration::from_millis(200)).await;
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn a_disabled_timeout_lets_slow_calls_finish() {
        assert!(matches!(slow().await, Err(AppError::Rejected(e)) if e.is_timeout()));
        config::apply("[\"cfg.disabled.timeout\".timeout]\nenabled = false").unwrap();
        assert_eq!(slow().await, Ok(()));
        config::apply("[\"cfg.disabled.timeout\".timeout]\nenabled = true\nrule = \"300ms\"")
            .unwrap();
        assert_eq!(slow().await, Ok(()));
    }
}

mod force {
    use super::*;

    static RUNS: AtomicU32 = AtomicU32::new(0);
    static FAIL: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

    #[circuit_breaker(threshold = 1, cooldown = "10s", name = "cfg.force")]
    async fn call() -> Result<(), AppError> {
        RUNS.fetch_add(1, SeqCst);
        if FAIL.load(SeqCst) { Err(AppError::Transient) } else { Ok(()) }
    }

    fn breaker() -> resilient::runtime::breaker::BreakerSnapshot {
        resilient::registry::snapshot().breaker("cfg.force").unwrap().clone()
    }

    #[tokio::test(start_paused = true)]
    async fn force_open_and_closed_are_overrides_the_next_configuration_lifts() {
        call().await.unwrap();
        config::apply("[\"cfg.force\".circuit_breaker]\nforce = \"open\"").unwrap();
        assert!(rejected(&call().await), "forced open");
        assert_eq!(RUNS.load(SeqCst), 1);
        assert_eq!(breaker().forced, Some(CircuitState::Open));
        assert_eq!(breaker().state, CircuitState::Closed, "the state underneath is kept");

        config::apply("[\"cfg.force\".circuit_breaker]\nforce = \"none\"").unwrap();
        call().await.unwrap();
        assert_eq!(RUNS.load(SeqCst), 2);

        // Open it for real, then force it closed: calls pass and nothing is recorded.
        FAIL.store(true, SeqCst);
        let _ = call().await;
        assert!(rejected(&call().await));
        config::apply("[\"cfg.force\".circuit_breaker]\nforce = \"closed\"").unwrap();
        assert_eq!(call().await, Err(AppError::Transient), "forced closed: the body runs");
        assert_eq!(breaker().forced, Some(CircuitState::Closed));
        assert_eq!(breaker().state, CircuitState::Open);

        // Lifted: the breaker is open as it was, with its cooldown still running.
        config::apply("[\"cfg.force\".circuit_breaker]\nforce = \"none\"").unwrap();
        assert!(rejected(&call().await));
        assert_eq!(breaker().forced, None);
    }
}

mod files {
    use super::*;

    #[retry(max = 3, base = "1ms", name = "cfg.file")]
    async fn call() -> Result<(), AppError> {
        Ok(())
    }

    fn temp(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("resilient-config-{}-{name}.toml", std::process::id()))
    }

    #[tokio::test]
    async fn a_reload_replaces_what_the_file_set_before() {
        call().await.unwrap();
        let path = temp("replace");
        std::fs::write(&path, "[\"cfg.file\".retry]\nmax = 5\njitter = \"full\"\n").unwrap();
        config::load(&path).unwrap();
        assert_eq!(setting("cfg.file", "retry", "max"), ("5".into(), "file".into()));
        assert_eq!(setting("cfg.file", "retry", "jitter"), ("full".into(), "file".into()));
        std::fs::write(&path, "[\"cfg.file\".retry]\nmax = 4\n").unwrap();
        config::load(&path).unwrap();
        assert_eq!(setting("cfg.file", "retry", "max"), ("4".into(), "file".into()));
        assert_eq!(
            setting("cfg.file", "retry", "jitter"),
            ("0.1".into(), "inline".into()),
            "removed from the file: back to the compiled value"
        );
        std::fs::remove_file(&path).unwrap();
    }

    #[retry(max = 3, base = "1ms", name = "cfg.file.precedence")]
    async fn ranked() -> Result<(), AppError> {
        Ok(())
    }

    #[tokio::test]
    async fn apply_wins_over_a_file_whatever_the_order() {
        ranked().await.unwrap();
        let path = temp("precedence");
        config::apply("[\"cfg.file.precedence\".retry]\nmax = 6").unwrap();
        std::fs::write(&path, "[\"cfg.file.precedence\".retry]\nmax = 5\nbase = \"2ms\"\n")
            .unwrap();
        config::load(&path).unwrap();
        assert_eq!(setting("cfg.file.precedence", "retry", "max"), ("6".into(), "api".into()));
        assert_eq!(setting("cfg.file.precedence", "retry", "base"), ("2ms".into(), "file".into()));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_bad_file_is_named_in_the_error() {
        let path = temp("bad");
        std::fs::write(&path, "[\"cfg.file.bad\".timeout]\nrule = \"p100*2\"\n").unwrap();
        let err = config::load(&path).unwrap_err();
        assert_eq!(err.file(), Some(path.as_path()));
        assert_eq!(
            err.to_string(),
            format!(
                "{}: [\"cfg.file.bad\".timeout] rule: the percentile in `p100*2` must be above 0 and below 100, like p50, p99 or p99.9",
                path.display()
            )
        );
        std::fs::remove_file(&path).unwrap();
    }
}
