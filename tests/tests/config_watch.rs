//! `resilient::config::watch`: reloads a file on change; a bad version keeps the last good one.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

use resilient::{config, retry};
use resilient_tests::AppError;

/// Generous: the watcher reports within milliseconds; this only bounds a broken one.
const WAIT: Duration = Duration::from_secs(20);

/// Records every event's level and fields, from every thread (the watcher reloads on its own).
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<(Level, String)>>>);

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={value:?} ", field.name()));
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
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        self.0.lock().unwrap().push((*event.metadata().level(), fields.0));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[retry(max = 3, base = "1ms", name = "cfg.watched")]
async fn call() -> Result<(), AppError> {
    Ok(())
}

fn max() -> u32 {
    resilient::registry::snapshot().retry("cfg.watched").unwrap().max_attempts
}

/// Writes the whole file at once (a new file renamed over the old), as editors do, so the
/// watcher never reads it half written.
fn write(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[tokio::test]
async fn reloads_on_change_and_keeps_the_last_good_configuration() {
    let recorder = Recorder::default();
    tracing::subscriber::set_global_default(recorder.clone()).unwrap();
    call().await.unwrap();
    let dir: PathBuf = std::env::temp_dir().join(format!("resilient-watch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("resilient.toml");
    write(&path, "[\"cfg.watched\".retry]\nmax = 5\n");

    let watcher = config::watch(&path).unwrap();
    assert_eq!(max(), 5, "loaded at once");

    write(&path, "[\"cfg.watched\".retry]\nmax = 7\n");
    let applied = watcher.next_reload(WAIT).expect("no reload").unwrap();
    assert_eq!(applied.matched[0].policies, ["cfg.watched"]);
    assert_eq!(max(), 7);

    write(&path, "[\"cfg.watched\".retry]\nmax = 0\n");
    let err = watcher.next_reload(WAIT).expect("no reload").unwrap_err();
    assert!(err.to_string().contains("`max = 0` would never call the function"), "{err}");
    assert_eq!(err.file(), Some(path.as_path()));
    assert_eq!(max(), 7, "the last good configuration stays");
    let warned = recorder.0.lock().unwrap().iter().any(|(level, fields)| {
        *level == Level::WARN
            && fields.contains("the last good configuration stays")
            && fields.contains("`max = 0` would never call the function")
    });
    assert!(
        warned,
        "the failed reload is reported with its reason: {:?}",
        recorder.0.lock().unwrap()
    );

    write(&path, "");
    watcher.next_reload(WAIT).expect("no reload").unwrap();
    assert_eq!(max(), 3, "an empty file sets nothing: back to the compiled value");

    drop(watcher);
    std::fs::remove_dir_all(&dir).unwrap();
}
