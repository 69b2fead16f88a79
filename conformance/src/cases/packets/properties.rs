//! 5.0 properties forwarded from publisher to subscriber.

use crate::cases::prelude::*;

pub(crate) const CASES: &[Case] = &[
    USER_PROPERTIES,
    REQUEST_RESPONSE,
];

/// User Properties reach the subscriber unaltered and in order, repeated names included.
const USER_PROPERTIES: Case = Case {
    id: "properties.user-properties-forwarded-in-order",
    title: "User Properties are forwarded unaltered and in their order",
    protocols: V5,
    statements: &[v5("MQTT-3.3.2-17"), v5("MQTT-3.3.2-18")],
    requires: &[],
    body: |t| Box::pin(user_properties(t)),
};

async fn user_properties(t: &mut Test) -> Verdict {
    let topic = t.topic("up");
    let pairs = [
        ("k", "1"),
        ("a", "x"),
        ("k", "2"),
        ("ünïcødé", "☃ value with spaces"),
        ("", ""),
    ];
    let mut sub = t.client("sub").connect().await?;
    sub.subscribe(&topic, Q0).granted().await?;
    let mut publ = t.client("pub").connect().await?;
    let mut message = publ.publish(&topic).payload("p");
    for (k, v) in pairs {
        message = message.user_property(k, v);
    }
    message.send().await?;
    let m = sub
        .expect(publish(&topic).user_properties(&pairs))
        .because(&[v5("MQTT-3.3.2-17"), v5("MQTT-3.3.2-18")])
        .await?;
    // The text fixes the publisher's User Properties and their order, not that the server adds
    // none: any it added is recorded.
    let got = m.properties.user_properties.len();
    if got > pairs.len() {
        t.observe(format!(
            "the server added {} User Propert{} of its own to the publisher's {}: {:?}",
            got - pairs.len(),
            if got - pairs.len() == 1 { "y" } else { "ies" },
            pairs.len(),
            m.properties.user_properties.iter().collect::<Vec<_>>()
        ));
    }
    Ok(())
}

/// Payload Format Indicator, Content Type, Response Topic and Correlation Data reach the
/// subscriber unchanged.
const REQUEST_RESPONSE: Case = Case {
    id: "properties.request-response-forwarded",
    title: "Payload Format Indicator, Content Type, Response Topic and Correlation Data are forwarded unchanged",
    protocols: V5,
    statements: &[
        v5("MQTT-3.3.2-4"),
        v5("MQTT-3.3.2-15"),
        v5("MQTT-3.3.2-16"),
        v5("MQTT-3.3.2-20"),
    ],
    requires: &[],
    body: |t| Box::pin(request_response(t)),
};

async fn request_response(t: &mut Test) -> Verdict {
    use touchstone_codec::PayloadFormat;
    let topic = t.topic("req");
    let reply = t.topic("reply/to/me");
    let correlation = Bytes::from_static(&[0x00, 0xFF, 0x10, 0x80]);
    let content_type = "application/json; charset=utf-8";
    let mut sub = t.client("sub").connect().await?;
    sub.subscribe(&topic, Q0).granted().await?;
    let mut publ = t.client("pub").connect().await?;
    publ.publish(&topic)
        .payload("{\"q\":1}")
        .properties(|p| {
            p.payload_format_indicator = Some(PayloadFormat::Utf8);
            p.content_type = Some(content_type.into());
            p.response_topic = Some(reply.as_str().into());
            p.correlation_data = Some(correlation.clone());
        })
        .send()
        .await?;
    let want_reply = reply.clone();
    let want_correlation = correlation.clone();
    sub.expect(
        publish(&topic)
            .satisfies("Payload Format Indicator 1", |m| {
                match m.properties.payload_format_indicator {
                    Some(PayloadFormat::Utf8) => Ok(()),
                    other => Err(format!("got {other:?}")),
                }
            })
            .satisfies(format!("Content Type {content_type:?}"), move |m| {
                match &m.properties.content_type {
                    Some(c) if c.as_str() == content_type => Ok(()),
                    other => Err(format!("got {other:?}")),
                }
            })
            .satisfies(format!("Response Topic {reply:?}"), move |m| {
                match &m.properties.response_topic {
                    Some(r) if r.as_str() == want_reply => Ok(()),
                    other => Err(format!("got {other:?}")),
                }
            })
            .satisfies("Correlation Data 00ff1080", move |m| {
                match &m.properties.correlation_data {
                    Some(c) if *c == want_correlation => Ok(()),
                    other => Err(format!("got {other:?}")),
                }
            }),
    )
    .because(&[
        v5("MQTT-3.3.2-4"),
        v5("MQTT-3.3.2-15"),
        v5("MQTT-3.3.2-16"),
        v5("MQTT-3.3.2-20"),
    ])
    .await?;
    Ok(())
}
