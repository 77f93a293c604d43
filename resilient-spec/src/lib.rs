//! What each `resilient` policy accepts, declared once.
//!
//! A policy kind ([`Kind`]) lists its keys: name, value type, default, check and help. The
//! attribute macros check what is written in source with these parsers, the configuration
//! loader checks files with the same ones, and the registry names settings by them, so a bad
//! value reads the same wherever it is written and adding a policy means declaring its keys here
//! once.
//!
//! ```
//! use resilient_spec::{kind, Value};
//! let breaker = kind("circuit_breaker").unwrap();
//! let (_, key) = breaker.key("threshold").unwrap();
//! assert_eq!(
//!     key.ty.parse(Value::Int(0)).unwrap_err(),
//!     "expected the number of failures within `window` that opens the circuit: a whole number from 1 to 1000000"
//! );
//! assert!(breaker.key("treshold").unwrap_err().contains("did you mean `threshold`?"));
//! ```

mod check;
pub mod duration;
pub mod kind;
mod kinds;
pub mod metrics;
pub mod suggest;
pub mod value;

pub use kind::FALLBACK;
pub use kind::HEDGE;
pub use kind::RATE_LIMIT;
pub use kind::{
    ADAPTIVE_KEYS, BINARY_KEYS, CIRCUIT_BREAKER, IDEMPOTENT, KINDS, Key, Kind, RETRY, TIMEOUT,
    breaker_key_outside_mode, check_bounds, check_delays, kind,
};
pub use kind::{BULKHEAD, check_adaptive};
pub use kinds::rate as parse_rate;
pub use kinds::{LIMIT, MAX_LIMIT};
pub use value::After;
pub use value::{Backoff, Force, Jitter, Rule, Setting, Type, Value};
