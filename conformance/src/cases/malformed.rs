//! Malformed packets on the wire: the server closes the connection (5.0: after an optional
//! DISCONNECT with a reason code of 0x80 or more), and does not act on the packet.

use super::prelude::*;

pub(crate) const CASES: &[Case] = &[PUBREL_FLAGS, SUBSCRIBE_FLAGS];

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
