//! Comparing what each client received from the target with what it received from the model,
//! up to what the specification leaves open. Every freedom taken here is listed, with its
//! statement, in `docs/semantic-fuzzing.md`.

use std::collections::{BTreeMap, BTreeSet};

use touchstone_codec::topic::topic_matches;
use touchstone_codec::Statement;

use super::client::{Client, Delivery};
use super::scenario::{Op, SHARED, TOPICS};

/// A subscription as the model's session holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sub {
    /// Granted QoS.
    pub qos: u8,
    /// 5.0 No Local.
    pub no_local: bool,
}

/// The model's subscriptions of each slot (filter index to options), after each step.
pub type Snapshot = Vec<BTreeMap<u8, Sub>>;

/// A difference the specification does not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Divergence {
    /// The statements broken (of the scenario's version).
    pub statements: Vec<Statement>,
    /// What differed.
    pub message: String,
}

/// What the judge needs beyond the deliveries.
pub struct Facts<'a> {
    /// 5.0 (else 3.1.1).
    pub v5: bool,
    /// The scenario.
    pub ops: &'a [Op],
    /// Subscriptions after each step.
    pub snapshots: &'a [Snapshot],
    /// Tags the target may deliver or not (it refused the PUBLISH; a Will on a take-over).
    pub optional: &'a BTreeSet<usize>,
    /// (slot, tag): QoS 0 messages published while the slot had no connection (a server may
    /// queue them).
    pub offline_qos0: &'a BTreeSet<(u8, usize)>,
    /// Slots the target granted a lower QoS than the model at some SUBSCRIBE.
    pub downgraded: &'a BTreeSet<u8>,
    /// Slots that unsubscribed at some point.
    pub unsubscribed: &'a BTreeSet<u8>,
    /// Topics whose retained message is uncertain from a step on (a retained Will or PUBLISH
    /// the target may or may not have taken): retained copies sent for new subscriptions on
    /// them are not judged from then on.
    pub uncertain_retained: &'a BTreeMap<&'static str, usize>,
}

fn st(v5: bool, v311: &[&'static str], v50: &[&'static str]) -> Vec<Statement> {
    if v5 {
        v50.iter().map(|s| Statement::v5(s)).collect()
    } else {
        v311.iter().map(|s| Statement::v311(s)).collect()
    }
}

/// The topic (relative) and QoS a tag was published with, and its publisher.
fn published(ops: &[Op], tag: usize) -> Option<(u8, &'static str, u8, bool)> {
    match ops.get(tag)? {
        Op::Publish {
            client,
            topic,
            qos,
            retain,
            ..
        } => Some((*client, TOPICS[usize::from(*topic)], *qos, *retain)),
        Op::Connect {
            client,
            will: Some((t, q, r)),
            ..
        } => Some((*client, TOPICS[usize::from(*t)], *q, *r)),
        _ => None,
    }
}

fn is_shared_topic(topic: &str) -> bool {
    topic.starts_with("s/")
}

fn plain_matches(snap: &BTreeMap<u8, Sub>, topic: &str) -> Vec<(u8, Sub)> {
    snap.iter()
        .filter(|(f, _)| **f != SHARED)
        .filter(|(f, _)| topic_matches(super::scenario::FILTERS[usize::from(**f)], topic))
        .map(|(f, s)| (*f, *s))
        .collect()
}

/// Judges every slot's deliveries. Returns the first divergence, and observations (freedoms
/// taken, with counts by kind).
pub fn judge(
    facts: &Facts<'_>,
    model: &[Client],
    target: &[Client],
) -> (Option<Divergence>, Vec<String>) {
    let mut notes = Vec::new();
    // Shared subscriptions: at most one member gets each message (which one is free).
    let mut shared: BTreeMap<usize, Vec<u8>> = BTreeMap::new();
    for (slot, c) in target.iter().enumerate() {
        for d in c
            .deliveries
            .iter()
            .filter(|d| is_shared_topic(&d.topic) && !d.dup)
        {
            // A retained message sent because a shared subscription was made: the text of
            // 5.0 section 4.8.2 says a server does not send them, but no normative statement
            // requires it; a copy sent that way is no second delivery of the message.
            if d.retain
                && d.step != d.tag
                && matches!(facts.ops.get(d.step), Some(Op::Subscribe { .. }))
            {
                notes.push("a retained message was sent for a new shared subscription".into());
                continue;
            }
            shared.entry(d.tag).or_default().push(slot as u8);
        }
    }
    for (tag, slots) in &shared {
        if slots.len() > 1 && !facts.optional.contains(tag) {
            let qos = published(facts.ops, *tag).map_or(0, |p| p.2);
            if qos == 2 {
                return (
                    Some(Divergence {
                        statements: st(facts.v5, &[], &["MQTT-4.3.3-2", "MQTT-4.8.2-3"]),
                        message: format!(
                            "the QoS 2 message of step {tag}, published to a topic only a shared subscription matches, was delivered {} times (clients {slots:?}) as new messages",
                            slots.len()
                        ),
                    }),
                    notes,
                );
            }
            notes.push(format!(
                "a QoS {qos} message for a shared subscription reached several members"
            ));
        }
    }
    for slot in 0..model.len() {
        if let Some(d) = judge_slot(
            facts,
            slot as u8,
            &model[slot].deliveries,
            &target[slot].deliveries,
            &mut notes,
        ) {
            return (Some(d), notes);
        }
    }
    (None, notes)
}

/// Deliveries by message and kind: `true` for a retained message sent because a subscription
/// was made (RETAIN 1 during a SUBSCRIBE's step), `false` for the others (live, queued).
fn by_key<'d>(ops: &[Op], ds: &'d [Delivery]) -> BTreeMap<(usize, bool), Vec<&'d Delivery>> {
    let mut m: BTreeMap<(usize, bool), Vec<&Delivery>> = BTreeMap::new();
    for d in ds {
        let on_subscribe = d.retain && matches!(ops.get(d.step), Some(Op::Subscribe { .. }));
        m.entry((d.tag, on_subscribe)).or_default().push(d);
    }
    m
}

/// The target's deliveries by message and kind. Deliveries are asynchronous: a retained message
/// sent for a subscription may arrive during a later step (Mosquitto sends it with its next
/// write), so a RETAIN 1 delivery counts as sent for a subscription when the model sent that
/// message for a subscription at that step or earlier (each model delivery used once), or when
/// it arrived during a SUBSCRIBE's step.
fn classify_target<'d>(
    ops: &[Op],
    model: &BTreeMap<(usize, bool), Vec<&Delivery>>,
    ds: &'d [Delivery],
) -> BTreeMap<(usize, bool), Vec<&'d Delivery>> {
    let mut pending: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for ((tag, on_subscribe), v) in model {
        if *on_subscribe {
            pending
                .entry(*tag)
                .or_default()
                .extend(v.iter().map(|d| d.step));
        }
    }
    let mut out: BTreeMap<(usize, bool), Vec<&Delivery>> = BTreeMap::new();
    for d in ds {
        let mut on_subscribe = false;
        if d.retain {
            if let Some(steps) = pending.get_mut(&d.tag) {
                if let Some(k) = steps.iter().position(|s| *s <= d.step) {
                    steps.remove(k);
                    on_subscribe = true;
                }
            }
            on_subscribe |= matches!(ops.get(d.step), Some(Op::Subscribe { .. }));
        }
        out.entry((d.tag, on_subscribe)).or_default().push(d);
    }
    out
}

fn describe(d: &Delivery) -> String {
    format!(
        "{} qos{} retain={} dup={}{}{} (step {})",
        d.topic,
        d.qos,
        u8::from(d.retain),
        u8::from(d.dup),
        if d.properties.is_empty() {
            String::new()
        } else {
            format!(" properties {:?}", d.properties)
        },
        if d.subscription_ids.is_empty() {
            String::new()
        } else {
            format!(" ids {:?}", d.subscription_ids)
        },
        d.step
    )
}

fn judge_slot(
    facts: &Facts<'_>,
    slot: u8,
    model: &[Delivery],
    target: &[Delivery],
    notes: &mut Vec<String>,
) -> Option<Divergence> {
    let v5 = facts.v5;
    let m = by_key(facts.ops, model);
    let t = classify_target(facts.ops, &m, target);
    let keys: BTreeSet<(usize, bool)> = m.keys().chain(t.keys()).copied().collect();
    for key in keys {
        let (tag, on_subscribe) = key;
        if facts.optional.contains(&tag) {
            continue;
        }
        let Some((publisher, topic, pub_qos, _)) = published(facts.ops, tag) else {
            continue;
        };
        let shared = is_shared_topic(topic);
        let ms: &[&Delivery] = m.get(&key).map_or(&[], |v| v.as_slice());
        let ts_all: &[&Delivery] = t.get(&key).map_or(&[], |v| v.as_slice());
        if on_subscribe
            && facts
                .uncertain_retained
                .get(topic)
                .is_some_and(|&from| ms.iter().chain(ts_all).any(|d| d.step >= from))
        {
            notes.push(
                "a retained message on a topic whose retained Will or PUBLISH the target may or may not have taken".into(),
            );
            continue;
        }
        // Re-sends (DUP 1 at QoS 1 and 2) repeat an earlier delivery.
        let ts: Vec<&Delivery> = ts_all
            .iter()
            .copied()
            .filter(|d| !(d.dup && d.qos > 0))
            .collect();
        // How many of the slot's plain subscriptions matched when it was delivered (or
        // published): a server MAY send one copy per matching subscription.
        let step_of = ms
            .first()
            .map_or(tag, |d| d.step)
            .min(facts.snapshots.len().saturating_sub(1));
        let matching = facts
            .snapshots
            .get(step_of)
            .map_or(Vec::new(), |s| plain_matches(&s[usize::from(slot)], topic));
        let at_publish = facts
            .snapshots
            .get(tag)
            .map_or(Vec::new(), |s| plain_matches(&s[usize::from(slot)], topic));
        let copies_allowed = ms.len().max(1) * matching.len().max(1);
        // Missing.
        if ts.is_empty() && !ms.is_empty() {
            let want = ms.iter().map(|d| d.qos).max().unwrap_or(0);
            if want == 0 || shared {
                notes.push(
                    "a QoS 0 message (or one for a shared subscription) was not delivered".into(),
                );
                continue;
            }
            let is_will = matches!(facts.ops.get(tag), Some(Op::Connect { .. }));
            let unflagged = on_subscribe
                && t.get(&(tag, false))
                    .is_some_and(|v| v.iter().any(|x| !x.retain && x.step == ms[0].step));
            let statements = if unflagged {
                st(v5, &["MQTT-3.3.1-8"], &["MQTT-3.3.1-9"])
            } else if is_will && on_subscribe {
                st(
                    v5,
                    &["MQTT-3.1.2-8", "MQTT-3.1.2-17"],
                    &["MQTT-3.1.2-8", "MQTT-3.1.2-15"],
                )
            } else if is_will {
                st(v5, &["MQTT-3.1.2-8"], &["MQTT-3.1.2-8"])
            } else if on_subscribe {
                st(v5, &["MQTT-3.3.1-6"], &["MQTT-3.3.1-9", "MQTT-3.3.1-10"])
            } else {
                st(
                    v5,
                    &["MQTT-4.5.0-1", "MQTT-3.1.2-5"],
                    &["MQTT-4.5.0-1", "MQTT-3.1.2-5"],
                )
            };
            return Some(Divergence {
                statements,
                message: format!(
                    "c{slot} never received the message of step {tag} ({}), which the reference model delivered: {}",
                    facts.ops[tag].describe(v5),
                    describe(ms[0])
                ),
            });
        }
        // Stray.
        if ms.is_empty() && !ts.is_empty() {
            let d = ts[0];
            if d.qos == 0 && facts.offline_qos0.contains(&(slot, tag)) {
                notes.push(
                    "a QoS 0 message published while the client was away was queued for it".into(),
                );
                continue;
            }
            if shared {
                // Which member gets a shared message is the server's choice.
                continue;
            }
            let no_local = publisher == slot && at_publish.iter().any(|(_, s)| s.no_local);
            let is_will = matches!(facts.ops.get(tag), Some(Op::Connect { .. }));
            // A retained message sent for a new subscription without RETAIN 1.
            let unflagged = !on_subscribe
                && !d.retain
                && matches!(facts.ops.get(d.step), Some(Op::Subscribe { .. }))
                && m.get(&(tag, true))
                    .is_some_and(|v| v.iter().any(|x| x.step == d.step));
            let (statements, why) = if unflagged {
                (
                    st(v5, &["MQTT-3.3.1-8"], &["MQTT-3.3.1-9"]),
                    "with RETAIN 0 a retained message sent because of a new subscription",
                )
            } else if is_will {
                (
                    st(v5, &["MQTT-3.1.2-10"], &["MQTT-3.14.4-3", "MQTT-3.1.2-10"]),
                    "a Will that a DISCONNECT should have deleted (or that was never due)",
                )
            } else if on_subscribe {
                match facts.ops.get(d.step) {
                    Some(Op::Subscribe { retain_handling: 2, .. }) if v5 => {
                        (st(v5, &[], &["MQTT-3.3.1-11"]), "a retained message at a subscription with Retain Handling 2")
                    }
                    Some(Op::Subscribe { retain_handling: 1, .. }) if v5 => {
                        (st(v5, &[], &["MQTT-3.3.1-10"]), "a retained message at a subscription with Retain Handling 1 that already existed")
                    }
                    _ => (st(v5, &["MQTT-3.3.1-6", "MQTT-3.3.2-3"], &["MQTT-3.3.1-9", "MQTT-3.3.2-3"]), "a retained message that the model no longer held, or that no new subscription matches"),
                }
            } else if no_local && v5 {
                (
                    st(v5, &[], &["MQTT-3.8.3-3"]),
                    "its own message, through a No Local subscription",
                )
            } else if facts.unsubscribed.contains(&slot) && at_publish.is_empty() {
                (
                    st(
                        v5,
                        &["MQTT-3.10.4-2", "MQTT-3.3.2-3"],
                        &["MQTT-3.10.4-2", "MQTT-3.3.2-3"],
                    ),
                    "a message no remaining subscription matches (after an UNSUBSCRIBE)",
                )
            } else {
                (
                    st(v5, &["MQTT-3.3.2-3"], &["MQTT-3.3.2-3"]),
                    "a message no subscription of its session matched",
                )
            };
            return Some(Divergence {
                statements,
                message: format!(
                    "c{slot} received {why}: {} from step {tag} ({}); the reference model delivered nothing",
                    describe(d),
                    facts.ops[tag].describe(v5)
                ),
            });
        }
        if ms.is_empty() {
            continue;
        }
        // Copies.
        if ts.len() > copies_allowed && !shared {
            let q = ts.iter().map(|d| d.qos).max().unwrap_or(0);
            if q == 2 {
                return Some(Divergence {
                    statements: st(v5, &["MQTT-4.3.3-1"], &["MQTT-4.3.3-2"]),
                    message: format!(
                        "c{slot} received the QoS 2 message of step {tag} {} times as new messages (DUP 0), with {} matching subscription(s): {}",
                        ts.len(),
                        matching.len(),
                        ts.iter().map(|d| describe(d)).collect::<Vec<_>>().join("; ")
                    ),
                });
            }
            notes.push(format!("a QoS {q} message was delivered more often than once per matching subscription (at least / at most once allows it)"));
        }
        // QoS: the highest of the copies is the highest the subscriptions give.
        let want = ms.iter().map(|d| d.qos).max().unwrap_or(0);
        let got = ts.iter().map(|d| d.qos).max().unwrap_or(0);
        let qos_ok = if facts.downgraded.contains(&slot) || shared {
            got <= want
        } else {
            got == want
        };
        if !qos_ok {
            return Some(Divergence {
                statements: st(v5, &["MQTT-3.8.4-6", "MQTT-3.3.5-1"], &["MQTT-3.8.4-8", "MQTT-3.3.4-2"]),
                message: format!(
                    "c{slot} received the message of step {tag} (published at QoS {pub_qos}) at QoS {got}; the granted QoS gives {want}: {}",
                    describe(ts[0])
                ),
            });
        }
        // QoS 0 is never a re-send.
        if let Some(d) = ts_all.iter().find(|d| d.qos == 0 && d.dup) {
            return Some(Divergence {
                statements: st(v5, &["MQTT-3.3.1-2"], &["MQTT-3.3.1-2"]),
                message: format!(
                    "c{slot} received a QoS 0 PUBLISH with DUP 1: {}",
                    describe(d)
                ),
            });
        }
        // The rest is exact only with one copy through one subscription.
        if ts.len() != 1 || ms.len() != 1 || matching.len() > 1 || shared {
            continue;
        }
        let (md, td) = (ms[0], ts[0]);
        if md.retain != td.retain {
            let statements = if on_subscribe {
                st(v5, &["MQTT-3.3.1-8"], &["MQTT-3.3.1-9"])
            } else {
                st(v5, &["MQTT-3.3.1-9"], &["MQTT-3.3.1-12", "MQTT-3.3.1-13"])
            };
            return Some(Divergence {
                statements,
                message: format!(
                    "c{slot} received the message of step {tag} with RETAIN {}; the reference model sent RETAIN {}: {}",
                    u8::from(td.retain),
                    u8::from(md.retain),
                    describe(td)
                ),
            });
        }
        if v5
            && md.properties != td.properties
            && added_user_properties_only(&md.properties, &td.properties)
        {
            notes.push("the target added User Properties of its own to a forwarded message".into());
        } else if v5 && md.properties != td.properties {
            return Some(Divergence {
                statements: property_statements(&md.properties, &td.properties),
                message: format!(
                    "c{slot} received the message of step {tag} with properties {:?}; published (and forwarded by the model) with {:?}",
                    td.properties, md.properties
                ),
            });
        }
        if v5 && md.subscription_ids != td.subscription_ids {
            return Some(Divergence {
                statements: st(v5, &[], &["MQTT-3.3.4-3", "MQTT-3.3.4-4"]),
                message: format!(
                    "c{slot} received the message of step {tag} with Subscription Identifiers {:?}; its matching subscription has {:?}",
                    td.subscription_ids, md.subscription_ids
                ),
            });
        }
    }
    order(facts, slot, target)
}

/// True if `got` is `want` with User Properties added: the other properties equal, and
/// `want`'s User Properties in `got`'s, unaltered and in their order (5.0 [MQTT-3.3.2-17] and
/// [MQTT-3.3.2-18] fix no more; docs/semantic-fuzzing.md).
fn added_user_properties_only(want: &[String], got: &[String]) -> bool {
    let user = |p: &&String| p.starts_with("user ");
    let others = |v: &[String]| v.iter().filter(|p| !user(p)).cloned().collect::<Vec<_>>();
    if others(want) != others(got) {
        return false;
    }
    let mut rest = got.iter().filter(user);
    want.iter().filter(user).all(|w| rest.any(|g| g == w))
}

/// The 5.0 statements of the forwarded properties that differ.
fn property_statements(want: &[String], got: &[String]) -> Vec<Statement> {
    let of = |v: &[String], kind: &str| -> Vec<String> {
        v.iter().filter(|p| p.starts_with(kind)).cloned().collect()
    };
    let mut ids = Vec::new();
    let (wu, gu) = (of(want, "user "), of(got, "user "));
    if wu != gu {
        let (mut ws, mut gs) = (wu.clone(), gu.clone());
        ws.sort();
        gs.sort();
        ids.push(if ws == gs {
            "MQTT-3.3.2-18"
        } else {
            "MQTT-3.3.2-17"
        });
    }
    for (kind, id) in [
        ("payload-format", "MQTT-3.3.2-4"),
        ("response-topic", "MQTT-3.3.2-15"),
        ("correlation-data", "MQTT-3.3.2-16"),
        ("content-type", "MQTT-3.3.2-20"),
    ] {
        if of(want, kind) != of(got, kind) {
            ids.push(id);
        }
    }
    ids.into_iter().map(Statement::v5).collect()
}

/// Per publisher, topic and QoS (published and delivered), messages arrive in the order they
/// were published (4.6.0-6; not for shared subscriptions, retained messages, re-sends, or the
/// further copies of overlapping subscriptions).
fn order(facts: &Facts<'_>, slot: u8, target: &[Delivery]) -> Option<Divergence> {
    let mut last: BTreeMap<(u8, &str, u8, u8), usize> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for d in target {
        if d.dup || d.retain || is_shared_topic(&d.topic) || facts.optional.contains(&d.tag) {
            continue;
        }
        let Some((publisher, _, pub_qos, retained)) = published(facts.ops, d.tag) else {
            continue;
        };
        if retained
            || !matches!(facts.ops[d.tag], Op::Publish { .. })
            || !seen.insert((d.tag, d.qos))
        {
            continue;
        }
        let key = (publisher, d.topic.as_str(), pub_qos, d.qos);
        if let Some(&prev) = last.get(&key) {
            if d.tag < prev {
                return Some(Divergence {
                    statements: st(facts.v5, &["MQTT-4.6.0-6"], &["MQTT-4.6.0-6"]),
                    message: format!(
                        "c{slot} received c{publisher}'s QoS {} messages on {} out of order: step {} after step {prev}",
                        d.qos, d.topic, d.tag
                    ),
                });
            }
        }
        last.insert(key, d.tag.max(last.get(&key).copied().unwrap_or(0)));
    }
    None
}

#[cfg(test)]
mod tests;
