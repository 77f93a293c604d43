//! Reloading a configuration file when it changes.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher as _};

use super::{Applied, ConfigError, Origin, Problem, load_as};

/// How long after a change the file is read.
const SETTLE: Duration = Duration::from_millis(50);

/// Reloads a configuration file on every change, for as long as it is kept; see [`watch`].
pub struct Watcher {
    _watcher: notify::RecommendedWatcher,
    reloads: Mutex<Receiver<Result<Applied, ConfigError>>>,
    path: PathBuf,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher").field("path", &self.path).finish_non_exhaustive()
    }
}

/// Loads the file at `path`, then reloads it whenever it changes, until the returned
/// [`Watcher`] is dropped. Each reload replaces what the file set before (a key removed from the
/// file goes back to its compiled value).
///
/// A reload that fails (a bad value, a file half written) changes nothing: the last good
/// configuration stays, and the reason is reported through `tracing` at `warn` (and to
/// [`Watcher::next_reload`]). The first load must succeed: its error is returned.
///
/// The directory holding the file is watched, so editors that save by writing a new file and
/// renaming it over the old one are followed.
pub fn watch(path: impl AsRef<Path>) -> Result<Watcher, ConfigError> {
    super::ensure_env();
    let path = path.as_ref().to_path_buf();
    let first = std::fs::read_to_string(&path).ok();
    load_as(Origin::File(path.clone()))?;
    let (tx, rx) = channel();
    let watched = path.clone();
    let mut last = first;
    let handler = move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if !matches!(event.kind, EventKind::Create(_) | EventKind::Modify(_)) {
            return;
        }
        if !event.paths.iter().any(|p| same_file(p, &watched)) {
            return;
        }
        // Let a writer finish: a file written in several steps is read once it is whole (later
        // events for the same text are ignored below).
        std::thread::sleep(SETTLE);
        reload(&watched, &mut last, &tx);
    };
    let fail = |e: notify::Error| {
        ConfigError::new(
            Some(path.clone()),
            vec![Problem::new(None, None, format!("cannot watch it for changes: {e}"))],
        )
    };
    let mut watcher = notify::recommended_watcher(handler).map_err(fail)?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    watcher.watch(&dir, RecursiveMode::NonRecursive).map_err(fail)?;
    Ok(Watcher { _watcher: watcher, reloads: Mutex::new(rx), path })
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b || (a.file_name() == b.file_name() && a.canonicalize().ok() == b.canonicalize().ok())
}

/// Reloads the file if its text changed since the last reload.
fn reload(path: &Path, last: &mut Option<String>, tx: &Sender<Result<Applied, ConfigError>>) {
    let Ok(text) = std::fs::read_to_string(path) else { return };
    if last.as_deref() == Some(text.as_str()) {
        return;
    }
    *last = Some(text);
    let result = load_as(Origin::File(path.to_path_buf()));
    if let Err(e) = &result {
        #[cfg(feature = "tracing")]
        tracing::warn!(error = %e, "configuration reload failed; the last good configuration stays");
        let _ = e;
    }
    let _ = tx.send(result);
}

impl Watcher {
    /// The file watched.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits up to `timeout` for the next reload that the file's changes caused, and returns
    /// its result (`None` if none happened in time). Reloads not waited for queue up. Meant for
    /// tests and tools that must know a change took effect.
    pub fn next_reload(&self, timeout: Duration) -> Option<Result<Applied, ConfigError>> {
        let rx = self.reloads.lock().unwrap_or_else(|p| p.into_inner());
        rx.recv_timeout(timeout).ok()
    }
}
