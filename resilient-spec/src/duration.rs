//! Duration strings: `"250ms"`, `"30s"`, `"1.5s"`, `"5m"`, `"24h"`, `"2d"`.

use std::time::Duration;

/// What a duration may look like, for messages.
pub const ACCEPTED: &str = "a number and a unit, like \"250ms\", \"30s\", \"1.5s\", \"5m\" or \"24h\" (units: ns, us, ms, s, m, h, d)";

/// Parses `text`; the error message says what is accepted.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(resilient_spec::duration::parse("1.5s"), Ok(Duration::from_millis(1500)));
/// assert!(resilient_spec::duration::parse("30").unwrap_err().contains("no unit"));
/// ```
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    if number.is_empty() {
        return Err(format!("`{text}` is not a duration; write {ACCEPTED}"));
    }
    let nanos_per_unit: f64 = match unit.trim() {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" | "min" => 60e9,
        "h" => 3600e9,
        "d" => 86400e9,
        "" => return Err(format!("`{text}` has no unit; write {ACCEPTED}")),
        other => {
            return Err(format!("unknown unit `{other}` in `{text}`; write {ACCEPTED}"));
        }
    };
    let value: f64 =
        number.parse().map_err(|_| format!("`{text}` is not a duration; write {ACCEPTED}"))?;
    let nanos = value * nanos_per_unit;
    if !nanos.is_finite() || nanos > u64::MAX as f64 {
        return Err(format!("`{text}` is too long a duration"));
    }
    Ok(Duration::from_nanos(nanos.round() as u64))
}

/// The shortest exact spelling [`parse`] reads back: `250ms`, `1500ms`, `5m`, `24h`, `7ns`.
pub fn display(d: Duration) -> String {
    const UNITS: [(&str, u128); 6] = [
        ("h", 3_600_000_000_000),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
        ("us", 1_000),
        ("ns", 1),
    ];
    let n = d.as_nanos();
    if n == 0 {
        return "0s".into();
    }
    let (name, unit) =
        UNITS.iter().find(|(_, unit)| n.is_multiple_of(*unit)).copied().unwrap_or(("ns", 1));
    format!("{}{name}", n / unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_forms() {
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("24h"), Ok(Duration::from_secs(86400)));
        assert_eq!(parse("2d"), Ok(Duration::from_secs(172800)));
        assert_eq!(parse("100us"), Ok(Duration::from_micros(100)));
        assert_eq!(parse("0ms"), Ok(Duration::ZERO));
    }

    #[test]
    fn rejected_forms_say_why() {
        assert!(parse("30").unwrap_err().contains("no unit"));
        assert!(parse("30 sec").unwrap_err().contains("unknown unit `sec`"));
        assert!(parse("abc").unwrap_err().contains("not a duration"));
        assert!(parse("1.2.3s").unwrap_err().contains("not a duration"));
        assert!(parse("").is_err());
        assert!(parse("ms").unwrap_err().contains("not a duration"));
        assert!(parse("99999999999999999999h").unwrap_err().contains("too long"));
    }

    #[test]
    fn display_reads_back() {
        for s in ["250ms", "1500ms", "5m", "24h", "7ns", "48h", "0s"] {
            assert_eq!(display(parse(s).unwrap()), s);
        }
    }
}
