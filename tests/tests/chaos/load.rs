//! Load, per-call records and the report.

use super::*;

pub(crate) type CallFuture = Pin<Box<dyn Future<Output = Result<String, ChaosError>> + Send>>;
pub(crate) type CallFn = fn(Arc<Client>, String) -> CallFuture;

pub(crate) fn call_main(c: Arc<Client>, key: String) -> CallFuture {
    Box::pin(async move { charge(&c, Charge { key }).await })
}
pub(crate) fn call_brownout(c: Arc<Client>, key: String) -> CallFuture {
    Box::pin(async move { charge_brownout(&c, Charge { key }).await })
}
pub(crate) fn call_storm(c: Arc<Client>, key: String) -> CallFuture {
    Box::pin(async move { charge_storm(&c, Charge { key }).await })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Ok,
    CircuitOpen,
    Timeout,
    Failed,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct CallRecord {
    pub(crate) start: Instant,
    pub(crate) end: Instant,
    pub(crate) kind: Kind,
}

/// Calls that failed other than by a rejection, by cause.
pub(crate) static OTHER_ERRORS: Mutex<BTreeMap<String, u32>> = Mutex::new(BTreeMap::new());

pub(crate) fn kind_of(r: &Result<String, ChaosError>) -> Kind {
    match r {
        Ok(_) => Kind::Ok,
        Err(ChaosError::Rejected(e)) if e.is_circuit_open() => Kind::CircuitOpen,
        Err(ChaosError::Rejected(e)) if e.is_timeout() => Kind::Timeout,
        Err(e) => {
            *lock(&OTHER_ERRORS).entry(e.cause()).or_default() += 1;
            Kind::Failed
        }
    }
}

/// `TASKS` tasks calling `call` in a loop, each call under [`CALL_DEADLINE`], until `stop`.
pub(crate) fn spawn_load(
    client: &Arc<Client>,
    call: CallFn,
    prefix: &'static str,
    stop: &Arc<AtomicBool>,
) -> Vec<JoinHandle<Vec<CallRecord>>> {
    (0..TASKS)
        .map(|task| {
            let (client, stop) = (Arc::clone(client), Arc::clone(stop));
            tokio::spawn(async move {
                let mut records = Vec::new();
                let mut n = 0u64;
                while !stop.load(SeqCst) {
                    let key = format!("{prefix}-{task}-{n}");
                    n += 1;
                    let start = Instant::now();
                    let out = resilient::deadline::scope(
                        start + CALL_DEADLINE,
                        call(client.clone(), key),
                    )
                    .await;
                    records.push(CallRecord { start, end: Instant::now(), kind: kind_of(&out) });
                    sleep(THINK).await;
                }
                records
            })
        })
        .collect()
}

pub(crate) async fn join_load(handles: Vec<JoinHandle<Vec<CallRecord>>>) -> Vec<CallRecord> {
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.expect("a load task panicked"));
    }
    all.sort_by_key(|r| r.start);
    all
}

pub(crate) fn count_in(times: &[Instant], from: Instant, to: Instant) -> usize {
    times.iter().filter(|t| **t >= from && **t < to).count()
}

pub(crate) fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

/// Asserts no call outlived its deadline by more than [`DEADLINE_SLACK`]; returns the longest.
pub(crate) fn check_deadlines(records: &[CallRecord]) -> Duration {
    let longest = records.iter().map(|r| r.end - r.start).max().unwrap_or_default();
    assert!(
        longest <= CALL_DEADLINE + DEADLINE_SLACK,
        "a call took {longest:?}, past its {CALL_DEADLINE:?} deadline + {DEADLINE_SLACK:?} slack"
    );
    longest
}

/// The retry budget's bound on attempts: `(1 + ratio) x calls + floor x (whole seconds spanned)`.
pub(crate) fn budget_bound(calls: usize, span: Duration) -> f64 {
    (1.0 + BUDGET_RATIO) * calls as f64 + BUDGET_FLOOR_PER_SEC * (span.as_secs_f64().ceil() + 1.0)
}

// ---------------------------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------------------------

pub(crate) fn report_path() -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("chaos-report.md")
}

/// Prints `body` and writes it as section `title` of the report (other sections kept).
pub(crate) fn report(title: &str, body: &str) {
    println!("\n## {title}\n\n{body}");
    let path = report_path();
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    let mut sections: BTreeMap<String, String> = old
        .split("\n## ")
        .skip(1)
        .filter_map(|s| s.split_once('\n').map(|(t, b)| (t.to_owned(), b.to_owned())))
        .collect();
    sections.insert(title.to_owned(), format!("\n{}\n", body.trim_end()));
    let mut out = String::from(
        "# resilient chaos report\n\nProduced by `cargo test -p resilient-tests --test chaos -- \
         --nocapture` (real time, 127.0.0.1, hyper 1.x downstream, 50 concurrent callers).\n",
    );
    for (t, b) in sections {
        out.push_str(&format!("\n## {t}\n{b}"));
    }
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Err(e) = std::fs::write(&path, out) {
        println!("(could not write {}: {e})", path.display());
    }
}
