//! UNSUBSCRIBE and UNSUBACK.

use super::prelude::*;

pub(crate) const CASES: &[Case] = &[STOPS_DELIVERY, LITERAL_ONLY];

/// After UNSUBACK the subscription is gone: no more messages for it (another subscriber still
/// gets them, so the silence is the UNSUBSCRIBE's doing).
const STOPS_DELIVERY: Case = Case {
    id: "unsubscribe.stops-delivery",
    title: "UNSUBSCRIBE is acknowledged with its packet id and stops delivery",
    protocols: BOTH,
    statements: &[
        v311("MQTT-3.10.4-2"),
        v311("MQTT-3.10.4-4"),
        v311("MQTT-2.3.1-7"),
        v5("MQTT-3.10.4-2"),
        v5("MQTT-3.10.4-4"),
        v5("MQTT-3.10.4-5"),
        v5("MQTT-2.2.1-6"),
    ],
    requires: &[],
    body: |t| Box::pin(stops_delivery(t)),
};

async fn stops_delivery(t: &mut Test) -> Verdict {
    let topic = t.topic("u");
    let mut sub = t.client("sub").connect().await?;
    sub.subscribe(&topic, Q0).granted().await?;
    let mut other = t.client("other").connect().await?;
    other.subscribe(&topic, Q0).granted().await?;
    let mut publ = t.client("pub").connect().await?;

    publ.publish(&topic).payload("before").send().await?;
    sub.expect(publish(&topic).payload("before")).await?;
    other.expect(publish(&topic).payload("before")).await?;

    sub.unsubscribe(&topic).acked().await?;
    publ.publish(&topic).payload("after").send().await?;
    other.expect(publish(&topic).payload("after")).await?;
    sub.expect_nothing(t.quiet())
        .await
        .map_err(|e| e.because(&cite(t, "MQTT-3.10.4-2", "MQTT-3.10.4-2")))
}

/// UNSUBSCRIBE compares filters literally: `p/a` does not remove `p/+`; the UNSUBACK comes
/// anyway. In 5.0 its reason code may be 0x11 (No subscription existed) or 0x00; the report
/// records which.
const LITERAL_ONLY: Case = Case {
    id: "unsubscribe.literal-filter-match-only",
    title: "UNSUBSCRIBE removes only a literally equal filter, and is acknowledged even if none is",
    protocols: BOTH,
    statements: &[
        v311("MQTT-3.10.4-1"),
        v311("MQTT-3.10.4-5"),
        v5("MQTT-3.10.4-1"),
        v5("MQTT-3.10.4-5"),
        v5("MQTT-3.11.3-2"),
    ],
    requires: &[Wildcards],
    body: |t| Box::pin(literal_only(t)),
};

async fn literal_only(t: &mut Test) -> Verdict {
    let p = t.prefix();
    let mut sub = t.client("sub").connect().await?;
    sub.subscribe(&format!("{p}/+"), Q0).granted().await?;
    let codes = sub
        .unsubscribe(&format!("{p}/a"))
        .acked()
        .await
        .map_err(|e| e.because(&cite(t, "MQTT-3.10.4-5", "MQTT-3.10.4-5")))?;
    if let Some(code) = codes.first() {
        t.observe(format!(
            "UNSUBACK for a filter with no subscription: {}",
            summary::reason(*code)
        ));
    }
    let mut publ = t.client("pub").connect().await?;
    publ.publish(&format!("{p}/a")).payload("still").send().await?;
    sub.expect(publish(format!("{p}/a")).payload("still"))
        .because(&cite(t, "MQTT-3.10.4-1", "MQTT-3.10.4-1"))
        .await?;
    Ok(())
}
