//! Guarding a call with a [`SharedStore`]: claim the key with an in-flight marker, run the
//! body, then replace the marker with the result (or delete it).

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use uuid::Uuid;

use super::store::{Claim, SharedStore, StoreError};
use super::{Inner, OnStoreError, Stats};
use crate::Outcome;
use crate::error::{Error, KeyConflict, StoreFailure};
use crate::observe::events;

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

/// How a call starts against one store: it holds the key and runs, or it is answered at once.
enum Start<T, E> {
    Run(Held),
    Answer(Outcome<T, E>),
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
    // Not an outage but a mistake in the program: fails whatever `on_store_error` says.
    let Some(shared) = super::store::lookup(store_name) else {
        return Err(fail(format!(
            "no store is registered under this name; register one at start-up with \
             `resilient::idempotency::register_store(\"{store_name}\", store)`"
        )));
    };
    // `{...}` is a Redis Cluster hash tag: whatever one call touches hashes to one slot.
    let store_key = format!("resilient:idem:{{{}:{key}}}", policy.name);
    let token = Uuid::now_v7().simple().to_string();
    // The fingerprint rides in the marker, so a duplicate with other arguments is told so even
    // while the first call is still running.
    let marker = match fingerprint {
        Some(fp) => format!("{token}/{fp}"),
        None => token,
    };

    let mut local = false;
    let started = match start(policy, &shared, &store_key, &marker, key, fingerprint).await {
        Err(e) if policy.on_store_error == OnStoreError::Local => {
            Stats::add(&stats.store_errors);
            Stats::add(&stats.fallbacks);
            events::idempotency_store_fallback(&policy.name, &e);
            local = true;
            let fallback = Arc::clone(&policy.fallback);
            start(policy, &fallback, &store_key, &marker, key, fingerprint).await
        }
        started => started,
    };
    let mut held = match started {
        Ok(Start::Run(held)) => held,
        Ok(Start::Answer(outcome)) => return outcome,
        Err(e) => return Err(fail(format!("could not claim key `{key}`: {e}"))),
    };
    let store = Arc::clone(&held.store);

    Stats::add(&stats.misses);
    policy.observe_miss();
    let outcome = {
        let mut fut = pin!(fut);
        let lost = tokio::select! {
            biased;
            outcome = &mut fut => Ok(outcome),
            why = keep_lease(&*store, &held.key, &held.marker, policy.lease) => Err(why),
        };
        match lost {
            Ok(outcome) => outcome,
            Err(why) => {
                // Another call may be running the body with this key right now: neither store
                // our result over its own nor pretend the call was exclusive. The body runs to
                // its end (cutting it mid-way would not undo what it did), then the call fails.
                events::idempotency_lease_lost(&policy.name, &why);
                let _ = fut.await;
                return Err(fail(format!(
                    "the call with key `{key}` ran longer than its lease and lost the key \
                     ({why}): another call with this key may have run alongside it, and its \
                     result is not stored; raise `lease` or make the body shorter"
                )));
            }
        }
    };
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
    match store.complete(&held.key, &held.marker, &record, policy.tuned.get().ttl).await {
        Ok(_stored) => {
            // Not stored means our lease ran out and another call took the key over; our result
            // is still this call's answer.
            held.armed = false;
            outcome
        }
        // With `on_store_error = "local"` the body's result is still the answer, kept in process
        // so a repeat here gets it; a repeat on another instance will run the body again.
        Err(e) if policy.on_store_error == OnStoreError::Local && !local => {
            Stats::add(&stats.store_errors);
            Stats::add(&stats.fallbacks);
            events::idempotency_store_fallback(&policy.name, &e);
            let fallback = &policy.fallback;
            if let Ok(Claim::Claimed) = fallback.claim(&held.key, &held.marker, policy.lease).await
            {
                let _ = fallback
                    .complete(&held.key, &held.marker, &record, policy.tuned.get().ttl)
                    .await;
            }
            outcome
        }
        // The body ran but its result is not recorded: the caller must know that a repeat will
        // run it again. `held` deletes the marker (or the lease ends it).
        Err(e) => Err(fail(format!(
            "the call with key `{key}` succeeded but its result could not be stored: {e}"
        ))),
    }
}

/// Claims the key in `store`, polling while another call holds it if the policy waits; a
/// store failure is returned as such, for the caller to fail or fall back.
async fn start<T, E>(
    policy: &Inner,
    store: &Arc<dyn SharedStore>,
    store_key: &str,
    marker: &str,
    key: &str,
    fingerprint: Option<u64>,
) -> Result<Start<T, E>, StoreError>
where
    T: DeserializeOwned,
{
    let stats = &policy.stats;
    let fail = |message: String| {
        Stats::add(&stats.store_errors);
        policy.observe_failure();
        Error::Store(StoreFailure::new(policy.name.clone(), message))
    };
    let conflict = || KeyConflict::new(policy.name.clone(), key);
    let give_up_at = policy.tuned.get().wait_in_flight.map(|wait| Instant::now() + wait);
    let mut poll = FIRST_POLL;
    loop {
        let answer = match store.claim(store_key, marker, policy.lease).await? {
            Claim::Claimed => {
                return Ok(Start::Run(Held {
                    store: Arc::clone(store),
                    key: store_key.to_owned(),
                    marker: marker.to_owned(),
                    armed: true,
                }));
            }
            Claim::Done(record) => {
                // The fingerprint first: a reuse with other arguments may well be a reuse with
                // another result type too, and should say so rather than fail to decode.
                match serde_json::from_slice::<Head>(&record) {
                    Err(e) => {
                        Err(fail(format!("the stored record for key `{key}` is not valid: {e}")))
                    }
                    Ok(head) if mismatch(head.fingerprint, fingerprint) => {
                        Stats::add(&stats.conflicts);
                        policy.observe_rejected("key reused with other arguments");
                        Err(Error::IdempotencyKeyReused(conflict()))
                    }
                    Ok(_) => match serde_json::from_slice::<Record<T>>(&record) {
                        Ok(record) => {
                            Stats::add(&stats.hits);
                            policy.observe_hit(false);
                            Ok(Ok(record.value))
                        }
                        Err(e) => Err(fail(format!(
                            "the stored result for key `{key}` does not decode as this \
                             function's result type: {e}"
                        ))),
                    },
                }
            }
            Claim::Running(theirs) => {
                let their_fp = theirs.split_once('/').and_then(|(_, fp)| fp.parse().ok());
                if mismatch(their_fp, fingerprint) {
                    Stats::add(&stats.conflicts);
                    policy.observe_rejected("key reused with other arguments");
                    Err(Error::IdempotencyKeyReused(conflict()))
                } else {
                    let now = Instant::now();
                    match give_up_at {
                        Some(at) if now < at => {
                            tokio::time::sleep(poll.min(at - now)).await;
                            poll = (poll * 2).min(MAX_POLL);
                            continue;
                        }
                        _ => {
                            Stats::add(&stats.in_flight);
                            policy.observe_rejected("a call with this key is running elsewhere");
                            Err(Error::IdempotencyInFlight(conflict()))
                        }
                    }
                }
            }
        };
        return Ok(Start::Answer(answer));
    }
}

/// Renews the lease every third of it while the body runs; returns only when the key is lost:
/// the marker is gone (the lease ran out, another call took the key), or no renewal succeeded
/// for a whole lease. Never returns while renewals succeed.
async fn keep_lease(store: &dyn SharedStore, key: &str, marker: &str, lease: Duration) -> String {
    let every = (lease / 3).max(Duration::from_millis(1));
    let mut held_until = Instant::now() + lease;
    loop {
        tokio::time::sleep(every).await;
        let asked = Instant::now();
        match tokio::time::timeout_at(held_until, store.renew(key, marker, lease)).await {
            Ok(Ok(true)) => held_until = asked + lease,
            Ok(Ok(false)) => return "its marker is gone from the store".to_owned(),
            Ok(Err(e)) if Instant::now() >= held_until => {
                return format!("no renewal succeeded for a whole lease: {e}");
            }
            Ok(Err(_)) => {}
            Err(_elapsed) => return "no renewal succeeded for a whole lease".to_owned(),
        }
    }
}

/// Two fingerprints disagree; a missing one agrees with anything.
fn mismatch(stored: Option<u64>, asked: Option<u64>) -> bool {
    matches!((stored, asked), (Some(a), Some(b)) if a != b)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::SeqCst};
    use std::time::Duration;

    use super::super::memory::MemoryStore;
    use super::super::store::{Claim, SharedStore, StoreError, StoreFuture, register_store};
    use super::super::{Idempotency, OnStoreError};
    use crate::Error;

    /// A store that fails every operation while `down` is set, else forwards to memory.
    struct Flaky {
        inner: MemoryStore,
        down: Arc<AtomicBool>,
    }

    impl Flaky {
        fn check(&self) -> Result<(), StoreError> {
            if self.down.load(SeqCst) { Err(StoreError::new("flaky: down")) } else { Ok(()) }
        }
    }

    impl SharedStore for Flaky {
        fn claim<'a>(&'a self, k: &'a str, m: &'a str, l: Duration) -> StoreFuture<'a, Claim> {
            Box::pin(async move {
                self.check()?;
                self.inner.claim(k, m, l).await
            })
        }
        fn complete<'a>(
            &'a self,
            k: &'a str,
            m: &'a str,
            r: &'a [u8],
            t: Duration,
        ) -> StoreFuture<'a, bool> {
            Box::pin(async move {
                self.check()?;
                self.inner.complete(k, m, r, t).await
            })
        }
        fn renew<'a>(&'a self, k: &'a str, m: &'a str, l: Duration) -> StoreFuture<'a, bool> {
            Box::pin(async move {
                self.check()?;
                self.inner.renew(k, m, l).await
            })
        }
        fn release<'a>(&'a self, k: &'a str, m: &'a str) -> StoreFuture<'a, ()> {
            Box::pin(async move {
                self.check()?;
                self.inner.release(k, m).await
            })
        }
    }

    fn flaky(name: &str) -> Arc<AtomicBool> {
        let down = Arc::new(AtomicBool::new(false));
        register_store(name, Flaky { inner: MemoryStore::new(100), down: Arc::clone(&down) });
        down
    }

    fn policy(store: &str, lease: Duration, on: OnStoreError) -> Idempotency {
        Idempotency::builder()
            .name(format!("shared-tests::{store}"))
            .store(store)
            .lease(lease)
            .on_store_error(on)
            .build()
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_longer_than_the_lease_keeps_its_key() {
        flaky("lease-kept");
        let p = policy("lease-kept", Duration::from_secs(3), OnStoreError::Fail);
        let first = {
            let p = p.clone();
            tokio::spawn(async move {
                p.guard_shared("k", None, async {
                    tokio::time::sleep(Duration::from_secs(20)).await;
                    Ok(Ok::<u32, String>(1))
                })
                .await
            })
        };
        // Well past the lease: renewals keep the key, so the duplicate is still turned away.
        tokio::time::sleep(Duration::from_secs(10)).await;
        let dup = p.guard_shared("k", None, async { Ok(Ok::<u32, String>(2)) }).await;
        assert!(matches!(dup, Err(Error::IdempotencyInFlight(_))), "{dup:?}");
        assert_eq!(first.await.unwrap(), Ok(Ok(1)));
        assert_eq!(p.guard_shared("k", None, async { Ok(Ok::<u32, String>(3)) }).await, Ok(Ok(1)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_whose_lease_cannot_be_renewed_fails_loudly_and_stores_nothing() {
        let down = flaky("lease-lost");
        let p = policy("lease-lost", Duration::from_secs(3), OnStoreError::Fail);
        let got = p
            .guard_shared("k", None, async {
                down.store(true, SeqCst); // every renewal fails from here on
                tokio::time::sleep(Duration::from_secs(10)).await;
                down.store(false, SeqCst);
                Ok(Ok::<u32, String>(1))
            })
            .await;
        let Err(Error::Store(f)) = got else { panic!("expected a Store error, got {got:?}") };
        assert!(f.message().contains("lost the key"), "{}", f.message());
        // Nothing stored: the next call runs.
        assert_eq!(p.guard_shared("k", None, async { Ok(Ok::<u32, String>(2)) }).await, Ok(Ok(2)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_store_that_does_not_renew_fails_a_body_that_outlives_the_lease() {
        struct NoRenew(MemoryStore);
        impl SharedStore for NoRenew {
            fn claim<'a>(&'a self, k: &'a str, m: &'a str, l: Duration) -> StoreFuture<'a, Claim> {
                self.0.claim(k, m, l)
            }
            fn complete<'a>(
                &'a self,
                k: &'a str,
                m: &'a str,
                r: &'a [u8],
                t: Duration,
            ) -> StoreFuture<'a, bool> {
                self.0.complete(k, m, r, t)
            }
            fn release<'a>(&'a self, k: &'a str, m: &'a str) -> StoreFuture<'a, ()> {
                self.0.release(k, m)
            }
        }
        register_store("no-renew", NoRenew(MemoryStore::new(10)));
        let p = policy("no-renew", Duration::from_secs(3), OnStoreError::Fail);
        let quick = p.guard_shared("a", None, async { Ok(Ok::<u32, String>(1)) }).await;
        assert_eq!(quick, Ok(Ok(1)));
        let slow = p
            .guard_shared("b", None, async {
                tokio::time::sleep(Duration::from_secs(4)).await;
                Ok(Ok::<u32, String>(1))
            })
            .await;
        assert!(matches!(slow, Err(Error::Store(_))), "{slow:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn on_store_error_fail_fails_without_running_and_local_runs_in_process() {
        let down = flaky("down-fail");
        down.store(true, SeqCst);
        let runs = AtomicU32::new(0);
        let body = |v: u32| {
            let runs = &runs;
            async move {
                runs.fetch_add(1, SeqCst);
                Ok(Ok::<u32, String>(v))
            }
        };
        let p = policy("down-fail", Duration::from_secs(3), OnStoreError::Fail);
        let got = p.guard_shared("k", None, body(1)).await;
        let Err(Error::Store(f)) = got else { panic!("expected a Store error, got {got:?}") };
        assert!(f.message().contains("flaky: down"), "{}", f.message());
        assert_eq!(runs.load(SeqCst), 0);

        let down = flaky("down-local");
        down.store(true, SeqCst);
        let p = policy("down-local", Duration::from_secs(3), OnStoreError::Local);
        assert_eq!(p.guard_shared("k", None, body(1)).await, Ok(Ok(1)));
        // The in-process fallback answers repeats on this instance.
        assert_eq!(p.guard_shared("k", None, body(2)).await, Ok(Ok(1)));
        assert_eq!(runs.load(SeqCst), 1);
        // Back up: the shared store is used again (it never saw `k`).
        down.store(false, SeqCst);
        assert_eq!(p.guard_shared("k", None, body(3)).await, Ok(Ok(3)));
        let snap = crate::registry::snapshot();
        let s = snap.idempotency("shared-tests::down-local").unwrap();
        assert_eq!(s.fallbacks, 2); // the two calls made while it was down
    }
}
