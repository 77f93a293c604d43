//! [`MemoryStore`]: a [`SharedStore`] in process, on tokio's clock. It is the fallback of a
//! policy with `on_store_error = "local"` while its shared store fails.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use super::store::{Claim, SharedStore, StoreFuture};

/// Keys with what they hold and when it expires. Expired entries are dropped when the map grows
/// past its bound, so it holds at most `max_entries` live entries (more are not stored: their
/// calls still run, once per call).
pub(crate) struct MemoryStore {
    entries: Mutex<HashMap<String, (Entry, Instant)>>,
    max_entries: usize,
}

#[derive(Clone)]
enum Entry {
    Marker(String),
    Record(Vec<u8>),
}

impl MemoryStore {
    pub(crate) fn new(max_entries: u64) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            max_entries: usize::try_from(max_entries).unwrap_or(usize::MAX).max(1),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut HashMap<String, (Entry, Instant)>, Instant) -> R) -> R {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        f(&mut entries, now)
    }

    /// Whether there is room for one more key, after dropping expired ones if needed.
    fn room(entries: &mut HashMap<String, (Entry, Instant)>, now: Instant, max: usize) -> bool {
        if entries.len() >= max {
            entries.retain(|_, (_, until)| *until > now);
        }
        entries.len() < max
    }
}

/// `now + d`, saturating far in the future.
fn after(now: Instant, d: Duration) -> Instant {
    now.checked_add(d).unwrap_or(now + Duration::from_secs(100 * 365 * 24 * 60 * 60))
}

impl SharedStore for MemoryStore {
    fn claim<'a>(
        &'a self,
        key: &'a str,
        marker: &'a str,
        lease: Duration,
    ) -> StoreFuture<'a, Claim> {
        let claim = self.with(|entries, now| {
            if let Some((held, until)) = entries.get(key)
                && *until > now
            {
                return match held {
                    Entry::Marker(m) => Claim::Running(m.clone()),
                    Entry::Record(r) => Claim::Done(r.clone()),
                };
            }
            if entries.contains_key(key) || Self::room(entries, now, self.max_entries) {
                entries
                    .insert(key.to_owned(), (Entry::Marker(marker.to_owned()), after(now, lease)));
            }
            // Full: the call runs unguarded in process rather than fail.
            Claim::Claimed
        });
        Box::pin(async move { Ok(claim) })
    }

    fn complete<'a>(
        &'a self,
        key: &'a str,
        marker: &'a str,
        record: &'a [u8],
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        let stored = self.with(|entries, now| {
            let ours = match entries.get(key) {
                Some((Entry::Marker(m), until)) => m == marker || *until <= now,
                Some((Entry::Record(_), until)) => *until <= now,
                None => Self::room(entries, now, self.max_entries),
            };
            if ours {
                entries.insert(key.to_owned(), (Entry::Record(record.to_vec()), after(now, ttl)));
            }
            ours
        });
        Box::pin(async move { Ok(stored) })
    }

    fn renew<'a>(
        &'a self,
        key: &'a str,
        marker: &'a str,
        lease: Duration,
    ) -> StoreFuture<'a, bool> {
        let renewed = self.with(|entries, now| match entries.get_mut(key) {
            Some((Entry::Marker(m), until)) if m == marker && *until > now => {
                *until = after(now, lease);
                true
            }
            _ => false,
        });
        Box::pin(async move { Ok(renewed) })
    }

    fn release<'a>(&'a self, key: &'a str, marker: &'a str) -> StoreFuture<'a, ()> {
        self.with(|entries, _| {
            if matches!(entries.get(key), Some((Entry::Marker(m), _)) if m == marker) {
                entries.remove(key);
            }
        });
        Box::pin(async { Ok(()) })
    }
}
