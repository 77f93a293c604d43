//! Shared helpers for resilient's behaviour tests.

pub mod events;

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Records the virtual instant of every attempt, to check the delays between them exactly.
#[derive(Default)]
pub struct Timeline(Mutex<Vec<Instant>>);

impl Timeline {
    /// An empty timeline (usable in a `static`).
    pub const fn new() -> Self {
        Self(Mutex::new(Vec::new()))
    }

    /// Records an attempt now; returns how many attempts came before it.
    pub fn mark(&self) -> usize {
        let mut v = self.0.lock().unwrap();
        v.push(Instant::now());
        v.len() - 1
    }

    /// Attempts recorded so far.
    pub fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    /// The gaps between consecutive attempts.
    pub fn gaps(&self) -> Vec<Duration> {
        self.0.lock().unwrap().windows(2).map(|w| w[1] - w[0]).collect()
    }
}

/// A typical application error: transient or permanent, and able to carry a rejection.
#[derive(Debug, Clone, PartialEq)]
pub enum AppError {
    /// Worth retrying.
    Transient,
    /// Not worth retrying.
    Permanent,
    /// A resilience policy turned the call away.
    Rejected(resilient::Error),
}

impl From<resilient::Error> for AppError {
    fn from(e: resilient::Error) -> Self {
        AppError::Rejected(e)
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for AppError {}

/// The usual `when` predicate.
pub fn is_transient(e: &AppError) -> bool {
    !matches!(e, AppError::Permanent)
}

/// The samples of a Prometheus text rendering or scrape: `name{labels}` → value.
pub fn prometheus_samples(text: &str) -> std::collections::HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            Some((series.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// The value of one series of [`prometheus_samples`], or a panic that lists them all.
pub fn sample(samples: &std::collections::HashMap<String, f64>, series: &str) -> f64 {
    samples.get(series).copied().unwrap_or_else(|| panic!("no {series} in {samples:#?}"))
}
