//! Quality of Service levels and protocol flows (section 4.3): QoS 0, 1 and 2 both ways, the
//! QoS of delivery, packet identifiers in flight, duplicates, PUBREL for an unknown id.

use crate::cases::prelude::*;

pub(crate) const CASES: &[Case] = &[
    DUP_NOT_COPIED,
    QOS3_CLOSES,
    SERVER_IDS,
    NEW_AFTER_PUBACK,
    QOS2_REPEATED,
    PUBREL_UNKNOWN,
    QOS0,
    QOS1,
    QOS2,
    DOWNGRADE,
    GRANT_BINDS,
];

/// A PUBREL for a packet id the server holds nothing for is still answered.
///
/// ```text
/// c -> PUBREL id=4242 (no QoS 2 PUBLISH was sent with it)
/// c <- PUBCOMP id=4242 (0x92 Packet Identifier not found is the likely code; any is accepted)
/// ```
const PUBREL_UNKNOWN: Case = Case {
    id: "qos.pubrel-unknown-id-answered",
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

/// The DUP flag of a PUBLISH the server receives is not copied to the PUBLISHes it sends.
const DUP_NOT_COPIED: Case = Case {
    id: "qos.incoming-dup-not-forwarded",
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
    id: "qos.qos3-publish-closes",
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

/// The server's own QoS 1 and QoS 2 PUBLISHes carry non-zero packet ids, none reused while the
/// earlier message is still unacknowledged.
const SERVER_IDS: Case = Case {
    id: "qos.server-packet-ids-unique-in-flight",
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
    id: "qos.same-id-after-puback-is-new-message",
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
    id: "qos.qos2-duplicate-before-pubrel-delivered-once",
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

/// QoS 0: delivered with QoS 0 and DUP 0, and nothing acknowledges it.
const QOS0: Case = Case {
    id: "qos.qos0-round-trip",
    title: "A QoS 0 message is delivered with QoS 0, DUP 0, and not acknowledged",
    protocols: BOTH,
    statements: &[
        v311("MQTT-4.3.1-1"),
        v311("MQTT-3.3.4-1"),
        v311("MQTT-4.5.0-1"),
        v5("MQTT-4.3.1-1"),
        v5("MQTT-3.3.4-1"),
        v5("MQTT-4.5.0-1"),
    ],
    requires: &[],
    body: |t| Box::pin(qos0(t)),
};

async fn qos0(t: &mut Test) -> Verdict {
    let topic = t.topic("q0");
    let mut sub = t.client("sub").connect().await?;
    sub.subscribe(&topic, Q0).granted().await?;
    let mut publ = t.client("pub").connect().await?;
    publ.publish(&topic).payload("zero").send().await?;
    sub.expect(publish(&topic).qos(Q0).dup(false).payload("zero"))
        .because(&cite_all(
            t,
            &["MQTT-4.3.1-1", "MQTT-4.5.0-1"],
            &["MQTT-4.3.1-1", "MQTT-4.5.0-1"],
        ))
        .await?;
    // No PUBACK or PUBREC for QoS 0, and no second copy.
    let (p, s) = tokio::join!(publ.expect_nothing(t.quiet()), sub.expect_nothing(t.quiet()));
    p.map_err(|e| e.because(&cite(t, "MQTT-3.3.4-1", "MQTT-3.3.4-1")))?;
    s
}

/// QoS 1 both ways: PUBACK with the PUBLISH's packet id to the publisher; delivery with QoS 1,
/// DUP 0 and a packet id to the subscriber, which acknowledges it.
const QOS1: Case = Case {
    id: "qos.qos1-round-trip",
    title: "QoS 1: PUBACK with the same packet id, delivery at QoS 1 with DUP 0",
    protocols: BOTH,
    statements: &[
        v311("MQTT-2.3.1-6"),
        v311("MQTT-3.3.4-1"),
        v311("MQTT-4.3.2-1"),
        v311("MQTT-4.3.2-2"),
        v5("MQTT-2.2.1-5"),
        v5("MQTT-3.3.4-1"),
        v5("MQTT-4.3.2-2"),
        v5("MQTT-4.3.2-4"),
        v5("MQTT-4.4.0-1"),
    ],
    requires: &[Qos1],
    body: |t| Box::pin(qos1(t)),
};

async fn qos1(t: &mut Test) -> Verdict {
    let topic = t.topic("q1");
    let mut sub = t.client("sub").connect().await?;
    let granted = sub.subscribe(&topic, Q1).granted().await?;
    need_granted(&granted, Q1)?;
    let mut publ = t.client("pub").connect().await?;
    // PUBACK echoing the packet id (acked() checks it).
    publ.publish(&topic).qos(Q1).payload("one").acked().await?;
    let m = sub
        .expect(publish(&topic).qos(Q1).dup(false).payload("one"))
        .because(&cite(t, "MQTT-4.3.2-1", "MQTT-4.3.2-2"))
        .await?;
    sub.ack(&m).await?;
    // Acknowledged: the server sends nothing more to either side.
    let (p, s) = tokio::join!(publ.expect_nothing(t.quiet()), sub.expect_nothing(t.quiet()));
    p?;
    s.map_err(|e| {
        if t.is_v5() {
            e.because(&[v5("MQTT-4.4.0-1")])
        } else {
            e
        }
    })
}

/// QoS 2 both ways: PUBREC, PUBREL, PUBCOMP with the same packet id to the publisher; exactly
/// one delivery at QoS 2 with DUP 0, then PUBREL from the server for the subscriber's PUBREC.
const QOS2: Case = Case {
    id: "qos.qos2-round-trip",
    title: "QoS 2: PUBREC/PUBREL/PUBCOMP both ways with the same packet id, exactly one delivery",
    protocols: BOTH,
    statements: &[
        v311("MQTT-2.3.1-6"),
        v311("MQTT-4.3.3-1"),
        v311("MQTT-4.3.3-2"),
        v5("MQTT-2.2.1-5"),
        v5("MQTT-4.3.3-2"),
        v5("MQTT-4.3.3-4"),
        v5("MQTT-4.3.3-8"),
        v5("MQTT-4.3.3-11"),
    ],
    requires: &[Qos2],
    body: |t| Box::pin(qos2(t)),
};

async fn qos2(t: &mut Test) -> Verdict {
    let topic = t.topic("q2");
    let mut sub = t.client("sub").connect().await?;
    let granted = sub.subscribe(&topic, Q2).granted().await?;
    need_granted(&granted, Q2)?;
    let mut publ = t.client("pub").connect().await?;
    // PUBREC, then our PUBREL, then PUBCOMP, all with the packet id (acked() checks them).
    publ.publish(&topic)
        .qos(Q2)
        .payload("two")
        .acked()
        .await
        .map_err(|e| e.because(&cite_all(t, &["MQTT-4.3.3-2"], &["MQTT-4.3.3-8", "MQTT-4.3.3-11"])))?;
    let m = sub
        .expect(publish(&topic).qos(Q2).dup(false).payload("two"))
        .because(&cite(t, "MQTT-4.3.3-1", "MQTT-4.3.3-2"))
        .await?;
    // Our PUBREC; the server's PUBREL with the same id; our PUBCOMP.
    sub.ack(&m).await?;
    // Exactly once: no second copy, nothing more to the publisher.
    let (p, s) = tokio::join!(publ.expect_nothing(t.quiet()), sub.expect_nothing(t.quiet()));
    p?;
    s
}

/// Delivery uses the lower of the published QoS and the granted QoS.
const DOWNGRADE: Case = Case {
    id: "qos.delivery-at-lower-of-published-and-granted",
    title: "Messages are delivered at the lower of the published and the granted QoS",
    protocols: BOTH,
    statements: &[v311("MQTT-3.8.4-6"), v5("MQTT-3.8.4-8")],
    requires: &[Qos1],
    body: |t| Box::pin(downgrade(t)),
};

async fn downgrade(t: &mut Test) -> Verdict {
    let topic = t.topic("d");
    let because = cite(t, "MQTT-3.8.4-6", "MQTT-3.8.4-8");
    let mut s0 = t.client("sub-q0").connect().await?;
    s0.subscribe(&topic, Q0).granted().await?;
    let mut s1 = t.client("sub-q1").connect().await?;
    let granted = s1.subscribe(&topic, Q1).granted().await?;
    need_granted(&granted, Q1)?;
    let mut publ = t.client("pub").connect().await?;

    // Published at QoS 1: QoS 0 to the QoS 0 subscription, QoS 1 to the QoS 1 one.
    publ.publish(&topic).qos(Q1).payload("at 1").acked().await?;
    s0.expect(publish(&topic).qos(Q0).payload("at 1"))
        .because(&because)
        .await?;
    let m = s1
        .expect(publish(&topic).qos(Q1).payload("at 1"))
        .because(&because)
        .await?;
    s1.ack(&m).await?;

    // Published at QoS 0: QoS 0 to both.
    publ.publish(&topic).payload("at 0").send().await?;
    s1.expect(publish(&topic).qos(Q0).payload("at 0"))
        .because(&because)
        .await?;
    s0.expect(publish(&topic).qos(Q0).payload("at 0"))
        .because(&because)
        .await?;
    Ok(())
}

/// Whatever the SUBACK says binds what follows: a QoS 2 message goes out at the QoS granted,
/// and not at all on a subscription the SUBACK refused. The server may grant less than asked,
/// or refuse (section 3.9.3 of both versions); it may not then deliver as if it had not.
///
/// ```text
/// s -> SUBSCRIBE "d" QoS 2
/// s <- SUBACK [granted g, or a failure]
/// p -> PUBLISH "d" QoS 2
/// s <- PUBLISH "d" at QoS g (lower of 2 and g); after a failure: nothing
/// ```
const GRANT_BINDS: Case = Case {
    id: "qos.granted-qos-binds-deliveries",
    title: "A QoS 2 message is delivered at the QoS the SUBACK granted, and not at all after a refusal",
    protocols: BOTH,
    statements: &[
        v311("MQTT-3.8.4-5"),
        v311("MQTT-3.8.4-6"),
        v5("MQTT-3.8.4-7"),
        v5("MQTT-3.8.4-8"),
    ],
    requires: &[Qos2],
    body: |t| Box::pin(grant_binds(t)),
};

async fn grant_binds(t: &mut Test) -> Verdict {
    let topic = t.topic("g");
    let mut sub = t.client("sub").connect().await?;
    let ack = sub.subscribe(&topic, Q2).suback().await?;
    let code = ack
        .reason_codes
        .first()
        .copied()
        .ok_or_else(|| CaseError::Error("SUBACK without codes".into()))?;
    let granted = QoS::from_u8(code.0);
    let mut publ = t.client("pub").connect().await?;
    publ.publish(&topic).qos(Q2).payload("g").acked().await?;
    let Some(granted) = granted else {
        t.observe(format!(
            "the server refused the QoS 2 subscription ({}), which it may do",
            summary::reason(code)
        ));
        return sub
            .expect_nothing(t.quiet())
            .await
            .map_err(|e| e.because(&cite(t, "MQTT-3.8.4-5", "MQTT-3.8.4-7")));
    };
    if granted < Q2 {
        t.observe(format!("the server granted QoS {} for QoS 2", granted.as_u8()));
    }
    let m = sub
        .expect(publish(&topic).qos(granted).payload("g"))
        .because(&cite(t, "MQTT-3.8.4-6", "MQTT-3.8.4-8"))
        .await?;
    sub.ack(&m).await?;
    sub.expect_nothing(t.quiet()).await
}
