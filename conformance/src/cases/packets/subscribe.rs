//! SUBSCRIBE and SUBACK (sections 3.8 and 3.9): several filters in one packet, the order of
//! the codes, re-subscribing, subscription options (No Local, reserved bits), overlapping
//! subscriptions and their Subscription Identifiers and QoS.

use crate::cases::prelude::*;

pub(crate) const CASES: &[Case] = &[
    OVERLAP,
    MULTI_FILTER,
    RESUBSCRIBE,
    OPTIONS_RESERVED,
    NO_LOCAL,
    OVERLAPPING_IDS,
    NO_WILDCARDS,
    OPTIONS_MATRIX,
];

/// Two subscriptions of one client match a QoS 1 message, at QoS 0 and QoS 1: a copy comes at
/// QoS 1 (one copy, or one per subscription).
const OVERLAP: Case = Case {
    id: "subscribe.overlapping-subscriptions-highest-qos",
    title: "Overlapping subscriptions at QoS 0 and 1: the message is delivered honouring QoS 1",
    protocols: BOTH,
    statements: &[v311("MQTT-3.3.5-1"), v5("MQTT-3.3.4-2")],
    requires: &[Qos1, Wildcards],
    body: |t| Box::pin(overlap(t)),
};

async fn overlap(t: &mut Test) -> Verdict {
    let topic = t.topic("ov/x");
    let wild = t.topic("ov/+");
    let mut sub = t.client("sub").connect().await?;
    let granted = sub.subscribe(&topic, Q0).also(&wild, Q1).granted().await?;
    if granted.get(1).copied() != Some(Q1) {
        return Err(skip(
            "the server did not grant QoS 1 for the wildcard subscription",
        ));
    }
    let mut publ = t.client("pub").connect().await?;
    publ.publish(&topic).qos(Q1).payload("both").acked().await?;
    let because = cite(t, "MQTT-3.3.5-1", "MQTT-3.3.4-2");
    let first = sub
        .expect(publish(&topic).payload("both"))
        .because(&because)
        .await?;
    sub.ack(&first).await?;
    if first.qos == Q1 {
        t.observe("one copy at QoS 1 came first (any further copy is allowed)");
        return Ok(());
    }
    // A QoS 0 copy first: then a copy for the QoS 1 subscription must follow.
    let second = sub
        .expect(publish(&topic).qos(Q1).payload("both"))
        .because(&because)
        .await?;
    t.observe("one copy per subscription: QoS 0, then QoS 1");
    sub.ack(&second).await
}

/// The codes a SUBACK may carry: 3.1.1 section 3.9.3, 5.0 section 3.9.3.
fn allowed_suback_code(v5: bool, code: ReasonCode) -> bool {
    if v5 {
        matches!(
            code.0,
            0x00 | 0x01 | 0x02 | 0x80 | 0x83 | 0x87 | 0x8F | 0x91 | 0x97 | 0x9E | 0xA1 | 0xA2
        )
    } else {
        matches!(code.0, 0x00 | 0x01 | 0x02 | 0x80)
    }
}

/// One SUBSCRIBE with three filters asking QoS 0, 1 and 2: one SUBACK with three codes in
/// filter order, each filter subscribed at its own granted QoS (a message published at QoS 2
/// to each topic arrives at that filter's granted QoS).
const MULTI_FILTER: Case = Case {
    id: "subscribe.multi-filter-one-suback",
    title: "A SUBSCRIBE with several filters gets one SUBACK, one code per filter in filter order",
    protocols: BOTH,
    statements: &[
        v311("MQTT-3.8.4-1"),
        v311("MQTT-3.8.4-2"),
        v311("MQTT-3.8.4-4"),
        v311("MQTT-3.8.4-5"),
        v311("MQTT-3.9.3-1"),
        v311("MQTT-3.9.3-2"),
        v5("MQTT-3.8.4-1"),
        v5("MQTT-3.8.4-2"),
        v5("MQTT-3.8.4-5"),
        v5("MQTT-3.8.4-6"),
        v5("MQTT-3.8.4-7"),
        v5("MQTT-3.9.3-1"),
        v5("MQTT-3.9.3-2"),
    ],
    requires: &[Qos1, Qos2],
    body: |t| Box::pin(multi_filter(t)),
};

async fn multi_filter(t: &mut Test) -> Verdict {
    let topics = [t.topic("q0"), t.topic("q1"), t.topic("q2")];
    let requested = [Q0, Q1, Q2];
    let mut s = t.client("sub").connect().await?;
    let (id, _) = s
        .subscribe(&topics[0], Q0)
        .also(&topics[1], Q1)
        .also(&topics[2], Q2)
        .send()
        .await?;
    let ack = s
        .expect(suback(id).codes(3))
        .because(&cite_all(
            t,
            &[
                "MQTT-3.8.4-1",
                "MQTT-3.8.4-2",
                "MQTT-3.8.4-4",
                "MQTT-3.8.4-5",
            ],
            &[
                "MQTT-3.8.4-1",
                "MQTT-3.8.4-2",
                "MQTT-3.8.4-5",
                "MQTT-3.8.4-6",
            ],
        ))
        .await?;
    let codes = ack.reason_codes.clone();
    t.observe(format!(
        "SUBACK codes for QoS 0, 1, 2: {}",
        codes
            .iter()
            .map(|c| format!("0x{:02X}", c.0))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    for code in &codes {
        if !allowed_suback_code(t.is_v5(), *code) {
            return Err(CaseError::fail(
                "SUBACK codes among those the specification defines",
                format!("code 0x{:02X}", code.0),
            )
            .because(&cite(t, "MQTT-3.9.3-2", "MQTT-3.9.3-2")));
        }
    }
    let mut granted = Vec::new();
    for (code, req) in codes.iter().zip(requested) {
        let Some(q) = QoS::from_u8(code.0) else {
            return Err(skip(format!(
                "the server refused a filter (0x{:02X}), so the codes' order cannot be checked",
                code.0
            )));
        };
        if q > req {
            // A code above the QoS its filter asked for: the codes are out of order.
            return Err(CaseError::fail(
                format!(
                    "SUBACK codes in filter order, each at most the QoS its filter asked ({})",
                    requested.map(|q| q.as_u8().to_string()).join(", ")
                ),
                format!("{codes:?}"),
            )
            .because(&cite_all(
                t,
                &["MQTT-3.9.3-1", "MQTT-3.8.4-5"],
                &["MQTT-3.9.3-1", "MQTT-3.8.4-7"],
            )));
        }
        granted.push(q);
    }
    // Each filter was subscribed, at its own granted QoS.
    let mut publ = t.client("pub").connect().await?;
    for topic in &topics {
        publ.publish(topic).qos(Q2).payload("m").acked().await?;
    }
    for (topic, q) in topics.iter().zip(&granted) {
        let m = s
            .expect(publish(topic).qos(*q))
            .because(&cite_all(
                t,
                &["MQTT-3.8.4-4", "MQTT-3.9.3-1"],
                &["MQTT-3.8.4-5", "MQTT-3.9.3-1"],
            ))
            .await?;
        s.ack(&m).await?;
    }
    Ok(())
}

/// Re-subscribing an existing filter replaces the subscription (the new QoS applies, there is
/// still one subscription) and sends the retained message again (5.0: Retain Handling 0).
const RESUBSCRIBE: Case = Case {
    id: "subscribe.resubscribe-replaces",
    title: "Re-subscribing a filter replaces the subscription and re-sends retained messages",
    protocols: BOTH,
    statements: &[v311("MQTT-3.8.4-3"), v5("MQTT-3.8.4-3"), v5("MQTT-3.8.4-4")],
    requires: &[Retain, Qos1],
    body: |t| Box::pin(resubscribe(t)),
};

async fn resubscribe(t: &mut Test) -> Verdict {
    let topic = t.topic("r");
    let mut publ = t.client("pub").connect().await?;
    publ.publish(&topic)
        .qos(Q1)
        .retain()
        .payload("kept")
        .acked()
        .await?;
    let mut s = t.client("sub").connect().await?;
    let granted = s.subscribe(&topic, Q1).granted().await?;
    need_granted(&granted, Q1)?;
    let m = s
        .expect(publish(&topic).retain(true).payload("kept"))
        .await?;
    s.ack(&m).await?;
    // The same filter again, now QoS 0.
    s.subscribe(&topic, Q0).granted().await?;
    let m = s
        .expect(publish(&topic).retain(true).payload("kept"))
        .because(&cite(t, "MQTT-3.8.4-3", "MQTT-3.8.4-4"))
        .await?;
    s.ack(&m).await?;
    // The replacing subscription's QoS applies, and only one copy comes.
    publ.publish(&topic).qos(Q1).payload("live").acked().await?;
    s.expect(publish(&topic).payload("live").qos(Q0))
        .because(&cite(t, "MQTT-3.8.4-3", "MQTT-3.8.4-3"))
        .await?;
    s.expect_nothing(t.quiet())
        .await
        .map_err(|e| e.because(&cite(t, "MQTT-3.8.4-3", "MQTT-3.8.4-3")))
}

/// A Subscription Options / Requested QoS byte with reserved bits set (5.0: bits 6-7; 3.1.1:
/// QoS 3) makes the SUBSCRIBE malformed: the connection closes, no SUBACK.
const OPTIONS_RESERVED: Case = Case {
    id: "subscribe.options-reserved-bits",
    title: "A SUBSCRIBE whose options byte has reserved bits set closes the connection",
    protocols: BOTH,
    statements: &[
        v311("MQTT-3.8.3-4"),
        v311("MQTT-4.8.0-1"),
        v5("MQTT-3.8.3-5"),
        v5("MQTT-4.13.1-1"),
    ],
    requires: &[],
    body: |t| Box::pin(options_reserved(t)),
};

async fn options_reserved(t: &mut Test) -> Verdict {
    let topic = t.topic("s");
    let mut c = t.client("c").connect().await?;
    // SUBSCRIBE, packet id 1, one filter; 3.1.1: Requested QoS 3; 5.0: bits 6 and 7 set.
    let mut frame = Frame::new(0x82).u16(1);
    let options = if t.is_v5() {
        frame = frame.varint(0);
        0xC0
    } else {
        0x03
    };
    c.send_raw(frame.string(&topic).u8(options).to_bytes())
        .await?;
    let because = cite_all(
        t,
        &["MQTT-3.8.3-4", "MQTT-4.8.0-1"],
        &["MQTT-3.8.3-5", "MQTT-4.13.1-1"],
    );
    c.expect_closed().because(&because).await?;
    c.expect_no(suback(PacketId::MIN), Duration::ZERO)
        .await
        .map_err(|e| e.because(&because))
}

/// No Local: a client's own messages are not sent back to it on a No Local subscription, while
/// other clients' messages are, and another subscriber gets the client's message.
const NO_LOCAL: Case = Case {
    id: "subscribe.no-local",
    title: "No Local keeps a client's own messages from coming back to it",
    protocols: V5,
    statements: &[v5("MQTT-3.8.3-3")],
    requires: &[],
    body: |t| Box::pin(no_local(t)),
};

async fn no_local(t: &mut Test) -> Verdict {
    let topic = t.topic("n");
    let mut a = t.client("a").connect().await?;
    a.subscribe(&topic, Q0).no_local().granted().await?;
    let mut b = t.client("b").connect().await?;
    b.subscribe(&topic, Q0).granted().await?;
    // Control: another client's message reaches the No Local subscriber.
    b.publish(&topic).payload("from-b").send().await?;
    a.expect(publish(&topic).payload("from-b")).await?;
    b.expect(publish(&topic).payload("from-b")).await?;
    // Its own message goes to b only.
    a.publish(&topic).payload("from-a").send().await?;
    b.expect(publish(&topic).payload("from-a")).await?;
    a.expect_nothing(t.quiet())
        .await
        .map_err(|e| e.because(&[v5("MQTT-3.8.3-3")]))
}

/// Two overlapping subscriptions with Subscription Identifiers 1 and 2: one copy carrying both
/// identifiers (any order), or two copies carrying one identifier each. The report records
/// which.
const OVERLAPPING_IDS: Case = Case {
    id: "subscribe.overlapping-subscription-identifiers",
    title: "Overlapping subscriptions' Subscription Identifiers come with the messages",
    protocols: V5,
    statements: &[v5("MQTT-3.3.4-3"), v5("MQTT-3.3.4-4"), v5("MQTT-3.3.4-5")],
    requires: &[Wildcards, SubscriptionIdentifiers],
    body: |t| Box::pin(overlapping_ids(t)),
};

async fn overlapping_ids(t: &mut Test) -> Verdict {
    let p = t.prefix();
    let topic = format!("{p}/a");
    let mut s = t.client("sub").connect().await?;
    s.subscribe(&format!("{p}/+"), Q0).id(1).granted().await?;
    s.subscribe(&topic, Q0).id(2).granted().await?;
    let mut publ = t.client("pub").connect().await?;
    publ.publish(&topic).payload("m").send().await?;
    let ids_of = |m: &Publish| {
        let mut ids = m.properties.subscription_identifiers.clone();
        ids.sort_unstable();
        ids
    };
    let first = s
        .expect(publish(&topic))
        .because(&[v5("MQTT-3.3.4-3")])
        .await?;
    let ids = ids_of(&first);
    if ids == [1, 2] {
        t.observe("one copy carrying both Subscription Identifiers");
        return Ok(());
    }
    if ids.len() != 1 {
        return Err(CaseError::fail(
            "one copy with Subscription Identifiers 1 and 2, or a copy per subscription with its own",
            format!("a copy with identifiers {ids:?}"),
        )
        .because(&[v5("MQTT-3.3.4-3"), v5("MQTT-3.3.4-4"), v5("MQTT-3.3.4-5")]));
    }
    t.observe("a copy per subscription, each with its own identifier");
    let want = if ids == [1] { 2 } else { 1 };
    s.expect(
        publish(&topic).satisfies(format!("Subscription Identifier {want}"), move |m| {
            let ids = &m.properties.subscription_identifiers;
            if ids[..] == [want] {
                Ok(())
            } else {
                Err(format!("identifiers {ids:?}"))
            }
        }),
    )
    .because(&[v5("MQTT-3.3.4-3"), v5("MQTT-3.3.4-5")])
    .await?;
    Ok(())
}

/// A 3.1.1 server without wildcard support refuses a wildcard filter (SUBACK 0x80). Runs only
/// against such a server (the probe or the profile says wildcards are unsupported); skipped
/// otherwise.
const NO_WILDCARDS: Case = Case {
    id: "subscribe.wildcards-refused-when-unsupported",
    title: "A server without wildcard support refuses wildcard filters",
    protocols: V311,
    statements: &[v311("MQTT-3.8.3-2")],
    requires: &[],
    body: |t| Box::pin(no_wildcards(t)),
};

async fn no_wildcards(t: &mut Test) -> Verdict {
    if t.capabilities().wildcards {
        return Err(skip(
            "the target supports wildcard subscriptions (the rule is for servers that do not)",
        ));
    }
    let p = t.prefix();
    let mut s = t.client("sub").connect().await?;
    let ack = s.subscribe(&format!("{p}/+"), Q0).suback().await?;
    check(
        ack.reason_codes.first() == Some(&ReasonCode(0x80)),
        "SUBACK 0x80 (Failure) for a wildcard filter",
        || summary::packet(&Packet::SubAck(ack.clone())),
    )
    .map_err(|e| e.because(&[v311("MQTT-3.8.3-2")]))
}

/// Every combination of the subscription options, judged by what is delivered.
const OPTIONS_MATRIX: Case = Case {
    id: "subscribe.generated-options-matrix",
    title: "QoS x No Local x Retain As Published x Retain Handling, with and without a retained message, new and existing subscription",
    protocols: V5,
    statements: &[
        v5("MQTT-3.3.1-9"),
        v5("MQTT-3.3.1-10"),
        v5("MQTT-3.3.1-11"),
        v5("MQTT-3.3.1-12"),
        v5("MQTT-3.3.1-13"),
        v5("MQTT-3.8.3-3"),
        v5("MQTT-3.8.4-3"),
        v5("MQTT-3.8.4-4"),
        v5("MQTT-3.8.4-8"),
    ],
    requires: &[Retain],
    body: |t| Box::pin(options_matrix(t)),
};

/// One combination of the options matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Options {
    pub(crate) qos: QoS,
    pub(crate) no_local: bool,
    pub(crate) retain_as_published: bool,
    pub(crate) retain_handling: RetainHandling,
    /// A retained message is on the topic before the subscription.
    pub(crate) retained: bool,
    /// The subscription exists (made before with other options) when it is made.
    pub(crate) existing: bool,
}

impl Options {
    /// Every combination: 3 x 2 x 2 x 3 x 2 x 2 = 144.
    pub(crate) fn all() -> Vec<Options> {
        let mut out = Vec::new();
        for qos in [Q0, Q1, Q2] {
            for no_local in [false, true] {
                for retain_as_published in [false, true] {
                    for retain_handling in [
                        RetainHandling::SendAtSubscribe,
                        RetainHandling::SendAtSubscribeIfNew,
                        RetainHandling::DoNotSend,
                    ] {
                        for retained in [false, true] {
                            for existing in [false, true] {
                                out.push(Options {
                                    qos,
                                    no_local,
                                    retain_as_published,
                                    retain_handling,
                                    retained,
                                    existing,
                                });
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// Whether the retained message comes when the subscription is made: Retain Handling 0
    /// always (5.0 MQTT-3.3.1-9, MQTT-3.8.4-4), 1 for a new subscription only (MQTT-3.3.1-10),
    /// 2 never (MQTT-3.3.1-11).
    pub(crate) fn retained_sent(&self) -> bool {
        self.retained
            && match self.retain_handling {
                RetainHandling::SendAtSubscribe => true,
                RetainHandling::SendAtSubscribeIfNew => !self.existing,
                RetainHandling::DoNotSend => false,
            }
    }

    fn describe(&self) -> String {
        format!(
            "QoS {} NL {} RAP {} RH {}, {}, {} subscription",
            self.qos.as_u8(),
            u8::from(self.no_local),
            u8::from(self.retain_as_published),
            self.retain_handling as u8,
            if self.retained { "retained message" } else { "no retained message" },
            if self.existing { "existing" } else { "new" }
        )
    }
}

/// One delivery the options matrix expects: payload, RETAIN, QoS.
type Delivery = (&'static str, bool, QoS);

async fn options_matrix(t: &mut Test) -> Verdict {
    let t: &Test = t;
    let all = Options::all();
    let max = t.capabilities().max_qos;
    let top = QoS::from_u8(max).unwrap_or(Q2);
    let topic = |i: usize| t.topic(&format!("o{i}"));
    let mut publ = t.client("pub").connect().await?;
    let mut sub = t.client("sub").connect().await?;
    // The retained messages, at the highest QoS the server takes.
    for (i, o) in all.iter().enumerate() {
        if o.retained {
            publ.publish(&topic(i)).qos(top).retain().payload("retained").acked().await?;
        }
    }
    let mut expected: Vec<Option<Vec<Delivery>>> = vec![None; all.len()];
    let mut refused = 0;
    for (i, o) in all.iter().enumerate() {
        if o.existing {
            // Made first with other options, and Retain Handling 2 (nothing sent now).
            let first = sub
                .subscribe(&topic(i), Q0)
                .retain_handling(RetainHandling::DoNotSend)
                .suback()
                .await?;
            if !first.reason_codes.iter().all(|c| c.is_success()) {
                refused += 1;
                continue;
            }
        }
        let mut s = sub.subscribe(&topic(i), o.qos).retain_handling(o.retain_handling);
        if o.no_local {
            s = s.no_local();
        }
        if o.retain_as_published {
            s = s.retain_as_published();
        }
        let ack = s.suback().await?;
        let Some(code) = ack.reason_codes.first().filter(|c| c.is_success()) else {
            refused += 1;
            continue;
        };
        let granted = QoS::from_u8(code.0).unwrap_or(Q0);
        let mut want = Vec::new();
        if o.retained_sent() {
            want.push(("retained", true, top.min(granted)));
        }
        if !o.no_local {
            want.push(("own", false, top.min(Q1).min(granted)));
        }
        want.push(("live", o.retain_as_published, top.min(granted)));
        expected[i] = Some(want);
    }
    // The live messages: one from the subscriber itself (RETAIN 0), one retained from the
    // publisher.
    for (i, e) in expected.iter().enumerate() {
        if e.is_some() {
            sub.publish(&topic(i)).qos(top.min(Q1)).payload("own").acked().await?;
            publ.publish(&topic(i)).qos(top).retain().payload("live").acked().await?;
        }
    }
    let judged = expected.iter().filter(|e| e.is_some()).count();
    if judged == 0 {
        return Err(skip("the server refused every subscription of the matrix"));
    }
    let index: std::collections::HashMap<String, usize> =
        (0..all.len()).map(|i| (topic(i), i)).collect();
    let mut got: Vec<Vec<Delivery>> = vec![Vec::new(); all.len()];
    let total: usize = expected.iter().flatten().map(Vec::len).sum();
    // The wait slides with each delivery of the matrix: a slow broker still delivering is
    // waited for; only an expectation timeout without any ends it (the mutation score found
    // the fixed wait too short with 250 ms more per QoS 2 acknowledgement).
    let mut deadline = tokio::time::Instant::now() + t.timeout() + Duration::from_secs(2);
    let mut quiet_until: Option<tokio::time::Instant> = None;
    loop {
        let now = tokio::time::Instant::now();
        let seen: usize = got.iter().map(Vec::len).sum();
        let until = if seen >= total {
            *quiet_until.get_or_insert(now + t.quiet())
        } else {
            deadline
        };
        if now >= until {
            break;
        }
        let Some(packet) = sub.poll_packet(until - now).await? else {
            continue;
        };
        let Packet::Publish(m) = packet else { continue };
        sub.ack(&m).await?;
        let Some(&i) = index.get(m.topic.as_str()) else {
            continue;
        };
        deadline = tokio::time::Instant::now() + t.timeout();
        let payload: &'static str = match &m.payload[..] {
            b"retained" => "retained",
            b"own" => "own",
            b"live" => "live",
            _ => "other",
        };
        got[i].push((payload, m.retain, m.qos));
    }
    publ.disconnect().await?;
    sub.disconnect().await?;
    if refused > 0 {
        t.observe(format!("the server refused {refused} of the {} subscriptions (allowed; not judged)", all.len()));
    }
    t.observe(format!("{} combinations, {judged} judged", all.len()));
    let mut wrong = Vec::new();
    let mut cites = Vec::new();
    for (i, o) in all.iter().enumerate() {
        let Some(want) = &expected[i] else { continue };
        let mut got = got[i].clone();
        let mut problems = Vec::new();
        for w in want {
            match got.iter().position(|g| g == w) {
                Some(k) => {
                    got.remove(k);
                    // Further copies of a QoS 1 message are allowed ("at least once").
                    if w.2 == Q1 {
                        got.retain(|g| g != w);
                    }
                }
                None => {
                    problems.push(format!("no {} (RETAIN {}, QoS {})", w.0, u8::from(w.1), w.2.as_u8()));
                    cites.extend(statements_for(w.0, o));
                }
            }
        }
        for g in &got {
            problems.push(format!("an extra {} (RETAIN {}, QoS {})", g.0, u8::from(g.1), g.2.as_u8()));
            cites.extend(statements_for(g.0, o));
        }
        if !problems.is_empty() {
            wrong.push(format!("[{}] {}", o.describe(), problems.join(", ")));
        }
    }
    if wrong.is_empty() {
        return Ok(());
    }
    cites.sort_by_key(|s: &touchstone_codec::Statement| s.id);
    cites.dedup();
    let shown: Vec<&str> = wrong.iter().take(6).map(String::as_str).collect();
    Err(CaseError::fail(
        "for each combination: the retained message as Retain Handling says, the client's own message unless No Local, the live message with RETAIN as Retain As Published says, each at the lower of its QoS and the granted one",
        format!(
            "{} of {judged} combinations wrong: {}{}",
            wrong.len(),
            shown.join("; "),
            if wrong.len() > 6 { format!("; and {} more", wrong.len() - 6) } else { String::new() }
        ),
    )
    .because(&cites))
}

/// The statements a wrong delivery of `what` under `o` breaks.
fn statements_for(what: &str, o: &Options) -> Vec<touchstone_codec::Statement> {
    let mut s = vec![v5("MQTT-3.8.4-8")];
    match what {
        "retained" => s.push(match o.retain_handling {
            RetainHandling::SendAtSubscribe if o.existing => v5("MQTT-3.8.4-4"),
            RetainHandling::SendAtSubscribe => v5("MQTT-3.3.1-9"),
            RetainHandling::SendAtSubscribeIfNew => v5("MQTT-3.3.1-10"),
            RetainHandling::DoNotSend => v5("MQTT-3.3.1-11"),
        }),
        "own" => s.push(v5("MQTT-3.8.3-3")),
        _ => s.push(if o.retain_as_published {
            v5("MQTT-3.3.1-13")
        } else {
            v5("MQTT-3.3.1-12")
        }),
    }
    if o.existing {
        s.push(v5("MQTT-3.8.4-3"));
    }
    s
}
