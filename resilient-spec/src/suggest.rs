//! "Did you mean": the valid name nearest to a misspelt one.

/// The valid name nearest to `name`, if it is near enough to be the likely intent.
///
/// ```
/// assert_eq!(resilient_spec::suggest::closest("treshold", ["threshold", "window"]), Some("threshold"));
/// assert_eq!(resilient_spec::suggest::closest("colour", ["threshold", "window"]), None);
/// ```
pub fn closest<'a>(name: &str, valid: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    valid
        .into_iter()
        .map(|v| (edit_distance(name, v), v))
        .filter(|(d, v)| *d <= 2.max(v.len() / 3))
        .min()
        .map(|(_, v)| v)
}

/// Levenshtein distance, by characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}
