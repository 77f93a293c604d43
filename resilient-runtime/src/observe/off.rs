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
