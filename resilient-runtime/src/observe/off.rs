//! The handle structs without the `metrics` feature: empty, every method a no-op.

use std::time::Duration;

use crate::error::PolicyName;

#[derive(Debug, Default)]
pub(crate) struct RetryMetrics;

impl RetryMetrics {
    pub(crate) fn new(_: &PolicyName) -> Self {
        Self
    }
    #[inline(always)]
    pub(crate) fn success(&self) {}
    #[inline(always)]
    pub(crate) fn retry(&self) {}
    #[inline(always)]
    pub(crate) fn failure(&self, _: Option<crate::retry::GiveUp>) {}
}

#[derive(Debug, Default)]
pub(crate) struct BreakerMetrics;

impl BreakerMetrics {
    pub(crate) fn new(_: &PolicyName) -> Self {
        Self
    }
    #[inline(always)]
    pub(crate) fn success(&self) {}
    #[inline(always)]
    pub(crate) fn failure(&self) {}
    #[inline(always)]
    pub(crate) fn rejected(&self) {}
    #[inline(always)]
    pub(crate) fn transition(&self, _: u8) {}
}

#[derive(Debug, Default)]
pub(crate) struct TimeoutMetrics;

impl TimeoutMetrics {
    pub(crate) fn new(_: &PolicyName, _: Duration) -> Self {
        Self
    }
    #[inline(always)]
    pub(crate) fn finished(&self, _: bool) {}
    #[inline(always)]
    pub(crate) fn duration_since(&self, _: tokio::time::Instant) {}
    #[inline(always)]
    pub(crate) fn timed_out(&self, _: Duration) {}
    #[inline(always)]
    pub(crate) fn limit(&self, _: Duration) {}
}

#[derive(Debug, Default)]
pub(crate) struct IdempotencyMetrics;

impl IdempotencyMetrics {
    pub(crate) fn new(_: &PolicyName) -> Self {
        Self
    }
    #[inline(always)]
    pub(crate) fn hit(&self, _: bool) {}
    #[inline(always)]
    pub(crate) fn miss(&self) {}
    #[inline(always)]
    pub(crate) fn rejected(&self) {}
    #[inline(always)]
    pub(crate) fn failure(&self) {}
    #[inline(always)]
    pub(crate) fn evicted(&self, _: u64) {}
}

#[derive(Debug, Default)]
pub(crate) struct BulkheadMetrics;

impl BulkheadMetrics {
    pub(crate) fn new(_: &PolicyName, _: u32) -> Self {
        Self
    }
    #[inline(always)]
    pub(crate) fn finished(&self, _: bool) {}
    #[inline(always)]
    pub(crate) fn in_flight(&self, _: u32) {}
    #[inline(always)]
    pub(crate) fn released(&self, _: impl FnOnce() -> u32) {}
    #[inline(always)]
    pub(crate) fn queued(&self, _: u32) {}
    #[inline(always)]
    pub(crate) fn rejected(&self) {}
    #[inline(always)]
    pub(crate) fn limit(&self, _: u32) {}
}

#[derive(Debug, Default)]
pub(crate) struct FallbackMetrics;

impl FallbackMetrics {
    pub(crate) fn new(_: &PolicyName) -> Self {
        Self
    }
    #[inline(always)]
    pub(crate) fn fallback(&self) {}
    #[inline(always)]
    pub(crate) fn failure(&self) {}
}

#[derive(Debug, Default)]
pub(crate) struct HedgeMetrics;

impl HedgeMetrics {
    pub(crate) fn new(_: &PolicyName) -> Self {
        Self
    }
    #[inline(always)]
    pub(crate) fn success(&self) {}
    #[inline(always)]
    pub(crate) fn failure(&self) {}
    #[inline(always)]
    pub(crate) fn hedge(&self) {}
    #[inline(always)]
    pub(crate) fn won(&self) {}
}

#[derive(Debug, Default)]
pub(crate) struct AdaptiveMetrics;

impl AdaptiveMetrics {
    pub(crate) fn new(_: &PolicyName) -> Self {
        Self
    }
    #[inline(always)]
    pub(crate) fn success(&self) {}
    #[inline(always)]
    pub(crate) fn failure(&self) {}
    #[inline(always)]
    pub(crate) fn rejected(&self) {}
    #[inline(always)]
    pub(crate) fn probability(&self, _: f64) {}
}

#[derive(Debug, Default)]
pub(crate) struct RateLimitMetrics;

impl RateLimitMetrics {
    pub(crate) fn new(_: &PolicyName) -> Self {
        Self
    }
    #[inline(always)]
    pub(crate) fn rejected(&self) {}
    #[inline(always)]
    pub(crate) fn waited(&self, _: Duration) {}
    #[inline(always)]
    pub(crate) fn store_failed(&self) {}
}
