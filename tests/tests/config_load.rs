//! Reloading while 50 tasks call the same policy on the multi-thread runtime: every call sees
//! one whole configuration, old or new, never a mix, and no call waits for a reload.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::time::Duration;

use resilient::config;
use resilient::runtime::backoff::{Jitter, Schedule};
use resilient::runtime::retry::Retry;

const A: &str = "[\"cfg.load\".retry]\nmax = 2\nbase = \"1ms\"\n";
const B: &str = "[\"cfg.load\".retry]\nmax = 4\nbase = \"3ms\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_call_sees_a_torn_mix_of_old_and_new_settings() {
    let retry = Retry::builder()
        .name("cfg.load")
        .max_attempts(3)
        .schedule(Schedule::fixed(Duration::from_millis(2)).jitter(Jitter::None))
        .budget(None)
        .build();
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new([AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)]);
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (retry, stop, seen) = (retry.clone(), stop.clone(), seen.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(SeqCst) {
                // One call's attempts, decided without sleeping: how many, and each delay.
                let mut attempts = retry.attempts();
                let mut delays = Vec::new();
                while let Ok(delay) = attempts.next_delay(true) {
                    delays.push(delay);
                }
                let made = delays.len() + 1;
                let pair = match made {
                    2 => (0, Duration::from_millis(1)),
                    3 => (1, Duration::from_millis(2)),
                    4 => (2, Duration::from_millis(3)),
                    n => panic!("{n} attempts: no configuration says so"),
                };
                assert!(
                    delays.iter().all(|d| *d == pair.1),
                    "{made} attempts with delays {delays:?}"
                );
                seen[pair.0].fetch_add(1, SeqCst);
                tokio::task::yield_now().await;
            }
        }));
    }
    // Alternate until calls have run under each configuration many times over.
    let watched = seen.clone();
    let reloader = tokio::task::spawn_blocking(move || {
        let mut i = 0u64;
        while i < 400 || watched[0].load(SeqCst) < 1000 || watched[2].load(SeqCst) < 1000 {
            config::apply(if i.is_multiple_of(2) { A } else { B }).unwrap();
            i += 1;
            std::thread::yield_now();
        }
    });
    tokio::time::timeout(Duration::from_secs(60), reloader).await.unwrap().unwrap();
    stop.store(true, SeqCst);
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(60), task).await.expect("a call blocked").unwrap();
    }
    let seen: Vec<u64> = seen.iter().map(|n| n.load(SeqCst)).collect();
    assert!(seen[0] > 0 && seen[2] > 0, "both configurations were seen: {seen:?}");
}
