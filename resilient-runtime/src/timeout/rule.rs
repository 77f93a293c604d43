//! What a timeout is: a fixed duration or a percentile rule, and the adaptive rule's settings.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;

/// How long a call may take: a fixed duration, or a multiple of a percentile of the function's
/// recent successful latencies.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeoutRule {
    /// Always this long (`"250ms"`).
    Fixed(Duration),
    /// `multiplier` times the `percentile`-th percentile of recent successes (`"p99*2"`).
    Adaptive {
        /// Which percentile, strictly between 0 and 100 (`99.9` for p99.9).
        percentile: f64,
        /// The factor applied to it, greater than 0.
        multiplier: f64,
    },
}

impl TimeoutRule {
    /// Parses the text `#[timeout]` takes as its first argument: a duration (`"250ms"`, `"1.5s"`,
    /// `"5m"`, `"24h"`; units `ns`, `us`, `ms`, `s`, `m`, `h`) or an adaptive rule `"pNN*K"`
    /// (`"p99*2"`, `"p99.9*3"`). The error says what is accepted.
    ///
    /// ```
    /// use std::time::Duration;
    /// use resilient_runtime::timeout::TimeoutRule;
    /// assert_eq!(TimeoutRule::parse("1.5s"), Ok(TimeoutRule::Fixed(Duration::from_millis(1500))));
    /// assert_eq!(
    ///     TimeoutRule::parse("p99.9*3"),
    ///     Ok(TimeoutRule::Adaptive { percentile: 99.9, multiplier: 3.0 })
    /// );
    /// assert!(TimeoutRule::parse("p100*2").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, String> {
        parse_rule(text.trim()).map_err(|why| {
            format!(
                "invalid timeout `{text}`: {why}; expected a duration such as `250ms`, `1.5s`, \
                 `5m` or `24h`, or an adaptive rule `pNN*K` such as `p99*2` or `p99.9*3`"
            )
        })
    }

    /// Whether the rule is usable: a positive duration, or a percentile strictly between 0 and
    /// 100 with a finite multiplier greater than 0.
    pub fn check(&self) -> Result<(), String> {
        match *self {
            Self::Fixed(d) if d.is_zero() => Err("a timeout of zero rejects every call".into()),
            Self::Fixed(_) => Ok(()),
            Self::Adaptive { percentile, .. } if !(percentile > 0.0 && percentile < 100.0) => {
                Err(format!("the percentile {percentile} is not between 0 and 100"))
            }
            Self::Adaptive { multiplier, .. } if !(multiplier > 0.0 && multiplier.is_finite()) => {
                Err(format!("the multiplier {multiplier} is not greater than 0"))
            }
            Self::Adaptive { .. } => Ok(()),
        }
    }
}

impl FromStr for TimeoutRule {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
    }
}

impl fmt::Display for TimeoutRule {
    /// The text [`TimeoutRule::parse`] reads back: `p99.9*3`, `250ms`, `5m`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Adaptive { percentile, multiplier } => write!(f, "p{percentile}*{multiplier}"),
            Self::Fixed(d) => {
                let n = d.as_nanos();
                match UNITS.iter().find(|(_, unit)| n % unit == 0) {
                    Some((name, unit)) => write!(f, "{}{name}", n / unit),
                    None => unreachable!("every duration is a whole number of nanoseconds"),
                }
            }
        }
    }
}

fn parse_rule(s: &str) -> Result<TimeoutRule, String> {
    let rule = match s.strip_prefix('p') {
        Some(rest) => {
            let (p, k) = rest.split_once('*').ok_or("missing `*K`")?;
            TimeoutRule::Adaptive {
                percentile: number(p.trim()).ok_or("the percentile is not a number")?,
                multiplier: number(k.trim()).ok_or("the multiplier is not a number")?,
            }
        }
        None => TimeoutRule::Fixed(parse_duration(s)?),
    };
    rule.check()?;
    Ok(rule)
}

/// Units from the largest, so [`Display`](fmt::Display) picks the shortest exact spelling.
const UNITS: [(&str, u128); 6] = [
    ("h", 3_600_000_000_000),
    ("m", 60_000_000_000),
    ("s", 1_000_000_000),
    ("ms", 1_000_000),
    ("us", 1_000),
    ("ns", 1),
];

/// A plain decimal (`99`, `99.9`, `.5`): digits and at most one point, nothing `f64` parsing
/// would also take (`inf`, `-1`, `1e3`).
fn number(s: &str) -> Option<f64> {
    let plain = s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && s.bytes().filter(|&b| b == b'.').count() <= 1;
    plain.then(|| s.parse().ok()).flatten()
}

/// `"1.5s"` and friends, computed in integers so `"0.1s"` is exactly 100 ms.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or("missing unit")?;
    let (digits, unit) = (&s[..split], s[split..].trim());
    number(digits).ok_or("missing number")?;
    let per_unit = match unit {
        "µs" => 1_000,
        _ => UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, nanos)| *nanos)
            .ok_or_else(|| format!("unknown unit `{unit}`"))?,
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.len() + frac.len() > 24 {
        return Err("too many digits".into());
    }
    let mantissa: u128 = format!("{whole}{frac}").parse().map_err(|_| "not a number")?;
    let nanos = mantissa * per_unit / 10u128.pow(frac.len() as u32);
    let secs = u64::try_from(nanos / 1_000_000_000).map_err(|_| "too long")?;
    Ok(Duration::new(secs, (nanos % 1_000_000_000) as u32))
}

/// The settings of an adaptive timeout (ignored by a fixed one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct AdaptiveSettings {
    /// The timeout used until `warmup` samples exist in the window (the call that completes them
    /// ends the warm-up).
    pub initial: Duration,
    /// The adaptive value never goes below this (default 20 ms). A floor well above tokio's 1 ms
    /// timer tick and a loaded host's scheduling delays: on a fast dependency (p99 of 150 µs)
    /// K × p99 is far below either, and a 1 ms floor timed out about 1 healthy call in 200 in
    /// the simulation of `tests/timeout_floor.rs`; see `docs/adaptive-timeout.md`.
    pub min: Duration,
    /// The adaptive value never goes above this.
    pub max: Duration,
    /// Samples needed in the window before the percentile is trusted.
    pub warmup: u32,
    /// How far back latencies count.
    pub window: Duration,
}

impl Default for AdaptiveSettings {
    /// Initial 1 s, clamped to [20 ms, 30 s], trusted after 100 samples, over the last 60 s.
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            min: Duration::from_millis(20),
            max: Duration::from_secs(30),
            warmup: 100,
            window: Duration::from_secs(60),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(s: &str) -> Duration {
        match TimeoutRule::parse(s) {
            Ok(TimeoutRule::Fixed(d)) => d,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn parses_durations_exactly() {
        assert_eq!(fixed("250ms"), Duration::from_millis(250));
        assert_eq!(fixed("1.5s"), Duration::from_millis(1500));
        assert_eq!(fixed("0.1s"), Duration::from_millis(100));
        assert_eq!(fixed("5m"), Duration::from_secs(300));
        assert_eq!(fixed("24h"), Duration::from_secs(86_400));
        assert_eq!(fixed(" 30 s "), Duration::from_secs(30));
        assert_eq!(fixed("10us"), Duration::from_micros(10));
        assert_eq!(fixed("10µs"), Duration::from_micros(10));
        assert_eq!(fixed("7ns"), Duration::from_nanos(7));
    }

    #[test]
    fn parses_adaptive_rules() {
        let p = |percentile, multiplier| TimeoutRule::Adaptive { percentile, multiplier };
        assert_eq!(TimeoutRule::parse("p99*2"), Ok(p(99.0, 2.0)));
        assert_eq!(TimeoutRule::parse("p99.9*3"), Ok(p(99.9, 3.0)));
        assert_eq!(TimeoutRule::parse("p50 * 1.5"), Ok(p(50.0, 1.5)));
    }

    #[test]
    fn rejects_with_a_message_saying_what_is_accepted() {
        for bad in [
            "",
            "250",
            "ms",
            "5 parsecs",
            "1.2.3s",
            "-1s",
            "0s",
            "p99",
            "p0*2",
            "p100*2",
            "p99*0",
            "p99*-1",
            "pinf*2",
            "p99*inf",
            "p1e2*2",
            "1e3ms",
        ] {
            let err = TimeoutRule::parse(bad).expect_err(bad);
            assert!(err.contains("expected a duration such as `250ms`"), "{err}");
            assert!(err.contains(&format!("`{bad}`")), "{err}");
        }
        assert!(TimeoutRule::parse("5 parsecs").unwrap_err().contains("unknown unit `parsecs`"));
    }

    #[test]
    fn display_reads_back() {
        for s in ["250ms", "1500ms", "5m", "24h", "7ns", "p99*2", "p99.9*3", "p50*1.5"] {
            let rule = TimeoutRule::parse(s).unwrap();
            assert_eq!(rule.to_string(), s);
            assert_eq!(s.parse::<TimeoutRule>(), Ok(rule));
        }
    }
}
