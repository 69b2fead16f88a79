//! Findings: minimal reproducers saved as readable JSON replay files, shrinking, and replay.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use touchstone_codec::{Protocol, Statement};

use super::exec::{execute, masked, ExecConfig, Execution, Hit};
use super::gen::{Burst, Step};
use super::Oracle;
use crate::harness::redact::{restore_password, Redactor};

/// The format tag of a replay file.
pub const FORMAT: &str = "touchstone-fuzz-finding/1";

/// A statement as written in a replay file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cite {
    /// `3.1.1` or `5.0`.
    pub version: String,
    /// `MQTT-4.8.0-1`.
    pub id: String,
}

impl From<&Statement> for Cite {
    fn from(s: &Statement) -> Self {
        Cite {
            version: s.version.as_str().to_string(),
            id: s.id.to_string(),
        }
    }
}

/// One step of a replay file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStep {
    /// The client (connection) the bytes go to; connections open before the first step.
    pub client: usize,
    /// The bytes, in hex (one write).
    pub send: String,
    /// What they are.
    #[serde(default)]
    pub comment: String,
}

/// Where a finding was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// The run's seed.
    pub seed: u64,
    /// The burst index.
    pub burst: u64,
    /// The target it was found on.
    pub target: String,
}

/// A saved finding: what to send, and which oracle fires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingFile {
    /// [`FORMAT`].
    pub format: String,
    /// `3.1.1` or `5`.
    pub protocol: String,
    /// The oracle that fired.
    pub oracle: Oracle,
    /// The statements broken.
    pub statements: Vec<Cite>,
    /// What happened when it was found.
    pub message: String,
    /// How to read the file.
    #[serde(default)]
    pub comment: String,
    /// Where it was found.
    pub found: Origin,
    /// Connections to open (clients 0..clients).
    pub clients: usize,
    /// The writes, in order. After the last, each connection the specification requires an
    /// answer on gets a PINGREQ probe, and the oracles judge what comes back.
    pub steps: Vec<FileStep>,
    /// After the steps, a fresh client must complete a QoS 1 round trip (the liveness
    /// oracle).
    pub liveness: bool,
    /// The transcript of the (shrunk) finding when it was saved.
    #[serde(default)]
    pub transcript: Vec<String>,
}

/// Why a replay file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Cannot read.
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, std::io::Error),
    /// Not JSON of the format.
    #[error("{0} is not a touchstone fuzz finding: {1}")]
    Parse(PathBuf, String),
    /// The format's JSON, with a value out of range.
    #[error("{0}: {1}")]
    Invalid(PathBuf, String),
}

impl FindingFile {
    /// Loads and checks a replay file.
    pub fn load(path: &Path) -> Result<FindingFile, FileError> {
        let text = std::fs::read_to_string(path).map_err(|e| FileError::Read(path.into(), e))?;
        let f: FindingFile = serde_json::from_str(&text)
            .map_err(|e| FileError::Parse(path.into(), e.to_string()))?;
        let bad = |m: String| Err(FileError::Parse(path.into(), m));
        if f.format != FORMAT {
            return bad(format!("format is {:?}, expected {FORMAT:?}", f.format));
        }
        if f.protocol.parse::<Protocol>().is_err() {
            return bad(format!("unknown protocol {:?}", f.protocol));
        }
        if f.clients == 0 || f.clients > 16 {
            return bad(format!("clients must be 1 to 16, not {}", f.clients));
        }
        for (i, s) in f.steps.iter().enumerate() {
            if s.client >= f.clients {
                return bad(format!("step {i}: client {} of {}", s.client, f.clients));
            }
            if let Err(e) = touchstone_codec::hex::decode(&s.send) {
                return bad(format!("step {i}: bad hex: {e}"));
            }
        }
        Ok(f)
    }

    /// The burst the file describes.
    pub fn burst(&self) -> Burst {
        Burst {
            protocol: self.protocol.parse().unwrap_or(Protocol::V5),
            clients: self.clients,
            steps: self
                .steps
                .iter()
                .map(|s| Step {
                    client: s.client,
                    bytes: touchstone_codec::hex::decode(&s.send).unwrap_or_default(),
                    note: s.comment.clone(),
                })
                .collect(),
        }
    }
}

/// True if `ex` shows `oracle` firing.
pub fn fires(ex: &Execution, oracle: Oracle) -> bool {
    ex.hits.iter().any(|h| h.oracle == oracle)
}

/// Shrinking limits.
#[derive(Debug, Clone, Copy)]
pub struct ShrinkLimits {
    /// Most executions.
    pub attempts: usize,
    /// Most time.
    pub time: Duration,
}

/// Shrinks `burst` while `hit`'s oracle still fires: drops clients, then writes, then bytes at
/// the end of writes. Returns the smallest burst that still fires and its execution.
pub async fn shrink(
    cfg: &ExecConfig,
    burst: &Burst,
    id: u64,
    hit: &Hit,
    limits: ShrinkLimits,
) -> (Burst, usize) {
    let start = Instant::now();
    let liveness = hit.oracle == Oracle::Liveness;
    let mut best = burst.clone();
    let mut attempts = 0;
    let mut budget = || {
        attempts += 1;
        attempts <= limits.attempts && start.elapsed() < limits.time
    };
    // Other clients first.
    if let Some(c) = hit.client {
        let mut only = best.clone();
        only.steps.retain(|s| s.client == c);
        if only.steps.len() < best.steps.len() && budget() {
            let ex = execute(cfg, &only, id, liveness).await;
            if fires(&ex, hit.oracle) {
                best = only;
            }
        }
    }
    // Then single writes, from the last.
    let mut i = best.steps.len();
    while i > 0 {
        i -= 1;
        if best.steps.len() <= 1 {
            break;
        }
        if !budget() {
            return (renumber(best), attempts);
        }
        let mut fewer = best.clone();
        fewer.steps.remove(i);
        let ex = execute(cfg, &fewer, id, liveness).await;
        if fires(&ex, hit.oracle) {
            best = fewer;
        }
    }
    // Then bytes at the end of each write: halve what is cut until it stops firing.
    for i in (0..best.steps.len()).rev() {
        let mut cut = best.steps[i].bytes.len() / 2;
        while cut > 0 {
            cut = cut.min(best.steps[i].bytes.len() / 2);
            if cut == 0 {
                break;
            }
            if !budget() {
                return (renumber(best), attempts);
            }
            let mut shorter = best.clone();
            let n = shorter.steps[i].bytes.len();
            shorter.steps[i].bytes.truncate(n - cut);
            let ex = execute(cfg, &shorter, id, liveness).await;
            if fires(&ex, hit.oracle) {
                shorter.steps[i].note += &format!(" (last {cut} bytes cut by shrinking)");
                best = shorter;
            } else {
                cut /= 2;
            }
        }
    }
    (renumber(best), attempts)
}

/// Numbers the clients that still send from 0.
fn renumber(mut b: Burst) -> Burst {
    let mut map = Vec::new();
    for s in &b.steps {
        if !map.contains(&s.client) {
            map.push(s.client);
        }
    }
    for s in &mut b.steps {
        s.client = map.iter().position(|&c| c == s.client).unwrap_or(0);
    }
    b.clients = map.len().max(1);
    b
}

/// Builds the file for a shrunk finding, with its secrets masked (a replay given the same
/// password puts it back: [`replay`]).
pub fn to_file(
    burst: &Burst,
    hit: &Hit,
    origin: Origin,
    ex: &Execution,
    redactor: &Redactor,
) -> FindingFile {
    FindingFile {
        format: FORMAT.into(),
        protocol: burst.protocol.as_str().into(),
        oracle: hit.oracle,
        statements: hit.statements.iter().map(Cite::from).collect(),
        message: redactor.text(&hit.message),
        comment: "Replay with `touchstone replay FILE [--target URL]`: the clients connect, \
                  the steps are written in order, then every connection that is owed an answer \
                  gets a PINGREQ probe and the oracles judge the replies (see README, \
                  \"Fuzzing a live broker\"). Exit 1: the finding reproduces."
            .into(),
        found: origin,
        clients: burst.clients,
        steps: burst
            .steps
            .iter()
            .map(|s| FileStep {
                client: s.client,
                send: touchstone_codec::hex::encode(&masked(redactor, &s.bytes)),
                comment: s.note.clone(),
            })
            .collect(),
        liveness: hit.oracle == Oracle::Liveness,
        transcript: ex.transcript.iter().map(|l| redactor.text(l)).collect(),
    }
}

/// Writes `file` into `dir` as `<oracle>-<protocol>-<seed>-<burst>.json`; returns the path.
pub fn save(dir: &Path, file: &FindingFile) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let name = format!(
        "{}-{}-{}-{}.json",
        file.oracle.as_str(),
        file.protocol.replace('.', ""),
        file.found.seed,
        file.found.burst
    );
    let path = dir.join(name);
    let mut text = serde_json::to_string_pretty(file).map_err(std::io::Error::other)?;
    text.push('\n');
    std::fs::write(&path, text)?;
    Ok(path)
}

/// Replays a file: true if its oracle fires again. Masked passwords of the file's length are
/// replaced by the configured password.
pub async fn replay(cfg: &ExecConfig, file: &FindingFile) -> (bool, Execution) {
    let mut burst = file.burst();
    if let Some(p) = &cfg.password {
        for s in &mut burst.steps {
            restore_password(&mut s.bytes, p);
        }
    }
    let ex = execute(cfg, &burst, file.found.burst, file.liveness).await;
    (fires(&ex, file.oracle), ex)
}
