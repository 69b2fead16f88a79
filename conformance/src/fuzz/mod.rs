//! Structure-aware fuzzing of a live broker (`touchstone fuzz`), and replay of its findings
//! (`touchstone replay`).
//!
//! * [`gen`]: bursts of real packets for several clients, mutated field by field, from a
//!   seeded [`rng`]: burst `i` of seed `s` is always the same bytes.
//! * [`judge`]: what the specification requires of the server, given the bytes a client sent
//!   (judged with the strict codec), and which of the server's bytes break a rule.
//! * [`exec`]: runs a burst under deadlines with the oracles watching, then the liveness check.
//! * [`finding`]: shrinking, and the JSON replay files.

pub mod exec;
pub mod finding;
pub mod gen;
pub mod judge;
pub mod rng;
pub mod semantic;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use touchstone_codec::Protocol;

use exec::{execute, ExecConfig, Hit};
use finding::{Origin, ShrinkLimits};
use gen::GenConfig;

/// The oracles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Oracle {
    /// After a burst, a fresh client could not connect and complete a QoS 1 round trip.
    Liveness,
    /// The server owed a reaction (an answer or a close) and gave none before the deadline.
    Hang,
    /// The server sent bytes the strict codec rejects for the connection's version.
    InvalidPacket,
    /// After a protocol violation the server went on (answered a later packet, acknowledged
    /// the bad one with success) instead of closing.
    ContinuedAfterViolation,
    /// The server's packets came in an order a rule forbids (CONNACK not first, ...).
    Ordering,
}

impl Oracle {
    /// The kebab-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Oracle::Liveness => "liveness",
            Oracle::Hang => "hang",
            Oracle::InvalidPacket => "invalid-packet",
            Oracle::ContinuedAfterViolation => "continued-after-violation",
            Oracle::Ordering => "ordering",
        }
    }
}

impl std::fmt::Display for Oracle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A run's configuration.
#[derive(Debug, Clone)]
pub struct FuzzConfig {
    /// How bursts run.
    pub exec: ExecConfig,
    /// The versions fuzzed (each burst picks one).
    pub protocols: Vec<Protocol>,
    /// The seed.
    pub seed: u64,
    /// Stop after this long.
    pub duration: Duration,
    /// Stop after this many bursts.
    pub max_bursts: Option<u64>,
    /// Where findings are saved.
    pub findings_dir: PathBuf,
    /// Shrinking limits per finding.
    pub shrink: ShrinkLimits,
    /// The target, as reports name it.
    pub target_label: String,
    /// Statement lists of known findings (from `--known` replay files): a finding citing
    /// exactly one of these is counted as known, not shrunk, not saved, not failing the run.
    pub known: Vec<Vec<String>>,
}

/// A finding of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Found {
    /// The oracle.
    pub oracle: Oracle,
    /// `3.1.1 MQTT-4.8.0-1`, ...
    pub statements: Vec<String>,
    /// What happened.
    pub message: String,
    /// The burst it was first seen in.
    pub burst: u64,
    /// How many bursts hit it.
    pub count: u64,
    /// The saved replay file.
    pub file: Option<PathBuf>,
    /// Writes in the shrunk reproducer (and in the burst it came from).
    pub writes: (usize, usize),
    /// Executions spent shrinking.
    pub shrink_attempts: usize,
}

/// What a run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// The seed (rerun with `--seed`).
    pub seed: u64,
    /// Bursts run.
    pub bursts: u64,
    /// Writes (packets or packet groups) sent, probes included.
    pub packets: u64,
    /// Bytes sent.
    pub bytes: u64,
    /// Seconds spent fuzzing (shrinking excluded).
    pub seconds: f64,
    /// Seconds spent shrinking.
    pub shrink_seconds: f64,
    /// Distinct findings (by oracle and statements).
    pub findings: Vec<Found>,
    /// Hits of known findings (`--known`), by oracle and statements.
    pub known: BTreeMap<String, u64>,
    /// Why the run stopped early, if it did.
    pub stopped: Option<String>,
    /// Behaviour no statement forbids (how the target treats packets the strict codec rejects
    /// but the specification leaves open), with how often it was seen.
    pub observations: BTreeMap<String, u64>,
}

impl Summary {
    /// Bursts per second of fuzzing.
    pub fn bursts_per_second(&self) -> f64 {
        self.bursts as f64 / self.seconds.max(1e-9)
    }
    /// Writes per second of fuzzing.
    pub fn packets_per_second(&self) -> f64 {
        self.packets as f64 / self.seconds.max(1e-9)
    }
}

/// Live progress of a run.
pub trait FuzzProgress: Send + Sync {
    /// After each burst.
    fn burst(&self, summary: &Summary);
    /// A new finding (already shrunk and saved).
    fn finding(&self, found: &Found);
    /// A message (shrinking started, ...).
    fn note(&self, text: &str);
}

/// No progress output.
pub struct Silent;

impl FuzzProgress for Silent {
    fn burst(&self, _: &Summary) {}
    fn finding(&self, _: &Found) {}
    fn note(&self, _: &str) {}
}

/// The target failed the check before fuzzing: it cannot do a QoS 1 round trip.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the target {target} cannot do a QoS 1 round trip in MQTT {} before fuzzing: {why}", protocol.as_str())]
pub struct PreflightError {
    /// The target, as the output names it.
    pub target: String,
    /// The version that failed.
    pub protocol: Protocol,
    /// What went wrong.
    pub why: String,
}

/// Checks, before fuzzing, that the target does a QoS 1 round trip at all.
pub async fn preflight(cfg: &FuzzConfig) -> Result<(), PreflightError> {
    for &p in &cfg.protocols {
        exec::live(&cfg.exec, p, u64::MAX - p.level() as u64)
            .await
            .map_err(|why| PreflightError {
                target: cfg.target_label.clone(),
                protocol: p,
                why,
            })?;
    }
    Ok(())
}

/// The client-id and topic prefix for a seed.
pub fn prefix(seed: u64) -> String {
    format!("{seed:x}")
}

/// Runs the fuzzer.
pub async fn run(cfg: &FuzzConfig, progress: &dyn FuzzProgress) -> Summary {
    let gen = GenConfig {
        prefix: cfg.exec.prefix.clone(),
        username: cfg.exec.username.clone(),
        password: cfg.exec.password.clone(),
    };
    let mut s = Summary {
        seed: cfg.seed,
        ..Summary::default()
    };
    let mut index: BTreeMap<(Oracle, Vec<String>), usize> = BTreeMap::new();
    let start = Instant::now();
    let mut shrinking = Duration::ZERO;
    let mut b = 0u64;
    loop {
        let fuzzing = start.elapsed().saturating_sub(shrinking);
        if fuzzing >= cfg.duration || cfg.max_bursts.is_some_and(|m| b >= m) {
            break;
        }
        let burst = gen::burst(cfg.seed, b, &cfg.protocols, &gen);
        let ex = execute(&cfg.exec, &burst, b, true).await;
        s.bursts += 1;
        s.packets += ex.writes as u64;
        s.bytes += ex.bytes as u64;
        for o in &ex.observations {
            // Group by kind: the text up to the first digit-free colon is stable enough.
            *s.observations.entry(observation_key(o)).or_insert(0) += 1;
        }
        s.seconds = start.elapsed().saturating_sub(shrinking).as_secs_f64();
        let mut dead = false;
        for hit in dedup(&ex.hits) {
            let key = (
                hit.oracle,
                hit.statements.iter().map(|s| s.to_string()).collect(),
            );
            if let Some(&i) = index.get(&key) {
                s.findings[i].count += 1;
                continue;
            }
            if cfg.known.contains(&key.1) {
                *s.known
                    .entry(format!("{} [{}]", hit.oracle, key.1.join(", ")))
                    .or_insert(0) += 1;
                continue;
            }
            dead |= hit.oracle == Oracle::Liveness;
            let t0 = Instant::now();
            let found = record(cfg, &burst, b, &hit, progress).await;
            shrinking += t0.elapsed();
            s.shrink_seconds = shrinking.as_secs_f64();
            progress.finding(&found);
            index.insert(key, s.findings.len());
            s.findings.push(found);
        }
        progress.burst(&s);
        b += 1;
        if dead {
            s.stopped = Some(format!(
                "burst {}: the target failed the liveness check; fuzzing a dead target finds nothing more",
                b - 1
            ));
            break;
        }
    }
    s.seconds = start.elapsed().saturating_sub(shrinking).as_secs_f64();
    s
}

/// An observation without its variable details (ids, byte values), for counting.
fn observation_key(o: &str) -> String {
    let mut out = String::with_capacity(o.len());
    let mut last_digit = false;
    for ch in o.chars() {
        if ch.is_ascii_digit() {
            if !last_digit {
                out.push('N');
            }
            last_digit = true;
        } else {
            last_digit = false;
            out.push(ch);
        }
    }
    out
}

/// One hit per oracle and statement list.
fn dedup(hits: &[Hit]) -> Vec<Hit> {
    let mut out: Vec<Hit> = Vec::new();
    for h in hits {
        if !out
            .iter()
            .any(|o| o.oracle == h.oracle && o.statements == h.statements)
        {
            out.push(h.clone());
        }
    }
    out
}

async fn record(
    cfg: &FuzzConfig,
    burst: &gen::Burst,
    b: u64,
    hit: &Hit,
    progress: &dyn FuzzProgress,
) -> Found {
    let origin = Origin {
        seed: cfg.seed,
        burst: b,
        target: cfg.target_label.clone(),
    };
    // A target that failed the liveness check may be dead for good: shrinking against it
    // would make every attempt "reproduce". Such findings are saved as found.
    let (shrunk, attempts) = if hit.oracle == Oracle::Liveness {
        (burst.clone(), 0)
    } else {
        progress.note(&format!("burst {b}: {} — shrinking", hit.oracle));
        finding::shrink(&cfg.exec, burst, b, hit, cfg.shrink).await
    };
    // The transcript of the shrunk reproducer (one more execution), unless it stopped firing
    // (a flaky finding: keep the original burst then).
    let (shrunk, ex) = if hit.oracle == Oracle::Liveness {
        (shrunk, execute_dry(burst))
    } else {
        let ex = execute(&cfg.exec, &shrunk, b, false).await;
        if finding::fires(&ex, hit.oracle) {
            (shrunk, ex)
        } else {
            let ex = execute(&cfg.exec, burst, b, false).await;
            (burst.clone(), ex)
        }
    };
    // Describe the reproducer by what its own execution saw.
    let shown = ex
        .hits
        .iter()
        .find(|h| h.oracle == hit.oracle)
        .cloned()
        .unwrap_or_else(|| hit.clone());
    let hit = &shown;
    let file = finding::to_file(&shrunk, hit, origin, &ex, &cfg.exec.redactor());
    let path = match finding::save(&cfg.findings_dir, &file) {
        Ok(p) => Some(p),
        Err(e) => {
            progress.note(&format!(
                "cannot save the finding in {}: {e}",
                cfg.findings_dir.display()
            ));
            None
        }
    };
    Found {
        oracle: hit.oracle,
        statements: hit.statements.iter().map(|s| s.to_string()).collect(),
        message: cfg.exec.redactor().text(&hit.message),
        burst: b,
        count: 1,
        file: path,
        writes: (shrunk.steps.len(), burst.steps.len()),
        shrink_attempts: attempts,
    }
}

/// The steps of a burst as a transcript, without running it.
fn execute_dry(burst: &gen::Burst) -> exec::Execution {
    exec::Execution {
        transcript: burst
            .steps
            .iter()
            .map(|s| {
                format!(
                    "client {} -> {}  {}",
                    s.client,
                    s.note,
                    touchstone_codec::hex::encode(&s.bytes)
                )
            })
            .collect(),
        ..exec::Execution::default()
    }
}
