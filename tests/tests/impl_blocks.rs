//! Attributes on whole `impl` blocks (API.md section 10): they apply to every `async fn` in the
//! block, above the method's own attributes and fused with them; a method's own attribute of a
//! kind replaces the block's; `#[resilient::skip]` leaves a method out; sync fns are left as they
//! are; each method keeps its own policy and name.

use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

use resilient::registry;
use resilient::{circuit_breaker, retry, timeout};
use resilient_tests::AppError;
use tokio::time::{Instant, sleep};

fn rejection<T: std::fmt::Debug>(r: Result<T, AppError>) -> resilient::Error {
    match r {
        Err(AppError::Rejected(e)) => e,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

/// An inherent impl with two block attributes, a replacement, a skip and sync fns.
mod inherent {
    use super::*;

    #[derive(Default, Debug)]
    pub struct Client {
        pub get: AtomicU32,
        pub put: AtomicU32,
        pub ping: AtomicU32,
        pub sync: AtomicU32,
    }

    #[retry(max = 3, base = "1ms", jitter = "none", budget = "off", when = |e| *e == AppError::Transient)]
    #[circuit_breaker(threshold = 2, cooldown = "10s")]
    impl Client {
        pub async fn get(&self, fail: bool) -> Result<u32, AppError> {
            self.get.fetch_add(1, SeqCst);
            if fail { Err(AppError::Transient) } else { Ok(1) }
        }

        /// Its own `#[retry]` replaces the block's; the block's breaker still applies.
        #[retry(max = 5, base = "1ms", jitter = "none", budget = "off", when = |e| *e == AppError::Transient)]
        pub async fn put(&self) -> Result<u32, AppError> {
            self.put.fetch_add(1, SeqCst);
            Err(AppError::Transient)
        }

        #[resilient::skip]
        pub async fn ping(&self) -> Result<u32, AppError> {
            self.ping.fetch_add(1, SeqCst);
            Err(AppError::Transient)
        }

        /// Called by one test only: policies are per method and process-wide, and tests run in
        /// parallel.
        pub async fn lookup(&self) -> Result<u32, AppError> {
            Ok(2)
        }

        /// An associated fn without a receiver is a method of the block like any other.
        pub async fn connect(fail: bool) -> Result<Client, AppError> {
            if fail { Err(AppError::Permanent) } else { Ok(Client::default()) }
        }

        pub fn sync(&self) -> Result<u32, AppError> {
            self.sync.fetch_add(1, SeqCst);
            Err(AppError::Transient)
        }

        pub fn label(&self) -> &'static str {
            "client"
        }
    }

    #[tokio::test(start_paused = true)]
    async fn every_async_fn_gets_the_block_stack() {
        let client = Client::default();
        assert_eq!(client.get(false).await, Ok(1));
        // Retried (3 attempts), and counted by a breaker below the retry: the second failed
        // attempt opens it and the retry gives up at once, with the last error.
        assert_eq!(client.get(true).await, Err(AppError::Transient));
        assert_eq!(client.get.load(SeqCst), 3);
        let e = rejection(client.get(false).await);
        assert!(e.is_circuit_open());
        assert_eq!(e.policy(), "impl_blocks::inherent::Client::get");
        assert_eq!(client.get.load(SeqCst), 3, "the body does not run behind an open breaker");
    }

    #[tokio::test(start_paused = true)]
    async fn a_methods_own_attribute_replaces_the_blocks_and_stands_below_the_rest() {
        let client = Client::default();
        let start = Instant::now();
        // The block's breaker (threshold 2) stands above the method's own retry (max 5), as if
        // written there: it counts one failure per call, after all five attempts.
        assert_eq!(client.put().await, Err(AppError::Transient));
        assert_eq!(client.put.load(SeqCst), 5);
        assert_eq!(start.elapsed(), Duration::from_millis(1 + 2 + 4 + 8), "its own backoff");
        assert_eq!(client.put().await, Err(AppError::Transient));
        assert_eq!(client.put.load(SeqCst), 10);
        assert!(rejection(client.put().await).is_circuit_open());
        assert_eq!(client.put.load(SeqCst), 10);
        let snap = registry::snapshot();
        let retry = snap.retry("impl_blocks::inherent::Client::put").expect("put's retry");
        assert_eq!(retry.max_attempts, 5, "the method's own settings: {retry:?}");
        assert_eq!(snap.all("impl_blocks::inherent::Client::put").count(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn skip_leaves_a_method_out() {
        let client = Client::default();
        for _ in 0..5 {
            assert_eq!(client.ping().await, Err(AppError::Transient));
        }
        assert_eq!(client.ping.load(SeqCst), 5, "not retried, never rejected");
        assert!(registry::snapshot().all("impl_blocks::inherent::Client::ping").next().is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn sync_fns_are_left_as_they_are() {
        let client = Client::default();
        assert_eq!(client.sync(), Err(AppError::Transient));
        assert_eq!(client.sync(), Err(AppError::Transient));
        assert_eq!(client.sync(), Err(AppError::Transient));
        assert_eq!(client.sync.load(SeqCst), 3);
        assert_eq!(client.label(), "client");
        assert!(registry::snapshot().all("impl_blocks::inherent::Client::sync").next().is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn each_method_has_its_own_policies_and_name() {
        assert!(Client::connect(false).await.is_ok());
        assert_eq!(Client::connect(true).await.err(), Some(AppError::Permanent));
        assert_eq!(Client::connect(true).await.err(), Some(AppError::Permanent));
        let e = rejection(Client::connect(false).await);
        assert_eq!(e.policy(), "impl_blocks::inherent::Client::connect");
        // `connect`'s open breaker is not `lookup`'s.
        let client = Client::default();
        assert_eq!(client.lookup().await, Ok(2));
        let snap = registry::snapshot();
        for name in
            ["impl_blocks::inherent::Client::lookup", "impl_blocks::inherent::Client::connect"]
        {
            assert!(snap.retry(name).is_some(), "{name}: {snap:#?}");
            assert!(snap.breaker(name).is_some(), "{name}: {snap:#?}");
            assert_eq!(snap.retry(name).unwrap().max_attempts, 3, "the block's settings");
        }
    }
}

/// Block attributes stand above the method's own: a block `#[timeout]` above a method's
/// `#[retry]` is one deadline for all its attempts.
mod above_the_methods_own {
    use super::*;

    pub struct Slow(pub AtomicU32);

    #[timeout("50ms")]
    impl Slow {
        #[retry(max = 5, base = "10ms", jitter = "none", budget = "off", when = |e| *e == AppError::Transient)]
        pub async fn call(&self) -> Result<(), AppError> {
            self.0.fetch_add(1, SeqCst);
            sleep(Duration::from_millis(30)).await;
            Err(AppError::Transient)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn block_timeout_bounds_all_attempts() {
        let slow = Slow(AtomicU32::new(0));
        let start = Instant::now();
        let e = rejection(slow.call().await);
        assert!(e.is_timeout(), "{e}");
        assert_eq!(start.elapsed(), Duration::from_millis(50));
        // 30 ms, a 10 ms backoff, and the second attempt is cut at 50 ms, 10 ms into it.
        assert_eq!(slow.0.load(SeqCst), 2);
    }
}

/// A block attribute and the method's own fuse into one pipeline: the block's retry sees the
/// method's breaker reject, and stops instead of sleeping against it.
mod fused_with_the_methods_own {
    use super::*;

    pub struct Svc(pub AtomicU32);

    #[retry(max = 5, base = "1ms", jitter = "none", budget = "off")]
    impl Svc {
        #[circuit_breaker(threshold = 2, cooldown = "10s")]
        pub async fn call(&self) -> Result<(), AppError> {
            self.0.fetch_add(1, SeqCst);
            Err(AppError::Transient)
        }

        /// Skipped: only its own breaker applies, no retry.
        #[resilient::skip]
        #[circuit_breaker(threshold = 2, cooldown = "10s")]
        pub async fn own_only(&self) -> Result<(), AppError> {
            self.0.fetch_add(1, SeqCst);
            Err(AppError::Transient)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_skipped_method_keeps_its_own_attributes() {
        let svc = Svc(AtomicU32::new(0));
        assert_eq!(svc.own_only().await, Err(AppError::Transient));
        assert_eq!(svc.0.load(SeqCst), 1, "not retried");
        assert_eq!(svc.own_only().await, Err(AppError::Transient));
        assert!(rejection(svc.own_only().await).is_circuit_open());
        assert_eq!(svc.0.load(SeqCst), 2);
        let snap = registry::snapshot();
        let name = "impl_blocks::fused_with_the_methods_own::Svc::own_only";
        assert!(snap.breaker(name).is_some() && snap.retry(name).is_none(), "{snap:#?}");
    }

    #[tokio::test(start_paused = true)]
    async fn retry_stops_when_the_methods_breaker_opens() {
        let svc = Svc(AtomicU32::new(0));
        let start = Instant::now();
        assert_eq!(svc.call().await, Err(AppError::Transient));
        assert_eq!(svc.0.load(SeqCst), 2, "the second attempt opened the breaker");
        assert_eq!(start.elapsed(), Duration::from_millis(1), "no sleep against an open breaker");
        assert!(rejection(svc.call().await).is_circuit_open());
        assert_eq!(start.elapsed(), Duration::from_millis(1), "a rejection is not retried");
    }
}

/// Several block attributes go onto each method in source order: here the breaker is outside
/// the retry, so it counts a call once, after its retries.
mod source_order {
    use super::*;

    pub struct Db(pub AtomicU32);

    #[circuit_breaker(threshold = 2, cooldown = "10s")]
    #[retry(max = 3, base = "1ms", budget = "off")]
    impl Db {
        pub async fn query(&self) -> Result<(), AppError> {
            self.0.fetch_add(1, SeqCst);
            Err(AppError::Transient)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn breaker_above_retry_counts_whole_calls() {
        let db = Db(AtomicU32::new(0));
        assert_eq!(db.query().await, Err(AppError::Transient));
        assert_eq!(db.0.load(SeqCst), 3, "one call, three attempts, one failure counted");
        assert_eq!(db.query().await, Err(AppError::Transient));
        assert_eq!(db.0.load(SeqCst), 6);
        assert!(rejection(db.query().await).is_circuit_open());
        assert_eq!(db.0.load(SeqCst), 6);
    }
}

/// A trait impl with native `async fn`s, and a generic impl.
mod trait_impl {
    use super::*;

    pub trait Fetch {
        async fn fetch(&self) -> Result<u32, AppError>;
        fn local(&self) -> u32;
    }

    pub struct Remote<T>(pub T, pub AtomicU32);

    #[retry(max = 4, base = "1ms", budget = "off")]
    impl<T: Sync> Fetch for Remote<T> {
        async fn fetch(&self) -> Result<u32, AppError> {
            let n = self.1.fetch_add(1, SeqCst) + 1;
            if n < 4 { Err(AppError::Transient) } else { Ok(n) }
        }

        fn local(&self) -> u32 {
            7
        }
    }

    #[tokio::test(start_paused = true)]
    async fn trait_methods_get_the_block_attributes() {
        let remote = Remote("x", AtomicU32::new(0));
        assert_eq!(remote.fetch().await, Ok(4));
        assert_eq!(remote.local(), 7);
        let snap = registry::snapshot();
        assert!(snap.retry("impl_blocks::trait_impl::Remote::fetch").is_some(), "{snap:#?}");
    }
}

/// `#[async_trait]` above the block attribute (it has already boxed the methods) and below it
/// (it boxes them after): both apply the attributes, and the futures stay `Send`.
mod async_trait_orders {
    use std::sync::Arc;

    use super::*;

    #[async_trait::async_trait]
    pub trait Store: Send + Sync {
        async fn load(&self, id: u64) -> Result<u64, AppError>;
        async fn bump(&mut self) -> Result<u32, AppError>;
        fn kind(&self) -> &'static str;
    }

    pub struct Above {
        pub calls: AtomicU32,
        pub bumps: u32,
    }

    pub struct Below {
        pub calls: AtomicU32,
        pub bumps: u32,
    }

    #[async_trait::async_trait]
    #[retry(max = 3, base = "1ms", budget = "off")]
    #[circuit_breaker(threshold = 10)]
    impl Store for Above {
        async fn load(&self, id: u64) -> Result<u64, AppError> {
            if self.calls.fetch_add(1, SeqCst) < 2 {
                return Err(AppError::Transient);
            }
            Ok(id)
        }

        #[resilient::skip]
        async fn bump(&mut self) -> Result<u32, AppError> {
            self.bumps += 1;
            Err(AppError::Transient)
        }

        fn kind(&self) -> &'static str {
            "above"
        }
    }

    #[retry(max = 3, base = "1ms", budget = "off")]
    #[async_trait::async_trait]
    #[circuit_breaker(threshold = 10)]
    impl Store for Below {
        async fn load(&self, id: u64) -> Result<u64, AppError> {
            if self.calls.fetch_add(1, SeqCst) < 2 {
                return Err(AppError::Transient);
            }
            Ok(id)
        }

        #[retry(max = 5, base = "1ms", budget = "off")]
        async fn bump(&mut self) -> Result<u32, AppError> {
            self.bumps += 1;
            if self.bumps < 5 { Err(AppError::Transient) } else { Ok(self.bumps) }
        }

        fn kind(&self) -> &'static str {
            "below"
        }
    }

    #[tokio::test(start_paused = true)]
    async fn async_trait_above() {
        let mut above = Above { calls: AtomicU32::new(0), bumps: 0 };
        assert_eq!(above.load(7).await, Ok(7));
        assert_eq!(above.calls.load(SeqCst), 3);
        assert_eq!(above.bump().await, Err(AppError::Transient));
        assert_eq!(above.bumps, 1, "skipped: not retried");
        assert_eq!(above.kind(), "above");
        let dynamic: Arc<dyn Store> = Arc::new(Above { calls: AtomicU32::new(1), bumps: 0 });
        assert_eq!(tokio::spawn(async move { dynamic.load(1).await }).await.unwrap(), Ok(1));
        let snap = registry::snapshot();
        let name = "impl_blocks::async_trait_orders::Above::load";
        assert!(snap.retry(name).is_some() && snap.breaker(name).is_some(), "{snap:#?}");
        assert!(snap.all("impl_blocks::async_trait_orders::Above::bump").next().is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn async_trait_below() {
        let mut below = Below { calls: AtomicU32::new(0), bumps: 0 };
        assert_eq!(below.load(7).await, Ok(7));
        assert_eq!(below.calls.load(SeqCst), 3);
        assert_eq!(below.bump().await, Ok(5), "its own retry, max 5");
        assert_eq!(below.kind(), "below");
        let dynamic: Arc<dyn Store> = Arc::new(Below { calls: AtomicU32::new(1), bumps: 0 });
        assert_eq!(tokio::spawn(async move { dynamic.load(1).await }).await.unwrap(), Ok(1));
        let snap = registry::snapshot();
        for method in ["load", "bump"] {
            let name = format!("impl_blocks::async_trait_orders::Below::{method}");
            assert!(snap.retry(&name).is_some() && snap.breaker(&name).is_some(), "{snap:#?}");
        }
        let bump = snap.retry("impl_blocks::async_trait_orders::Below::bump").unwrap();
        assert_eq!(bump.max_attempts, 5);
    }
}

/// `#[idempotent]` on a block: every method takes its key from its `idempotency_key` argument.
mod idempotent_block {
    use resilient::IdempotencyKey;

    use super::*;

    pub struct Payments(pub AtomicU32);

    #[resilient::idempotent(ttl = "1h")]
    impl Payments {
        pub async fn charge(
            &self,
            idempotency_key: IdempotencyKey,
            cents: u32,
        ) -> Result<u32, AppError> {
            self.0.fetch_add(1, SeqCst);
            Ok(cents)
        }

        pub async fn refund(
            &self,
            idempotency_key: IdempotencyKey,
            cents: u32,
        ) -> Result<u32, AppError> {
            self.0.fetch_add(1, SeqCst);
            Ok(cents)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn each_method_its_own_store() {
        let payments = Payments(AtomicU32::new(0));
        let key = IdempotencyKey::new();
        assert_eq!(payments.charge(key, 5).await, Ok(5));
        assert_eq!(payments.charge(key, 5).await, Ok(5));
        assert_eq!(payments.0.load(SeqCst), 1);
        // The same key on another method is another policy: it runs.
        assert_eq!(payments.refund(key, 5).await, Ok(5));
        assert_eq!(payments.0.load(SeqCst), 2);
    }
}

/// `name = ".."` on the block names one policy, which every method then shares, as it would
/// written on each.
mod named_block {
    use super::*;

    pub struct Shared;

    #[circuit_breaker(threshold = 1, cooldown = "10s", name = "impl_blocks::shared")]
    impl Shared {
        pub async fn a(&self, fail: bool) -> Result<(), AppError> {
            if fail { Err(AppError::Permanent) } else { Ok(()) }
        }

        pub async fn b(&self) -> Result<(), AppError> {
            Ok(())
        }
    }

    #[tokio::test(start_paused = true)]
    async fn one_breaker_for_every_method() {
        assert_eq!(Shared.a(true).await, Err(AppError::Permanent));
        let e = rejection(Shared.b().await);
        assert!(e.is_circuit_open());
        assert_eq!(e.policy(), "impl_blocks::shared");
        assert_eq!(registry::snapshot().all("impl_blocks::shared").count(), 1);
    }
}
