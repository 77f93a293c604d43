//! A configuration text checked against the kinds' declarations: all of it, or an error.

use resilient_spec::{Kind, Setting, Value};

use super::error::Problem;

/// One table: a policy name or glob, a kind, and the keys it sets (by index in the kind).
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) pattern: String,
    pub(crate) kind: &'static Kind,
    pub(crate) keys: Vec<(usize, Setting)>,
}

/// Parses and checks `text`; every problem is reported, none is applied.
pub(crate) fn parse(text: &str) -> Result<Vec<Entry>, Vec<Problem>> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        vec![Problem::new(None, None, format!("not valid TOML: {}", e.message().trim()))]
    })?;
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    for (pattern, kinds) in table {
        let toml::Value::Table(kinds) = kinds else {
            problems.push(Problem::new(
                Some(format!("\"{pattern}\"")),
                None,
                format!(
                    "expected a table per policy kind, like `[\"{pattern}\".retry]` with its keys below"
                ),
            ));
            continue;
        };
        if pattern.trim().is_empty() {
            problems.push(Problem::new(
                Some("\"\"".into()),
                None,
                "a policy name must not be empty".into(),
            ));
            continue;
        }
        for (kind_name, keys) in kinds {
            let table = format!("[\"{pattern}\".{kind_name}]");
            let kind = match resilient_spec::kind(&kind_name) {
                Ok(kind) => kind,
                Err(why) => {
                    problems.push(Problem::new(Some(table), None, why));
                    continue;
                }
            };
            let toml::Value::Table(keys) = keys else {
                problems.push(Problem::new(
                    Some(format!("\"{pattern}\"")),
                    Some(kind_name.clone()),
                    format!("expected a table of `{}` keys", kind.name),
                ));
                continue;
            };
            let mut set = Vec::new();
            for (key, value) in &keys {
                let parsed = kind
                    .key(key)
                    .and_then(|(index, k)| k.ty.parse(value_of(value)).map(|v| (index, v)));
                match parsed {
                    Ok(pair) => set.push(pair),
                    Err(why) => {
                        problems.push(Problem::new(Some(table.clone()), Some(key.clone()), why))
                    }
                }
            }
            entries.push(Entry { pattern: pattern.clone(), kind, keys: set });
        }
    }
    if problems.is_empty() { Ok(entries) } else { Err(problems) }
}

fn value_of(value: &toml::Value) -> Value<'_> {
    match value {
        toml::Value::Integer(i) => Value::Int(i128::from(*i)),
        toml::Value::Float(f) => Value::Float(*f),
        toml::Value::String(s) => Value::Str(s),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(_) => Value::Other("a date"),
        toml::Value::Array(_) => Value::Other("an array"),
        toml::Value::Table(_) => Value::Other("a table"),
    }
}

/// Whether `name` matches `pattern`, where `*` matches any run of characters.
pub(crate) fn matches(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = name.strip_prefix(first) else { return false };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else { return rest.is_empty() };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// How specific a pattern is: exact names over globs, then more literal characters.
pub(crate) fn specificity(pattern: &str) -> (bool, usize) {
    (!pattern.contains('*'), pattern.chars().filter(|&c| c != '*').count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(matches("shop::payments::*", "shop::payments::charge"));
        assert!(matches("*", "anything"));
        assert!(matches("*::charge", "shop::payments::charge"));
        assert!(matches("shop::*::charge", "shop::payments::charge"));
        assert!(!matches("shop::*::charge", "shop::payments::refund"));
        assert!(matches("exact", "exact"));
        assert!(!matches("exact", "exactly"));
        assert!(!matches("a*b*a", "aba") || matches("a*b*a", "aba"));
        assert!(!matches("ab*ba", "aba"), "the parts must not overlap");
        assert!(specificity("a::b") > specificity("a::*"));
    }
}
