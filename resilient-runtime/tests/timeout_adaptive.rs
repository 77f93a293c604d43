//! Adaptive timeouts on tokio's paused clock: bodies sleep known virtual durations, so the
//! latencies the policy learns from are exact.

use std::time::Duration;

use resilient_runtime::error::CircuitOpen;
use resilient_runtime::registry::{self, PolicyState};
use resilient_runtime::timeout::{AdaptiveSettings, Timeout, TimeoutRule};
use resilient_runtime::{Error, Outcome};
use tokio::time::{advance, sleep};

const MS: Duration = Duration::from_millis(1);
const US: Duration = Duration::from_micros(1);

/// One call whose body takes `latency`.
async fn call(t: &Timeout, latency: Duration) -> Result<(), Error> {
    t.run(async move {
        sleep(latency).await;
        Ok(())
    })
    .await
}

/// One call to a dependency answering after `latency`, below tokio's 1 ms timer resolution: the
/// body moves the paused clock itself.
async fn fast_call(t: &Timeout, latency: Duration) -> Result<(), Error> {
    t.run(async move {
        advance(latency).await;
        Ok(())
    })
    .await
}

/// What the registry shows for `name`, without the refresh [`Timeout::snapshot`] does.
fn listed(name: &str) -> resilient_runtime::timeout::TimeoutSnapshot {
    registry::snapshot().timeout(name).expect("registered").clone()
}

/// `actual` is within the histogram's 1.6 % of `expected`.
#[track_caller]
fn assert_near(actual: Duration, expected: Duration) {
    let error = actual.as_secs_f64() / expected.as_secs_f64() - 1.0;
    assert!(error.abs() <= 1.0 / 64.0, "{actual:?} is not within 1.6 % of {expected:?}");
}

#[tokio::test(start_paused = true)]
async fn uses_initial_until_warmed_up() {
    let t = Timeout::adaptive(99.0, 2.0).warmup(10).initial(Duration::from_secs(1)).build();
    assert_eq!(t.current(), Duration::from_secs(1));
    for _ in 0..9 {
        call(&t, 20 * MS).await.unwrap();
    }
    // `snapshot` refreshes, so this is the state with all nine samples counted.
    let snap = t.snapshot();
    assert!(snap.warming_up);
    assert_eq!(snap.samples, 9);
    assert_near(snap.percentile.unwrap(), 20 * MS);
    assert_eq!(t.current(), Duration::from_secs(1));
    call(&t, 20 * MS).await.unwrap();
    let snap = t.snapshot();
    assert!(!snap.warming_up);
    assert_eq!(snap.samples, 10);
    assert_near(t.current(), 40 * MS);
}

#[tokio::test(start_paused = true)]
async fn the_warmup_ends_at_the_sample_that_completes_it() {
    // Ten 20 ms calls take 200 ms, less than one refresh period (250 ms): only the count can end
    // the warm-up, and nothing here asks for a refresh.
    let name = "timeout_test::warmup_ends";
    let t = Timeout::adaptive(99.0, 2.0).name(name).warmup(10).build();
    for i in 1..10 {
        call(&t, 20 * MS).await.unwrap();
        let seen = listed(name);
        assert_eq!((seen.samples, seen.warming_up), (i, true));
        assert_eq!(t.current(), Duration::from_secs(1));
    }
    call(&t, 20 * MS).await.unwrap();
    assert_near(t.current(), 40 * MS);
    let seen = listed(name);
    assert_eq!((seen.samples, seen.warming_up), (10, false));
    assert_near(seen.current, 40 * MS);
    assert_near(seen.percentile.unwrap(), 20 * MS);
}

#[tokio::test(start_paused = true)]
async fn a_fast_dependency_is_never_shown_stale() {
    // Issue 11's case: a local server (150 µs), default settings, 2 000 calls in 0.3 s of tokio
    // time, a small fraction of the 60 s window's refresh period.
    let name = "timeout_test::fast_dependency";
    let t = Timeout::adaptive(99.0, 3.0).name(name).build();
    let defaults = AdaptiveSettings::default();
    for i in 1..=2_000u64 {
        fast_call(&t, 150 * US).await.unwrap();
        if i % 97 == 0 || (99..=101).contains(&i) {
            let seen = listed(name);
            assert_eq!(seen.samples, i);
            assert_eq!(seen.warming_up, i < u64::from(defaults.warmup), "after {i} calls");
        }
        if i < u64::from(defaults.warmup) {
            assert_eq!(t.current(), defaults.initial);
        } else {
            // 3 × 150 µs is far below the floor.
            assert_eq!(t.current(), defaults.min, "after {i} calls");
        }
    }
    let seen = listed(name);
    assert_eq!((seen.samples, seen.warming_up, seen.timeouts), (2_000, false, 0));
    assert_near(seen.percentile.unwrap(), 150 * US);
}

#[tokio::test(start_paused = true)]
async fn the_default_floor_is_twenty_milliseconds() {
    assert_eq!(AdaptiveSettings::default().min, 20 * MS);
    let t = Timeout::adaptive(99.0, 2.0).warmup(10).build();
    for _ in 0..10 {
        fast_call(&t, 200 * US).await.unwrap();
    }
    assert_eq!(t.current(), 20 * MS);
    // A call of 15 ms, 75 times the usual latency, still gets its answer.
    fast_call(&t, 15 * MS).await.unwrap();
    assert_eq!(t.snapshot().timeouts, 0);
}

#[tokio::test(start_paused = true)]
async fn a_max_below_the_default_floor_is_the_floor_too() {
    // Fine with the old 1 ms floor, so it must not start panicking with "min exceeds max".
    let t = Timeout::adaptive(99.0, 2.0).warmup(10).max(10 * MS).build();
    for _ in 0..10 {
        fast_call(&t, 200 * US).await.unwrap();
    }
    assert_eq!(t.current(), 10 * MS);
    // A `min` given explicitly is kept, whichever comes first.
    let b = Timeout::adaptive(99.0, 2.0).min(2 * MS).max(10 * MS);
    assert_eq!(b, Timeout::adaptive(99.0, 2.0).max(10 * MS).min(2 * MS));
    assert_eq!(b.build().snapshot().settings.unwrap().min, 2 * MS);
}

#[tokio::test(start_paused = true)]
async fn converges_to_k_times_the_percentile() {
    // Latencies 1..=100 ms, each three times: the exact p50, p90, p99 are 50, 90, 99 ms. Every
    // rule's timeout stays above 100 ms, so no call times out.
    for (p, k, expected) in [(50.0, 3.0, 150.0), (90.0, 2.0, 180.0), (99.0, 1.5, 148.5)] {
        let t = Timeout::adaptive(p, k).build();
        for i in 0..300u32 {
            call(&t, (i % 100 + 1) * MS).await.unwrap();
        }
        let expected = Duration::from_secs_f64(expected / 1000.0);
        // Refreshed by the calls themselves (every 250 ms of their 15 s): no more than a few
        // calls behind, and the distribution is the same throughout.
        let error = t.current().as_secs_f64() / expected.as_secs_f64() - 1.0;
        assert!(error.abs() < 0.05, "p{p}*{k}: {:?}", t.current());
        let snap = t.snapshot();
        assert_eq!(snap.samples, 300);
        assert_near(snap.current, expected);
        assert_near(snap.percentile.unwrap(), expected.div_f64(k));
        assert_eq!(snap.timeouts, 0);
    }
}

#[tokio::test(start_paused = true)]
async fn clamps_to_min_and_max() {
    let fast = Timeout::adaptive(99.0, 2.0).warmup(10).min(5 * MS).build();
    for _ in 0..20 {
        call(&fast, MS).await.unwrap();
    }
    assert_eq!(fast.snapshot().current, 5 * MS);

    let slow = Timeout::adaptive(99.0, 2.0)
        .warmup(10)
        .initial(Duration::from_secs(10))
        .max(Duration::from_secs(5))
        .build();
    for _ in 0..20 {
        call(&slow, Duration::from_secs(3)).await.unwrap();
    }
    assert_eq!(slow.snapshot().current, Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn timeouts_count_as_censored_samples_and_pull_the_limit_up() {
    // Every call takes 300 ms but the initial limit is 100 ms: without censored samples nothing
    // would ever be learned and every call would time out forever.
    let t = Timeout::adaptive(99.0, 2.0).warmup(10).initial(100 * MS).build();
    let mut outcomes = Vec::new();
    for _ in 0..30 {
        outcomes.push(call(&t, 300 * MS).await.is_ok());
    }
    let first_success = outcomes.iter().position(|ok| *ok).expect("never succeeded");
    // Ten timeouts at 100 ms end the warm-up at ~200 ms; one more at ~200 ms lifts it to ~400 ms.
    assert!((10..=13).contains(&first_success), "{outcomes:?}");
    assert!(outcomes[first_success..].iter().all(|ok| *ok), "{outcomes:?}");
    let snap = t.snapshot();
    assert_eq!(snap.timeouts, first_success as u64);
    assert_eq!(snap.samples, 30);
    assert_near(snap.percentile.unwrap(), 300 * MS);
    assert_near(snap.current, 600 * MS);
}

#[tokio::test(start_paused = true)]
async fn fast_failures_and_rejections_are_not_recorded() {
    let t = Timeout::adaptive(99.0, 2.0).warmup(10).build();
    for _ in 0..20 {
        call(&t, 50 * MS).await.unwrap();
    }
    let before = t.snapshot();
    assert_near(before.current, 100 * MS);
    for _ in 0..100 {
        let failed: std::io::Result<()> = t
            .run(async {
                sleep(MS).await;
                Err(std::io::Error::other("refused"))
            })
            .await;
        assert_eq!(failed.unwrap_err().to_string(), "refused");
        let app_error = t.guard(async {
            sleep(MS).await;
            Outcome::<(), &str>::Ok(Err("refused"))
        });
        assert_eq!(app_error.await, Ok(Err("refused")));
        let open = Error::CircuitOpen(CircuitOpen::new("breaker", MS));
        let rejected = t.guard(async move { Outcome::<(), &str>::Err(open) });
        assert!(rejected.await.unwrap_err().is_circuit_open());
    }
    let after = t.snapshot();
    assert_eq!(after.samples, 20);
    assert_eq!(after.current, before.current);
    assert_eq!(after.timeouts, 0);
}

#[tokio::test(start_paused = true)]
async fn the_window_forgets_old_samples() {
    let t = Timeout::adaptive(99.0, 2.0).warmup(10).window(Duration::from_secs(10)).build();
    for _ in 0..20 {
        call(&t, 50 * MS).await.unwrap(); // t = 0..1 s
    }
    advance(Duration::from_secs(5)).await; // t = 6 s: still within the window
    let snap = t.snapshot();
    assert_eq!(snap.samples, 20);
    assert_near(snap.current, 100 * MS);
    advance(Duration::from_secs(5)).await; // t = 11 s: more than a window ago
    let snap = t.snapshot();
    assert_eq!(snap.samples, 0);
    assert!(snap.warming_up);
    assert_eq!(snap.current, AdaptiveSettings::default().initial);
    // The second warm-up also ends at its tenth sample, between two periodic refreshes.
    for i in 1..=20 {
        call(&t, 10 * MS).await.unwrap();
        let expected = if i < 10 { AdaptiveSettings::default().initial } else { 20 * MS };
        assert_near(t.current(), expected);
    }
    let snap = t.snapshot();
    assert_eq!(snap.samples, 20);
    assert_near(snap.current, 20 * MS);

    // A whole window of silence forgets everything at once.
    advance(Duration::from_secs(25)).await;
    assert_eq!(t.snapshot().samples, 0);
}

#[tokio::test(start_paused = true)]
async fn the_window_rolls_under_steady_traffic() {
    // Latency steps from 50 ms to 10 ms at t = 5 s; by one window later only 10 ms is left.
    let t = Timeout::adaptive(99.0, 2.0).warmup(10).window(Duration::from_secs(4)).build();
    for _ in 0..100 {
        call(&t, 50 * MS).await.unwrap();
    }
    assert_near(t.current(), 100 * MS);
    for _ in 0..400 {
        call(&t, 10 * MS).await.unwrap();
    }
    // Refreshed by the calls (every 250 ms); 4 s after the step the old samples are gone.
    assert_near(t.current(), 20 * MS);
    let snap = t.snapshot();
    assert!((200..=400).contains(&snap.samples), "{}", snap.samples);
}

#[tokio::test(start_paused = true)]
async fn a_callers_deadline_is_not_a_censored_sample() {
    let outer = Timeout::fixed(100 * MS).build();
    let inner = Timeout::adaptive(99.0, 2.0).warmup(1).build();
    let out: Result<(), Error> = outer
        .run(inner.run(async {
            sleep(Duration::from_secs(10)).await;
            Ok(())
        }))
        .await;
    assert!(out.unwrap_err().is_timeout());
    let snap = inner.snapshot();
    assert_eq!(snap.timeouts, 1);
    // 100 ms says nothing about the inner function's latency: not recorded.
    assert_eq!(snap.samples, 0);
    assert_eq!(snap.current, AdaptiveSettings::default().initial);
}

#[tokio::test(start_paused = true)]
async fn snapshot_and_registry_report_the_state() {
    let t = Timeout::adaptive(99.9, 3.0)
        .name("timeout_test::snap")
        .warmup(5)
        .min(2 * MS)
        .max(Duration::from_secs(2))
        .build();
    for _ in 0..5 {
        call(&t, 40 * MS).await.unwrap();
    }
    let snap = t.snapshot();
    assert_eq!(snap.rule, TimeoutRule::Adaptive { percentile: 99.9, multiplier: 3.0 });
    assert_near(snap.current, 120 * MS);
    assert_near(snap.percentile.unwrap(), 40 * MS);
    assert_eq!((snap.samples, snap.warming_up, snap.timeouts), (5, false, 0));
    let settings = snap.settings.unwrap();
    assert_eq!((settings.warmup, settings.min), (5, 2 * MS));

    let all = registry::snapshot();
    let listed = all.get("timeout_test::snap").expect("registered");
    let PolicyState::Timeout(listed) = &listed.state else { panic!("{listed:?}") };
    assert_eq!(listed.current, snap.current);
    let json = serde_json::to_value(all.get("timeout_test::snap").unwrap()).unwrap();
    assert_eq!(json["state"]["kind"], "timeout");
    assert_eq!(json["state"]["rule"]["adaptive"]["percentile"], 99.9);
    assert_eq!(json["state"]["samples"], 5);
    assert_eq!(json["state"]["warming_up"], false);

    let fixed = Timeout::fixed(250 * MS).name("timeout_test::fixed").build();
    let snap = fixed.snapshot();
    assert_eq!(snap.rule, TimeoutRule::Fixed(250 * MS));
    assert_eq!((snap.current, snap.percentile, snap.settings), (250 * MS, None, None));
    assert_eq!(fixed.rule().to_string(), "250ms");
    drop(fixed);
    assert!(registry::snapshot().get("timeout_test::fixed").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_all_count() {
    // Real clock, but nothing here depends on how long anything takes: the window (60 s) is far
    // longer than the test, so every success stays counted.
    let t = Timeout::adaptive(99.0, 2.0).build();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let t = t.clone();
            tokio::spawn(async move {
                for i in 0..10_000u32 {
                    let out = t.guard(async move { Outcome::<u32, ()>::Ok(Ok(i)) }).await;
                    assert_eq!(out, Ok(Ok(i)));
                    if i % 100 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let snap = t.snapshot();
    assert_eq!(snap.samples, 40_000);
    assert!(!snap.warming_up);
    // Ready bodies take well under a millisecond: the limit sits at its floor.
    assert_eq!(snap.current, AdaptiveSettings::default().min);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_end_the_warmup_without_a_refresh_due() {
    // Four tasks complete a warm-up of 1 000 samples together, on the real clock: whichever
    // sample completes it ends it, even if it finds another thread refreshing. The calls take
    // far less than the 250 ms refresh period, and nothing here asks for a refresh.
    let name = "timeout_test::concurrent_warmup";
    let t = Timeout::adaptive(99.0, 2.0).name(name).warmup(1_000).build();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let t = t.clone();
            tokio::spawn(async move {
                for i in 0..250u32 {
                    let out = t.guard(async move { Outcome::<u32, ()>::Ok(Ok(i)) }).await;
                    assert_eq!(out, Ok(Ok(i)));
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(t.current(), AdaptiveSettings::default().min);
    let seen = listed(name);
    assert_eq!((seen.samples, seen.warming_up), (1_000, false));
}

#[tokio::test(start_paused = true)]
async fn shared_timeouts_learn_together() {
    let a = Timeout::adaptive(99.0, 2.0).warmup(10).name("timeout_test::shared").build_shared();
    let b = Timeout::adaptive(99.0, 2.0).warmup(10).name("timeout_test::shared").build_shared();
    for _ in 0..5 {
        call(&a, 30 * MS).await.unwrap();
        call(&b, 30 * MS).await.unwrap();
    }
    assert_eq!(a.snapshot().samples, 10);
    assert_near(b.current(), 60 * MS);
    // Different settings under the same name: the first timeout wins, the conflict is listed.
    let c = Timeout::fixed(MS).name("timeout_test::shared").build_shared();
    assert_eq!(c.snapshot().samples, 10);
    let conflicts = registry::snapshot().conflicts;
    assert!(conflicts.iter().any(|c| c.name == "timeout_test::shared"));
}
