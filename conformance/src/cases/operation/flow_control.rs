//! 5.0 flow control: Receive Maximum both ways.

use crate::cases::prelude::*;

pub(crate) const CASES: &[Case] = &[
    SERVER_RESPECTS_RECEIVE_MAXIMUM,
    CLIENT_EXCEEDS_RECEIVE_MAXIMUM,
];

/// The Receive Maximum the subscriber sends in CONNECT.
const RECEIVE_MAXIMUM: u16 = 2;

/// With Receive Maximum 2 and acknowledgements withheld, at most 2 QoS 1 PUBLISHes are in
/// flight; PINGRESP and SUBACK still come; each PUBACK lets one more through.
const SERVER_RESPECTS_RECEIVE_MAXIMUM: Case = Case {
    id: "flow-control.server-respects-client-receive-maximum",
    title: "The server keeps its unacknowledged PUBLISHes within the client's Receive Maximum and still answers other packets",
    protocols: V5,
    statements: &[
        v5("MQTT-3.3.4-9"),
        v5("MQTT-3.3.4-10"),
        v5("MQTT-4.9.0-1"),
        v5("MQTT-4.9.0-2"),
        v5("MQTT-4.9.0-3"),
        v5("MQTT-4.5.0-1"),
    ],
    requires: &[Qos1],
    body: |t| Box::pin(server_respects_receive_maximum(t)),
};

async fn server_respects_receive_maximum(t: &mut Test) -> Verdict {
    let topic = t.topic("flow");
    let total = 5;
    let mut sub = t
        .client("sub")
        .properties(|p| p.receive_maximum = Some(RECEIVE_MAXIMUM))
        .connect()
        .await?;
    let granted = sub.subscribe(&topic, Q1).granted().await?;
    need_granted(&granted, Q1)?;
    let mut publ = t.client("pub").connect().await?;
    for i in 0..total {
        publ.publish(&topic)
            .qos(Q1)
            .payload(format!("{i}"))
            .acked()
            .await?;
    }
    // The send quota starts at a non-zero value not above the Receive Maximum (5.0
    // MQTT-4.9.0-1): one PUBLISH, at most two, then none until a PUBACK.
    let mut held = vec![sub
        .expect(publish(&topic).qos(Q1))
        .because(&[v5("MQTT-4.9.0-1")])
        .await?];
    while held.len() < usize::from(RECEIVE_MAXIMUM)
        && sub.arrives(&publish(&topic), t.quiet()).await?
    {
        held.push(sub.expect(publish(&topic).qos(Q1)).await?);
    }
    if held.len() < usize::from(RECEIVE_MAXIMUM) {
        t.observe(format!(
            "the server's send quota is {} (below the Receive Maximum {RECEIVE_MAXIMUM})",
            held.len()
        ));
    } else {
        sub.expect_no(publish(&topic), t.quiet())
            .await
            .map_err(|e| e.because(&[v5("MQTT-3.3.4-9"), v5("MQTT-4.9.0-2")]))?;
    }
    // At the limit, other packets are still answered.
    sub.send(Packet::PingReq).await?;
    sub.expect(pingresp())
        .because(&[v5("MQTT-3.3.4-10"), v5("MQTT-4.9.0-3")])
        .await?;
    let other = t.topic("other");
    sub.subscribe(&other, Q0)
        .granted()
        .await
        .map_err(|e| e.because(&[v5("MQTT-3.3.4-10"), v5("MQTT-4.9.0-3")]))?;
    sub.expect_no(publish(&topic), Duration::from_millis(100))
        .await
        .map_err(|e| e.because(&[v5("MQTT-3.3.4-9"), v5("MQTT-4.9.0-2")]))?;
    // Each PUBACK frees one unit of quota: the rest arrive, never more than the quota
    // outstanding.
    let mut received = held.len();
    while received < total {
        let m = held.remove(0);
        sub.ack(&m).await?;
        // A message that does not come after the PUBACK freed quota was lost: the server took
        // it (PUBACK to the publisher) and owed it to this session (5.0 MQTT-4.5.0-1); the
        // quota only bounds how many are in flight.
        let next = sub
            .expect(publish(&topic).qos(Q1))
            .because(&[v5("MQTT-4.5.0-1")])
            .await?;
        received += 1;
        held.push(next);
        sub.expect_no(publish(&topic), Duration::from_millis(100))
            .await
            .map_err(|e| e.because(&[v5("MQTT-3.3.4-9"), v5("MQTT-4.9.0-2")]))?;
    }
    for m in held {
        sub.ack(&m).await?;
    }
    Ok(())
}

/// More unacknowledged QoS 2 PUBLISHes than the server's Receive Maximum: DISCONNECT 0x93 (or
/// the close). PUBREL is withheld, so each PUBLISH stays in flight.
const CLIENT_EXCEEDS_RECEIVE_MAXIMUM: Case = Case {
    id: "flow-control.client-exceeds-server-receive-maximum",
    title: "Exceeding the server's Receive Maximum closes the connection",
    protocols: V5,
    statements: &[v5("MQTT-3.3.4-7")],
    requires: &[Qos2],
    body: |t| Box::pin(client_exceeds_receive_maximum(t)),
};

async fn client_exceeds_receive_maximum(t: &mut Test) -> Verdict {
    let topic = t.topic("flood");
    let mut c = t.client("c").connect().await?;
    let max = c
        .connack()
        .and_then(|a| a.properties.receive_maximum)
        .unwrap_or(u16::MAX);
    // Up to the Receive Maximum it announced (absent: 65535) the server takes QoS 2
    // PUBLISHes left unreleased: each gets its PUBREC, and the connection stays open (the
    // close is for a client that exceeds it, MQTT-3.3.4-7). Only the first 1000 are sent when
    // it is larger. The mutation score found a server announcing 257 (or nothing) and
    // enforcing 256 unnoticed.
    let within = max.min(1000);
    let mut ids = Vec::new();
    for _ in 0..within {
        ids.extend(c.publish(&topic).qos(Q2).payload("x").send().await?);
    }
    let because = [v5("MQTT-3.3.4-7")];
    for id in ids {
        c.expect(pubrec(id))
            .because(&because)
            .await
            .map_err(|e| e.because(&because))?;
    }
    if max > 1000 {
        t.observe(format!(
            "the server's Receive Maximum {max} is too large to exceed cheaply: 1000 in flight were taken"
        ));
        return Ok(());
    }
    t.observe(format!("the server's Receive Maximum is {max}"));
    c.publish(&topic).qos(Q2).payload("x").send().await?;
    let closed = c.expect_closed().because(&[v5("MQTT-3.3.4-7")]).await?;
    note_disconnect_code(t, "c", closed.disconnect, &[ReasonCode::RECEIVE_MAXIMUM_EXCEEDED], ERROR_CLOSE_SHOULD);
    Ok(())
}
