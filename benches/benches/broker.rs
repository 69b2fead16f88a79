//! Broker message throughput: the reference broker and Mosquitto, measured in the same run by
//! the same load generator, on loopback.
//!
//! `cargo bench -p touchstone-benches --bench broker [-- <case>...]` (under 2 minutes on 2
//! cores); a case is `qos0-1to1`, `qos1-1to1`, `qos0-1to100` or `qos1-1to100`, or any part of
//! one (`qos1`, `1to100`).
//!
//! Cases: QoS 0 and QoS 1, one publisher to one subscriber and to 100 subscribers (MQTT 3.1.1,
//! 64-byte payloads, the QoS 1 publisher keeps up to 100 messages unacknowledged). A rate is
//! the deliveries counted across all subscribers divided by the time from the first PUBLISH
//! written to the last delivery read. Each case runs [`REPS`] times per broker, alternating
//! which broker goes first, and the median is reported, with the CPU time each broker used per
//! delivery and the load other processes put on the machine meanwhile.
//!
//! The reference broker runs in this process on its own tokio runtime (threads named
//! `ts-broker`, 2 workers by default); Mosquitto is a child process started with a
//! configuration written here ([`mosquitto::SETTINGS`]); the load generator is one
//! current-thread tokio runtime on the main thread, so it never takes more than one core.
//!
//! Environment: `TOUCHSTONE_BENCH_REPS` (repetitions, default 3), `TOUCHSTONE_BENCH_SCALE`
//! (multiplies every message count, default 1), `TOUCHSTONE_BROKER_THREADS` (the reference
//! broker's worker threads, default 2), `TOUCHSTONE_MOSQUITTO` (the binary; default
//! `mosquitto` on the `PATH` or in `/usr/sbin`), `TOUCHSTONE_MOSQUITTO_SETTINGS` (replaces
//! [`mosquitto::SETTINGS`], lines separated by `;`, empty for Mosquitto's defaults),
//! `TOUCHSTONE_REQUIRE_MOSQUITTO` (set: fail
//! instead of skipping Mosquitto when it is missing). Without `--bench` (as under
//! `cargo test --benches`) it runs once with 2% of the messages, as a smoke test.

#[path = "broker/cpu.rs"]
mod cpu;
#[path = "broker/loadgen.rs"]
mod loadgen;
#[path = "broker/mosquitto.rs"]
mod mosquitto;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use loadgen::{Load, Measured};
use mosquitto::Mosquitto;
use tokio::runtime::Builder;
use touchstone_broker::server::{Server, ServerConfig};
use touchstone_codec::QoS;

/// Default repetitions of each case per broker.
const REPS: usize = 3;
/// One run may take at most this long after its subscribers are ready.
const RUN_LIMIT: Duration = Duration::from_secs(45);
/// The reference broker's thread name prefix, for CPU accounting.
const BROKER_THREADS: &str = "ts-broker";

#[derive(Clone, Copy)]
struct Case {
    id: &'static str,
    title: &'static str,
    load: Load,
}

fn cases(scale: f64) -> Vec<Case> {
    let n = |base: f64| ((base * scale) as u64).max(10);
    let case = |id, title, qos, subscribers, messages| Case {
        id,
        title,
        load: Load {
            qos,
            subscribers,
            messages,
        },
    };
    vec![
        case(
            "qos0-1to1",
            "QoS 0, 1 → 1",
            QoS::AtMostOnce,
            1,
            n(1_000_000.0),
        ),
        case(
            "qos1-1to1",
            "QoS 1, 1 → 1",
            QoS::AtLeastOnce,
            1,
            n(300_000.0),
        ),
        case(
            "qos0-1to100",
            "QoS 0, 1 → 100",
            QoS::AtMostOnce,
            100,
            n(15_000.0),
        ),
        case(
            "qos1-1to100",
            "QoS 1, 1 → 100",
            QoS::AtLeastOnce,
            100,
            n(10_000.0),
        ),
    ]
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Reference,
    Mosquitto,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Reference => "reference",
            Target::Mosquitto => "mosquitto",
        }
    }
}

/// CPU readings at one instant.
struct Snap {
    at: Instant,
    broker: Option<u64>,
    loadgen: Option<u64>,
    machine: Option<u64>,
}

/// One run of one case against one broker.
struct Sample {
    m: Measured,
    /// Broker CPU seconds per second of the run (cores).
    broker_cores: Option<f64>,
    /// Broker CPU microseconds per delivery.
    broker_us: Option<f64>,
    loadgen_cores: Option<f64>,
    /// Everything else the machine did meanwhile, in cores.
    other_cores: Option<f64>,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bench = args.iter().any(|a| a == "--bench");
    let filters: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .map(String::as_str)
        .collect();
    let (reps, scale) = if bench {
        (
            env_or("TOUCHSTONE_BENCH_REPS", REPS).max(1),
            env_or("TOUCHSTONE_BENCH_SCALE", 1.0f64),
        )
    } else {
        eprintln!("(no --bench: a smoke run with 2% of the messages, once)");
        (1, 0.02)
    };
    let threads = env_or("TOUCHSTONE_BROKER_THREADS", 2usize).max(1);
    let require_mosquitto =
        std::env::var("TOUCHSTONE_REQUIRE_MOSQUITTO").is_ok_and(|v| !v.is_empty() && v != "0");
    // A filter selects the case with that id, else every case whose id contains it.
    let all = cases(scale);
    let selected = |c: &Case| {
        filters
            .iter()
            .any(|f| c.id == *f || (c.id.contains(f) && !all.iter().any(|other| other.id == *f)))
    };
    let cases: Vec<Case> = all
        .iter()
        .filter(|c| filters.is_empty() || selected(c))
        .copied()
        .collect();
    let load_before = cpu::loadavg();
    let started = Instant::now();

    // The reference broker, on its own runtime.
    let broker_rt = Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name(BROKER_THREADS)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let server = broker_rt
        .block_on(Server::start(ServerConfig::default()))
        .expect("the reference broker starts");
    let reference_addr = server.tcp_addr().expect("a TCP listener");

    let mut mosq = match mosquitto::find() {
        Some(bin) => {
            match Mosquitto::start(&bin) {
                Ok(m) => Some(m),
                Err(e) if require_mosquitto => {
                    eprintln!("error: TOUCHSTONE_REQUIRE_MOSQUITTO is set and Mosquitto did not start: {e}");
                    std::process::exit(1);
                }
                Err(e) => {
                    eprintln!("Mosquitto did not start, measuring the reference broker alone: {e}");
                    None
                }
            }
        }
        None if require_mosquitto => {
            eprintln!("error: TOUCHSTONE_REQUIRE_MOSQUITTO is set and no mosquitto binary was found (PATH, /usr/sbin, $TOUCHSTONE_MOSQUITTO)");
            std::process::exit(1);
        }
        None => {
            eprintln!("mosquitto not found (PATH, /usr/sbin, $TOUCHSTONE_MOSQUITTO): measuring the reference broker alone");
            None
        }
    };
    let mut targets = vec![(Target::Reference, reference_addr)];
    if let Some(m) = &mosq {
        targets.push((Target::Mosquitto, m.addr));
    }
    let mosquitto_pid = mosq.as_ref().map(|m| m.pid().to_string());
    let broker_cpu = |t: Target| match t {
        Target::Reference => cpu::threads_ns("self", BROKER_THREADS),
        Target::Mosquitto => cpu::threads_ns(mosquitto_pid.as_deref()?, ""),
    };

    let lg = Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let mut run_no = 0usize;
    let mut measure = |target: Target, addr: SocketAddr, load: Load| -> Sample {
        run_no += 1;
        // The same length for every broker, so are the topics.
        let tag = format!("{}-{run_no:06}", std::process::id());
        let probe = || Snap {
            at: Instant::now(),
            broker: broker_cpu(target),
            loadgen: cpu::this_thread_ns(),
            machine: cpu::machine_busy_ns(),
        };
        let (m, a, b) = lg.block_on(loadgen::run(addr, load, &tag, RUN_LIMIT, probe));
        let wall = (b.at - a.at).as_secs_f64().max(1e-9);
        let delta = |x: Option<u64>, y: Option<u64>| Some(y?.checked_sub(x?)? as f64 * 1e-9);
        let broker = delta(a.broker, b.broker);
        let loadgen = delta(a.loadgen, b.loadgen);
        let machine = delta(a.machine, b.machine);
        let other = match (machine, broker, loadgen) {
            (Some(all), Some(b), Some(l)) => Some(((all - b - l) / wall).max(0.0)),
            _ => None,
        };
        Sample {
            broker_cores: broker.map(|s| s / wall),
            broker_us: broker.map(|s| s * 1e6 / m.delivered.max(1) as f64),
            loadgen_cores: loadgen.map(|s| s / wall),
            other_cores: other,
            m,
        }
    };

    // Warm-up (not counted): connections, allocator, caches.
    for &(target, addr) in &targets {
        let load = Load {
            qos: QoS::AtLeastOnce,
            subscribers: 10,
            messages: ((2_000.0 * scale) as u64).max(10),
        };
        let s = measure(target, addr, load);
        if !s.m.complete() {
            eprintln!("warm-up against {} incomplete: {:?}", target.name(), s.m);
        }
    }

    let mut results: Vec<(usize, Target, Sample)> = Vec::new();
    for (ci, case) in cases.iter().enumerate() {
        for rep in 0..reps {
            let mut order = targets.clone();
            if rep % 2 == 1 {
                order.reverse();
            }
            for (target, addr) in order {
                let s = measure(target, addr, case.load);
                eprintln!(
                    "{:<12} run {} {:<9} {:>10.0} msg/s  {}/{} delivered in {:.2} s{}",
                    case.id,
                    rep + 1,
                    target.name(),
                    s.m.rate(),
                    s.m.delivered,
                    s.m.expected,
                    s.m.elapsed.as_secs_f64(),
                    if s.m.complete() { "" } else { "  INCOMPLETE" }
                );
                results.push((ci, target, s));
            }
        }
    }

    let mosquitto_died = mosq.as_mut().is_some_and(|m| !m.alive());
    let mosquitto_version = mosq
        .as_ref()
        .map(|m| (m.version.clone(), m.settings.clone()));
    broker_rt.block_on(server.shutdown());
    drop(broker_rt);
    drop(mosq); // stops the process

    report(&cases, &results, mosquitto_version, threads, reps);
    if mosquitto_died {
        println!("\n**Mosquitto exited during the run**: its numbers are not trustworthy.");
    }
    println!(
        "\nLoad average (1, 5, 15 min) before: {load_before}; after: {}. Total time {:.0} s.",
        cpu::loadavg(),
        started.elapsed().as_secs_f64()
    );
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// `1234567` as `1.23 M`, `45678` as `45.7 k`.
fn si(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2} M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1} k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

fn opt(x: Option<f64>, f: impl Fn(f64) -> String) -> String {
    x.map_or_else(|| "–".into(), f)
}

fn report(
    cases: &[Case],
    results: &[(usize, Target, Sample)],
    mosquitto: Option<(String, String)>,
    threads: usize,
    reps: usize,
) {
    let samples = |ci: usize, t: Target| -> Vec<&Sample> {
        results
            .iter()
            .filter(|(c, tt, _)| *c == ci && *tt == t)
            .map(|(_, _, s)| s)
            .collect()
    };
    // "412 k (398 k – 420 k)", "*" when a run was incomplete.
    let cell = |v: &[&Sample]| -> (String, Option<f64>) {
        let rates: Vec<f64> = v.iter().map(|s| s.m.rate()).collect();
        let Some(med) = median(rates.clone()) else {
            return ("–".into(), None);
        };
        let lo = rates.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = rates.iter().copied().fold(0.0, f64::max);
        let flag = if v.iter().all(|s| s.m.complete()) {
            ""
        } else {
            " *"
        };
        (
            format!("{} ({} – {}){flag}", si(med), si(lo), si(hi)),
            Some(med),
        )
    };

    println!("\n## Broker throughput (deliveries/s, median of {reps}, min – max)\n");
    println!(
        "| case | messages × subscribers | reference broker | Mosquitto | reference / Mosquitto |"
    );
    println!("|---|---:|---:|---:|---:|");
    for (ci, c) in cases.iter().enumerate() {
        let (r, rm) = cell(&samples(ci, Target::Reference));
        let (m, mm) = cell(&samples(ci, Target::Mosquitto));
        let ratio = match (rm, mm) {
            (Some(a), Some(b)) if b > 0.0 => format!("{:.2}x", a / b),
            _ => "–".into(),
        };
        println!(
            "| {} | {} × {} | {r} | {m} | {ratio} |",
            c.title, c.load.messages, c.load.subscribers
        );
    }

    println!("\n## CPU (medians over the measured interval)\n");
    println!("| case | reference: µs/delivery | reference: cores | Mosquitto: µs/delivery | Mosquitto: cores | load generator: cores (ref / mosq) | other processes: cores (ref / mosq) |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (ci, c) in cases.iter().enumerate() {
        let r = samples(ci, Target::Reference);
        let m = samples(ci, Target::Mosquitto);
        let med = |v: &[&Sample], f: fn(&Sample) -> Option<f64>| {
            median(v.iter().filter_map(|s| f(s)).collect())
        };
        let f2 = |x: f64| format!("{x:.2}");
        println!(
            "| {} | {} | {} | {} | {} | {} / {} | {} / {} |",
            c.title,
            opt(med(&r, |s| s.broker_us), f2),
            opt(med(&r, |s| s.broker_cores), f2),
            opt(med(&m, |s| s.broker_us), f2),
            opt(med(&m, |s| s.broker_cores), f2),
            opt(med(&r, |s| s.loadgen_cores), f2),
            opt(med(&m, |s| s.loadgen_cores), f2),
            opt(med(&r, |s| s.other_cores), f2),
            opt(med(&m, |s| s.other_cores), f2),
        );
    }

    let bad: Vec<String> = results
        .iter()
        .filter(|(_, _, s)| !s.m.complete())
        .map(|(ci, t, s)| {
            format!(
                "- {} / {}: {} of {} delivered, {} lost, {} out of order{}{}",
                cases[*ci].id,
                t.name(),
                s.m.delivered,
                s.m.expected,
                s.m.lost,
                s.m.out_of_order,
                if s.m.errors.is_empty() { "" } else { "; " },
                s.m.errors.join("; ")
            )
        })
        .collect();
    if bad.is_empty() {
        println!(
            "\nEvery run was complete: every subscriber received every message once, in order."
        );
    } else {
        println!("\n* Incomplete runs (rates count what was delivered):");
        for b in bad {
            println!("{b}");
        }
    }

    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "?".into());
    println!("\nEnvironment: {cpus} CPUs ({model}), loopback TCP, MQTT 3.1.1, {} B payloads, QoS 1 publisher window {}.", loadgen::PAYLOAD, loadgen::WINDOW);
    println!("Reference broker: in-process, {threads} tokio worker thread(s), `ServerConfig::default()`.");
    match mosquitto {
        Some((v, settings)) if settings.trim().is_empty() => {
            println!("Mosquitto: {v}, a child process, default settings.")
        }
        Some((v, settings)) => println!(
            "Mosquitto: {v}, a child process; settings: {}.",
            settings.trim().replace('\n', ", ")
        ),
        None => println!("Mosquitto: not measured."),
    }
    println!("Load generator: the Touchstone codec over tokio TCP (TCP_NODELAY), one thread.");
}
