//! `touchstone fuzz`: structure-aware fuzzing of a live broker; `touchstone replay`: replays
//! its findings.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use touchstone_codec::Protocol;

mod packets;
mod replay;
pub mod semantic;

pub use replay::replay;

use super::{fail, Io, Status};
use crate::fuzz::exec::ExecConfig;
use crate::fuzz::finding::{FindingFile, ShrinkLimits};
use crate::fuzz::semantic::SemanticFile;
use crate::fuzz::{self, FuzzConfig};
use crate::net::target::Target;
use crate::net::tls::TlsOptions;
use crate::net::transport::Connector;
use crate::run::embedded::Embedded;

/// Output formats of `fuzz` and `replay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FuzzFormat {
    /// Human-readable, with live progress on a terminal.
    Pretty,
    /// One JSON object (the summary) on standard output.
    Json,
}

/// Target and connection options shared by `fuzz` and `replay`.
#[derive(Debug, Clone, Args)]
pub struct Connection {
    /// The broker: mqtt://HOST[:PORT], mqtts://, ws://HOST[:PORT]/PATH, wss://. Default: the
    /// embedded reference broker.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,

    /// User name for CONNECT (default: $TOUCHSTONE_USERNAME).
    #[arg(long, value_name = "NAME")]
    pub username: Option<String>,

    /// Password for CONNECT (default: $TOUCHSTONE_PASSWORD).
    #[arg(long, value_name = "PASSWORD")]
    pub password: Option<String>,

    /// PEM file of the CAs to trust for mqtts:// and wss://.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,

    /// PEM file of a client certificate (with --key).
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,

    /// PEM file of the client certificate's private key.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,

    /// Accept any server certificate.
    #[arg(long)]
    pub insecure: bool,

    /// Seconds the broker has to react: answer a PINGREQ, or close after a violation.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    pub deadline: f64,

    /// Broker profile (TOML, as for `run`): semantic scenarios skip what its capabilities say
    /// the broker lacks (max_qos, retain, wildcards, shared_subscriptions,
    /// subscription_identifiers), as they do what a 5.0 CONNACK says it lacks.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
}

/// Arguments of `touchstone fuzz`.
#[derive(Debug, Clone, Args)]
pub struct FuzzArgs {
    /// Target and credentials.
    #[command(flatten)]
    pub conn: Connection,

    /// How long to fuzz: 30s, 2m, 1h, 500ms or a number of seconds (shrinking not counted).
    #[arg(long, value_name = "D", default_value = "60s")]
    pub duration: String,

    /// Stop after N bursts (whichever comes first with --duration).
    #[arg(long, value_name = "N")]
    pub bursts: Option<u64>,

    /// The seed: the same seed gives the same bursts (default: from the clock; printed).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,

    /// Protocol versions: 3.1.1 (also 4), 5 (also 5.0) or all (each burst picks one).
    #[arg(short, long, value_name = "VERSION", default_value = "all")]
    pub protocol: String,

    /// Directory for the findings' replay files.
    #[arg(long, value_name = "DIR", default_value = "target/fuzz-findings")]
    pub findings: PathBuf,

    /// Most executions spent shrinking one finding.
    #[arg(long, value_name = "N", default_value_t = 60)]
    pub shrink_attempts: usize,

    /// Most seconds spent shrinking one finding.
    #[arg(long, value_name = "SECONDS", default_value_t = 20.0)]
    pub shrink_time: f64,

    /// Output format.
    #[arg(long, value_enum, default_value = "pretty")]
    pub format: FuzzFormat,

    /// Replay files (or directories of them) of known findings: a finding citing the same
    /// statements is counted as known and does not fail the run (e.g. regressions/mosquitto).
    #[arg(long, value_name = "PATH")]
    pub known: Vec<PathBuf>,

    /// Only semantic fuzzing: random valid multi-client scenarios (sessions, subscriptions
    /// with wildcards, options and shared groups, QoS 0-2 with retain and properties, wills,
    /// take-overs) run against the target and the reference model in lockstep; what each
    /// client receives is compared up to what the specification leaves open
    /// (docs/semantic-fuzzing.md). --bursts then counts scenarios. Without --semantic or
    /// --packets, both run, each for half the duration.
    #[arg(long, conflicts_with = "packets")]
    pub semantic: bool,

    /// Only the packet-level fuzzing: bursts of mutated packets, judged on how the broker
    /// reacts to each (no semantic scenarios).
    #[arg(long)]
    pub packets: bool,

    /// Semantic fuzzing: scenarios run at a time, each with its own client ids and topics
    /// (1 to 256). Lower it for a broker that cannot keep up (scenarios then end with "no
    /// answer from the target"; 4 suits aedes, amqtt and RabbitMQ).
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub parallel: usize,
}

/// Reads the statement lists of the known findings under `paths`.
fn known(paths: &[PathBuf]) -> Result<Vec<Vec<String>>, String> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let entries =
                std::fs::read_dir(p).map_err(|e| format!("--known {}: {e}", p.display()))?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    files
        .iter()
        .map(|f| {
            if let Some(s) = SemanticFile::load(f).map_err(|e| format!("--known: {e}"))? {
                return Ok(s
                    .statements
                    .iter()
                    .map(|c| format!("{} {}", c.version, c.id))
                    .collect());
            }
            FindingFile::load(f)
                .map(|f| {
                    f.statements
                        .iter()
                        .map(|c| format!("{} {}", c.version, c.id))
                        .collect()
                })
                .map_err(|e| format!("--known: {e}"))
        })
        .collect()
}

/// Arguments of `touchstone replay`.
#[derive(Debug, Clone, Args)]
pub struct ReplayArgs {
    /// Target and credentials.
    #[command(flatten)]
    pub conn: Connection,

    /// Output format.
    #[arg(long, value_enum, default_value = "pretty")]
    pub format: FuzzFormat,

    /// Replay files written by `touchstone fuzz` (or kept in regressions/).
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
}

/// Parses `30s`, `2m`, `1h`, `500ms`, or a number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (num, unit) = match t.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, "s"),
    };
    let v: f64 = num.trim().parse().map_err(|_| {
        format!("--duration {s:?}: write 30s, 2m, 1h, 500ms or a number of seconds")
    })?;
    let secs = match unit {
        "ms" => v / 1000.0,
        "s" => v,
        "m" | "min" => v * 60.0,
        "h" => v * 3600.0,
        _ => {
            return Err(format!(
                "--duration {s:?}: unknown unit {unit:?} (ms, s, m, h)"
            ))
        }
    };
    if !secs.is_finite() || !(0.0..=7.0 * 86400.0).contains(&secs) {
        return Err(format!("--duration {s:?}: from 0 to 7 days"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn env_or(flag: &Option<String>, var: &str) -> Option<String> {
    flag.clone()
        .or_else(|| std::env::var(var).ok().filter(|v| !v.is_empty()))
}

fn exec_config(conn: &Connection, target: &str, seed: u64) -> Result<ExecConfig, String> {
    let target = Target::parse(target).map_err(|e| e.to_string())?;
    let tls = TlsOptions {
        ca_file: conn.ca_file.clone(),
        cert: conn.cert.clone(),
        key: conn.key.clone(),
        insecure: conn.insecure,
    };
    let connector = Connector::new(target, &tls).map_err(|e| e.to_string())?;
    if !(conn.deadline.is_finite() && (0.1..=60.0).contains(&conn.deadline)) {
        return Err(format!(
            "--deadline {}: give 0.1 to 60 seconds",
            conn.deadline
        ));
    }
    let username = env_or(&conn.username, "TOUCHSTONE_USERNAME");
    let password = env_or(&conn.password, "TOUCHSTONE_PASSWORD");
    if password.is_some() && username.is_none() {
        return Err(
            "a password needs a user name (3.1.1 cannot send one alone): give --username too"
                .into(),
        );
    }
    Ok(ExecConfig {
        connector,
        deadline: Duration::from_secs_f64(conn.deadline),
        username,
        password: password.map(String::into_bytes),
        prefix: fuzz::prefix(seed),
    })
}

fn protocols(s: &str) -> Result<Vec<Protocol>, String> {
    super::run::parse_protocols(s)
}

fn runtime(io: &mut Io<'_>) -> Result<tokio::runtime::Runtime, Status> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| fail(io, format_args!("cannot start the async runtime: {e}")))
}

/// Runs `touchstone fuzz`.
pub fn run(args: &FuzzArgs, io: &mut Io<'_>) -> Status {
    let duration = match parse_duration(&args.duration) {
        Ok(d) => d,
        Err(e) => return fail(io, format_args!("{e}")),
    };
    let protocols = match protocols(&args.protocol) {
        Ok(p) => p,
        Err(e) => return fail(io, format_args!("{e}")),
    };
    if !(1..=256).contains(&args.parallel) {
        return fail(
            io,
            format_args!("--parallel {}: give 1 to 256", args.parallel),
        );
    }
    if !(args.shrink_time.is_finite() && (0.0..=3600.0).contains(&args.shrink_time)) {
        return fail(io, format_args!("--shrink-time: 0 to 3600 seconds"));
    }
    let known = match known(&args.known) {
        Ok(k) => k,
        Err(e) => return fail(io, format_args!("{e}")),
    };
    let limits = match semantic::limits(args.conn.profile.as_deref()) {
        Ok(l) => l,
        Err(e) => return fail(io, format_args!("{e}")),
    };
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            % 1_000_000_000
    });
    if let Some(t) = &args.conn.target {
        if let Err(e) = exec_config(&args.conn, t, seed) {
            return fail(io, format_args!("{e}"));
        }
    }
    let rt = match runtime(io) {
        Ok(r) => r,
        Err(s) => return s,
    };
    let (target, embedded) = match &args.conn.target {
        Some(t) => (t.clone(), None),
        None => match rt.block_on(Embedded::start()) {
            Ok(e) => (e.target(), Some(e)),
            Err(e) => return fail(io, format_args!("{e}")),
        },
    };
    let status = fuzz_against(
        args,
        io,
        &rt,
        (&target, embedded.is_some()),
        seed,
        duration,
        protocols,
        known,
        limits,
    );
    if let Some(e) = embedded {
        rt.block_on(e.shutdown());
    }
    status
}

#[allow(clippy::too_many_arguments)]
fn fuzz_against(
    args: &FuzzArgs,
    io: &mut Io<'_>,
    rt: &tokio::runtime::Runtime,
    (target, embedded): (&str, bool),
    seed: u64,
    duration: Duration,
    protocols: Vec<Protocol>,
    known: Vec<Vec<String>>,
    limits: [semantic::Caps; 2],
) -> Status {
    let exec = match exec_config(&args.conn, target, seed) {
        Ok(e) => e,
        Err(e) => return fail(io, format_args!("{e}")),
    };
    let label = if embedded {
        format!("embedded reference broker ({target})")
    } else {
        exec.connector.target().to_string()
    };
    let cfg = FuzzConfig {
        exec,
        protocols,
        seed,
        duration,
        max_bursts: args.bursts,
        findings_dir: args.findings.clone(),
        shrink: ShrinkLimits {
            attempts: args.shrink_attempts,
            time: Duration::from_secs_f64(args.shrink_time),
        },
        target_label: label.clone(),
        known,
    };
    if let Err(e) = rt.block_on(fuzz::preflight(&cfg)) {
        // The target could not be tested: exit 3, as `run` does.
        fail(io, format_args!("{e}"));
        return Status::Unavailable;
    }
    let rerun = packets::rerun_line(args, (target, embedded), seed, cfg.exec.password.is_some());
    // Semantic scenarios first, on a broker no malformed packet has touched yet.
    let (semantic_time, packet_time) = match (args.semantic, args.packets) {
        (true, _) => (Some(duration), None),
        (_, true) => (None, Some(duration)),
        _ => (Some(duration / 2), Some(duration - duration / 2)),
    };
    let mut parts = Vec::new();
    if let Some(d) = semantic_time {
        parts.push((
            "semantic",
            semantic::fuzz(
                args,
                rt,
                cfg.exec.clone(),
                limits,
                &label,
                seed,
                d,
                cfg.protocols.clone(),
                cfg.known.clone(),
                &rerun,
            ),
        ));
    }
    if let Some(d) = packet_time {
        let cfg = FuzzConfig { duration: d, ..cfg };
        parts.push(("packets", packets::packets(args, rt, &cfg, &label, &rerun)));
    }
    let text = match args.format {
        FuzzFormat::Pretty if parts.len() > 1 => parts
            .iter()
            .map(|(name, p)| format!("{name}: {}", p.text))
            .collect(),
        FuzzFormat::Pretty => parts.iter().map(|(_, p)| p.text.clone()).collect(),
        FuzzFormat::Json if parts.len() > 1 => {
            let mut v = serde_json::json!({"target": label, "mode": "both", "seed": seed});
            for (name, p) in &parts {
                v[*name] = p.json.clone();
            }
            format!("{v}\n")
        }
        FuzzFormat::Json => parts.iter().map(|(_, p)| format!("{}\n", p.json)).collect(),
    };
    if let Err(e) = io.stdout.write_all(text.as_bytes()) {
        return super::output_error(io, &e, Status::Failure);
    }
    // Findings of either kind first; then a target neither could use.
    let statuses: Vec<Status> = parts.iter().map(|(_, p)| p.status).collect();
    if statuses.contains(&Status::Invalid) {
        Status::Invalid
    } else if statuses.contains(&Status::Unavailable) {
        Status::Unavailable
    } else {
        Status::Success
    }
}

/// What one kind of fuzzing gave: its exit status, its pretty summary and its JSON summary.
pub struct Part {
    /// The exit status it calls for.
    pub status: Status,
    /// For people.
    pub text: String,
    /// For `--format json`.
    pub json: serde_json::Value,
}

/// A summary as JSON, with the target, the mode and its rates.
pub fn summary_json(
    summary: &impl serde::Serialize,
    label: &str,
    mode: &str,
    rates: &[(&str, f64)],
) -> serde_json::Value {
    let mut json = serde_json::to_value(summary).unwrap_or_default();
    if let Some(o) = json.as_object_mut() {
        o.insert("target".into(), label.into());
        o.insert("mode".into(), mode.into());
        for (name, rate) in rates {
            o.insert((*name).into(), (*rate).into());
        }
    }
    json
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("3 fortnights").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("").is_err());
    }
}
