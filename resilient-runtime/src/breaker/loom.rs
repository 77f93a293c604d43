//! Loom models of the state machine's races: every interleaving of the atomics in
//! [`machine`](super::machine) and [`window`](super::window), which is all the state there is.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p resilient-runtime --release --lib
//! breaker::loom`. Caveat: `RUSTFLAGS` reaches every crate of the build, and at least one
//! dependency (`event-listener`, under `moka`) has `cfg(resilient_loom)` code that does not build without
//! its own loom dev-dependency, so the whole crate only builds this way once its loom cfg has a
//! name of its own (e.g. `resilient_loom`, which dependencies ignore). The modelled core also
//! builds alone: it only uses `sync.rs`, `window.rs` and `machine.rs`.

use loom::sync::Arc;
use loom::thread;

use super::machine::{Config, Kind, Machine, Rejected, Ticket, Transition};

/// 1 s buckets, 1 ms cooldown, failure counting.
fn config(threshold: u32, probes: u32) -> Config {
    Config {
        threshold,
        bucket_nanos: 1_000_000_000,
        cooldown_us: 1_000,
        probes,
        rate: None,
        mode: super::machine::Mode::Normal,
    }
}

/// When the cooldown of a circuit opened at 0 is over.
const LATER: u64 = 2_000_000;

/// A machine opened at time 0 by `threshold` failures.
fn opened(threshold: u32, probes: u32) -> Arc<Machine> {
    let m = Machine::new(config(threshold, probes));
    for _ in 0..threshold {
        let _ = m.failure(Ticket::Closed, || 0);
    }
    assert_eq!(m.stats(0).kind, Kind::Open);
    Arc::new(m)
}

/// Lets `n` probes into a machine from [`opened`] (the first one half-opens it).
fn probes(m: &Machine, n: usize) -> Vec<Ticket> {
    (0..n).map(|_| m.acquire(|| LATER).expect("a probe slot").0).collect()
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    // The window's 16 buckets make for long runs; three preemptions cover every race here.
    builder.preemption_bound = Some(3);
    builder.check(f);
}

#[test]
fn concurrent_failures_at_threshold_open_once() {
    model(|| {
        let m = Arc::new(Machine::new(config(2, 1)));
        let spawn = |m: Arc<Machine>| thread::spawn(move || m.failure(Ticket::Closed, || 10));
        let (a, b) = (spawn(m.clone()), spawn(m.clone()));
        let results = [a.join().unwrap(), b.join().unwrap()];
        let opened: Vec<_> = results.iter().flatten().collect();
        assert_eq!(opened.len(), 1, "{results:?}");
        assert!(matches!(opened[0], Transition::Opened { failures: 2, .. }));
        let stats = m.stats(10);
        assert_eq!((stats.kind, stats.opened, stats.transitions), (Kind::Open, 1, 1));
    });
}

#[test]
fn one_probe_slot_goes_to_exactly_one_caller() {
    model(|| {
        let m = opened(1, 1);
        let spawn = |m: Arc<Machine>| thread::spawn(move || m.acquire(|| LATER));
        let (a, b) = (spawn(m.clone()), spawn(m.clone()));
        let results = [a.join().unwrap(), b.join().unwrap()];
        let granted: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(granted.len(), 1, "{results:?}");
        assert!(matches!(granted[0], (Ticket::Probe(_), Some(Transition::HalfOpened))));
        assert!(results.contains(&Err(Rejected { retry_after_us: 0 })));
        assert_eq!(m.stats(LATER).probes, Some((1, 0)));
    });
}

#[test]
fn probes_all_succeeding_close_once_and_clear_the_window() {
    model(|| {
        let m = opened(1, 2);
        let tickets = probes(&m, 2);
        let handles: Vec<_> = tickets
            .into_iter()
            .map(|t| {
                let m = m.clone();
                thread::spawn(move || m.success(t, || LATER))
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(results.iter().flatten().collect::<Vec<_>>(), [&Transition::Closed]);
        let stats = m.stats(LATER);
        assert_eq!((stats.kind, stats.failures), (Kind::Closed, 0));
    });
}

#[test]
fn a_late_probe_never_settles_in_the_next_period() {
    model(|| {
        let m = opened(1, 2);
        let [a, b] = probes(&m, 2)[..] else { unreachable!() };
        let fails = {
            let m = m.clone();
            thread::spawn(move || m.failure(a, || LATER))
        };
        let succeeds = {
            let m = m.clone();
            thread::spawn(move || m.success(b, || LATER))
        };
        assert_eq!(fails.join().unwrap(), Some(Transition::Reopened));
        assert_eq!(succeeds.join().unwrap(), None);
        assert_eq!(m.stats(LATER).kind, Kind::Open);
        // The stale probe neither closed the circuit nor took a slot of the next period.
        m.release(b);
        let next = 2 * LATER;
        let fresh: Vec<_> = (0..3).map(|_| m.acquire(|| next)).collect();
        assert!(fresh[0].is_ok() && fresh[1].is_ok(), "{fresh:?}");
        assert_eq!(fresh[2], Err(Rejected { retry_after_us: 0 }));
    });
}

#[test]
fn a_released_probe_slot_is_reusable_and_never_shared() {
    model(|| {
        let m = opened(1, 1);
        let [held] = probes(&m, 1)[..] else { unreachable!() };
        let releases = {
            let m = m.clone();
            thread::spawn(move || m.release(held))
        };
        let acquires = {
            let m = m.clone();
            thread::spawn(move || m.acquire(|| LATER))
        };
        releases.join().unwrap();
        let got = acquires.join().unwrap();
        let running = m.stats(LATER).probes.unwrap().0;
        match got {
            Ok((Ticket::Probe(_), None)) => assert_eq!(running, 1),
            Err(Rejected { retry_after_us: 0 }) => assert_eq!(running, 0),
            other => panic!("{other:?}"),
        }
    });
}
