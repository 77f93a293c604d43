//! Default policy names tell functions and methods apart: `module::path::fn` for a free fn,
//! `module::path::Type::method` inside an impl block (generic parameters left out), and a lookup
//! by a name several policies of one kind share answers `None` and lists them as duplicates.

use std::time::Duration;

use resilient::registry::{self, Duplicate};
use resilient::{circuit_breaker, retry, timeout};
use resilient_tests::AppError;
use tokio::time::sleep;

fn rejection(r: Result<(), AppError>) -> resilient::Error {
    match r {
        Err(AppError::Rejected(e)) => e,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

/// mini-redis's shape: `Client::subscribe` and `Subscriber::subscribe` in one module.
mod client {
    use super::*;

    pub struct Client;
    pub struct Subscriber;

    impl Client {
        #[retry(max = 2, base = "1ms", budget = "off", when = |e| *e == AppError::Transient)]
        #[circuit_breaker(threshold = 1, cooldown = "10s")]
        pub async fn subscribe(&self, fail: bool) -> Result<(), AppError> {
            if fail { Err(AppError::Permanent) } else { Ok(()) }
        }

        /// An associated fn without a receiver is named after its type all the same.
        #[circuit_breaker(threshold = 1, cooldown = "10s")]
        pub async fn connect(fail: bool) -> Result<(), AppError> {
            if fail { Err(AppError::Permanent) } else { Ok(()) }
        }
    }

    impl Subscriber {
        #[circuit_breaker(threshold = 1, cooldown = "10s")]
        pub async fn subscribe(&self, fail: bool) -> Result<(), AppError> {
            if fail { Err(AppError::Permanent) } else { Ok(()) }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn same_method_name_on_two_types_is_two_policies() {
        let (client, subscriber) = (Client, Subscriber);
        client.subscribe(false).await.unwrap();
        subscriber.subscribe(false).await.unwrap();
        Client::connect(false).await.unwrap();

        let snap = registry::snapshot();
        for name in [
            "names::client::Client::subscribe",
            "names::client::Subscriber::subscribe",
            "names::client::Client::connect",
        ] {
            assert!(snap.breaker(name).is_some(), "{name} not listed: {snap:#?}");
        }
        // Stacked layers share the method's name; the registry tells them apart by kind.
        assert!(snap.retry("names::client::Client::subscribe").is_some());
        assert_eq!(snap.all("names::client::Client::subscribe").count(), 2);
        assert!(snap.get("names::client::Client::subscribe").is_none(), "two layers: ambiguous");
        assert!(snap.get("names::client::Subscriber::subscribe").is_some());
        assert!(snap.all("names::client::subscribe").next().is_none(), "the old, shared name");
        assert!(!snap.duplicates.iter().any(|d| d.name.starts_with("names::client::")));

        // Opening one breaker leaves the other closed, and the rejection says which method.
        assert_eq!(client.subscribe(true).await, Err(AppError::Permanent));
        let e = rejection(client.subscribe(false).await);
        assert!(e.is_circuit_open());
        assert_eq!(e.policy(), "names::client::Client::subscribe");
        assert!(
            e.to_string().starts_with("circuit breaker `names::client::Client::subscribe` is open"),
            "{e}"
        );
        subscriber.subscribe(false).await.unwrap();
        Client::connect(false).await.unwrap();
    }
}

/// Native `async fn` in traits, implemented for two types and for a generic type.
mod traits {
    use super::*;

    pub trait Fetch {
        async fn get(&self) -> Result<(), AppError>;
    }

    pub struct A;
    pub struct B;
    pub struct Wrapper<T>(pub T);

    impl Fetch for A {
        #[timeout("10ms")]
        async fn get(&self) -> Result<(), AppError> {
            sleep(Duration::from_secs(1)).await;
            Ok(())
        }
    }

    impl Fetch for B {
        #[timeout("20ms")]
        async fn get(&self) -> Result<(), AppError> {
            sleep(Duration::from_secs(1)).await;
            Ok(())
        }
    }

    impl<T: Sync> Fetch for Wrapper<T> {
        #[timeout("30ms")]
        async fn get(&self) -> Result<(), AppError> {
            sleep(Duration::from_secs(1)).await;
            Ok(())
        }
    }

    #[tokio::test(start_paused = true)]
    async fn trait_impls_are_named_after_their_self_type() {
        let a = rejection(A.get().await);
        assert_eq!(a.to_string(), "`names::traits::A::get` timed out after 10ms");
        let b = rejection(B.get().await);
        assert_eq!(b.to_string(), "`names::traits::B::get` timed out after 20ms");
        // Generic parameters are left out: one policy for every `Wrapper<T>`.
        let w = rejection(Wrapper(1u8).get().await);
        assert_eq!(w.policy(), "names::traits::Wrapper::get");
        let w = rejection(Wrapper("x").get().await);
        assert_eq!(w.to_string(), "`names::traits::Wrapper::get` timed out after 30ms");

        let snap = registry::snapshot();
        for name in
            ["names::traits::A::get", "names::traits::B::get", "names::traits::Wrapper::get"]
        {
            assert!(snap.timeout(name).is_some(), "{name} not listed");
            assert_eq!(snap.all(name).count(), 1, "{name}");
        }
    }
}

/// A trait's default method: one policy for every implementor, named after the trait.
mod default_method {
    use super::*;

    pub trait Ping {
        #[timeout("10ms")]
        async fn ping(&self) -> Result<(), AppError> {
            sleep(Duration::from_secs(1)).await;
            Ok(())
        }
    }

    pub struct A;
    pub struct B;
    impl Ping for A {}
    impl Ping for B {}

    #[tokio::test(start_paused = true)]
    async fn named_after_the_trait() {
        assert_eq!(rejection(A.ping().await).policy(), "names::default_method::Ping::ping");
        assert_eq!(rejection(B.ping().await).policy(), "names::default_method::Ping::ping");
        assert_eq!(registry::snapshot().all("names::default_method::Ping::ping").count(), 1);
    }
}

/// A generic inherent impl: one policy for every instantiation, named without `<T>`.
mod generic {
    use super::*;

    pub struct Cache<T>(pub T);

    impl<T: Clone + Send + Sync> Cache<T> {
        #[circuit_breaker(threshold = 1, cooldown = "10s")]
        pub async fn get(&self, fail: bool) -> Result<T, AppError> {
            if fail { Err(AppError::Permanent) } else { Ok(self.0.clone()) }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn generic_parameters_are_left_out() {
        assert_eq!(Cache(1u8).get(true).await, Err(AppError::Permanent));
        // The same breaker serves `Cache<String>`: it is open.
        let e = match Cache(String::new()).get(false).await {
            Err(AppError::Rejected(e)) => e,
            other => panic!("expected a rejection, got {other:?}"),
        };
        assert_eq!(e.policy(), "names::generic::Cache::get");
        let snap = registry::snapshot();
        assert_eq!(snap.all("names::generic::Cache::get").count(), 1);
    }
}

/// `#[async_trait]` rewrites the body into `Box::pin(async move { .. })` before the attribute
/// sees it; the name still comes from the impl.
mod boxed {
    use super::*;

    #[async_trait::async_trait]
    pub trait Store: Send + Sync {
        async fn load(&self, fail: bool) -> Result<(), AppError>;
    }

    pub struct Redis;
    pub struct Memory;

    #[async_trait::async_trait]
    impl Store for Redis {
        #[circuit_breaker(threshold = 1, cooldown = "10s")]
        async fn load(&self, fail: bool) -> Result<(), AppError> {
            if fail { Err(AppError::Permanent) } else { Ok(()) }
        }
    }

    #[async_trait::async_trait]
    impl Store for Memory {
        #[circuit_breaker(threshold = 1, cooldown = "10s")]
        async fn load(&self, fail: bool) -> Result<(), AppError> {
            if fail { Err(AppError::Permanent) } else { Ok(()) }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn async_trait_methods_are_named_after_their_type() {
        let stores: [&dyn Store; 2] = [&Redis, &Memory];
        assert_eq!(stores[0].load(true).await, Err(AppError::Permanent));
        let e = rejection(stores[0].load(false).await);
        assert!(e.to_string().contains("`names::boxed::Redis::load`"), "{e}");
        stores[1].load(false).await.unwrap();
        let snap = registry::snapshot();
        assert!(snap.breaker("names::boxed::Memory::load").is_some());
    }
}

/// Free functions keep `module::path::fn`; one nested in a function body carries that function.
mod free {
    use super::*;

    #[timeout("10ms")]
    pub async fn fetch() -> Result<(), AppError> {
        sleep(Duration::from_secs(1)).await;
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn free_fn_is_module_path_and_fn() {
        let e = rejection(fetch().await);
        assert_eq!(e.to_string(), "`names::free::fetch` timed out after 10ms");

        #[timeout("10ms")]
        async fn nested() -> Result<(), AppError> {
            sleep(Duration::from_secs(1)).await;
            Ok(())
        }
        let e = rejection(nested().await);
        assert_eq!(e.policy(), "names::free::free_fn_is_module_path_and_fn::nested");
    }
}

/// `name = "..."` still replaces the default.
mod explicit {
    use super::*;

    pub struct Db;

    impl Db {
        #[timeout("10ms", name = "db-query")]
        pub async fn query(&self) -> Result<(), AppError> {
            sleep(Duration::from_secs(1)).await;
            Ok(())
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_explicit_name_wins() {
        let e = rejection(Db.query().await);
        assert_eq!(e.policy(), "db-query");
    }
}

/// Several live policies of one kind under one name: no lookup picks one of them.
mod ambiguous {
    use super::*;
    use resilient::runtime::breaker::CircuitBreaker;
    use resilient::runtime::retry::Retry;

    #[test]
    fn lookups_by_an_ambiguous_name_answer_none_and_list_the_duplicates() {
        let first = CircuitBreaker::builder().name("names::ambiguous::db").build();
        let second = CircuitBreaker::builder().name("names::ambiguous::db").build();
        let retry = Retry::builder().name("names::ambiguous::db").build();

        let snap = registry::snapshot();
        assert!(snap.breaker("names::ambiguous::db").is_none(), "two breakers: ambiguous");
        assert!(snap.get("names::ambiguous::db").is_none());
        // One retry under that name: the lookup by kind is not ambiguous.
        assert!(snap.retry("names::ambiguous::db").is_some());
        let all: Vec<&str> = snap.all("names::ambiguous::db").map(|p| p.state.kind()).collect();
        assert_eq!(all, ["circuit_breaker", "circuit_breaker", "retry"]);
        let duplicates: Vec<&Duplicate> =
            snap.duplicates.iter().filter(|d| d.name == "names::ambiguous::db").collect();
        assert_eq!(
            duplicates,
            [&Duplicate { name: "names::ambiguous::db".into(), kind: "circuit_breaker", count: 2 }]
        );

        // Once one of them is gone the name is unambiguous again.
        drop(second);
        let snap = registry::snapshot();
        assert!(snap.breaker("names::ambiguous::db").is_some());
        assert!(!snap.duplicates.iter().any(|d| d.name == "names::ambiguous::db"));
        drop((first, retry));
    }
}

/// `name = "..."` on several fns shares one instance of each kind (API section 1), and stacked
/// layers of one fn may share a name and stay apart by kind.
mod shared_by_name {
    use super::*;
    use resilient::idempotent;
    use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

    static BODY_RUNS: AtomicU32 = AtomicU32::new(0);

    #[retry(max = 2, base = "1ms", budget = "off", name = "names::shared::retry")]
    async fn first_retried() -> Result<(), AppError> {
        Err(AppError::Transient)
    }

    #[retry(max = 2, base = "1ms", budget = "off", name = "names::shared::retry")]
    async fn second_retried() -> Result<(), AppError> {
        Err(AppError::Transient)
    }

    #[tokio::test(start_paused = true)]
    async fn retries_of_two_fns_count_in_one_policy() {
        assert_eq!(first_retried().await, Err(AppError::Transient));
        assert_eq!(second_retried().await, Err(AppError::Transient));
        let snap = registry::snapshot();
        let retry = snap.retry("names::shared::retry").expect("one shared retry policy");
        assert_eq!(retry.retries, 2, "one retry from each fn, in one policy");
        assert_eq!(snap.all("names::shared::retry").count(), 1);
    }

    #[idempotent(key = id, name = "names::shared::charge")]
    async fn charge_over_http(id: u64) -> Result<u64, AppError> {
        BODY_RUNS.fetch_add(1, Relaxed);
        Ok(id * 10)
    }

    #[idempotent(key = id, name = "names::shared::charge")]
    async fn charge_from_queue(id: u64) -> Result<u64, AppError> {
        BODY_RUNS.fetch_add(1, Relaxed);
        Ok(id * 10)
    }

    #[tokio::test]
    async fn two_entry_points_share_one_idempotency_store() {
        assert_eq!(charge_over_http(7).await, Ok(70));
        assert_eq!(charge_from_queue(7).await, Ok(70), "answered from the shared store");
        assert_eq!(BODY_RUNS.load(Relaxed), 1);
    }

    #[timeout("10ms", name = "names::shared::both")]
    #[retry(max = 2, base = "1ms", budget = "off", name = "names::shared::both")]
    async fn stacked_under_one_name() -> Result<(), AppError> {
        Err(AppError::Transient)
    }

    #[tokio::test(start_paused = true)]
    async fn stacked_layers_may_share_a_name() {
        assert_eq!(stacked_under_one_name().await, Err(AppError::Transient));
        let snap = registry::snapshot();
        assert!(snap.retry("names::shared::both").is_some());
        assert!(snap.timeout("names::shared::both").is_some());
        assert!(
            !snap.conflicts.iter().any(|c| c.name == "names::shared::both"),
            "two kinds under one name are no conflict: {:?}",
            snap.conflicts
        );
    }
}
