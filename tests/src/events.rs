//! A `tracing` subscriber for tests: records every event (level, fields, and the `attempt` of
//! the innermost span it happened in), for tests to check what the policies report.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// One event: its level, its fields (`message` included) as text, and the `attempt` of the
/// innermost span it happened in.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The event's level.
    pub level: Level,
    /// Its fields, `message` included, as text.
    pub fields: HashMap<String, String>,
    /// The `attempt` field of the innermost span it happened in.
    pub attempt: Option<String>,
}

impl Seen {
    /// The event's message, or `""`.
    pub fn message(&self) -> &str {
        self.fields.get("message").map_or("", String::as_str)
    }
    /// A field as text, or `""` when the event has none of that name.
    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }
}

/// Records every event, and the spans entered (their `attempt` field).
#[derive(Clone, Default)]
pub struct Recorder {
    events: Arc<Mutex<Vec<Seen>>>,
    spans: Arc<Mutex<HashMap<u64, HashMap<String, String>>>>,
    stack: Arc<Mutex<Vec<u64>>>,
    next: Arc<AtomicU64>,
}

impl Recorder {
    /// Every event so far.
    pub fn events(&self) -> Vec<Seen> {
        self.events.lock().unwrap().clone()
    }
    /// The events whose message contains `part`.
    pub fn with_message(&self, part: &str) -> Vec<Seen> {
        self.events().into_iter().filter(|e| e.message().contains(part)).collect()
    }
}

#[derive(Default)]
struct Fields(HashMap<String, String>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = self.next.fetch_add(1, SeqCst) + 1;
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        self.spans.lock().unwrap().insert(id, fields.0);
        Id::from_u64(id)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let attempt = self.stack.lock().unwrap().iter().rev().find_map(|id| {
            self.spans.lock().unwrap().get(id).and_then(|f| f.get("attempt").cloned())
        });
        self.events.lock().unwrap().push(Seen {
            level: *event.metadata().level(),
            fields: fields.0,
            attempt,
        });
    }
    fn enter(&self, id: &Id) {
        self.stack.lock().unwrap().push(id.into_u64());
    }
    fn exit(&self, id: &Id) {
        let mut stack = self.stack.lock().unwrap();
        if let Some(at) = stack.iter().rposition(|s| *s == id.into_u64()) {
            stack.remove(at);
        }
    }
}
