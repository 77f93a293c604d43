//! The downstream: a hyper HTTP/1.1 server on 127.0.0.1 with switchable faults and counters.

use super::*;

/// What the downstream does to requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    Healthy,
    /// Every request answered 503 at once.
    Errors,
    /// Latency x10.
    Slow,
    /// Listener closed, connections cut: connection refused.
    Down,
    /// [`FLAP`] healthy, [`FLAP`] answering 503, and so on.
    Flapping,
    /// Requests 0, 1, 2 of every 5 answered 503.
    Brownout,
    /// The first request of each idempotency key takes latency x10.
    SlowFirst,
}

#[derive(Default)]
pub(crate) struct KeyRecord {
    pub(crate) requests: u32,
    pub(crate) executions: u32,
    pub(crate) running: bool,
    pub(crate) stored: Option<String>,
}

pub(crate) struct ServerState {
    pub(crate) fault: Fault,
    pub(crate) since: Instant,
    pub(crate) arrivals: Vec<Instant>,
    pub(crate) keys: HashMap<String, KeyRecord>,
}

/// A hyper HTTP/1.1 server with switchable faults and counters.
pub(crate) struct Downstream {
    pub(crate) addr: SocketAddr,
    pub(crate) latency: Duration,
    /// Honour `Idempotency-Key` as payment APIs do: replay a finished key's response, answer 409
    /// while it runs.
    pub(crate) dedup: bool,
    pub(crate) state: Mutex<ServerState>,
    pub(crate) executions: AtomicU64,
    pub(crate) listening: AtomicBool,
    pub(crate) control: watch::Sender<Fault>,
}

impl Downstream {
    pub(crate) async fn start(latency: Duration, dedup: bool) -> Arc<Self> {
        let listener = listen("127.0.0.1:0".parse().unwrap()).expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let (control, rx) = watch::channel(Fault::Healthy);
        let ds = Arc::new(Downstream {
            addr,
            latency,
            dedup,
            state: Mutex::new(ServerState {
                fault: Fault::Healthy,
                since: Instant::now(),
                arrivals: Vec::new(),
                keys: HashMap::new(),
            }),
            executions: AtomicU64::new(0),
            listening: AtomicBool::new(true),
            control,
        });
        tokio::spawn(accept_loop(Arc::clone(&ds), listener, rx));
        ds
    }

    /// Switches the fault; returns once it is in force (listener closed or open again).
    pub(crate) async fn set(&self, fault: Fault) -> Instant {
        {
            let mut s = lock(&self.state);
            s.fault = fault;
            s.since = Instant::now();
        }
        self.control.send_replace(fault);
        let want = fault != Fault::Down;
        let give_up = Instant::now() + Duration::from_secs(10);
        while self.listening.load(SeqCst) != want {
            assert!(Instant::now() < give_up, "the listener did not follow {fault:?}");
            sleep(MS).await;
        }
        Instant::now()
    }

    pub(crate) fn arrivals(&self) -> Vec<Instant> {
        lock(&self.state).arrivals.clone()
    }

    pub(crate) fn key(&self, key: &str) -> (u32, u32, Option<String>) {
        let s = lock(&self.state);
        s.keys.get(key).map_or((0, 0, None), |r| (r.requests, r.executions, r.stored.clone()))
    }
}

pub(crate) fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    // The port is bound again after an outage, while closed connections linger in TIME_WAIT.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

pub(crate) async fn accept_loop(
    ds: Arc<Downstream>,
    first: TcpListener,
    mut control: watch::Receiver<Fault>,
) {
    let mut listener = Some(first);
    loop {
        let current = match listener.take() {
            Some(l) => l,
            None => {
                // Down: wait for the fault to change, then listen on the same port again.
                if control.wait_for(|f| *f != Fault::Down).await.is_err() {
                    return;
                }
                let mut bound = listen(ds.addr);
                for _ in 0..200 {
                    if bound.is_ok() {
                        break;
                    }
                    sleep(10 * MS).await;
                    bound = listen(ds.addr);
                }
                bound.expect("listen again on the downstream's port")
            }
        };
        ds.listening.store(true, SeqCst);
        loop {
            tokio::select! {
                accepted = current.accept() => {
                    if let Ok((stream, _)) = accepted {
                        let _ = stream.set_nodelay(true);
                        tokio::spawn(connection(Arc::clone(&ds), stream, control.clone()));
                    }
                }
                changed = control.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    if *control.borrow_and_update() == Fault::Down {
                        break;
                    }
                }
            }
        }
        drop(current);
        ds.listening.store(false, SeqCst);
    }
}

pub(crate) async fn connection(
    ds: Arc<Downstream>,
    stream: TcpStream,
    mut control: watch::Receiver<Fault>,
) {
    let svc = service_fn(move |req| handle(Arc::clone(&ds), req));
    let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), svc);
    tokio::select! {
        _ = conn => {}
        // A hard outage cuts every open connection too.
        _ = control.wait_for(|f| *f == Fault::Down) => {}
    }
}

pub(crate) fn respond(
    status: StatusCode,
    body: String,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    Ok(r)
}

pub(crate) async fn handle(
    ds: Arc<Downstream>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let now = Instant::now();
    let (fault, since, n, first_of_key) = {
        let mut s = lock(&ds.state);
        s.arrivals.push(now);
        let n = s.arrivals.len() - 1;
        let record = s.keys.entry(key.clone()).or_default();
        record.requests += 1;
        let first = record.requests == 1;
        (s.fault, s.since, n, first)
    };
    let unavailable = match fault {
        Fault::Errors => true,
        Fault::Brownout => n % 5 < 3,
        Fault::Flapping => (now - since).as_millis() / FLAP.as_millis() % 2 == 1,
        _ => false,
    };
    if unavailable {
        if fault == Fault::Brownout {
            // A browned-out server answers 503 as slowly as it answers anything: fast failures
            // would outrun the successes and trip even a 90 % failure-rate breaker.
            sleep(ds.latency).await;
        }
        return respond(StatusCode::SERVICE_UNAVAILABLE, "unavailable".into());
    }
    let latency = match fault {
        Fault::Slow => ds.latency * 10,
        Fault::SlowFirst if first_of_key => ds.latency * 10,
        _ => ds.latency,
    };
    if ds.dedup {
        let mut s = lock(&ds.state);
        let record = s.keys.entry(key.clone()).or_default();
        if let Some(stored) = &record.stored {
            return respond(StatusCode::OK, stored.clone());
        }
        if record.running {
            return respond(StatusCode::CONFLICT, "in progress".into());
        }
        record.running = true;
    }
    // The work runs in a task of its own: a client that gives up (times out, disconnects) does
    // not stop it, as with a real server that completes what it started.
    let work = tokio::spawn({
        let ds = Arc::clone(&ds);
        async move {
            sleep(latency).await;
            let n = ds.executions.fetch_add(1, SeqCst);
            let receipt = format!("receipt-{n}");
            let mut s = lock(&ds.state);
            let record = s.keys.entry(key).or_default();
            record.executions += 1;
            record.running = false;
            if ds.dedup {
                record.stored = Some(receipt.clone());
            }
            receipt
        }
    });
    match work.await {
        Ok(receipt) => respond(StatusCode::OK, receipt),
        Err(_) => respond(StatusCode::INTERNAL_SERVER_ERROR, "panicked".into()),
    }
}
