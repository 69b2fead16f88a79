//! Malformed packets on the wire: the server closes the connection (5.0: after an optional
//! DISCONNECT with a reason code of 0x80 or more), and does not act on the packet.

use crate::cases::prelude::*;

pub(crate) const CASES: &[Case] = &[
    PUBREL_FLAGS,
    SUBSCRIBE_FLAGS,
    PINGREQ_FLAGS,
    PUBACK_FLAGS,
];

/// PUBREL with fixed-header flags 0000 instead of 0010.
const PUBREL_FLAGS: Case = Case {
    id: "malformed.pubrel-reserved-flags",
    title: "PUBREL with reserved flags other than 0010 closes the connection",
    protocols: BOTH,
    statements: &[
        v311("MQTT-2.2.2-2"),
        v311("MQTT-3.6.1-1"),
        v311("MQTT-4.8.0-1"),
        v5("MQTT-3.6.1-1"),
        v5("MQTT-4.13.1-1"),
    ],
    requires: &[],
    body: |t| Box::pin(pubrel_flags(t)),
};

async fn pubrel_flags(t: &mut Test) -> Verdict {
    let mut c = t.client("c").connect().await?;
    // PUBREL, packet id 1, flags 0000.
    c.send_raw(Frame::new(0x60).u16(1).to_bytes()).await?;
    let because = cite_all(
        t,
        &["MQTT-2.2.2-2", "MQTT-3.6.1-1", "MQTT-4.8.0-1"],
        &["MQTT-3.6.1-1", "MQTT-4.13.1-1"],
    );
    c.expect_closed().because(&because).await?;
    // The malformed PUBREL is not acted on: no PUBCOMP for it.
    let id = PacketId::MIN;
    c.expect_no(pubcomp(id), Duration::ZERO)
        .await
        .map_err(|e| e.because(&because))
}

/// SUBSCRIBE with fixed-header flags 0000 instead of 0010.
const SUBSCRIBE_FLAGS: Case = Case {
    id: "malformed.subscribe-reserved-flags",
    title: "SUBSCRIBE with reserved flags other than 0010 closes the connection, unanswered",
    protocols: BOTH,
    statements: &[
        v311("MQTT-2.2.2-2"),
        v311("MQTT-3.8.1-1"),
        v5("MQTT-3.8.1-1"),
        v5("MQTT-4.13.1-1"),
    ],
    requires: &[],
    body: |t| Box::pin(subscribe_flags(t)),
};

async fn subscribe_flags(t: &mut Test) -> Verdict {
    let topic = t.topic("s");
    let mut c = t.client("c").connect().await?;
    // SUBSCRIBE, packet id 1, one filter at QoS 0, flags 0000.
    let mut frame = Frame::new(0x80).u16(1);
    if t.is_v5() {
        frame = frame.varint(0);
    }
    c.send_raw(frame.string(&topic).u8(0).to_bytes()).await?;
    let because = cite_all(
        t,
        &["MQTT-2.2.2-2", "MQTT-3.8.1-1"],
        &["MQTT-3.8.1-1", "MQTT-4.13.1-1"],
    );
    c.expect_closed().because(&because).await?;
    c.expect_no(suback(PacketId::MIN), Duration::ZERO)
        .await
        .map_err(|e| e.because(&because))
}

/// PINGREQ with fixed-header flags 0001 instead of 0000.
const PINGREQ_FLAGS: Case = Case {
    id: "malformed.pingreq-reserved-flags",
    title: "PINGREQ with reserved flags other than 0000 closes the connection, unanswered",
    protocols: BOTH,
    statements: &[
        v311("MQTT-2.2.2-2"),
        v311("MQTT-4.8.0-1"),
        v5("MQTT-4.13.1-1"),
    ],
    requires: &[],
    body: |t| Box::pin(pingreq_flags(t)),
};

async fn pingreq_flags(t: &mut Test) -> Verdict {
    let mut c = t.client("c").connect().await?;
    // PINGREQ, flags 0001.
    c.send_raw(Frame::new(0xC1).to_bytes()).await?;
    let because = cite_all(t, &["MQTT-2.2.2-2", "MQTT-4.8.0-1"], &["MQTT-4.13.1-1"]);
    c.expect_closed().because(&because).await?;
    c.expect_no(pingresp(), Duration::ZERO)
        .await
        .map_err(|e| e.because(&because))
}

/// PUBACK with fixed-header flags 0010 instead of 0000, for a message the client did receive.
const PUBACK_FLAGS: Case = Case {
    id: "malformed.puback-reserved-flags",
    title: "PUBACK with reserved flags other than 0000 closes the connection",
    protocols: BOTH,
    statements: &[
        v311("MQTT-2.2.2-2"),
        v311("MQTT-4.8.0-1"),
        v5("MQTT-4.13.1-1"),
    ],
    requires: &[Qos1],
    body: |t| Box::pin(puback_flags(t)),
};

async fn puback_flags(t: &mut Test) -> Verdict {
    let topic = t.topic("p");
    let mut c = t.client("c").connect().await?;
    c.subscribe(&topic, Q1).granted().await?;
    c.publish(&topic).qos(Q1).payload("m").acked().await?;
    let m = c.expect(publish(&topic).qos(Q1).payload("m")).await?;
    let id = m
        .packet_id
        .ok_or_else(|| CaseError::fail("a packet id on a QoS 1 PUBLISH", "none"))?;
    // PUBACK for the delivered message, flags 0010.
    c.send_raw(Frame::new(0x42).u16(id.get()).to_bytes())
        .await?;
    let because = cite_all(t, &["MQTT-2.2.2-2", "MQTT-4.8.0-1"], &["MQTT-4.13.1-1"]);
    c.expect_closed().because(&because).await?;
    Ok(())
}
