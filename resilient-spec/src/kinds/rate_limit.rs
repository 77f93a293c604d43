//! The `rate_limit` kind: its keys, defaults, checks and metrics, and the `"N/s"` rate parser.

use std::time::Duration;

use crate::kind::{Key, Kind};
use crate::metrics;
use crate::value::{Setting, Type, Value};

/// `#[rate_limit]`.
pub const RATE_LIMIT: Kind = Kind {
    name: "rate_limit",
    attribute: "rate_limit",
    keys: &[
        Key {
            name: "rate",
            ty: Type::Rate,
            default: Setting::Rate { count: 1, per: Duration::from_secs(1) },
            help: "the attribute's first argument: calls per second, minute or hour, like \"100/s\", \"600/m\" or \"1000/h\"",
        },
        Key {
            name: "burst",
            ty: Type::Burst,
            default: Setting::Unset,
            help: "calls admitted at once after a quiet spell; \"off\" (the default): the N of the rate",
        },
        Key {
            name: "wait",
            ty: Type::Duration { allow_zero: true },
            default: Setting::Duration(Duration::ZERO),
            help: "how long a call over the limit may wait for its slot before it is rejected (\"0ms\": rejected at once)",
        },
        super::ENABLED,
    ],
    fixed: &[
        (
            "store",
            "the store is chosen when the policy is built, and the generated code depends on it",
        ),
        ("on_store_error", "it is chosen when the policy is built; change it in the source"),
        super::NAME,
        super::PER,
        super::MAX_PARTITIONS,
    ],
    metrics: &[metrics::CALLS_TOTAL, metrics::RATE_LIMIT_WAIT_SECONDS],
};

/// The largest N of a rate and the largest burst.
pub const MAX_COUNT: u64 = 1_000_000_000;

/// What a rate looks like, for messages.
pub const RATE: &str =
    "a number of calls per second, minute or hour, like \"100/s\", \"600/m\" or \"1000/h\"";

/// Parses a rate: `"N/s"`, `"N/m"` or `"N/h"` (also `"N/sec"`, `"N/min"`, `"N/hour"`, and any
/// other period as a duration, `"N/10s"`, as a limiter built by hand is shown), N a whole number
/// from 1 to 1 000 000 000.
///
/// ```
/// use std::time::Duration;
/// use resilient_spec::parse_rate as rate;
/// assert_eq!(rate("100/s"), Ok((100, Duration::from_secs(1))));
/// assert!(rate("0/s").unwrap_err().contains("reject every call"));
/// ```
pub fn rate(text: &str) -> Result<(u64, Duration), String> {
    let Some((n, unit)) = text.trim().split_once('/') else {
        return Err(format!("`{text}` is not a rate; write {RATE}"));
    };
    let per = match unit.trim() {
        "s" | "sec" | "second" => Duration::from_secs(1),
        "m" | "min" | "minute" => Duration::from_secs(60),
        "h" | "hour" => Duration::from_secs(3600),
        "" => return Err(format!("`{text}` has no unit after `/`; write {RATE}")),
        // Any other period as a duration (`"5/10s"`), as a builder's period is written back.
        other if other.starts_with(|c: char| c.is_ascii_digit()) => {
            match crate::duration::parse(other) {
                Ok(d) if !d.is_zero() => d,
                Ok(_) => return Err(format!("the period in `{text}` must be longer than zero")),
                Err(e) => return Err(e),
            }
        }
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{text}`; a rate is per second (`s`), minute (`m`) or hour (`h`): write {RATE}"
            ));
        }
    };
    let n = n.trim();
    match n.parse::<u64>() {
        Ok(0) => Err(format!(
            "a rate of `{text}` would reject every call; write at least 1, like \"1/s\", or remove `#[rate_limit]`"
        )),
        Ok(count) if count <= MAX_COUNT => Ok((count, per)),
        Ok(_) => Err(format!(
            "`{n}` calls is more than a rate limiter can tell apart; write at most {MAX_COUNT}"
        )),
        Err(_) if n.starts_with('-') => {
            Err(format!("a rate counts calls: `{n}` is negative; write {RATE}"))
        }
        Err(_) => Err(format!("`{n}` is not a whole number of calls; write {RATE}")),
    }
}

/// A burst: a whole number from 1 to [`MAX_COUNT`], or `"off"` for the rate's N.
pub(crate) fn burst_value(value: Value<'_>) -> Result<Setting, String> {
    const COUNT: Type = Type::Count {
        what: "the number of calls admitted at once after a quiet spell (or \"off\": the rate's N)",
        min: 1,
        max: MAX_COUNT,
        zero: Some(
            "`burst = 0` would admit no call at all: `burst` counts the calls admitted at once after a quiet spell; write at least 1 (the default is the rate's N)",
        ),
    };
    match value {
        Value::Str("off") => Ok(Setting::Unset),
        _ => COUNT.parse(value),
    }
}

/// The rate parser as a [`Type`] parses values.
pub(crate) fn rate_value(value: Value<'_>) -> Result<Setting, String> {
    let Value::Str(text) = value else {
        return Err(format!("expected the rate in quotes: {RATE}"));
    };
    rate(text).map(|(count, per)| Setting::Rate { count, per })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_and_say_what_is_wrong() {
        assert_eq!(rate(" 600 / m "), Ok((600, Duration::from_secs(60))));
        assert_eq!(rate("1000/h"), Ok((1000, Duration::from_secs(3600))));
        assert!(rate("100").unwrap_err().contains("not a rate"));
        assert!(rate("100/d").unwrap_err().contains("unknown unit `d`"));
        assert!(rate("-5/s").unwrap_err().contains("negative"));
        assert!(rate("1.5/s").unwrap_err().contains("whole number"));
        assert!(rate("100/").unwrap_err().contains("no unit"));
        assert!(rate("2000000000/s").unwrap_err().contains("at most"));
        assert_eq!(rate("5/10s"), Ok((5, Duration::from_secs(10))));
        assert!(rate("5/0s").unwrap_err().contains("longer than zero"));
    }

    #[test]
    fn a_rate_displays_as_written() {
        let s = rate_value(Value::Str("600/m")).unwrap();
        assert_eq!(s.to_string(), "600/m");
        assert_eq!(rate_value(Value::Str("5/h")).unwrap().to_string(), "5/h");
        assert_eq!(rate_value(Value::Str("5/10s")).unwrap().to_string(), "5/10s");
        assert_eq!(rate_value(Value::Str("5/1.5s")).unwrap().to_string(), "5/1500ms");
    }
}
