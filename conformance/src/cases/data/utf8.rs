//! UTF-8 strings on the wire (chapter 1, section 1.5.3 of both versions): what the server does
//! with a topic holding ill-formed UTF-8, U+0000 or U+FEFF.

use crate::cases::prelude::*;

pub(crate) const CASES: &[Case] = &[
    BOM_KEPT,
    ILL_FORMED_UTF8,
    NUL_IN_TOPIC,
];

/// A topic with U+FEFF (EF BB BF) in it is kept as it is: a subscription to that exact topic
/// gets the message, with the same topic.
const BOM_KEPT: Case = Case {
    id: "utf8.bom-in-topic-kept",
    title: "EF BB BF (U+FEFF) in a topic is not stripped",
    protocols: BOTH,
    statements: &[v311("MQTT-1.5.3-3"), v5("MQTT-1.5.4-3")],
    requires: &[],
    body: |t| Box::pin(bom_kept(t)),
};

async fn bom_kept(t: &mut Test) -> Verdict {
    let topic = t.topic("\u{FEFF}bom");
    let mut a = t.client("a").connect().await?;
    // A server may refuse a subscription (SUBACK 0x80 or another failure code, section 3.9.3
    // of both versions): then there is nothing to check, and the case says so.
    let ack = a.subscribe(&topic, Q0).suback().await?;
    if let Some(code) = ack.reason_codes.iter().find(|c| c.0 >= 0x80) {
        return Err(skip(format!(
            "the server refused the subscription to the topic with U+FEFF ({}), so whether it keeps U+FEFF cannot be seen",
            summary::reason(*code)
        )));
    }
    a.publish(&topic)
        .payload("bom")
        .send()
        .await
        .map_err(|e| e.because(&cite(t, "MQTT-1.5.3-3", "MQTT-1.5.4-3")))?;
    a.expect(publish(&topic).payload("bom"))
        .because(&cite(t, "MQTT-1.5.3-3", "MQTT-1.5.4-3"))
        .await?;
    Ok(())
}

/// 3.1.1: ill-formed UTF-8 in a topic name makes the server close the connection.
const ILL_FORMED_UTF8: Case = Case {
    id: "utf8.ill-formed-topic-closes",
    title: "A PUBLISH whose topic is ill-formed UTF-8 closes the connection",
    protocols: V311,
    statements: &[v311("MQTT-1.5.3-1")],
    requires: &[],
    body: |t| Box::pin(ill_formed_utf8(t)),
};

async fn ill_formed_utf8(t: &mut Test) -> Verdict {
    bad_topic_closes(t, b"\xC3\x28", "MQTT-1.5.3-1").await
}

/// 3.1.1: U+0000 in a topic name makes the server close the connection.
const NUL_IN_TOPIC: Case = Case {
    id: "utf8.nul-in-topic-closes",
    title: "A PUBLISH whose topic contains U+0000 closes the connection",
    protocols: V311,
    statements: &[v311("MQTT-1.5.3-2")],
    requires: &[],
    body: |t| Box::pin(nul_in_topic(t)),
};

async fn nul_in_topic(t: &mut Test) -> Verdict {
    bad_topic_closes(t, b"\x00", "MQTT-1.5.3-2").await
}

/// Publishes (QoS 0) to the case's prefix followed by `bad`, expects the close and that a
/// subscriber to the prefix got nothing.
async fn bad_topic_closes(t: &mut Test, bad: &[u8], statement: &'static str) -> Verdict {
    let prefix = t.topic("u");
    let filter = format!("{prefix}/#");
    let mut watcher = t.client("watcher").connect().await?;
    watcher.subscribe(&filter, Q0).granted().await?;
    let mut c = t.client("c").connect().await?;
    let mut name = format!("{prefix}/").into_bytes();
    name.extend_from_slice(bad);
    c.send_raw(Frame::new(0x30).string(&name).bytes("bad").to_bytes())
        .await?;
    c.expect_closed().because(&[v311(statement)]).await?;
    watcher
        .expect_nothing(t.quiet())
        .await
        .map_err(|e| e.because(&[v311(statement)]))
}
