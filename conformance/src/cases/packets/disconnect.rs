//! DISCONNECT from the client, as the server must check it.

use crate::cases::prelude::*;

pub(crate) const CASES: &[Case] = &[
    RESERVED_FLAGS,
];

/// DISCONNECT with fixed-header flags 0001 instead of 0000 is malformed: the server closes the
/// connection (5.0: after an optional DISCONNECT 0x81) as for any error, so the Will is
/// published — a valid DISCONNECT would have discarded it.
const RESERVED_FLAGS: Case = Case {
    id: "disconnect.reserved-flags-malformed",
    title: "DISCONNECT with reserved flags set is treated as malformed: close, and the Will is published",
    protocols: BOTH,
    statements: &[v311("MQTT-3.14.1-1"), v5("MQTT-3.14.1-1")],
    requires: &[],
    body: |t| Box::pin(reserved_flags(t)),
};

async fn reserved_flags(t: &mut Test) -> Verdict {
    let topic = t.topic("will");
    let because = cite(t, "MQTT-3.14.1-1", "MQTT-3.14.1-1");
    let mut watcher = t.client("watcher").connect().await?;
    watcher.subscribe(&topic, Q0).granted().await?;
    let mut w = t.client("w").will(&topic, "gone").connect().await?;
    // DISCONNECT, flags 0001 (3.1.1: no variable header; 5.0: reason 0x00, no properties).
    w.send_raw(Frame::new(0xE1).to_bytes()).await?;
    let closed = w.expect_closed().because(&because).await?;
    if t.is_v5() {
        note_disconnect_code(t, "w", closed.disconnect, &[ReasonCode::MALFORMED_PACKET], ERROR_CLOSE_SHOULD);
    }
    watcher
        .expect(publish(&topic).payload("gone"))
        .because(&because)
        .await?;
    Ok(())
}
