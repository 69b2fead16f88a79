//! One execution of a scenario: every operation applied to the target and to the model in
//! lockstep, what each client received collected, and the judge asked after each step.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use tokio::time::Instant;
use touchstone_codec::Protocol;

use super::client::{self, Client, Names};
use super::judge::{self, Divergence, Facts, Snapshot, Sub};
use super::live::Live;
use super::model::Model;
use super::scenario::{self, Op, CLIENTS, SHARED};
use super::{Execution, Settings};

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
