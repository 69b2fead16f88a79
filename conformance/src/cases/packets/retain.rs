//! Retained messages.
//!
//! The retained message is published at QoS 1: a retained QoS 0 message may be discarded by the
//! server at any time (3.1.1 MQTT-3.3.1-7), so QoS 0 would prove nothing.

use crate::cases::prelude::*;

pub(crate) const CASES: &[Case] = &[
    RETAINED_SURVIVES_SESSION,
    STORE,
    CLEAR,
    PLAIN_KEEPS,
];

/// 3.1.1: retained messages are not session state; they stay when the publisher's session ends.
const RETAINED_SURVIVES_SESSION: Case = Case {
    id: "retain.survives-session-end",
    title: "A retained message outlives the session of the client that published it",
    protocols: V311,
    statements: &[v311("MQTT-3.1.2-7")],
    requires: &[Retain, Qos1],
    body: |t| Box::pin(retained_survives_session(t)),
};

async fn retained_survives_session(t: &mut Test) -> Verdict {
    let topic = t.topic("r");
    let mut a = t.client("a").connect().await?;
    a.publish(&topic)
        .qos(Q1)
        .retain()
        .payload("kept")
        .acked()
        .await?;
    // Clean Session 1: the session ends with this connection.
    a.disconnect().await?;
    let mut b = t.client("b").connect().await?;
    b.subscribe(&topic, Q1).granted().await?;
    let m = b
        .expect(publish(&topic).retain(true).payload("kept"))
        .because(&[v311("MQTT-3.1.2-7")])
        .await?;
    b.ack(&m).await
}

/// A retained message is stored: new subscriptions get it with RETAIN 1, established ones get
/// the live message with RETAIN 0.
const STORE: Case = Case {
    id: "retain.store-and-deliver",
    title: "A retained message goes to new subscribers with RETAIN 1, to existing ones with RETAIN 0",
    protocols: BOTH,
    statements: &[
        v311("MQTT-3.3.1-5"),
        v311("MQTT-3.3.1-6"),
        v311("MQTT-3.3.1-8"),
        v311("MQTT-3.3.1-9"),
        v5("MQTT-3.3.1-5"),
        v5("MQTT-3.3.1-9"),
        v5("MQTT-3.3.1-12"),
    ],
    requires: &[Retain, Qos1],
    body: |t| Box::pin(store(t)),
};

async fn store(t: &mut Test) -> Verdict {
    let topic = t.topic("r");
    let mut live = t.client("live").connect().await?;
    live.subscribe(&topic, Q1).granted().await?;
    let mut publ = t.client("pub").connect().await?;
    publ.publish(&topic)
        .qos(Q1)
        .retain()
        .payload("kept")
        .acked()
        .await?;
    // An established subscription: RETAIN 0 (5.0: Retain As Published is 0).
    let m = live
        .expect(publish(&topic).retain(false).payload("kept"))
        .because(&cite(t, "MQTT-3.3.1-9", "MQTT-3.3.1-12"))
        .await?;
    live.ack(&m).await?;
    // A new subscription: the retained message, RETAIN 1, at the stored QoS.
    let mut late = t.client("late").connect().await?;
    let granted = late.subscribe(&topic, Q1).granted().await?;
    need_granted(&granted, Q1)?;
    let m = late
        .expect(publish(&topic).retain(true).qos(Q1).payload("kept"))
        .because(&cite_all(
            t,
            &["MQTT-3.3.1-5", "MQTT-3.3.1-6", "MQTT-3.3.1-8"],
            &["MQTT-3.3.1-5", "MQTT-3.3.1-9"],
        ))
        .await?;
    late.ack(&m).await?;
    Ok(())
}

/// An empty retained PUBLISH is forwarded as usual and removes the topic's retained message.
const CLEAR: Case = Case {
    id: "retain.clear-with-empty-payload",
    title: "An empty retained PUBLISH is forwarded and clears the topic's retained message",
    protocols: BOTH,
    statements: &[
        v311("MQTT-3.3.1-10"),
        v311("MQTT-3.3.1-11"),
        v5("MQTT-3.3.1-6"),
        v5("MQTT-3.3.1-7"),
    ],
    requires: &[Retain, Qos1],
    body: |t| Box::pin(clear(t)),
};

async fn clear(t: &mut Test) -> Verdict {
    let topic = t.topic("x");
    let mut a = t.client("a").connect().await?;
    a.publish(&topic).qos(Q1).retain().payload("v").acked().await?;
    // A subscriber gets the retained message (so the store worked)...
    let mut b = t.client("b").connect().await?;
    b.subscribe(&topic, Q1).granted().await?;
    let m = b.expect(publish(&topic).retain(true).payload("v")).await?;
    b.ack(&m).await?;
    // ...then the empty retained PUBLISH, forwarded to it like any message...
    a.publish(&topic).qos(Q1).retain().payload("").acked().await?;
    let m = b
        .expect(publish(&topic).payload(""))
        .because(&cite(t, "MQTT-3.3.1-10", "MQTT-3.3.1-6"))
        .await?;
    b.ack(&m).await?;
    // ...and a new subscription finds nothing retained.
    let mut c = t.client("c").connect().await?;
    c.subscribe(&topic, Q1).granted().await?;
    c.expect_nothing(t.quiet())
        .await
        .map_err(|e| e.because(&cite_all(t, &["MQTT-3.3.1-10", "MQTT-3.3.1-11"], &["MQTT-3.3.1-6", "MQTT-3.3.1-7"])))
}

/// A PUBLISH with RETAIN 0 is not stored and leaves the retained message alone.
const PLAIN_KEEPS: Case = Case {
    id: "retain.plain-publish-keeps-retained",
    title: "A PUBLISH with RETAIN 0 does not replace the topic's retained message",
    protocols: BOTH,
    statements: &[v311("MQTT-3.3.1-12"), v5("MQTT-3.3.1-8")],
    requires: &[Retain, Qos1],
    body: |t| Box::pin(plain_keeps(t)),
};

async fn plain_keeps(t: &mut Test) -> Verdict {
    let topic = t.topic("k");
    let mut a = t.client("a").connect().await?;
    a.publish(&topic)
        .qos(Q1)
        .retain()
        .payload("retained")
        .acked()
        .await?;
    a.publish(&topic).qos(Q1).payload("not retained").acked().await?;
    let mut late = t.client("late").connect().await?;
    late.subscribe(&topic, Q1).granted().await?;
    let because = cite(t, "MQTT-3.3.1-12", "MQTT-3.3.1-8");
    let m = late
        .expect(publish(&topic).retain(true).payload("retained"))
        .because(&because)
        .await?;
    late.ack(&m).await?;
    late.expect_nothing(t.quiet())
        .await
        .map_err(|e| e.because(&because))
}
