//! `touchstone run`: runs the conformance cases against a target. This module holds the
//! arguments and turns them into a run's configuration; [`exec`] runs it and writes the report.

mod exec;

pub use exec::run;

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use clap::{Args, ValueEnum};
use touchstone_codec::Protocol;

use crate::cases;
use crate::harness::context::{Credentials, Timing};
use crate::net::target::Target;
use crate::net::tls::TlsOptions;
use crate::net::transport::Connector;
use crate::report::{shell_quote, Rerun};
use crate::run::embedded;
use crate::run::profile::Profile;
use crate::run::runner::{self, RunConfig};

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RunFormat {
    /// Human-readable, with live progress.
    Pretty,
    /// The full record as JSON.
    Json,
    /// JUnit XML for CI.
    Junit,
    /// Markdown.
    Markdown,
}

impl RunFormat {
    /// The format's name, as `--format` takes it.
    pub fn name(self) -> &'static str {
        match self {
            RunFormat::Pretty => "pretty",
            RunFormat::Json => "JSON",
            RunFormat::Junit => "JUnit",
            RunFormat::Markdown => "Markdown",
        }
    }
}

/// Makes the folder of `path` and checks that the file can be written.
pub fn prepare_output(path: &std::path::Path) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map(drop)
}

/// Arguments of `touchstone run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The broker: mqtt://HOST[:PORT] (1883; tcp:// is the same), mqtts:// (8883),
    /// ws://HOST[:PORT]/PATH (80), wss:// (443). Default: the embedded reference broker.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,

    /// Protocol versions to run: 3.1.1 (also 4, its protocol level), 5 (also 5.0) or all.
    #[arg(short, long, value_name = "VERSION", default_value = "all")]
    pub protocol: String,

    /// Run only the cases whose id contains PATTERN, or matches it as a glob (`retain.*`);
    /// repeatable.
    #[arg(long, value_name = "PATTERN")]
    pub filter: Vec<String>,

    /// --filter patterns are exact case ids.
    #[arg(long)]
    pub exact: bool,

    /// Broker profile (TOML): capabilities, timer slack, known deviations.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,

    /// Report format.
    #[arg(long, value_enum, default_value = "pretty")]
    pub format: RunFormat,

    /// Write the report to FILE (the pretty view still goes to the terminal).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also write the JSON report to FILE (any number of formats from one run).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Also write JUnit XML to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Also write the Markdown report to FILE.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,

    /// How many cases run at once.
    #[arg(short, long, value_name = "N", default_value_t = 16)]
    pub jobs: usize,

    /// User name for CONNECT (default: $TOUCHSTONE_USERNAME).
    #[arg(long, value_name = "NAME")]
    pub username: Option<String>,

    /// Password for CONNECT (default: $TOUCHSTONE_PASSWORD).
    #[arg(long, value_name = "PASSWORD")]
    pub password: Option<String>,

    /// A listener of the same broker that requires the user name and password: enables the
    /// authentication cases.
    #[arg(long, value_name = "URL")]
    pub auth_target: Option<String>,

    /// A WebSocket listener of the same broker (ws://HOST:PORT/PATH): enables the WebSocket
    /// cases (a ws:// or wss:// --target does too).
    #[arg(long, value_name = "URL")]
    pub ws_target: Option<String>,

    /// PEM file of the CAs to trust for mqtts:// and wss:// (default: the public web roots).
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,

    /// PEM file of a client certificate (with --key).
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,

    /// PEM file of the client certificate's private key (with --cert).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,

    /// Accept any server certificate (test brokers with self-signed certificates).
    #[arg(long)]
    pub insecure: bool,

    /// Extra seconds allowed on the server's timers (keep alive, session expiry, will delay)
    /// before a server that has not acted fails (default 10; overrides the profile).
    #[arg(long, value_name = "SECONDS")]
    pub timer_slack: Option<f64>,

    /// The broker's name in the report (default: the profile's `name`, else the target URL;
    /// for the embedded reference broker, "Touchstone reference broker").
    #[arg(long, value_name = "NAME")]
    pub broker_name: Option<String>,

    /// The broker's version in the report (default: unknown; for the embedded reference
    /// broker, Touchstone's version).
    #[arg(long, value_name = "VERSION")]
    pub broker_version: Option<String>,

    /// The most one case may take, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub case_timeout: f64,

    /// Fail the run (exit 1) when a case falls short of a SHOULD (outcome should-fail) too;
    /// without it such cases are shown apart and the run passes.
    #[arg(long)]
    pub strict: bool,

    /// Run the catalogue N times, one after the other, and report each case whose verdict
    /// changed as FLAKY (a race in the broker, or a case that depends on timing).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub repeat: u32,

    /// Print the plan and stop: what each selected case would do (run, skip and why, expected
    /// failure, timer slack), decided after the preflight and the discovery of capabilities;
    /// no case runs. With --format json, one JSON object.
    #[arg(long, conflicts_with_all = ["repeat", "output", "json", "junit", "markdown"])]
    pub plan: bool,

    /// Print no progress and no line per case: the header, what did not pass, the verdict.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Also print the observations of passing cases (the MAY / SHOULD choices seen).
    #[arg(short, long)]
    pub verbose: bool,

    /// Set when the target is the embedded reference broker (reruns then omit `--target`).
    #[arg(skip)]
    pub embedded: bool,
}

/// The target to run against: `--target`, or what to do without one. The one place that
/// decides the default target.
pub fn default_target(args: &RunArgs) -> Result<Target, String> {
    match &args.target {
        Some(url) => Target::parse(url).map_err(|e| e.to_string()),
        None => Err("a target is needed: touchstone run --target mqtt://HOST:PORT (or mqtts://, ws://, wss://), \
             or no --target at all for the embedded reference broker"
            .to_string()),
    }
}

/// The versions `--protocol` names.
pub fn parse_protocols(s: &str) -> Result<Vec<Protocol>, String> {
    match s.trim() {
        "all" => Ok(vec![Protocol::V3_1_1, Protocol::V5]),
        other => match other.parse::<Protocol>() {
            Ok(p @ (Protocol::V3_1_1 | Protocol::V5)) => Ok(vec![p]),
            Ok(Protocol::V3_1) => {
                Err("--protocol 3.1 has no cases yet: use 3.1.1, 5 or all".into())
            }
            Err(e) => Err(format!("--protocol: {e}; use 3.1.1, 5 or all")),
        },
    }
}

fn seconds(flag: &str, v: f64, max: f64) -> Result<Duration, String> {
    if v.is_finite() && (0.0..=max).contains(&v) {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(format!(
            "{flag} {v}: give a number of seconds from 0 to {max}"
        ))
    }
}

fn env_or(flag: &Option<String>, var: &str) -> Option<String> {
    flag.clone()
        .or_else(|| std::env::var(var).ok().filter(|v| !v.is_empty()))
}

/// Everything checked before the run: a configuration, or a usage error.
pub fn config(args: &RunArgs) -> Result<(RunConfig, Rerun), String> {
    let target = default_target(args)?;
    let protocols = parse_protocols(&args.protocol)?;
    if args.jobs == 0 {
        return Err("--jobs must be at least 1".into());
    }
    if !(1..=1000).contains(&args.repeat) {
        return Err(format!("--repeat {}: give 1 to 1000", args.repeat));
    }
    let catalogue = cases::catalogue();
    let mut profile = match &args.profile {
        Some(path) => Profile::load(path, &catalogue).map_err(|e| e.to_string())?,
        None => Profile::default(),
    };
    if let Some(ws) = &args.ws_target {
        let t = Target::parse(ws).map_err(|e| format!("--ws-target: {e}"))?;
        if !t.scheme.is_websocket() {
            return Err(format!(
                "--ws-target must be a ws:// or wss:// URL, not {t}"
            ));
        }
        profile.capabilities.websocket = Some(t.to_string());
    } else if target.scheme.is_websocket() {
        profile.capabilities.websocket = Some(target.to_string());
    }
    if args.embedded && profile.capabilities.auth_method.is_none() {
        // The embedded authentication broker does SCRAM-SHA-256 for its user.
        profile.capabilities.auth_method = Some(embedded::SCRAM_METHOD.to_string());
    }
    let tls = TlsOptions {
        ca_file: args.ca_file.clone(),
        cert: args.cert.clone(),
        key: args.key.clone(),
        insecure: args.insecure,
    };
    let connector = Connector::new(target.clone(), &tls).map_err(|e| e.to_string())?;
    let auth_connector = match &args.auth_target {
        Some(url) => {
            let t = Target::parse(url).map_err(|e| format!("--auth-target: {e}"))?;
            let tls_for_auth = if t.scheme.is_tls() {
                tls.clone()
            } else {
                TlsOptions::default()
            };
            Some(Connector::new(t, &tls_for_auth).map_err(|e| format!("--auth-target: {e}"))?)
        }
        None => None,
    };
    let username = env_or(&args.username, "TOUCHSTONE_USERNAME");
    let password = env_or(&args.password, "TOUCHSTONE_PASSWORD");
    if password.is_some() && username.is_none() && protocols.contains(&Protocol::V3_1_1) {
        return Err(
            "a password without a user name cannot be sent in MQTT 3.1.1: give --username (or TOUCHSTONE_USERNAME) too"
                .into(),
        );
    }
    // Reruns never carry the credentials: they name the variables to set.
    let vars: Vec<&str> = [
        ("TOUCHSTONE_USERNAME", username.is_some()),
        ("TOUCHSTONE_PASSWORD", password.is_some()),
    ]
    .into_iter()
    .filter_map(|(v, given)| given.then_some(v))
    .collect();
    let needs =
        (!args.embedded && !vars.is_empty()).then(|| format!("with {} set", vars.join(" and ")));
    if auth_connector.is_some() && username.is_none() {
        return Err("--auth-target needs --username and --password (or TOUCHSTONE_USERNAME / TOUCHSTONE_PASSWORD)".into());
    }
    let mut timing = Timing::default();
    if let Some(s) = profile.timer_slack {
        timing.timer_slack = s;
    }
    if let Some(s) = args.timer_slack {
        timing.timer_slack = seconds("--timer-slack", s, 60.0)?;
    }
    if let Some(q) = profile.quiet_period {
        timing.quiet = q;
    }
    if let Some(e) = profile.expect_timeout {
        timing.expect = e;
    }
    let case_deadline = seconds("--case-timeout", args.case_timeout, 3600.0)?;
    if case_deadline < Duration::from_secs(1) {
        return Err("--case-timeout must be at least 1 second".into());
    }

    let mut base = if args.embedded {
        "touchstone run".to_string()
    } else {
        format!(
            "touchstone run --target {}",
            shell_quote(&target.to_string())
        )
    };
    if let Some(p) = &args.profile {
        base += &format!(" --profile {}", shell_quote(&p.display().to_string()));
    }
    if let Some(a) = args.auth_target.as_ref().filter(|_| !args.embedded) {
        base += &format!(" --auth-target {}", shell_quote(a));
    }
    if let Some(w) = args.ws_target.as_ref().filter(|_| !args.embedded) {
        base += &format!(" --ws-target {}", shell_quote(w));
    }
    for (flag, v) in [
        ("--ca-file", &args.ca_file),
        ("--cert", &args.cert),
        ("--key", &args.key),
    ] {
        if let Some(v) = v {
            base += &format!(" {flag} {}", shell_quote(&v.display().to_string()));
        }
    }
    if args.insecure {
        base += " --insecure";
    }
    if args.strict {
        base += " --strict";
    }
    if let Some(s) = args.timer_slack {
        base += &format!(" --timer-slack {s}");
    }
    Ok((
        RunConfig {
            connector,
            auth_connector,
            credentials: Credentials {
                username,
                password: password.map(Bytes::from),
            },
            protocols,
            filters: args.filter.clone(),
            exact: args.exact,
            profile,
            jobs: args.jobs,
            explicit_protocols: args.protocol.trim() != "all",
            timing,
            case_deadline,
            strict: args.strict,
        },
        Rerun { base, needs },
    ))
}

/// Name of the embedded reference broker in reports.
pub const REFERENCE_BROKER_NAME: &str = "Touchstone reference broker";

/// The broker named in the report: the flags, else the embedded broker's identity, else the
/// profile's name (or the target URL).
fn broker_identity(args: &RunArgs, report: &runner::RunReport) -> runner::BrokerIdentity {
    let clean = |s: &Option<String>| {
        s.as_ref()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let fallback = if args.embedded {
        runner::BrokerIdentity {
            name: REFERENCE_BROKER_NAME.to_string(),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
        }
    } else {
        report.broker()
    };
    runner::BrokerIdentity {
        name: clean(&args.broker_name).unwrap_or(fallback.name),
        version: clean(&args.broker_version).or(fallback.version),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(target: Option<&str>) -> RunArgs {
        RunArgs {
            target: target.map(String::from),
            protocol: "all".into(),
            filter: vec![],
            exact: false,
            profile: None,
            format: RunFormat::Pretty,
            output: None,
            json: None,
            junit: None,
            markdown: None,
            jobs: 4,
            username: None,
            password: None,
            auth_target: None,
            ws_target: None,
            ca_file: None,
            cert: None,
            key: None,
            insecure: false,
            timer_slack: None,
            case_timeout: 30.0,
            broker_name: None,
            broker_version: None,
            strict: false,
            repeat: 1,
            plan: false,
            quiet: false,
            verbose: false,
            embedded: false,
        }
    }

    #[test]
    fn no_target_is_a_clear_usage_error() {
        let e = config(&args(None)).unwrap_err();
        assert!(e.starts_with("a target is needed"), "{e}");
    }

    #[test]
    fn bad_flags_are_explained() {
        assert!(config(&args(Some("http://x")))
            .unwrap_err()
            .contains("not supported"));
        let mut a = args(Some("mqtt://127.0.0.1:1"));
        a.protocol = "4.2".into();
        assert!(config(&a).unwrap_err().contains("--protocol"));
        let mut a = args(Some("mqtt://127.0.0.1:1"));
        a.insecure = true;
        assert!(config(&a)
            .unwrap_err()
            .contains("need an mqtts:// or wss://"));
        let mut a = args(Some("mqtt://127.0.0.1:1"));
        a.jobs = 0;
        assert!(config(&a).unwrap_err().contains("--jobs"));
        let mut a = args(Some("mqtt://127.0.0.1:1"));
        a.timer_slack = Some(-3.0);
        assert!(config(&a).unwrap_err().contains("--timer-slack"));
        let mut a = args(Some("mqtt://127.0.0.1:1"));
        a.auth_target = Some("mqtt://127.0.0.1:2".into());
        assert!(config(&a).unwrap_err().contains("--auth-target needs"));
        let mut a = args(Some("mqtt://127.0.0.1:1"));
        a.profile = Some("/nonexistent/profile.toml".into());
        assert!(config(&a).unwrap_err().contains("cannot read"));
    }

    #[test]
    fn broker_identity_from_flags_embedded_profile_or_target() {
        let report = |profile_name: Option<&str>| runner::RunReport {
            run_id: "r".into(),
            target: "mqtt://127.0.0.1:1883".into(),
            started: std::time::SystemTime::UNIX_EPOCH,
            duration: Duration::ZERO,
            protocols: vec![],
            capabilities: vec![],
            profile: Profile {
                name: profile_name.map(String::from),
                ..Profile::default()
            },
            timing: Timing::default(),
            results: vec![],
            broker: None,
            unavailable: None,
            not_spoken: vec![],
            interrupted: false,
            repeat: 1,
            notes: vec![],
            strict: false,
        };
        let mut a = args(Some("mqtt://127.0.0.1:1883"));
        let id = broker_identity(&a, &report(None));
        assert_eq!(
            (id.name.as_str(), id.version),
            ("mqtt://127.0.0.1:1883", None)
        );
        let id = broker_identity(&a, &report(Some("Eclipse Mosquitto 2.0.11")));
        assert_eq!(id.name, "Eclipse Mosquitto 2.0.11");
        a.broker_name = Some(" Eclipse Mosquitto ".into());
        a.broker_version = Some("".into());
        let id = broker_identity(&a, &report(Some("x")));
        assert_eq!((id.name.as_str(), id.version), ("Eclipse Mosquitto", None));
        a.broker_version = Some("2.0.11".into());
        assert_eq!(
            broker_identity(&a, &report(None)).version.as_deref(),
            Some("2.0.11")
        );
        let mut e = args(None);
        e.embedded = true;
        let id = broker_identity(&e, &report(None));
        assert_eq!(id.name, REFERENCE_BROKER_NAME);
        assert_eq!(id.version.as_deref(), Some(env!("CARGO_PKG_VERSION")));
    }

    #[test]
    fn rerun_command_names_the_case() {
        let dir = std::env::temp_dir().join(format!("touchstone-rerun-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let profile = dir.join("p.toml");
        std::fs::write(&profile, "timer_slack = 1\n").unwrap();
        let mut a = args(Some("mqtt://127.0.0.1:1883"));
        a.profile = Some(profile.clone());
        let (config, rerun) = config(&a).unwrap();
        assert_eq!(config.timing.timer_slack, Duration::from_secs(1));
        assert_eq!(
            rerun.base,
            format!(
                "touchstone run --target mqtt://127.0.0.1:1883 --profile {}",
                profile.display()
            )
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
