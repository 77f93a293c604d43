//! Guarding a call with a [`SharedStore`]: claim the key with an in-flight marker, run the
//! body, then replace the marker with the result (or delete it).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use uuid::Uuid;

use super::store::{Claim, SharedStore};
use super::{Inner, Stats};
use crate::Outcome;
use crate::error::{Error, KeyConflict, StoreFailure};

/// The first pause between two looks at a key another call holds; it doubles up to
/// [`MAX_POLL`].
const FIRST_POLL: Duration = Duration::from_millis(10);
const MAX_POLL: Duration = Duration::from_millis(250);

/// What a finished call leaves in the store, as JSON.
#[derive(Serialize)]
struct RecordRef<'a, T> {
    fingerprint: Option<u64>,
    value: &'a T,
}

/// A record without its value, to check the fingerprint before decoding the value.
#[derive(serde::Deserialize)]
struct Head {
    fingerprint: Option<u64>,
}

/// A record's value (its fingerprint was checked through [`Head`]).
#[derive(serde::Deserialize)]
struct Record<T> {
    value: T,
}

/// Our marker while it is in the store: deleted on drop unless disarmed, so a call that is
/// cancelled or panics frees its key at once instead of after the lease.
struct Held {
    store: Arc<dyn SharedStore>,
    key: String,
    marker: String,
    armed: bool,
}

impl Drop for Held {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        // Drop cannot await: hand the delete to the runtime. Without one (the runtime is shutting
        // down) the lease expiry frees the key.
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            let store = Arc::clone(&self.store);
            let key = std::mem::take(&mut self.key);
            let marker = std::mem::take(&mut self.marker);
            handle.spawn(async move {
                let _ = store.release(&key, &marker).await;
            });
        }
    }
}

pub(super) async fn guard<F, T, E>(
    policy: &Inner,
    store_name: &str,
    key: &str,
    fingerprint: Option<u64>,
    fut: F,
) -> Outcome<T, E>
where
    F: Future<Output = Outcome<T, E>>,
    T: Serialize + DeserializeOwned,
{
    let stats = &policy.stats;
    let fail = |message: String| {
        Stats::add(&stats.store_errors);
        policy.observe_failure();
        Error::Store(StoreFailure::new(
            policy.name.clone(),
            format!("store `{store_name}`: {message}"),
        ))
    };
    let Some(store) = super::store::lookup(store_name) else {
        return Err(fail(format!(
            "no store is registered under this name; register one at start-up with \
             `resilient::idempotency::register_store(\"{store_name}\", store)`"
        )));
    };
    let store_key = format!("resilient:idem:{}:{key}", policy.name);
    let token = Uuid::now_v7().simple().to_string();
    // The fingerprint rides in the marker, so a duplicate with other arguments is told so even
    // while the first call is still running.
    let marker = match fingerprint {
        Some(fp) => format!("{token}/{fp}"),
        None => token,
    };
    let conflict = || KeyConflict::new(policy.name.clone(), key);

    let give_up_at = policy.wait_in_flight.map(|wait| Instant::now() + wait);
    let mut poll = FIRST_POLL;
    loop {
        let claim = store.claim(&store_key, &marker, policy.lease).await;
        match claim.map_err(|e| fail(format!("could not claim key `{key}`: {e}")))? {
            Claim::Claimed => break,
            Claim::Done(record) => {
                // The fingerprint first: a reuse with other arguments may well be a reuse with
                // another result type too, and should say so rather than fail to decode.
                let head: Head = serde_json::from_slice(&record).map_err(|e| {
                    fail(format!("the stored record for key `{key}` is not valid: {e}"))
                })?;
                if mismatch(head.fingerprint, fingerprint) {
                    Stats::add(&stats.conflicts);
                    policy.observe_rejected("key reused with other arguments");
                    return Err(Error::IdempotencyKeyReused(conflict()));
                }
                let record: Record<T> = serde_json::from_slice(&record).map_err(|e| {
                    fail(format!(
                        "the stored result for key `{key}` does not decode as this function's \
                         result type: {e}"
                    ))
                })?;
                Stats::add(&stats.hits);
                policy.observe_hit(false);
                return Ok(Ok(record.value));
            }
            Claim::Running(theirs) => {
                let their_fp = theirs.split_once('/').and_then(|(_, fp)| fp.parse().ok());
                if mismatch(their_fp, fingerprint) {
                    Stats::add(&stats.conflicts);
                    policy.observe_rejected("key reused with other arguments");
                    return Err(Error::IdempotencyKeyReused(conflict()));
                }
                let now = Instant::now();
                match give_up_at {
                    Some(at) if now < at => {
                        tokio::time::sleep(poll.min(at - now)).await;
                        poll = (poll * 2).min(MAX_POLL);
                    }
                    _ => {
                        Stats::add(&stats.in_flight);
                        policy.observe_rejected("a call with this key is running elsewhere");
                        return Err(Error::IdempotencyInFlight(conflict()));
                    }
                }
            }
        }
    }

    let mut held = Held { store: Arc::clone(&store), key: store_key, marker, armed: true };
    Stats::add(&stats.misses);
    policy.observe_miss();
    let outcome = fut.await;
    // Serialized in a scope of its own: a `&T` alive across the awaits below would make this
    // future `Send` only for `T: Sync`.
    let encoded = match &outcome {
        Ok(Ok(value)) => Some(serde_json::to_vec(&RecordRef { fingerprint, value })),
        _ => None,
    };
    let record = match encoded {
        Some(Ok(record)) => record,
        Some(Err(e)) => {
            return Err(fail(format!(
                "the result for key `{key}` does not serialize as JSON: {e}"
            )));
        }
        None => {
            // Errors are not stored: free the key now, not on drop, so a retry right after this
            // returns finds it free. If the store fails, the lease frees it.
            held.armed = false;
            let _ = store.release(&held.key, &held.marker).await;
            return outcome;
        }
    };
    match store.complete(&held.key, &held.marker, &record, policy.ttl).await {
        Ok(_stored) => {
            // Not stored means our lease ran out and another call took the key over; our result
            // is still this call's answer.
            held.armed = false;
            outcome
        }
        // The body ran but its result is not recorded: the caller must know that a repeat will
        // run it again. `held` deletes the marker (or the lease ends it).
        Err(e) => Err(fail(format!(
            "the call with key `{key}` succeeded but its result could not be stored: {e}"
        ))),
    }
}

/// Two fingerprints disagree; a missing one agrees with anything.
fn mismatch(stored: Option<u64>, asked: Option<u64>) -> bool {
    matches!((stored, asked), (Some(a), Some(b)) if a != b)
}
