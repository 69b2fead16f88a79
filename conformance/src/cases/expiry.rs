//! 5.0 Message Expiry Interval.

use super::prelude::*;
use crate::client::Client;

pub(crate) const CASES: &[Case] = &[EXPIRED_NOT_DELIVERED, INTERVAL_REDUCED];

/// A message whose Message Expiry Interval (1 s) passes while it waits for an offline
/// session is not delivered; one with a long interval, published after it, is.
///
/// The subscriber allows one PUBLISH in flight (Receive Maximum 1) and holds a first message
/// unacknowledged, so the server cannot have started onward delivery of the others before the
/// subscriber leaves, whenever it processes the DISCONNECT: a server may finish a delivery it
/// started, expired or not, and a case that let the two race would judge the machine's load.
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
    let (sub, mut publ) = subscriber_holding_one(t, &topic).await?;
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
    let sub = leave_full_window(sub, &topic).await?;
    t.sleep(Duration::from_millis(2200)).await;
    let mut sub = sub
        .reconnect()
        .clean_start(false)
        .properties(|p| p.receive_maximum = None)
        .connect()
        .await?;
    let held = sub
        .expect(publish(&topic).payload("held"))
        .because(&[v5("MQTT-4.4.0-1")])
        .await?;
    sub.ack(&held).await?;
    let m = sub
        .expect(publish(&topic).payload("long"))
        .because(&[v5("MQTT-3.3.2-5")])
        .await?;
    sub.ack(&m).await?;
    sub.expect_no(publish(&topic), t.quiet())
        .await
        .map_err(|e| e.because(&[v5("MQTT-3.3.2-5")]))?;
    Ok(())
}

/// A persistent-session subscriber to `topic` that allows one PUBLISH in flight (Receive
/// Maximum 1) and has received, and not acknowledged, the QoS 1 message "held"; and the
/// connected publisher that sent it.
async fn subscriber_holding_one(t: &mut Test, topic: &str) -> Result<(Client, Client), CaseError> {
    let mut sub = t
        .client("sub")
        .persistent_session()
        .properties(|p| p.receive_maximum = Some(1))
        .connect()
        .await?;
    let granted = sub.subscribe(topic, Q1).granted().await?;
    need_granted(&granted, Q1)?;
    let mut publ = t.client("pub").connect().await?;
    publ.publish(topic).qos(Q1).payload("held").acked().await?;
    sub.expect(publish(topic).qos(Q1).payload("held")).await?;
    Ok((sub, publ))
}

/// Checks that nothing more came while "held" filled the window (5.0 MQTT-3.3.4-9: a wrong
/// arrival is a violation, never load), then disconnects without acknowledging it.
async fn leave_full_window(mut sub: Client, topic: &str) -> Result<Client, CaseError> {
    sub.expect_no(publish(topic), Duration::from_millis(100))
        .await
        .map_err(|e| e.because(&[v5("MQTT-3.3.4-9")]))?;
    sub.disconnect().await?;
    Ok(sub)
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
    let (sub, mut publ) = subscriber_holding_one(t, &topic).await?;
    publ.publish(&topic)
        .qos(Q1)
        .payload("waits")
        .properties(|p| p.message_expiry_interval = Some(sent))
        .acked()
        .await?;
    let sub = leave_full_window(sub, &topic).await?;
    t.sleep(Duration::from_millis(2200)).await;
    let mut sub = sub
        .reconnect()
        .clean_start(false)
        .properties(|p| p.receive_maximum = None)
        .connect()
        .await?;
    let held = sub
        .expect(publish(&topic).payload("held"))
        .because(&[v5("MQTT-4.4.0-1")])
        .await?;
    sub.ack(&held).await?;
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
