//! Retain Handling and Retain As Published (5.0 subscription options), and a retained QoS 0
//! message replacing an earlier one (3.1.1).

use crate::cases::prelude::*;

pub(crate) const CASES: &[Case] = &[
    RH1,
    RH2,
    RAP,
    QOS0_REPLACES,
];

/// Retain Handling 1: the retained message comes for a new subscription, not when the same
/// filter is subscribed again.
const RH1: Case = Case {
    id: "retain-handling.rh1-only-for-new-subscription",
    title:
        "Retain Handling 1 sends retained messages for a new subscription only, not on re-subscribe",
    protocols: V5,
    statements: &[v5("MQTT-3.3.1-10")],
    requires: &[Retain, Qos1],
    body: |t| Box::pin(rh1(t)),
};

async fn rh1(t: &mut Test) -> Verdict {
    let topic = t.topic("rh1");
    let mut publ = t.client("pub").connect().await?;
    publ.publish(&topic)
        .qos(Q1)
        .retain()
        .payload("kept")
        .acked()
        .await?;
    let mut sub = t.client("sub").connect().await?;
    sub.subscribe(&topic, Q1)
        .retain_handling(RetainHandling::SendAtSubscribeIfNew)
        .granted()
        .await?;
    // New subscription: the retained message.
    let m = sub
        .expect(publish(&topic).retain(true).payload("kept"))
        .because(&[v5("MQTT-3.3.1-10")])
        .await?;
    sub.ack(&m).await?;
    // The same filter again: the subscription exists, so nothing.
    sub.subscribe(&topic, Q1)
        .retain_handling(RetainHandling::SendAtSubscribeIfNew)
        .granted()
        .await?;
    sub.expect_nothing(t.quiet())
        .await
        .map_err(|e| e.because(&[v5("MQTT-3.3.1-10")]))
}

/// Retain Handling 2: no retained messages at subscribe time (another subscriber with Retain
/// Handling 0 shows there is one).
const RH2: Case = Case {
    id: "retain-handling.rh2-sends-none",
    title: "Retain Handling 2 sends no retained messages when subscribing",
    protocols: V5,
    statements: &[v5("MQTT-3.3.1-11")],
    requires: &[Retain, Qos1],
    body: |t| Box::pin(rh2(t)),
};

async fn rh2(t: &mut Test) -> Verdict {
    let topic = t.topic("rh2");
    let mut publ = t.client("pub").connect().await?;
    publ.publish(&topic)
        .qos(Q1)
        .retain()
        .payload("kept")
        .acked()
        .await?;
    // Control: Retain Handling 0 gets it.
    let mut control = t.client("control").connect().await?;
    control.subscribe(&topic, Q1).granted().await?;
    let m = control
        .expect(publish(&topic).retain(true).payload("kept"))
        .await?;
    control.ack(&m).await?;
    // Retain Handling 2: nothing.
    let mut sub = t.client("sub").connect().await?;
    sub.subscribe(&topic, Q1)
        .retain_handling(RetainHandling::DoNotSend)
        .granted()
        .await?;
    sub.expect_nothing(t.quiet())
        .await
        .map_err(|e| e.because(&[v5("MQTT-3.3.1-11")]))
}

/// Retain As Published 1: live messages keep the publisher's RETAIN flag (1 for a retained
/// PUBLISH, 0 for a plain one).
const RAP: Case = Case {
    id: "retain-handling.rap-forwards-publisher-retain",
    title: "Retain As Published 1 forwards the RETAIN flag as the publisher set it",
    protocols: V5,
    statements: &[v5("MQTT-3.3.1-13")],
    requires: &[Retain, Qos1],
    body: |t| Box::pin(rap(t)),
};

async fn rap(t: &mut Test) -> Verdict {
    let topic = t.topic("rap");
    let mut sub = t.client("sub").connect().await?;
    sub.subscribe(&topic, Q1)
        .retain_as_published()
        .granted()
        .await?;
    let mut publ = t.client("pub").connect().await?;
    publ.publish(&topic)
        .qos(Q1)
        .retain()
        .payload("retained")
        .acked()
        .await?;
    let m = sub
        .expect(publish(&topic).retain(true).payload("retained"))
        .because(&[v5("MQTT-3.3.1-13")])
        .await?;
    sub.ack(&m).await?;
    publ.publish(&topic)
        .qos(Q1)
        .payload("plain")
        .acked()
        .await?;
    let m = sub
        .expect(publish(&topic).retain(false).payload("plain"))
        .because(&[v5("MQTT-3.3.1-13")])
        .await?;
    sub.ack(&m).await
}

/// A retained QoS 0 PUBLISH removes the topic's earlier retained message; the server may keep
/// the new one or drop it later (3.1.1), so a new subscriber gets the new one or nothing.
const QOS0_REPLACES: Case = Case {
    id: "retain-handling.qos0-retained-replaces-earlier",
    title: "A retained QoS 0 PUBLISH replaces the earlier retained message (kept or dropped, never the old one)",
    protocols: V311,
    statements: &[v311("MQTT-3.3.1-7")],
    requires: &[Retain, Qos1],
    body: |t| Box::pin(qos0_replaces(t)),
};

async fn qos0_replaces(t: &mut Test) -> Verdict {
    let topic = t.topic("r0");
    let mut publ = t.client("pub").connect().await?;
    publ.publish(&topic)
        .qos(Q1)
        .retain()
        .payload("old")
        .acked()
        .await?;
    // Control: the old one is stored.
    let mut first = t.client("first").connect().await?;
    first.subscribe(&topic, Q1).granted().await?;
    let m = first
        .expect(publish(&topic).retain(true).payload("old"))
        .await?;
    first.ack(&m).await?;
    // Replaced at QoS 0; the live copy to `first` shows the server has processed it.
    publ.publish(&topic).retain().payload("new").send().await?;
    first.expect(publish(&topic).payload("new")).await?;
    let mut late = t.client("late").connect().await?;
    late.subscribe(&topic, Q1).granted().await?;
    let because = [v311("MQTT-3.3.1-7")];
    match late.next_packet(t.quiet()).await {
        Ok(Some(Packet::Publish(p))) if p.topic.as_str() == topic => {
            if p.payload.as_ref() != b"new" {
                return Err(CaseError::fail(
                    "late: the new retained message or nothing",
                    summary::packet(&Packet::Publish(p)),
                )
                .because(&because));
            }
            t.observe("the retained QoS 0 message was kept");
            late.ack(&p).await?;
            late.expect_nothing(t.quiet())
                .await
                .map_err(|e| e.because(&because))
        }
        Ok(Some(other)) => Err(CaseError::fail(
            "late: the new retained message or nothing",
            summary::packet(&other),
        )),
        Ok(None) => Err(CaseError::fail(
            "late: the connection to stay open",
            "the server closed it",
        )),
        Err(CaseError::Fail(f)) if f.statements.is_empty() => {
            // Nothing within the quiet period: the server dropped the QoS 0 retained message.
            t.observe("the retained QoS 0 message was not kept (allowed)");
            Ok(())
        }
        Err(e) => Err(e),
    }
}
