//! Two downstream servers, one dead: with policies per host (`per = self.addr`), calls to the
//! healthy one are never rejected while the dead one is shed. The same load through one breaker
//! for both servers (mini-redis's client before `per`) turns healthy calls away.

use super::*;

/// A connection to one server, as a client of many hosts holds them.
struct Host {
    addr: SocketAddr,
    client: Arc<Client>,
}

impl Host {
    /// Policies per server address: one dead server cannot open another's breaker.
    #[retry(max = 2, base = "20ms", when = is_transient, per = self.addr, name = "chaos-per-host")]
    #[circuit_breaker(threshold = 5, window = "2s", cooldown = "500ms", probes = 2, per = self.addr, name = "chaos-per-host")]
    #[timeout("p99*2", initial = "300ms", min = "100ms", max = "300ms", warmup = 50, per = self.addr, name = "chaos-per-host")]
    async fn get(&self, key: &str) -> Result<String, ChaosError> {
        self.client.post(key).await
    }

    /// The same without `per`: one breaker for every server.
    #[retry(max = 2, base = "20ms", when = is_transient, name = "chaos-one-for-all")]
    #[circuit_breaker(
        threshold = 5,
        window = "2s",
        cooldown = "500ms",
        probes = 2,
        name = "chaos-one-for-all"
    )]
    #[timeout(
        "p99*2",
        initial = "300ms",
        min = "100ms",
        max = "300ms",
        warmup = 50,
        name = "chaos-one-for-all"
    )]
    async fn get_one_for_all(&self, key: &str) -> Result<String, ChaosError> {
        self.client.post(key).await
    }
}

type HostCall<'a> = Pin<Box<dyn Future<Output = Result<String, ChaosError>> + Send + 'a>>;
type Get = for<'a> fn(&'a Host, &'a str) -> HostCall<'a>;

fn per_host<'a>(h: &'a Host, key: &'a str) -> HostCall<'a> {
    Box::pin(h.get(key))
}

fn one_for_all<'a>(h: &'a Host, key: &'a str) -> HostCall<'a> {
    Box::pin(h.get_one_for_all(key))
}

#[derive(Default)]
struct Tally {
    ok: usize,
    open: usize,
    timeout: usize,
    failed: usize,
    first_open: Option<Instant>,
}

impl Tally {
    fn add(&mut self, r: &Result<String, ChaosError>) {
        match r {
            Ok(_) => self.ok += 1,
            Err(ChaosError::Rejected(e)) if e.is_circuit_open() => {
                self.open += 1;
                self.first_open.get_or_insert_with(Instant::now);
            }
            Err(ChaosError::Rejected(e)) if e.is_timeout() => self.timeout += 1,
            Err(_) => self.failed += 1,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_host_is_shed_and_the_healthy_one_never_rejected() {
    let _serial = SERIAL.lock().await;
    tokio::time::timeout(HANG_GUARD, scenario()).await.expect("the scenario hung");
}

/// [`TASKS`] tasks alternating between the two hosts through `get` for `run`.
async fn load(hosts: &Arc<[Host; 2]>, get: Get, run: Duration) -> [Tally; 2] {
    let tallies = Arc::new(Mutex::new([Tally::default(), Tally::default()]));
    let began = Instant::now();
    let tasks: Vec<JoinHandle<()>> = (0..TASKS)
        .map(|task| {
            let (hosts, tallies) = (Arc::clone(hosts), Arc::clone(&tallies));
            tokio::spawn(async move {
                let mut n = 0usize;
                while began.elapsed() < run {
                    let which = (task + n) % 2;
                    n += 1;
                    let key = format!("per-{task}-{n}");
                    let deadline = Instant::now() + CALL_DEADLINE;
                    let r = resilient::deadline::scope(deadline, get(&hosts[which], &key)).await;
                    lock(&tallies)[which].add(&r);
                    sleep(THINK).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("a caller panicked");
    }
    std::mem::take(&mut *lock(&tallies))
}

async fn scenario() {
    const RUN: Duration = Duration::from_secs(4);
    let healthy = Downstream::start(20 * MS, false).await;
    let dead = Downstream::start(20 * MS, false).await;
    dead.set(Fault::Down).await;
    let hosts = Arc::new([
        Host { addr: healthy.addr, client: Client::new(healthy.addr) },
        Host { addr: dead.addr, client: Client::new(dead.addr) },
    ]);

    // One breaker for both: the dead server's failures open it for the healthy one too.
    let [shared, _] = load(&hosts, one_for_all, Duration::from_secs(2)).await;
    println!("one breaker for both hosts: healthy host {} ok, {} rejected", shared.ok, shared.open);
    assert!(shared.open > 0, "the shared breaker never turned a healthy call away");

    let began = Instant::now();
    let requests_before = healthy.arrivals().len();
    let [up, down] = load(&hosts, per_host, RUN).await;
    let refused: Vec<Instant> =
        hosts[1].client.refused().into_iter().filter(|t| *t >= began).collect();
    let requests = healthy.arrivals().len() - requests_before;
    println!(
        "per host, {TASKS} tasks for {RUN:?}: healthy host {} ok, {} rejected, {} timed out, \
         {} failed ({requests} requests); dead host {} shed, {} failed, {} timed out \
         ({} refused connects)",
        up.ok,
        up.open,
        up.timeout,
        up.failed,
        down.open,
        down.failed,
        down.timeout,
        refused.len()
    );

    // The healthy server's breaker is its own: never open, whatever the other server does.
    assert_eq!(up.open, 0, "calls to the healthy server were rejected");
    let tried = up.ok + up.timeout + up.failed;
    assert!(up.ok > 0 && up.ok >= 9 * tried / 10, "healthy calls failed: {} of {tried} ok", up.ok);

    // The dead server is shed: once its breaker opened (plus a grace for calls already let
    // through), it sees at most the probes of each cooldown.
    let opened = down.first_open.expect("the dead server's breaker never opened");
    assert!(down.open > down.failed, "not shed: {} shed, {} tried", down.open, down.failed);
    let from = opened + GRACE;
    let end = Instant::now();
    let window = end.saturating_duration_since(from);
    let cycles = (window.as_secs_f64() / COOLDOWN.as_secs_f64()).ceil() as usize;
    let bound = PROBES * (cycles + 1);
    let probes = count_in(&refused, from, end);
    assert!(
        probes <= bound,
        "{probes} connects to the dead server in the {window:?} after its breaker opened, \
         more than {bound}"
    );

    // The registry lists each policy once, with both partitions.
    let snap = resilient::registry::snapshot();
    for kind in ["retry", "circuit_breaker", "timeout"] {
        let p = snap.partitions("chaos-per-host", kind).expect("listed once");
        assert_eq!(p.live, 2, "{kind}: one partition per server");
    }
}
