//! `#[bulkhead(...)]` arguments: a fixed `max` or `max = "adaptive"` with its bounds.

use std::time::Duration;

use syn::{Expr, Ident, LitStr};

use resilient_spec::{BULKHEAD, Setting};

use super::{Arg, Keys, Per, PerKeys, duration, policy_name, setting};
use crate::errors::Errors;

/// A bulkhead's limit as written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum BulkheadMax {
    Fixed(u32),
    Adaptive,
}

/// The keys given; the others keep the runtime's defaults (`BulkheadSettings::default()`).
pub(crate) struct BulkheadArgs {
    pub(crate) max: Option<BulkheadMax>,
    pub(crate) queue: Option<u32>,
    pub(crate) wait: Option<Duration>,
    pub(crate) min: Option<u32>,
    pub(crate) limit: Option<u32>,
    pub(crate) initial: Option<u32>,
    pub(crate) name: Option<LitStr>,
    /// `per = expr`: one bulkhead per distinct value.
    pub(crate) per: Option<Per>,
}

const VALID: &[&str] =
    &["max", "queue", "wait", "min", "limit", "initial", "name", "per", "max_partitions"];
/// Keys of an adaptive limit only.
const ADAPTIVE: &[&str] = &["min", "limit", "initial"];
const RENAMED: &[(&str, &str)] = &[
    ("max_concurrent", "use `max`: the most calls running at once"),
    ("max_concurrency", "use `max`: the most calls running at once"),
    ("concurrency", "use `max`: the most calls running at once"),
    ("permits", "use `max`: the most calls running at once"),
    ("size", "use `max`: the most calls running at once"),
    ("queue_size", "use `queue`: the most calls waiting for a place"),
    ("max_queue", "use `queue`: the most calls waiting for a place"),
    ("max_wait", "use `wait`: how long a queued call waits for a place"),
    ("timeout", "use `wait`: how long a queued call waits for a place"),
    ("adaptive", "write `max = \"adaptive\"`"),
    ("max_limit", "use `limit`: the highest adaptive limit"),
    ("min_limit", "use `min`: the lowest adaptive limit"),
    ("initial_limit", "use `initial`: the adaptive limit to start from"),
];

/// A count key's value, checked by the spec.
fn count(key: &str, value: &Expr) -> syn::Result<u32> {
    setting(&BULKHEAD, key, value).map(|v| v.count().unwrap_or_default() as u32)
}

impl BulkheadArgs {
    pub(crate) fn parse(args: Vec<Arg>, errors: &mut Errors) -> Self {
        let mut out = BulkheadArgs {
            max: None,
            queue: None,
            wait: None,
            min: None,
            limit: None,
            initial: None,
            name: None,
            per: None,
        };
        let mut keys = Keys::new("bulkhead", VALID, RENAMED);
        let mut per = PerKeys::default();
        let mut adaptive_keys: Vec<Ident> = Vec::new();
        let (mut max_value, mut queue_key, mut wait_key) = (None, None, None);
        let given = args.len();
        let accepted = keys.accepted(args, errors);
        // A key rejected (unknown, renamed, twice) or a value rejected: the checks across keys
        // would only repeat it in other words.
        let mut clean = accepted.len() == given;
        for (name, key, value) in accepted {
            if let Some(parsed) = per.take(&name, &key, &value) {
                if let Err(e) = parsed {
                    errors.push(e);
                }
                continue;
            }
            if ADAPTIVE.contains(&name.as_str()) {
                adaptive_keys.push(key.clone());
            }
            let parsed: syn::Result<()> = match name.as_str() {
                "max" => setting(&BULKHEAD, "max", &value).map(|v| {
                    max_value = Some(value.clone());
                    out.max = Some(match v {
                        Setting::Adaptive => BulkheadMax::Adaptive,
                        other => BulkheadMax::Fixed(other.count().unwrap_or(1) as u32),
                    });
                }),
                "queue" => count("queue", &value).map(|n| {
                    queue_key = Some(key.clone());
                    out.queue = Some(n);
                }),
                "wait" => duration(&value, true).map(|d| {
                    wait_key = Some((key.clone(), value.clone()));
                    out.wait = Some(d.value);
                }),
                "min" => count("min", &value).map(|n| out.min = Some(n)),
                "limit" => count("limit", &value).map(|n| out.limit = Some(n)),
                "initial" => count("initial", &value).map(|n| out.initial = Some(n)),
                "name" => policy_name(&value).map(|n| out.name = Some(n)),
                _ => unreachable!("every valid key is handled"),
            };
            if let Err(e) = parsed {
                clean = false;
                errors.push(e);
            }
        }
        out.per = per.finish("bulkhead", errors);
        let adaptive = out.max == Some(BulkheadMax::Adaptive);
        if !adaptive {
            // A bad `max` was reported already; the adaptive keys only when `max` is fixed.
            if out.max.is_some() || max_value.is_none() {
                let limit = match out.max {
                    Some(BulkheadMax::Fixed(n)) => format!("`max = {n}`"),
                    _ => "the default `max = 10`".to_owned(),
                };
                for key in &adaptive_keys {
                    errors.error(
                        key,
                        format!(
                            "`{key}` bounds an adaptive limit, and this bulkhead has a fixed one ({limit}): write `max = \"adaptive\"`, or remove `{key}`"
                        ),
                    );
                }
            }
        } else {
            let d = resilient_spec::BULKHEAD.defaults();
            let [min, limit, initial] = ["min", "limit", "initial"]
                .map(|k| d[BULKHEAD.index(k)].count().unwrap_or_default());
            let min = out.min.map_or(min, u64::from);
            let limit = out.limit.map_or(limit, u64::from);
            let initial = out.initial.map_or(initial, u64::from);
            let check = match out.initial {
                // The default start is out of the bounds written: say which to add.
                None if min <= limit && !(min..=limit).contains(&initial) => Err(format!(
                    "the adaptive limit starts at `initial`, {initial} by default, which is outside `min..=limit` ({min}..={limit}): add `initial = {}`",
                    initial.clamp(min, limit)
                )),
                _ => resilient_spec::check_adaptive(min, initial, limit),
            };
            if let Err(why) = check {
                let at = adaptive_keys.last().cloned();
                match at {
                    Some(key) => errors.error(&key, why),
                    None => errors.error(max_value.as_ref().expect("adaptive was written"), why),
                }
            }
        }
        if !clean {
            return out;
        }
        match (out.queue, out.wait, &queue_key, &wait_key) {
            (Some(q), None | Some(Duration::ZERO), Some(key), _) if q > 0 => errors.error(
                key,
                format!(
                    "`queue = {q}` lets calls wait for a place, but for no time: add how long, like `wait = \"100ms\"`, or remove `queue`"
                ),
            ),
            (None | Some(0), Some(w), _, Some((key, _))) if !w.is_zero() => errors.error(
                key,
                "`wait` is how long a queued call waits, and this bulkhead queues none: add `queue = 10` (say), or remove `wait`",
            ),
            _ => {}
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every combination of edge values of the keys that are checked together parses to
    /// settings or errors, never a panic.
    #[test]
    fn no_combination_of_values_panics() {
        let maxes =
            ["", "max = 0,", "max = 1,", "max = \"adaptive\",", "max = -1,", "max = \"x\","];
        let mins = ["", "min = 0,", "min = 1,", "min = 50,"];
        let limits = ["", "limit = 10,", "limit = 1000000,", "limit = 2000000,"];
        let initials = ["", "initial = 0,", "initial = 5,", "initial = 100,"];
        let queues = ["", "queue = 0,", "queue = 5,", "queue = x,"];
        let waits = ["", "wait = \"0ms\",", "wait = \"1s\",", "wait = \"soon\","];
        let mut parsed = 0;
        for max in maxes {
            for min in mins {
                for limit in limits {
                    for initial in initials {
                        for queue in queues {
                            for wait in waits {
                                let text = format!("{max}{min}{limit}{initial}{queue}{wait}");
                                let tokens: proc_macro2::TokenStream = text.parse().unwrap();
                                let list = super::super::parse_list(tokens).unwrap();
                                let mut errors = Errors::default();
                                let args = BulkheadArgs::parse(list, &mut errors);
                                if errors.is_empty() {
                                    parsed += 1;
                                    if let (Some(q), Some(w)) = (args.queue, args.wait) {
                                        assert_eq!(q > 0, !w.is_zero(), "{text}");
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(parsed > 50, "valid combinations reach the end: {parsed}");
    }
}
