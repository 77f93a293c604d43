//! The `hedge` kind: its keys, defaults, checks and metrics.

use std::time::Duration;

use crate::check::{Error, duration_value};
use crate::kind::{Key, Kind};
use crate::metrics;
use crate::value::{After, Setting, Type, Value};

/// `#[hedge]`.
pub const HEDGE: Kind = Kind {
    name: "hedge",
    attribute: "hedge",
    keys: &[
        Key {
            name: "after",
            ty: Type::After,
            default: Setting::After(After::Percentile(95.0)),
            help: "when a hedge starts: a percentile of recent latencies like \"p95\", or a duration like \"50ms\"",
        },
        Key {
            name: "max",
            ty: Type::Count {
                what: "the number of attempts in all, the first included (at least 2: one attempt is no hedging)",
                min: 2,
                max: 10,
                zero: Some(
                    "`max = 0` would never call the function: `max` counts attempts in all, the first included; write `max = 2` for one hedge",
                ),
            },
            default: Setting::Count(2),
            help: "attempts in all, the first included",
        },
        Key {
            name: "budget",
            ty: Type::Budget,
            default: Setting::Budget(Some(0.1)),
            help: "the share of calls hedges may add, like \"10%\", or \"off\"",
        },
        Key {
            name: "warmup",
            ty: Type::Count {
                what: "the samples needed before the percentile is trusted",
                min: 1,
                max: 1_000_000,
                zero: None,
            },
            default: Setting::Count(100),
            help: "samples needed before a percentile `after` hedges (none are sent before)",
        },
        Key {
            name: "window",
            ty: Type::Duration { allow_zero: false },
            default: Setting::Duration(Duration::from_secs(60)),
            help: "how far back latencies count (percentile `after` only)",
        },
        super::ENABLED,
    ],
    fixed: &[super::NAME, super::PER, super::MAX_PARTITIONS],
    metrics: &[metrics::CALLS_TOTAL, metrics::HEDGES_TOTAL, metrics::HEDGES_WON_TOTAL],
};

/// What `after` accepts, for messages.
pub const AFTER: &str =
    "a percentile of recent latencies like \"p95\" (or \"p99.9\"), or a duration like \"50ms\"";

/// A hedge's `after`: `"pNN"` or a duration longer than zero.
pub fn after(value: Value<'_>) -> Result<After, Error> {
    let Value::Str(text) = value else {
        return Err(format!("expected {AFTER}"));
    };
    let Some(rest) = text.trim().strip_prefix('p') else {
        return match duration_value(value, false) {
            Ok(d) => Ok(After::Fixed(d)),
            Err(e) if e.contains("longer than zero") => Err(
                "`after = \"0ms\"` would send every attempt at once, multiplying the load: give a delay longer than zero, or a percentile like \"p95\"".into(),
            ),
            Err(e) => Err(format!("{e}; `after` also takes a percentile like \"p95\"")),
        };
    };
    if let Some((pct, _)) = rest.split_once('*') {
        return Err(format!(
            "`after` takes the percentile alone, like \"p{}\": a hedge starts once the first attempt is slower than that share of recent calls",
            pct.trim()
        ));
    }
    match rest.trim().parse::<f64>() {
        Ok(p) if p > 0.0 && p < 100.0 => Ok(After::Percentile(p)),
        Ok(_) => Err(format!(
            "the percentile in `{text}` must be above 0 and below 100, like p90, p95 or p99"
        )),
        Err(_) => Err(format!("`{text}` is not a percentile; write p90, p95 or p99.9")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_takes_a_percentile_or_a_duration() {
        assert_eq!(after(Value::Str("p95")), Ok(After::Percentile(95.0)));
        assert_eq!(after(Value::Str("p99.9")), Ok(After::Percentile(99.9)));
        assert_eq!(after(Value::Str("50ms")), Ok(After::Fixed(Duration::from_millis(50))));
        assert!(after(Value::Str("p100")).unwrap_err().contains("below 100"));
        assert!(after(Value::Str("p0")).unwrap_err().contains("above 0"));
        assert!(after(Value::Str("p95*2")).unwrap_err().contains("percentile alone"));
        assert!(after(Value::Str("0ms")).unwrap_err().contains("every attempt at once"));
        assert!(after(Value::Str("soon")).unwrap_err().contains("p95"));
        assert!(after(Value::Int(5)).unwrap_err().contains("expected"));
    }

    #[test]
    fn after_displays_as_written() {
        for v in ["p95", "p99.9", "50ms"] {
            assert_eq!(
                HEDGE.key("after").unwrap().1.ty.parse(Value::Str(v)).unwrap().to_string(),
                v
            );
        }
    }

    #[test]
    fn max_needs_two() {
        let (_, max) = HEDGE.key("max").unwrap();
        assert!(max.ty.parse(Value::Int(1)).unwrap_err().contains("at least 2"));
        assert_eq!(max.ty.parse(Value::Int(3)), Ok(Setting::Count(3)));
    }
}
