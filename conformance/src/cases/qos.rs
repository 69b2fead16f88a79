//! QoS 0, 1 and 2 flows, both ways, and the QoS of delivery.

use super::prelude::*;

pub(crate) const CASES: &[Case] = &[QOS0, QOS1, QOS2, DOWNGRADE];

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
