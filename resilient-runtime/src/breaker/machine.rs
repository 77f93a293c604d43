//! The breaker's state machine, lock-free, on the breaker's clock given as nanoseconds.
//!
//! Everything about the circuit's state lives in one `AtomicU64`, the *state word*, so every
//! transition is a single compare-exchange: whichever thread's exchange succeeds performs the
//! transition (and reports it, so exactly one event is emitted), the others see the new state.
//!
//! ```text
//! bits  0..2   kind: 0 closed, 1 open, 2 half-open
//! bit   2      override: configuration forces the breaker open or lets every call through
//!              (see `Mode`); the state underneath is kept and resumes when it is lifted
//! bit   3      counted: failure-rate mode, a closed circuit's successes are counted too
//! bits  4..16  generation (12 bits, wrapping): +1 on every open -> half-open
//! bits 16..64  payload (48 bits)
//!              closed:    0
//!              open:      when it opened, in microseconds (wrapping; only differences count)
//!              half-open: probes running (bits 16..32) and probes succeeded (bits 32..48)
//! ```
//!
//! The generation tells a probe permit from an earlier half-open period (whose circuit has since
//! re-opened and half-opened again) from a current one, so a late probe can never free a slot
//! or count a success in a period it was not let into.
//!
//! Orderings: the state word is read with `Acquire` and changed with `AcqRel` (release on
//! success). The only data published through it is the cleared window: the thread that closes
//! the circuit clears the window first, so a failure recorded by anyone who then sees "closed"
//! is ordered after the clearing and is never wiped by it. Everything else (window counts,
//! statistics) is relaxed: they are counters read for decisions that tolerate a count being one
//! event late, and every decision is re-checked by the compare-exchange that acts on it.
//!
//! Nothing here reads a clock, logs or allocates: the caller passes `now`, which keeps this
//! module small enough for loom to model (see `loom.rs`).

use super::sync::{AtomicU64, Ordering::*};
use super::window::{self, Ring};
use crate::config::Live;

const KIND_MASK: u64 = 0b11;
const CLOSED: u64 = 0;
const OPEN: u64 = 1;
const HALF_OPEN: u64 = 2;
/// Set while the settings' [`Mode`] is not [`Mode::Normal`]: takes calls off the closed fast
/// path, which otherwise reads nothing but the state word.
const OVERRIDE: u64 = 0b100;
/// Set while the settings count calls (failure-rate mode): a closed circuit's permit then
/// records its success. Kept in the state word so that a closed success otherwise reads
/// nothing at all, not even the settings.
const COUNTED: u64 = 0b1000;
/// The bits configuration sets; every transition keeps them as it found them.
const FLAGS: u64 = OVERRIDE | COUNTED;
const GEN_SHIFT: u32 = 4;
const GEN_MASK: u64 = (1 << 12) - 1;
const PAYLOAD_SHIFT: u32 = 16;
const PAYLOAD_MASK: u64 = (1 << 48) - 1;

/// The most probes a half-open circuit lets through (they are counted in 16 bits).
pub(crate) const MAX_PROBES: u32 = u16::MAX as u32;

/// The three states, as the state word's kind bits hold them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Closed,
    Open,
    HalfOpen,
}

/// A decoded state word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Word(u64);

impl Word {
    fn new(kind: u64, generation: u64, payload: u64) -> Self {
        Word(
            kind | (generation & GEN_MASK) << GEN_SHIFT | (payload & PAYLOAD_MASK) << PAYLOAD_SHIFT,
        )
    }
    fn closed(generation: u64) -> Self {
        Word::new(CLOSED, generation, 0)
    }
    fn open(generation: u64, now_us: u64) -> Self {
        Word::new(OPEN, generation, now_us)
    }
    fn half_open(generation: u64, running: u64, succeeded: u64) -> Self {
        Word::new(HALF_OPEN, generation, running | succeeded << 16)
    }
    /// This word with `from`'s flag bits: every transition keeps them as it found them.
    fn keep(self, from: Word) -> Self {
        Word(self.0 | from.0 & FLAGS)
    }
    fn kind(self) -> Kind {
        match self.0 & KIND_MASK {
            CLOSED => Kind::Closed,
            OPEN => Kind::Open,
            _ => Kind::HalfOpen,
        }
    }
    fn generation(self) -> u64 {
        (self.0 >> GEN_SHIFT) & GEN_MASK
    }
    fn payload(self) -> u64 {
        self.0 >> PAYLOAD_SHIFT
    }
    /// Half-open only: (probes running, probes succeeded).
    fn probes(self) -> (u64, u64) {
        (self.payload() & 0xFFFF, self.payload() >> 16)
    }
}

/// Microseconds from `since` to `now`, both wrapping 48-bit microsecond stamps (about 8.9
/// years). A `now` read a little before another thread's `since` (clock reads race by far less
/// than [`RACE_US`]) gives zero, not a wrapped eternity; any other difference is a real gap, so a
/// circuit left open for years is seen as long past its cooldown (cooldowns are capped well
/// below the 48-bit range).
fn elapsed_us(since: u64, now_us: u64) -> u64 {
    let d = now_us.wrapping_sub(since) & PAYLOAD_MASK;
    if d > PAYLOAD_MASK - RACE_US { 0 } else { d }
}

/// The flag bits of the state word that `config` asks for.
fn flags(config: &Config) -> u64 {
    let over = if config.mode == Mode::Normal { 0 } else { OVERRIDE };
    over | if config.rate.is_some() { COUNTED } else { 0 }
}

/// The ticket a closed circuit's state word `word` gives.
#[inline(always)]
fn closed_ticket(word: u64) -> Ticket {
    if word & COUNTED == 0 { Ticket::Closed } else { Ticket::Counted }
}

/// How far apart two racing clock reads can be: one second, generous by orders of magnitude.
const RACE_US: u64 = 1_000_000;

/// The machine's settings, already checked and in the units it works in.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Config {
    /// Failures in the window that open a closed circuit (count mode); at least 1.
    pub(crate) threshold: u32,
    /// Width of one window bucket; at least 1.
    pub(crate) bucket_nanos: u64,
    /// How long the circuit stays open.
    pub(crate) cooldown_us: u64,
    /// Probes let through while half-open; 1 to [`MAX_PROBES`].
    pub(crate) probes: u32,
    /// Failure-rate mode: the share of failures that opens the circuit, and the calls needed.
    pub(crate) rate: Option<(f64, u32)>,
    /// Operator overrides.
    pub(crate) mode: Mode,
}

/// What configuration makes of the breaker, whatever its state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// The state machine decides.
    Normal,
    /// Every call goes through and nothing is recorded (`enabled = false`, `force = "closed"`).
    Bypass,
    /// Every call is rejected (`force = "open"`).
    Reject,
}

/// What a granted permit is, for settling it later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ticket {
    /// Let through by a closed circuit; its success records nothing.
    Closed,
    /// Let through by a closed circuit that counts calls (failure-rate mode): its success is
    /// recorded too.
    Counted,
    /// Let through by an override: records nothing.
    Bypass,
    /// A half-open probe, of the half-open period with this generation.
    Probe(u64),
}

impl Ticket {
    /// The ticket as one word, so that a permit (a reference and this) is a pair of scalars
    /// that moves through registers and whole-word stores (an enum with a one-byte tag and
    /// padding was copied piecewise, then reloaded whole: a store-forwarding stall per call).
    #[inline(always)]
    pub(crate) fn pack(self) -> u64 {
        match self {
            Ticket::Closed => 0,
            Ticket::Counted => 1,
            Ticket::Bypass => 2,
            Ticket::Probe(generation) => 3 | generation << 2,
        }
    }

    /// The ticket [`pack`](Self::pack) made `word` of.
    #[inline(always)]
    pub(crate) fn unpack(word: u64) -> Self {
        match word & 3 {
            0 => Ticket::Closed,
            1 => Ticket::Counted,
            2 => Ticket::Bypass,
            _ => Ticket::Probe(word >> 2),
        }
    }
}

/// A state change, reported to the one thread that made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transition {
    /// Closed -> open: the failures (and, in rate mode, calls) in the window that tripped it.
    Opened { failures: u32, calls: u32 },
    /// Open -> half-open: the cooldown is over.
    HalfOpened,
    /// Half-open -> closed: every probe succeeded.
    Closed,
    /// Half-open -> open: a probe failed.
    Reopened,
}

/// A rejected call: how long until probes are let through (zero when half-open and full).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rejected {
    pub(crate) retry_after_us: u64,
}

/// The state machine: the state word, the window, and statistics for the registry.
#[derive(Debug)]
pub(crate) struct Machine {
    config: Live<Config>,
    state: AtomicU64,
    failures: Ring,
    /// Calls, counted only in failure-rate mode.
    calls: Ring,
    rejections: AtomicU64,
    opened: AtomicU64,
    transitions: AtomicU64,
}

/// The machine's state as statistics, for snapshots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stats {
    pub(crate) kind: Kind,
    /// Open only: microseconds since it opened.
    pub(crate) open_for_us: Option<u64>,
    /// Open only: microseconds until probes are let through (zero once the cooldown is over).
    pub(crate) retry_after_us: Option<u64>,
    /// Half-open only: probes running and succeeded.
    pub(crate) probes: Option<(u32, u32)>,
    pub(crate) failures: u32,
    pub(crate) calls: Option<u32>,
    pub(crate) rejections: u64,
    pub(crate) opened: u64,
    pub(crate) transitions: u64,
}

impl Machine {
    pub(crate) fn new(config: Config) -> Self {
        Self {
            state: AtomicU64::new(Word::closed(0).0 | flags(&config)),
            config: Live::new(config),
            failures: Ring::new(),
            calls: Ring::new(),
            rejections: AtomicU64::new(0),
            opened: AtomicU64::new(0),
            transitions: AtomicU64::new(0),
        }
    }

    /// The settings in force: one atomic load.
    #[inline]
    pub(crate) fn config(&self) -> &Config {
        self.config.get()
    }

    /// Replaces the settings; the state and the window are kept.
    pub(crate) fn retune(&self, config: Config) {
        let flags = flags(&config);
        self.config.set(config);
        // After the settings: whoever sees the bits (acquire) sees the settings that set them.
        let mut word = self.state.load(Acquire);
        while let Err(actual) =
            self.state.compare_exchange_weak(word, word & !FLAGS | flags, AcqRel, Acquire)
        {
            word = actual;
        }
    }

    /// True when successes must be recorded (failure-rate mode), so a success needs the clock.
    #[inline]
    pub(crate) fn counts_calls(&self) -> bool {
        self.config().rate.is_some()
    }

    /// The override in force, if any: what every call gets regardless of the state.
    pub(crate) fn mode(&self) -> Mode {
        if self.state.load(Acquire) & OVERRIDE == 0 { Mode::Normal } else { self.config().mode }
    }

    /// Lets a call through or rejects it. A closed circuit answers with one atomic load and
    /// never calls `now`.
    #[inline]
    pub(crate) fn acquire(
        &self,
        now: impl FnOnce() -> u64,
    ) -> Result<(Ticket, Option<Transition>), Rejected> {
        let word = self.state.load(Acquire);
        if word & (KIND_MASK | OVERRIDE) == CLOSED {
            return Ok((closed_ticket(word), None));
        }
        self.acquire_slow(Word(word), now())
    }

    #[cold]
    fn acquire_slow(
        &self,
        mut word: Word,
        now: u64,
    ) -> Result<(Ticket, Option<Transition>), Rejected> {
        let now_us = now / 1000;
        if word.0 & OVERRIDE != 0 {
            match self.config().mode {
                Mode::Bypass => return Ok((Ticket::Bypass, None)),
                Mode::Reject => return Err(self.reject(self.config().cooldown_us)),
                Mode::Normal => {}
            }
        }
        loop {
            let (next, ticket, transition) = match word.kind() {
                Kind::Closed => return Ok((closed_ticket(word.0), None)),
                Kind::Open => {
                    let waited = elapsed_us(word.payload(), now_us);
                    let cooldown_us = self.config().cooldown_us;
                    if waited < cooldown_us {
                        return Err(self.reject(cooldown_us - waited));
                    }
                    // Cooldown over: this call becomes the first probe of a new generation.
                    let generation = (word.generation() + 1) & GEN_MASK;
                    let next = Word::half_open(generation, 1, 0);
                    (next, Ticket::Probe(generation), Some(Transition::HalfOpened))
                }
                Kind::HalfOpen => {
                    let (running, succeeded) = word.probes();
                    if running + succeeded >= u64::from(self.config().probes) {
                        return Err(self.reject(0));
                    }
                    let generation = word.generation();
                    let next = Word::half_open(generation, running + 1, succeeded);
                    (next, Ticket::Probe(generation), None)
                }
            };
            let next = next.keep(word);
            match self.state.compare_exchange_weak(word.0, next.0, AcqRel, Acquire) {
                Ok(_) => {
                    if transition.is_some() {
                        self.transitions.fetch_add(1, Relaxed);
                    }
                    return Ok((ticket, transition));
                }
                Err(actual) => word = Word(actual),
            }
        }
    }

    fn reject(&self, retry_after_us: u64) -> Rejected {
        self.rejections.fetch_add(1, Relaxed);
        Rejected { retry_after_us }
    }

    /// Settles a permit whose call succeeded. `now` is only called in failure-rate mode. A
    /// closed circuit that counts failures only reads nothing here, not even the settings.
    #[inline]
    pub(crate) fn success(&self, ticket: Ticket, now: impl FnOnce() -> u64) -> Option<Transition> {
        match ticket {
            Ticket::Closed | Ticket::Bypass => None,
            Ticket::Counted => {
                self.calls.add(window::epoch(now(), self.config().bucket_nanos));
                None
            }
            Ticket::Probe(generation) => self.probe_done(generation, true),
        }
    }

    /// Settles a permit whose call failed.
    pub(crate) fn failure(&self, ticket: Ticket, now: impl FnOnce() -> u64) -> Option<Transition> {
        match ticket {
            Ticket::Closed | Ticket::Counted => self.closed_failure(now()),
            Ticket::Bypass => None,
            Ticket::Probe(generation) => {
                let now_us = now() / 1000;
                let mut word = Word(self.state.load(Acquire));
                while word.kind() == Kind::HalfOpen && word.generation() == generation {
                    let next = Word::open(generation, now_us).keep(word);
                    match self.state.compare_exchange_weak(word.0, next.0, AcqRel, Acquire) {
                        Ok(_) => {
                            self.opened.fetch_add(1, Relaxed);
                            self.transitions.fetch_add(1, Relaxed);
                            return Some(Transition::Reopened);
                        }
                        Err(actual) => word = Word(actual),
                    }
                }
                // Another probe of this period already re-opened it.
                None
            }
        }
    }

    /// Settles a permit whose call neither succeeded nor failed (cancelled, panicked, or an
    /// error that does not count): frees its probe slot, records nothing.
    pub(crate) fn release(&self, ticket: Ticket) {
        if let Ticket::Probe(generation) = ticket {
            self.probe_done(generation, false);
        }
    }

    /// A probe of half-open period `generation` ended, successfully or not at all.
    fn probe_done(&self, generation: u64, succeeded: bool) -> Option<Transition> {
        let mut word = Word(self.state.load(Acquire));
        let mut cleared = false;
        while word.kind() == Kind::HalfOpen && word.generation() == generation {
            let (running, done) = word.probes();
            let done = done + u64::from(succeeded);
            let closes = succeeded && done >= u64::from(self.config().probes);
            let next = if closes {
                // Clear the window before publishing "closed" (release): failures from
                // before the circuit opened must not count again, and anyone who sees the
                // closed state and records a failure is ordered after the clearing.
                if !cleared {
                    self.failures.clear();
                    self.calls.clear();
                    cleared = true;
                }
                Word::closed(generation)
            } else {
                Word::half_open(generation, running.saturating_sub(1), done)
            };
            let next = next.keep(word);
            match self.state.compare_exchange_weak(word.0, next.0, AcqRel, Acquire) {
                Ok(_) if closes => {
                    self.transitions.fetch_add(1, Relaxed);
                    return Some(Transition::Closed);
                }
                Ok(_) => return None,
                Err(actual) => word = Word(actual),
            }
        }
        // The period this probe belonged to is over (a sibling probe failed): nothing to settle.
        None
    }

    /// A call let through by a closed circuit failed: count it, and open the circuit if the
    /// window now trips.
    fn closed_failure(&self, now: u64) -> Option<Transition> {
        let word = Word(self.state.load(Acquire));
        if word.kind() != Kind::Closed {
            // The circuit opened while this call ran: it is already known to be failing.
            return None;
        }
        let config = self.config();
        let epoch = window::epoch(now, config.bucket_nanos);
        self.failures.add(epoch);
        let failures = self.failures.sum(epoch);
        let (trips, calls) = match config.rate {
            None => (failures >= config.threshold, 0),
            Some((rate, min_calls)) => {
                self.calls.add(epoch);
                let calls = self.calls.sum(epoch);
                let trips = calls >= min_calls && f64::from(failures) >= rate * f64::from(calls);
                (trips, calls)
            }
        };
        if !trips {
            return None;
        }
        let next = Word::open(word.generation(), now / 1000).keep(word);
        // A strong exchange from the closed word we saw: of all the failures that trip the
        // window at once, exactly one succeeds. If the state moved on meanwhile (opened by
        // someone else, or even opened and closed again: the generation differs), ours is stale.
        self.state.compare_exchange(word.0, next.0, AcqRel, Acquire).ok()?;
        self.opened.fetch_add(1, Relaxed);
        self.transitions.fetch_add(1, Relaxed);
        Some(Transition::Opened { failures, calls })
    }

    /// The state as the breaker presents it: an open circuit whose cooldown is over shows as
    /// half-open, since the next call goes through as a probe.
    pub(crate) fn kind(&self, now: impl FnOnce() -> u64) -> Kind {
        let word = Word(self.state.load(Acquire));
        match word.kind() {
            Kind::Open if self.retry_after_us(word, now()) == Some(0) => Kind::HalfOpen,
            kind => kind,
        }
    }

    fn retry_after_us(&self, word: Word, now: u64) -> Option<u64> {
        (word.kind() == Kind::Open).then(|| {
            let waited = elapsed_us(word.payload(), now / 1000);
            self.config().cooldown_us.saturating_sub(waited)
        })
    }

    /// Everything the registry shows.
    pub(crate) fn stats(&self, now: u64) -> Stats {
        let word = Word(self.state.load(Acquire));
        let epoch = window::epoch(now, self.config().bucket_nanos);
        let (running, succeeded) = word.probes();
        Stats {
            kind: word.kind(),
            open_for_us: (word.kind() == Kind::Open)
                .then(|| elapsed_us(word.payload(), now / 1000)),
            retry_after_us: self.retry_after_us(word, now),
            probes: (word.kind() == Kind::HalfOpen).then_some((running as u32, succeeded as u32)),
            failures: self.failures.sum(epoch),
            calls: self.counts_calls().then(|| self.calls.sum(epoch)),
            rejections: self.rejections.load(Relaxed),
            opened: self.opened.load(Relaxed),
            transitions: self.transitions.load(Relaxed),
        }
    }
}

#[cfg(all(test, not(resilient_loom)))]
mod tests {
    use super::*;

    fn machine(threshold: u32) -> Machine {
        Machine::new(Config {
            threshold,
            bucket_nanos: 1_000_000,
            cooldown_us: 10,
            probes: 1,
            rate: None,
            mode: Mode::Normal,
        })
    }

    #[test]
    fn a_clock_read_from_before_the_opening_waits_the_full_cooldown() {
        let m = machine(1);
        assert!(matches!(
            m.failure(Ticket::Closed, || 50_000),
            Some(Transition::Opened { failures: 1, .. })
        ));
        // Read 5 µs before the opening thread's: not "2^48 µs later".
        assert_eq!(m.acquire(|| 45_000), Err(Rejected { retry_after_us: 10 }));
        assert_eq!(m.acquire(|| 55_000), Err(Rejected { retry_after_us: 5 }));
        assert!(matches!(m.acquire(|| 60_000), Ok((Ticket::Probe(1), Some(_)))));
    }

    #[test]
    fn overrides_keep_the_state_underneath_through_transitions() {
        let m = machine(2);
        m.retune(Config { mode: Mode::Reject, ..*m.config() });
        assert_eq!(m.acquire(|| 0), Err(Rejected { retry_after_us: 10 }), "forced open");
        m.retune(Config { mode: Mode::Bypass, ..*m.config() });
        let (ticket, _) = m.acquire(|| 0).unwrap();
        assert_eq!(ticket, Ticket::Bypass);
        assert_eq!(m.failure(ticket, || 0), None, "a bypassed call records nothing");
        // Back to normal: failures open the circuit; a transition keeps the bit as it was.
        m.retune(Config { mode: Mode::Normal, ..*m.config() });
        assert_eq!(m.acquire(|| 0), Ok((Ticket::Closed, None)));
        let _ = m.failure(Ticket::Closed, || 1_000);
        m.retune(Config { mode: Mode::Bypass, ..*m.config() });
        assert!(matches!(m.failure(Ticket::Closed, || 2_000), Some(Transition::Opened { .. })));
        assert_eq!(m.mode(), Mode::Bypass, "the override survives the transition");
        assert_eq!(m.kind(|| 2_000), Kind::Open);
        assert_eq!(m.acquire(|| 3_000).map(|(t, _)| t), Ok(Ticket::Bypass));
        m.retune(Config { mode: Mode::Normal, ..*m.config() });
        assert_eq!(m.acquire(|| 3_000), Err(Rejected { retry_after_us: 9 }), "open as it was");
    }

    #[test]
    fn closed_successes_are_counted_only_in_failure_rate_mode_through_retunes() {
        let m = machine(5);
        let (ticket, _) = m.acquire(|| 0).unwrap();
        assert_eq!(ticket, Ticket::Closed, "counting failures only: a success records nothing");
        assert_eq!(m.success(ticket, || unreachable!("no clock read")), None);
        m.retune(Config { rate: Some((0.5, 2)), ..*m.config() });
        let (ticket, _) = m.acquire(|| 0).unwrap();
        assert_eq!(ticket, Ticket::Counted);
        let _ = m.success(ticket, || 1_000);
        assert_eq!(m.stats(1_000).calls, Some(1), "the success is counted");
        // The flag survives a round trip through open and half-open, and goes with the mode.
        let _ = m.failure(Ticket::Counted, || 2_000);
        assert_eq!(m.kind(|| 2_000), Kind::Open);
        let (probe, _) = m.acquire(|| 1_000_000_000).unwrap();
        assert_eq!(m.success(probe, || 1_000_000_000), Some(Transition::Closed));
        assert_eq!(m.acquire(|| 1_000_000_000).unwrap().0, Ticket::Counted);
        m.retune(Config { rate: None, ..*m.config() });
        assert_eq!(m.acquire(|| 1_000_000_000).unwrap().0, Ticket::Closed);
    }

    #[test]
    fn tickets_pack_into_one_word_and_back() {
        for t in [Ticket::Closed, Ticket::Counted, Ticket::Bypass, Ticket::Probe(GEN_MASK)] {
            assert_eq!(Ticket::unpack(t.pack()), t);
        }
    }

    #[test]
    fn open_stamps_wrap_at_48_bits() {
        assert_eq!(elapsed_us(PAYLOAD_MASK - 2, 5), 8);
        assert_eq!(elapsed_us(7, 7), 0);
        assert_eq!(elapsed_us(8, 7), 0);
    }

    #[test]
    fn generations_wrap_and_stay_distinct_from_the_previous_one() {
        let w = Word::open(GEN_MASK, PAYLOAD_MASK);
        assert_eq!((w.kind(), w.generation(), w.payload()), (Kind::Open, GEN_MASK, PAYLOAD_MASK));
        let h = Word::half_open((GEN_MASK + 1) & GEN_MASK, 3, 4);
        assert_eq!((h.kind(), h.generation(), h.probes()), (Kind::HalfOpen, 0, (3, 4)));
        assert_ne!(Word::closed(0), Word::closed(1));
    }
}
