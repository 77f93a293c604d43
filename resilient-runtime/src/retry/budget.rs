//! The retry budget: retries may add at most a share of recent calls' load.
//!
//! In the style of Finagle's `RetryBudget` and gRPC's retry throttling. Every call deposits
//! `ratio` of a token; every retry withdraws a whole one. The balance is capped, so deposits from
//! long ago do not pile up: under sustained failure retries settle at `ratio` of calls. A small
//! per-second floor keeps retries possible at low traffic, where the share of a handful of calls
//! would be nothing.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

use serde::Serialize;
use tokio::time::Instant;

/// One token, in the fixed-point unit the balance is kept in.
const TOKEN: i64 = 1000;

/// Limits retries to a share of recent calls; see the module docs.
#[derive(Debug)]
pub struct RetryBudget {
    deposit: i64,
    max_balance: i64,
    min_per_sec: u32,
    balance: AtomicI64,
    /// Floor accounting: the current second (high 32 bits) and retries taken in it (low 32).
    floor: AtomicU64,
    exhausted: AtomicU64,
    /// The floor's seconds count from here, on tokio's clock (so paused-time tests control it).
    epoch: Instant,
}

/// The settings of a [`RetryBudget`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct BudgetSettings {
    /// Retries allowed per call, as a fraction (`0.2` for "20%").
    pub ratio: f64,
    /// Retries allowed per second whatever the traffic.
    pub min_per_sec: u32,
    /// The most retries saved up for a burst of failures.
    pub max_saved: u32,
}

impl Default for BudgetSettings {
    /// 20 % of calls, at least 10 retries a second, at most 100 saved up.
    fn default() -> Self {
        Self { ratio: 0.2, min_per_sec: 10, max_saved: 100 }
    }
}

/// A budget's state as the registry reports it.
#[derive(Clone, Debug, Serialize)]
pub struct BudgetSnapshot {
    /// The settings.
    pub settings: BudgetSettings,
    /// Retries currently available from deposits.
    pub available: f64,
    /// Retries refused because the budget was spent.
    pub exhausted: u64,
}

/// What one call deposits for a retry ratio, in the budget's fixed-point unit.
pub(crate) fn deposit_for(ratio: f64) -> i64 {
    let ratio = if ratio.is_finite() { ratio.clamp(0.0, 1000.0) } else { 0.0 };
    (ratio * TOKEN as f64).round() as i64
}

impl RetryBudget {
    /// A budget with the given settings, starting empty (the floor covers the first retries).
    pub fn new(settings: BudgetSettings) -> Self {
        let ratio =
            if settings.ratio.is_finite() { settings.ratio.clamp(0.0, 1000.0) } else { 0.0 };
        Self {
            deposit: (ratio * TOKEN as f64).round() as i64,
            max_balance: i64::from(settings.max_saved) * TOKEN,
            min_per_sec: settings.min_per_sec,
            balance: AtomicI64::new(0),
            floor: AtomicU64::new(0),
            exhausted: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    /// The settings this budget was built with.
    pub fn settings(&self) -> BudgetSettings {
        BudgetSettings {
            ratio: self.deposit as f64 / TOKEN as f64,
            min_per_sec: self.min_per_sec,
            max_saved: (self.max_balance / TOKEN) as u32,
        }
    }

    /// Records a call. Once the balance is full this is a single atomic load.
    #[inline]
    pub fn deposit(&self) {
        if self.balance.load(Relaxed) < self.max_balance {
            self.balance.fetch_add(self.deposit, Relaxed);
        }
    }

    /// Records a call, depositing `amount` (from [`deposit_for`] of a configured ratio rather
    /// than the one the budget was built with).
    #[inline]
    pub(crate) fn deposit_amount(&self, amount: i64) {
        if self.balance.load(Relaxed) < self.max_balance {
            self.balance.fetch_add(amount, Relaxed);
        }
    }

    /// Takes one retry from the budget, or from this second's floor; false when both are spent.
    pub fn try_withdraw(&self) -> bool {
        let taken = self
            .balance
            .fetch_update(Relaxed, Relaxed, |b| (b >= TOKEN).then_some(b - TOKEN))
            .is_ok();
        if taken || self.take_from_floor() {
            return true;
        }
        self.exhausted.fetch_add(1, Relaxed);
        false
    }

    fn take_from_floor(&self) -> bool {
        if self.min_per_sec == 0 {
            return false;
        }
        // Wrapping is harmless: only equality with the stored second matters.
        let second = Instant::now().saturating_duration_since(self.epoch).as_secs() as u32;
        self.floor
            .fetch_update(Relaxed, Relaxed, |word| {
                let (sec, used) = ((word >> 32) as u32, word as u32);
                if sec != second {
                    Some((u64::from(second) << 32) | 1)
                } else if used < self.min_per_sec {
                    Some(word + 1)
                } else {
                    None
                }
            })
            .is_ok()
    }

    /// The budget's current state.
    pub fn snapshot(&self) -> BudgetSnapshot {
        BudgetSnapshot {
            settings: self.settings(),
            available: self.balance.load(Relaxed).min(self.max_balance) as f64 / TOKEN as f64,
            exhausted: self.exhausted.load(Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn budget(ratio: f64, min_per_sec: u32, max_saved: u32) -> RetryBudget {
        RetryBudget::new(BudgetSettings { ratio, min_per_sec, max_saved })
    }

    #[test]
    fn retries_are_a_share_of_calls() {
        let b = budget(0.2, 0, 100);
        for _ in 0..100 {
            b.deposit();
        }
        let granted = (0..100).filter(|_| b.try_withdraw()).count();
        assert_eq!(granted, 20);
        assert_eq!(b.snapshot().exhausted, 80);
    }

    #[test]
    fn savings_are_capped() {
        let b = budget(0.5, 0, 3);
        for _ in 0..1000 {
            b.deposit();
        }
        assert!((b.snapshot().available - 3.0).abs() < 1.0);
        let granted = (0..10).filter(|_| b.try_withdraw()).count();
        assert!((3..=4).contains(&granted), "{granted}");
    }

    #[tokio::test(start_paused = true)]
    async fn floor_allows_a_few_retries_each_second() {
        let b = budget(0.2, 2, 10);
        assert!(b.try_withdraw() && b.try_withdraw());
        assert!(!b.try_withdraw());
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(b.try_withdraw() && b.try_withdraw());
        assert!(!b.try_withdraw());
    }
}
