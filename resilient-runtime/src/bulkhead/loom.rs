//! Loom models of the core's races: every interleaving of its atomic word and its lock, which
//! is all the state a bulkhead shares. Run with
//! `RUSTFLAGS="--cfg resilient_loom" cargo test -p resilient-runtime --release --lib bulkhead::loom`
//! (see `breaker/loom.rs` for the caveat on `RUSTFLAGS`).
//!
//! Each holder of a place adds one to `held` while it holds it and checks `held <= limit`: the
//! count never exceeds the limit. At the end, every place and queue entry is back: none leaks,
//! whether the waiter was granted, gave up, or gave up after being granted.

use loom::sync::Arc;
use loom::sync::atomic::{AtomicU32, Ordering::SeqCst};
use loom::thread;

use super::core::{Core, Enqueued, Waiter};

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(f);
}

/// Holds a place: checks the bound while it does.
fn hold(core: &Core, held: &AtomicU32, limit: u32) {
    let now = held.fetch_add(1, SeqCst) + 1;
    assert!(now <= limit, "{now} places held, limit {limit}");
    held.fetch_sub(1, SeqCst);
    core.release();
}

#[test]
fn fast_path_racers_never_exceed_the_limit() {
    model(|| {
        let core = Arc::new(Core::new(1));
        let held = Arc::new(AtomicU32::new(0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (core, held) = (core.clone(), held.clone());
                thread::spawn(move || {
                    if core.try_acquire().is_ok() {
                        hold(&core, &held, 1);
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(core.counts(), (0, 0));
    });
}

#[test]
fn a_waiter_that_gives_up_never_leaks_a_place() {
    model(|| {
        let core = Arc::new(Core::new(1));
        let held = Arc::new(AtomicU32::new(0));
        core.try_acquire().unwrap();
        let holder = {
            let (core, held) = (core.clone(), held.clone());
            thread::spawn(move || {
                held.fetch_add(1, SeqCst);
                held.fetch_sub(1, SeqCst);
                core.release();
            })
        };
        let waiter = {
            let (core, held) = (core.clone(), held.clone());
            thread::spawn(move || {
                let me = Arc::new(Waiter::default());
                match core.enqueue(&me, 1) {
                    Enqueued::Admitted => hold(&core, &held, 1),
                    Enqueued::Waiting => {
                        // Cancelled (or out of time) whether or not it was granted meanwhile.
                        if core.leave(&me) {
                            hold(&core, &held, 1);
                        }
                    }
                    Enqueued::Full => unreachable!("the queue has room"),
                }
            })
        };
        let newcomer = {
            let (core, held) = (core.clone(), held.clone());
            thread::spawn(move || {
                if core.try_acquire().is_ok() {
                    hold(&core, &held, 1);
                }
            })
        };
        for t in [holder, waiter, newcomer] {
            t.join().unwrap();
        }
        assert_eq!(core.counts(), (0, 0));
    });
}

#[test]
fn a_granted_waiter_runs_and_a_lowered_limit_holds() {
    model(|| {
        let core = Arc::new(Core::new(2));
        let held = Arc::new(AtomicU32::new(0));
        core.try_acquire().unwrap();
        core.try_acquire().unwrap();
        let me = Arc::new(Waiter::default());
        assert_eq!(core.enqueue(&me, 1), Enqueued::Waiting);
        let lower = {
            let core = core.clone();
            thread::spawn(move || core.set_limit(1))
        };
        let releases = {
            let core = core.clone();
            thread::spawn(move || {
                core.release();
                core.release();
            })
        };
        lower.join().unwrap();
        releases.join().unwrap();
        // Both places were given back and the limit is 1: the waiter got one.
        assert!(me.granted());
        assert_eq!(core.counts(), (1, 0));
        hold(&core, &held, 1);
        assert_eq!(core.counts(), (0, 0));
    });
}

#[test]
fn after_the_limit_is_lowered_a_place_is_handed_over_only_below_it() {
    model(|| {
        let core = Arc::new(Core::new(2));
        core.try_acquire().unwrap();
        core.try_acquire().unwrap();
        let me = Arc::new(Waiter::default());
        assert_eq!(core.enqueue(&me, 1), Enqueued::Waiting);
        core.set_limit(1);
        let releases: Vec<_> = (0..2)
            .map(|_| {
                let core = core.clone();
                thread::spawn(move || core.release())
            })
            .collect();
        let waiter = {
            let core = core.clone();
            thread::spawn(move || {
                while !me.granted() {
                    thread::yield_now();
                }
                // Handed a place: the count, with it, is within the lowered limit.
                let (running, _) = core.counts();
                assert!(running <= 1, "{running} running, limit 1");
                core.release();
            })
        };
        releases.into_iter().for_each(|t| t.join().unwrap());
        waiter.join().unwrap();
        assert_eq!(core.counts(), (0, 0));
    });
}
