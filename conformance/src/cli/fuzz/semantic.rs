//! `touchstone fuzz --semantic`: scenarios judged against the reference model; and the replay
//! of their findings.

use std::path::{Path, PathBuf};
use std::time::Duration;

use touchstone_codec::Protocol;

use super::{summary_json, FuzzArgs, FuzzFormat, Part};
use crate::cli::Status;
use crate::fuzz::exec::ExecConfig;
pub use crate::fuzz::semantic::client::Caps;
use crate::fuzz::semantic::{
    self, SemanticConfig, SemanticFile, SemanticFound, SemanticSummary, Settings,
};
use crate::run::profile::Profile;

/// After what is due has arrived, how long to wait for what is not (extra copies, QoS 0).
const QUIET: Duration = Duration::from_millis(40);

/// The scenario settings from the connection options and the profile's capabilities.
pub fn settings(exec: &ExecConfig, limits: [Caps; 2]) -> Settings {
    Settings {
        connector: exec.connector.clone(),
        deadline: exec.deadline,
        quiet: QUIET,
        username: exec.username.clone(),
        password: exec.password.clone(),
        limits,
    }
}

/// What `--profile` says the target supports, for 3.1.1 and 5.0 (no profile: everything).
pub fn limits(profile: Option<&Path>) -> Result<[Caps; 2], String> {
    let Some(path) = profile else {
        return Ok([Caps::default(); 2]);
    };
    let p = Profile::load(path, &crate::cases::catalogue()).map_err(|e| e.to_string())?;
    Ok([
        Caps::from_profile(p.overrides(Protocol::V3_1_1)),
        Caps::from_profile(p.overrides(Protocol::V5)),
    ])
}

fn found_line(f: &SemanticFound) -> String {
    format!(
        "  [{}] scenario {} (x{}): {}\n    reproducer: {} ({} of {} operations)\n",
        f.statements.join(", "),
        f.scenario,
        f.count,
        f.message,
        f.file
            .as_ref()
            .map_or_else(|| "(not saved)".into(), |p| p.display().to_string()),
        f.ops.0,
        f.ops.1
    )
}

/// Runs the semantic fuzzer (after the preflight) for `duration`.
#[allow(clippy::too_many_arguments)]
pub fn fuzz(
    args: &FuzzArgs,
    rt: &tokio::runtime::Runtime,
    exec: ExecConfig,
    limits: [Caps; 2],
    label: &str,
    seed: u64,
    duration: Duration,
    protocols: Vec<Protocol>,
    known: Vec<Vec<String>>,
    rerun: &str,
) -> Part {
    let cfg = SemanticConfig {
        settings: settings(&exec, limits),
        protocols,
        seed,
        duration,
        max_scenarios: args.bursts,
        parallel: args.parallel,
        findings_dir: args.findings.clone(),
        shrink: (
            args.shrink_attempts,
            Duration::from_secs_f64(args.shrink_time),
        ),
        target_label: label.to_string(),
        known,
    };
    let pretty = args.format == FuzzFormat::Pretty;
    let versions: Vec<&str> = cfg.protocols.iter().map(|p| p.as_str()).collect();
    if pretty {
        eprintln!(
            "semantic fuzzing of {label} against the reference model, MQTT {}, seed {seed}, {} scenarios at a time, for {:.0} s",
            versions.join(" and "),
            cfg.parallel,
            duration.as_secs_f64()
        );
    }
    let last = std::sync::Mutex::new(std::time::Instant::now());
    let progress = |s: &SemanticSummary, f: Option<&SemanticFound>| {
        if !pretty {
            return;
        }
        if let Some(f) = f {
            eprintln!("divergence: {}", found_line(f).trim_end());
        }
        let mut l = last.lock().unwrap_or_else(|e| e.into_inner());
        if l.elapsed() >= Duration::from_secs(5) {
            *l = std::time::Instant::now();
            eprintln!(
                "scenarios {} | operations {} | {:.0} scenarios/s | divergences {}",
                s.scenarios,
                s.ops,
                s.scenarios_per_second(),
                s.findings.len()
            );
        }
    };
    let s = rt.block_on(semantic::run(&cfg, &progress));
    let json = summary_json(
        &s,
        label,
        "semantic",
        &[("scenarios_per_second", s.scenarios_per_second())],
    );
    let status = if !s.findings.is_empty() {
        Status::Invalid
    } else if s.scenarios > 0 && s.unusable == s.scenarios {
        Status::Unavailable
    } else {
        Status::Success
    };
    Part {
        status,
        text: summary_text(&s, label, rerun),
        json,
    }
}

fn summary_text(s: &SemanticSummary, label: &str, rerun: &str) -> String {
    let mut out = format!(
        "{} scenarios, {} operations in {:.1} s against {label}: {:.0} scenarios/s; seed {}\n",
        s.scenarios,
        s.ops,
        s.seconds,
        s.scenarios_per_second(),
        s.seed
    );
    if s.unusable > 0 {
        out += &format!(
            "{} scenario(s) without a verdict: {}\n",
            s.unusable,
            s.unusable_reason.as_deref().unwrap_or("?")
        );
    }
    if !s.observations.is_empty() {
        out +=
            "allowed behaviour seen (freedoms of the specification, docs/semantic-fuzzing.md):\n";
        let mut top: Vec<_> = s.observations.iter().collect();
        top.sort_by(|a, b| b.1.cmp(a.1));
        for (o, n) in top.iter().take(8) {
            out += &format!("  x{n} {o}\n");
        }
    }
    for (k, n) in &s.known {
        out += &format!("known (--known): x{n} [{k}]\n");
    }
    if s.findings.is_empty() {
        out += "no new divergence from the reference model\n";
    } else {
        out += &format!("{} divergence(s):\n", s.findings.len());
        for f in &s.findings {
            out += &found_line(f);
        }
        out += &format!("rerun: {rerun}\n");
    }
    out
}

/// Replays semantic findings: each still diverging counts as reproduced. Appends to `out` and
/// `results`; returns how many reproduce.
pub fn replay(
    rt: &tokio::runtime::Runtime,
    exec: &ExecConfig,
    limits: [Caps; 2],
    files: &[(PathBuf, SemanticFile)],
    out: &mut String,
    results: &mut Vec<serde_json::Value>,
) -> usize {
    let settings = settings(exec, limits);
    let mut reproduced = 0;
    for (path, f) in files {
        let protocol: Protocol = f.protocol.parse().unwrap_or(Protocol::V5);
        let ex = rt.block_on(semantic::execute(&settings, protocol, &f.ops));
        let fires = ex.divergence.as_ref().is_some_and(|d| {
            d.statements
                .iter()
                .map(|s| (s.version.as_str().to_string(), s.id.to_string()))
                .collect::<Vec<_>>()
                == f.statements
                    .iter()
                    .map(|c| (c.version.clone(), c.id.clone()))
                    .collect::<Vec<_>>()
        });
        reproduced += usize::from(fires);
        let cites: Vec<String> = f
            .statements
            .iter()
            .map(|c| format!("{} {}", c.version, c.id))
            .collect();
        out.push_str(&format!(
            "{}: semantic [{}] MQTT {}: {}\n",
            path.display(),
            cites.join(", "),
            f.protocol,
            if fires {
                "REPRODUCES"
            } else {
                "does not reproduce"
            }
        ));
        for l in &ex.transcript {
            out.push_str(&format!("  {l}\n"));
        }
        if let Some(d) = &ex.divergence {
            out.push_str(&format!("  => {}\n", d.message));
        }
        if let Some(u) = &ex.unusable {
            out.push_str(&format!("  (no verdict: {u})\n"));
        }
        results.push(serde_json::json!({
            "file": path.display().to_string(),
            "mode": "semantic",
            "reproduces": fires,
            "divergence": ex.divergence.as_ref().map(|d| serde_json::json!({
                "statements": d.statements.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                "message": d.message,
            })),
            "transcript": ex.transcript,
        }));
    }
    reproduced
}
