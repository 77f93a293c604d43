//! A hard outage behind the recommended stack with `#[fallback]` outermost: callers get the last
//! known answer instead of errors, while the breaker below still sheds the dead server (the
//! fallback answers its rejections; it hides nothing from it), and fresh answers come back
//! after recovery.

use super::*;

const STALE: &str = "stale";

fn last_known(_e: ChaosError) -> Result<String, ChaosError> {
    Ok(STALE.to_owned())
}

#[resilient::fallback(last_known, name = "chaos-fallback")]
#[retry(max = 3, base = "20ms", when = is_transient, name = "chaos-fallback")]
#[circuit_breaker(
    threshold = 5,
    window = "2s",
    cooldown = "500ms",
    probes = 2,
    name = "chaos-fallback"
)]
#[timeout("300ms", name = "chaos-fallback")]
async fn get(client: &Client, key: &str) -> Result<String, ChaosError> {
    client.post(key).await
}

/// One call: when it started and ended, and what it got.
struct Answer {
    start: Instant,
    end: Instant,
    result: Result<String, ChaosError>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_is_answered_by_the_fallback_and_still_shed() {
    let _serial = SERIAL.lock().await;
    tokio::time::timeout(HANG_GUARD, scenario()).await.expect("the scenario hung");
}

async fn scenario() {
    const UP: Duration = Duration::from_secs(1);
    const OUTAGE: Duration = Duration::from_secs(3);
    const AFTER: Duration = Duration::from_secs(2);
    let ds = Downstream::start(20 * MS, false).await;
    let client = Client::new(ds.addr);
    let began = Instant::now();
    let stop = began + UP + OUTAGE + AFTER;
    let answers = Arc::new(Mutex::new(Vec::new()));
    let tasks: Vec<JoinHandle<()>> = (0..TASKS)
        .map(|task| {
            let (client, answers) = (Arc::clone(&client), Arc::clone(&answers));
            tokio::spawn(async move {
                let mut n = 0usize;
                while Instant::now() < stop {
                    n += 1;
                    let key = format!("fallback-{task}-{n}");
                    let start = Instant::now();
                    let result =
                        resilient::deadline::scope(start + CALL_DEADLINE, get(&client, &key)).await;
                    lock(&answers).push(Answer { start, end: Instant::now(), result });
                    sleep(THINK).await;
                }
            })
        })
        .collect();
    sleep(UP).await;
    let down = ds.set(Fault::Down).await;
    sleep(OUTAGE).await;
    let up = ds.set(Fault::Healthy).await;
    for t in tasks {
        t.await.expect("a caller panicked");
    }
    let answers = std::mem::take(&mut *lock(&answers));

    // No caller saw an error: every failure, rejection and timeout was answered.
    let errors: Vec<_> = answers.iter().filter_map(|a| a.result.as_ref().err()).collect();
    assert!(errors.is_empty(), "{} errors reached callers: {:?}", errors.len(), &errors[..1]);
    let stale = |a: &&Answer| matches!(a.result.as_deref(), Ok(STALE));
    let in_outage: Vec<&Answer> =
        answers.iter().filter(|a| a.start >= down + GRACE && a.end < up).collect();
    assert!(!in_outage.is_empty() && in_outage.iter().all(stale), "the outage was not answered");
    let slowest = answers.iter().map(|a| a.end - a.start).max().unwrap_or_default();
    assert!(slowest <= CALL_DEADLINE + DEADLINE_SLACK, "a call took {slowest:?}");

    // The breaker below the fallback still opened and shed the dead server.
    let connects: Vec<Instant> = client.refused().into_iter().filter(|t| *t < up).collect();
    let window = up.saturating_duration_since(down + GRACE);
    let cycles = (window.as_secs_f64() / COOLDOWN.as_secs_f64()).ceil() as usize;
    let bound = PROBES * (cycles + 1);
    let probes = count_in(&connects, down + GRACE, up);
    assert!(
        probes <= bound,
        "{probes} connects to the dead server in {window:?}, more than {bound}"
    );

    // Fresh answers again after recovery.
    let fresh = answers.iter().filter(|a| a.start >= up && !stale(a)).map(|a| a.end).min();
    let recovered = fresh.expect("no fresh answer after recovery") - up;
    assert!(
        recovered <= COOLDOWN + TIMEOUT_MAX + RECOVERY_SLACK,
        "fresh answers came back {recovered:?} after recovery"
    );

    let used = resilient::registry::snapshot().fallback("chaos-fallback").expect("listed").used;
    let stale_count = answers.iter().filter(|a| stale(a)).count();
    assert_eq!(used as usize, stale_count, "every stale answer is counted");
    report(
        "Outage answered by a fallback",
        &format!(
            "{TASKS} tasks, {} calls: {UP:?} up, {OUTAGE:?} hard outage, {AFTER:?} recovered; \
             fallback `#[fallback] > #[retry] > #[circuit_breaker] > #[timeout]`.\n\n\
             - errors reaching callers: 0; answered by the fallback: {stale_count} (all {} \
             calls started in the outage after a {GRACE:?} grace)\n\
             - connects to the dead server after the breaker opened (+{GRACE:?} grace): {probes} \
             (bound {bound})\n\
             - slowest call: {slowest:?}; first fresh answer {recovered:?} after recovery",
            answers.len(),
            in_outage.len(),
        ),
    );
}
