//! UNSUBSCRIBE and UNSUBACK (sections 3.10 and 3.11): reserved flags, several filters, the
//! literal match, and deliveries already started.

use crate::cases::prelude::*;

pub(crate) const CASES: &[Case] = &[
    UNSUBSCRIBE_FLAGS,
    UNSUBSCRIBE_MULTI,
    UNSUBSCRIBE_INFLIGHT,
    STOPS_DELIVERY,
    LITERAL_ONLY,
];

/// UNSUBSCRIBE with fixed-header flags 0000 instead of 0010.
const UNSUBSCRIBE_FLAGS: Case = Case {
    id: "unsubscribe.reserved-flags",
    title: "UNSUBSCRIBE with reserved flags other than 0010 closes the connection, unanswered",
    protocols: BOTH,
    statements: &[v311("MQTT-3.10.1-1"), v5("MQTT-3.10.1-1")],
    requires: &[],
    body: |t| Box::pin(unsubscribe_flags(t)),
};

async fn unsubscribe_flags(t: &mut Test) -> Verdict {
    let topic = t.topic("u");
    let mut c = t.client("c").connect().await?;
    c.subscribe(&topic, Q0).granted().await?;
    // UNSUBSCRIBE, packet id 7, one filter, flags 0000.
    let mut frame = Frame::new(0xA0).u16(7);
    if t.is_v5() {
        frame = frame.varint(0);
    }
    c.send_raw(frame.string(&topic).to_bytes()).await?;
    let because = cite(t, "MQTT-3.10.1-1", "MQTT-3.10.1-1");
    c.expect_closed().because(&because).await?;
    let id = PacketId::new(7).ok_or_else(|| CaseError::Error("packet id".into()))?;
    c.expect_no(unsuback(id), Duration::ZERO)
        .await
        .map_err(|e| e.because(&because))
}

/// One UNSUBSCRIBE for a filter never subscribed and two subscribed ones: one UNSUBACK (5.0:
/// a code per filter in filter order — 0x11 or 0x00 for the first, 0x00 for the others), both
/// subscriptions gone, a third one untouched.
const UNSUBSCRIBE_MULTI: Case = Case {
    id: "unsubscribe.multiple-filters",
    title: "An UNSUBSCRIBE with several filters removes each and gets one UNSUBACK, codes in order",
    protocols: BOTH,
    statements: &[
        v311("MQTT-3.10.4-4"),
        v311("MQTT-3.10.4-6"),
        v5("MQTT-3.10.4-4"),
        v5("MQTT-3.10.4-6"),
        v5("MQTT-3.11.3-1"),
    ],
    requires: &[],
    body: |t| Box::pin(unsubscribe_multi(t)),
};

async fn unsubscribe_multi(t: &mut Test) -> Verdict {
    let [never, a, b, kept] = [t.topic("x"), t.topic("a"), t.topic("b"), t.topic("c")];
    let mut s = t.client("sub").connect().await?;
    for f in [&a, &b, &kept] {
        s.subscribe(f, Q0).granted().await?;
    }
    let id = s.unsubscribe(&never).also(&a).also(&b).send().await?;
    let because = cite_all(
        t,
        &["MQTT-3.10.4-4", "MQTT-3.10.4-6"],
        &["MQTT-3.10.4-4", "MQTT-3.10.4-6", "MQTT-3.11.3-1"],
    );
    let ack = if t.is_v5() {
        s.expect(unsuback(id).codes(3)).because(&because).await?
    } else {
        s.expect(unsuback(id)).because(&because).await?
    };
    if t.is_v5() {
        let codes = &ack.reason_codes;
        t.observe(format!(
            "UNSUBACK codes (never subscribed, subscribed, subscribed): {}",
            codes
                .iter()
                .map(|c| format!("0x{:02X}", c.0))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        let first_ok = matches!(codes[0].0, 0x00 | 0x11);
        if !first_ok || codes[1].0 != 0x00 || codes[2].0 != 0x00 {
            return Err(CaseError::fail(
                "UNSUBACK codes in filter order: 0x11 (or 0x00), 0x00, 0x00",
                format!("{codes:?}"),
            )
            .because(&[v5("MQTT-3.11.3-1")]));
        }
    }
    let mut publ = t.client("pub").connect().await?;
    for topic in [&a, &b, &kept] {
        publ.publish(topic).payload("m").send().await?;
    }
    // Control: the subscription not named is still there.
    s.expect(publish(&kept)).await?;
    s.expect_nothing(t.quiet())
        .await
        .map_err(|e| e.because(&cite(t, "MQTT-3.10.4-6", "MQTT-3.10.4-6")))
}

/// A QoS 1 delivery started before the UNSUBSCRIBE is still completed after it: unacknowledged
/// when the connection drops, it is sent again (DUP) when the session resumes, although the
/// subscription is gone.
const UNSUBSCRIBE_INFLIGHT: Case = Case {
    id: "unsubscribe.completes-started-delivery",
    title: "A QoS 1 delivery started before UNSUBSCRIBE is still completed after it",
    protocols: BOTH,
    statements: &[v311("MQTT-3.10.4-3"), v5("MQTT-3.10.4-3")],
    requires: &[Qos1],
    body: |t| Box::pin(unsubscribe_inflight(t)),
};

async fn unsubscribe_inflight(t: &mut Test) -> Verdict {
    let topic = t.topic("f");
    let mut s = t.client("sub").persistent_session().connect().await?;
    let granted = s.subscribe(&topic, Q1).granted().await?;
    need_granted(&granted, Q1)?;
    let mut publ = t.client("pub").connect().await?;
    publ.publish(&topic).qos(Q1).payload("m").acked().await?;
    // Delivery started, not acknowledged; then the subscription goes and the connection drops.
    s.expect(publish(&topic).qos(Q1).payload("m")).await?;
    s.unsubscribe(&topic).acked().await?;
    s.close().await;
    let mut s = s.reconnect().clean_start(false).connect().await?;
    let m = s
        .expect(publish(&topic).qos(Q1).dup(true).payload("m"))
        .because(&cite(t, "MQTT-3.10.4-3", "MQTT-3.10.4-3"))
        .await?;
    s.ack(&m).await
}

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
