//! 5.0 Message Expiry Interval.

use crate::harness::client::Client;
use crate::cases::prelude::*;

pub(crate) const CASES: &[Case] = &[
    EXPIRED_NOT_DELIVERED,
    INTERVAL_REDUCED,
];

/// A message whose Message Expiry Interval (1 s) passes while it waits for an offline
/// session is not delivered; one with a long interval, published after it, is.
///
/// The subscriber's DISCONNECT is ordered before the PUBLISHes: it closes its side and waits
/// for the server to close the connection, so the server cannot have started onward delivery
/// of the messages (which 5.0 MQTT-3.3.2-5 would let it finish, expired or not) on the leaving
/// connection. Without that wait the verdict would follow the machine's load.
const EXPIRED_NOT_DELIVERED: Case = Case {
    id: "expiry.expired-message-not-delivered",
    title: "A message that expires while queued for an offline session is not delivered",
    protocols: V5,
    statements: &[v5("MQTT-3.3.2-5")],
    requires: &[Qos1],
    body: |t| Box::pin(expired_not_delivered(t)),
};

async fn expired_not_delivered(t: &mut Test) -> Verdict {
    let topic = t.topic("exp");
    let (sub, ordered) = offline_subscriber(t, &topic).await?;
    let mut publ = t.client("pub").connect().await?;
    publ.publish(&topic)
        .qos(Q1)
        .payload("short")
        .properties(|p| p.message_expiry_interval = Some(1))
        .acked()
        .await?;
    publ.publish(&topic)
        .qos(Q1)
        .payload("long")
        .properties(|p| p.message_expiry_interval = Some(120))
        .acked()
        .await?;
    t.sleep(Duration::from_millis(2200)).await;
    let mut sub = sub.reconnect().clean_start(false).connect().await?;
    let first = sub.expect(publish(&topic)).await?;
    if first.payload.as_ref() == b"short" && first.dup && !ordered {
        return Err(CaseError::Skip(
            "the server kept the subscriber's connection open after its DISCONNECT, so it may have started delivering the expired message (DUP 1) there: nothing to judge".into(),
        ));
    }
    if first.payload.as_ref() != b"long" {
        return Err(CaseError::fail(
            "sub#2: PUBLISH payload=\"long\" (the 1 s message expired while queued)",
            format!(
                "PUBLISH payload={:?} dup={} expiry={:?}",
                String::from_utf8_lossy(&first.payload),
                u8::from(first.dup),
                first.properties.message_expiry_interval
            ),
        )
        .because(&[v5("MQTT-3.3.2-5")]));
    }
    sub.ack(&first).await?;
    sub.expect_no(publish(&topic), t.quiet())
        .await
        .map_err(|e| e.because(&[v5("MQTT-3.3.2-5")]))?;
    Ok(())
}

/// A persistent-session subscriber to `topic` that has left: DISCONNECT, and (`true`) the
/// server closed the connection after it.
async fn offline_subscriber(t: &mut Test, topic: &str) -> Result<(Client, bool), CaseError> {
    let mut sub = t.client("sub").persistent_session().connect().await?;
    let granted = sub.subscribe(topic, Q1).granted().await?;
    need_granted(&granted, Q1)?;
    let ordered = sub.disconnect_and_wait(t.timeout()).await?;
    if !ordered {
        t.observe("the server kept the connection open after DISCONNECT and the client's close");
    }
    Ok((sub, ordered))
}

/// The Message Expiry Interval forwarded after the message waited ~2 s in the server is
/// reduced by that time.
const INTERVAL_REDUCED: Case = Case {
    id: "expiry.interval-reduced-by-waiting-time",
    title: "The forwarded Message Expiry Interval is reduced by the time the message waited",
    protocols: V5,
    statements: &[v5("MQTT-3.3.2-6")],
    requires: &[Qos1],
    body: |t| Box::pin(interval_reduced(t)),
};

async fn interval_reduced(t: &mut Test) -> Verdict {
    let topic = t.topic("exp");
    let sent = 60u32;
    let (sub, _) = offline_subscriber(t, &topic).await?;
    let mut publ = t.client("pub").connect().await?;
    publ.publish(&topic)
        .qos(Q1)
        .payload("waits")
        .properties(|p| p.message_expiry_interval = Some(sent))
        .acked()
        .await?;
    t.sleep(Duration::from_millis(2200)).await;
    let mut sub = sub.reconnect().clean_start(false).connect().await?;
    let m = sub
        .expect(publish(&topic).payload("waits").satisfies(
            format!(
                "Message Expiry Interval at most {} (sent {sent}, waited 2 s)",
                sent - 2
            ),
            move |m| match m.properties.message_expiry_interval {
                Some(v) if v <= sent - 2 && v > 0 => Ok(()),
                other => Err(format!("Message Expiry Interval {other:?}")),
            },
        ))
        .because(&[v5("MQTT-3.3.2-6")])
        .await?;
    t.observe(format!(
        "forwarded Message Expiry Interval {:?} after about 2.2 s",
        m.properties.message_expiry_interval
    ));
    sub.ack(&m).await?;
    Ok(())
}
