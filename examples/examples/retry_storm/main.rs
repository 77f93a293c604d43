//! A retry storm, reproduced with `resilient`'s own backoff schedules: Marc Brooker's experiment
//! from "Exponential Backoff And Jitter" (AWS Architecture Blog, 2015).
//!
//! N clients all try, at the same moment, to make one write each to the same row, guarded by
//! optimistic concurrency: a write only succeeds if nobody else wrote since the client read the
//! row. A client whose write conflicts backs off according to its strategy and tries again. We
//! count the writes all clients make together (the work) and the time until the last one is
//! through (the completion time), for six strategies and N from 10 to 200. The model is spelled
//! out in [`sim`]; it runs in virtual time (a discrete-event simulation), so it is fast and
//! exactly reproducible.
//!
//! Run it with
//!
//! ```text
//! cargo run --release -p resilient-examples --example retry_storm [-- --out DIR --runs K]
//! ```
//!
//! It prints two Markdown tables and writes `retry-storm-calls.svg` and `retry-storm-time.svg`
//! to `DIR` (default: the workspace's `docs/`). Each number is the mean over `K` seeded runs
//! (default 100, like Brooker).

mod sim;
mod svg;

use std::path::PathBuf;
use std::time::Instant;

use sim::Outcome;
use svg::{Chart, Scale, Series};

/// Client counts simulated.
const CLIENTS: [usize; 7] = [10, 20, 50, 75, 100, 150, 200];

/// Command-line options.
struct Options {
    out: PathBuf,
    runs: u64,
}

fn options() -> Result<Options, String> {
    let mut opts =
        Options { out: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs")), runs: 100 };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => opts.out = args.next().ok_or("--out needs a directory")?.into(),
            "--runs" => {
                opts.runs = args
                    .next()
                    .and_then(|k| k.parse().ok())
                    .filter(|k| *k > 0)
                    .ok_or("--runs needs a positive number")?;
            }
            "-h" | "--help" => {
                println!("usage: retry_storm [--out DIR] [--runs K]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(opts)
}

/// A Markdown table: one row per N, one column per strategy.
fn table(names: &[&str], results: &[Vec<Outcome>], cell: impl Fn(&Outcome) -> String) -> String {
    let mut s = format!("| N | {} |\n|---:|{}\n", names.join(" | "), "---:|".repeat(names.len()));
    for (i, n) in CLIENTS.iter().enumerate() {
        let cells: Vec<String> = results.iter().map(|r| cell(&r[i])).collect();
        s += &format!("| {n} | {} |\n", cells.join(" | "));
    }
    s
}

fn main() {
    let opts = options().unwrap_or_else(|e| {
        eprintln!("retry_storm: {e}");
        std::process::exit(2);
    });
    let started = Instant::now();
    let strategies = sim::strategies();
    // results[strategy][n]; the strategies run on two threads (the work is uneven).
    let results: Vec<Vec<Outcome>> = std::thread::scope(|scope| {
        let (odd, even): (Vec<_>, Vec<_>) =
            strategies.iter().enumerate().partition(|(i, _)| i % 2 == 1);
        let work = |part: Vec<(usize, &sim::Strategy)>| {
            part.into_iter()
                .map(|(i, s)| {
                    (
                        i,
                        CLIENTS
                            .iter()
                            .map(|&n| sim::mean(n, s.schedule, opts.runs))
                            .collect::<Vec<_>>(),
                    )
                })
                .collect::<Vec<_>>()
        };
        let other = scope.spawn(move || work(odd));
        let mut all = work(even);
        all.extend(other.join().expect("simulation thread"));
        all.sort_by_key(|(i, _)| *i);
        all.into_iter().map(|(_, r)| r).collect()
    });
    let names: Vec<&str> = strategies.iter().map(|s| s.name).collect();

    println!(
        "Retry storm: N clients, one optimistic-concurrency row, network delay |N(10 ms, 2 ms)|,\n\
         backoff base {:?}, cap {:?}; mean of {} seeded runs per cell.\n",
        sim::BASE,
        sim::CAP,
        opts.runs
    );
    println!("Calls (write attempts, all clients together):\n");
    println!("{}", table(&names, &results, |o| format!("{:.0}", o.calls)));
    println!("Completion time (ms until the last client succeeds):\n");
    println!("{}", table(&names, &results, |o| format!("{:.0}", o.completion_ms)));

    let series = |metric: fn(&Outcome) -> f64| -> Vec<Series<'_>> {
        strategies
            .iter()
            .zip(&results)
            .map(|(s, r)| Series {
                name: s.name,
                points: CLIENTS.iter().zip(r).map(|(&n, o)| (n as f64, metric(o))).collect(),
            })
            .collect()
    };
    let subtitle = format!(
        "Brooker's OCC experiment with resilient's backoff schedules (base 5 ms, cap 2 s); mean of {} runs",
        opts.runs
    );
    let charts = [
        (
            "retry-storm-calls.svg",
            Chart {
                title: "Work: write calls until every client has written once",
                subtitle: &subtitle,
                x_label: "contending clients (N)",
                y_label: "write calls, all clients together",
                y_scale: Scale::Linear,
            },
            series(|o| o.calls),
        ),
        (
            "retry-storm-time.svg",
            Chart {
                title: "Completion time: until the last client has written",
                subtitle: &subtitle,
                x_label: "contending clients (N)",
                y_label: "time until all clients succeed (ms, log scale)",
                y_scale: Scale::Log,
            },
            series(|o| o.completion_ms),
        ),
    ];
    if let Err(e) = std::fs::create_dir_all(&opts.out) {
        eprintln!("retry_storm: cannot create {}: {e}", opts.out.display());
        std::process::exit(1);
    }
    let out = std::fs::canonicalize(&opts.out).unwrap_or(opts.out);
    for (file, chart, series) in &charts {
        let path = out.join(file);
        match std::fs::write(&path, svg::render(chart, series)) {
            Ok(()) => println!("wrote {}", path.display()),
            Err(e) => {
                eprintln!("retry_storm: cannot write {}: {e}", path.display());
                std::process::exit(1);
            }
        }
    }
    println!("({:.1} s)", started.elapsed().as_secs_f64());
}
