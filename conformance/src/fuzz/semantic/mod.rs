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
pub mod judge;
pub mod live;
pub mod model;
pub mod scenario;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use touchstone_codec::Protocol;

use crate::fuzz::finding::Cite;
use crate::harness::redact::Redactor;
use crate::net::transport::Connector;
use client::{Client, Names};
use judge::{Divergence, Facts, Snapshot, Sub};
use live::Live;
use model::Model;
use scenario::{Op, CLIENTS, SHARED};

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

/// A name unique to the execution: a base drawn from the clock once per process, plus a
/// counter (scenarios side by side start within the same microsecond; the clock alone could
/// give two of them the same names).
fn nonce() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static BASE: OnceLock<u64> = OnceLock::new();
    static N: AtomicU64 = AtomicU64::new(0);
    let base = *BASE.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
    });
    format!(
        "{:012x}",
        base.wrapping_add(N.fetch_add(1, Ordering::Relaxed)) & 0xffff_ffff_ffff
    )
}

/// An operation the target said (in its 5.0 CONNACK) it does not support.
fn unsupported(op: &Op, caps: client::Caps) -> Option<&'static str> {
    match *op {
        Op::Publish { qos, .. } if qos > caps.maximum_qos => Some("above the target's Maximum QoS"),
        Op::Publish { retain: true, .. } if !caps.retain => {
            Some("RETAIN, which the target does not support")
        }
        Op::Connect {
            will: Some((_, q, r)),
            ..
        } if q > caps.maximum_qos || (r && !caps.retain) => Some("a Will the target cannot take"),
        Op::Subscribe { filter, .. } | Op::Unsubscribe { filter, .. }
            if filter == SHARED && !caps.shared =>
        {
            Some("a shared subscription, which the target does not support")
        }
        Op::Subscribe { filter, .. } | Op::Unsubscribe { filter, .. }
            if !caps.wildcards && scenario::filter_name(filter).contains(['+', '#']) =>
        {
            Some("a wildcard, which the target does not support")
        }
        Op::Subscribe { id: Some(_), .. } if !caps.subscription_ids => {
            Some("a Subscription Identifier, which the target does not support")
        }
        _ => None,
    }
}

fn session_statements(v5: bool, clean: bool, present: bool) -> Vec<touchstone_codec::Statement> {
    use touchstone_codec::Statement;
    if v5 {
        vec![
            Statement::v5(if clean {
                "MQTT-3.2.2-2"
            } else {
                "MQTT-3.2.2-3"
            }),
            Statement::v5(if clean {
                "MQTT-3.1.2-4"
            } else {
                "MQTT-3.1.2-5"
            }),
        ]
    } else if clean {
        vec![
            Statement::v311("MQTT-3.2.2-1"),
            Statement::v311("MQTT-3.1.2-6"),
        ]
    } else if present {
        vec![
            Statement::v311("MQTT-3.2.2-2"),
            Statement::v311("MQTT-3.1.2-4"),
        ]
    } else {
        vec![
            Statement::v311("MQTT-3.2.2-3"),
            Statement::v311("MQTT-3.1.2-4"),
        ]
    }
}

/// Makes message `tag` optional from `step` on (the target refused it, or it is a Will the
/// target may or may not publish). A retained one leaves the retained message of its topic
/// uncertain from then on: either the old one or this one may be held.
fn make_optional(
    ops: &[Op],
    tag: usize,
    step: usize,
    optional: &mut BTreeSet<usize>,
    uncertain: &mut BTreeMap<&'static str, usize>,
) {
    optional.insert(tag);
    let topic = match ops.get(tag) {
        Some(Op::Publish {
            topic,
            retain: true,
            ..
        }) => Some(*topic),
        Some(Op::Connect {
            will: Some((t, _, true)),
            ..
        }) => Some(*t),
        _ => None,
    };
    if let Some(t) = topic {
        uncertain
            .entry(scenario::TOPICS[usize::from(t)])
            .or_insert(step);
    }
}

/// What the target owes before the next operation: for each QoS 1 or 2 delivery the model made
/// at `step` (at any step: `None`), the slot, the message, its RETAIN flag, and how many such
/// copies the model delivered in all. Counted, not just seen once: a retained copy sent for a
/// new subscription is owed even when the live copy of the same message came earlier.
fn due(
    model: &Model,
    step: Option<usize>,
    optional: &BTreeSet<usize>,
) -> Vec<(usize, usize, bool, usize)> {
    let mut out = Vec::new();
    for (s, m) in model.clients.iter().enumerate() {
        for d in &m.deliveries {
            if d.qos == 0 || step.is_some_and(|i| d.step != i) || optional.contains(&d.tag) {
                continue;
            }
            let n = m
                .deliveries
                .iter()
                .filter(|x| x.qos > 0 && x.tag == d.tag && x.retain == d.retain)
                .count();
            out.push((s, d.tag, d.retain, n));
        }
    }
    out
}

/// True when the target's clients have every copy in `due` (re-sends not counted).
fn arrived(due: &[(usize, usize, bool, usize)], clients: &[Client]) -> bool {
    due.iter().all(|&(s, tag, retain, n)| {
        clients[s]
            .deliveries
            .iter()
            .filter(|d| d.tag == tag && d.retain == retain && !(d.dup && d.qos > 0))
            .count()
            >= n
    })
}

/// Runs one scenario against the target and the model, and judges it.
pub async fn execute(settings: &Settings, protocol: Protocol, ops: &[Op]) -> Execution {
    let v5 = protocol.is_v5();
    let mut names = Names::new(&nonce());
    names.username = settings.username.clone();
    names.password = settings.password.clone();
    let mut ex = Execution::default();
    let mut model = Model::new(protocol);
    let mut live = Live::new(settings.connector.clone(), protocol);
    let start = Instant::now();
    let slots = usize::from(CLIENTS);
    let mut subs: Snapshot = vec![BTreeMap::new(); slots];
    let mut snapshots: Vec<Snapshot> = Vec::with_capacity(ops.len());
    let mut optional = BTreeSet::new();
    let mut uncertain: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut offline_qos0 = BTreeSet::new();
    let mut downgraded = BTreeSet::new();
    let mut unsubscribed = BTreeSet::new();
    let mut will_tag: Vec<Option<usize>> = vec![None; slots];
    let mut retained_topics: BTreeSet<u8> = BTreeSet::new();
    let limits = settings.limits[usize::from(v5)];
    let mut caps = limits;
    'steps: for (i, op) in ops.iter().enumerate() {
        let c = op.client();
        let cs = usize::from(c);
        let line = op.describe(v5);
        let open = model.is_open(c) && live.is_open(c);
        if !matches!(op, Op::Connect { .. }) && !open {
            ex.transcript
                .push(format!("{i:>3}  {line}  (skipped: not connected)"));
            snapshots.push(subs.clone());
            continue;
        }
        if let Some(why) = unsupported(op, caps) {
            ex.transcript
                .push(format!("{i:>3}  {line}  (skipped: {why})"));
            snapshots.push(subs.clone());
            continue;
        }
        ex.transcript.push(format!("{i:>3}  {line}"));
        ex.ops_run += 1;
        if let Op::Publish { qos: 0, .. } = op {
            for s in 0..CLIENTS {
                if !live.is_open(s) {
                    offline_qos0.insert((s, i));
                }
            }
        }
        match op {
            Op::Publish {
                retain: true,
                topic,
                ..
            } => {
                retained_topics.insert(*topic);
            }
            Op::Connect {
                will: Some((t, _, true)),
                ..
            } => {
                retained_topics.insert(*t);
            }
            _ => {}
        }
        // A take-over: whether the old connection's Will is published is left open here.
        if let (Op::Connect { .. }, Some(w)) = (op, will_tag[cs]) {
            if live.is_open(c) || model.is_open(c) {
                make_optional(ops, w, i, &mut optional, &mut uncertain);
            }
        }
        let now = start.elapsed().as_millis() as u64;
        model.advance(now);
        model.apply(op, i, i, &names);
        if let Err(e) = live
            .apply(op, i, &names, settings.deadline.max(Duration::from_secs(3)))
            .await
        {
            ex.unusable = Some(e);
            break;
        }
        let due = due(&model, Some(i), &optional);
        let done = |clients: &[Client]| arrived(&due, clients);
        live.pump(
            i,
            &names,
            Instant::now() + settings.deadline,
            settings.quiet,
            &done,
        )
        .await;
        for n in live.notes.drain(..) {
            ex.transcript.push(format!("     {n}"));
        }
        let (m, t) = (&model.clients[cs], &live.clients[cs]);
        match op {
            Op::Connect { .. } => ex.transcript.push(format!(
                "     CONNACK: target {}, model {}",
                connack_text(t.connack.filter(|_| t.idle())),
                connack_text(m.connack)
            )),
            Op::Subscribe { .. } | Op::Unsubscribe { .. } | Op::Publish { qos: 1.., .. } => {
                ex.transcript.push(format!(
                    "     answer: target {:02X?}, model {:02X?}",
                    t.last_codes, m.last_codes
                ))
            }
            _ => {}
        }
        if !t.idle() {
            ex.observations.push(format!(
                "no answer from the target within {:.1} s",
                settings.deadline.as_secs_f64()
            ));
            ex.transcript.push(format!(
                "     the target did not answer within {:.1} s: scenario ended without a verdict",
                settings.deadline.as_secs_f64()
            ));
            break;
        }
        match *op {
            Op::Connect {
                clean,
                will,
                keep_session,
                ..
            } => {
                will_tag[cs] = will.map(|_| i);
                let (Some(mc), Some(tc)) = (m.connack, t.connack.filter(|_| t.connected)) else {
                    let why = match t.connack {
                        Some((_, 0, _)) => {
                            "the target closed the connection right after accepting the CONNECT"
                                .into()
                        }
                        Some((_, code, _)) => {
                            format!("the target refused the CONNECT (code 0x{code:02X})")
                        }
                        None => "the target closed the connection without a CONNACK".into(),
                    };
                    ex.unusable = Some(why);
                    break;
                };
                caps = t.caps.and(limits);
                let clean = clean || (!v5 && !keep_session);
                let lowered = v5 && tc.2.is_some_and(|e| e < 300);
                if mc.0 != tc.0 && !lowered {
                    ex.divergence = Some(Divergence {
                        statements: session_statements(v5, clean, mc.0),
                        message: format!(
                            "c{c} connected with Clean {} and got Session Present {}; the reference model, which saw the same operations, answered {}",
                            u8::from(clean),
                            u8::from(tc.0),
                            u8::from(mc.0)
                        ),
                    });
                    break;
                }
                if !mc.0 {
                    subs[cs].clear();
                }
            }
            Op::Subscribe {
                filter, no_local, ..
            } => {
                let (mcode, tcode) = (
                    m.last_codes.first().copied().unwrap_or(0x80),
                    t.last_codes.first().copied().unwrap_or(0x80),
                );
                if mcode < 0x80 {
                    subs[cs].insert(
                        filter,
                        Sub {
                            qos: mcode,
                            no_local,
                        },
                    );
                }
                if tcode >= 0x80 && mcode < 0x80 {
                    // The target may refuse a subscription: the model follows it.
                    ex.observations.push(format!(
                        "the target refused a subscription (SUBACK 0x{tcode:02X})"
                    ));
                    ex.transcript.push(format!(
                        "     the target refused it (0x{tcode:02X}): the model unsubscribes too"
                    ));
                    subs[cs].remove(&filter);
                    model.clients[cs].deliveries.retain(|d| d.step != i);
                    model.apply(
                        &Op::Unsubscribe { client: c, filter },
                        usize::MAX,
                        i,
                        &names,
                    );
                } else if tcode < 0x80 && mcode >= 0x80 {
                    ex.unusable = Some(format!("the target granted a subscription the reference model refused (0x{mcode:02X})"));
                    break;
                } else if tcode < mcode {
                    downgraded.insert(c);
                    ex.observations
                        .push("the target granted a lower QoS than requested".into());
                }
            }
            Op::Unsubscribe { filter, .. } => {
                subs[cs].remove(&filter);
                unsubscribed.insert(c);
            }
            Op::Publish { qos, .. } if qos > 0 => {
                let (mcode, tcode) = (
                    m.last_codes.first().copied().unwrap_or(0),
                    t.last_codes.first().copied().unwrap_or(0),
                );
                if tcode >= 0x80 && mcode < 0x80 {
                    ex.observations.push(format!(
                        "the target refused a PUBLISH (reason 0x{tcode:02X})"
                    ));
                    make_optional(ops, i, i, &mut optional, &mut uncertain);
                }
            }
            // DISCONNECT deletes the Will; after a drop it was published.
            Op::Disconnect { .. } | Op::Drop { .. } => will_tag[cs] = None,
            _ => {}
        }
        // Connections one side closed and the other did not: no verdict on it (a server may
        // close for reasons of its own), the other side follows.
        for s in 0..CLIENTS {
            let (mo, lo) = (model.is_open(s), live.is_open(s));
            if mo && !lo {
                ex.observations
                    .push("the target closed a connection the reference model kept".into());
                ex.transcript.push(format!(
                    "     the target closed c{s}'s connection; the model's client closes too"
                ));
                if let Some(w) = will_tag[usize::from(s)].take() {
                    make_optional(ops, w, i, &mut optional, &mut uncertain);
                }
                model.close(s);
                model.pump(i, &names);
            } else if lo && !mo {
                ex.observations
                    .push("the reference model closed a connection the target kept".into());
                ex.transcript.push(format!(
                    "     the model closed c{s}'s connection; the target's client closes too"
                ));
                live.close(usize::from(s)).await;
                continue 'steps;
            }
        }
        snapshots.push(subs.clone());
    }
    while snapshots.len() < ops.len() {
        snapshots.push(subs.clone());
    }
    if ex.divergence.is_none() && ex.unusable.is_none() {
        // What is still due arrives, or never does.
        let due = due(&model, None, &optional);
        let done = |clients: &[Client]| arrived(&due, clients);
        live.pump(
            ops.len(),
            &names,
            Instant::now() + settings.deadline,
            settings.quiet,
            &done,
        )
        .await;
        for (s, t) in live.clients.iter().enumerate() {
            if let Some(e) = t.errors.first() {
                ex.observations.push(format!("c{s}: {e}"));
            }
        }
        let facts = Facts {
            v5,
            ops,
            snapshots: &snapshots,
            optional: &optional,
            offline_qos0: &offline_qos0,
            downgraded: &downgraded,
            unsubscribed: &unsubscribed,
            uncertain_retained: &uncertain,
        };
        let (d, notes) = judge::judge(&facts, &model.clients, &live.clients);
        ex.divergence = d;
        ex.observations.extend(notes);
    }
    for (s, (m, t)) in model.clients.iter().zip(&live.clients).enumerate() {
        let show = |ds: &[client::Delivery]| {
            ds.iter()
                .map(|d| {
                    format!(
                        "#{}{}{}{}@{}",
                        d.tag,
                        ["", "q1", "q2"][usize::from(d.qos.min(2))],
                        if d.retain { "r" } else { "" },
                        if d.dup { "d" } else { "" },
                        d.step
                    )
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        ex.transcript.push(format!(
            "c{s} received from the target: [{}]; from the model: [{}]",
            show(&t.deliveries),
            show(&m.deliveries)
        ));
    }
    live.close_all().await;
    cleanup(settings, protocol, &names, &retained_topics).await;
    ex
}

fn connack_text(c: Option<(bool, u8, Option<u32>)>) -> String {
    match c {
        Some((sp, code, _)) => format!("0x{code:02X} Session Present {}", u8::from(sp)),
        None => "none".into(),
    }
}

/// Leaves nothing behind on the target: every slot's session ended, every retained message
/// of the run cleared. Bounded; errors ignored.
async fn cleanup(settings: &Settings, protocol: Protocol, names: &Names, retained: &BTreeSet<u8>) {
    let mut live = Live::new(settings.connector.clone(), protocol);
    let within = settings.deadline.min(Duration::from_secs(2));
    for s in 0..CLIENTS {
        let connect = Op::Connect {
            client: s,
            clean: true,
            keep_session: false,
            will: None,
        };
        if live.apply(&connect, 0, names, within).await.is_err() {
            return;
        }
        live.pump(0, names, Instant::now() + within, Duration::ZERO, &|_| true)
            .await;
        if s == 0 {
            for &t in retained {
                let p = touchstone_codec::Publish {
                    retain: true,
                    topic: names.topic(t).as_str().into(),
                    ..touchstone_codec::Publish::default()
                };
                let mut b = bytes::BytesMut::new();
                touchstone_codec::Packet::Publish(p).encode_unchecked(protocol, &mut b);
                live.send_raw(0, &b).await;
            }
        }
        let _ = live
            .apply(&Op::Disconnect { client: s }, 0, names, within)
            .await;
    }
    live.close_all().await;
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
    pub fn load(path: &Path) -> Result<Option<SemanticFile>, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
        if v.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            return Ok(None);
        }
        let f: SemanticFile = serde_json::from_value(v)
            .map_err(|e| format!("{} is not a semantic finding: {e}", path.display()))?;
        if f.protocol.parse::<Protocol>().is_err() {
            return Err(format!(
                "{}: unknown protocol {:?}",
                path.display(),
                f.protocol
            ));
        }
        for (i, op) in f.ops.iter().enumerate() {
            if op.client() >= CLIENTS || !scenario::valid(op) {
                return Err(format!(
                    "{}: operation {i} is out of range: {op:?}",
                    path.display()
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
