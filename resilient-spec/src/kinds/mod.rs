//! The kinds, one file each: adding a policy kind is a file here and a line in [`KINDS`](crate::KINDS).

mod bulkhead;
mod circuit_breaker;
mod fallback;
mod hedge;
mod idempotent;
pub(crate) mod rate_limit;
mod retry;
mod timeout;

pub use bulkhead::{BULKHEAD, LIMIT, MAX_LIMIT, check_adaptive};
pub use circuit_breaker::{ADAPTIVE_KEYS, BINARY_KEYS, CIRCUIT_BREAKER, breaker_key_outside_mode};
pub use fallback::FALLBACK;
pub use hedge::{AFTER, HEDGE, after};
pub use idempotent::IDEMPOTENT;
pub use rate_limit::{RATE_LIMIT, rate};
pub use retry::{RETRY, check_delays};
pub use timeout::{TIMEOUT, check_bounds};

use crate::kind::Key;
use crate::value::{Setting, Type};

pub(crate) const ENABLED: Key = Key {
    name: "enabled",
    ty: Type::Bool,
    default: Setting::Bool(true),
    help: "`false` turns the policy off: calls pass straight through, its state is kept",
};

pub(crate) const WHEN: (&str, &str) = ("when", "it is code; change it in the source");
/// `per = expr` (partitioned policies).
pub(crate) const PER: (&str, &str) = ("per", "it is code; change it in the source");
pub(crate) const MAX_PARTITIONS: (&str, &str) =
    ("max_partitions", "the partitions are bounded when the policy is built");
pub(crate) const NAME: (&str, &str) =
    ("name", "configuration addresses policies by name; it cannot rename one");
