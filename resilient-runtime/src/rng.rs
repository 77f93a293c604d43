//! Where every random draw comes from: a small, fast generator per thread, seedable for tests.
//!
//! Nothing draws on the success path; a retry's jitter is the first draw.

use std::cell::RefCell;
use std::convert::Infallible;

use rand::SeedableRng;
use rand::rngs::SmallRng;

thread_local! {
    static RNG: RefCell<SmallRng> = RefCell::new(rand::make_rng());
}

/// Reseeds this thread's generator, making every later jitter drawn on this thread repeatable.
///
/// Under `#[tokio::test]` (one thread) that is every draw of the test.
///
/// ```
/// use resilient_runtime::{backoff::Schedule, rng};
/// use std::time::Duration;
/// let schedule = Schedule::exponential(Duration::from_millis(100));
/// rng::seed(7);
/// let a: Vec<_> = schedule.delays().take(3).collect();
/// rng::seed(7);
/// let b: Vec<_> = schedule.delays().take(3).collect();
/// assert_eq!(a, b);
/// ```
pub fn seed(seed: u64) {
    RNG.with(|r| *r.borrow_mut() = SmallRng::seed_from_u64(seed));
}

/// A handle to this thread's generator (see [`seed`]); usable wherever a [`rand::Rng`] is.
#[derive(Clone, Copy, Debug, Default)]
pub struct ThreadLocalRng;

impl rand::TryRng for ThreadLocalRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(RNG.with(|r| rand::Rng::next_u32(&mut *r.borrow_mut())))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(RNG.with(|r| rand::Rng::next_u64(&mut *r.borrow_mut())))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        RNG.with(|r| rand::Rng::fill_bytes(&mut *r.borrow_mut(), dst));
        Ok(())
    }
}
