//! Message ordering (section 4.6): messages of one topic, QoS 1 and above, delivered in the
//! order they were published.

use crate::cases::prelude::*;

pub(crate) const CASES: &[Case] = &[
    ORDER,
];

/// Several QoS 1 messages from one publisher on one topic reach a subscriber in the order sent.
const ORDER: Case = Case {
    id: "ordering.qos1-order-kept",
    title:
        "QoS 1 messages on one topic from one publisher are delivered in the order they were sent",
    protocols: BOTH,
    statements: &[
        v311("MQTT-4.6.0-5"),
        v311("MQTT-4.6.0-6"),
        v5("MQTT-4.6.0-5"),
        v5("MQTT-4.6.0-6"),
    ],
    requires: &[Qos1],
    body: |t| Box::pin(order(t)),
};

const ORDER_COUNT: usize = 6;

async fn order(t: &mut Test) -> Verdict {
    let topic = t.topic("o");
    let mut sub = t.client("sub").connect().await?;
    let granted = sub.subscribe(&topic, Q1).granted().await?;
    need_granted(&granted, Q1)?;
    let mut publ = t.client("pub").connect().await?;
    // Sent back to back, acknowledgements collected afterwards.
    let mut ids = Vec::new();
    for i in 1..=ORDER_COUNT {
        let id = publ
            .publish(&topic)
            .qos(Q1)
            .payload(format!("m{i}"))
            .send()
            .await?;
        ids.extend(id);
    }
    for id in ids {
        publ.expect(puback(id).success()).await?;
    }
    let because = cite_all(
        t,
        &["MQTT-4.6.0-5", "MQTT-4.6.0-6"],
        &["MQTT-4.6.0-5", "MQTT-4.6.0-6"],
    );
    for i in 1..=ORDER_COUNT {
        let m = sub
            .expect(publish(&topic).payload(format!("m{i}")))
            .because(&because)
            .await?;
        sub.ack(&m).await?;
    }
    Ok(())
}
