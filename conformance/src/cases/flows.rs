//! QoS 1 and QoS 2 flows in both directions: redelivery with DUP after reconnect, packet
//! identifiers, duplicates, failed acknowledgements, ordering, overlapping subscriptions.

use touchstone_codec::{PubAck, PubComp, PubRec};

use super::prelude::*;

pub(crate) const CASES: &[Case] = &[
    REDELIVER_QOS1,
    REDELIVER_QOS2,
    DUP_NOT_COPIED,
    QOS3_CLOSES,
    ORDER,
    SERVER_IDS,
    NEW_AFTER_PUBACK,
    QOS2_REPEATED,
    FAILED_PUBACK,
    OVERLAP,
    INFLIGHT_NOT_EXPIRED,
    COMPLETES_EXPIRED,
    PUBREL_UNKNOWN,
];

/// A PUBREL for a packet id the server holds nothing for is still answered.
///
/// ```text
/// c -> PUBREL id=4242 (no QoS 2 PUBLISH was sent with it)
/// c <- PUBCOMP id=4242 (0x92 Packet Identifier not found is the likely code; any is accepted)
/// ```
const PUBREL_UNKNOWN: Case = Case {
    id: "flows.pubrel-unknown-id-answered",
    title: "A PUBREL for a packet id the server does not hold is answered with PUBCOMP",
    protocols: V5,
    statements: &[v5("MQTT-4.3.3-11")],
    requires: &[Qos2],
    body: |t| Box::pin(pubrel_unknown(t)),
};

async fn pubrel_unknown(t: &mut Test) -> Verdict {
    let mut c = t.client("c").connect().await?;
    let unknown = PacketId::new(4242).unwrap_or(PacketId::MIN);
    c.send(Packet::PubRel(touchstone_codec::PubRel::new(unknown)))
        .await?;
    let comp = c
        .expect(pubcomp(unknown))
        .because(&[v5("MQTT-4.3.3-11")])
        .await?;
    t.observe(format!(
        "PUBCOMP with reason code {:#04x}",
        comp.reason_code.0
    ));
    c.disconnect().await
}

/// The packet id of a PUBLISH the server sent at QoS 1 or 2.
fn pid(m: &Publish) -> Result<PacketId, CaseError> {
    m.packet_id
        .ok_or_else(|| CaseError::fail("a packet id on a QoS > 0 PUBLISH", "none"))
}

/// A PUBLISH with this packet id (for redeliveries).
fn same_id(id: PacketId) -> impl Fn(&Publish) -> Result<(), String> + Send + Sync + 'static {
    move |p: &Publish| match p.packet_id {
        Some(got) if got == id => Ok(()),
        Some(got) => Err(format!("packet id {got}, not {id}")),
        None => Err("no packet id".into()),
    }
}

/// An unacknowledged QoS 1 delivery is sent again, with DUP 1 and the same packet id, when the
/// persistent session's client reconnects.
const REDELIVER_QOS1: Case = Case {
    id: "flows.qos1-redelivered-with-dup-after-reconnect",
    title:
        "An unacknowledged QoS 1 PUBLISH is re-sent on reconnect with DUP 1 and the same packet id",
    protocols: BOTH,
    statements: &[
        v311("MQTT-3.3.1-1"),
        v311("MQTT-4.4.0-1"),
        v311("MQTT-4.3.2-1"),
        v5("MQTT-3.3.1-1"),
        v5("MQTT-4.4.0-1"),
        v5("MQTT-4.3.2-3"),
        v5("MQTT-3.4.2-1"),
    ],
    requires: &[Qos1],
    body: |t| Box::pin(redeliver_qos1(t)),
};

async fn redeliver_qos1(t: &mut Test) -> Verdict {
    let topic = t.topic("r1");
    let mut sub = t.client("sub").persistent_session().connect().await?;
    let granted = sub.subscribe(&topic, Q1).granted().await?;
    need_granted(&granted, Q1)?;
    let mut publ = t.client("pub").connect().await?;
    publ.publish(&topic)
        .qos(Q1)
        .payload("again")
        .acked()
        .await?;
    // Received, not acknowledged, and the client goes away.
    let m = sub
        .expect(publish(&topic).qos(Q1).dup(false).payload("again"))
        .await?;
    let id = pid(&m)?;
    sub.disconnect().await?;

    // Back on the same session: the same message, DUP 1, the same packet id.
    let mut sub = sub.reconnect().send_connect().await?;
    sub.expect(connack().accepted().session_present(true))
        .await?;
    let again = sub
        .expect(
            publish(&topic)
                .qos(Q1)
                .dup(true)
                .payload("again")
                .satisfies(format!("packet id {id}"), same_id(id)),
        )
        .because(&cite_all(
            t,
            &["MQTT-3.3.1-1", "MQTT-4.4.0-1", "MQTT-4.3.2-1"],
            &["MQTT-3.3.1-1", "MQTT-4.4.0-1", "MQTT-4.3.2-3"],
        ))
        .await?;
    sub.ack(&again).await?;
    // Acknowledged now: not sent a third time.
    sub.expect_nothing(t.quiet()).await
}

/// QoS 2 towards a subscriber that reconnects twice: the unacknowledged PUBLISH comes again with
/// DUP 1; after PUBREC the PUBREL comes, and after another reconnect only the PUBREL is re-sent,
/// never the PUBLISH.
const REDELIVER_QOS2: Case = Case {
    id: "flows.qos2-publish-then-pubrel-redelivered",
    title: "QoS 2: the unacknowledged PUBLISH (DUP 1), then the unacknowledged PUBREL, are re-sent on reconnect",
    protocols: BOTH,
    statements: &[
        v311("MQTT-3.3.1-1"),
        v311("MQTT-4.4.0-1"),
        v311("MQTT-4.3.3-1"),
        v5("MQTT-3.3.1-1"),
        v5("MQTT-4.4.0-1"),
        v5("MQTT-4.3.3-3"),
        v5("MQTT-4.3.3-5"),
        v5("MQTT-4.3.3-6"),
        v5("MQTT-3.5.2-1"),
        v5("MQTT-3.6.2-1"),
        v5("MQTT-3.7.2-1"),
    ],
    requires: &[Qos2],
    body: |t| Box::pin(redeliver_qos2(t)),
};

async fn redeliver_qos2(t: &mut Test) -> Verdict {
    let topic = t.topic("r2");
    let mut sub = t.client("sub").persistent_session().connect().await?;
    let granted = sub.subscribe(&topic, Q2).granted().await?;
    need_granted(&granted, Q2)?;
    let mut publ = t.client("pub").connect().await?;
    // PUBREC, PUBREL, PUBCOMP towards the publisher (5.0: defined reason codes only, which the
    // strict decoder checks).
    publ.publish(&topic)
        .qos(Q2)
        .payload("twice")
        .acked()
        .await?;
    let m = sub
        .expect(publish(&topic).qos(Q2).dup(false).payload("twice"))
        .await?;
    let id = pid(&m)?;
    // No PUBREC: the PUBLISH stays unacknowledged.
    sub.disconnect().await?;

    let mut sub = sub.reconnect().send_connect().await?;
    sub.expect(connack().accepted().session_present(true))
        .await?;
    sub.expect(
        publish(&topic)
            .qos(Q2)
            .dup(true)
            .payload("twice")
            .satisfies(format!("packet id {id}"), same_id(id)),
    )
    .because(&cite_all(
        t,
        &["MQTT-3.3.1-1", "MQTT-4.4.0-1", "MQTT-4.3.3-1"],
        &["MQTT-3.3.1-1", "MQTT-4.4.0-1", "MQTT-4.3.3-3"],
    ))
    .await?;
    // PUBREC now: the server's PUBREL with the same id; no PUBCOMP yet.
    sub.send(Packet::PubRec(PubRec::new(id))).await?;
    sub.expect(pubrel(id))
        .because(&cite(t, "MQTT-4.3.3-1", "MQTT-4.3.3-4"))
        .await?;
    sub.disconnect().await?;

    // The PUBREL is re-sent with the same id, and the PUBLISH is not.
    let mut sub = sub.reconnect().send_connect().await?;
    sub.expect(connack().accepted().session_present(true))
        .await?;
    sub.expect(pubrel(id))
        .because(&cite_all(
            t,
            &["MQTT-4.4.0-1", "MQTT-4.3.3-1"],
            &["MQTT-4.4.0-1", "MQTT-4.3.3-5"],
        ))
        .await?;
    sub.send(Packet::PubComp(PubComp::new(id))).await?;
    sub.expect_nothing(t.quiet())
        .await
        .map_err(|e| e.because(&cite(t, "MQTT-4.3.3-1", "MQTT-4.3.3-6")))
}

/// The DUP flag of a PUBLISH the server receives is not copied to the PUBLISHes it sends.
const DUP_NOT_COPIED: Case = Case {
    id: "flows.incoming-dup-not-forwarded",
    title: "A PUBLISH received with DUP 1 is delivered with DUP 0 (a first delivery)",
    protocols: BOTH,
    statements: &[v311("MQTT-3.3.1-3"), v5("MQTT-3.3.1-3")],
    requires: &[Qos1],
    body: |t| Box::pin(dup_not_copied(t)),
};

async fn dup_not_copied(t: &mut Test) -> Verdict {
    let topic = t.topic("dup");
    let mut sub = t.client("sub").connect().await?;
    let granted = sub.subscribe(&topic, Q1).granted().await?;
    need_granted(&granted, Q1)?;
    let mut publ = t.client("pub").connect().await?;
    publ.publish(&topic)
        .qos(Q1)
        .dup()
        .payload("dup from the publisher")
        .acked()
        .await?;
    let m = sub
        .expect(
            publish(&topic)
                .qos(Q1)
                .dup(false)
                .payload("dup from the publisher"),
        )
        .because(&cite(t, "MQTT-3.3.1-3", "MQTT-3.3.1-3"))
        .await?;
    sub.ack(&m).await
}

/// A PUBLISH with both QoS bits set is malformed: the server closes the connection.
const QOS3_CLOSES: Case = Case {
    id: "flows.qos3-publish-closes",
    title: "A PUBLISH with QoS 3 makes the server close the connection",
    protocols: V311,
    statements: &[v311("MQTT-3.3.1-4")],
    requires: &[],
    body: |t| Box::pin(qos3_closes(t)),
};

async fn qos3_closes(t: &mut Test) -> Verdict {
    let topic = t.topic("q3");
    let mut a = t.client("a").connect().await?;
    // PUBLISH, flags 0110 (QoS 3), topic, packet id 1, payload "3".
    let mut bytes = vec![0x36];
    let body_len = 2 + topic.len() + 2 + 1;
    bytes.push(u8::try_from(body_len).map_err(|_| CaseError::Error("topic too long".into()))?);
    bytes.extend_from_slice(&u16::try_from(topic.len()).unwrap_or(0).to_be_bytes());
    bytes.extend_from_slice(topic.as_bytes());
    bytes.extend_from_slice(&[0x00, 0x01, b'3']);
    a.send_raw(bytes).await?;
    a.expect_closed()
        .because(&[v311("MQTT-3.3.1-4")])
        .await
        .map(|_| ())
}

/// Several QoS 1 messages from one publisher on one topic reach a subscriber in the order sent.
const ORDER: Case = Case {
    id: "flows.qos1-order-kept",
    title:
        "QoS 1 messages on one topic from one publisher are delivered in the order they were sent",
    protocols: BOTH,
    statements: &[
        v311("MQTT-4.6.0-5"),
        v311("MQTT-4.6.0-6"),
        v5("MQTT-4.6.0-5"),
        v5("MQTT-4.6.0-6"),
    ],
    requires: &[Qos1],
    body: |t| Box::pin(order(t)),
};

const ORDER_COUNT: usize = 6;

async fn order(t: &mut Test) -> Verdict {
    let topic = t.topic("o");
    let mut sub = t.client("sub").connect().await?;
    let granted = sub.subscribe(&topic, Q1).granted().await?;
    need_granted(&granted, Q1)?;
    let mut publ = t.client("pub").connect().await?;
    // Sent back to back, acknowledgements collected afterwards.
    let mut ids = Vec::new();
    for i in 1..=ORDER_COUNT {
        let id = publ
            .publish(&topic)
            .qos(Q1)
            .payload(format!("m{i}"))
            .send()
            .await?;
        ids.extend(id);
    }
    for id in ids {
        publ.expect(puback(id).success()).await?;
    }
    let because = cite_all(
        t,
        &["MQTT-4.6.0-5", "MQTT-4.6.0-6"],
        &["MQTT-4.6.0-5", "MQTT-4.6.0-6"],
    );
    for i in 1..=ORDER_COUNT {
        let m = sub
            .expect(publish(&topic).payload(format!("m{i}")))
            .because(&because)
            .await?;
        sub.ack(&m).await?;
    }
    Ok(())
}

/// The server's own QoS 1 and QoS 2 PUBLISHes carry non-zero packet ids, none reused while the
/// earlier message is still unacknowledged.
const SERVER_IDS: Case = Case {
    id: "flows.server-packet-ids-unique-in-flight",
    title: "The server gives each QoS 1/2 PUBLISH it sends a non-zero packet id not in use",
    protocols: BOTH,
    statements: &[
        v311("MQTT-2.3.1-4"),
        v5("MQTT-2.2.1-4"),
        v5("MQTT-4.3.2-1"),
        v5("MQTT-4.3.3-1"),
    ],
    requires: &[Qos2],
    body: |t| Box::pin(server_ids(t)),
};

async fn server_ids(t: &mut Test) -> Verdict {
    let topic = t.topic("ids");
    let mut sub = t.client("sub").connect().await?;
    let granted = sub.subscribe(&topic, Q2).granted().await?;
    need_granted(&granted, Q2)?;
    let mut publ = t.client("pub").connect().await?;
    let qos = [Q1, Q2, Q1, Q2, Q1, Q2];
    for (i, q) in qos.iter().enumerate() {
        publ.publish(&topic)
            .qos(*q)
            .payload(format!("n{i}"))
            .acked()
            .await?;
    }
    // Nothing is acknowledged while the PUBLISHes come, so the ids of all those received are
    // in use at once. A server may keep fewer in flight (3.1.1 sets no minimum; in 5.0 the
    // Receive Maximum is only an upper bound): when the next one does not come, the oldest is
    // acknowledged, which frees its id, and the wait goes on. In any order: the order is fixed
    // only among messages of the same QoS (5.0 section 4.6; 3.1.1 fixes none between QoS 1 and
    // QoS 2). (Zero ids are rejected by the strict decoder.)
    let mut in_flight: Vec<Publish> = Vec::new();
    let mut most = 0;
    let mut got = [false; 6];
    for _ in 0..qos.len() {
        while !in_flight.is_empty() && !sub.arrives(&publish(&topic), t.quiet()).await? {
            let oldest = in_flight.remove(0);
            sub.ack(&oldest).await?;
        }
        let m = sub.expect(publish(&topic)).await?;
        let index =
            (0..qos.len()).find(|i| !got[*i] && m.payload.as_ref() == format!("n{i}").as_bytes());
        let Some(i) = index else {
            return Err(CaseError::fail(
                "sub: each of n0..n5 once",
                summary::packet(&Packet::Publish(m)),
            ));
        };
        got[i] = true;
        check(m.qos == qos[i], format!("\"n{i}\" at {:?}", qos[i]), || {
            summary::packet(&Packet::Publish(m.clone()))
        })?;
        let id = pid(&m)?;
        if in_flight.iter().any(|p| p.packet_id == Some(id)) {
            return Err(CaseError::fail(
                "sub: a packet id not in use by an unacknowledged PUBLISH",
                format!("packet id {id} again for \"n{i}\" while still in flight"),
            )
            .because(&cite_all(
                t,
                &["MQTT-2.3.1-4"],
                &["MQTT-2.2.1-4", "MQTT-4.3.2-1", "MQTT-4.3.3-1"],
            )));
        }
        in_flight.push(m);
        most = most.max(in_flight.len());
    }
    if most < qos.len() {
        t.observe(format!(
            "the server kept at most {most} of the {} PUBLISHes in flight, sending the next after an acknowledgement",
            qos.len()
        ));
    }
    for m in &in_flight {
        sub.ack(m).await?;
    }
    sub.expect_nothing(t.quiet()).await
}

/// After PUBACK, a PUBLISH reusing the packet id is a new message (even with DUP 1).
const NEW_AFTER_PUBACK: Case = Case {
    id: "flows.same-id-after-puback-is-new-message",
    title: "After PUBACK, a QoS 1 PUBLISH with the same packet id and DUP 1 is a new message",
    protocols: BOTH,
    statements: &[v311("MQTT-4.3.2-2"), v5("MQTT-4.3.2-5")],
    requires: &[Qos1],
    body: |t| Box::pin(new_after_puback(t)),
};

async fn new_after_puback(t: &mut Test) -> Verdict {
    let topic = t.topic("reuse1");
    let mut sub = t.client("sub").connect().await?;
    let granted = sub.subscribe(&topic, Q1).granted().await?;
    need_granted(&granted, Q1)?;
    let mut publ = t.client("pub").connect().await?;
    let id = PacketId::new(7).unwrap_or(PacketId::MIN);
    publ.publish(&topic)
        .qos(Q1)
        .packet_id(id)
        .payload("first")
        .acked()
        .await?;
    publ.publish(&topic)
        .qos(Q1)
        .packet_id(id)
        .dup()
        .payload("second")
        .acked()
        .await?;
    let because = cite(t, "MQTT-4.3.2-2", "MQTT-4.3.2-5");
    let m = sub
        .expect(publish(&topic).payload("first"))
        .because(&because)
        .await?;
    sub.ack(&m).await?;
    let m = sub
        .expect(publish(&topic).payload("second"))
        .because(&because)
        .await?;
    sub.ack(&m).await
}

/// QoS 2 towards the server: a repeated PUBLISH before PUBREL gets another PUBREC and is
/// delivered once; after PUBCOMP the packet id starts a new message.
const QOS2_REPEATED: Case = Case {
    id: "flows.qos2-duplicate-before-pubrel-delivered-once",
    title: "QoS 2: a PUBLISH repeated before PUBREL gets PUBREC again and is delivered once; after PUBCOMP the id is new",
    protocols: BOTH,
    statements: &[
        v311("MQTT-4.3.3-2"),
        v5("MQTT-4.3.3-10"),
        v5("MQTT-4.3.3-12"),
        v5("MQTT-3.5.2-1"),
        v5("MQTT-3.7.2-1"),
    ],
    requires: &[Qos2],
    body: |t| Box::pin(qos2_repeated(t)),
};

async fn qos2_repeated(t: &mut Test) -> Verdict {
    let topic = t.topic("reuse2");
    let mut sub = t.client("sub").connect().await?;
    let granted = sub.subscribe(&topic, Q2).granted().await?;
    need_granted(&granted, Q2)?;
    let mut publ = t.client("pub").connect().await?;
    let id = PacketId::new(9).unwrap_or(PacketId::MIN);
    let repeat = cite(t, "MQTT-4.3.3-2", "MQTT-4.3.3-10");
    publ.publish(&topic)
        .qos(Q2)
        .packet_id(id)
        .payload("once")
        .send()
        .await?;
    publ.expect(pubrec(id).success()).await?;
    // The same PUBLISH again (DUP 1) before PUBREL: another PUBREC.
    publ.publish(&topic)
        .qos(Q2)
        .packet_id(id)
        .dup()
        .payload("once")
        .send()
        .await?;
    publ.expect(pubrec(id).success()).because(&repeat).await?;
    publ.send(Packet::PubRel(touchstone_codec::PubRel::new(id)))
        .await?;
    publ.expect(pubcomp(id).success()).await?;
    // Delivered onward exactly once.
    let m = sub
        .expect(publish(&topic).payload("once"))
        .because(&repeat)
        .await?;
    sub.ack(&m).await?;
    sub.expect_nothing(t.quiet())
        .await
        .map_err(|e| e.because(&repeat))?;
    // After PUBCOMP the same id is a new message.
    publ.publish(&topic)
        .qos(Q2)
        .packet_id(id)
        .payload("new")
        .acked()
        .await?;
    let m = sub
        .expect(publish(&topic).payload("new"))
        .because(&cite(t, "MQTT-4.3.3-2", "MQTT-4.3.3-12"))
        .await?;
    sub.ack(&m).await
}

/// A delivery the subscriber refused with PUBACK 0x80 counts as acknowledged: not re-sent after
/// reconnect (while an unacknowledged one is).
const FAILED_PUBACK: Case = Case {
    id: "flows.failed-puback-not-redelivered",
    title: "A PUBLISH answered with PUBACK 0x80 is not re-sent on reconnect; an unanswered one is",
    protocols: V5,
    statements: &[v5("MQTT-4.4.0-2"), v5("MQTT-4.4.0-1")],
    requires: &[Qos1],
    body: |t| Box::pin(failed_puback(t)),
};

async fn failed_puback(t: &mut Test) -> Verdict {
    let topic = t.topic("refused");
    let mut sub = t.client("sub").persistent_session().connect().await?;
    let granted = sub.subscribe(&topic, Q1).granted().await?;
    need_granted(&granted, Q1)?;
    let mut publ = t.client("pub").connect().await?;
    publ.publish(&topic)
        .qos(Q1)
        .payload("refused")
        .acked()
        .await?;
    publ.publish(&topic)
        .qos(Q1)
        .payload("pending")
        .acked()
        .await?;
    let refused = sub
        .expect(publish(&topic).qos(Q1).payload("refused"))
        .await?;
    // Refuse the first (0x80 Unspecified error), leave the second unanswered. The refusal goes
    // once the second has come, or before it if it does not come: a server may keep one
    // PUBLISH in flight at a time.
    sub.arrives(&publish(&topic).payload("pending"), t.quiet())
        .await?;
    let mut ack = PubAck::new(pid(&refused)?);
    ack.reason_code = ReasonCode(0x80);
    sub.send(Packet::PubAck(ack)).await?;
    sub.expect(publish(&topic).qos(Q1).payload("pending"))
        .await?;
    // PINGRESP: the server has read the refusal, which comes before the PINGREQ (else the new
    // connection's CONNECT could overtake it in a server handling connections concurrently).
    sub.ping().await?;
    sub.disconnect().await?;

    let mut sub = sub.reconnect().send_connect().await?;
    sub.expect(connack().accepted().session_present(true))
        .await?;
    // Only the unanswered one comes again (in order, so a re-sent "refused" would come first).
    let m = sub
        .expect(publish(&topic).dup(true).payload("pending"))
        .because(&[v5("MQTT-4.4.0-2"), v5("MQTT-4.4.0-1")])
        .await?;
    sub.ack(&m).await?;
    sub.expect_nothing(t.quiet())
        .await
        .map_err(|e| e.because(&[v5("MQTT-4.4.0-2")]))
}

/// Two subscriptions of one client match a QoS 1 message, at QoS 0 and QoS 1: a copy comes at
/// QoS 1 (one copy, or one per subscription).
const OVERLAP: Case = Case {
    id: "flows.overlapping-subscriptions-highest-qos",
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

/// 5.0: once a QoS 2 PUBLISH has gone to the subscriber, its Message Expiry no longer applies:
/// after the interval has passed it is still re-sent on reconnect.
const INFLIGHT_NOT_EXPIRED: Case = Case {
    id: "flows.qos2-in-flight-not-expired",
    title: "A QoS 2 PUBLISH already sent is re-sent on reconnect even after its Message Expiry Interval",
    protocols: V5,
    statements: &[v5("MQTT-4.3.3-7"), v5("MQTT-4.4.0-1")],
    requires: &[Qos2],
    body: |t| Box::pin(inflight_not_expired(t)),
};

async fn inflight_not_expired(t: &mut Test) -> Verdict {
    let topic = t.topic("exp");
    let mut sub = t.client("sub").persistent_session().connect().await?;
    let granted = sub.subscribe(&topic, Q2).granted().await?;
    need_granted(&granted, Q2)?;
    let mut publ = t.client("pub").connect().await?;
    publ.publish(&topic)
        .qos(Q2)
        .properties(|p| p.message_expiry_interval = Some(1))
        .payload("short-lived")
        .acked()
        .await?;
    let m = sub
        .expect(publish(&topic).qos(Q2).payload("short-lived"))
        .await?;
    let id = pid(&m)?;
    sub.disconnect().await?;
    // The interval passes while the PUBLISH is unacknowledged.
    t.sleep(Duration::from_millis(2000)).await;
    let mut sub = sub.reconnect().send_connect().await?;
    sub.expect(connack().accepted().session_present(true))
        .await?;
    let again = sub
        .expect(
            publish(&topic)
                .qos(Q2)
                .dup(true)
                .payload("short-lived")
                .satisfies(format!("packet id {id}"), same_id(id)),
        )
        .because(&[v5("MQTT-4.3.3-7"), v5("MQTT-4.4.0-1")])
        .await?;
    sub.ack(&again).await
}

/// 5.0: the server completes a QoS 2 exchange from a publisher even after the message's expiry
/// has passed: PUBCOMP with a success code for the late PUBREL.
const COMPLETES_EXPIRED: Case = Case {
    id: "flows.qos2-handshake-completed-after-expiry",
    title: "The server answers a PUBREL with a successful PUBCOMP after the message has expired",
    protocols: V5,
    statements: &[v5("MQTT-4.3.3-13"), v5("MQTT-3.7.2-1")],
    requires: &[Qos2],
    body: |t| Box::pin(completes_expired(t)),
};

async fn completes_expired(t: &mut Test) -> Verdict {
    let topic = t.topic("late-rel");
    let mut publ = t.client("pub").connect().await?;
    let id = publ
        .publish(&topic)
        .qos(Q2)
        .properties(|p| p.message_expiry_interval = Some(1))
        .payload("expires")
        .send()
        .await?
        .ok_or_else(|| CaseError::Error("no packet id".into()))?;
    publ.expect(pubrec(id).success()).await?;
    // PUBREL only after the message has expired.
    t.sleep(Duration::from_millis(1600)).await;
    publ.send(Packet::PubRel(touchstone_codec::PubRel::new(id)))
        .await?;
    publ.expect(pubcomp(id).success())
        .because(&[v5("MQTT-4.3.3-13")])
        .await?;
    Ok(())
}
