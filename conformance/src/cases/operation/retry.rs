//! Message delivery retry (section 4.4): unacknowledged QoS 1 and 2 messages redelivered with
//! DUP on a resumed session, what is not redelivered, and QoS 2 state kept past expiry.

use touchstone_codec::{PubAck, PubComp, PubRec, Statement};
use crate::harness::client::Client;
use crate::cases::prelude::*;

pub(crate) const CASES: &[Case] = &[
    REDELIVER_QOS1,
    REDELIVER_QOS2,
    FAILED_PUBACK,
    INFLIGHT_NOT_EXPIRED,
    COMPLETES_EXPIRED,
];

/// An unacknowledged QoS 1 delivery is sent again, with DUP 1 and the same packet id, when the
/// persistent session's client reconnects.
const REDELIVER_QOS1: Case = Case {
    id: "retry.qos1-redelivered-with-dup-after-reconnect",
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
    // Acknowledged now: not sent a third time, on this connection or the next one (the
    // message left the session when its PUBACK came).
    sub.expect_nothing(t.quiet()).await?;
    nothing_on_resume(t, sub, &cite(t, "MQTT-4.3.2-1", "MQTT-4.3.2-3")).await
}

/// Disconnects `sub`, resumes its session, and expects nothing to be re-sent: the exchange
/// before was complete, so nothing of it is left in the session to redeliver.
async fn nothing_on_resume(t: &Test, mut sub: Client, because: &[Statement]) -> Verdict {
    sub.disconnect().await?;
    let mut sub = sub.reconnect().send_connect().await?;
    sub.expect(connack().accepted().session_present(true))
        .await?;
    sub.expect_nothing(t.quiet())
        .await
        .map_err(|e| e.because(because))
}

/// QoS 2 towards a subscriber that reconnects twice: the unacknowledged PUBLISH comes again with
/// DUP 1; after PUBREC the PUBREL comes, and after another reconnect only the PUBREL is re-sent,
/// never the PUBLISH.
const REDELIVER_QOS2: Case = Case {
    id: "retry.qos2-publish-then-pubrel-redelivered",
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
        .map_err(|e| e.because(&cite(t, "MQTT-4.3.3-1", "MQTT-4.3.3-6")))?;
    // Complete: neither the PUBLISH nor the PUBREL comes back on the next connection (the
    // PUBCOMP ended the exchange).
    nothing_on_resume(t, sub, &cite(t, "MQTT-4.3.3-1", "MQTT-4.3.3-5")).await
}

/// A delivery the subscriber refused with PUBACK 0x80 counts as acknowledged: not re-sent after
/// reconnect (while an unacknowledged one is).
const FAILED_PUBACK: Case = Case {
    id: "retry.failed-puback-not-redelivered",
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

/// 5.0: once a QoS 2 PUBLISH has gone to the subscriber, its Message Expiry no longer applies:
/// after the interval has passed it is still re-sent on reconnect.
const INFLIGHT_NOT_EXPIRED: Case = Case {
    id: "retry.qos2-in-flight-not-expired",
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
    id: "retry.qos2-handshake-completed-after-expiry",
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
