//! Shared subscriptions (5.0 section 4.8.2): `$share/{group}/{filter}`.

use crate::cases::prelude::*;

pub(crate) const CASES: &[Case] = &[
    NO_LOCAL,
    GRANTED_QOS,
    QOS2_RESUMED,
];

/// No Local 1 on a shared subscription is a Protocol Error: the server closes the connection
/// (after DISCONNECT 0x82, or another code of 0x80 or more), no SUBACK.
const NO_LOCAL: Case = Case {
    id: "shared.no-local-protocol-error",
    title: "No Local on a shared subscription is a Protocol Error",
    protocols: V5,
    statements: &[v5("MQTT-3.8.3-4")],
    requires: &[SharedSubscriptions],
    body: |t| Box::pin(no_local(t)),
};

async fn no_local(t: &mut Test) -> Verdict {
    let filter = format!("$share/{}/{}", t.share_name(), t.topic("n"));
    let mut c = t.client("c").connect().await?;
    // SUBSCRIBE, packet id 1, no properties, options: No Local, QoS 0.
    c.send_raw(
        Frame::new(0x82)
            .u16(1)
            .varint(0)
            .string(&filter)
            .u8(0x04)
            .to_bytes(),
    )
    .await?;
    let because = [v5("MQTT-3.8.3-4")];
    c.expect_closed().because(&because).await?;
    c.expect_no(suback(PacketId::MIN), Duration::ZERO)
        .await
        .map_err(|e| e.because(&because))
}

/// A member granted QoS 0 gets a QoS 1 message at QoS 0.
const GRANTED_QOS: Case = Case {
    id: "shared.granted-qos-honoured",
    title: "A shared subscription delivers at most at the member's granted QoS",
    protocols: V5,
    statements: &[v5("MQTT-4.8.2-3")],
    requires: &[SharedSubscriptions, Qos1],
    body: |t| Box::pin(granted_qos(t)),
};

async fn granted_qos(t: &mut Test) -> Verdict {
    let topic = t.topic("q");
    let mut s = t.client("member").connect().await?;
    s.subscribe(&format!("$share/{}/{topic}", t.share_name()), Q0)
        .granted()
        .await?;
    let mut publ = t.client("pub").connect().await?;
    publ.publish(&topic).qos(Q1).payload("m").acked().await?;
    s.expect(publish(&topic).qos(Q0).payload("m"))
        .because(&[v5("MQTT-4.8.2-3")])
        .await?;
    Ok(())
}

/// A QoS 2 message sent to a shared subscription's only member, cut off by the member's
/// disconnection before PUBREC, is sent again to that member when its session resumes, not to
/// the member that joined the group meanwhile.
const QOS2_RESUMED: Case = Case {
    id: "shared.qos2-resumed-by-same-member",
    title: "A shared QoS 2 delivery cut off by a disconnection is completed to the same member",
    protocols: V5,
    statements: &[v5("MQTT-4.8.2-4")],
    requires: &[SharedSubscriptions, Qos2],
    body: |t| Box::pin(qos2_resumed(t)),
};

async fn qos2_resumed(t: &mut Test) -> Verdict {
    let topic = t.topic("r");
    let filter = format!("$share/{}/{topic}", t.share_name());
    let mut a = t.client("a").persistent_session().connect().await?;
    let granted = a.subscribe(&filter, Q2).granted().await?;
    need_granted(&granted, Q2)?;
    let mut publ = t.client("pub").connect().await?;
    publ.publish(&topic).qos(Q2).payload("m").acked().await?;
    a.expect(publish(&topic).qos(Q2).payload("m")).await?;
    a.close().await;
    let mut b = t.client("b").connect().await?;
    b.subscribe(&filter, Q2).granted().await?;
    let mut a = a.reconnect().clean_start(false).connect().await?;
    let m = a
        .expect(publish(&topic).qos(Q2).payload("m"))
        .because(&[v5("MQTT-4.8.2-4")])
        .await?;
    a.ack(&m).await?;
    b.expect_no(publish(&topic).payload("m"), t.quiet())
        .await
        .map_err(|e| e.because(&[v5("MQTT-4.8.2-4")]))
}
