//! Retuning policies while they run, from a configuration file, without losing their state.
//!
//! A breaker opens on a failing dependency; an operator raises its threshold, forces it open,
//! then lifts the override; a file watched with `resilient::config::watch` turns a retry off and
//! on. After each step the registry shows every setting with where it came from.
//!
//! Run it with `cargo run -p resilient-examples --example config` (about a second).

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use resilient::{circuit_breaker, config, retry};

/// Calls that reached the dependency.
static REACHED: AtomicU32 = AtomicU32::new(0);

#[derive(Debug)]
enum ShopError {
    Unavailable,
    Rejected(resilient::Error),
}

impl From<resilient::Error> for ShopError {
    fn from(e: resilient::Error) -> Self {
        ShopError::Rejected(e)
    }
}

#[circuit_breaker(threshold = 2, cooldown = "30s", name = "shop::inventory::reserve")]
async fn reserve() -> Result<(), ShopError> {
    REACHED.fetch_add(1, SeqCst);
    Err(ShopError::Unavailable)
}

#[retry(max = 3, base = "10ms", name = "shop::payments::charge")]
async fn charge() -> Result<(), ShopError> {
    REACHED.fetch_add(1, SeqCst);
    Err(ShopError::Unavailable)
}

/// The settings of one policy as the registry shows them: `key = value (source)`.
fn show(name: &str, kind: &str) {
    let snap = serde_json::to_value(resilient::registry::snapshot()).unwrap();
    for policy in snap["policies"].as_array().unwrap() {
        if policy["name"] == name && policy["state"]["kind"] == kind {
            let settings: Vec<String> = policy["settings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    format!(
                        "{} = {} ({})",
                        s["key"].as_str().unwrap(),
                        s["value"].as_str().unwrap(),
                        s["source"].as_str().unwrap()
                    )
                })
                .collect();
            println!("    {name}: {}", settings.join(", "));
        }
    }
}

fn state() -> String {
    let b = resilient::registry::snapshot().breaker("shop::inventory::reserve").unwrap().clone();
    match b.forced {
        Some(forced) => format!("{} (forced {forced}), {} failures counted", b.state, b.failures),
        None => format!("{}, {} failures counted", b.state, b.failures),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("1. Two failures open the breaker (threshold = 2, compiled in):");
    for _ in 0..3 {
        match reserve().await {
            Err(ShopError::Rejected(e)) => println!("    reserve() -> rejected: {e}"),
            other => println!("    reserve() -> {other:?}"),
        }
    }
    println!("    state: {}", state());

    println!("2. An operator raises the threshold: the open breaker stays open.");
    config::apply(
        "[\"shop::inventory::reserve\".circuit_breaker]\nthreshold = 10\ncooldown = \"5s\"",
    )?;
    println!("    state: {}", state());
    show("shop::inventory::reserve", "circuit_breaker");

    println!("3. A bad value is rejected whole, saying where and what is allowed:");
    let err =
        config::apply("[\"shop::inventory::*\".circuit_breaker]\nthreshold = 0\ncooldwn = \"1s\"")
            .unwrap_err();
    for line in err.to_string().lines() {
        println!("    {line}");
    }

    println!("4. force = \"closed\" lets calls through; the state underneath is kept.");
    config::apply("[\"shop::inventory::reserve\".circuit_breaker]\nforce = \"closed\"")?;
    let before = REACHED.load(SeqCst);
    let _ = reserve().await;
    println!("    reached the dependency: {}; state: {}", REACHED.load(SeqCst) > before, state());
    config::apply("[\"shop::inventory::reserve\".circuit_breaker]\nforce = \"none\"")?;
    println!("    override lifted; state: {}", state());

    println!("5. A watched file turns the payment retry off, then back on:");
    let dir = std::env::temp_dir().join(format!("resilient-config-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("resilient.toml");
    std::fs::write(&path, "[\"shop::payments::*\".retry]\nmax = 5\n")?;
    let watcher = config::watch(&path)?;
    let count = |label: &str, before: u32| {
        println!("    {label}: {} attempts", REACHED.load(SeqCst) - before)
    };
    let before = REACHED.load(SeqCst);
    let _ = charge().await;
    count("max = 5 from the file", before);
    std::fs::write(&path, "[\"shop::payments::*\".retry]\nenabled = false\n")?;
    watcher.next_reload(Duration::from_secs(10)).expect("the watcher reloads")?;
    let before = REACHED.load(SeqCst);
    let _ = charge().await;
    count("enabled = false (calls pass straight through)", before);
    show("shop::payments::charge", "retry");
    std::fs::write(&path, "")?;
    watcher.next_reload(Duration::from_secs(10)).expect("the watcher reloads")?;
    let before = REACHED.load(SeqCst);
    let _ = charge().await;
    count("file emptied: back to the compiled max = 3", before);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
