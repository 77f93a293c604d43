//! `tracing` events on every breaker transition and rejection (feature `tracing`, on by default).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use resilient::circuit_breaker;
use resilient_tests::AppError;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Records each event's level and message.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<(Level, String)>>>);

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut message = Message(String::new());
        event.record(&mut message);
        self.0.lock().unwrap().push((*event.metadata().level(), message.0));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[circuit_breaker(threshold = 1, cooldown = "1s", name = "traced")]
async fn call(fail: bool) -> Result<(), AppError> {
    if fail { Err(AppError::Transient) } else { Ok(()) }
}

#[tokio::test(start_paused = true)]
async fn every_transition_and_rejection_is_an_event() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());
    call(true).await.unwrap_err(); // closed -> open
    call(false).await.unwrap_err(); // rejected
    tokio::time::advance(Duration::from_secs(1)).await;
    call(false).await.unwrap(); // open -> half-open -> closed
    let events = recorder.0.lock().unwrap().clone();
    let levels: Vec<Level> = events.iter().map(|(l, _)| *l).collect();
    assert_eq!(levels, [Level::WARN, Level::DEBUG, Level::INFO, Level::INFO], "{events:?}");
    assert!(events[0].1.contains("open"), "{events:?}");
    assert!(events[1].1.contains("rejected"), "{events:?}");
}
