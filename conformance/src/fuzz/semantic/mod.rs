//! Semantic fuzzing of a live broker (`touchstone fuzz --semantic`): random valid multi-client
//! scenarios run against the target and, in lockstep, against the sans-IO reference broker
//! core with injected time as the model; what each client receives is compared up to what the
//! specification leaves open (`docs/semantic-fuzzing.md` lists each freedom with its
//! statement). A divergence is a finding: shrunk, and saved as a replay file.
//!
//! * [`scenario`]: the operations and their generator.
//! * [`client`]: the scripted client of each side (sans-IO).
//! * [`model`]: the reference core as the model.
//! * [`live`]: the target's connections.
//! * [`judge`]: the comparison.

pub mod client;
mod execute;
pub mod judge;
pub mod live;
pub mod model;
pub mod scenario;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use touchstone_codec::Protocol;

use crate::fuzz::finding::{Cite, FileError};
use crate::harness::redact::Redactor;
use crate::net::transport::Connector;
use judge::Divergence;
use scenario::{Op, CLIENTS};

pub use execute::execute;

/// How scenarios run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The target.
    pub connector: Connector,
    /// How long the target has for each answer and delivery the model says is due.
    pub deadline: Duration,
    /// After what is due has arrived, how long to wait for more (extra copies, QoS 0).
    pub quiet: Duration,
    /// User name for CONNECT.
    pub username: Option<String>,
    /// Password for CONNECT.
    pub password: Option<Vec<u8>>,
    /// What the target supports by its profile, for 3.1.1 and for 5.0 (a 5.0 CONNACK can
    /// only lower it): operations beyond it are skipped on both sides.
    pub limits: [client::Caps; 2],
}

/// What one scenario gave.
#[derive(Debug, Clone, Default)]
pub struct Execution {
    /// The first divergence.
    pub divergence: Option<Divergence>,
    /// Freedoms taken and other things seen (no verdict).
    pub observations: Vec<String>,
    /// Operations that ran.
    pub ops_run: usize,
    /// What happened, step by step.
    pub transcript: Vec<String>,
    /// The target could not be used (unreachable, refused the CONNECT): no verdict.
    pub unusable: Option<String>,
}

/// A saved semantic finding: the scenario, and what diverged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SemanticFile {
    /// [`FORMAT`].
    pub format: String,
    /// `3.1.1` or `5`.
    pub protocol: String,
    /// The statements broken.
    pub statements: Vec<Cite>,
    /// What differed when it was found.
    pub message: String,
    /// How to read the file.
    pub comment: String,
    /// The seed and scenario it came from, and the target.
    pub seed: u64,
    /// The scenario's number under the seed.
    pub scenario: u64,
    /// The target it was found on.
    pub target: String,
    /// The (shrunk) operations.
    pub ops: Vec<Op>,
    /// The transcript when it was saved.
    pub transcript: Vec<String>,
}

/// The format tag of [`SemanticFile`].
pub const FORMAT: &str = "touchstone-semantic-finding/1";

impl SemanticFile {
    /// Reads and checks a file (`None`: not a semantic finding at all).
    pub fn load(path: &Path) -> Result<Option<SemanticFile>, FileError> {
        let text = std::fs::read_to_string(path).map_err(|e| FileError::Read(path.into(), e))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| FileError::Parse(path.into(), format!("not JSON: {e}")))?;
        if v.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            return Ok(None);
        }
        let f: SemanticFile = serde_json::from_value(v)
            .map_err(|e| FileError::Parse(path.into(), format!("not a semantic finding: {e}")))?;
        if f.protocol.parse::<Protocol>().is_err() {
            return Err(FileError::Invalid(
                path.into(),
                format!("unknown protocol {:?}", f.protocol),
            ));
        }
        for (i, op) in f.ops.iter().enumerate() {
            if op.client() >= CLIENTS || !scenario::valid(op) {
                return Err(FileError::Invalid(
                    path.into(),
                    format!("operation {i} is out of range: {op:?}"),
                ));
            }
        }
        Ok(Some(f))
    }

    /// Writes the file into `dir`.
    pub fn save(&self, dir: &Path) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!(
            "semantic-{}-{}-{}.json",
            self.protocol.replace('.', ""),
            self.seed,
            self.scenario
        ));
        let mut text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        text.push('\n');
        std::fs::write(&path, text)?;
        Ok(path)
    }
}

/// Shrinks `ops` while the same statements still diverge: removes chunks of operations, from
/// halves down to single ones (later chunks first), bounded by `attempts` executions and `time`.
pub async fn shrink(
    settings: &Settings,
    protocol: Protocol,
    ops: &[Op],
    d: &Divergence,
    attempts: usize,
    time: Duration,
) -> (Vec<Op>, usize) {
    let start = Instant::now();
    let mut best = ops.to_vec();
    let mut tried = 0;
    let mut size = (best.len() / 2).max(1);
    loop {
        let mut removed = false;
        let mut end = best.len();
        while end > 0 {
            if tried >= attempts || start.elapsed() >= time {
                return (best, tried);
            }
            let begin = end.saturating_sub(size);
            let mut candidate = best.clone();
            candidate.drain(begin..end);
            tried += 1;
            let ex = execute(settings, protocol, &candidate).await;
            if ex
                .divergence
                .as_ref()
                .is_some_and(|x| x.statements == d.statements)
            {
                best = candidate;
                removed = true;
            }
            end = begin;
        }
        if size == 1 && !removed {
            return (best, tried);
        }
        if !removed || size > 1 {
            size = (size / 2).max(1);
        }
    }
}

/// True if `ops` diverge again with the statements of `d`, in one of two more runs.
async fn reproduces(settings: &Settings, protocol: Protocol, ops: &[Op], d: &Divergence) -> bool {
    for _ in 0..2 {
        let again = execute(settings, protocol, ops).await;
        if again
            .divergence
            .is_some_and(|x| x.statements == d.statements)
        {
            return true;
        }
    }
    false
}

/// A found divergence, for the summary.
#[derive(Debug, Clone, Serialize)]
pub struct SemanticFound {
    /// `3.1.1 MQTT-...`.
    pub statements: Vec<String>,
    /// What differed.
    pub message: String,
    /// Scenario it was first seen in.
    pub scenario: u64,
    /// Scenarios it was seen in.
    pub count: u64,
    /// Replay file.
    pub file: Option<PathBuf>,
    /// Operations in the shrunk scenario, and in the original.
    pub ops: (usize, usize),
}

/// What a semantic run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SemanticSummary {
    /// The seed.
    pub seed: u64,
    /// Scenarios run.
    pub scenarios: u64,
    /// Operations run.
    pub ops: u64,
    /// Seconds spent (shrinking excluded).
    pub seconds: f64,
    /// Divergences, by statements.
    pub findings: Vec<SemanticFound>,
    /// Freedoms taken and other things seen, with counts.
    pub observations: BTreeMap<String, u64>,
    /// Scenarios without a verdict (the target could not be used), with the first reason.
    pub unusable: u64,
    /// The first reason a scenario had no verdict.
    pub unusable_reason: Option<String>,
    /// Divergences already known (`--known`), with counts.
    pub known: BTreeMap<String, u64>,
}

impl SemanticSummary {
    /// Scenarios per second.
    pub fn scenarios_per_second(&self) -> f64 {
        self.scenarios as f64 / self.seconds.max(0.001)
    }
}

/// A semantic run.
#[derive(Debug, Clone)]
pub struct SemanticConfig {
    /// How scenarios run.
    pub settings: Settings,
    /// Versions (each scenario picks one).
    pub protocols: Vec<Protocol>,
    /// The seed.
    pub seed: u64,
    /// How long.
    pub duration: Duration,
    /// At most this many scenarios.
    pub max_scenarios: Option<u64>,
    /// Scenarios at a time.
    pub parallel: usize,
    /// Where findings go.
    pub findings_dir: PathBuf,
    /// Shrinking: executions and time per finding.
    pub shrink: (usize, Duration),
    /// The target, as files name it.
    pub target_label: String,
    /// Statement lists of known divergences (`--known`): counted, not shrunk, not failing.
    pub known: Vec<Vec<String>>,
}

/// Runs scenarios until the duration or the count is reached, `cfg.parallel` at a time (each
/// on its own names, so they cannot see each other; each a task of its own, so none waits on
/// another, or on shrinking). `progress` is told each scenario's summary and each finding.
pub async fn run(
    cfg: &SemanticConfig,
    progress: &(dyn Fn(&SemanticSummary, Option<&SemanticFound>) + Sync),
) -> SemanticSummary {
    let mut s = SemanticSummary {
        seed: cfg.seed,
        ..SemanticSummary::default()
    };
    let start = Instant::now();
    let mut shrinking = Duration::ZERO;
    let mut index: BTreeMap<Vec<String>, usize> = BTreeMap::new();
    let settings = std::sync::Arc::new(cfg.settings.clone());
    let mut running = tokio::task::JoinSet::new();
    let mut next = 0u64;
    let mut launching = true;
    loop {
        while launching && running.len() < cfg.parallel.max(1) {
            if start.elapsed().saturating_sub(shrinking) >= cfg.duration
                || cfg.max_scenarios.is_some_and(|m| next >= m)
                // A target no scenario could use (with several at a time, the first to end
                // are the quick failures: judge a full round).
                || (s.unusable >= 3
                    && s.unusable == s.scenarios
                    && s.scenarios >= cfg.parallel.max(1) as u64)
            {
                launching = false;
                break;
            }
            let n = next;
            next += 1;
            let protocol = cfg.protocols[(n as usize) % cfg.protocols.len()];
            let ops = scenario::generate(cfg.seed, n, protocol.is_v5());
            let settings = settings.clone();
            running.spawn(async move {
                let ex = execute(&settings, protocol, &ops).await;
                (n, protocol, ops, ex)
            });
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        let (n, protocol, ops, ex) = match joined {
            Ok(done) => done,
            Err(e) => {
                // A scenario task that panicked: counted without a verdict, never silent.
                s.scenarios += 1;
                s.unusable += 1;
                s.unusable_reason
                    .get_or_insert_with(|| format!("a scenario task failed: {e}"));
                continue;
            }
        };
        s.scenarios += 1;
        s.ops += ex.ops_run as u64;
        for o in &ex.observations {
            *s.observations.entry(o.clone()).or_insert(0) += 1;
        }
        if let Some(u) = &ex.unusable {
            s.unusable += 1;
            s.unusable_reason.get_or_insert_with(|| u.clone());
        }
        let mut new = None;
        if let Some(d) = &ex.divergence {
            let key: Vec<String> = d.statements.iter().map(|x| x.to_string()).collect();
            if let Some(&k) = index.get(&key) {
                s.findings[k].count += 1;
                s.findings[k].scenario = s.findings[k].scenario.min(n);
            } else if cfg.known.contains(&key) {
                *s.known.entry(key.join(", ")).or_insert(0) += 1;
            } else if !reproduces(&cfg.settings, protocol, &ops, d).await {
                // Seen once and not when the same operations ran again: a delivery that was
                // only late on a loaded machine looks like a lost one, and a verdict must not
                // follow the load. Recorded, not reported as a finding.
                *s.observations
                    .entry(format!(
                        "a divergence that did not reproduce when its scenario ran again (not a verdict): {}",
                        key.join(", ")
                    ))
                    .or_insert(0) += 1;
            } else {
                let t0 = Instant::now();
                let (shrunk, _) =
                    shrink(&cfg.settings, protocol, &ops, d, cfg.shrink.0, cfg.shrink.1).await;
                let again = execute(&cfg.settings, protocol, &shrunk).await;
                let (shrunk, shown, transcript) = match again.divergence {
                    Some(x) if x.statements == d.statements => (shrunk, x, again.transcript),
                    _ => (ops.clone(), d.clone(), ex.transcript.clone()),
                };
                shrinking += t0.elapsed();
                let redactor = Redactor::new(cfg.settings.password.clone());
                let file = SemanticFile {
                    format: FORMAT.into(),
                    protocol: protocol.as_str().into(),
                    statements: shown.statements.iter().map(Cite::from).collect(),
                    message: redactor.text(&shown.message),
                    comment: "Replay with `touchstone replay FILE [--target URL]`: the operations run against the target and the reference model, and what each client received is compared (docs/semantic-fuzzing.md).".into(),
                    seed: cfg.seed,
                    scenario: n,
                    target: cfg.target_label.clone(),
                    ops: shrunk.clone(),
                    transcript: transcript.iter().map(|l| redactor.text(l)).collect(),
                };
                let path = file.save(&cfg.findings_dir).ok();
                let found = SemanticFound {
                    statements: key.clone(),
                    message: redactor.text(&shown.message),
                    scenario: n,
                    count: 1,
                    file: path,
                    ops: (shrunk.len(), ops.len()),
                };
                index.insert(key, s.findings.len());
                s.findings.push(found);
                new = s.findings.last().cloned();
            }
        }
        s.seconds = start.elapsed().saturating_sub(shrinking).as_secs_f64();
        progress(&s, new.as_ref());
    }
    s.seconds = start.elapsed().saturating_sub(shrinking).as_secs_f64();
    s
}
