//! Values as written (in an attribute or a configuration file), what they parse into, and the
//! parsers with their messages.

use std::fmt;
use std::time::Duration;

use crate::duration;

/// A value as written: a literal in an attribute, or a TOML value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    /// An integer (`5`, `-1`).
    Int(i128),
    /// A number with a point (`0.5`).
    Float(f64),
    /// Text in quotes (`"250ms"`).
    Str(&'a str),
    /// `true` or `false`.
    Bool(bool),
    /// Anything else (an expression, a TOML table or array), by what it is.
    Other(&'a str),
}

/// How a policy treats calls, whatever its state: the `force` key of a circuit breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Force {
    /// No override: the breaker decides (`"none"`).
    None,
    /// Reject every call (`"open"`).
    Open,
    /// Let every call through and record nothing (`"closed"`).
    Closed,
}

/// Backoff growth, as `backoff = "..."` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backoff {
    /// `"exp"`: base·2ⁿ.
    Exponential,
    /// `"fixed"`: base every time.
    Fixed,
    /// `"linear"`: base·(n+1).
    Linear,
    /// `"decorrelated"`: min(max_delay, uniform(base, previous·3)).
    Decorrelated,
}

/// Jitter, as `jitter = ...` gives it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Jitter {
    /// `"none"` or `0`.
    None,
    /// A fraction f: delay + uniform(0, f·delay).
    Proportional(f64),
    /// `"full"`: uniform(0, delay).
    Full,
    /// `"equal"`: delay/2 + uniform(0, delay/2).
    Equal,
}

/// A timeout's rule: its first argument, `rule` in configuration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rule {
    /// A fixed duration.
    Fixed(Duration),
    /// `"pNN*K"`: K times the NN-th percentile of recent successful latencies.
    Adaptive {
        /// NN, strictly between 0 and 100.
        percentile: f64,
        /// K, greater than 0.
        multiplier: f64,
    },
}

/// When a hedge starts (`after` of `#[hedge]`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum After {
    /// A fixed delay, like `"50ms"`.
    Fixed(Duration),
    /// `"pNN"`: the NN-th percentile of recent successful latencies, strictly between 0 and 100.
    Percentile(f64),
}

/// A checked value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Setting {
    /// A whole number.
    Count(u64),
    /// A duration.
    Duration(Duration),
    /// A timeout rule.
    Rule(Rule),
    /// A number (a share, a factor).
    Number(f64),
    /// A jitter.
    Jitter(Jitter),
    /// A backoff growth.
    Backoff(Backoff),
    /// A retry budget: the share of calls retries may add, or `None` for `"off"`.
    Budget(Option<f64>),
    /// On or off.
    Bool(bool),
    /// A breaker override.
    Force(Force),
    /// An optional key left unset (`failure_rate` off, `wait_in_flight` not waiting).
    Unset,
    /// `"adaptive"`: a bulkhead's `max` that follows the dependency's latency.
    Adaptive,
    /// When a hedge starts: a fixed delay or a percentile of recent latencies.
    After(After),
    /// A rate: `count` calls per `per` (`"100/s"`).
    Rate {
        /// N, the calls.
        count: u64,
        /// The period: a second, a minute or an hour.
        per: Duration,
    },
    /// One of the words a [`Type::Choice`] accepts.
    Choice(&'static str),
}

impl Setting {
    /// The number of a [`Setting::Count`].
    pub fn count(self) -> Option<u64> {
        if let Setting::Count(n) = self { Some(n) } else { None }
    }

    /// The duration of a [`Setting::Duration`].
    pub fn duration(self) -> Option<Duration> {
        if let Setting::Duration(d) = self { Some(d) } else { None }
    }

    /// The number of a [`Setting::Number`].
    pub fn number(self) -> Option<f64> {
        if let Setting::Number(x) = self { Some(x) } else { None }
    }
}

impl fmt::Display for Setting {
    /// The value as a configuration file would write it (strings without their quotes).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Setting::Count(n) => write!(f, "{n}"),
            Setting::Duration(d) => f.write_str(&duration::display(d)),
            Setting::Rule(Rule::Fixed(d)) => f.write_str(&duration::display(d)),
            Setting::Rule(Rule::Adaptive { percentile, multiplier }) => {
                write!(f, "p{percentile}*{multiplier}")
            }
            Setting::Number(x) => write!(f, "{x}"),
            Setting::Jitter(Jitter::None) => f.write_str("none"),
            Setting::Jitter(Jitter::Proportional(x)) => write!(f, "{x}"),
            Setting::Jitter(Jitter::Full) => f.write_str("full"),
            Setting::Jitter(Jitter::Equal) => f.write_str("equal"),
            Setting::Backoff(b) => f.write_str(match b {
                Backoff::Exponential => "exp",
                Backoff::Fixed => "fixed",
                Backoff::Linear => "linear",
                Backoff::Decorrelated => "decorrelated",
            }),
            Setting::Budget(None) => f.write_str("off"),
            Setting::Budget(Some(r)) => write!(f, "{}%", r * 100.0),
            Setting::Bool(b) => write!(f, "{b}"),
            Setting::Force(Force::None) => f.write_str("none"),
            Setting::Force(Force::Open) => f.write_str("open"),
            Setting::Force(Force::Closed) => f.write_str("closed"),
            Setting::Unset => f.write_str("off"),
            Setting::Adaptive => f.write_str("adaptive"),
            Setting::After(After::Fixed(d)) => f.write_str(&duration::display(d)),
            Setting::After(After::Percentile(p)) => write!(f, "p{p}"),
            Setting::Rate { count, per } => match (per.as_secs(), per.subsec_nanos()) {
                (1, 0) => write!(f, "{count}/s"),
                (60, 0) => write!(f, "{count}/m"),
                (3600, 0) => write!(f, "{count}/h"),
                _ => write!(f, "{count}/{}", duration::display(per)),
            },
            Setting::Choice(word) => f.write_str(word),
        }
    }
}

pub use crate::check::{
    BACKOFF, BUDGET, Error, JITTER, RULE, Type, adaptive, backoff, budget, duration_value, jitter,
    rule,
};
pub use crate::kinds::rate_limit::RATE;
pub use crate::kinds::{AFTER, after};
