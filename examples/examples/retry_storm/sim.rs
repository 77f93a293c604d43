//! The discrete-event simulation: N clients, one optimistic-concurrency row, virtual time.
//!
//! # The model (Brooker's, with our schedules)
//!
//! - One server holds one row with a version number. Every message between a client and the
//!   server takes a one-way network delay drawn from `|Normal(10 ms, 2 ms)|` (Brooker's
//!   `Net(10, 2)`); the server handles each message instantly, in arrival order.
//! - At time 0 all N clients start. Each one needs exactly one successful write, then stops:
//!   1. it sends a *read* and gets back the current version `v`;
//!   2. it sends a conditional *write* "if version is still `v`": the server accepts it and bumps
//!      the version if nobody else wrote in between, otherwise the write fails (a conflict);
//!   3. on a failure it sleeps the next delay of its [`Schedule`] (retry 0, 1, 2, ...) and
//!      starts again at 1.
//!
//!   So an attempt "occupies" the row from its read to its write, about two network delays
//!   (≈ 20 ms, the service time S of this model); any other successful write inside that window
//!   makes it fail, and only one attempt per window can win.
//! - Backoff: `base = 5 ms` (half a network delay, ¼ S), `cap = 2 s` (`max_delay`; 100 S), as in
//!   Brooker's simulator. Each client owns its delay iterator
//!   ([`Schedule::delays_with`]) with its own [`SmallRng`].
//! - Metrics: *calls* = write attempts made by all clients together (the contended work; each
//!   also costs a read); *completion time* = virtual time when the last client's successful
//!   write reply arrives.
//! - Everything random comes from one seeded [`SmallRng`] per run (per-client generators are
//!   split off it), events with equal times run in the order they were scheduled: the same seed
//!   gives the same numbers, on every machine.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use resilient::runtime::backoff::{Delays, Jitter, Schedule};

/// Mean one-way network delay.
pub const NET_MEAN: Duration = Duration::from_millis(10);
/// Standard deviation of the one-way network delay.
pub const NET_SD: Duration = Duration::from_millis(2);
/// First backoff delay.
pub const BASE: Duration = Duration::from_millis(5);
/// Cap on one backoff delay.
pub const CAP: Duration = Duration::from_secs(2);

/// A named backoff strategy.
#[derive(Clone, Copy, Debug)]
pub struct Strategy {
    /// Short name, used in the table and the chart legend.
    pub name: &'static str,
    /// The schedule every client follows.
    pub schedule: Schedule,
}

/// The six strategies compared, all built from `resilient`'s own [`Schedule`]s.
pub fn strategies() -> [Strategy; 6] {
    let exp = Schedule::exponential(BASE).max_delay(CAP);
    [
        Strategy {
            // Immediate retry: a zero fixed delay. It terminates because every round of reads
            // and writes lets exactly one client through (the row always makes progress).
            name: "no backoff",
            schedule: Schedule::fixed(Duration::ZERO).jitter(Jitter::None),
        },
        Strategy { name: "exponential", schedule: exp.jitter(Jitter::None) },
        Strategy { name: "exp + 10% jitter", schedule: exp.jitter(Jitter::Proportional(0.1)) },
        Strategy { name: "full jitter", schedule: exp.jitter(Jitter::Full) },
        Strategy { name: "equal jitter", schedule: exp.jitter(Jitter::Equal) },
        Strategy { name: "decorrelated", schedule: Schedule::decorrelated(BASE).max_delay(CAP) },
    ]
}

/// What one run (or the mean of several) measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outcome {
    /// Write attempts made by all clients together.
    pub calls: f64,
    /// Virtual time until the last client succeeded, in milliseconds.
    pub completion_ms: f64,
}

/// A message in flight; it is handled when its time comes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    /// Client `.0`'s read reaches the server.
    Read(usize),
    /// The server's answer to a read (version `.1`) reaches client `.0`.
    ReadReply(usize, u64),
    /// Client `.0`'s write "if version is `.1`" reaches the server.
    Write(usize, u64),
    /// The server's answer to a write (success `.1`) reaches client `.0`.
    WriteReply(usize, bool),
}

/// The event queue: earliest time first, then the order events were scheduled in.
struct Queue {
    heap: BinaryHeap<Reverse<(u64, u64, Event)>>,
    seq: u64,
}

impl Queue {
    fn push(&mut self, at_ns: u64, event: Event) {
        self.heap.push(Reverse((at_ns, self.seq, event)));
        self.seq += 1;
    }
}

/// One network hop: `|Normal(NET_MEAN, NET_SD)|`, in nanoseconds (Box–Muller).
fn hop(rng: &mut SmallRng) -> u64 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]: ln is finite
    let u2: f64 = rng.random();
    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    let secs = (NET_MEAN.as_secs_f64() + NET_SD.as_secs_f64() * z).abs();
    (secs * 1e9) as u64
}

/// Runs one simulation of `clients` clients following `schedule`, seeded with `seed`.
pub fn run(clients: usize, schedule: Schedule, seed: u64) -> Outcome {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut delays: Vec<Delays<SmallRng>> =
        (0..clients).map(|_| schedule.delays_with(SmallRng::from_rng(&mut rng))).collect();
    let mut queue = Queue { heap: BinaryHeap::with_capacity(2 * clients), seq: 0 };
    for c in 0..clients {
        let at = hop(&mut rng);
        queue.push(at, Event::Read(c));
    }
    // Progress is guaranteed, so this only guards against a broken model.
    let limit = 100 * (clients as u64 + 1).pow(2);
    let (mut version, mut calls, mut done, mut last) = (0_u64, 0_u64, 0_usize, 0_u64);
    while let Some(Reverse((now, _, event))) = queue.heap.pop() {
        match event {
            Event::Read(c) => queue.push(now + hop(&mut rng), Event::ReadReply(c, version)),
            Event::ReadReply(c, v) => queue.push(now + hop(&mut rng), Event::Write(c, v)),
            Event::Write(c, v) => {
                calls += 1;
                assert!(calls < limit, "no progress after {calls} calls");
                let ok = v == version;
                if ok {
                    version += 1;
                }
                queue.push(now + hop(&mut rng), Event::WriteReply(c, ok));
            }
            Event::WriteReply(_, true) => {
                done += 1;
                last = now;
            }
            Event::WriteReply(c, false) => {
                let sleep = delays[c].next().expect("schedules are endless");
                let sleep = u64::try_from(sleep.as_nanos()).unwrap_or(u64::MAX);
                queue.push(now + sleep + hop(&mut rng), Event::Read(c));
            }
        }
    }
    assert_eq!(done, clients, "every client finishes");
    Outcome { calls: calls as f64, completion_ms: last as f64 / 1e6 }
}

/// The mean of [`run`] over seeds `0..runs`.
pub fn mean(clients: usize, schedule: Schedule, runs: u64) -> Outcome {
    let (calls, ms) = (0..runs)
        .map(|seed| run(clients, schedule, seed))
        .fold((0.0, 0.0), |a, o| (a.0 + o.calls, a.1 + o.completion_ms));
    Outcome { calls: calls / runs as f64, completion_ms: ms / runs as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strategy(name: &str) -> Schedule {
        strategies().into_iter().find(|s| s.name == name).unwrap().schedule
    }

    #[test]
    fn same_seed_same_numbers() {
        for s in strategies() {
            assert_eq!(run(50, s.schedule, 7), run(50, s.schedule, 7), "{}", s.name);
        }
        // And the seed matters where there is randomness in the schedule.
        let full = strategy("full jitter");
        assert_ne!(run(50, full, 1), run(50, full, 2));
    }

    #[test]
    fn full_jitter_does_less_work_than_plain_exponential_at_100() {
        let full = mean(100, strategy("full jitter"), 5);
        let exp = mean(100, strategy("exponential"), 5);
        assert!(full.calls < exp.calls, "full jitter {full:?} vs exponential {exp:?}");
        assert!(
            full.completion_ms < exp.completion_ms,
            "full jitter {full:?} vs exponential {exp:?}"
        );
    }

    #[test]
    fn one_client_succeeds_first_time() {
        for s in strategies() {
            assert_eq!(run(1, s.schedule, 3).calls, 1.0, "{}", s.name);
        }
    }

    #[test]
    fn no_backoff_does_the_most_work() {
        let none = mean(100, strategy("no backoff"), 5);
        for s in strategies().iter().filter(|s| s.name != "no backoff") {
            let o = mean(100, s.schedule, 5);
            assert!(o.calls < none.calls, "{}: {o:?} vs no backoff {none:?}", s.name);
        }
    }
}
