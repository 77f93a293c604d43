//! The Redis URL the Redis tests connect to, read from `RESILIENT_REDIS_URL` (shared by
//! `resilient-runtime/tests/idempotency_redis.rs` and `tests/tests/idempotent_redis.rs`).

use std::sync::atomic::{AtomicBool, Ordering};

/// Where the URL comes from.
const VAR: &str = "RESILIENT_REDIS_URL";

/// The URL when `RESILIENT_REDIS_URL` is unset.
const DEFAULT: &str = "redis://127.0.0.1:6379/";

/// Whether a malformed value has already failed a test in this process.
static REPORTED: AtomicBool = AtomicBool::new(false);

/// The URL in `RESILIENT_REDIS_URL`, or `redis://127.0.0.1:6379/` when it is unset.
///
/// A malformed value (not one `redis://`, `rediss://`, `redis+unix://` or `unix://` URL, e.g. a
/// package manager's output captured by mistake) fails once: the first caller in the process
/// panics saying what was read and where it came from, and every later caller gets `None` and
/// returns without running, so the run shows one clear failure instead of one connection error
/// per test.
pub fn redis_url() -> Option<String> {
    let value = match std::env::var(VAR) {
        Ok(value) => value,
        Err(std::env::VarError::NotPresent) => return Some(DEFAULT.to_owned()),
        Err(std::env::VarError::NotUnicode(raw)) => format!("{raw:?}"),
    };
    if well_formed(&value) {
        return Some(value);
    }
    if REPORTED.swap(true, Ordering::SeqCst) {
        eprintln!("skipped: {VAR} is malformed (reported by the first Redis test to run)");
        return None;
    }
    panic!(
        "{VAR} is not a Redis URL. It was read from the environment variable {VAR} and holds \
         ({} bytes):\n{value:?}\nExpected one URL such as {DEFAULT}. scripts/test.sh sets it to \
         the stdout of scripts/redis.sh; unset it to use {DEFAULT}. The other Redis tests in this \
         binary return without running.",
        value.len()
    )
}

/// One URL with a Redis scheme and no whitespace.
fn well_formed(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once("://") else { return false };
    matches!(scheme, "redis" | "rediss" | "redis+unix" | "unix")
        && !rest.is_empty()
        && !rest.chars().any(|c| c.is_whitespace() || c.is_control())
}
