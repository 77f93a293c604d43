//! The count of calls in and waiting, and the FIFO of waiters: the whole of a bulkhead's shared
//! state, with no clock and no runtime in it (the loom tests model it alone).
//!
//! One 64-bit word holds the calls running (low half) and the calls waiting (high half). A call
//! takes a place with one compare-and-swap when nobody waits and a place is free, and gives it
//! back with one atomic subtraction: the success path touches no lock. Everything else (joining
//! the queue, leaving it, handing a place to the first waiter, admitting waiters after the limit
//! rose) happens in one short critical section under the queue's lock, and every change to the
//! waiting count happens there too, so under the lock the count and the queue agree.
//!
//! A place given back while calls wait goes to the first of them, under the lock: a newcomer
//! cannot take it meanwhile (it sees the waiters and queues behind them), which is what makes
//! the queue FIFO.

use std::collections::VecDeque;

use super::sync::{Arc, AtomicBool, AtomicU32, AtomicU64, Mutex, Ordering, lock};

const ONE_RUNNING: u64 = 1;
const ONE_WAITING: u64 = 1 << 32;

#[inline(always)]
fn running(state: u64) -> u32 {
    state as u32
}

#[inline(always)]
fn waiting(state: u64) -> u32 {
    (state >> 32) as u32
}

/// How a waiter is woken: a task's waker or a blocked thread.
#[derive(Debug, Default)]
pub(crate) enum Wake {
    /// Nothing registered yet.
    #[default]
    None,
    /// An async caller.
    Task(std::task::Waker),
    /// A blocked thread ([`Bulkhead::acquire_blocking`](super::Bulkhead::acquire_blocking)).
    #[cfg_attr(resilient_loom, allow(dead_code))]
    Thread(std::thread::Thread),
}

impl Wake {
    fn wake(self) {
        match self {
            Wake::None => {}
            Wake::Task(w) => w.wake(),
            Wake::Thread(t) => t.unpark(),
        }
    }
}

/// One call waiting for a place.
#[derive(Debug, Default)]
pub(crate) struct Waiter {
    /// Set (under the queue's lock) when a place was handed to this waiter.
    granted: AtomicBool,
    wake: Mutex<Wake>,
}

impl Waiter {
    /// True once a place is this waiter's.
    #[inline]
    pub(crate) fn granted(&self) -> bool {
        self.granted.load(Ordering::Acquire)
    }

    /// Registers how to wake this waiter; false if it was granted meanwhile (no wake will come,
    /// none is needed).
    pub(crate) fn register(&self, wake: Wake) -> bool {
        let mut slot = lock(&self.wake);
        // Checked under the waiter's lock: a grant sets `granted` before taking the waker out
        // under the same lock, so either it sees this waker or this sees the grant.
        if self.granted() {
            return false;
        }
        *slot = wake;
        true
    }
}

/// What [`Core::enqueue`] did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Enqueued {
    /// A place was free after all: the call runs.
    Admitted,
    /// The call waits in the queue.
    Waiting,
    /// No place and the queue is full.
    Full,
}

/// The counts and the queue.
#[derive(Debug)]
pub(crate) struct Core {
    state: AtomicU64,
    /// The most calls running at once; `u32::MAX` lets every call through (a disabled bulkhead).
    limit: AtomicU32,
    queue: Mutex<VecDeque<Arc<Waiter>>>,
}

impl Core {
    pub(crate) fn new(limit: u32) -> Self {
        Self { state: AtomicU64::new(0), limit: AtomicU32::new(limit), queue: Mutex::default() }
    }

    /// Takes a place if one is free and nobody waits: one load and one compare-and-swap.
    #[inline]
    pub(crate) fn try_acquire(&self) -> Result<u32, ()> {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if waiting(state) != 0 || running(state) >= self.limit.load(Ordering::Relaxed) {
                return Err(());
            }
            match self.state.compare_exchange_weak(
                state,
                state + ONE_RUNNING,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(running(state) + 1),
                Err(now) => state = now,
            }
        }
    }

    /// Gives a place back: one atomic subtraction; when calls wait, the first of them gets the
    /// place (woken after the lock is released). A call arriving meanwhile cannot take it: it
    /// sees the waiters and queues behind them.
    #[inline]
    pub(crate) fn release(&self) {
        let before = self.state.fetch_sub(ONE_RUNNING, Ordering::AcqRel);
        if waiting(before) != 0 {
            self.release_slow();
        }
    }

    #[cold]
    #[inline(never)]
    fn release_slow(&self) {
        let woken = {
            let mut queue = lock(&self.queue);
            self.admit_first_locked(&mut queue)
        };
        if let Some(w) = woken {
            w.wake();
        }
    }

    /// Under the lock: lets the first waiter in when the limit allows it (a lowered limit makes
    /// the count shrink first).
    fn admit_first_locked(&self, queue: &mut VecDeque<Arc<Waiter>>) -> Option<Wake> {
        let limit = self.limit.load(Ordering::Relaxed);
        let mut state = self.state.load(Ordering::Relaxed);
        // Waiting changes only under the lock: it is exactly `queue.len()` here.
        while waiting(state) != 0 && running(state) < limit {
            let next = state - ONE_WAITING + ONE_RUNNING;
            match self.state.compare_exchange_weak(state, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return Some(grant(queue)),
                Err(now) => state = now,
            }
        }
        None
    }

    /// Slow path of an acquire: takes a place if one is free now (the limit may have risen, or
    /// the waiters left), else joins the queue if it has room (`queue` places).
    pub(crate) fn enqueue(&self, waiter: &Arc<Waiter>, room: u32) -> Enqueued {
        let mut queue = lock(&self.queue);
        let limit = self.limit.load(Ordering::Relaxed);
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            let (next, verdict) = if waiting(state) == 0 && running(state) < limit {
                (state + ONE_RUNNING, Enqueued::Admitted)
            } else if waiting(state) < room {
                (state + ONE_WAITING, Enqueued::Waiting)
            } else {
                return Enqueued::Full;
            };
            match self.state.compare_exchange_weak(state, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => {
                    if verdict == Enqueued::Waiting {
                        queue.push_back(Arc::clone(waiter));
                    }
                    return verdict;
                }
                Err(now) => state = now,
            }
        }
    }

    /// A waiter gives up (its caller was cancelled, or `wait` ran out). True if it leaves
    /// holding a place after all (granted meanwhile): the caller then runs or gives it back.
    pub(crate) fn leave(&self, waiter: &Arc<Waiter>) -> bool {
        let mut queue = lock(&self.queue);
        if let Some(at) = queue.iter().position(|w| Arc::ptr_eq(w, waiter)) {
            queue.remove(at);
            self.state.fetch_sub(ONE_WAITING, Ordering::AcqRel);
            // Leaving the head of the queue may let the next waiter in (the limit rose).
            let woken = self.admit_locked(&mut queue);
            drop(queue);
            woken.into_iter().for_each(Wake::wake);
            return false;
        }
        // Not in the queue: it was granted (a grant and its removal happen under this lock).
        debug_assert!(waiter.granted());
        true
    }

    /// Sets the limit; waiters a higher limit makes room for are let in.
    pub(crate) fn set_limit(&self, limit: u32) {
        let mut queue = lock(&self.queue);
        self.limit.store(limit, Ordering::Relaxed);
        let woken = self.admit_locked(&mut queue);
        drop(queue);
        woken.into_iter().for_each(Wake::wake);
    }

    /// Under the lock: lets waiters in while places are free.
    fn admit_locked(&self, queue: &mut VecDeque<Arc<Waiter>>) -> Vec<Wake> {
        let limit = self.limit.load(Ordering::Relaxed);
        let mut woken = Vec::new();
        let mut state = self.state.load(Ordering::Relaxed);
        while waiting(state) != 0 && running(state) < limit {
            let next = state - ONE_WAITING + ONE_RUNNING;
            match self.state.compare_exchange_weak(state, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => {
                    woken.push(grant(queue));
                    state = next;
                }
                Err(now) => state = now,
            }
        }
        woken
    }

    /// The limit in force.
    #[inline]
    pub(crate) fn limit(&self) -> u32 {
        self.limit.load(Ordering::Relaxed)
    }

    /// Calls running and calls waiting.
    #[inline]
    pub(crate) fn counts(&self) -> (u32, u32) {
        let state = self.state.load(Ordering::Acquire);
        (running(state), waiting(state))
    }
}

/// Under the lock: the first waiter gets the place; returns how to wake it.
fn grant(queue: &mut VecDeque<Arc<Waiter>>) -> Wake {
    let first = queue.pop_front().expect("the waiting count matches the queue under its lock");
    first.granted.store(true, Ordering::Release);
    std::mem::take(&mut *lock(&first.wake))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiter() -> Arc<Waiter> {
        Arc::new(Waiter::default())
    }

    #[test]
    fn places_then_fifo_queue_then_full() {
        let core = Core::new(2);
        assert_eq!(core.try_acquire(), Ok(1));
        assert_eq!(core.try_acquire(), Ok(2));
        assert_eq!(core.try_acquire(), Err(()));
        let (a, b, c) = (waiter(), waiter(), waiter());
        assert_eq!(core.enqueue(&a, 2), Enqueued::Waiting);
        assert_eq!(core.enqueue(&b, 2), Enqueued::Waiting);
        assert_eq!(core.enqueue(&c, 2), Enqueued::Full);
        assert_eq!(core.counts(), (2, 2));
        // Nobody barges in while calls wait.
        core.release();
        assert!(a.granted() && !b.granted());
        assert_eq!(core.try_acquire(), Err(()));
        assert_eq!(core.counts(), (2, 1));
        // A waiter leaving frees its place in the queue.
        assert!(!core.leave(&b));
        assert_eq!(core.counts(), (2, 0));
        // A granted waiter leaving keeps its place (its caller gives it back).
        assert!(core.leave(&a));
        core.release();
        core.release();
        assert_eq!(core.counts(), (0, 0));
    }

    #[test]
    fn a_higher_limit_admits_waiters_a_lower_one_drains_first() {
        let core = Core::new(1);
        core.try_acquire().unwrap();
        let (a, b) = (waiter(), waiter());
        core.enqueue(&a, 5);
        core.enqueue(&b, 5);
        core.set_limit(2);
        assert!(a.granted() && !b.granted());
        assert_eq!(core.counts(), (2, 1));
        core.set_limit(1);
        // Two running above a limit of one: the first release only shrinks the count.
        core.release();
        assert!(!b.granted());
        assert_eq!(core.counts(), (1, 1));
        core.release();
        assert!(b.granted());
        assert_eq!(core.counts(), (1, 0));
    }

    #[test]
    fn a_disabled_bulkhead_admits_everyone() {
        let core = Core::new(u32::MAX);
        for _ in 0..1000 {
            core.try_acquire().unwrap();
        }
        assert_eq!(core.counts(), (1000, 0));
    }
}
