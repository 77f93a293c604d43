//! The attributes drop into existing code: every shape of function in the README's "works with"
//! list compiles unchanged and behaves.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

use resilient::retry;
use resilient_tests::AppError;

mod async_trait_impls {
    use super::*;

    #[async_trait::async_trait]
    trait Store: Send + Sync {
        async fn load(&self, id: u64, tag: String) -> Result<String, AppError>;
        async fn bump(&mut self) -> Result<u32, AppError>;
    }

    struct Flaky {
        calls: AtomicU32,
        bumps: u32,
    }

    #[async_trait::async_trait]
    impl Store for Flaky {
        #[retry(max = 3, base = "1ms", budget = "off")]
        async fn load(&self, id: u64, tag: String) -> Result<String, AppError> {
            if self.calls.fetch_add(1, SeqCst) < 2 {
                return Err(AppError::Transient);
            }
            Ok(format!("{tag}{id}"))
        }

        #[retry(max = 3, base = "1ms", budget = "off")]
        async fn bump(&mut self) -> Result<u32, AppError> {
            self.bumps += 1;
            if self.bumps < 2 { Err(AppError::Transient) } else { Ok(self.bumps) }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retry_inside_async_trait() {
        let mut store = Flaky { calls: AtomicU32::new(0), bumps: 0 };
        assert_eq!(store.load(7, "u".into()).await, Ok("u7".into()));
        assert_eq!(store.calls.load(SeqCst), 3);
        assert_eq!(store.bump().await, Ok(2));
        let dynamic: Arc<dyn Store> = Arc::new(Flaky { calls: AtomicU32::new(2), bumps: 0 });
        assert_eq!(
            tokio::spawn(async move { dynamic.load(1, "x".into()).await }).await.unwrap(),
            Ok("x1".into())
        );
    }
}

mod tracing_instrument {
    use super::*;

    static ABOVE: AtomicU32 = AtomicU32::new(0);
    static BELOW: AtomicU32 = AtomicU32::new(0);

    #[tracing::instrument(skip(name))]
    #[retry(max = 3, base = "1ms", budget = "off")]
    async fn above(name: String) -> Result<u32, AppError> {
        if ABOVE.fetch_add(1, SeqCst) < 1 {
            Err(AppError::Transient)
        } else {
            Ok(name.len() as u32)
        }
    }

    #[retry(max = 3, base = "1ms", budget = "off")]
    #[tracing::instrument(err(Debug))]
    async fn below(id: u64) -> Result<u64, AppError> {
        if BELOW.fetch_add(1, SeqCst) < 1 { Err(AppError::Transient) } else { Ok(id) }
    }

    #[tokio::test(start_paused = true)]
    async fn instrument_above_and_below() {
        assert_eq!(above("abc".into()).await, Ok(3));
        assert_eq!(ABOVE.load(SeqCst), 2);
        assert_eq!(below(9).await, Ok(9));
        assert_eq!(BELOW.load(SeqCst), 2);
    }
}

mod spawnable {
    use super::*;

    #[retry(max = 2, base = "1ms")]
    pub(crate) async fn crate_visible(
        data: Arc<Vec<u8>>,
    ) -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
        tokio::task::yield_now().await;
        Ok(data.len())
    }

    #[tokio::test]
    async fn futures_are_send_and_spawnable() {
        let handle = tokio::spawn(crate_visible(Arc::new(vec![1, 2, 3])));
        assert_eq!(handle.await.unwrap().unwrap(), 3);
    }
}
