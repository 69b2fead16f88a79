//! 5.0 Topic Aliases both ways.

use crate::cases::prelude::*;

pub(crate) const CASES: &[Case] = &[
    CLIENT_ALIAS_RANGE,
    CLIENT_ALIAS_ABOVE_MAXIMUM,
    NOT_CARRIED_OVER,
    SERVER_NO_ALIASES,
    SERVER_ALIASES_WITHIN_CLIENT_MAXIMUM,
];

/// The server's Topic Alias Maximum from a CONNACK (0 when absent).
fn server_alias_maximum(c: &crate::harness::client::Client) -> u16 {
    c.connack()
        .and_then(|a| a.properties.topic_alias_maximum)
        .unwrap_or(0)
}

/// A PUBLISH from the client with a Topic Alias (and `topic`, empty to use the mapping).
async fn publish_aliased(
    c: &mut crate::harness::client::Client,
    topic: &str,
    alias: u16,
    payload: &str,
) -> Result<(), CaseError> {
    c.publish(topic)
        .payload(payload)
        .properties(|p| p.topic_alias = Some(alias))
        .send()
        .await?;
    Ok(())
}

/// The server accepts Topic Alias 1 and Topic Alias = its maximum, both to set a mapping and
/// to use it with an empty Topic Name.
const CLIENT_ALIAS_RANGE: Case = Case {
    id: "aliases.client-alias-range-accepted",
    title: "The server accepts every Topic Alias from 1 to its Topic Alias Maximum",
    protocols: V5,
    statements: &[v5("MQTT-3.3.2-12")],
    requires: &[TopicAliases],
    body: |t| Box::pin(client_alias_range(t)),
};

async fn client_alias_range(t: &mut Test) -> Verdict {
    let high = t.topic("high");
    let low = t.topic("low");
    let mut sub = t.client("sub").connect().await?;
    sub.subscribe(&high, Q0).also(&low, Q0).granted().await?;
    let mut publ = t.client("pub").connect().await?;
    let max = server_alias_maximum(&publ);
    if max == 0 {
        return Err(skip("the server allows no Topic Aliases"));
    }
    t.observe(format!("the server's Topic Alias Maximum is {max}"));
    // A server that refuses one of these closes the connection, and a later write may fail
    // on the closed socket before any delivery is awaited: that too is the refusal.
    for (topic, alias, payload) in [
        (high.as_str(), max, "set max"),
        ("", max, "use max"),
        (low.as_str(), 1, "set 1"),
        ("", 1, "use 1"),
    ] {
        publish_aliased(&mut publ, topic, alias, payload)
            .await
            .map_err(|e| e.because(&[v5("MQTT-3.3.2-12")]))?;
    }
    for (topic, payload) in [
        (&high, "set max"),
        (&high, "use max"),
        (&low, "set 1"),
        (&low, "use 1"),
    ] {
        sub.expect(publish(topic).payload(payload))
            .because(&[v5("MQTT-3.3.2-12")])
            .await?;
    }
    // The connection is still open.
    publ.ping()
        .await
        .map_err(|e| e.because(&[v5("MQTT-3.3.2-12")]))?;
    Ok(())
}

/// A Topic Alias above the server's Topic Alias Maximum (any alias when it allows none) is
/// answered with DISCONNECT 0x94 Topic Alias invalid (or the close).
const CLIENT_ALIAS_ABOVE_MAXIMUM: Case = Case {
    id: "aliases.client-alias-above-maximum",
    title: "A Topic Alias above the server's Topic Alias Maximum closes the connection",
    protocols: V5,
    statements: &[v5("MQTT-3.2.2-17"), v5("MQTT-3.2.2-18"), v5("MQTT-3.3.2-9")],
    requires: &[],
    body: |t| Box::pin(client_alias_above_maximum(t)),
};

async fn client_alias_above_maximum(t: &mut Test) -> Verdict {
    let topic = t.topic("a");
    let mut c = t.client("c").connect().await?;
    let max = server_alias_maximum(&c);
    if max == u16::MAX {
        return Err(skip("the server accepts every Topic Alias (maximum 65535)"));
    }
    let because = if max == 0 {
        [v5("MQTT-3.2.2-18"), v5("MQTT-3.3.2-9")]
    } else {
        [v5("MQTT-3.2.2-17"), v5("MQTT-3.3.2-9")]
    };
    t.observe(format!(
        "the server's Topic Alias Maximum is {max}; sending Topic Alias {}",
        max + 1
    ));
    publish_aliased(&mut c, &topic, max + 1, "x").await?;
    let closed = c.expect_closed().because(&because).await?;
    note_disconnect_code(t, "c", closed.disconnect, &[ReasonCode::TOPIC_ALIAS_INVALID], ERROR_CLOSE_SHOULD);
    Ok(())
}

/// A mapping set on one connection is gone on the next: a PUBLISH with only the alias and an
/// empty Topic Name is then a protocol error. On the first connection the same PUBLISH works.
const NOT_CARRIED_OVER: Case = Case {
    id: "aliases.not-carried-over-to-new-connection",
    title: "Topic Alias mappings do not carry over to a new connection",
    protocols: V5,
    statements: &[v5("MQTT-3.3.2-7")],
    requires: &[TopicAliases],
    body: |t| Box::pin(not_carried_over(t)),
};

async fn not_carried_over(t: &mut Test) -> Verdict {
    let topic = t.topic("a");
    let mut sub = t.client("sub").connect().await?;
    sub.subscribe(&topic, Q0).granted().await?;
    let mut c = t.client("c").persistent_session().connect().await?;
    if server_alias_maximum(&c) == 0 {
        return Err(skip("the server allows no Topic Aliases"));
    }
    publish_aliased(&mut c, &topic, 1, "set").await?;
    // Control: on the same connection the mapping works.
    publish_aliased(&mut c, "", 1, "used").await?;
    sub.expect(publish(&topic).payload("set")).await?;
    sub.expect(publish(&topic).payload("used")).await?;
    c.disconnect().await?;

    // The session is resumed, the mapping is not.
    let mut c = c.reconnect().clean_start(false).connect().await?;
    publish_aliased(&mut c, "", 1, "stale").await?;
    let closed = c.expect_closed().because(&[v5("MQTT-3.3.2-7")]).await?;
    note_disconnect_code(
        t,
        "c",
        closed.disconnect,
        &[ReasonCode::PROTOCOL_ERROR, ReasonCode::TOPIC_ALIAS_INVALID], ERROR_CLOSE_SHOULD);
    sub.expect_no(publish(&topic), t.quiet())
        .await
        .map_err(|e| e.because(&[v5("MQTT-3.3.2-7")]))?;
    Ok(())
}

/// Sends every topic of `topics` twice (QoS 0), to give a server a reason to use aliases.
async fn publish_twice(t: &mut Test, topics: &[String]) -> Result<(), CaseError> {
    let mut publ = t.client("pub").connect().await?;
    for round in 0..2 {
        for topic in topics {
            publ.publish(topic)
                .payload(format!("{round}"))
                .send()
                .await?;
        }
    }
    Ok(())
}

/// A client that sends no Topic Alias Maximum gets full Topic Names and no Topic Alias.
const SERVER_NO_ALIASES: Case = Case {
    id: "aliases.server-sends-none-when-client-allows-none",
    title: "The server sends no Topic Alias to a client without a Topic Alias Maximum",
    protocols: V5,
    statements: &[v5("MQTT-3.1.2-27")],
    requires: &[],
    body: |t| Box::pin(server_no_aliases(t)),
};

async fn server_no_aliases(t: &mut Test) -> Verdict {
    let topics = [t.topic("a"), t.topic("b"), t.topic("c")];
    let filter = format!("{}/#", t.prefix());
    let mut none = t.client("none").connect().await?;
    none.subscribe(&filter, Q0).granted().await?;
    publish_twice(t, &topics).await?;
    for _ in 0..2 * topics.len() {
        none.expect(any_publish().satisfies(
            "no Topic Alias",
            |m| match m.properties.topic_alias {
                None if !m.topic.is_empty() => Ok(()),
                alias => Err(format!("Topic Alias {alias:?}, Topic Name {:?}", m.topic)),
            },
        ))
        .because(&[v5("MQTT-3.1.2-27")])
        .await?;
    }
    Ok(())
}

/// A client allowing one Topic Alias gets no alias above 1 (and never 0: the strict decoder
/// rejects Topic Alias 0 in any PUBLISH received here, 5.0 MQTT-3.3.2-8).
const SERVER_ALIASES_WITHIN_CLIENT_MAXIMUM: Case = Case {
    id: "aliases.server-aliases-within-client-maximum",
    title: "The server sends no Topic Alias above the client's Topic Alias Maximum",
    protocols: V5,
    statements: &[v5("MQTT-3.1.2-26"), v5("MQTT-3.3.2-11"), v5("MQTT-3.3.2-8")],
    requires: &[],
    body: |t| Box::pin(server_aliases_within_client_maximum(t)),
};

async fn server_aliases_within_client_maximum(t: &mut Test) -> Verdict {
    let topics = [t.topic("a"), t.topic("b"), t.topic("c")];
    let filter = format!("{}/#", t.prefix());
    let mut one = t
        .client("one")
        .properties(|p| p.topic_alias_maximum = Some(1))
        .connect()
        .await?;
    one.subscribe(&filter, Q0).granted().await?;
    publish_twice(t, &topics).await?;
    let count = 2 * topics.len();
    // Aliases, if any, are 1; an alias used with an empty Topic Name was mapped before.
    let mut mapped = false;
    let mut aliased = 0;
    for _ in 0..count {
        let m = one
            .expect(any_publish().satisfies("Topic Alias absent or 1", |m| {
                match m.properties.topic_alias {
                    None | Some(1) => Ok(()),
                    Some(a) => Err(format!("Topic Alias {a}")),
                }
            }))
            .because(&[v5("MQTT-3.1.2-26"), v5("MQTT-3.3.2-11")])
            .await?;
        if m.properties.topic_alias == Some(1) {
            aliased += 1;
            if !m.topic.is_empty() {
                mapped = true;
            } else if !mapped {
                return Err(CaseError::fail(
                    "a Topic Name with the first use of Topic Alias 1",
                    "an empty Topic Name and an unmapped alias",
                )
                .because(&[v5("MQTT-3.3.2-11")]));
            }
        }
    }
    t.observe(if aliased > 0 {
        format!("the server used Topic Alias 1 on {aliased} of {count} PUBLISHes")
    } else {
        "the server used no Topic Aliases".to_string()
    });
    Ok(())
}
