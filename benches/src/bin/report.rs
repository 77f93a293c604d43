//! Prints the medians of the last `cargo bench -p resilient-benches` run as the Markdown tables
//! of BENCHMARKS.md: per scenario, each variant's median, its overhead over the bare call of the
//! same group, and each peer's overhead as a multiple of resilient's.
//!
//! ```text
//! cargo run -p resilient-benches --bin report   # reads $CARGO_TARGET_DIR (or target)/criterion
//! ```

use std::fs;
use std::path::{Path, PathBuf};

/// The groups in the order of BENCHMARKS.md, with the variant resilient's overhead is taken from.
const GROUPS: &[(&str, &str)] = &[
    ("breaker", "resilient/macro"),
    ("per", "breaker"),
    ("retry", "resilient/macro"),
    ("timeout", "resilient/macro"),
    ("adaptive_timeout", "resilient/macro"),
    ("stack", "resilient/macro"),
    ("idempotent", "resilient/macro-hit"),
    ("fallback", "resilient/macro"),
    ("hedge", "resilient/macro"),
    ("hedge_pending_once", "resilient/macro"),
    ("bulkhead", "resilient/macro"),
    ("sync-retry", "resilient/macro"),
    ("sync-breaker", "resilient/macro"),
    ("adaptive_breaker", "resilient/macro"),
    ("many_tasks", "resilient/stack"),
    ("rate_limit", "resilient/macro"),
];

fn main() {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    let root = target.join("criterion");
    for &(group, reference) in GROUPS {
        let rows = medians(&root.join(group));
        if rows.is_empty() {
            continue;
        }
        let bare = median_of(&rows, "bare");
        let own = median_of(&rows, reference) - bare;
        println!("### {group}\n");
        println!("| variant | median (ns) | overhead (ns) | peer overhead / resilient's |");
        println!("|---|---:|---:|---:|");
        for (id, median) in &rows {
            let overhead = median - bare;
            let ratio =
                if is_peer(id) { format!("{:.1}×", overhead / own) } else { String::new() };
            println!("| {id} | {median:.2} | {overhead:.2} | {ratio} |");
        }
        println!();
    }
    let rows = medians(&root.join("contention"));
    if !rows.is_empty() {
        println!("### contention\n");
        println!("| variant | 1 thread (M calls/s) | 2 threads (M calls/s) | 2 / 1 |");
        println!("|---|---:|---:|---:|");
        let mut names: Vec<&str> =
            rows.iter().filter_map(|(id, _)| id.strip_suffix("/1")).collect();
        names.dedup();
        for name in names {
            // One iteration is one call on every thread.
            let one = 1e3 / median_of(&rows, &format!("{name}/1"));
            let two = 2.0 * 1e3 / median_of(&rows, &format!("{name}/2"));
            println!("| {name} | {one:.2} | {two:.2} | {:.2} |", two / one);
        }
        println!();
    }
}

fn median_of(rows: &[(String, f64)], id: &str) -> f64 {
    rows.iter().find(|(i, _)| i == id).map_or(f64::NAN, |(_, m)| *m)
}

/// `(benchmark id, median ns)` of every benchmark in a group's directory, bare first.
fn medians(group: &Path) -> Vec<(String, f64)> {
    let Ok(entries) = fs::read_dir(group) else { return Vec::new() };
    let mut rows: Vec<(String, f64)> = entries
        .filter_map(|e| {
            let dir = e.ok()?.path().join("new");
            let bench: serde_json::Value =
                serde_json::from_str(&fs::read_to_string(dir.join("benchmark.json")).ok()?).ok()?;
            let est: serde_json::Value =
                serde_json::from_str(&fs::read_to_string(dir.join("estimates.json")).ok()?).ok()?;
            Some((
                bench["function_id"].as_str()?.to_owned(),
                est["median"]["point_estimate"].as_f64()?,
            ))
        })
        .collect();
    rows.sort_by(|a, b| rank(&a.0).cmp(&rank(&b.0)).then(a.0.cmp(&b.0)));
    rows
}

/// A peer's variant, as opposed to the bare call, resilient's own variants and reference floors.
fn is_peer(id: &str) -> bool {
    !["bare", "resilient", "floor", "tower/"].iter().any(|p| id.starts_with(p))
}

fn rank(id: &str) -> u8 {
    match id {
        _ if id.starts_with("bare") => 0,
        _ if id.starts_with("resilient/macro") => 1,
        _ if id.starts_with("resilient") => 2,
        _ if id.starts_with("tower/") => 3,
        _ if id.starts_with("floor") => 5,
        _ => 4,
    }
}
