//! What each key accepts: the parsers, with the messages the attributes and configuration
//! files both give.

use std::time::Duration;

use crate::duration::{self, ACCEPTED};
use crate::value::{Backoff, Force, Jitter, Rule, Setting, Value};

/// What a key accepts, with the parser and the messages of each.
#[derive(Clone, Copy, Debug)]
pub enum Type {
    /// A whole number from `min` to `max`; `what` says what it counts. `zero` replaces the
    /// message for a 0 below `min`.
    Count {
        /// What the number counts, for messages.
        what: &'static str,
        /// The least accepted.
        min: u64,
        /// The most accepted.
        max: u64,
        /// A tailored message for 0, when 0 is out of range.
        zero: Option<&'static str>,
    },
    /// A duration string; zero only if `allow_zero`.
    Duration {
        /// Whether `"0ms"` is accepted.
        allow_zero: bool,
    },
    /// The same, or [`Setting::Unset`] for `"off"` (configuration only; the attribute leaves
    /// the key out instead).
    OptionalDuration,
    /// A timeout rule: a duration or `"pNN*K"`.
    Rule,
    /// A failure share in (0, 1], or `"off"` (count failures against `threshold` instead).
    FailureRate,
    /// A jitter: a fraction from 0 to 1, or `"full"`, `"equal"`, `"none"`.
    Jitter,
    /// A backoff name.
    Backoff,
    /// A retry budget: `"20%"` (1% to 100%) or `"off"`.
    Budget,
    /// `true` or `false`.
    Bool,
    /// `"open"`, `"closed"` or `"none"`.
    Force,
    /// A bulkhead's `max`: a whole number from 1 to 1000000, or `"adaptive"`.
    Limit,
    /// When a hedge starts: a duration or `"pNN"` (see [`after`](crate::value::after)).
    After,
    /// A number from `min` to `max` (both included); `what` says what it is, `example` how to
    /// write one.
    Number {
        /// What the number is, for messages.
        what: &'static str,
        /// The least accepted.
        min: f64,
        /// The most accepted.
        max: f64,
        /// A key written with a value, for messages: `k = 2.0`.
        example: &'static str,
    },
    /// A rate: `"100/s"`, `"600/m"`, `"1000/h"`.
    Rate,
    /// A rate limit's burst: a whole number, or `"off"` for the rate's N.
    Burst,
    /// One of a few words; `what` says what the word chooses, for messages.
    Choice {
        /// What the word chooses, for messages.
        what: &'static str,
        /// The words accepted, each with what it means (for messages).
        choices: &'static [(&'static str, &'static str)],
    },
}

/// A message and whether it belongs on the value (as every message here does) or its key.
pub type Error = String;

impl Type {
    /// Checks `value`; the message says what is accepted, in the words of the attribute's own
    /// compile error for the same value.
    ///
    /// ```
    /// use resilient_spec::value::{Setting, Type, Value};
    /// let t = Type::Duration { allow_zero: false };
    /// assert_eq!(t.parse(Value::Str("1.5s")), Ok(Setting::Duration(std::time::Duration::from_millis(1500))));
    /// assert_eq!(t.parse(Value::Str("0s")).unwrap_err(), "this duration must be longer than zero");
    /// ```
    pub fn parse(&self, value: Value<'_>) -> Result<Setting, Error> {
        match *self {
            Type::Count { what, min, max, zero } => {
                let n = match value {
                    Value::Int(n) => u64::try_from(n).ok(),
                    _ => None,
                };
                match n {
                    Some(n) if (min..=max).contains(&n) => Ok(Setting::Count(n)),
                    Some(0) if zero.is_some() => Err(zero.unwrap_or_default().into()),
                    _ => Err(format!("expected {what}: a whole number from {min} to {max}")),
                }
            }
            Type::Duration { allow_zero } => {
                duration_value(value, allow_zero).map(Setting::Duration)
            }
            Type::OptionalDuration => match value {
                Value::Str("off") => Ok(Setting::Unset),
                _ => duration_value(value, false).map(Setting::Duration),
            },
            Type::Rule => rule(value).map(Setting::Rule),
            Type::FailureRate => {
                if value == Value::Str("off") {
                    return Ok(Setting::Unset);
                }
                let f = number(value)
                    .ok_or("expected a failure share in (0, 1], like `failure_rate = 0.5`")?;
                if f > 0.0 && f <= 1.0 {
                    Ok(Setting::Number(f))
                } else {
                    Err(format!(
                        "failure_rate {f} is outside (0, 1]; write a share like `failure_rate = 0.5`"
                    ))
                }
            }
            Type::Jitter => jitter(value).map(Setting::Jitter),
            Type::Backoff => backoff(value).map(Setting::Backoff),
            Type::Budget => budget(value).map(Setting::Budget),
            Type::Bool => match value {
                Value::Bool(b) => Ok(Setting::Bool(b)),
                _ => Err("expected `true` or `false`".into()),
            },
            Type::Force => match value {
                Value::Str("open") => Ok(Setting::Force(Force::Open)),
                Value::Str("closed") => Ok(Setting::Force(Force::Closed)),
                Value::Str("none") => Ok(Setting::Force(Force::None)),
                Value::Str(other) => Err(format!(
                    "unknown force `{other}`; expected one of \"open\", \"closed\", \"none\""
                )),
                _ => Err("expected one of \"open\", \"closed\", \"none\"".into()),
            },
            Type::Limit => limit(value),
            Type::After => crate::kinds::after(value).map(Setting::After),
            Type::Number { what, min, max, example } => match number(value) {
                Some(n) if n >= min && n <= max => Ok(Setting::Number(n)),
                _ => {
                    Err(format!("expected {what}: a number from {min} to {max}, like `{example}`"))
                }
            },
            Type::Rate => crate::kinds::rate_limit::rate_value(value),
            Type::Burst => crate::kinds::rate_limit::burst_value(value),
            Type::Choice { what, choices } => choice(value, what, choices),
        }
    }
}

/// One of `choices`, as the [`Setting::Choice`] of the word in `choices`.
fn choice(
    value: Value<'_>,
    what: &str,
    choices: &'static [(&'static str, &'static str)],
) -> Result<Setting, Error> {
    let listed = choices
        .iter()
        .map(|(c, meaning)| format!("\"{c}\" ({meaning})"))
        .collect::<Vec<_>>()
        .join(" or ");
    match value {
        Value::Str(word) => match choices.iter().find(|(c, _)| *c == word) {
            Some((c, _)) => Ok(Setting::Choice(c)),
            None => Err(format!("unknown value \"{word}\" for {what}; expected {listed}")),
        },
        _ => Err(format!("expected {what}: {listed}")),
    }
}

/// A bulkhead's `max`.
fn limit(value: Value<'_>) -> Result<Setting, Error> {
    use crate::kinds::{LIMIT, MAX_LIMIT};
    match value {
        Value::Int(0) => Err(
            "`max = 0` would reject every call: write at least 1, or \"adaptive\" to follow the dependency's latency".into(),
        ),
        Value::Int(n) if (1..=i128::from(MAX_LIMIT)).contains(&n) => Ok(Setting::Count(n as u64)),
        Value::Str("adaptive") => Ok(Setting::Adaptive),
        Value::Str(other) => Err(format!("unknown limit `{other}`; expected {LIMIT}")),
        _ => Err(format!("expected {LIMIT}")),
    }
}

fn number(value: Value<'_>) -> Option<f64> {
    match value {
        Value::Float(f) => Some(f),
        Value::Int(i) => Some(i as f64),
        _ => None,
    }
}

/// A duration string; `allow_zero` says whether `"0ms"` is accepted.
pub fn duration_value(value: Value<'_>, allow_zero: bool) -> Result<Duration, Error> {
    let Value::Str(text) = value else {
        return Err(format!("expected a duration in quotes: {ACCEPTED}"));
    };
    let d = duration::parse(text)?;
    if d.is_zero() && !allow_zero {
        return Err("this duration must be longer than zero".into());
    }
    Ok(d)
}

/// What a timeout's rule may be, for messages.
pub const RULE: &str = "a duration like \"250ms\" or an adaptive rule like \"p99*2\" (K times the NN-th percentile of recent latencies)";

/// A timeout rule: a duration or `"pNN*K"`.
pub fn rule(value: Value<'_>) -> Result<Rule, Error> {
    let Value::Str(text) = value else {
        return Err(format!("expected {RULE}"));
    };
    match adaptive(text) {
        Some(Ok((percentile, multiplier))) => Ok(Rule::Adaptive { percentile, multiplier }),
        Some(Err(message)) => Err(message),
        None => duration_value(value, false).map(Rule::Fixed),
    }
}

/// Parses `"pNN*K"` (also `"pNN.N*K"`); `None` if the text does not start with `p`.
pub fn adaptive(text: &str) -> Option<Result<(f64, f64), Error>> {
    let rest = text.trim().strip_prefix('p')?;
    let Some((pct, mult)) = rest.split_once('*') else {
        return Some(Err(format!(
            "`{text}` lacks the multiplier; write it as \"p99*2\": K times the NN-th percentile"
        )));
    };
    let pct: f64 = match pct.trim().parse() {
        Ok(p) if p > 0.0 && p < 100.0 => p,
        Ok(_) => {
            return Some(Err(format!(
                "the percentile in `{text}` must be above 0 and below 100, like p50, p99 or p99.9"
            )));
        }
        Err(_) => {
            return Some(Err(format!("`p{pct}` is not a percentile; write p50, p99 or p99.9")));
        }
    };
    let mult: f64 = match mult.trim().parse() {
        Ok(m) if m > 0.0 && f64::is_finite(m) => m,
        Ok(_) => {
            return Some(Err(format!(
                "the multiplier in `{text}` must be above zero, like \"p99*2\""
            )));
        }
        Err(_) => {
            return Some(Err(format!(
                "`{}` is not a multiplier; write a number, like \"p99*2\" or \"p99*2.5\"",
                mult.trim()
            )));
        }
    };
    Some(Ok((pct, mult)))
}

/// What `backoff` accepts.
pub const BACKOFF: &str = "one of \"exp\", \"fixed\", \"linear\", \"decorrelated\"";

/// A backoff name.
pub fn backoff(value: Value<'_>) -> Result<Backoff, Error> {
    let Value::Str(s) = value else { return Err(format!("expected {BACKOFF}")) };
    match s {
        "exp" | "exponential" => Ok(Backoff::Exponential),
        "fixed" | "constant" => Ok(Backoff::Fixed),
        "linear" => Ok(Backoff::Linear),
        "decorrelated" => Ok(Backoff::Decorrelated),
        other => Err(format!("unknown backoff `{other}`; expected {BACKOFF}")),
    }
}

/// What `jitter` accepts.
pub const JITTER: &str =
    "a fraction from 0 to 1 (delay + uniform(0, f·delay)), or \"full\", \"equal\" or \"none\"";

/// A jitter: a fraction from 0 to 1, or `"full"`, `"equal"`, `"none"`.
pub fn jitter(value: Value<'_>) -> Result<Jitter, Error> {
    if let Value::Str(s) = value {
        return match s {
            "full" => Ok(Jitter::Full),
            "equal" => Ok(Jitter::Equal),
            "none" => Ok(Jitter::None),
            other => Err(format!("unknown jitter `{other}`; expected {JITTER}")),
        };
    }
    let f = number(value).ok_or_else(|| format!("expected {JITTER}"))?;
    if !(0.0..=1.0).contains(&f) {
        return Err(format!("jitter {f} is outside [0, 1]; expected {JITTER}"));
    }
    Ok(if f == 0.0 { Jitter::None } else { Jitter::Proportional(f) })
}

/// What `budget` accepts.
pub const BUDGET: &str = "a share of calls like \"20%\" (from 1% to 100%), or \"off\"";

/// A retry budget: `"20%"` or `"off"` (`None`).
pub fn budget(value: Value<'_>) -> Result<Option<f64>, Error> {
    let Value::Str(text) = value else { return Err(format!("expected {BUDGET}")) };
    if text == "off" {
        return Ok(None);
    }
    let pct = text.strip_suffix('%').and_then(|n| n.trim().parse::<f64>().ok());
    match pct {
        Some(p) if (1.0..=100.0).contains(&p) => Ok(Some(p / 100.0)),
        _ => Err(format!("invalid budget `{text}`; expected {BUDGET}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adaptive_rules() {
        assert_eq!(adaptive("p99*2"), Some(Ok((99.0, 2.0))));
        assert_eq!(adaptive("p99.9*3"), Some(Ok((99.9, 3.0))));
        assert!(adaptive("p101*2").unwrap().unwrap_err().contains("below 100"));
        assert!(adaptive("p99*x").unwrap().unwrap_err().contains("not a multiplier"));
        assert!(adaptive("p99*0").unwrap().unwrap_err().contains("above zero"));
        assert!(adaptive("p99").unwrap().unwrap_err().contains("lacks the multiplier"));
        assert_eq!(adaptive("250ms"), None);
    }

    #[test]
    fn counts_say_their_range() {
        let t = Type::Count { what: "probes", min: 1, max: 10, zero: Some("zero!") };
        assert_eq!(t.parse(Value::Int(3)), Ok(Setting::Count(3)));
        assert_eq!(t.parse(Value::Int(0)).unwrap_err(), "zero!");
        assert_eq!(
            t.parse(Value::Int(11)).unwrap_err(),
            "expected probes: a whole number from 1 to 10"
        );
        assert_eq!(
            t.parse(Value::Str("3")).unwrap_err(),
            "expected probes: a whole number from 1 to 10"
        );
    }

    #[test]
    fn settings_display_as_written() {
        for (t, v) in [
            (Type::Rule, "p99.9*3"),
            (Type::Rule, "250ms"),
            (Type::Budget, "20%"),
            (Type::Budget, "off"),
            (Type::Jitter, "full"),
            (Type::Backoff, "decorrelated"),
            (Type::Force, "open"),
            (Type::Choice { what: "a side", choices: &[("left", "l"), ("right", "r")] }, "right"),
        ] {
            assert_eq!(t.parse(Value::Str(v)).unwrap().to_string(), v);
        }
    }

    #[test]
    fn choices_list_the_words() {
        let t = Type::Choice { what: "a side", choices: &[("left", "l"), ("right", "r")] };
        assert_eq!(t.parse(Value::Str("left")), Ok(Setting::Choice("left")));
        assert_eq!(
            t.parse(Value::Str("up")).unwrap_err(),
            "unknown value \"up\" for a side; expected \"left\" (l) or \"right\" (r)"
        );
        assert_eq!(
            t.parse(Value::Int(1)).unwrap_err(),
            "expected a side: \"left\" (l) or \"right\" (r)"
        );
    }
}
